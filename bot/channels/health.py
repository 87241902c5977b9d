"""GET /webhooks/health/ on the Rasa server: is each part of the assistant working?

Reports the Rasa server itself (answering, model loaded), the action server, Rasa's tracker
store and the transcript database, each with ok true or false; the status is 200 when all are
ok and 503 otherwise, for a monitor to poll. Counts and states only: no conversation content.
Under `make run` also the supervisor's restarts per child (from its status file in the data folder).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from ..processes import STATUS_FILE
from ..settings import Settings

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 3.0
PROBE_SENDER = "health-check-probe"  # looked up, never created


async def _action_server(agent: Any, settings: Settings) -> Dict[str, Any]:
    endpoint = getattr(agent, "action_endpoint", None)
    url = (endpoint.url if endpoint is not None else settings.action_url).rsplit("/webhook", 1)[0] + "/health"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT_S)) as session:
            async with session.get(url) as answer:
                return {"ok": answer.status == 200, "status": answer.status}
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return {"ok": False, "error": type(error).__name__}


async def _tracker_store(agent: Any) -> Dict[str, Any]:
    if agent is None:
        return {"ok": False, "error": "no agent"}
    try:
        await asyncio.wait_for(agent.tracker_store.exists(PROBE_SENDER), CHECK_TIMEOUT_S)
        return {"ok": True, "type": type(agent.tracker_store).__name__}
    except Exception as error:  # any failure to answer is the same finding: not usable
        return {"ok": False, "error": type(error).__name__}


async def _transcripts(settings: Settings) -> Dict[str, Any]:
    from ..store.health import transcript_health  # SQLAlchemy models: loaded when first asked

    loop = asyncio.get_running_loop()
    try:
        report = await asyncio.wait_for(loop.run_in_executor(None, transcript_health, settings), CHECK_TIMEOUT_S * 2)
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": report["ok"], "database": report["database"], "waiting": report["waiting"], "refused": report["refused"]}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        pass
    return True


def _supervisor(settings: Settings) -> Optional[Dict[str, Any]]:
    """None when no supervisor runs: no status file (Rasa started otherwise), or one left by a dead supervisor."""
    try:
        status = json.loads((settings.data_dir / STATUS_FILE).read_text())
        if not _alive(int(status["supervisor_pid"])):
            return None
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:  # written atomically, so not a half-written file
        return {"ok": False, "error": type(error).__name__}
    children = {
        name: {key: child.get(key) for key in ("state", "restarts", "last_exit_code", "last_restart_at")}
        for name, child in status.get("children", {}).items()
    }
    return {"ok": all(child["state"] == "running" for child in children.values()), "children": children}


async def health_report(agent: Any, settings: Settings) -> Dict[str, Any]:
    model_loaded = bool(agent is not None and agent.is_ready())
    parts: Dict[str, Any] = {"rasa_server": {"ok": model_loaded, "model_loaded": model_loaded}}
    parts["action_server"], parts["tracker_store"], parts["transcripts"] = await asyncio.gather(
        _action_server(agent, settings), _tracker_store(agent), _transcripts(settings)
    )
    supervisor = _supervisor(settings)
    if supervisor is not None:
        parts["supervisor"] = supervisor
    return {"ok": all(part["ok"] for part in parts.values()), "parts": parts}


class HealthInput(InputChannel):
    """Not a conversation channel: Rasa's way of adding a route to its own server."""

    @classmethod
    def name(cls) -> Text:
        return "health"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("health_webhook", __name__)
        settings = Settings.from_env()

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> response.HTTPResponse:
            report = await health_report(getattr(request.app.ctx, "agent", None), settings)
            return response.json(report, status=200 if report["ok"] else 503, headers={"Cache-Control": "no-store"})

        return blueprint
