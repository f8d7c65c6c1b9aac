"""Broadcasts and their outbox of deliveries.

Reviewed by hand: one row per broadcast, one per recipient (unique per broadcast and user, so
a double confirm cannot create a second set), an index on (broadcast, state) for claiming the
next pending delivery and counting progress. Deleting a user deletes their deliveries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 22:19:34.230744
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "broadcast",
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("audience_kind", sa.String(length=16), nullable=True),
        sa.Column("audience_ref", sa.String(length=32), nullable=True),
        sa.Column("content_kind", sa.String(length=16), nullable=True),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=True),
        sa.Column("file_name", sa.String(length=256), nullable=True),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("scheduled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("progress_message_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "created_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_broadcast_created_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast")),
    )
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcast_created_by_id"), ["created_by_id"], unique=False
        )

    op.create_table(
        "delivery",
        sa.Column(
            "broadcast_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("claimed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcast.id"],
            name=op.f("fk_delivery_broadcast_id_broadcast"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_delivery_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint(
            "broadcast_id", "user_id", name=op.f("uq_delivery_broadcast_id_user_id")
        ),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_broadcast_id_state", ["broadcast_id", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_delivery_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_user_id"))
        batch_op.drop_index("ix_delivery_broadcast_id_state")

    op.drop_table("delivery")
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcast_created_by_id"))

    op.drop_table("broadcast")
