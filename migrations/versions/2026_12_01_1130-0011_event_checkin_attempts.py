"""Event check-in attempts: wrong codes counted per person and event.

Reviewed by hand: the check-in code is short and said aloud, so wrong codes are limited per
person and event; the count lives in the database (not in memory) so a restart or another
replica does not give new tries. One row per event and person (unique), created at the first
wrong code; it goes with the event (CASCADE) and with the person (CASCADE from app_user, so
/delete_my_data leaves no trace; `user_id` indexed for that delete). No other table changes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "event_checkin_attempt",
        sa.Column("event_id", BIG_ID, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_checkin_attempt_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_event_checkin_attempt_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_checkin_attempt")),
        sa.UniqueConstraint(
            "event_id", "user_id", name=op.f("uq_event_checkin_attempt_event_id_user_id")
        ),
    )
    with op.batch_alter_table("event_checkin_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_checkin_attempt_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("event_checkin_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_checkin_attempt_user_id"))

    op.drop_table("event_checkin_attempt")
