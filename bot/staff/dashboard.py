"""The dashboard: conversations by day, week and triage level, red flags, channels, the share that
reached a decision and the time from an emergency to its review, over the list's own filters.

The figures are a few GROUP BY queries over indexed columns of the conversations table (started_at,
triage_level, channel, emergency); only the red flags and the review times read rows, and only
those of emergencies. Charts are SVG drawn here, on the server: the staff pages allow no script.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Tuple

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..store.models import Conversation
from ..triage.levels import LEVELS, RULE_LEVELS
from . import db, now
from .auth import login_required
from .queries import LEVEL_CHOICES, ConversationFilter, channels

blueprint = Blueprint("dashboard", __name__)
NO_DECISION = "no decision"
SERIES = LEVELS + (NO_DECISION,)  # most urgent first, as the list orders them
COLOURS = {"emergency": "#b3261e", "doctor": "#b26a00", "self_care": "#2e7d32", "undetermined": "#5f6b7a",
           NO_DECISION: "#a9b4c2"}
TOP_RED_FLAGS = 10
DEFAULT_DAYS = 90  # the range when none is chosen: the last 90 days
MAX_DAYS_SHOWN = 92  # a longer range shows weeks only (a bar and a table row a day would be too many)


@dataclass
class Figures:
    by_day: Dict[str, Counter] = field(default_factory=dict)  # "2024-03-01" -> level -> conversations
    red_flags: List[Tuple[str, int]] = field(default_factory=list)
    channels: List[Tuple[str, int]] = field(default_factory=list)
    total: int = 0
    decided: int = 0
    review_hours: List[float] = field(default_factory=list)  # emergency conversations reviewed: hours to review

    @property
    def by_week(self) -> Dict[str, Counter]:
        weeks: Dict[str, Counter] = defaultdict(Counter)
        for day, counts in self.by_day.items():
            year, week, _ = dt.date.fromisoformat(day).isocalendar()
            weeks[f"{year}-W{week:02d}"].update(counts)
        return dict(sorted(weeks.items()))

    @property
    def decided_share(self) -> Optional[float]:
        return self.decided / self.total if self.total else None

    @property
    def review_median_hours(self) -> Optional[float]:
        return statistics.median(self.review_hours) if self.review_hours else None

    @property
    def review_worst_hours(self) -> Optional[float]:
        return max(self.review_hours) if self.review_hours else None


def figures(session: Session, filters: ConversationFilter) -> Figures:
    filters = _without_a_range_that_holds_everything(session, filters)
    day = func.date(Conversation.started_at)
    out = Figures()
    rows = session.execute(filters.where(
        select(day, Conversation.triage_level, func.count()).group_by(day, Conversation.triage_level), session))
    by_day: Dict[str, Counter] = defaultdict(Counter)
    for when, level, count in rows:
        by_day[str(when)[:10]][level or NO_DECISION] += count
        out.total += count
        out.decided += count if level in RULE_LEVELS else 0  # emergency, doctor or self-care
    out.by_day = dict(sorted(by_day.items()))
    out.channels = [(name or "unknown", count) for name, count in session.execute(filters.where(
        select(Conversation.channel, func.count()).group_by(Conversation.channel), session)).all()]
    out.channels.sort(key=lambda pair: (-pair[1], pair[0]))
    flags: Counter = Counter()
    emergencies = filters.where(select(Conversation.red_flags, Conversation.started_at, Conversation.reviewed_at)
                                .where(Conversation.emergency.is_(True)), session)
    for red_flags, started_at, reviewed_at in session.execute(emergencies):
        flags.update(red_flags or [])
        if reviewed_at is not None:
            out.review_hours.append(max(0.0, (reviewed_at - started_at).total_seconds() / 3600))
    out.red_flags = sorted(flags.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP_RED_FLAGS]
    return out


def _without_a_range_that_holds_everything(session: Session, filters: ConversationFilter) -> ConversationFilter:
    """The same filter without its dates when they hold every conversation anyway: a date range makes
    the database read each row through the started_at index (3.5x slower at 100,000 conversations)
    where a whole-table count reads only the covering level index."""
    if not (filters.date_from or filters.date_to):
        return filters
    oldest, newest = session.execute(select(func.min(Conversation.started_at), func.max(Conversation.started_at))).one()
    if oldest is None:
        return filters
    from_holds = filters.date_from is None or filters.date_from <= oldest.date()
    to_holds = filters.date_to is None or filters.date_to >= newest.date()
    return replace(filters, date_from=None, date_to=None) if from_holds and to_holds else filters


def stacked_bars(rows: Dict[str, Counter], title: str) -> Markup:
    """A stacked bar chart (one bar per row key, one colour per level) as inline SVG."""
    width, height, left, bottom = 720, 220, 40, 40
    keys = list(rows)
    tallest = max((sum(c.values()) for c in rows.values()), default=0) or 1
    step = (width - left - 10) / max(len(keys), 1)
    bar = max(1.0, step * 0.8)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="t-{escape(title)}" class="chart"><title id="t-{escape(title)}">{escape(title)}</title>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#5f6b7a"/>',
             f'<text x="{left - 6}" y="16" text-anchor="end" font-size="11">{tallest}</text>',
             f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" font-size="11">0</text>']
    for index, key in enumerate(keys):
        x, y = left + index * step, height - bottom
        for level in SERIES:
            count = rows[key].get(level, 0)
            if not count:
                continue
            h = (height - bottom - 10) * count / tallest
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{COLOURS[level]}">'
                         f'<title>{escape(key)}: {count} {escape(level)}</title></rect>')
        if len(keys) <= 16 or index % max(1, len(keys) // 8) == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                         f'font-size="10">{escape(key[5:] if len(key) == 10 else key)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(pairs: List[Tuple[str, int]], title: str, colour: str = "#1f5fbf") -> Markup:
    width, row, left = 720, 22, 260
    most = max((count for _, count in pairs), default=0) or 1
    height = row * max(len(pairs), 1) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="t-{escape(title)}" class="chart"><title id="t-{escape(title)}">{escape(title)}</title>']
    for index, (name, count) in enumerate(pairs):
        y = 5 + index * row
        w = (width - left - 60) * count / most
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" font-size="12">{escape(name)}</text>'
                     f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{colour}"/>'
                     f'<text x="{left + w + 6:.1f}" y="{y + 14}" font-size="12">{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def csv_text(found: Figures) -> str:
    """Every figure as rows of (figure, key, level, value)."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(["figure", "key", "level", "value"])
    for day, counts in found.by_day.items():
        for level in SERIES:
            if counts.get(level):
                out.writerow(["conversations_per_day", day, level, counts[level]])
    for week, counts in found.by_week.items():
        for level in SERIES:
            if counts.get(level):
                out.writerow(["conversations_per_week", week, level, counts[level]])
    out.writerows(["red_flag", name, "", count] for name, count in found.red_flags)
    out.writerows(["channel", name, "", count] for name, count in found.channels)
    out.writerow(["conversations", "", "", found.total])
    out.writerow(["reached_a_decision", "", "", found.decided])
    for name, value in (("hours_to_review_median", found.review_median_hours), ("hours_to_review_worst", found.review_worst_hours)):
        out.writerow([name, "", "emergency", "" if value is None else round(value, 2)])
    return buffer.getvalue()


