"""The conversation list: filters, search, order and pages. Shared by the pages and the export command."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from ..store.models import Conversation, Message, TriageDecision
from ..triage.rulebook import RULE_LEVELS

NO_DECISION = "none"
LEVEL_CHOICES = RULE_LEVELS + (NO_DECISION,)
MAX_SEARCH_WORDS = 8


class FilterError(ValueError):
    """A filter value we cannot use; the message is shown to the person."""


@dataclass(frozen=True)
class ConversationFilter:
    level: Optional[str] = None  # a triage level, or NO_DECISION
    date_from: Optional[dt.date] = None  # started on or after (UTC)
    date_to: Optional[dt.date] = None  # started on or before (UTC)
    channel: Optional[str] = None
    reviewed: Optional[bool] = None
    search: str = ""  # every word must occur in a message (any case), or the sender must start with it
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
        }
        return {key: value for key, value in args.items() if value}

    def where(self, query: Select) -> Select:
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
        for word in self.search.split():
            in_messages = exists().where(
                Message.conversation_id == Conversation.id, func.lower(Message.text).contains(word.lower(), autoescape=True)
            )
            query = query.where(or_(in_messages, Conversation.sender.startswith(word.lower(), autoescape=True)))
        return query


def _date(raw: Optional[str], name: str, problems: List[str]) -> Optional[dt.date]:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(f"the {name} date must look like 2024-01-31, got {raw!r}")
        return None


# Unreviewed emergencies first, whatever their age; then newest first.
LIST_ORDER = (
    case((and_(Conversation.emergency.is_(True), Conversation.reviewed_at.is_(None)), 0), else_=1),
    Conversation.started_at.desc(),
    Conversation.id.desc(),
)


MAX_ID = 2**63 - 1  # the largest integer SQLite (and PostgreSQL's BIGINT) stores


@dataclass(frozen=True)
class Page:
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


def conversation_page(session: Session, filters: ConversationFilter, number: int, size: int) -> Page:
    return paginate(session, filters.where(select(Conversation)).order_by(*LIST_ORDER), number, size)


def matching_conversations(session: Session, filters: ConversationFilter) -> List[Conversation]:
    """Every conversation the filter selects, with its messages loaded (exports)."""
    query = (
        filters.where(select(Conversation))
        .order_by(*LIST_ORDER)
        .options(selectinload(Conversation.messages).selectinload(Message.decision))
    )
    return list(session.scalars(query).all())


def channels(session: Session) -> List[str]:
    query = select(Conversation.channel).where(Conversation.channel.isnot(None)).distinct().order_by(Conversation.channel)
    return list(session.scalars(query).all())


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
