"""The staff app at scale: a full-text index of each conversation, and indexes that serve the list order.

Search: one document per conversation (all its message texts), kept in step by triggers, so the
transcript writer needs no change: a new conversation gets an empty document, each new message is
added to its conversation's document, an edited or deleted message rebuilds it, and a deleted
conversation (purge, erasure) takes its document with it. Existing conversations are indexed here.
- SQLite: an FTS5 table `transcript_search` (rowid = conversation id), FTS5's unicode61 tokenizer.
- PostgreSQL: a table `transcript_search` (conversation_id, document tsvector) with a GIN index,
  the text cut into words at every character that is not a letter or a digit (as unicode61 does)
  and read with the `simple` configuration (lower case, no stop words, as unicode61).
Both index the words as written, lower-cased: the same words in both databases. Stemming happens
when searching (bot/staff/search.py asks for the forms of each word that share its Snowball stem),
because SQLite's only stemmer (Porter) and PostgreSQL's (Snowball) disagree on some words.

List: the list shows unreviewed emergencies first, then newest first. A partial index holds the
first part, (started_at, id) the second; (triage_level, ...) and (channel, ...) serve the filters,
and the channel index gives the channel choices without reading the table. last_message_at is
indexed for the purge.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CONVERSATIONS = "transcript_conversations"
MESSAGES = "transcript_messages"
SEARCH = "transcript_search"

# What both databases treat as the space between words (FTS5's unicode61 does this by itself).
PG_CLEAN = "regexp_replace({}, '[^[:alnum:]]+', ' ', 'g')"
PG_DOCUMENT = "to_tsvector('simple', " + PG_CLEAN + ")"

SQLITE_DOCUMENT_OF = (  # a conversation's messages in order, as one text
    "coalesce((SELECT group_concat(text, char(10)) FROM (SELECT text FROM transcript_messages "
    "WHERE conversation_id = {} ORDER BY at, id)), '')"
)

SQLITE_UP = [
    f"CREATE VIRTUAL TABLE {SEARCH} USING fts5(body, tokenize = 'unicode61 remove_diacritics 0', detail = column)",
    f"""CREATE TRIGGER {SEARCH}_conversation_added AFTER INSERT ON {CONVERSATIONS} BEGIN
        INSERT INTO {SEARCH} (rowid, body) VALUES (new.id, '');
    END""",
    f"""CREATE TRIGGER {SEARCH}_conversation_deleted AFTER DELETE ON {CONVERSATIONS} BEGIN
        DELETE FROM {SEARCH} WHERE rowid = old.id;
    END""",
    f"""CREATE TRIGGER {SEARCH}_message_added AFTER INSERT ON {MESSAGES} BEGIN
        UPDATE {SEARCH} SET body = CASE WHEN body = '' THEN new.text ELSE body || char(10) || new.text END
        WHERE rowid = new.conversation_id;
    END""",
    f"""CREATE TRIGGER {SEARCH}_message_edited AFTER UPDATE OF text, conversation_id ON {MESSAGES} BEGIN
        UPDATE {SEARCH} SET body = {SQLITE_DOCUMENT_OF.format('old.conversation_id')} WHERE rowid = old.conversation_id;
        UPDATE {SEARCH} SET body = {SQLITE_DOCUMENT_OF.format('new.conversation_id')} WHERE rowid = new.conversation_id;
    END""",
    # A message deleted on its own; when its conversation goes (the purge's case) there is nothing to rebuild.
    f"""CREATE TRIGGER {SEARCH}_message_deleted AFTER DELETE ON {MESSAGES}
        WHEN EXISTS (SELECT 1 FROM {CONVERSATIONS} WHERE id = old.conversation_id) BEGIN
        UPDATE {SEARCH} SET body = {SQLITE_DOCUMENT_OF.format('old.conversation_id')} WHERE rowid = old.conversation_id;
    END""",
    f"INSERT INTO {SEARCH} (rowid, body) SELECT id, {SQLITE_DOCUMENT_OF.format(CONVERSATIONS + '.id')} FROM {CONVERSATIONS}",
    f"INSERT INTO {SEARCH} ({SEARCH}) VALUES ('optimize')",
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {SEARCH}_{name}"
    for name in ("conversation_added", "conversation_deleted", "message_added", "message_edited", "message_deleted")
] + [f"DROP TABLE IF EXISTS {SEARCH}"]

PG_REBUILD = (
    f"UPDATE {SEARCH} SET document = coalesce((SELECT {PG_DOCUMENT.format('string_agg(m.text, chr(10) ORDER BY m.at, m.id)')} "
    f"FROM {MESSAGES} m WHERE m.conversation_id = {SEARCH}.conversation_id), ''::tsvector) "
)
PG_UP = [
    f"""CREATE TABLE {SEARCH} (
        conversation_id integer PRIMARY KEY REFERENCES {CONVERSATIONS} (id) ON DELETE CASCADE,
        document tsvector NOT NULL DEFAULT ''::tsvector
    )""",
    f"""CREATE FUNCTION {SEARCH}_conversation_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {SEARCH} (conversation_id) VALUES (NEW.id);
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER {SEARCH}_conversation_added AFTER INSERT ON {CONVERSATIONS}
        FOR EACH ROW EXECUTE FUNCTION {SEARCH}_conversation_added()""",
    f"""CREATE FUNCTION {SEARCH}_message_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE {SEARCH} SET document = document || {PG_DOCUMENT.format('NEW.text')}
        WHERE conversation_id = NEW.conversation_id;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER {SEARCH}_message_added AFTER INSERT ON {MESSAGES}
        FOR EACH ROW EXECUTE FUNCTION {SEARCH}_message_added()""",
    f"""CREATE FUNCTION {SEARCH}_message_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {PG_REBUILD} WHERE conversation_id IN (SELECT conversation_id FROM gone);
        RETURN NULL;
    END $$""",
    # Statement triggers with the changed rows: a purge's cascade costs one cheap statement per conversation.
    f"""CREATE TRIGGER {SEARCH}_message_deleted AFTER DELETE ON {MESSAGES}
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {SEARCH}_message_changed()""",
    f"""CREATE FUNCTION {SEARCH}_message_edited() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {PG_REBUILD} WHERE conversation_id IN (SELECT conversation_id FROM gone UNION SELECT conversation_id FROM came);
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER {SEARCH}_message_edited AFTER UPDATE ON {MESSAGES}
        REFERENCING OLD TABLE AS gone NEW TABLE AS came FOR EACH STATEMENT EXECUTE FUNCTION {SEARCH}_message_edited()""",
    f"""INSERT INTO {SEARCH} (conversation_id, document)
        SELECT c.id, coalesce({PG_DOCUMENT.format('string_agg(m.text, chr(10) ORDER BY m.at, m.id)')}, ''::tsvector)
        FROM {CONVERSATIONS} c LEFT JOIN {MESSAGES} m ON m.conversation_id = c.id GROUP BY c.id""",
    f"CREATE INDEX ix_{SEARCH}_document ON {SEARCH} USING gin (document)",
    f"ANALYZE {SEARCH}",
]
PG_DOWN = [
    f"DROP TRIGGER IF EXISTS {SEARCH}_message_edited ON {MESSAGES}",
    f"DROP TRIGGER IF EXISTS {SEARCH}_message_deleted ON {MESSAGES}",
    f"DROP TRIGGER IF EXISTS {SEARCH}_message_added ON {MESSAGES}",
    f"DROP TRIGGER IF EXISTS {SEARCH}_conversation_added ON {CONVERSATIONS}",
    f"DROP TABLE IF EXISTS {SEARCH}",
    *(f"DROP FUNCTION IF EXISTS {SEARCH}_{name}()"
      for name in ("message_edited", "message_changed", "message_added", "conversation_added")),
]

# Partial index: the unreviewed emergencies, newest first (the top of the list).
TO_REVIEW = {"sqlite": "emergency = 1 AND reviewed_at IS NULL", "postgresql": "emergency AND reviewed_at IS NULL"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_index("ix_transcript_conversations_newest", CONVERSATIONS, ["started_at", "id"])
    op.create_index(
        "ix_transcript_conversations_to_review", CONVERSATIONS, ["started_at", "id"],
        sqlite_where=sa.text(TO_REVIEW["sqlite"]), postgresql_where=sa.text(TO_REVIEW["postgresql"]),
    )
    op.create_index("ix_transcript_conversations_level_newest", CONVERSATIONS, ["triage_level", "started_at", "id"])
    op.create_index("ix_transcript_conversations_channel_newest", CONVERSATIONS, ["channel", "started_at", "id"])
    op.create_index(op.f(f"ix_{CONVERSATIONS}_last_message_at"), CONVERSATIONS, ["last_message_at"])
    for statement in SQLITE_UP if dialect == "sqlite" else PG_UP:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else PG_DOWN:
        op.execute(statement)
    op.drop_index(op.f(f"ix_{CONVERSATIONS}_last_message_at"), table_name=CONVERSATIONS)
    for name in ("channel_newest", "level_newest", "to_review", "newest"):
        op.drop_index(f"ix_transcript_conversations_{name}", table_name=CONVERSATIONS)
