"""Closed-loop load over Rasa's REST channel: N conversations at once, each a scripted multi-turn
conversation; a finished conversation is followed at once by a new one with a new sender id.

Only turns that finish inside the measuring window (after a warm-up) count towards throughput
and latency; errors (a non-200 answer, an empty reply, a timeout or a refused connection) are
counted over the whole point, warm-up included, because any error is worth reporting.
"""
from __future__ import annotations

import asyncio
import itertools
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

import aiohttp

WEBHOOK = "/webhooks/rest/webhook"
TURN_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 30.0

# Ours: realistic triage conversations, one of them an emergency; replies need the action server.
OURS_SCRIPTS: List[List[str]] = [
    ["hello", "my left foot has been numb for three weeks, worse when I sit", "none of those", "gradually",
     "it comes and goes", "nothing else", "no known conditions"],
    ["hi", "my left foot has been numb for three weeks, worse when I sit, and I'm diabetic", "None of those",
     "Gradually", "All the time", "Nothing else"],
    ["hi", "my foot fell asleep after sitting cross legged and it went away when i stood up", "no", "my left foot",
     "gradually", "it comes and goes", "nothing else", "no known conditions"],
    ["hi", "my right leg feels numb", "no", "and now I can't control my bladder", "ok thanks"],
    ["hello", "what is sciatica?", "my right thigh tingles since last month", "no", "slowly", "it comes and goes",
     "nothing else", "none"],
]

# The baseline: the moodbot that `rasa init` creates.
BASELINE_SCRIPTS: List[List[str]] = [
    ["hi", "I am sad", "yes", "great", "bye"],
    ["hello", "I am sad", "no", "bye"],
    ["hey", "great", "are you a bot?", "bye"],
]


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (0.0 when empty)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


@dataclass
class LoadStats:
    concurrency: int
    window_s: float
    turns: int  # turns finished inside the window
    turns_all: int  # turns finished during the whole point, warm-up and drain included
    conversations: int  # conversations finished inside the window
    errors: int  # over the whole point
    throughput: float  # messages (turns) per second inside the window
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    first_error: Optional[str] = None

    def as_dict(self) -> Dict[str, object]:
        return dict(self.__dict__)


@dataclass
class Recorder:
    window_start: float
    window_end: float
    latencies: List[float] = field(default_factory=list)
    turns_total: int = 0
    conversations: int = 0
    errors: int = 0
    first_error: Optional[str] = None

    def in_window(self, finished: float) -> bool:
        return self.window_start <= finished <= self.window_end

    def error(self, what: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = what


async def send_turn(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> Optional[str]:
    """Sends one message; returns None when it got a reply, else what went wrong."""
    try:
        async with session.post(url + WEBHOOK, json={"sender": sender, "message": text}) as response:
            if response.status != 200:
                return f"HTTP {response.status} for {text!r}"
            body = await response.json(content_type=None)
            if not body:
                return f"empty reply to {text!r}"
            return None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as error:
        return f"{type(error).__name__}: {error} for {text!r}"


async def closed_loop(
    worker: int, session: aiohttp.ClientSession, urls: Sequence[str], scripts: Sequence[Sequence[str]],
    recorder: Recorder, stop: asyncio.Event, url_turns: "itertools.count[int]", label: str,
) -> None:
    for number in itertools.count():
        script = scripts[(worker + number) % len(scripts)]
        sender = f"bench-{label}-{uuid.uuid4().hex[:12]}"
        for text in script:
            if stop.is_set():
                return
            # Each turn goes to the next URL in turn: with two instances a conversation alternates
            # between them, which is what a load balancer without sticky sessions would do.
            url = urls[next(url_turns) % len(urls)]
            started = time.perf_counter()
            problem = await send_turn(session, url, sender, text)
            finished = time.perf_counter()
            recorder.turns_total += 1
            if problem:
                recorder.error(problem)
                break  # the conversation's state is unknown: start a new one
            if recorder.in_window(finished):
                recorder.latencies.append((finished - started) * 1000)
        else:
            if recorder.in_window(time.perf_counter()):
                recorder.conversations += 1


def client_session() -> aiohttp.ClientSession:
    """No connection limit, and TURN_TIMEOUT_S for each turn."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=False),
                                 timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT_S))


async def drain(workers: Sequence["asyncio.Task[None]"], stop: asyncio.Event) -> None:
    """Lets the turns in flight finish (they are not counted) so that they do not spill into the next
    point; a turn stuck past DRAIN_TIMEOUT_S is abandoned. A worker's failure is raised here."""
    stop.set()
    done, pending = await asyncio.wait(workers, timeout=DRAIN_TIMEOUT_S)
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception() is not None:
            raise task.exception()


async def run_load(
    urls: Sequence[str], scripts: Sequence[Sequence[str]], concurrency: int, warmup_s: float, window_s: float,
    label: str = "load", progress: Optional[Callable[[str], None]] = None,
) -> LoadStats:
    """Holds `concurrency` conversations against the base URLs for warmup_s + window_s seconds."""
    if not urls:
        raise ValueError("no base URL to send to")
    bases = [url.rstrip("/") for url in urls]
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    start = time.perf_counter()
    recorder = Recorder(window_start=start + warmup_s, window_end=start + warmup_s + window_s)
    stop = asyncio.Event()
    url_turns = itertools.count()
    async with client_session() as session:
        workers = [
            asyncio.create_task(closed_loop(i, session, bases, scripts, recorder, stop, url_turns, label))
            for i in range(concurrency)
        ]
        while time.perf_counter() < recorder.window_end:
            await asyncio.sleep(1.0)
            now = time.perf_counter()
            if now < recorder.window_start:
                phase = f"warm-up {now - start:4.0f}/{warmup_s:.0f}s"
                rate = ""
            else:
                elapsed = min(now, recorder.window_end) - recorder.window_start
                phase = f"window {elapsed:4.0f}/{window_s:.0f}s"
                rate = f" {len(recorder.latencies) / max(elapsed, 1e-9):6.1f} msg/s"
            say(f"  [{label} c{concurrency}] {phase} turns={recorder.turns_total}{rate} errors={recorder.errors}")
        await drain(workers, stop)
    ordered = sorted(recorder.latencies)
    return LoadStats(
        concurrency=concurrency,
        window_s=window_s,
        turns=len(ordered),
        turns_all=recorder.turns_total - recorder.errors,
        conversations=recorder.conversations,
        errors=recorder.errors,
        throughput=round(len(ordered) / window_s, 2),
        p50_ms=round(percentile(ordered, 0.50), 1),
        p95_ms=round(percentile(ordered, 0.95), 1),
        p99_ms=round(percentile(ordered, 0.99), 1),
        mean_ms=round(sum(ordered) / len(ordered), 1) if ordered else 0.0,
        max_ms=round(ordered[-1], 1) if ordered else 0.0,
        first_error=recorder.first_error,
    )


def load(urls: Sequence[str], scripts: Sequence[Sequence[str]], concurrency: int, warmup_s: float, window_s: float,
         label: str = "load", progress: Optional[Callable[[str], None]] = None) -> LoadStats:
    """run_load from synchronous code."""
    return asyncio.run(run_load(urls, scripts, concurrency, warmup_s, window_s, label, progress))
