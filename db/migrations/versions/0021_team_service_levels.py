"""A team's own service levels: its business calendar (time zone, working days, hours,
holidays) and its SLA targets per priority, each overriding the desk's when set.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_service_levels",
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("days", sa.String(80), nullable=True),
        sa.Column("hours", sa.String(200), nullable=True),
        sa.Column("holidays", sa.Text, nullable=True),
        sa.Column("policy_high", sa.String(40), nullable=True),
        sa.Column("policy_medium", sa.String(40), nullable=True),
        sa.Column("policy_low", sa.String(40), nullable=True),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("team_service_levels")
