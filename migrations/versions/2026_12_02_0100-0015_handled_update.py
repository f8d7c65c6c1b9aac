"""Handled updates: one row per Telegram update_id, so a redelivered update does nothing.

Reviewed by hand: several replicas (or one after a crash) may receive the same update;
`bot.replicas.UpdateGuard` inserts its id before the handlers run and skips an id already
present. The id is Telegram's (a 64-bit integer, never generated here), so it is the primary
key with no autoincrement; `handled_at` is indexed for the duty that prunes old rows. No other
table changes.

Revision ID: 0015_handled_update
Revises: 0014
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0015_handled_update"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handled_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("handled_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_handled_update")),
    )
    with op.batch_alter_table("handled_update", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_handled_update_handled_at"), ["handled_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("handled_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handled_update_handled_at"))

    op.drop_table("handled_update")
