"""The resource bank: disciplines, resources, uses and ratings; switches kept in chat.

Reviewed by hand: a resource stays in the bank when its contributor, moderator, discipline or
university is deleted (SET NULL: the consortium's content is not one person's), while a
person's uses and ratings go with them (CASCADE from app_user) and with the resource. One use
row and one rating per person and resource (a use is counted once; a rating is changed, not
added). Indexed for browsing approved resources by university (state, university_id), for
periods (`approved_at`, `first_used_at`). The full-text index is added by the search feature in
its own revision (FTS5 on SQLite, a tsvector on PostgreSQL). Timestamps default portably.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 11:25:28.053869
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column(
            "updated_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["app_user.id"],
            name=op.f("fk_app_setting_updated_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_setting")),
    )
    op.create_table(
        "discipline",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column(
            "proposed_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
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
            ["proposed_by_id"],
            ["app_user.id"],
            name=op.f("fk_discipline_proposed_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discipline")),
        sa.UniqueConstraint("code", name=op.f("uq_discipline_code")),
    )
    op.create_table(
        "resource",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=True),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column(
            "discipline_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("kind", sa.String(length=24), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("license", sa.String(length=40), nullable=True),
        sa.Column("authors", sa.String(length=500), nullable=True),
        sa.Column(
            "university_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "contributor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("file_id", sa.String(length=256), nullable=True),
        sa.Column("file_unique_id", sa.String(length=128), nullable=True),
        sa.Column("file_name", sa.String(length=256), nullable=True),
        sa.Column("mime_type", sa.String(length=128), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("submitted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "moderated_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("moderated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("moderation_comment", sa.Text(), nullable=True),
        sa.Column("approved_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
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
            ["contributor_id"],
            ["app_user.id"],
            name=op.f("fk_resource_contributor_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["discipline_id"],
            ["discipline.id"],
            name=op.f("fk_resource_discipline_id_discipline"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["moderated_by_id"],
            ["app_user.id"],
            name=op.f("fk_resource_moderated_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["university.id"],
            name=op.f("fk_resource_university_id_university"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource")),
        sa.UniqueConstraint("code", name=op.f("uq_resource_code")),
    )
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resource_approved_at"), ["approved_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_resource_contributor_id"), ["contributor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resource_discipline_id"), ["discipline_id"], unique=False
        )
        batch_op.create_index(
            "ix_resource_state_university_id", ["state", "university_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resource_university_id"), ["university_id"], unique=False
        )

    op.create_table(
        "resource_rating",
        sa.Column(
            "resource_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
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
            ["resource_id"],
            ["resource.id"],
            name=op.f("fk_resource_rating_resource_id_resource"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_resource_rating_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_rating")),
        sa.UniqueConstraint(
            "resource_id", "user_id", name=op.f("uq_resource_rating_resource_id_user_id")
        ),
    )
    with op.batch_alter_table("resource_rating", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_rating_resource_id"), ["resource_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_resource_rating_user_id"), ["user_id"], unique=False)

    op.create_table(
        "resource_use",
        sa.Column(
            "resource_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("first_used_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
            name=op.f("fk_resource_use_resource_id_resource"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_resource_use_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_use")),
        sa.UniqueConstraint(
            "resource_id", "user_id", name=op.f("uq_resource_use_resource_id_user_id")
        ),
    )
    with op.batch_alter_table("resource_use", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_use_first_used_at"), ["first_used_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resource_use_resource_id"), ["resource_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_resource_use_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("resource_use", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_use_user_id"))
        batch_op.drop_index(batch_op.f("ix_resource_use_resource_id"))
        batch_op.drop_index(batch_op.f("ix_resource_use_first_used_at"))

    op.drop_table("resource_use")
    with op.batch_alter_table("resource_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_rating_user_id"))
        batch_op.drop_index(batch_op.f("ix_resource_rating_resource_id"))

    op.drop_table("resource_rating")
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_university_id"))
        batch_op.drop_index("ix_resource_state_university_id")
        batch_op.drop_index(batch_op.f("ix_resource_discipline_id"))
        batch_op.drop_index(batch_op.f("ix_resource_contributor_id"))
        batch_op.drop_index(batch_op.f("ix_resource_approved_at"))

    op.drop_table("resource")
    op.drop_table("discipline")
    op.drop_table("app_setting")
