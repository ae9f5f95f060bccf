"""Text as people wrote it: a case message keeps the edited.ts of the edit it holds, and
Slack text stored before this release (still escaped as Slack sends it) is unescaped.

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

# Slack escapes only these three; "&amp;" last, so "&amp;lt;" becomes "&lt;", not "<".
UNESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def unescaped(column: str) -> str:
    """SQL for the column's text with Slack's escaping undone (the same on SQLite and PostgreSQL)."""
    expression = column
    for entity, char in UNESCAPES:
        expression = f"replace({expression}, '{entity}', '{char}')"
    return expression


def upgrade() -> None:
    with op.batch_alter_table("case_messages") as batch:
        batch.add_column(sa.Column("edited_ts", sa.String(32)))
    op.execute(f"UPDATE case_messages SET body = {unescaped('body')} WHERE via = 'slack'")
    op.execute(
        f"UPDATE tickets SET details = {unescaped('details')}, title = {unescaped('title')} WHERE source = 'slack'"
    )


def downgrade() -> None:
    with op.batch_alter_table("case_messages") as batch:
        batch.drop_column("edited_ts")
