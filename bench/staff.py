"""The staff app at a clinic's scale: ``python -m bench.staff`` (``make bench-staff``).

For each database (SQLite, then a PostgreSQL 15 server of its own on loopback), builds a database
with the project's migrations and fills it with synthetic transcripts (a progress bar on stderr),
starts the staff app as `make run` does (`python -m bot.staff serve`, waitress), signs in over
HTTP and times: list pages (page 1 and the last page, following the page links), searches (a
common word, a rare one, an absent one, eight words), one transcript, the export of everything
from the page (the server's peak memory, and the list page timed meanwhile), the command-line
export, and a purge of half the data while a writer keeps writing transcripts (its longest wait).
Prints a table and writes bench/results/staff.json; stops its servers and its PostgreSQL itself.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

RESULTS = Path(__file__).resolve().parent / "results"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The data is written at this revision (the tables every later revision keeps), then the database is
# upgraded to head: later revisions must bring existing data along, and the fill stays fast.
FILL_REVISION = "0002"
PSEUDONYM_KEY = "bench-pseudonym-key-0123456789abcdef"
STAFF_SECRET = "bench-staff-secret-key-0123456789abcdef"
USER, PASSWORD = "bench", "bench's long password"
REPEATS = 20  # timings per URL, after one to warm the caches: the p95 is the second worst
RETENTION_SPAN_DAYS = 730  # conversations spread over two years: `purge --days 365` takes half

# Synthetic patient language: mostly the common words of leg numbness, some rare ones.
PARTS = ("foot", "left foot", "right foot", "leg", "left leg", "calf", "thigh", "toes", "shin", "ankle", "knee", "heel")
FEELINGS = ("numb", "tingling", "pins and needles", "weak", "cold", "burning", "asleep", "heavy")
DURATIONS = ("an hour", "two days", "three weeks", "a month", "since this morning", "since yesterday", "a year")
CONTEXTS = ("after sitting cross legged", "when I walk", "at night", "after running", "since my fall",
            "and I'm diabetic", "and my back hurts", "after a long drive", "when I stand up", "")
RARE = ("sciatica", "chemotherapy", "frostbite", "marathon", "pregnancy", "vasculitis")  # each in ~0.1% of conversations
BOT_LINES = ("How long has it felt like this?", "Does it affect one leg or both?", "Is there any weakness?",
             "Have you had any loss of bladder or bowel control?", "Any recent injury to your back?",
             "Thank you, I have a few more questions.")
CLOSINGS = {
    "emergency": "EMERGENCY: call 911 now, or go to the nearest emergency department.",
    "doctor": "Please contact a doctor or other healthcare provider about this.",
    "self_care": "This sounds like the common, usually harmless kind of numbness.",
}
CHANNELS = ("rest",) * 50 + ("socketio",) * 30 + ("telegram",) * 15 + ("twilio",) * 4 + ("slack",)
SEARCHES = {"common": "numb", "rare": "vasculitis", "absent": "zebra",
            "eight_words": "my left foot has been numb for three weeks"}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def p95(samples: List[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))], 1)


# ---------------------------------------------------------------- the data


def user_text(rng: random.Random) -> str:
    text = f"my {rng.choice(PARTS)} has been {rng.choice(FEELINGS)} for {rng.choice(DURATIONS)} {rng.choice(CONTEXTS)}"
    if rng.random() < 0.0015:
        text += f" and I had {rng.choice(RARE)} last year"
    return text.strip()


def fill(url: str, conversations: int, seed: int = 7) -> int:
    """Writes `conversations` synthetic transcripts (about 12 messages each); returns the number of messages."""
    from sqlalchemy import MetaData, Table, text
    from tqdm import tqdm

    from bot.store.database import make_engine
    from bot.store.records import pseudonym

    rng = random.Random(seed)
    engine = make_engine(url)
    metadata = MetaData()
    tables = {name: Table(name, metadata, autoload_with=engine)
              for name in ("transcript_conversations", "transcript_messages", "triage_decisions")}
    now = dt.datetime.utcnow().replace(microsecond=0)
    message_id = decision_id = 0
    batch = 2000
    try:
        with tqdm(total=conversations, desc="filling", unit="conv", file=sys.stderr, mininterval=0.5) as bar:
            for first in range(0, conversations, batch):
                rows_c, rows_m, rows_d = [], [], []
                for number in range(first, min(conversations, first + batch)):
                    started = now - dt.timedelta(seconds=rng.uniform(0, RETENTION_SPAN_DAYS * 86400))
                    level = rng.choices(("emergency", "doctor", "self_care", None), (5, 45, 35, 15))[0]
                    turns = rng.randint(2, 10)
                    at = started
                    conversation_id = number + 1
                    for turn in range(turns):
                        for speaker, words in (("user", user_text(rng)), ("bot", rng.choice(BOT_LINES))):
                            at += dt.timedelta(seconds=rng.uniform(2, 30))
                            message_id += 1
                            closing = speaker == "bot" and turn == turns - 1 and level is not None
                            rows_m.append({
                                "id": message_id, "conversation_id": conversation_id, "event_key": f"bench-{message_id}",
                                "at": at, "speaker": speaker, "text": CLOSINGS[level] if closing else words,
                                "intent": "describe_symptom" if speaker == "user" else None,
                                "confidence": round(rng.uniform(0.5, 1.0), 3) if speaker == "user" else None,
                            })
                            if closing:
                                decision_id += 1
                                rules = [f"{level}.synthetic"]
                                rows_d.append({
                                    "id": decision_id, "conversation_id": conversation_id, "message_id": message_id,
                                    "at": at, "level": level, "rules": rules,
                                    "red_flags": rules if level == "emergency" else [],
                                    "reasons": [{"rule": rules[0], "level": level, "source": "001_cause.txt",
                                                 "quote": "synthetic"}],
                                    "sources": ["001_cause.txt"], "missing": [], "rulebook_version": "bench",
                                })
                    # Staff have reviewed the emergencies of all but the last month.
                    reviewed = level == "emergency" and (now - started).days > 30
                    rows_c.append({
                        "id": conversation_id, "sender": pseudonym(PSEUDONYM_KEY, f"sender-{number % (conversations // 2 + 1)}"),
                        "session_key": f"{started.timestamp():.6f}", "channel": rng.choice(CHANNELS),
                        "started_at": started, "last_message_at": at, "triage_level": level,
                        "emergency": level == "emergency", "red_flags": [f"{level}.synthetic"] if level == "emergency" else [],
                        "reviewed_at": started + dt.timedelta(hours=2) if reviewed else None,
                        "reviewed_by": "ann" if reviewed else None,
                    })
                with engine.begin() as connection:
                    connection.execute(tables["transcript_conversations"].insert(), rows_c)
                    connection.execute(tables["transcript_messages"].insert(), rows_m)
                    if rows_d:
                        connection.execute(tables["triage_decisions"].insert(), rows_d)
                bar.update(len(rows_c))
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            with engine.begin() as connection:
                for name in tables:
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT coalesce(max(id), 1) FROM {name}))"))
                connection.execute(text("ANALYZE"))
        return message_id
    finally:
        engine.dispose()


def database_mb(url: str) -> float:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from bot.store.database import make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        return round(sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20, 1)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return round(connection.scalar(text("SELECT pg_database_size(current_database())")) / 2**20, 1)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the app


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class StaffServer:
    """`python -m bot.staff serve` in a process of its own, and a signed-in HTTP session to it."""

    def __init__(self, env: Dict[str, str], port: int):
        import requests

        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([sys.executable, "-m", "bot.staff", "serve"], env=env, cwd=PROJECT_ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(self.base + "/health", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit("error: the staff app did not start")
                time.sleep(0.2)
        self.http = self.signed_in()

    def signed_in(self):
        import requests

        http = requests.Session()
        page = http.get(self.base + "/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        answer = http.post(self.base + "/login", data={"name": USER, "password": PASSWORD, "csrf_token": token},
                           allow_redirects=False)
        if answer.status_code != 302:
            raise SystemExit("error: could not sign in to the staff app")
        return http

    def timed_get(self, path: str, http=None) -> Tuple[float, str]:
        began = time.perf_counter()
        answer = (http or self.http).get(self.base + path)
        elapsed = (time.perf_counter() - began) * 1000
        answer.raise_for_status()
        return elapsed, answer.text

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def link(page: str, rel: str) -> Optional[str]:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def repeated(server: StaffServer, path: str) -> List[float]:
    server.timed_get(path)  # warm
    return [server.timed_get(path)[0] for _ in range(REPEATS)]


def list_figures(server: StaffServer) -> Dict[str, float]:
    _ms, first = server.timed_get("/conversations")
    # The last page as a person reaches it: the "last" link, else (no such link) a page number past the end.
    last = link(first, "last") or "/conversations?page=1000000000"
    figures = {"list_first_p95_ms": p95(repeated(server, "/conversations")), "list_last_p95_ms": p95(repeated(server, last))}
    next_page = link(first, "next")
    if next_page:
        figures["list_second_p95_ms"] = p95(repeated(server, next_page))
    return figures


def search_figures(server: StaffServer) -> Dict[str, float]:
    from urllib.parse import urlencode

    return {f"search_{name}_p95_ms": p95(repeated(server, "/conversations?" + urlencode({"q": words})))
            for name, words in SEARCHES.items()}


MARK = b'"started_at"'  # once per conversation in the JSON export


def export_figures(server: StaffServer) -> Dict[str, float]:
    """The export of everything from the page: time, the server's peak memory, and the list page meanwhile."""
    done = threading.Event()
    peak = [rss_mb(server.process.pid)]
    before = peak[0]
    during: List[float] = []

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], rss_mb(server.process.pid))

    def browse() -> None:
        http = server.signed_in()
        while not done.is_set():
            during.append(server.timed_get("/conversations", http)[0])
            time.sleep(0.2)

    threads = [threading.Thread(target=sample), threading.Thread(target=browse)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    count = 0
    try:
        with server.http.get(server.base + "/conversations/export.json", stream=True) as answer:
            answer.raise_for_status()
            tail = b""
            for chunk in answer.iter_content(chunk_size=1 << 16):
                joined = tail + chunk  # a key may be cut in two by the chunk boundary
                count += joined.count(MARK) - tail.count(MARK)
                tail = joined[-len(MARK):]
    finally:
        elapsed = time.perf_counter() - began
        done.set()
        for thread in threads:
            thread.join()
    return {"export_s": round(elapsed, 2), "export_conversations": count,
            "export_conversations_per_s": round(count / elapsed, 1), "export_peak_mb": round(peak[0], 1),
            "export_rss_before_mb": round(before, 1),
            "pages_during_export_p95_ms": round(p95(during), 1) if during else None,
            "pages_during_export_max_ms": round(max(during), 1) if during else None}


def cli_export_figures(env: Dict[str, str]) -> Dict[str, float]:
    """`python -m bot.staff export --format json` of everything, to /dev/null: time and peak memory."""
    began = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "bot.staff", "export", "--format", "json"], env=env,
                                   cwd=PROJECT_ROOT, stdout=sink, stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit("error: `bot.staff export` failed")
    return {"cli_export_s": round(time.perf_counter() - began, 2), "cli_export_peak_mb": round(usage.ru_maxrss / 1024, 1)}


