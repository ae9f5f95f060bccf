"""Tickets from any message, grouped bursts in intake channels, replies told from notes.

- tickets.origin_link: the permalink of the message a case was made from (a reaction or
  the "Create ticket" shortcut), shown on its card as the way back;
- case_messages.kind: "public" (the requester sees it: their own messages, replies in
  their thread or by mail) or "internal" (written in the card's thread, never sent to
  them). Slack messages stored before this outside the case's origin channel were
  written in a card's thread: internal; everything else public;
- intake_bursts: per intake channel and person, the case their last top-level message
  went to and that message's ts, so that a burst of messages joins one case; the row is
  the lock two bot processes take in turn.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("origin_link", sa.String(3000)))
    with op.batch_alter_table("case_messages") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="public"))
    op.execute(
        "UPDATE case_messages SET kind = 'internal' WHERE via = 'slack' AND NOT EXISTS "
        "(SELECT 1 FROM tickets t WHERE t.id = case_messages.ticket_id AND t.origin_channel = case_messages.slack_channel)"
    )
    op.create_table(
        "intake_bursts",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True),
        sa.Column("last_ts", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("intake_bursts")
    with op.batch_alter_table("case_messages") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("origin_link")
