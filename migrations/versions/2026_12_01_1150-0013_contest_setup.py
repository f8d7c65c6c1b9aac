"""Contest setup: an organizer's working copy of a contest's definition.

Reviewed by hand: the /contest_setup wizard edits a copy of the contest pack (its definition
as JSON) and saves each step into it, so a restart or /cancel loses nothing; only Save puts
the whole copy through the pack schema and the loader's locks onto `contest`. One row per
organizer and contest (unique; a new contest's copy has contest_id NULL). It goes with the
person (CASCADE from app_user, so /delete_my_data leaves no trace; `user_id` indexed for that
delete) and with the contest (CASCADE). `base_version` is the pack version the copy was taken
from, to refuse a save over another organizer's newer one. No other table changes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 11:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contest_setup",
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("contest_id", BIG_ID, nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=False),
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
            ["contest_id"],
            ["contest.id"],
            name=op.f("fk_contest_setup_contest_id_contest"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_contest_setup_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_setup")),
        sa.UniqueConstraint(
            "user_id", "contest_id", name=op.f("uq_contest_setup_user_id_contest_id")
        ),
    )
    with op.batch_alter_table("contest_setup", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contest_setup_contest_id"), ["contest_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contest_setup_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contest_setup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_setup_user_id"))
        batch_op.drop_index(batch_op.f("ix_contest_setup_contest_id"))

    op.drop_table("contest_setup")
