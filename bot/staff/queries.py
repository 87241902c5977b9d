"""The conversation list: filters, the channel choices, one transcript, and what exports read.

Shared by the pages and the export command; search.py answers the search box, pages.py the pages.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import String, func, select, text, type_coerce
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.sql import Select

from ..store.models import Conversation, Message, TriageDecision
from ..triage.levels import RULE_LEVELS
from .pages import COUNT_CAP, MAX_ID, Cursor, capped_count, list_page, older_than
from .search import best_first, search_condition

NO_DECISION = "none"
LEVEL_CHOICES = RULE_LEVELS + (NO_DECISION,)
MAX_SEARCH_WORDS = 8
BEST_FIRST = "best"  # ?order=best


class FilterError(ValueError):
    """A filter value we cannot use; the message is shown to the person."""


@dataclass(frozen=True)
class ConversationFilter:
    level: Optional[str] = None  # a triage level, or NO_DECISION
    date_from: Optional[dt.date] = None  # started on or after (UTC)
    date_to: Optional[dt.date] = None  # started on or before (UTC)
    channel: Optional[str] = None
    reviewed: Optional[bool] = None
    search: str = ""  # every word must occur in the conversation (stemmed, any case), or the sender must start with it
    best_first: bool = False  # with a search: the best matches first instead of the list order
    problems: List[str] = field(default_factory=list, compare=False)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "ConversationFilter":
        """From a query string; a value that makes no sense is dropped and named in `problems`."""
        problems: List[str] = []
        level = args.get("level") or None
        if level and level not in LEVEL_CHOICES:
            problems.append(f"unknown triage level {level!r}")
            level = None
        reviewed = {"yes": True, "no": False}.get(args.get("reviewed") or "")
        return cls(
            level=level,
            date_from=_date(args.get("from"), "from", problems),
            date_to=_date(args.get("to"), "to", problems),
            channel=args.get("channel") or None,
            reviewed=reviewed,
            search=" ".join((args.get("q") or "").split()[:MAX_SEARCH_WORDS]),
            best_first=args.get("order") == BEST_FIRST,
            problems=problems,
        )

    def to_args(self) -> Dict[str, str]:
        """The query string that gives this filter back (for page links and export links)."""
        args = {
            "level": self.level or "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "channel": self.channel or "",
            "reviewed": {True: "yes", False: "no"}.get(self.reviewed, ""),
            "q": self.search,
            "order": BEST_FIRST if self.best_first and self.search else "",
        }
        return {key: value for key, value in args.items() if value}

    def where(self, query: Select, session: Session) -> Select:
        """`query` narrowed to this filter; the session tells the database kind (the search differs)."""
        if self.level == NO_DECISION:
            query = query.where(Conversation.triage_level.is_(None))
        elif self.level:
            query = query.where(Conversation.triage_level == self.level)
        if self.date_from:
            query = query.where(Conversation.started_at >= dt.datetime.combine(self.date_from, dt.time.min))
        if self.date_to:
            query = query.where(Conversation.started_at < dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min))
        if self.channel:
            query = query.where(Conversation.channel == self.channel)
        if self.reviewed is not None:
            query = query.where(Conversation.reviewed_at.isnot(None) if self.reviewed else Conversation.reviewed_at.is_(None))
        searched = search_condition(session, self.search)
        return query if searched is None else query.where(searched)


def _date(raw: Optional[str], name: str, problems: List[str]) -> Optional[dt.date]:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(f"the {name} date must look like 2024-01-31, got {raw!r}")
        return None


EXPORT_BATCH = 500  # conversations read at a time by an export


@dataclass(frozen=True)
class Page:
    """A page of a short list by number (the audit log); the conversation list uses pages.ListPage."""

    items: List[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


def paginate(session: Session, query: Select, number: int, size: int) -> Page:
    """One page of an ordered query; a page number past the end gives the last page."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    number = min(max(1, number), max(1, math.ceil(total / size)))
    items = session.scalars(query.limit(size).offset((number - 1) * size)).all()
    return Page(list(items), number, size, total)


@dataclass(frozen=True)
class RankedPage:
    """A page of search results best match first: by number (OFFSET) among the best COUNT_CAP matches."""

    items: List[Any]
    number: int
    size: int
    total: int  # at most COUNT_CAP + 1
    ranked = True

    @property
    def total_is_capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, math.ceil(min(self.total, COUNT_CAP) / self.size))


def conversation_page(session: Session, filters: ConversationFilter, size: int, number: int = 1,
                      after: Optional[str] = None, before: Optional[str] = None, last: bool = False):
    """A ListPage in list order, or (a search asked best match first) a RankedPage."""
    base = filters.where(select(Conversation), session)
    ranked = best_first(session, base, filters.search) if filters.best_first else None
    if ranked is None:
        return list_page(session, base, size, number=number, after=after, before=before, last=last)
    total = capped_count(session, base)
    number = min(max(1, number), max(1, math.ceil(min(total, COUNT_CAP) / size)))
    items = list(session.scalars(ranked.limit(size).offset((number - 1) * size)))
    return RankedPage(items, number, size, total)


