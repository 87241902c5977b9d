"""Whether transcripts are being written: read by the staff app's /health and `python -m bot.store status`."""
from __future__ import annotations

import json
from typing import Any, Dict

from sqlalchemy import select

from ..settings import Settings
from .database import make_engine
from .models import Conversation
from .spool import spools_in
from .writer import describe, status_path_for


def transcript_health(settings: Settings) -> Dict[str, Any]:
    """ok is true only when the database answers, has our tables, and no record waits or was refused."""
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
    report["ok"] = report["database"] == "ok" and not report["waiting"] and not report["refused"]
    return report
