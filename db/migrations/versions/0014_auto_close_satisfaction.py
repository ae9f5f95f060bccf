"""Auto-close and satisfaction ratings.

- tickets.autoclose_warned_at: when the requester was told a Resolved or Waiting ticket
  will close unless they reply (each spell warns once, across replicas and re-runs);
- (status, resolved_at) and (status, paused_at): the auto-close sweep reads Resolved tickets
  by when they were resolved and Waiting ones by since when they wait;
- satisfaction_ratings: "How did we do?", asked once per ticket, and the answer.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("autoclose_warned_at", UTCDateTime))
    op.create_index("ix_tickets_status_resolved", "tickets", ["status", "resolved_at"])
    op.create_index("ix_tickets_status_paused", "tickets", ["status", "paused_at"])
    op.create_table(
        "satisfaction_ratings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, unique=True
        ),
        sa.Column("requester", sa.String(320), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL")),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("score", sa.Integer),
        sa.Column("comment", sa.Text),
        sa.Column("asked_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("rated_at", UTCDateTime),
    )
    op.create_index("ix_satisfaction_ratings_requester_asked", "satisfaction_ratings", ["requester", "asked_at"])
    op.create_index("ix_satisfaction_ratings_rated", "satisfaction_ratings", ["rated_at"])


def downgrade() -> None:
    op.drop_index("ix_satisfaction_ratings_rated", "satisfaction_ratings")
    op.drop_index("ix_satisfaction_ratings_requester_asked", "satisfaction_ratings")
    op.drop_table("satisfaction_ratings")
    op.drop_index("ix_tickets_status_paused", "tickets")
    op.drop_index("ix_tickets_status_resolved", "tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("autoclose_warned_at")