# What an export reads of a conversation and of each message, as plain rows (no ORM objects pile up).
EXPORT_CONVERSATION = (Conversation.id, Conversation.channel, Conversation.sender, Conversation.started_at,
                       Conversation.triage_level, Conversation.emergency, Conversation.reviewed_at, Conversation.summary)


def _message_columns(session: Session, with_details: bool) -> tuple:
    # SQLite keeps a time as text ("2024-03-01 09:00:01.000000"): read as is, export.utc_iso rewrites it
    # faster than SQLAlchemy would parse it into a datetime. PostgreSQL sends datetimes.
    at = Message.at
    if session.get_bind().dialect.name == "sqlite":
        at = type_coerce(Message.at, String)
    columns = (Message.conversation_id, at.label("at"), Message.speaker, Message.text)
    if with_details:  # the CSV's columns
        columns += (Message.intent, Message.confidence, TriageDecision.level.label("decision_level"),
                    TriageDecision.rules.label("decision_rules"))
    return columns


def _with_messages(session: Session, conversations: List[Any], with_details: bool) -> List[Tuple[Any, List[Any]]]:
    messages: Dict[int, List[Any]] = {row.id: [] for row in conversations}
    query = select(*_message_columns(session, with_details))
    if with_details:
        query = query.outerjoin(TriageDecision, TriageDecision.message_id == Message.id)
    query = query.where(Message.conversation_id.in_(list(messages))).order_by(Message.conversation_id, Message.at, Message.id)
    for row in session.connection().execute(query):
        messages[row.conversation_id].append(row)
    return [(row, messages[row.id]) for row in conversations]


def export_batches(sessions: sessionmaker, filters: Optional[ConversationFilter] = None,
                   ids: Optional[Sequence[int]] = None, with_details: bool = True) -> Iterator[List[Tuple[Any, List[Any]]]]:
    """The conversations an export takes, in list order (or in the order of `ids`), each with its messages,
    EXPORT_BATCH at a time, each batch in a short transaction of its own: memory stays flat, and a long
    export holds no snapshot open (SQLite's WAL can be checkpointed, PostgreSQL can vacuum).
    `with_details`: each message's intent, confidence and decision too (the CSV has them, JSON not)."""
    if ids is not None:
        wanted = [i for i in ids if 1 <= i <= MAX_ID]
        for start in range(0, len(wanted), EXPORT_BATCH):
            chunk = wanted[start:start + EXPORT_BATCH]
            with sessions() as session, session.begin():
                query = select(*EXPORT_CONVERSATION).where(Conversation.id.in_(chunk))
                found = {row.id: row for row in session.connection().execute(query)}
                batch = _with_messages(session, [found[i] for i in chunk if i in found], with_details)
            if batch:
                yield batch
        return
    after: Optional[Cursor] = None
    while True:
        with sessions() as session, session.begin():
            base = (filters or ConversationFilter()).where(select(*EXPORT_CONVERSATION), session)
            rows = older_than(session, base, after, EXPORT_BATCH, entities=False)
            batch = _with_messages(session, rows, with_details) if rows else []
        if not batch:
            return
        yield batch
        if len(rows) < EXPORT_BATCH:
            return
        after = Cursor.of(rows[-1])


def existing_ids(session: Session, ids: Sequence[int]) -> List[int]:
    wanted = [i for i in ids if 1 <= i <= MAX_ID]
    return list(session.scalars(select(Conversation.id).where(Conversation.id.in_(wanted)))) if wanted else []


# Each step finds the next channel in the channel index: as many index reads as there are channels,
# whatever the number of conversations (a DISTINCT would read every row).
CHANNELS = text("""
    WITH RECURSIVE found(channel) AS (
        SELECT min(channel) FROM transcript_conversations
        UNION ALL
        SELECT (SELECT min(channel) FROM transcript_conversations WHERE channel > found.channel)
        FROM found WHERE found.channel IS NOT NULL
    )
    SELECT channel FROM found WHERE channel IS NOT NULL
""")


def channels(session: Session) -> List[str]:
    return list(session.scalars(CHANNELS))


def load_conversation(session: Session, conversation_id: int) -> Optional[Conversation]:
    if not 1 <= conversation_id <= MAX_ID:  # no row has it, and SQLite's driver raises OverflowError past MAX_ID
        return None
    query = (
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .options(
            selectinload(Conversation.messages).selectinload(Message.decision),
            selectinload(Conversation.notes),
            selectinload(Conversation.decisions).selectinload(TriageDecision.message),
        )
    )
    return session.scalar(query)
