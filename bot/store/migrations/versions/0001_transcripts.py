"""Transcripts: conversations, their messages, and the triage decisions sent in them.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CONVERSATIONS = "transcript_conversations"
MESSAGES = "transcript_messages"
DECISIONS = "triage_decisions"


def upgrade() -> None:
    op.create_table(
        CONVERSATIONS,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("session_key", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_message_at", sa.DateTime(), nullable=False),
        sa.Column("triage_level", sa.String(length=16), nullable=True),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("red_flags", sa.JSON(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_conversations")),
        sa.UniqueConstraint("sender", "session_key", name="uq_transcript_conversations_session"),
    )
    for column in ("emergency", "sender", "started_at", "triage_level"):
        op.create_index(op.f(f"ix_{CONVERSATIONS}_{column}"), CONVERSATIONS, [column])

    op.create_table(
        MESSAGES,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("speaker", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=128), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"], [f"{CONVERSATIONS}.id"],
            name=op.f(f"fk_{MESSAGES}_conversation_id_{CONVERSATIONS}"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{MESSAGES}")),
        sa.UniqueConstraint("event_key", name=op.f(f"uq_{MESSAGES}_event_key")),
    )
    op.create_index(op.f(f"ix_{MESSAGES}_conversation_id"), MESSAGES, ["conversation_id"])

    op.create_table(
        DECISIONS,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("red_flags", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("rulebook_version", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"], [f"{CONVERSATIONS}.id"],
            name=op.f(f"fk_{DECISIONS}_conversation_id_{CONVERSATIONS}"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], [f"{MESSAGES}.id"], name=op.f(f"fk_{DECISIONS}_message_id_{MESSAGES}"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{DECISIONS}")),
        sa.UniqueConstraint("message_id", name=op.f(f"uq_{DECISIONS}_message_id")),
    )
    op.create_index(op.f(f"ix_{DECISIONS}_conversation_id"), DECISIONS, ["conversation_id"])


def downgrade() -> None:
    op.drop_table(DECISIONS)
    op.drop_table(MESSAGES)
    op.drop_table(CONVERSATIONS)
