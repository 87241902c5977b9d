"""The search box, answered by the database's own full-text index (`transcript_search`, revision 0004).

Every word must occur in the conversation (in any of its messages), in any of its forms, or the
sender pseudonym must start with it. A word is cut into the letters and digits it holds, as the
index cut the messages ("can't" is "can" and "t"); a word with neither is ignored. Its forms are
those that share its Snowball (Porter 2) stem (stemmer.py), as a search engine stems English: "walking" finds
walk, walks, walked and walking, "numbness" finds numb, "diabetes" finds diabetic, "number" does
not find numb. The index holds the words as written, so the stemming happens here, the same for
SQLite (FTS5) and PostgreSQL (tsvector): both give the same matches.
"""
from __future__ import annotations

import functools
import itertools
import re
from typing import List, Optional, Tuple

from sqlalchemy import and_, column, false, func, literal_column, or_, select, table, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from ..store.models import Conversation
from ..store.models.search_index import SEARCH_TABLE
from .stemmer import stem

WORD_PIECES = re.compile(r"[^\W_]+")  # letters and digits, as FTS5's unicode61 and the PostgreSQL revision cut text
PSEUDONYM = re.compile(r"[0-9a-f]+")  # what a sender pseudonym is made of (hex HMAC)

_pg_search = table(SEARCH_TABLE, column("conversation_id"), column("document"))
_names = itertools.count()
# With fewer matches than this, a search reads their ids first (see `_in_text`).
BROAD_MATCHES = 3000
_PG_CONFIG = literal_column("'simple'::regconfig")  # as the documents (revision 0004)


# Endings that make the forms of an English word from its stem; a form counts only when the stemmer
# takes it back to the same stem, so a long list costs nothing in precision.
ENDINGS = (
    "", "s", "es", "e", "ed", "d", "ing", "ings", "er", "ers", "est", "ly", "ily", "ness", "nesses", "y", "ies",
    "ied", "ier", "iest", "iness", "ic", "ics", "ical", "ically", "ity", "ities", "al", "ally", "ation", "ations",
    "ment", "ments", "ful", "fully", "less", "ous", "ously", "ive", "ively", "able", "ably", "ism", "ist", "ists",
    "ise", "ised", "ize", "ized", "ization", "ence", "ences", "ance", "ances", "ent", "ant", "ency", "ancy",
)
MAX_FORMS = 40  # per word; FTS5 and GIN read one term list per form


@functools.lru_cache(maxsize=4096)
def forms(piece: str) -> Tuple[str, ...]:
    """The piece itself and the forms that share its stem ("tingling": tingle, tingled, tingles, tingling...),
    the commoner endings first."""
    root = stem(piece)
    if not root.isalpha() or len(root) < 2:  # numbers, codes, single letters: as written
        return (piece,)
    bases = [root]
    if root.endswith("i"):
        bases += [root[:-1] + "y", root[:-1]]  # heavi -> heavy; tri -> tries, tried
    found = {piece: None}
    for ending in ENDINGS:
        doubled = ending[:1] in VOWELS and _doubles(root)
        for base in bases + ([root + root[-1]] if doubled else []):  # run -> running
            form = base + ending
            if form not in found and stem(form) == root:
                found[form] = None
    return tuple(found)[:MAX_FORMS]


VOWELS = set("aeiouy")


def _doubles(root: str) -> bool:
    """A consonant after a single vowel doubles before a vowel ending (run, running; stop, stopped)."""
    return (len(root) >= 3 and root[-1] not in VOWELS | set("wx") and root[-2] in VOWELS and root[-3] not in VOWELS)


def pieces(word: str) -> List[str]:
    return WORD_PIECES.findall(word.lower())


