"""Free text in Text columns: an audit event's values (escalation reasons joined, say) and
notes, a kept mail's note and a mail's last error have no natural length; short columns
stay for codes. And an index to count the acknowledgements of the last hour.

Revision ID: 0007
Revises: 0008 (which landed first)
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None

# (table, column, the short type it had)
WIDENED = (
    ("ticket_events", "from_value", sa.String(100)),
    ("ticket_events", "to_value", sa.String(100)),
    ("inbound_emails", "note", sa.String(300)),
    ("outbound_emails", "error", sa.String(200)),
)


def upgrade() -> None:
    for table, column, short in WIDENED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.Text, existing_type=short, existing_nullable=True)
    op.create_index("ix_outbound_emails_created", "outbound_emails", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbound_emails_created", table_name="outbound_emails")
    for table, column, short in WIDENED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=short, existing_type=sa.Text, existing_nullable=True)
