"""People, roles and teams in the database; routing rules; several assignees per ticket;
the desk's own audit trail and settings.

The agents named in SYSTEM_USERS (read from the environment as the migration runs) become
agents in the default team "Support"; every existing ticket joins that team, and its
assignee becomes its owner.

Revision ID: 0009
Revises: 0007
"""

import os
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("away", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("away_until", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_people_role", "people", ["role"])
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("triage_channel", sa.String(32)),
        sa.Column("notify_emails", sa.Text, nullable=False, server_default=""),
        sa.Column("lead_id", sa.String(32)),
        sa.Column("auto_assign", sa.String(20), nullable=False, server_default="off"),
        sa.Column("last_assigned_id", sa.String(32)),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("people.user_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("added_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_team_members_user", "team_members", ["user_id"])
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_routing_rules_position", "routing_rules", ["position"])
    op.create_table(
        "ticket_assignees",
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("is_owner", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("added_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_ticket_assignees_user", "ticket_assignees", ["user_id", "ticket_id"])
    op.create_table(
        "desk_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("actor_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(320), nullable=False),
        sa.Column("from_value", sa.Text),
        sa.Column("to_value", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_desk_events_created", "desk_events", ["created_at"])
    op.create_table(
        "desk_settings",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer))
        batch.add_column(sa.Column("notify_emails", sa.Text))
        batch.create_foreign_key("fk_tickets_team_id", "teams", ["team_id"], ["id"])
    op.create_index("ix_tickets_team_created", "tickets", ["team_id", "created_at"])
    op.create_index("ix_tickets_team_status", "tickets", ["team_id", "status"])
    _carry_over()


def _carry_over() -> None:
    now = datetime.now(UTC)
    bind = op.get_bind()
    teams = sa.table("teams", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("is_default", sa.Boolean),
                     sa.column("created_at", UTCDateTime), sa.column("notify_emails", sa.Text), sa.column("auto_assign", sa.String),
                     sa.column("version", sa.Integer))
    bind.execute(teams.insert().values(name="Support", is_default=True, created_at=now, notify_emails="", auto_assign="off", version=1))
    team_id = bind.execute(sa.select(teams.c.id).where(teams.c.name == "Support")).scalar_one()
    agents = sorted({u.strip() for u in os.environ.get("SYSTEM_USERS", "").split(",") if u.strip()})
    people = sa.table("people", sa.column("user_id", sa.String), sa.column("role", sa.String), sa.column("away", sa.Boolean),
                      sa.column("created_at", UTCDateTime), sa.column("updated_at", UTCDateTime))
    members = sa.table("team_members", sa.column("team_id", sa.Integer), sa.column("user_id", sa.String),
                       sa.column("added_at", UTCDateTime))
    for user in agents:
        bind.execute(people.insert().values(user_id=user, role="agent", away=False, created_at=now, updated_at=now))
        bind.execute(members.insert().values(team_id=team_id, user_id=user, added_at=now))
    bind.execute(sa.text("UPDATE tickets SET team_id = :team"), {"team": team_id})
    bind.execute(sa.text(
        "INSERT INTO ticket_assignees (ticket_id, user_id, is_owner, added_at) "
        "SELECT id, assignee_id, :yes, updated_at FROM tickets WHERE assignee_id IS NOT NULL"
    ), {"yes": True})


def downgrade() -> None:
    op.drop_index("ix_tickets_team_status", table_name="tickets")
    op.drop_index("ix_tickets_team_created", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("fk_tickets_team_id", type_="foreignkey")
        batch.drop_column("notify_emails")
        batch.drop_column("team_id")
    for table in ("desk_settings", "desk_events", "ticket_assignees", "routing_rules", "team_members", "teams", "people"):
        op.drop_table(table)
