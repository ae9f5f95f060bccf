"""Canned replies (macros): a named reply text with variables ({requester}, {number},
{agent}, {title}) that agents pick in the Reply modal, and optionally a status it puts
the case in once sent.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("name", name="uq_macros_name"),
    )


def downgrade() -> None:
    op.drop_table("macros")
