"""Customers in Slack Connect channels: customer channels, their organisations (accounts),
and each case's account.

- customer_channels: an intake channel shared with another organisation (marked by an
  admin, or detected when Slack says it is shared), the organisation it is shared with
  when known, and the acknowledgment the customer reads there (None: the desk's own);
- accounts: an external organisation by its Slack team id, with its name from
  ``team.info`` once a lookup succeeds, and when it was last looked up (so that a lookup,
  failed or not, is repeated at most hourly and a failure is not kept for ever);
- tickets.account_id: the organisation whose member opened the case.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_channels",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(32), nullable=True),
        sa.Column("ack_text", sa.Text, nullable=True),
        sa.Column("marked_by", sa.String(32), nullable=False),
        sa.Column("marked_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("domain", sa.String(200), nullable=True),
        sa.Column("checked_at", UTCDateTime, nullable=True),
        sa.Column("error", sa.String(60), nullable=True),
    )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("account_id", sa.String(32), nullable=True))
        batch.create_index("ix_tickets_account_created", ["account_id", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_account_created")
        batch.drop_column("account_id")
    op.drop_table("accounts")
    op.drop_table("customer_channels")
