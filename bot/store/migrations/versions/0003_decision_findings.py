"""Each decision keeps the red-flag findings behind it, with the detector that found each, and the
signs only suspected (asked back to the person before they count).

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("triage_decisions") as batch:
        # Nullable: decisions stored before this revision have none recorded.
        batch.add_column(sa.Column("findings", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("suspected", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("triage_decisions") as batch:
        batch.drop_column("suspected")
        batch.drop_column("findings")
