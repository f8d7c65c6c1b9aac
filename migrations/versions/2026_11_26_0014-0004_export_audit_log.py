"""The export audit log: one row per export, identified ones above all.

Reviewed by hand: the actor is SET NULL when their user row is deleted, but their Telegram id
is copied into `actor_telegram_id` so an identified export stays attributable; `filters` holds
the filters as JSON; indexed by actor for "who exported what".

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 00:14:56.523187
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "export_log",
        sa.Column("actor_id", BIG_ID, nullable=True),
        sa.Column("actor_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("dataset", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("identified", sa.Boolean(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
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
            ["actor_id"],
            ["app_user.id"],
            name=op.f("fk_export_log_actor_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_log")),
    )
    op.create_index(op.f("ix_export_log_actor_id"), "export_log", ["actor_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_export_log_actor_id"), table_name="export_log")
    op.drop_table("export_log")
