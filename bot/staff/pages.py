"""Pages of the conversation list that cost the same on page 1 and on page 4,000: keyset (seek) pagination.

The list order is two runs, each newest first: the unreviewed emergencies (a partial index holds
them), then everything else (the (started_at, id) index). A page link carries the position of
the row it continues from (a `Cursor`), so a page reads its 25 rows from the index and no more,
whatever its depth. "Newest" and "oldest" are the two ends; "newer" reads backwards from the
first row shown. The count above the list is capped (`COUNT_CAP`), so it never reads every row.
A bare `?page=N` (old links, bookmarks) still works, with OFFSET.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any, List, Optional

from sqlalchemy import and_, case, false, func, or_, select, true, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from ..store.models import Conversation

COUNT_CAP = 10_000  # beyond this the list says "more than 10,000"
MAX_ID = 2**63 - 1  # the largest integer SQLite (and PostgreSQL's BIGINT) stores
TO_REVIEW, THE_REST = 0, 1  # the two runs, in list order


def in_run(run: int) -> ColumnElement:
    """Spelled as the partial index's WHERE clause, so that the database can use it."""
    to_review = and_(Conversation.emergency == true(), Conversation.reviewed_at.is_(None))
    return to_review if run == TO_REVIEW else or_(Conversation.emergency == false(), Conversation.reviewed_at.isnot(None))


# The same order as one expression, for OFFSET (old `?page=N` links) only: no index serves it.
LIST_ORDER = (
    case((and_(Conversation.emergency.is_(True), Conversation.reviewed_at.is_(None)), 0), else_=1),
    Conversation.started_at.desc(),
    Conversation.id.desc(),
)

_CURSOR = re.compile(r"([01])\.(\d{20})\.(\d{1,19})")


@dataclass(frozen=True)
class Cursor:
    """Where a row stands in the list order: its run, its start time and its id."""

    run: int
    started_at: dt.datetime
    id: int

    @classmethod
    def of(cls, row: Any) -> "Cursor":
        run = TO_REVIEW if row.emergency and row.reviewed_at is None else THE_REST
        return cls(run, row.started_at, row.id)

    def encode(self) -> str:
        return f"{self.run}.{self.started_at:%Y%m%d%H%M%S%f}.{self.id}"

    @classmethod
    def decode(cls, raw: Optional[str]) -> Optional["Cursor"]:
        """None for anything that is not a cursor this module wrote (the link then means the first page)."""
        found = _CURSOR.fullmatch(raw or "")
        if not found:
            return None
        try:
            cursor = cls(int(found.group(1)), dt.datetime.strptime(found.group(2), "%Y%m%d%H%M%S%f"), int(found.group(3)))
        except ValueError:
            return None
        return cursor if cursor.id <= MAX_ID else None  # past it SQLite's driver raises OverflowError


def _seek(session: Session, base: Select, run: int, bound: Optional[Cursor], older: bool, limit: int,
          entities: bool) -> List[Any]:
    """Up to `limit` rows of one run after `bound` (towards older rows when `older`, else newer)."""
    query = base.where(in_run(run))
    if bound is not None and bound.run == run:
        key, at = tuple_(Conversation.started_at, Conversation.id), tuple_(bound.started_at, bound.id)
        query = query.where(key < at if older else key > at)
    if older:
        query = query.order_by(Conversation.started_at.desc(), Conversation.id.desc())
    else:
        query = query.order_by(Conversation.started_at.asc(), Conversation.id.asc())
    if entities:
        return list(session.scalars(query.limit(limit)))
    return list(session.connection().execute(query.limit(limit)))  # plain rows: no ORM loading


def older_than(session: Session, base: Select, after: Optional[Cursor], limit: int, entities: bool = True) -> List[Any]:
    """Up to `limit` rows that follow `after` in list order (from the top when None)."""
    rows: List[Any] = []
    for run in range(after.run if after else TO_REVIEW, THE_REST + 1):
        rows += _seek(session, base, run, after, True, limit - len(rows), entities)
        if len(rows) >= limit:
            break
    return rows


def newer_than(session: Session, base: Select, before: Optional[Cursor], limit: int) -> List[Any]:
    """Up to `limit` rows that precede `before` in list order (from the bottom when None), in list order."""
    rows: List[Any] = []
    for run in range(before.run if before else THE_REST, TO_REVIEW - 1, -1):
        rows += _seek(session, base, run, before, False, limit - len(rows), True)
        if len(rows) >= limit:
            break
    return rows[::-1]


@dataclass(frozen=True)
class ListPage:
    items: List[Any]
    number: Optional[int]  # None: a page whose place is not known (near the end of a capped list)
    size: int
    total: int  # at most COUNT_CAP + 1
    has_newer: bool
    has_older: bool
    ranked = False  # (queries.RankedPage is the other kind)

    @property
    def total_is_capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def pages(self) -> Optional[int]:
        return None if self.total_is_capped else max(1, math.ceil(self.total / self.size))

    @property
    def pages_at_least(self) -> int:
        return COUNT_CAP // self.size

    @property
    def newer(self) -> Optional[str]:
        return Cursor.of(self.items[0]).encode() if self.items and self.has_newer else None

    @property
    def older(self) -> Optional[str]:
        return Cursor.of(self.items[-1]).encode() if self.items and self.has_older else None


def capped_count(session: Session, base: Select) -> int:
    return session.scalar(
        select(func.count()).select_from(base.with_only_columns(Conversation.id).order_by(None).limit(COUNT_CAP + 1).subquery())
    )


def list_page(session: Session, base: Select, size: int, number: int = 1, after: Optional[str] = None,
              before: Optional[str] = None, last: bool = False) -> ListPage:
    """One page of `base` (a select of Conversation with the filters applied) in list order."""
    total = capped_count(session, base)
    pages = None if total > COUNT_CAP else max(1, math.ceil(total / size))
    after_at, before_at = Cursor.decode(after), Cursor.decode(before)
    if before_at is not None:
        rows = newer_than(session, base, before_at, size + 1)
        if len(rows) > size:
            return ListPage(rows[1:], max(1, number), size, total, True, True)
        # Back at the top (rows were added or reviewed meanwhile): the first page, full.
    elif last:
        # With a known count, the last page holds what is left after the full pages, as with page numbers.
        wanted = size if pages is None else total - (pages - 1) * size
        rows = newer_than(session, base, None, wanted + 1)
        if len(rows) > wanted:
            return ListPage(rows[1:], pages, size, total, True, False)
    elif after_at is not None:
        rows = older_than(session, base, after_at, size + 1)
        return ListPage(rows[:size], max(2, number), size, total, True, len(rows) > size)
    elif number > 1:  # an old `?page=N` link: OFFSET, and past the end means the last page
        if number >= (pages or COUNT_CAP // size + 1):
            return list_page(session, base, size, last=True)
        rows = list(session.scalars(base.order_by(*LIST_ORDER).limit(size + 1).offset((number - 1) * size)))
        if rows:
            return ListPage(rows[:size], number, size, total, True, len(rows) > size)
    rows = older_than(session, base, None, size + 1)
    return ListPage(rows[:size], 1, size, total, False, len(rows) > size)
