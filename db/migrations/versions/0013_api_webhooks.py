"""The REST API's tokens, outgoing webhooks and their deliveries, and a case's external id.

- api_tokens: bearer tokens stored as the SHA-256 of the token (the token itself is shown
  once), with a scope (read or write) and when they were revoked;
- tickets.external_id: the id another system gave the case; unique, so that creating a
  case again with the same external id answers the first case instead of a second one;
- webhooks: the URLs admins registered, each with its secret and the events it wants;
- webhook_deliveries: one row per webhook and event, written in the transaction of the
  change (the outbox of webhooks); unique per (webhook, event id) so an event is never
  queued twice for one receiver.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_hash"),
    )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("external_id", sa.String(255)))
    op.create_index("uq_tickets_external_id", "tickets", ["external_id"], unique=True)
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("events", sa.String(300), nullable=False),
        sa.Column("allow_private", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("removed_at", UTCDateTime),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("webhook_id", sa.Integer, sa.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL")),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("claimed_until", UTCDateTime),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_status", sa.Integer),
        sa.Column("error", sa.String(300)),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("dead_at", UTCDateTime),
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
    )
    op.create_index("ix_webhook_deliveries_pending", "webhook_deliveries", ["sent_at", "dead_at", "due_at"])
    op.create_index("ix_webhook_deliveries_hook", "webhook_deliveries", ["webhook_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_hook", "webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_pending", "webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_index("uq_tickets_external_id", "tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("external_id")
    op.drop_table("api_tokens")
