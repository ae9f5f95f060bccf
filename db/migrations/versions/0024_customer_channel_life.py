"""A customer channel's life: when its share ended or Slack stopped answering for it
(unshared, frozen, disconnected), and why. While ``held_at`` is set its open cases are
on hold and nothing is posted there; a new share clears it and resumes them.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_channels") as batch:
        batch.add_column(sa.Column("held_at", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("held_reason", sa.String(60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_channels") as batch:
        batch.drop_column("held_reason")
        batch.drop_column("held_at")
