"""What every channel (REST, socket.io, Telegram, Slack) does before Rasa sees a message.

In this order:
1. The sender id, text and metadata are cleaned (bot/channels/edge.py).
2. The emergency criteria are applied to the message, in a worker thread: a long message must not
   hold up everyone else's conversation on the event loop. The decision is remembered by the
   triage service, so the Rasa server's red-flag component reuses it instead of deciding again.
3. A per-sender rate limit. A person types a few messages a minute; a script can send hundreds a
   second. Past RATE_LIMIT_PER_MINUTE in the last minute, a message gets a short notice that
   still gives the emergency number, and is not processed.
4. Admission. One sender's messages go to Rasa one at a time, in order (Rasa's own lock store
   would make them poll once a second), and at most CONCURRENT_MESSAGES messages are in Rasa at
   once. A message that cannot get in within BUSY_AFTER_S gets a short "busy" answer with the
   emergency number, rather than waiting into the action server's time-out.
   A message that meets an emergency criterion skips 3 and 4's limit: it is always processed.
5. An empty message is passed on as ``nlu_fallback`` without NLU (Rasa's classifiers fail on a
   message with no words); anything that goes wrong inside Rasa is answered with the
   technical-problem message, never silence, and logged without the text.
Counts live in this process (each Rasa server counts its own).
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional

from rasa.core.channels.channel import UserMessage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT

from ..dialogue.replies import say
from ..lazy import Lazy
from ..settings import Settings
from ..triage.service import shared_service
from .edge import BadRequest, clean_metadata, clean_sender, clean_text

logger = logging.getLogger(__name__)

WINDOW_S = 60.0
MAX_SENDERS = 100_000  # the least recently seen senders are forgotten first: memory stays bounded

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class SenderRateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_senders: int = MAX_SENDERS):
        self.per_minute = per_minute
        self.clock = clock
        self.max_senders = max_senders
        self._recent: "OrderedDict[str, Deque[float]]" = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, sender: str) -> bool:
        now = self.clock()
        with self._lock:
            times = self._recent.pop(sender, None) or deque()
            while times and now - times[0] >= WINDOW_S:
                times.popleft()
            allowed = len(times) < self.per_minute
            if allowed:
                times.append(now)
            self._recent[sender] = times  # now the most recently seen
            while len(self._recent) > self.max_senders:
                self._recent.popitem(last=False)
            return allowed


class Admission:
    """One message per sender at a time, in arrival order, and at most ``limit`` in Rasa at once,
    first come first served: a freed place goes to the message that has waited longest, never to
    one that just arrived (under load that barging left some messages waiting many turns: the slow
    tail). ``run`` says False when no place came within ``wait_s``; an urgent message enters at once."""

    def __init__(self, limit: int, wait_s: float) -> None:
        self.limit = limit
        self.wait_s = wait_s
        self.in_flight = 0
        self._senders: Dict[str, List[Any]] = {}  # sender -> [asyncio.Lock, messages holding or awaiting it]
        self._waiting: Deque["asyncio.Future[None]"] = deque()  # oldest first; done when given a place
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # asyncio primitives belong to one loop (tests run several)
            self._loop, self._waiting, self._senders, self.in_flight = loop, deque(), {}, 0
        return loop

    async def _place(self, urgent: bool) -> bool:
        loop = self._bind()
        if urgent or (self.in_flight < self.limit and not self._waiting):
            self.in_flight += 1
            return True
        ticket: "asyncio.Future[None]" = loop.create_future()
        self._waiting.append(ticket)
        try:
            await asyncio.wait_for(ticket, self.wait_s)
            return True  # _leave handed its place over: in_flight already counts it
        except asyncio.TimeoutError:
            return False  # wait_for cancelled the ticket: _leave passes over it
        except asyncio.CancelledError:  # wait_for has cancelled the ticket, unless it had been given a place
            if ticket.done() and not ticket.cancelled():
                self._leave()  # given a place just as it was cancelled: pass the place on
            raise

    def _leave(self) -> None:
        while self._waiting:
            ticket = self._waiting.popleft()
            if not ticket.done():
                ticket.set_result(None)  # the place goes to the longest waiting, in_flight unchanged
                return
        self.in_flight -= 1

    async def run(self, sender: str, urgent: bool, work: Callable[[], Awaitable[Any]]) -> bool:
        """Runs ``work`` when admitted; False when it was not (busy)."""
        self._bind()
        entry = self._senders.setdefault(sender, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:  # this sender's earlier messages first
                if not await self._place(urgent):
                    return False
                try:
                    await work()
                finally:
                    self._leave()
                return True
        finally:
            entry[1] -= 1
            if not entry[1] and self._senders.get(sender) is entry:
                del self._senders[sender]


def _limiter() -> SenderRateLimiter:
    return SenderRateLimiter(Settings.from_env().rate_limit_per_minute)


def _admission() -> Admission:
    settings = Settings.from_env()
    return Admission(settings.concurrent_messages, settings.busy_after_s)


shared_limiter = Lazy(_limiter)
shared_admission = Lazy(_admission)
# One thread: the language pipeline is called from one thread at a time anyway (the GIL), and
# the triage service keeps it that way.
_triage_thread = Lazy(lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage"))


def empty_message_parse(text: str) -> dict:
    """Rasa's own nlu_fallback, certain: data/rules/triage.yml answers it with the triage action."""
    intent = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
    return {TEXT: text, INTENT: intent, INTENT_RANKING_KEY: [intent], ENTITIES: []}


