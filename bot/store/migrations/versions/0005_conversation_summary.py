"""Each conversation keeps the symptom picture of its latest triage decision, in the person's words,
for the transcript page and the exports.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not Alembic's batch mode: on SQLite that would copy the table, and the search
# index's triggers (revision 0004) name it. SQLite has had ADD and DROP COLUMN since 3.35.


def upgrade() -> None:
    # Nullable: conversations stored before this revision have none recorded.
    op.add_column("transcript_conversations", sa.Column("summary", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("transcript_conversations", "summary")
