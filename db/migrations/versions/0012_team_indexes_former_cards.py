"""Indexes for the team desk, and where a moved ticket's cards were.

- (assignee_id, status, team_id): each member's open tickets counted from the index alone,
  for least-open assignment; the unassigned queue of the whole desk; an agent's own tickets
  outside their teams, for their lists;
- (team_id, status, assignee_id) in place of (team_id, status): a team's unassigned queue
  as ranges of one index; its prefix still serves what (team_id, status) served;
- former_cards: the (channel, ts) of a card left behind when its ticket moved to another
  team, so that a reply in the old card's thread still joins the case.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_assignee_status_team", "tickets", ["assignee_id", "status", "team_id"])
    op.create_index("ix_tickets_team_status_assignee", "tickets", ["team_id", "status", "assignee_id"])
    op.drop_index("ix_tickets_team_status", "tickets")
    op.create_table(
        "former_cards",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("ts", sa.String(32), primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("moved_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_former_cards_ticket", "former_cards", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_former_cards_ticket", "former_cards")
    op.drop_table("former_cards")
    op.create_index("ix_tickets_team_status", "tickets", ["team_id", "status"])
    op.drop_index("ix_tickets_team_status_assignee", "tickets")
    op.drop_index("ix_tickets_assignee_status_team", "tickets")
