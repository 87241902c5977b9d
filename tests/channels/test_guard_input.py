"""What every channel does to a message before Rasa sees it (bot/channels/guard.py)."""
from __future__ import annotations

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels.guard import SenderRateLimiter, guarded


def through_guard(text):
    seen = []

    async def on_new_message(message):
        seen.append(message)

    asyncio.run(guarded(on_new_message)(UserMessage(text, CollectingOutputChannel(), sender_id="guard-test")))
    return seen[0]


def test_characters_no_database_can_keep_are_replaced_invisible_ones_removed_and_the_rest_kept():
    # A lone surrogate is valid JSON ("\ud83e") but not UTF-8; PostgreSQL refuses NUL in text.
    message = through_guard("my leg\x00 is numb \ud83e 🦵 \u200b\x07")
    assert message.text == "my leg\ufffd is numb \ufffd 🦵 \x07"
    message.text.encode("utf-8")  # storable


def test_a_sender_id_no_database_can_keep_is_made_storable():
    seen = []

    async def on_new_message(message):
        seen.append(message)

    asyncio.run(guarded(on_new_message)(UserMessage("hi", CollectingOutputChannel(), sender_id="x\udc00")))
    assert seen[0].sender_id == "x\ufffd"


def test_an_empty_message_is_passed_on_as_nlu_fallback():
    message = through_guard("   ")
    assert message.text == "" and message.parse_data["intent"]["name"] == "nlu_fallback"


def test_the_rate_limit_counts_each_sender_over_a_sliding_minute():
    now = [0.0]
    limiter = SenderRateLimiter(2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("b")
    now[0] = 60.0
    assert limiter.allow("a")
