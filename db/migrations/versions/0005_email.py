"""Email: every inbound mail recorded once (Message-ID, and UID with UIDVALIDITY), the
mail owed to customers, and audit actors long enough for an email address.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An admin closing a case by email is the audit event's actor.
    with op.batch_alter_table("ticket_events") as batch:
        batch.alter_column("actor_id", type_=sa.String(320), existing_nullable=False)
    op.create_table(
        "inbound_emails",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(998), nullable=False),
        sa.Column("folder", sa.String(200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger),
        sa.Column("uid", sa.BigInteger),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL")),
        sa.Column("sender", sa.String(320)),
        sa.Column("subject", sa.String(300)),
        sa.Column("note", sa.String(300)),
        sa.Column("raw", sa.LargeBinary),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("message_id", name="uq_inbound_emails_message_id"),
        sa.UniqueConstraint("folder", "uidvalidity", "uid", name="uq_inbound_emails_uid"),
    )
    op.create_index("ix_inbound_emails_ticket", "inbound_emails", ["ticket_id"])
    op.create_table(
        "outbound_emails",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=False),
        sa.Column("to_addr", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("in_reply_to", sa.String(998)),
        sa.Column("references", sa.Text),
        sa.Column("automatic", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("claimed_until", UTCDateTime),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.String(200)),
        sa.UniqueConstraint("message_id", name="uq_outbound_emails_message_id"),
    )
    op.create_index("ix_outbound_emails_pending", "outbound_emails", ["sent_at", "due_at"])


def downgrade() -> None:
    op.drop_table("outbound_emails")
    op.drop_table("inbound_emails")
    with op.batch_alter_table("ticket_events") as batch:
        batch.alter_column("actor_id", type_=sa.String(32), existing_nullable=False)
