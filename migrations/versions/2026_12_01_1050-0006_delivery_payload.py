"""A delivery may carry its own message: the outbox of messages that differ per recipient.

Reviewed by hand: `delivery.payload` is a nullable JSON column, so every existing row (a
broadcast's delivery, whose message is its broadcast's content) stays as it is. The lesson and
nudge duties queue one broadcast per course and pass whose deliveries each carry the
recipient's own text and buttons (`{"text": ..., "buttons": [{"label": ..., "data": ...}]}`),
instead of one single-recipient broadcast per learner. No index: the column is only read with
the delivery it belongs to.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("payload", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("payload")
