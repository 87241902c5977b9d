"""`python -m bot.store migrate | revision MESSAGE | status`; `make migrate` runs `migrate`."""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from ..settings import Settings
from .health import transcript_health
from .migrate import new_revision, upgrade_to_head


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.store", description="The transcript database.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the transcript database (DATABASE_URL) to the newest schema")
    revision = commands.add_parser("revision", help="autogenerate a new migration from the models")
    revision.add_argument("message")
    commands.add_parser("status", help="print whether transcripts are being written (exit 1 if not)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "migrate":
        upgrade_to_head(settings.transcripts_url)
        print("transcript database is at the newest schema")
        return 0
    if args.command == "revision":
        new_revision(settings.transcripts_url, args.message)
        return 0
    report = transcript_health(settings)
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