def _chosen() -> Tuple[ConversationFilter, Figures]:
    filters = ConversationFilter.from_args(request.args)
    if not (request.args.get("from") or request.args.get("to")):
        filters = replace(filters, date_from=now().date() - dt.timedelta(days=DEFAULT_DAYS - 1))
    return filters, figures(db(), filters)


def _days_shown(filters: ConversationFilter, found: Figures) -> bool:
    """Whether the chosen range (or, where it is open, the data) is short enough to show each day."""
    if not found.by_day:
        return True
    first = filters.date_from or dt.date.fromisoformat(min(found.by_day))
    last = filters.date_to or dt.date.fromisoformat(max(found.by_day))
    return (last - first).days < MAX_DAYS_SHOWN


@blueprint.route("/dashboard")
@login_required
def dashboard():
    filters, found = _chosen()
    days_shown = _days_shown(filters, found)
    return render_template(
        "dashboard.html", found=found, filters=filters, filter_args=filters.to_args(), levels=LEVEL_CHOICES,
        channels=channels(db()), series=SERIES, colours=COLOURS, days_shown=days_shown, max_days=MAX_DAYS_SHOWN,
        by_day_chart=stacked_bars(found.by_day, "Conversations per day by triage level") if days_shown else "",
        by_week_chart=stacked_bars(found.by_week, "Conversations per week by triage level"),
        red_flag_chart=horizontal_bars(found.red_flags, "Red flags found most often", COLOURS["emergency"]),
        channel_chart=horizontal_bars(found.channels, "Conversations by channel"),
    )


@blueprint.route("/dashboard.csv")
@login_required
def dashboard_csv():
    _filters, found = _chosen()
    return Response(csv_text(found), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="dashboard.csv"'})