def purge_figures(env: Dict[str, str], url: str) -> Dict[str, float]:
    """`python -m bot.staff purge --days 365` while a writer stores a transcript message every 20 ms."""
    from bot.store.database import make_engine, make_session_factory, transaction
    from bot.store.records import transcript_records
    from bot.store.transcripts import store_records

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    done = threading.Event()
    waits: List[float] = []

    def write() -> None:
        start = time.time()
        number = 0
        while not done.is_set():
            number += 1
            events = [{"event": "session_started", "timestamp": start},
                      {"event": "user", "timestamp": start + number, "text": f"my foot is numb ({number})",
                       "input_channel": "rest"}]
            began = time.perf_counter()
            with transaction(sessions) as session:
                store_records(session, transcript_records("bench-writer", events, 1))
            waits.append((time.perf_counter() - began) * 1000)
            time.sleep(0.02)

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.5)  # the writer's own pace first
    began = time.perf_counter()
    done_purge = subprocess.run([sys.executable, "-m", "bot.staff", "purge", "--days", "365"], env=env,
                                cwd=PROJECT_ROOT, capture_output=True, text=True)
    purge_s = time.perf_counter() - began
    time.sleep(0.5)
    done.set()
    writer.join()
    engine.dispose()
    if done_purge.returncode != 0:
        raise SystemExit(f"error: purge failed: {done_purge.stderr[-500:]}")
    return {"purge_s": round(purge_s, 2), "purge_writer_wait_max_ms": round(max(waits), 1),
            "purge_writer_wait_p95_ms": round(p95(waits), 1), "purge_output": done_purge.stdout.strip()}


