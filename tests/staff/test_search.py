"""The search box on the database's own full-text index: stemmed words, every word required, sender
prefixes; and the same matches on SQLite (FTS5) and PostgreSQL (tsvector) for the same data."""
from __future__ import annotations

import hashlib
from typing import Dict, List

import pytest
from sqlalchemy import select

from bot.staff.queries import ConversationFilter, conversation_page
from bot.store.database import make_engine, make_session_factory, transaction
from bot.store.migrate import upgrade_to_head
from bot.store.models import Conversation
from bot.store.records import transcript_records
from bot.store.transcripts import store_records

from ..store.databases import TestDatabase
from ..store.events import bot, session_start, user

# What people write, with the inflections, punctuation, numbers and case a search must see through.
TEXTS = [
    "my left foot has been numb for three weeks",
    "Numbness in both FEET since Monday, and I can't feel my toes",
    "my leg went numbing cold after sitting cross-legged",
    "pins-and-needles in the calf; it tingles when I walk",
    "the tingling started after walking 5km (about 3 miles)",
    "I walked 3weeks ago and then it stopped",
    "I'm diabetic: is that why my foot's numb?",
    "diabetes runs in my family, my thigh tingled",
    "back pain and sciatica down the right leg",
    "100% numb, call 911? or e-mail me at jo@example.com",
    "see http://example.org/legs for a picture of my knee",
    "NOT sure AND it comes OR goes NEAR my ankle",
    "feet feel heavy & weak... weaker each day",
    "it's my heel's skin, it burns; burning at night",
    "nothing unusual, just checking",
]
QUERIES = [
    "numb", "NUMBNESS", "numbing", "numb foot", "left foot numb", "tingle", "tingling", "walk", "walked", "walking",
    "can't", "can", "cross-legged", "legged", "pins", "needles", "3", "3weeks", "5km", "911", "100%", "100",
    "example", "com", "jo", "http", "org", "feet", "foot", "foot's", "diabetes", "diabetic", "sciatica",
    "weak", "weaker", "burn", "burns", "heel", "not", "and", "or", "near", "NOT sure", "*", '"', "numb*",
    "zebra", "my leg", "my", "the", "it", "i", "a1b2", "a1b2c3d4", "ab", "0", "e", "café", "knee!", "(about",
    "numb zebra", "diabetic foot", "weekly", "week",
]


def _sender(number: int) -> str:
    return hashlib.sha256(f"sender-{number}".encode()).hexdigest()[:32]


