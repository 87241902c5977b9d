"""The long-conversation point: does a turn late in a long conversation cost more than an early one?

Our conversation re-reads the whole session on every message (bot/dialogue/conversation.py), and
Rasa loads and saves the conversation's tracker on every turn, so the work of a turn can grow with
the number of turns before it. This point sends one long conversation to our system over the REST
channel (LONG_TURNS turns, 20 with --quick): a non-emergency triage that never ends early (the
questionnaire, then FAQ questions, answers, thanks, small talk and "the advice again", cycled), and
compares turn 5 with the last turn. Single turns are noisy, so "turn 5" is turns 3-7 and "turn 60"
turns 56-60 (the last five).

Latency, under load: while BACKGROUND other conversations run at once (the closed-loop load of
bench/load.py with OURS_SCRIPTS, so the servers are as busy as at the c10 point), REPEATS long
conversations are sent one after another, each with a new sender id, so that each turn index has
several samples; the figure is the p50 over all samples of the five turns. Target: turn 60 / turn 5
at most 1.2.

CPU, alone: under the background load, the servers' CPU time between a long-conversation turn's send
and its reply is mostly the other conversations' turns, so it cannot be attributed to that turn.
So the long conversation is then sent again with nothing else running, and the CPU seconds of the
Rasa and action server processes (Running.cpu_seconds) are read before each turn, at its reply and
SETTLE_S after it: a turn's work does not end with the reply (the transcript writer thread copies it,
and native threads of the action server stay busy for a while, up to about 0.2 s here), and read
at once it would be counted in the next turn. The headline figure is everything until SETTLE_S
after the reply ("cpu_ms_per_msg_"); the part until the reply is kept too ("cpu_ms_to_reply_").
Idle, the two servers use about 10 ms of CPU a second, so SETTLE_S adds about 3 ms to every turn.
The kernel counts CPU time in clock ticks (10 ms), so this run is repeated too and the figure is
the mean, not a median, which would only ever be a whole number of ticks. This CPU per message is
higher than the load points' (there, the work left after one reply overlaps the next turn).

`python -m bench` checks the script with script_problem (the triage service, in its own process)
before it starts a server: a message that met an emergency criterion, or a sign to ask back, would
stop the questionnaire and measure another path. `python -m bench --only-long` runs this point
alone (ours, no training, no load points); `--no-long` leaves it out, `--long-turns N` sets N.
"""
from __future__ import annotations

import asyncio
import itertools
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

import aiohttp

from .load import OURS_SCRIPTS, Recorder, client_session, closed_loop, drain, percentile, send_turn
from .systems import Running

LONG_TURNS, QUICK_TURNS = 60, 20
REPEATS, QUICK_REPEATS = 5, 2  # long conversations under load, one after another
CPU_REPEATS, QUICK_CPU_REPEATS = 3, 2  # long conversations alone, for the CPU per turn
BACKGROUND = 10  # other conversations at once, as at the c10 point
EARLY = range(3, 8)  # "turn 5": turns 3-7, counted from 1
LAST_SPAN = 5  # "turn 60": the last five turns
SETTLE_S = 0.3  # after a reply, before reading the CPU: the turn's leftover work is done (it levels off by 0.2 s)
QUIET_S = 1.0  # before the run alone: what the background load left behind is done
LATENCY_RATIO_TARGET = 1.2
MIN_TURNS = max(EARLY) + LAST_SPAN  # so that the two spans do not overlap

# The opening: a numb calf, no emergency sign, the questionnaire answered.
OPENING: List[str] = [
    "hi", "my left calf has been tingling for three weeks, worse when I sit", "no", "gradually",
    "it comes and goes", "nothing else", "no known conditions",
]
# What a person may go on sending in a long chat, none of it an emergency sign (no bladder, bowel,
# breathing, weakness, injury, sudden onset...), nor a "yes" that could affirm one; cycled.
FOLLOW_UPS: List[str] = [
    "what is sciatica?", "thanks", "what causes numbness?", "can I have the advice again?",
    "how is neuropathy diagnosed?", "it comes and goes", "are you a bot?", "how is it treated?",
    "nothing else", "how are you today?", "how can I prevent it?", "no known conditions",
    "is it serious?", "gradually", "thank you", "what do you do with my data?", "what should I do?",
    "nice weather today", "what causes tingling in the legs?", "thanks for the help",
]