# ---------------------------------------------------------------- one database


@contextmanager
def database(kind: str, work: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{work / 'transcripts.db'}"
        return
    from devtools.devservers import PostgresServer, postgres_bin_dir

    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise SystemExit("error: PostgreSQL is not installed (`make system-deps`)")
    server = PostgresServer(bin_dir).initialise()
    try:
        yield server.create_database()
    finally:
        server.destroy()


def bench_one(kind: str, conversations: int, work: Path) -> Dict[str, object]:
    from alembic import command

    from devtools.devservers import free_port
    from bot.staff.accounts import add_user
    from bot.store.database import make_engine, make_session_factory, transaction
    from bot.store.migrate import alembic_config, upgrade_to_head

    figures: Dict[str, object] = {"conversations": conversations}
    with database(kind, work) as url:
        say(f"{kind}: migrating to {FILL_REVISION} and filling {conversations} conversations")
        command.upgrade(alembic_config(url), FILL_REVISION)
        began = time.perf_counter()
        figures["messages"] = fill(url, conversations)
        figures["fill_s"] = round(time.perf_counter() - began, 1)
        began = time.perf_counter()
        upgrade_to_head(url)
        figures["upgrade_to_head_s"] = round(time.perf_counter() - began, 1)
        figures["database_mb"] = database_mb(url)
        engine = make_engine(url)
        with transaction(make_session_factory(engine)) as session:
            add_user(session, USER, "admin", PASSWORD)
        engine.dispose()
        data_dir = work / "data"
        data_dir.mkdir(exist_ok=True)
        env = {**os.environ, "DATABASE_URL": url, "TRIAGE_DATA_DIR": str(data_dir), "PSEUDONYM_KEY": PSEUDONYM_KEY,
               "STAFF_SECRET_KEY": STAFF_SECRET, "STAFF_HOST": "127.0.0.1", "STAFF_PORT": str(free_port()),
               "PYTHONPATH": str(PROJECT_ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
        env.pop("RETENTION_DAYS", None)
        env.pop("PURGE_EVERY_HOURS", None)
        server = StaffServer(env, int(env["STAFF_PORT"]))
        try:
            say(f"{kind}: list pages and searches")
            figures.update(list_figures(server))
            figures.update(search_figures(server))
            figures["transcript_p95_ms"] = p95(repeated(server, f"/conversations/{conversations // 2}"))
            # The default (the last 90 days, each day shown) and every conversation (weeks only).
            figures["dashboard_90_days_p95_ms"] = p95(repeated(server, "/dashboard"))
            figures["dashboard_everything_p95_ms"] = p95(repeated(server, "/dashboard?from=2000-01-01"))
            figures["dashboard_p95_ms"] = max(figures["dashboard_90_days_p95_ms"], figures["dashboard_everything_p95_ms"])
            say(f"{kind}: export of everything from the page")
            figures.update(export_figures(server))
        finally:
            server.stop()
        say(f"{kind}: export from the command line")
        figures.update(cli_export_figures(env))
        say(f"{kind}: purge of half the data with a writer running")
        figures.update(purge_figures(env, url))
        figures["database_mb_after_purge"] = database_mb(url)
    figures["list_p95_ms"] = round(max(v for k, v in figures.items() if k.startswith("list_") and k.endswith("_p95_ms")), 1)
    figures["search_p95_ms"] = round(max(v for k, v in figures.items() if k.startswith("search_") and k.endswith("_p95_ms")), 1)
    return figures


REPORTED = ("conversations", "messages", "list_p95_ms", "search_p95_ms", "export_peak_mb",
            "export_conversations_per_s", "purge_writer_wait_max_ms", "dashboard_p95_ms")


def table(results: Dict[str, Dict[str, object]]) -> str:
    names = sorted({k for figures in results.values() for k in figures})
    kinds = list(results)
    lines = [f"{'figure':<32}" + "".join(f"{kind:>16}" for kind in kinds)]
    for name in names:
        cells = []
        for kind in kinds:
            value = results[kind].get(name)
            cells.append("-" if value is None else (f"{value:.1f}" if isinstance(value, float) else str(value)))
        lines.append(f"{name:<32}" + "".join(f"{cell[:15]:>16}" for cell in cells))
    return "\n".join(lines)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.staff", description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000, help="how many to generate (default 10000)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--output", type=Path, default=RESULTS / "staff.json")
    args = parser.parse_args(argv)
    args.kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    unknown = set(args.kinds) - {"sqlite", "postgresql"}
    if unknown or not args.kinds:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown)) or 'none given'}")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    sys.path.insert(0, str(PROJECT_ROOT))
    args = parse_args(argv)
    began = time.monotonic()
    results: Dict[str, Dict[str, object]] = {}
    for kind in args.kinds:
        with tempfile.TemporaryDirectory(prefix=f"bench-staff-{kind}-") as tmp:
            results[kind] = bench_one(kind, args.conversations, Path(tmp))
    print(table(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({kind: {k: figures[k] for k in REPORTED} for kind, figures in results.items()},
                                      indent=2) + "\n")
    details = args.output.with_name(args.output.stem + "-details.json")
    details.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwritten to {args.output} (every figure in {details.name}); {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
