"""Cases from conversations: case messages, attachments, response bookkeeping, the Slack outbox.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TICKET_COLUMNS = [
    sa.Column("reporter_name", sa.String(200)),
    sa.Column("title", sa.String(300)),
    sa.Column("origin_channel", sa.String(32)),
    sa.Column("origin_ts", sa.String(32)),
    sa.Column("first_response_at", UTCDateTime),
    sa.Column("last_agent_response_at", UTCDateTime),
    sa.Column("waiting_since", UTCDateTime),
    sa.Column("followups", sa.Integer, nullable=False, server_default="0"),
    sa.Column("keyword", sa.String(100)),
    sa.Column("escalated_reasons", sa.String(100), nullable=False, server_default=""),
    sa.Column("escalated_at", UTCDateTime),
]


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for column in TICKET_COLUMNS:
            batch.add_column(column)
        # Email reporters are stored by address.
        batch.alter_column("reporter_id", type_=sa.String(320), existing_nullable=False)
    op.create_index("ix_tickets_origin", "tickets", ["origin_channel", "origin_ts"])
    op.create_index("ix_tickets_status_waiting", "tickets", ["status", "waiting_since"])
    op.create_index("ix_tickets_status_updated", "tickets", ["status", "updated_at"])

    op.create_table(
        "case_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("via", sa.String(10), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("author_id", sa.String(320), nullable=False),
        sa.Column("author_name", sa.String(200)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("edited_at", UTCDateTime),
        sa.Column("deleted_at", UTCDateTime),
        sa.Column("slack_channel", sa.String(32)),
        sa.Column("slack_ts", sa.String(32)),
        sa.Column("email_message_id", sa.String(998)),
        sa.UniqueConstraint("slack_channel", "slack_ts", name="uq_case_messages_slack"),
        sa.UniqueConstraint("email_message_id", name="uq_case_messages_email"),
    )
    op.create_index("ix_case_messages_ticket", "case_messages", ["ticket_id", "id"])

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("case_messages.id", ondelete="CASCADE")),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("content_type", sa.String(200)),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("url", sa.String(3000)),
        sa.Column("content", sa.LargeBinary),
        sa.Column("note", sa.String(300)),
    )
    op.create_index("ix_attachments_ticket", "attachments", ["ticket_id", "id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE")),
        sa.Column("channel", sa.String(32)),
        sa.Column("thread_ts", sa.String(32)),
        sa.Column("text", sa.Text),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("case_messages.id", ondelete="CASCADE")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("claimed_until", UTCDateTime),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("error", sa.String(200)),
    )
    op.create_index("ix_outbox_pending", "outbox", ["sent_at", "channel", "due_at"])
    op.create_index("ix_outbox_ticket", "outbox", ["ticket_id", "kind"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("attachments")
    op.drop_table("case_messages")
    op.drop_index("ix_tickets_status_updated", "tickets")
    op.drop_index("ix_tickets_status_waiting", "tickets")
    op.drop_index("ix_tickets_origin", "tickets")
    with op.batch_alter_table("tickets") as batch:
        for column in TICKET_COLUMNS:
            batch.drop_column(column.name)