SENDERS = [_sender(n) for n in range(len(TEXTS))] + ["a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "ab" + "0" * 30]


def _fill(url: str) -> None:
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            for number, sender in enumerate(SENDERS):
                start = 1_700_000_000.0 + 3600 * number
                events = [*session_start(start), user(start + 1, TEXTS[number % len(TEXTS)]), bot(start + 2, "Since when?")]
                if number % 3 == 0:  # a second message: words may be spread over a conversation's messages
                    events.append(user(start + 3, TEXTS[(number + 5) % len(TEXTS)]))
                store_records(session, transcript_records(sender, events, 0))
    finally:
        engine.dispose()


def matches(url: str, queries: List[str]) -> Dict[str, List[str]]:
    """For each query, the senders of the conversations it finds, in list order."""
    engine = make_engine(url)
    try:
        found = {}
        with make_session_factory(engine)() as session:
            for query in queries:
                page = conversation_page(session, ConversationFilter.from_args({"q": query}), size=1000)
                found[query] = [c.sender for c in page.items]
        return found
    finally:
        engine.dispose()


@pytest.fixture
def both(tmp_path, postgres_server):
    sqlite = TestDatabase.sqlite(tmp_path)
    postgres_url = postgres_server.create_database()
    try:
        for url in (sqlite.url, postgres_url):
            upgrade_to_head(url)
            _fill(url)
        yield sqlite.url, postgres_url
    finally:
        postgres_server.drop_database(postgres_url)


def test_sqlite_and_postgresql_find_the_same_conversations_for_the_same_words(both):
    sqlite_url, postgres_url = both
    on_sqlite, on_postgres = matches(sqlite_url, QUERIES), matches(postgres_url, QUERIES)
    assert on_sqlite == on_postgres
    # Not the same because both find nothing: most queries find something.
    assert sum(1 for found in on_sqlite.values() if found) > len(QUERIES) * 2 // 3


def test_words_are_stemmed_every_word_is_required_and_nothing_is_an_operator(both):
    for url in both:
        found = matches(url, ["numb", "numbness", "walking", "diabetes", "numb zebra", "NOT sure", "*", "café", "a1b2"])

        def texts(query):
            return {TEXTS[SENDERS.index(s) % len(TEXTS)] for s in found[query] if SENDERS.index(s) < len(TEXTS)}

        assert found["numb"] == found["numbness"] and len(found["numb"]) >= 4  # numb, numbness, numbing
        assert TEXTS[5] in texts("walking") and TEXTS[3] in texts("walking")  # walk, walked
        assert TEXTS[6] in texts("diabetes") and TEXTS[7] in texts("diabetes")  # diabetic, diabetes
        assert found["numb zebra"] == [] and found["*"] == SENDERS_IN_LIST_ORDER(url)  # no word: no search
        assert TEXTS[11] in texts("NOT sure")  # NOT is a word here, not FTS5's operator
        assert found["a1b2"] == ["a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"]  # a sender pseudonym's first characters


def SENDERS_IN_LIST_ORDER(url):  # noqa: N802 - reads as the constant it stands for
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(Conversation.sender).order_by(Conversation.started_at.desc())))
    finally:
        engine.dispose()


def test_the_stemmer_is_snowball_english_as_nltk_has_it():
    """bot/staff/stemmer.py is written from the algorithm; NLTK's copy (a locked dependency) is the reference."""
    import glob
    import re
    from pathlib import Path

    from nltk.stem.snowball import EnglishStemmer

    from bot.settings import PROJECT_ROOT
    from bot.staff.stemmer import stem

    words = set(TEXTS[0].split())
    for path in glob.glob(str(PROJECT_ROOT / "data" / "**" / "*.yml"), recursive=True):
        words |= set(re.findall(r"[a-z]+", Path(path).read_text(encoding="utf-8").lower()))
    words |= {"generously", "communication", "arsenal", "skies", "dying", "innings", "proceeded", "hopping",
              "hoping", "fizzed", "agreed", "feed", "cry", "sayyy", "yell", "bellyful", "controlling", "fully"}
    reference = EnglishStemmer()
    assert len(words) > 500
    assert {w: stem(w) for w in words if stem(w) != reference.stem(w)} == {}


def test_best_match_first_when_asked_and_the_list_order_otherwise(both):
    for url in both:
        engine = make_engine(url)
        try:
            with transaction(make_session_factory(engine)) as session:
                for sender, text_ in (("f" * 32, "sciatica"), ("e" * 32, "sciatica sciatica, sciatica in both legs")):
                    events = [*session_start(1_600_000_000.0 + len(text_)), user(1_600_000_001.0 + len(text_), text_)]
                    store_records(session, transcript_records(sender, events, 0))
            with make_session_factory(engine)() as session:
                def senders(**args):
                    page = conversation_page(session, ConversationFilter.from_args(args), size=10)
                    return [c.sender for c in page.items]

                ranked = senders(q="sciatica", order="best")
                assert ranked[0] == "e" * 32 and set(ranked) == set(senders(q="sciatica"))
                assert senders(q="sciatica") == [s for s in SENDERS_IN_LIST_ORDER(url) if s in ranked]
                assert senders(q="a1b2", order="best") == senders(q="a1b2")  # a sender prefix alone: nothing to rank by
        finally:
            engine.dispose()
