"""What the service-level reports read.

- tickets.first_response_seconds / resolution_seconds: the business time a ticket took to
  its first response and to its resolution (less the time it waited on the customer), in
  seconds, stored when each happens: business time depends on the calendar in the
  settings, which SQL cannot apply, and storing it lets a report take medians in SQL;
- indexes on first_response_at and resolved_at: a report's period is a range of either.

Tickets answered or resolved before this migration keep NULL times and are left out of
the medians (their due times, and so their attainment, are unaffected).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("first_response_seconds", sa.Integer))
        batch.add_column(sa.Column("resolution_seconds", sa.Integer))
    op.create_index("ix_tickets_first_response_at", "tickets", ["first_response_at"])
    op.create_index("ix_tickets_resolved_at", "tickets", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_resolved_at", "tickets")
    op.drop_index("ix_tickets_first_response_at", "tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("resolution_seconds")
        batch.drop_column("first_response_seconds")
