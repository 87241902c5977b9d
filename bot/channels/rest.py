"""Rasa's REST channel (POST /webhooks/rest/webhook), behind the edge checks and the guard.

The body is checked before Rasa reads it (bot/channels/edge.py): a bad shape gets HTTP 400 and
a body over MAX_REQUEST_BYTES gets 413, each with {"error": reason}; Rasa's own handler answered
500 to an empty body and 200 with silence to a number as the message. Rasa's handler then reads
the cleaned body, so a client cannot set the channel name ("input_channel") or anything else.
"""
from __future__ import annotations

import logging
from typing import Callable, Optional, Text

from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request

from ..settings import Settings
from .edge import BadRequest, rest_message
from .guard import OnNewMessage, guarded


logger = logging.getLogger(__name__)


def refused(error: BadRequest) -> response.HTTPResponse:
    return response.json({"error": error.reason}, status=error.status)


def answer_unreadable(blueprint: Blueprint, channel: str, answer: Callable[[], response.HTTPResponse]) -> None:
    """What a connector's handler raises on a body it cannot read (Rasa's Slack and Telegram handlers
    assume the platform's shapes: `"event": null`, `"entities": 5`, a date out of range) is answered
    with ``answer()`` instead of HTTP 500. Only for this blueprint's routes, and only after the
    handler checked the signature or secret (they raise only while reading what comes after)."""

    @blueprint.exception(Exception)
    async def unreadable(request: Request, error: Exception) -> response.HTTPResponse:
        if isinstance(error, SanicException):  # Sanic's own answers (404, 405, 413) stay as they are
            return response.text(str(error), status=error.status_code)
        logger.warning("%s: a request its handler could not read was answered without it (%s)",
                       channel, type(error).__name__)
        return answer()


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"  # same URL and channel name as Rasa's own

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        blueprint = super().blueprint(guarded(on_new_message))
        max_bytes = Settings.from_env().max_request_bytes

        @blueprint.middleware("request")
        async def check_the_body(request: Request) -> Optional[response.HTTPResponse]:
            if request.method != "POST":
                return None
            try:
                incoming = rest_message(request.body or b"", max_bytes)
            except BadRequest as error:
                return refused(error)
            request.parsed_json = incoming.as_json()  # what Rasa's handler reads as request.json
            return None

        return blueprint
