"""Indexes on the SLA due times, for the reports: a target missed in a period is found by
its due time (the partial indexes of migration 0011 hold only the stages not alerted yet).

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_first_response_due", "tickets", ["first_response_due_at"])
    op.create_index("ix_tickets_resolution_due", "tickets", ["resolution_due_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_resolution_due", "tickets")
    op.drop_index("ix_tickets_first_response_due", "tickets")
