"""`python -m bot.staff COMMAND`: accounts, exports, retention, and serving the app.

  add-user NAME --role reviewer|admin [--password-stdin]    set-password NAME [--password-stdin]
  unlock NAME                                               export --format json|jsonl|csv|fhir|fhir-transaction|fhir-ndjson [filters]
  purge [--days N]                                          erase SENDER [--pseudonym]
  serve                                                     (what `make run` starts)
"""
from __future__ import annotations

import argparse
import getpass
import logging
import sys
from typing import List, Optional

from ..local_secrets import with_local_secrets
from ..settings import Settings
from ..store.audit import audit
from ..store.database import make_engine, make_session_factory, transaction
from ..store.models import EXPORTED, ROLES
from ..store.retention import erase, purge
from .accounts import AccountError, add_user, find_user, set_password, unlock
from .export import MIMETYPES, ExportTally, export_chunks
from .queries import LEVEL_CHOICES, ConversationFilter, existing_ids


def _actor(command: str) -> str:
    return f"cli:{getpass.getuser()}:{command}"[:64]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise AccountError("the two passwords differ")
    return first


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.staff", description="The staff review app.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-user", help="create a staff account")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    password = commands.add_parser("set-password", help="set a new password (signs the account out everywhere)")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true")
    commands.add_parser("unlock", help="lift a lock-out after failed logins").add_argument("name")
    export = commands.add_parser("export", help="print conversations as JSON, JSON Lines or CSV (streamed)")
    export.add_argument("--format", choices=sorted(MIMETYPES), default="json")
    export.add_argument("--id", type=int, action="append", help="one conversation (repeatable); else the filters")
    export.add_argument("--level", choices=LEVEL_CHOICES)
    export.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    export.add_argument("--channel")
    export.add_argument("--reviewed", choices=("yes", "no"))
    export.add_argument("--search", default="")
    purge_command = commands.add_parser("purge", help="delete transcripts older than RETENTION_DAYS")
    purge_command.add_argument("--days", type=int, help="instead of RETENTION_DAYS")
    erase_command = commands.add_parser("erase", help="delete everything kept about one person")
    erase_command.add_argument("sender", help="the sender id the channel used (or, with --pseudonym, the pseudonym)")
    erase_command.add_argument("--pseudonym", action="store_true", help="SENDER is the pseudonym shown in the app")
    commands.add_parser("serve", help="serve the app on STAFF_HOST:STAFF_PORT (needs STAFF_SECRET_KEY)")
    return parser


def _export(sessions, args) -> int:
    """Writes to stdout while reading; the audit entry follows, with the count and the digest of the ids."""
    if args.id:
        with sessions() as session:
            if len(existing_ids(session, args.id)) != len(set(args.id)):
                print("error: no conversation with some of those ids", file=sys.stderr)
                return 1
        chosen, filters = None, {}
    else:
        query = {"level": args.level, "from": args.date_from, "to": args.date_to, "channel": args.channel,
                 "reviewed": args.reviewed, "q": args.search}
        chosen = ConversationFilter.from_args({k: v for k, v in query.items() if v})
        if chosen.problems:
            print("error: " + "; ".join(chosen.problems), file=sys.stderr)
            return 2
        filters = chosen.to_args()
    tally, complete = ExportTally(), False
    try:
        for chunk in export_chunks(args.format, sessions, chosen, args.id, tally):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        complete = True
    finally:
        detail = {"format": args.format, "filters": filters, **tally.detail()}
        if not complete:
            detail["complete"] = False
        with transaction(sessions) as session:
            audit(session, _actor("export"), EXPORTED, f"{tally.count} conversation(s)", **detail)
    return 0


def _accounts(sessions, args) -> int:
    with transaction(sessions) as session:
        if args.command == "add-user":
            user = add_user(session, args.name, args.role, _read_password(args.password_stdin))
            message = f"added {user.role} {user.name}"
        else:
            user = find_user(session, args.name)
            if user is None:
                raise AccountError(f"there is no account named {args.name!r}")
            if args.command == "unlock":
                unlock(user)
                message = f"unlocked {user.name}"
            else:
                set_password(user, _read_password(args.password_stdin))
                message = f"new password set for {user.name}"
    print(message)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Read, never create: a new pseudonym key would match no one's conversations.
    settings = with_local_secrets(Settings.from_env(), create=False)
    if args.command == "serve":
        from ..processes import keep_files_private
        from .server import serve

        keep_files_private(settings.data_dir)
        return serve(settings)
    sessions = make_session_factory(make_engine(settings.transcripts_url))
    try:
        if args.command == "export":
            return _export(sessions, args)
        if args.command == "purge":
            days = args.days or settings.retention_days
            if not days:
                print("error: set RETENTION_DAYS or pass --days", file=sys.stderr)
                return 2
            deleted = purge(sessions, settings, days, _actor("purge"))
            print(f"purged {deleted.conversations} conversation(s) older than {days} days "
                  f"({deleted.spooled} waiting record(s), {deleted.tracker_events} tracker event(s))")
            return 0
        if args.command == "erase":
            if not args.pseudonym and not settings.pseudonym_key:
                print("error: PSEUDONYM_KEY is not set and the data folder has none", file=sys.stderr)
                return 2
            deleted = erase(sessions, settings, args.sender, _actor("erase"), is_pseudonym=args.pseudonym)
            print(f"erased {deleted.conversations} conversation(s), {deleted.spooled} waiting record(s) "
                  f"and {deleted.tracker_events} tracker event(s) of that sender")
            return 0
        return _accounts(sessions, args)
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
