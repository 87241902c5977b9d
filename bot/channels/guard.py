"""What every channel (REST, socket.io, Telegram, Slack) does before Rasa sees a message.

- An empty or whitespace-only message is passed on as ``nlu_fallback`` without NLU: Rasa's
  classifiers fail on a message with no words, and the person would get no answer at all.
  The triage action then asks them to type something.
- A per-sender rate limit. A person types a few messages a minute; a script can send hundreds
  a second and tie up the triage for everyone. Past RATE_LIMIT_PER_MINUTE messages in the last
  minute, a sender's message is not processed: they get a short notice, which still says to
  call the emergency number in an emergency. The emergency criteria come first here too: a
  message that meets one on its own is always processed. Counts live in this process (each
  Rasa server counts its own).
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict, deque
from typing import Any, Awaitable, Callable, Deque

from rasa.core.channels.channel import UserMessage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT

from ..lazy import Lazy
from ..settings import Settings
from ..triage.service import shared_service

logger = logging.getLogger(__name__)

WINDOW_S = 60.0
MAX_SENDERS = 100_000  # the least recently seen senders are forgotten first: memory stays bounded
NOTICE = (
    "You're sending messages faster than I can read them, so I skipped this one. Please wait a "
    "minute and send it again. If this is an emergency, call {emergency_number} now."
)

# Characters no transcript database can keep, each replaced by U+FFFD: a lone UTF-16 surrogate
# (valid JSON, "\ud83e", but not UTF-8: saving the tracker failed and Rasa fell back to memory,
# so the message never reached the transcript) and NUL (PostgreSQL refuses it in text).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

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


def _limiter() -> SenderRateLimiter:
    return SenderRateLimiter(Settings.from_env().rate_limit_per_minute)


shared_limiter = Lazy(_limiter)


def empty_message_parse(text: str) -> dict:
    """Rasa's own nlu_fallback, certain: data/rules/triage.yml answers it with the triage action."""
    intent = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
    return {TEXT: text, INTENT: intent, INTENT_RANKING_KEY: [intent], ENTITIES: []}


def _is_emergency(text: str) -> bool:
    return bool(text) and shared_service().assess(text).is_emergency


def guarded(on_new_message: OnNewMessage) -> OnNewMessage:
    """``on_new_message`` behind the per-sender rate limit, with empty messages made answerable."""

    async def handle(message: UserMessage) -> Any:
        if shared_limiter.get().allow(str(message.sender_id)) or _is_emergency(message.text):
            if message.text:
                message.text = _UNSTORABLE.sub("\ufffd", message.text)
            if not (message.text or "").strip():
                message.text = message.text or ""
                message.parse_data = empty_message_parse(message.text)
            return await on_new_message(message)
        logger.warning("rate limit: a message from channel %s was not processed", message.input_channel)
        number = Settings.from_env().emergency_number
        await message.output_channel.send_text_message(message.sender_id, NOTICE.format(emergency_number=number))
        return None

    return handle
