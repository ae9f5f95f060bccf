"""One road to Slack: outbox rows know the change behind them, where they landed, when
their claim began (to look for a post a crashed sender made), when they were given up,
and the Block Kit of a report posted as it was rendered.

Revision ID: 0006
Revises: 0005
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("event_id", sa.Integer, sa.ForeignKey("ticket_events.id", ondelete="CASCADE", name="fk_outbox_event")))
        batch.add_column(sa.Column("user_id", sa.String(32)))
        batch.add_column(sa.Column("claimed_at", UTCDateTime))
        batch.add_column(sa.Column("posted_channel", sa.String(32)))
        batch.add_column(sa.Column("posted_ts", sa.String(32)))
        batch.add_column(sa.Column("dead_at", UTCDateTime))
        batch.add_column(sa.Column("blocks", sa.Text))
    with op.batch_alter_table("outbound_emails") as batch:
        batch.add_column(sa.Column("dead_at", UTCDateTime))
    # The card-repair job is gone: a card Slack never took before this release is owed
    # through the outbox instead (its channel is decided when it is sent).
    now = datetime.now(UTC)
    outbox, tickets = sa.table("outbox", *_columns("id", "kind", "ticket_id", "created_at", "due_at", "attempts", "sent_at")), sa.table(
        "tickets", sa.column("id"), sa.column("card_ts")
    )
    waiting_card = sa.exists().where(
        outbox.c.ticket_id == tickets.c.id, outbox.c.kind == "card", outbox.c.sent_at.is_(None)
    )
    missing = sa.select(
        sa.literal("card"), tickets.c.id, sa.literal(now, UTCDateTime), sa.literal(now, UTCDateTime), sa.literal(0)
    ).where(tickets.c.card_ts.is_(None), ~waiting_card)
    op.execute(outbox.insert().from_select(["kind", "ticket_id", "created_at", "due_at", "attempts"], missing))


def _columns(*names: str) -> list[sa.ColumnClause[object]]:
    return [sa.column(n) for n in names]


def downgrade() -> None:
    with op.batch_alter_table("outbound_emails") as batch:
        batch.drop_column("dead_at")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_event", type_="foreignkey")
        for column in ("blocks", "dead_at", "posted_ts", "posted_channel", "claimed_at", "user_id", "event_id"):
            batch.drop_column(column)
