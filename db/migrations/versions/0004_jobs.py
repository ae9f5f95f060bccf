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


def upgrade() -> None:
    op.create_index("ix_tickets_status_followups", "tickets", ["status", "followups"])
    op.create_index("ix_tickets_status_keyword", "tickets", ["status", "keyword"])
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
    op.drop_index("ix_tickets_status_keyword", "tickets")
    op.drop_index("ix_tickets_status_followups", "tickets")