def search_condition(session: Session, search: str) -> Optional[ColumnElement]:
    """The WHERE condition on Conversation for the words of `search`; None when it has no word to look for."""
    plain: List[List[str]] = []  # pieces that must be in the text
    either: List[Tuple[List[str], str]] = []  # (pieces, prefix): in the text, or the sender starts with the word
    for word in search.lower().split():
        if PSEUDONYM.fullmatch(word):
            either.append((pieces(word), word))
        elif pieces(word):
            plain.append(pieces(word))
    if not plain and not either:
        return None
    conditions = []
    if plain:
        conditions.append(_in_text(session, [piece for group in plain for piece in group]))
    for word_pieces, prefix in either:
        conditions.append(or_(_in_text(session, word_pieces), _sender_starts_with(prefix)))
    return and_(*conditions)


def _in_text(session: Session, words: List[str]) -> ColumnElement:
    """Conversations that hold every word. When few do, their ids are read from the index first and the
    list looks them up (cheap, and the planner need not guess how many match: PostgreSQL guesses badly
    for a word it has no statistics on); when many do, the list is walked in order and each row checked."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        name = f"fts_{next(_names)}"  # one search may hold several of these: each its own parameter
        matches = (select(literal_column("rowid")).select_from(text(SEARCH_TABLE))
                   .where(text(f"{SEARCH_TABLE} MATCH :{name}").bindparams(**{name: fts5_query(words)})))
        few = list(session.scalars(matches.limit(BROAD_MATCHES)))
    else:
        query = func.to_tsquery(_PG_CONFIG, tsquery(words))
        matches = select(_pg_search.c.conversation_id).where(_pg_search.c.document.op("@@")(query))
        # The query as a sub-select: the planner then assumes few matches and reads the GIN index, where a
        # constant query with many forms it has no statistics on looks common enough for a full scan.
        probe = select(_pg_search.c.conversation_id).where(_pg_search.c.document.op("@@")(select(query).scalar_subquery()))
        few = list(session.scalars(probe.limit(BROAD_MATCHES)))
    if len(few) < BROAD_MATCHES:
        return Conversation.id.in_(few) if few else false()
    if sqlite:
        # SQLite reads the matches once into a temporary b-tree and walks the list's own index, checking
        # each row in it, until the page is full. The unary + keeps it from looking every match up.
        return literal_column(f"+{Conversation.__tablename__}.id").in_(matches)
    return Conversation.id.in_(matches)


def best_first(session: Session, query: Select, search: str) -> Optional[Select]:
    """`query` (of Conversation, the search already applied) ordered by how well each conversation matches
    the words of `search`, best first (SQLite: FTS5's bm25; PostgreSQL: ts_rank), then newest first.
    None when the search has no word to rank by (only sender prefixes, or nothing)."""
    words = [piece for word in search.lower().split() if not PSEUDONYM.fullmatch(word) for piece in pieces(word)]
    if not words:
        return None
    then = (Conversation.started_at.desc(), Conversation.id.desc())
    if session.get_bind().dialect.name == "sqlite":
        name = f"fts_{next(_names)}"
        fts = table(SEARCH_TABLE, column("rowid"))
        return (query.join(fts, fts.c.rowid == Conversation.id)
                .where(text(f"{SEARCH_TABLE} MATCH :{name}").bindparams(**{name: fts5_query(words)}))
                .order_by(text(f"bm25({SEARCH_TABLE})"), *then))  # bm25: lower is better
    score = func.ts_rank(_pg_search.c.document, func.to_tsquery(_PG_CONFIG, tsquery(words)))
    return query.join(_pg_search, _pg_search.c.conversation_id == Conversation.id).order_by(score.desc(), *then)


def _sender_starts_with(prefix: str) -> ColumnElement:
    """A range on the sender index (LIKE 'x%' uses no index on SQLite); `prefix` is hex, so the next character exists."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(Conversation.sender >= prefix, Conversation.sender < upper)


def fts5_query(words: List[str]) -> str:
    """Every word in one of its forms, each quoted (so that AND, OR, NOT, NEAR and * are words, not operators)."""
    return " AND ".join("(" + " OR ".join(f'"{form}"' for form in forms(word)) + ")" for word in words)


def tsquery(words: List[str]) -> str:
    """The same for PostgreSQL's to_tsquery: pieces hold only letters and digits, so no operator gets in."""
    return " & ".join("(" + " | ".join(forms(word)) + ")" for word in words)
