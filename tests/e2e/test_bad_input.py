"""End to end: odd, hostile and repeated input over REST to the real servers. Each message gets
HTTP 200 and a sensible reply (the notice it calls for, the emergency advice only when there is
a red flag), and the transcript keeps exactly what was sent. Then the per-sender rate limit."""
from __future__ import annotations

import random
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from bot.serve import Assistant

from .support import EMERGENCY_START, FIGURES, MODEL, e2e_settings, new_sender, send, stored_user_texts, texts

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")

EMPTY = "I didn't receive any words"
TOO_LONG = "That was a very long message"
NOT_ENGLISH = "only understand English"
RATE_LIMITED = "You're sending messages faster than I can read them"

# (id, text, a notice the reply must contain or None, whether it is an emergency)
CASES = [
    ("empty", "", EMPTY, False),
    ("whitespace", "   \n\t", EMPTY, False),
    ("100KB", "numb " * 20000, TOO_LONG, False),
    # 100 KB of one-word "sentences" (6,400 of "my leg is numb. ") takes Rasa's RegexFeaturizer ~40 s
    # (it is quadratic in matches x tokens), so this long message has few sentences.
    ("100KB-red-flag-at-end", "numb " * 20000 + "and I can't control my bladder", None, True),
    ("emoji-only", "🦵🦵 😱", None, False),
    ("emoji-red-flag", "🦵 my legs are numb 😱 and I can't control my bladder", None, True),
    ("right-to-left", "رجلي مخدرة منذ أسبوعين", NOT_ENGLISH, False),
    ("mixed-direction", "my leg \u202eis numb\u202c since monday", None, False),
    ("chinese", "我的左腿麻木了两个星期", NOT_ENGLISH, False),
    ("spanish", "Tengo la pierna izquierda entumecida desde hace dos semanas", NOT_ENGLISH, False),
    ("german", "Mein linkes Bein ist seit zwei Wochen taub und kribbelt", NOT_ENGLISH, False),
    ("french", "Ma jambe gauche est engourdie depuis deux semaines", NOT_ENGLISH, False),
    ("zero-width", "my\u200b leg\u200b is\u200d numb\ufeff", None, False),
    # Invisible characters inside the words of an emergency sign are removed before anything reads it.
    ("zero-width-in-red-flag", "I can't con\u200btrol my bla\u200cdder and my legs are numb", None, True),
    ("soft-hyphen-in-red-flag", "my leg went numb and now my speech is slur\u00adred", None, True),
    ("bidi-in-red-flag", "my legs are numb and I \u202ecan't control my bowels\u202c", None, True),
    ("control-chars", "my leg\x07 is numb\x1b[31m\x08\x7f\r\n", None, False),
    ("html", "<script>alert('x')</script> my leg is numb", None, False),
    ("html-attributes", '<img src=x onerror="alert(1)"><b>numb</b> <a href="javascript:alert(1)">foot</a>', None, False),
    ("html-red-flag", "<b>I can't control my bladder</b> and my leg is numb", None, True),
    ("sql-drop", "'; DROP TABLE transcript_messages; --", None, False),
    ("sql-or", "1' OR '1'='1' -- my foot is numb", None, False),
    ("json-like", '{"sender": "someone-else", "message": "hi"}', None, False),
    ("template", "{emergency_number} {{7*7}} ${HOME} %s %(x)s", None, False),
    ("question-marks", "???", None, False),
    ("punctuation", "... !!! ---", None, False),
    ("combining-marks", "my le\u0301g\u0308 is nu\u0336mb", None, False),
    ("lone-surrogate", "my leg is numb \ud83e", None, False),
    ("nul", "my leg\x00 is numb", None, False),
]


INVISIBLE = "[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"


def as_stored(text):
    """The channels remove invisible characters and replace what no database can keep; the ends are stripped."""
    return re.sub("[\x00\ud800-\udfff]", "\ufffd", re.sub(INVISIBLE, "", text)).strip()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    with Assistant(e2e_settings(tmp_path_factory.mktemp("bad-input")), quiet=True) as running:
        yield running


