"""Alembic, configured from code: `make migrate` = `python -m bot.store migrate`."""
from __future__ import annotations

from pathlib import Path
from typing import List

from alembic import command
from alembic.config import Config
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine, make_url

from .database import make_engine
from .models import Base
from .models.search_index import include_name

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser would read a '%' in a password as interpolation
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def redacted(url: str) -> str:
    """The URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def upgrade_to_head(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)  # a fresh data folder
    command.upgrade(alembic_config(url), "head")


def new_revision(url: str, message: str) -> None:
    """Autogenerate a revision from the models against a database that is at head."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


def schema_differences(engine: Engine) -> List[tuple]:
    """What the models declare and the database lacks, or has extra (empty when in step)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        return compare_metadata(context, Base.metadata)


def current_revision(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision() or ""
    finally:
        engine.dispose()
