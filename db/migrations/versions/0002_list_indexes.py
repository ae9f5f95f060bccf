"""Indexes for listing tickets newest first and for the summary's counts.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_reporter_created", "tickets", ["reporter_id", "created_at"])
    op.create_index("ix_tickets_assignee_created", "tickets", ["assignee_id", "created_at"])
    op.create_index("ix_tickets_status_priority", "tickets", ["status", "priority"])
    op.create_index("ix_ticket_events_kind_created", "ticket_events", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_kind_created", "ticket_events")
    op.drop_index("ix_tickets_status_priority", "tickets")
    op.drop_index("ix_tickets_assignee_created", "tickets")
    op.drop_index("ix_tickets_reporter_created", "tickets")
