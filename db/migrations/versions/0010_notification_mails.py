"""Notification mails: an outbound mail has a kind (an agent's reply, an acknowledgement,
or a notice of a new or resolved ticket), several recipients (To and Cc, comma-separated),
and Slack users whose profile address is looked up when it is sent.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_emails") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="reply"))
        batch.add_column(sa.Column("cc_addrs", sa.Text))
        batch.add_column(sa.Column("to_users", sa.Text))
        batch.alter_column("to_addr", type_=sa.Text, existing_type=sa.String(320), existing_nullable=False)
    op.execute("UPDATE outbound_emails SET kind = 'ack' WHERE automatic = " + ("true" if _pg() else "1"))


def downgrade() -> None:
    with op.batch_alter_table("outbound_emails") as batch:
        batch.alter_column("to_addr", type_=sa.String(320), existing_type=sa.Text, existing_nullable=False)
        batch.drop_column("to_users")
        batch.drop_column("cc_addrs")
        batch.drop_column("kind")


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"
