"""Alembic's environment: the URL comes from bot.store.migrate (and so from bot.settings)."""
from __future__ import annotations

from alembic import context

from bot.store.database import make_engine
from bot.store.models import Base
from bot.store.models.search_index import include_name  # the full-text index is made by hand in 0004

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            # Batch mode: SQLite can only alter a table by copying it, which batch mode does for us.
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                              include_name=include_name)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
