"""Linked and merged cases.

- ticket_links: two tickets related, or one the parent of the other (from_id is the
  parent), recorded once per pair and kind;
- ticket_merges: a duplicate merged into its primary, by whom and when, the status it had
  (an unmerge gives it back) and, once undone, by whom and when; a case's thread, mail key
  or DM finds its primary through the merge not undone;
- case_messages.merge_id, attachments.merge_id: the merge that moved a message or an
  attachment to the primary, so that an unmerge moves back exactly those.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("from_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("to_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("from_id", "to_id", "kind", name="uq_ticket_links_pair"),
    )
    op.create_index("ix_ticket_links_to", "ticket_links", ["to_id"])
    op.create_table(
        "ticket_merges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("duplicate_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("primary_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status_before", sa.String(20), nullable=False),
        sa.Column("merged_by", sa.String(32), nullable=False),
        sa.Column("merged_at", UTCDateTime, nullable=False),
        sa.Column("unmerged_by", sa.String(32), nullable=True),
        sa.Column("unmerged_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_ticket_merges_duplicate", "ticket_merges", ["duplicate_id", "unmerged_at"])
    op.create_index("ix_ticket_merges_primary", "ticket_merges", ["primary_id", "unmerged_at"])
    with op.batch_alter_table("case_messages") as batch:
        batch.add_column(sa.Column("merge_id", sa.Integer, nullable=True))
        batch.create_index("ix_case_messages_merge", ["merge_id"])
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("merge_id", sa.Integer, nullable=True))
        batch.create_index("ix_attachments_merge", ["merge_id"])


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_index("ix_attachments_merge")
        batch.drop_column("merge_id")
    with op.batch_alter_table("case_messages") as batch:
        batch.drop_index("ix_case_messages_merge")
        batch.drop_column("merge_id")
    op.drop_index("ix_ticket_merges_primary", "ticket_merges")
    op.drop_index("ix_ticket_merges_duplicate", "ticket_merges")
    op.drop_table("ticket_merges")
    op.drop_index("ix_ticket_links_to", "ticket_links")
    op.drop_table("ticket_links")
