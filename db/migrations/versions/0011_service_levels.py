"""Service levels: each ticket's SLA due times (first response and resolution, and the
75 % warning of each), the stages already alerted, and its pauses while Waiting on the
customer; partial indexes of the stages not alerted yet, which the SLA sweep reads.

Tickets filed before this migration keep NULL due times: the migration has no business
calendar (it lives in the settings), and computing targets for old tickets after the fact
would alert on every one of them at the first sweep. They stay under the 48 h escalation
rule, the default for a ticket without an SLA policy; tickets filed from now on get their
due times when they are filed.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The first response clock runs while the case is open work (Waiting too); the resolution
# clock only while the ball is with the desk (Waiting pauses it).
OPEN_WORK = "status IN ('open', 'in_progress', 'waiting')"
WITH_DESK = "status IN ('open', 'in_progress')"
FIRST = f"first_response_at IS NULL AND {OPEN_WORK}"
STAGES = {
    "ix_tickets_sla_first_warning": ("first_response_warn_at", f"{FIRST} AND sla_warned NOT LIKE '%first_warned%'"),
    "ix_tickets_sla_first_breach": ("first_response_due_at", f"{FIRST} AND sla_warned NOT LIKE '%first_breached%'"),
    "ix_tickets_sla_resolution_warning": (
        "resolution_warn_at",
        f"{WITH_DESK} AND sla_warned NOT LIKE '%resolution_warned%'",
    ),
    "ix_tickets_sla_resolution_breach": (
        "resolution_due_at",
        f"{WITH_DESK} AND sla_warned NOT LIKE '%resolution_breached%'",
    ),
}
COLUMNS = ("first_response_due_at", "first_response_warn_at", "resolution_due_at", "resolution_warn_at", "paused_at")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, UTCDateTime))
        batch.add_column(sa.Column("sla_warned", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("paused_seconds", sa.Integer, nullable=False, server_default="0"))
    for name, (column, where) in STAGES.items():
        op.create_index(name, "tickets", [column], postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def downgrade() -> None:
    for name in STAGES:
        op.drop_index(name, "tickets")
    with op.batch_alter_table("tickets") as batch:
        for name in ("paused_seconds", "sla_warned", *reversed(COLUMNS)):
            batch.drop_column(name)
