"""Transcripts of every conversation, kept through SQLAlchemy in our own tables.

models/       one table per module; migrations/ holds the Alembic revisions that create them
database.py   engine and session factory (nothing connects at import time)
records.py    Rasa events -> transcript records (pure)
spool.py      the append-only file where records wait while the database is unavailable
writer.py     spool -> database, with the health status
tracker_store.py  the Rasa tracker store that feeds the writer, in the Rasa server process
retention.py  purge by age and erase one person's data
"""
