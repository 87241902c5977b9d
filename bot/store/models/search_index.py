"""The full-text index of the conversations, which the models do not declare.

Revision 0003 makes it with database triggers that keep it in step with the messages: on SQLite
an FTS5 table and the shadow tables FTS5 keeps beside it, on PostgreSQL a tsvector table. Neither
can be declared as a SQLAlchemy table for both databases, so schema comparisons (Alembic's
autogenerate, `schema_differences`) must leave these names alone: `is_search_index`.
"""
from __future__ import annotations

SEARCH_TABLE = "transcript_search"
# FTS5's shadow tables of SEARCH_TABLE (https://sqlite.org/fts5.html#fts5_table_creation_and_initialization).
_FTS5_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")


def is_search_index(table_name: str) -> bool:
    return table_name == SEARCH_TABLE or table_name in {SEARCH_TABLE + suffix for suffix in _FTS5_SHADOWS}


def include_name(name, type_, parent_names) -> bool:
    """For Alembic's `include_name`: everything but the search index's tables."""
    return not (type_ == "table" and is_search_index(name))
