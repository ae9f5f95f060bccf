"""Forms per issue type: the extra fields admins define for an issue type, and the values
tickets were filed with.

- form_fields: per issue type, a field's key, label, kind (short_text, long_text, number,
  date, select, multi_select, user), whether it is required, its help text, its options
  (JSON, for the selects) and its place in the form; a removed field keeps its row
  (removed_at set) so that its key is not reused with another meaning;
- ticket_fields: a ticket's values, one row per value (a multi select has one per option
  chosen), with the label and kind the field had when filed, so that changing or removing
  a form never changes how an old ticket reads. value_text is the value as written;
  value_key its case-folded form, indexed with the key for ``field:value`` filters;
  value_number and value_date the typed value of a number or a date.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_fields",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("issue_type", sa.String(100), nullable=False),
        sa.Column("key", sa.String(30), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("required", sa.Boolean, nullable=False),
        sa.Column("help", sa.String(150), nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("removed_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_form_fields_issue_type", "form_fields", ["issue_type", "position"])
    op.create_table(
        "ticket_fields",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(30), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("value_text", sa.Text, nullable=False),
        sa.Column("value_key", sa.String(200), nullable=False),
        sa.Column("value_number", sa.Float, nullable=True),
        sa.Column("value_date", sa.Date, nullable=True),
    )
    op.create_index("ix_ticket_fields_ticket", "ticket_fields", ["ticket_id"])
    op.create_index("ix_ticket_fields_key_value", "ticket_fields", ["key", "value_key"])


def downgrade() -> None:
    op.drop_table("ticket_fields")
    op.drop_table("form_fields")