async def is_emergency(text: str) -> bool:
    """The emergency criteria on this message, off the event loop. A failure here is not a
    verdict: the Rasa server's red-flag component and the triage action check again."""
    if not text:
        return False
    loop = asyncio.get_running_loop()
    try:
        decision = await loop.run_in_executor(_triage_thread.get(), shared_service().assess, text)
    except Exception:
        logger.exception("emergency check in the guard failed; Rasa's red-flag component checks this message")
        return False
    return decision.is_emergency


async def answer(message: UserMessage, key: str) -> None:
    await message.output_channel.send_text_message(message.sender_id, say(key, Settings.from_env().emergency_number).text)


def clean(message: UserMessage) -> None:
    """The message as Rasa may see it (bot/channels/edge.py); BadRequest for a sender id we cannot use."""
    message.sender_id = clean_sender(message.sender_id)
    message.text = clean_text(message.text)
    message.metadata = clean_metadata(message.metadata)


def guarded(on_new_message: OnNewMessage) -> OnNewMessage:
    """``on_new_message`` behind the checks above."""

    async def into_rasa(message: UserMessage) -> None:
        if not message.text:
            message.parse_data = empty_message_parse(message.text)
        try:
            await on_new_message(message)
        except Exception as error:  # never silence; the text stays out of the log
            logger.error("channel %s: the message could not be handled (%s)", message.input_channel, type(error).__name__,
                         exc_info=logger.isEnabledFor(logging.DEBUG))
            await answer(message, "technical_problem")

    async def handle(message: UserMessage) -> Any:
        try:
            clean(message)
        except BadRequest as error:
            logger.warning("channel %s: a message was refused: %s", message.input_channel, error.reason)
            await answer(message, "unreadable")
            return None
        urgent = await is_emergency(message.text)
        if not (shared_limiter.get().allow(message.sender_id) or urgent):
            logger.warning("rate limit: a message from channel %s was not processed", message.input_channel)
            await answer(message, "rate_limited")
            return None
        if not await shared_admission.get().run(message.sender_id, urgent, lambda: into_rasa(message)):
            logger.warning("busy: a message from channel %s was not processed in time", message.input_channel)
            await answer(message, "busy")
        return None

    return handle
