"""The guard in front of every channel: the per-sender rate limit and empty messages."""
from __future__ import annotations

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import guard
from bot.channels.guard import SenderRateLimiter, guarded


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_sender_over_the_limit_is_refused_until_the_minute_has_passed():
    clock = Clock()
    limiter = SenderRateLimiter(3, clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # others are not affected
    clock.now += 59
    assert not limiter.allow("a")
    clock.now += 1.5
    assert limiter.allow("a")


def test_memory_stays_bounded_by_forgetting_the_least_recent_senders():
    limiter = SenderRateLimiter(1, max_senders=100)
    for n in range(1000):
        limiter.allow(f"sender-{n}")
    assert len(limiter._recent) == 100
    assert limiter.allow("sender-0")  # forgotten, so allowed again


def run_guarded(texts, limit):
    seen, outputs = [], []

    async def on_new_message(message):
        seen.append((message.text, message.parse_data))

    guard.shared_limiter._value = SenderRateLimiter(limit)
    try:
        handle = guarded(on_new_message)
        for text in texts:
            output = CollectingOutputChannel()
            asyncio.run(handle(UserMessage(text, output, "someone", input_channel="rest")))
            outputs.append([m.get("text") for m in output.messages])
    finally:
        guard.shared_limiter.reset()
    return seen, outputs


def test_over_the_limit_the_sender_gets_a_notice_with_the_emergency_number():
    seen, outputs = run_guarded(["one", "two", "three"], limit=2)
    assert [text for text, _ in seen] == ["one", "two"]
    assert outputs[2][0].startswith("You're sending messages faster than I can read them")
    assert "911" in outputs[2][0]


def test_an_empty_message_reaches_rasa_as_nlu_fallback_without_nlu():
    seen, _ = run_guarded(["", "  \n\t", "my leg"], limit=10)
    assert [parse["intent"]["name"] if parse else None for _, parse in seen] == ["nlu_fallback", "nlu_fallback", None]
    assert seen[1][0] == ""  # Rasa's UserMessage strips the text


def test_over_the_limit_an_emergency_sign_is_still_processed():
    seen, outputs = run_guarded(["one", "two", "three", "and now I can't control my bladder"], limit=2)
    assert [text for text, _ in seen] == ["one", "two", "and now I can't control my bladder"]
    assert outputs[3] == []  # no rate-limit notice: Rasa answers it with the emergency advice