def script(turns: int) -> List[str]:
    """The long conversation's messages: the opening, then the follow-ups cycled up to `turns`."""
    return list(itertools.islice(itertools.chain(OPENING, itertools.cycle(FOLLOW_UPS)), turns))


def script_problem(texts: Sequence[str]) -> Optional[str]:
    """Why the script would not stay a non-emergency triage (None when it does), per message and whole."""
    from bot.triage.service import TriageService

    service = TriageService()
    for text in dict.fromkeys(texts):
        decision = service.assess(text)
        if decision.is_emergency or decision.suspected:
            return f"{text!r} is read as an emergency sign ({decision.level}, suspected {list(decision.suspected)})"
    whole = service.assess_conversation(texts)
    if whole.is_emergency or whole.suspected:
        return f"the whole conversation is read as an emergency ({whole.level}, suspected {list(whole.suspected)})"
    return None


def last_span(turns: int) -> range:
    return range(turns - LAST_SPAN + 1, turns + 1)


@dataclass
class Samples:
    """Per turn index (0 = turn 1), the samples of every long conversation sent."""

    turns: int
    values: List[List[float]] = field(init=False)
    messages: int = 0
    errors: int = 0
    first_error: Optional[str] = None

    def __post_init__(self) -> None:
        self.values = [[] for _ in range(self.turns)]

    def of(self, span: range) -> List[float]:
        return sorted(v for turn in span for v in self.values[turn - 1])

    def error(self, what: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or what


@dataclass
class Cpu:
    """The servers' CPU ms per turn index: until the reply, and until SETTLE_S after it."""

    system: Running
    to_reply: Samples
    total: Samples


async def _conversation(session: aiohttp.ClientSession, url: str, texts: Sequence[str], latency: Samples,
                        cpu: Optional[Cpu] = None) -> None:
    """One long conversation with a new sender id; with `cpu`, also its servers' CPU per turn.
    An error ends it (its state is unknown), like a conversation of the closed-loop load."""
    sender = f"bench-long-{uuid.uuid4().hex[:12]}"
    for index, text in enumerate(texts):
        cpu_before = cpu.system.cpu_seconds() if cpu else 0.0
        started = time.perf_counter()
        problem = await send_turn(session, url, sender, text)
        finished = time.perf_counter()
        if problem:
            latency.error(f"turn {index + 1}: {problem}")
            return
        latency.messages += 1
        latency.values[index].append((finished - started) * 1000)
        if cpu:
            cpu.to_reply.values[index].append((cpu.system.cpu_seconds() - cpu_before) * 1000)
            await asyncio.sleep(SETTLE_S)
            cpu.total.values[index].append((cpu.system.cpu_seconds() - cpu_before) * 1000)


async def under_load(url: str, texts: Sequence[str], repeats: int, background: int, warmup_s: float,
                     say: Callable[[str], None]) -> Dict[str, object]:
    """`repeats` long conversations one after another while `background` closed-loop conversations
    (bench/load.py's, on OURS_SCRIPTS) run, after warmup_s of the background alone."""
    latency = Samples(len(texts))
    recorder = Recorder(window_start=time.perf_counter() + warmup_s, window_end=math.inf)
    stop = asyncio.Event()
    async with client_session() as session:
        url_turns = itertools.count()
        workers = [asyncio.create_task(closed_loop(i, session, [url], OURS_SCRIPTS, recorder, stop, url_turns,
                                                      "long-bg")) for i in range(background)]
        try:
            await asyncio.sleep(warmup_s)
            for repeat in range(repeats):
                await _conversation(session, url, texts, latency)
                say(f"  [long] under load {repeat + 1}/{repeats}: {latency.messages} turns, errors {latency.errors}, "
                    f"background {len(recorder.latencies)} turns, errors {recorder.errors}")
        finally:
            recorder.window_end = time.perf_counter()
            await drain(workers, stop)  # the background's turns in flight finish, uncounted
    ordered = sorted(recorder.latencies)
    window_s = max(recorder.window_end - recorder.window_start, 1e-9)
    return {"latency": latency, "background": {
        "conversations": background, "messages": len(ordered), "errors": recorder.errors,
        "first_error": recorder.first_error, "msg_per_s": round(len(ordered) / window_s, 2),
        "p50_ms": round(percentile(ordered, 0.5), 1), "p95_ms": round(percentile(ordered, 0.95), 1),
    }}


async def alone(system: Running, texts: Sequence[str], repeats: int, say: Callable[[str], None]) -> Dict[str, object]:
    """`repeats` long conversations with nothing else running, the servers' CPU read around each turn."""
    latency = Samples(len(texts))
    cpu = Cpu(system, Samples(len(texts)), Samples(len(texts)))
    await asyncio.sleep(QUIET_S)
    async with client_session() as session:
        for repeat in range(repeats):
            await _conversation(session, system.urls[0].rstrip("/"), texts, latency, cpu)
            say(f"  [long] alone {repeat + 1}/{repeats}: {latency.messages} turns, errors {latency.errors}")
    return {"latency": latency, "cpu": cpu}


def _p50(values: List[float]) -> Optional[float]:
    return round(percentile(values, 0.5), 1) if values else None


def _mean(values: List[float]) -> Optional[float]:
    return round(sum(values) / len(values), 1) if values else None


def _ratio(late: Optional[float], early: Optional[float]) -> Optional[float]:
    return round(late / early, 3) if late is not None and early else None


def figures(turns: int, loaded: Dict[str, object], quiet: Dict[str, object], repeats: int, cpu_repeats: int) -> Dict[str, object]:
    """The point's figures, the value of latest.json's "long_conversation"."""
    latency, alone_latency = loaded["latency"], quiet["latency"]
    cpu, to_reply = quiet["cpu"].total, quiet["cpu"].to_reply
    late = last_span(turns)
    p50_early, p50_late = _p50(latency.of(EARLY)), _p50(latency.of(late))
    cpu_early, cpu_late = _mean(cpu.of(EARLY)), _mean(cpu.of(late))
    reply_early, reply_late = _mean(to_reply.of(EARLY)), _mean(to_reply.of(late))
    alone_early, alone_late = _p50(alone_latency.of(EARLY)), _p50(alone_latency.of(late))
    return {
        "turns": turns, "repeats": repeats, "cpu_repeats": cpu_repeats,
        "early_turns": [EARLY.start, EARLY.stop - 1], "last_turns": [late.start, late.stop - 1],
        "p50_ms_turn5": p50_early, "p50_ms_turn_last": p50_late, "latency_ratio": _ratio(p50_late, p50_early),
        "latency_ratio_target": LATENCY_RATIO_TARGET,
        "cpu_ms_per_msg_turn5": cpu_early, "cpu_ms_per_msg_turn_last": cpu_late, "cpu_ratio": _ratio(cpu_late, cpu_early),
        "cpu_ms_to_reply_turn5": reply_early, "cpu_ms_to_reply_turn_last": reply_late,
        "cpu_to_reply_ratio": _ratio(reply_late, reply_early), "settle_s": SETTLE_S,
        "p50_ms_alone_turn5": alone_early, "p50_ms_alone_turn_last": alone_late,
        "latency_alone_ratio": _ratio(alone_late, alone_early),
        "p50_ms_by_turn": [_p50(sorted(v)) for v in latency.values],
        "cpu_ms_per_msg_by_turn": [_mean(v) for v in cpu.values],
        "messages": latency.messages + alone_latency.messages,
        "errors": latency.errors + alone_latency.errors,
        "first_error": latency.first_error or alone_latency.first_error,
        "background": loaded["background"],
    }


def measure(system: Running, turns: int = LONG_TURNS, repeats: int = REPEATS, cpu_repeats: int = CPU_REPEATS,
            background: int = BACKGROUND, warmup_s: float = 5.0,
            say: Callable[[str], None] = print) -> Dict[str, object]:
    """The whole point against a started system (ours): under load first, then alone."""
    if turns < MIN_TURNS:
        raise ValueError(f"a long conversation needs at least {MIN_TURNS} turns, not {turns}")
    texts = script(turns)
    started = time.monotonic()
    loaded = asyncio.run(under_load(system.urls[0].rstrip("/"), texts, repeats, background, warmup_s, say))
    quiet = asyncio.run(alone(system, texts, cpu_repeats, say))
    result = figures(turns, loaded, quiet, repeats, cpu_repeats)
    result["duration_s"] = round(time.monotonic() - started, 1)
    return result