@pytest.mark.parametrize("text,notice,emergency", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_odd_input_gets_a_sensible_reply_and_is_stored(assistant, text, notice, emergency):
    sender = new_sender("odd")
    reply = send(assistant, sender, text)
    FIGURES["bad inputs tried"] += 1
    said = texts(reply)
    assert said and all(said), reply
    if notice:
        assert any(notice in t for t in said), said
    assert said[0].startswith(EMERGENCY_START) == emergency, said
    if not emergency:
        assert not any("EMERGENCY" in t for t in said), said
    assert stored_user_texts(assistant.settings, sender) == [as_stored(text)]


def test_a_conversation_goes_on_normally_after_odd_input(assistant):
    sender = new_sender("after-odd")
    for text in ["", "<script>alert(1)</script>", "numb " * 20000, "我的腿麻木"]:
        send(assistant, sender, text)
    reply = texts(send(assistant, sender, "my left leg has been numb for two weeks"))
    assert not any(EMPTY in t or NOT_ENGLISH in t or TOO_LONG in t for t in reply), reply
    assert reply[-1].endswith("?")  # the triage goes on with its questions


def test_random_strings_never_break_the_server(assistant):
    """Seeded fuzzing: random mixes of scripts, symbols, control and invisible characters."""
    rng = random.Random(20240607)
    alphabet = (
        [chr(c) for c in range(32, 127)] + [chr(c) for c in range(0, 32)] + list("\u200b\u200c\u200d\u2060\ufeff\u202e\u202c")
        + list("éßøñçüÅ") + list("ابتثجحخ") + list("日本語中文한국어") + list("🦵😱🙂👍🏽") + list("\u0301\u0308\u0336")
        + ["numb ", "leg ", "bladder ", "can't ", "walk ", "no ", "yes "]
    )
    senders = [new_sender("fuzz") for _ in range(2)]  # each under the rate limit of 60 a minute
    cases = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400))) for _ in range(80)]
    for n, case in enumerate(cases):
        assert texts(send(assistant, senders[n % 2], case)), repr(case)
        FIGURES["fuzz cases run"] += 1
    for n, sender in enumerate(senders):
        assert stored_user_texts(assistant.settings, sender) == [as_stored(case) for case in cases[n::2]]


MESSAGE = "my leg is numb"


def test_the_same_message_50_times_at_once_is_each_answered_and_stored(assistant):
    sender = new_sender("burst")
    with ThreadPoolExecutor(max_workers=50) as pool:
        replies = list(pool.map(lambda _: send(assistant, sender, MESSAGE, timeout=120), range(50)))
    assert all(texts(reply) for reply in replies)
    assert not any(RATE_LIMITED in t for reply in replies for t in texts(reply))
    assert stored_user_texts(assistant.settings, sender) == [MESSAGE] * 50
    FIGURES["repeated messages sent (50 concurrent + 50 sequential)"] += 50


def test_the_same_message_50_times_in_a_row_is_each_answered_and_stored(assistant):
    sender = new_sender("repeat")
    replies = [send(assistant, sender, MESSAGE) for _ in range(50)]
    assert all(texts(reply) for reply in replies)
    assert not any(RATE_LIMITED in t for reply in replies for t in texts(reply))
    assert stored_user_texts(assistant.settings, sender) == [MESSAGE] * 50
    FIGURES["repeated messages sent (50 concurrent + 50 sequential)"] += 50


def test_the_rate_limit_answers_the_sixth_message_with_a_notice_and_spares_other_senders(assistant):
    # Last: restarts the Rasa server with a limit of 5 a minute.
    assistant.settings = replace(assistant.settings, rate_limit_per_minute=5)
    assistant.restart("rasa")
    busy, other = new_sender("busy"), new_sender("other")
    said = [f"my leg is numb, message {n}" for n in range(1, 8)]
    replies = [texts(send(assistant, busy, text)) for text in said]
    assert not any(RATE_LIMITED in t for reply in replies[:5] for t in reply), replies[:5]
    for reply in replies[5:]:
        assert len(reply) == 1 and reply[0].startswith(RATE_LIMITED) and "call 911 now" in reply[0]
    assert not any(RATE_LIMITED in t for t in texts(send(assistant, other, "my leg is numb")))
    # The skipped messages never reached Rasa, so the transcript holds the five that were answered.
    assert stored_user_texts(assistant.settings, busy) == said[:5]
    FIGURES["messages refused by the rate limit"] += 2
