"""Scheduled jobs: run records (one run per job and slot), bot state, escalation indexes.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# The cases each escalation reason has not alerted yet: the sweep reads only these.
ACTIVE = "status IN ('open', 'in_progress')"
CANDIDATES = {
    "ix_tickets_due_no_response": (["waiting_since"], f"{ACTIVE} AND escalated_reasons NOT LIKE '%no_response%'"),
    "ix_tickets_due_followups": (["followups"], f"{ACTIVE} AND escalated_reasons NOT LIKE '%followups%'"),
    "ix_tickets_due_keyword": (["keyword"], f"{ACTIVE} AND escalated_reasons NOT LIKE '%keyword%'"),
}


def upgrade() -> None:
    for name, (columns, where) in CANDIDATES.items():
        op.create_index(name, "tickets", columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where))
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job", sa.String(50), nullable=False),
        sa.Column("slot", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("result", sa.Text),
        sa.Column("runner", sa.String(200), nullable=False),
        sa.UniqueConstraint("job", "slot", name="uq_job_runs_slot"),
    )
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bot_state")
    op.drop_table("job_runs")
    for name in CANDIDATES:
        op.drop_index(name, "tickets")
