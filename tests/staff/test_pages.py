"""Keyset pages of the conversation list: the list order kept across every page, links (plain <a href>,
no script) that go forwards, backwards and to either end, a capped count, old `?page=N` links, and
the channel choices. On SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import re
from typing import List
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from bot.staff import pages
from bot.store.database import make_engine, make_session_factory, transaction
from bot.store.models import Conversation
from bot.store.records import transcript_records
from bot.store.transcripts import store_records

from ..store.events import DOCTOR_TRIAGE, EMERGENCY_TRIAGE, bot, session_start, user
from .conftest import ADMIN, login
from .test_conversations import listed

EXTRA = 19  # with the 5 seeded conversations: 24, eight pages of 3


def _more_conversations(url: str) -> None:
    """Emergencies (some reviewed), other levels, and two conversations that start in the same second."""
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            for number in range(EXTRA):
                start = dt.datetime(2024, 2, 1 + number, 8, tzinfo=dt.timezone.utc).timestamp()
                if number == EXTRA - 1:
                    start = dt.datetime(2024, 2, number, 8, tzinfo=dt.timezone.utc).timestamp()  # a tie
                triage = EMERGENCY_TRIAGE if number % 4 == 0 else DOCTOR_TRIAGE if number % 4 == 1 else None
                events = [*session_start(start), user(start + 1, f"my leg is numb, number {number}"),
                          bot(start + 2, "Please call", triage) if triage else bot(start + 2, "Since when?")]
                store_records(session, transcript_records(f"{number:032x}", events, 0))
            session.flush()
            for conversation in session.scalars(select(Conversation).where(Conversation.emergency.is_(True))):
                if conversation.id % 2:  # half the emergencies reviewed
                    conversation.reviewed_at, conversation.reviewed_by = dt.datetime(2024, 3, 5), "ann"
    finally:
        engine.dispose()


def expected_order(url: str, **where) -> List[int]:
    """The list order, computed in Python from every row: unreviewed emergencies first, then newest first."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.scalars(select(Conversation).filter_by(**where)).all()
            return [c.id for c in sorted(rows, key=lambda c: (not (c.emergency and c.reviewed_at is None),
                                                               -c.started_at.timestamp(), -c.id))]
    finally:
        engine.dispose()


def link(page: str, rel: str):
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def client(app_on_each_database):
    app = app_on_each_database
    _more_conversations(app.extensions["staff"].settings.transcripts_url)
    client = app.test_client()
    login(client, *ADMIN)
    return client


def url_of(client) -> str:
    return client.application.extensions["staff"].settings.transcripts_url


def test_following_the_older_links_walks_the_whole_list_in_order_and_newer_links_walk_back(client):
    order = expected_order(url_of(client))
    assert len(order) == 5 + EXTRA
    seen, visited, path = [], [], "/conversations"
    while path:
        page = client.get(path).get_data(as_text=True)
        visited.append((path, listed(page)))
        seen += listed(page)
        assert f"Page {len(visited)} of 8" in page
        path = link(page, "next")
    assert seen == order
    # Back from the last page by the newer links: the same pages, in reverse.
    back = [listed(page := client.get(visited[-1][0]).get_data(as_text=True))]
    while link(page, "prev"):
        page = client.get(link(page, "prev")).get_data(as_text=True)
        back.append(listed(page))
    assert back[::-1] == [ids for _path, ids in visited]


def test_the_ends_of_the_list_and_links_that_keep_the_filters(client):
    order = expected_order(url_of(client))
    first = client.get("/conversations").get_data(as_text=True)
    assert link(first, "prev") is None and link(first, "first") is None
    last = client.get(link(first, "last")).get_data(as_text=True)
    assert listed(last) == order[-3:] and "Page 8 of 8" in last and link(last, "next") is None
    assert listed(client.get(link(last, "first")).get_data(as_text=True)) == order[:3]

    doctor = client.get("/conversations?level=doctor").get_data(as_text=True)
    older = link(doctor, "next")
    assert parse_qs(urlsplit(older).query)["level"] == ["doctor"]
    walked = listed(doctor) + listed(client.get(older).get_data(as_text=True))
    assert walked[:6] == expected_order(url_of(client), triage_level="doctor")[:6]


def test_an_old_page_number_link_and_a_damaged_cursor_still_give_a_page(client):
    order = expected_order(url_of(client))
    assert listed(client.get("/conversations?page=3").get_data(as_text=True)) == order[6:9]
    assert listed(client.get("/conversations?page=99").get_data(as_text=True)) == order[-3:]  # past the end: the last
    assert listed(client.get("/conversations?after=not-a-cursor").get_data(as_text=True)) == order[:3]
    assert client.get("/conversations?before=1.99999999999999999999.1").status_code == 200


def test_a_review_moves_a_conversation_without_losing_rows_on_the_next_page(client):
    order = expected_order(url_of(client))
    first = client.get("/conversations").get_data(as_text=True)
    engine = make_engine(url_of(client))
    with transaction(make_session_factory(engine)) as session:  # someone reviews the top emergency meanwhile
        session.get(Conversation, order[0]).reviewed_at = dt.datetime(2024, 3, 9)
    engine.dispose()
    second = listed(client.get(link(first, "next")).get_data(as_text=True))
    assert second == order[3:6]  # the page continues where the first one stopped


def test_the_count_is_capped_so_it_never_reads_every_row(client, monkeypatch):
    monkeypatch.setattr(pages, "COUNT_CAP", 10)
    page = client.get("/conversations").get_data(as_text=True)
    assert "more than 10" in page and "Page 1 of more than 3" in page
    last = client.get(link(page, "last")).get_data(as_text=True)
    assert "Last page" in last and len(listed(last)) == 3


def test_the_channel_choices_come_from_the_index(client):
    page = client.get("/conversations").get_data(as_text=True)
    assert re.findall(r'<option value="([a-z]+)" >', page.split('name="channel"')[1].split("</select>")[0]) == [
        "rest", "socketio"]


def test_best_match_first_pages_by_number_and_keeps_the_order_in_its_links(client):
    page = client.get("/conversations?q=numb&order=best").get_data(as_text=True)
    assert "Page 1 of" in page and '<option value="best" selected>' in page
    following = link(page, "next")
    assert parse_qs(urlsplit(following).query) == {"q": ["numb"], "order": ["best"], "page": ["2"]}
    first, second = listed(page), listed(client.get(following).get_data(as_text=True))
    assert len(first) == 3 and not set(first) & set(second)


@pytest.mark.parametrize("query", ["page=99999999999999999999", "after=1.20240101000000000000.9999999999999999999",
                                   "before=0.20241399000000000000.1", "last=1&page=-5", "page=0"])
def test_page_links_no_row_can_have_still_give_a_page(client, query, monkeypatch):
    monkeypatch.setattr(pages, "COUNT_CAP", 10)  # also when the count is capped
    response = client.get("/conversations?" + query)
    assert response.status_code == 200 and listed(response.get_data(as_text=True))
