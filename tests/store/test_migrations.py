"""The Alembic migrations create exactly what the models declare, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory

from bot.store.database import make_engine
from bot.store.migrate import alembic_config, current_revision, schema_differences, upgrade_to_head


def test_the_migrated_schema_matches_the_models(database):
    engine = make_engine(database.url)
    try:
        assert schema_differences(engine) == []
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(database.url)).get_current_head()
    assert current_revision(database.url) == head


def test_migrations_go_down_to_nothing_and_up_again(database):
    command.downgrade(alembic_config(database.url), "base")
    assert current_revision(database.url) == ""
    upgrade_to_head(database.url)
    engine = make_engine(database.url)
    try:
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_revisions_are_numbered_in_one_line(database):
    script = ScriptDirectory.from_config(alembic_config(database.url))
    revisions = [r.revision for r in script.walk_revisions()]
    assert revisions == sorted(revisions, reverse=True) and revisions[-1] == "0001"
