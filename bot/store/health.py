"""Whether transcripts are being written: read by the staff app's /health and `python -m bot.store status`."""
from __future__ import annotations

import json
import time
from typing import Any, Dict

from sqlalchemy import select

from ..settings import Settings
from .database import make_engine
from .models import Conversation
from .spool import spools_in
from .writer import describe, status_path_for

# Records pass through the spool on every save; one waiting longer than this is stuck.
STUCK_AFTER_S = 30.0


def transcript_health(settings: Settings) -> Dict[str, Any]:
    """ok is true only when the database answers, has our tables, no record has waited longer than
    STUCK_AFTER_S and none was refused. (Any record waiting made it 503 for a moment on every save:
    a monitor polling under load saw the assistant flap.)"""
    spools = spools_in(settings.data_dir)  # with several Rasa servers, each one's
    status_file = status_path_for(settings.transcript_spool)
    writer = json.loads(status_file.read_text(encoding="utf-8")) if status_file.exists() else {"database": "unknown"}
    report: Dict[str, Any] = {
        "waiting": sum(spool.count() for spool in spools),  # records in a spool, not yet in the database
        "refused": sum(spool.rejected_count() for spool in spools),  # records the database refused: a person must look
        "writer": writer,  # what the Rasa server's writer saw last
    }
    engine = make_engine(settings.transcripts_url)
    try:
        with engine.connect() as connection:
            connection.execute(select(Conversation.id).limit(1))
        report["database"] = "ok"
    except Exception as error:  # any failure to answer is the same finding: not usable
        report["database"] = "unavailable"
        report["error"] = describe(error)
    finally:
        engine.dispose()
    oldest = min((at for at in (spool.oldest_waiting_at() for spool in spools) if at is not None), default=None)
    report["oldest_waiting_s"] = None if oldest is None else round(max(0.0, time.time() - oldest), 1)
    stuck = oldest is not None and report["oldest_waiting_s"] > STUCK_AFTER_S
    report["ok"] = report["database"] == "ok" and not stuck and not report["refused"]
    return report
