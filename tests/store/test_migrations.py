"""The Alembic migrations create exactly what the models declare, on SQLite and PostgreSQL, plus the
full-text index the models cannot declare (bot/store/models/search_index.py), which they backfill."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.store.database import make_engine, make_session_factory, transaction
from bot.store.migrate import alembic_config, current_revision, schema_differences, upgrade_to_head
from bot.store.models import Base
from bot.store.models.search_index import SEARCH_TABLE, is_search_index
from bot.store.records import transcript_records
from bot.store.transcripts import store_records

from .events import bot, session_start, user

SEARCH_REVISION = "0004"  # the revision that makes the search index


def differences_with_the_search_index(engine):
    """What Alembic compares when nothing is filtered out (the search index's tables included)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def _of_the_search_index(difference) -> bool:
    kind, thing = difference[0], difference[1]
    if kind == "remove_table":
        return is_search_index(thing.name)
    return kind == "remove_index" and is_search_index(thing.table.name)


def assert_schema_matches_the_models(url):
    engine = make_engine(url)
    try:
        assert schema_differences(engine) == []  # the search index is left out, as autogenerate leaves it
        # Without that filter, the only thing the models lack is the search index: its tables and indexes.
        assert [d for d in differences_with_the_search_index(engine) if not _of_the_search_index(d)] == []
    finally:
        engine.dispose()


def test_the_migrated_schema_matches_the_models(database):
    assert_schema_matches_the_models(database.url)
    head = ScriptDirectory.from_config(alembic_config(database.url)).get_current_head()
    assert current_revision(database.url) == head


def test_migrations_go_down_to_nothing_and_up_again(database):
    command.downgrade(alembic_config(database.url), "base")
    assert current_revision(database.url) == ""
    engine = make_engine(database.url)
    try:
        with engine.connect() as connection:

            assert [name for name in inspect(connection).get_table_names() if name != "alembic_version"] == []
    finally:
        engine.dispose()
    upgrade_to_head(database.url)
    assert_schema_matches_the_models(database.url)


def test_revisions_are_numbered_in_one_line(database):
    script = ScriptDirectory.from_config(alembic_config(database.url))
    revisions = [r.revision for r in script.walk_revisions()]
    assert revisions == sorted(revisions, reverse=True) and revisions[-1] == "0001"


def _write(url, sender, start, texts):
    engine = make_engine(url)
    try:
        events = [*session_start(start)]
        for offset, words in enumerate(texts):
            events.append(user(start + 2 * offset + 1, words) if offset % 2 == 0 else bot(start + 2 * offset + 1, words))
        with transaction(make_session_factory(engine)) as session:
            store_records(session, transcript_records(sender, events, 0))
    finally:
        engine.dispose()


def _search_table_gone(url):
    engine = make_engine(url)
    try:
        return SEARCH_TABLE not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _matches(url, word):
    """Conversation ids whose document holds `word`, read from the index itself."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                query = f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :word ORDER BY rowid"
            else:
                query = (f"SELECT conversation_id FROM {SEARCH_TABLE} WHERE document @@ "
                         f"plainto_tsquery('simple', :word) ORDER BY conversation_id")
            return list(connection.scalars(text(query), {"word": word}))
    finally:
        engine.dispose()


def _ids(url):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(text("SELECT id FROM transcript_conversations ORDER BY id")))
    finally:
        engine.dispose()


def test_the_search_revision_indexes_the_conversations_already_there_and_keeps_in_step(database):
    script = ScriptDirectory.from_config(alembic_config(database.url))
    before = script.get_revision(SEARCH_REVISION).down_revision
    # Written by today's writer (at head), then taken back to before the search index: conversations
    # that were there before the revision, as in a database upgraded from then.
    _write(database.url, "a" * 32, 1_700_000_000.0, ["my left foot is numb", "Since when?", "three weeks, walking hurts"])
    _write(database.url, "b" * 32, 1_700_100_000.0, ["my thigh tingles"])
    first, second = _ids(database.url)
    command.downgrade(alembic_config(database.url), before)
    assert _search_table_gone(database.url)

    upgrade_to_head(database.url)  # the backfill
    assert _matches(database.url, "numb") == [first]
    assert _matches(database.url, "walking") == [first]
    assert _matches(database.url, "tingles") == [second]

    # Written after the revision: the writer's rows reach the index by trigger.
    _write(database.url, "c" * 32, 1_700_200_000.0, ["numbness and numb feet", "Any weakness?"])
    third = _ids(database.url)[-1]
    assert _matches(database.url, "numb") == [first, third]
    assert _matches(database.url, "numbness") == [third] and _matches(database.url, "weakness") == [third]

    # A message edited or deleted on its own rebuilds its conversation's document; a deleted conversation goes.
    engine = make_engine(database.url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE transcript_messages SET text = 'my calf is cold' "
                                    "WHERE text = 'my left foot is numb'"))
            connection.execute(text("DELETE FROM transcript_messages WHERE text = 'Any weakness?'"))
            connection.execute(text("DELETE FROM transcript_conversations WHERE id = :id"), {"id": second})
    finally:
        engine.dispose()
    assert _matches(database.url, "numb") == [third]
    assert _matches(database.url, "cold") == [first] and _matches(database.url, "walking") == [first]
    assert _matches(database.url, "weakness") == [] and _matches(database.url, "tingles") == []
