"""The contest: contests, entries, their authors and files, jurors, reviews, certificates.

Reviewed by hand: a contest version cannot be deleted while it has entries (RESTRICT); an
entry keeps its place in the contest when its owner deletes their data (owner SET NULL), while
their authorship, certificates and everything of theirs goes (CASCADE from app_user); files,
authors, reviews and certificates go with their entry, reviews with their juror. One entry per
owner and contest, one authorship per entry and person, one review per entry and juror (the
allocation's exactly-once rests on it), one certificate per entry and author; entry, team,
jury and certificate codes are unique. Indexed for the duties: `contest.deadline_at` and
`contest.jury_deadline_at`; entries by (contest, state). Timestamps default portably.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 11:06:41.735732
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contest",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("pack_version", sa.Integer(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opens_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deadline_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("late_until", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("jury_deadline_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("max_authors", sa.Integer(), nullable=False),
        sa.Column("reviews_per_entry", sa.Integer(), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("exclude_conflicts", sa.Boolean(), nullable=False),
        sa.Column("standardise", sa.Boolean(), nullable=False),
        sa.Column("show_feedback", sa.Boolean(), nullable=False),
        sa.Column("jury_code", sa.String(length=16), nullable=True),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("drafts_reminded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("allocated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("allocation_note", sa.Text(), nullable=True),
        sa.Column("jurors_reminded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "results_broadcast_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
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
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_contest_created_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["results_broadcast_id"],
            ["broadcast.id"],
            name=op.f("fk_contest_results_broadcast_id_broadcast"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest")),
        sa.UniqueConstraint("code", name=op.f("uq_contest_code")),
        sa.UniqueConstraint("jury_code", name=op.f("uq_contest_jury_code")),
    )
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contest_deadline_at"), ["deadline_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contest_jury_deadline_at"), ["jury_deadline_at"], unique=False
        )

    op.create_table(
        "contest_entry",
        sa.Column(
            "contest_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("team_code", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("submitted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("withdrawn_at", models.base.UTCDateTime(timezone=True), nullable=True),
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
            ["contest_id"],
            ["contest.id"],
            name=op.f("fk_contest_entry_contest_id_contest"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["app_user.id"],
            name=op.f("fk_contest_entry_owner_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_entry")),
        sa.UniqueConstraint("code", name=op.f("uq_contest_entry_code")),
        sa.UniqueConstraint(
            "contest_id", "owner_id", name=op.f("uq_contest_entry_contest_id_owner_id")
        ),
        sa.UniqueConstraint("team_code", name=op.f("uq_contest_entry_team_code")),
    )
    with op.batch_alter_table("contest_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contest_entry_contest_id_state", ["contest_id", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contest_entry_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "contest_juror",
        sa.Column(
            "contest_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("joined_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
            name=op.f("fk_contest_juror_contest_id_contest"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_contest_juror_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_juror")),
        sa.UniqueConstraint(
            "contest_id", "user_id", name=op.f("uq_contest_juror_contest_id_user_id")
        ),
    )
    with op.batch_alter_table("contest_juror", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contest_juror_contest_id"), ["contest_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contest_juror_user_id"), ["user_id"], unique=False)

    op.create_table(
        "contest_certificate",
        sa.Column(
            "entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
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
            ["entry_id"],
            ["contest_entry.id"],
            name=op.f("fk_contest_certificate_entry_id_contest_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_contest_certificate_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_certificate")),
        sa.UniqueConstraint("code", name=op.f("uq_contest_certificate_code")),
        sa.UniqueConstraint(
            "entry_id", "user_id", name=op.f("uq_contest_certificate_entry_id_user_id")
        ),
    )
    with op.batch_alter_table("contest_certificate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contest_certificate_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contest_certificate_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "contest_entry_author",
        sa.Column(
            "entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("owner", sa.Boolean(), nullable=False),
        sa.Column("joined_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["contest_entry.id"],
            name=op.f("fk_contest_entry_author_entry_id_contest_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_contest_entry_author_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_entry_author")),
        sa.UniqueConstraint(
            "entry_id", "user_id", name=op.f("uq_contest_entry_author_entry_id_user_id")
        ),
    )
    with op.batch_alter_table("contest_entry_author", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contest_entry_author_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contest_entry_author_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "contest_entry_file",
        sa.Column(
            "entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("file_id", sa.String(length=256), nullable=False),
        sa.Column("file_unique_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("mime_type", sa.String(length=128), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["contest_entry.id"],
            name=op.f("fk_contest_entry_file_entry_id_contest_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_entry_file")),
    )
    with op.batch_alter_table("contest_entry_file", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contest_entry_file_entry_id"), ["entry_id"], unique=False
        )

    op.create_table(
        "contest_review",
        sa.Column(
            "contest_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "juror_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("submitted_at", models.base.UTCDateTime(timezone=True), nullable=True),
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
            ["contest_id"],
            ["contest.id"],
            name=op.f("fk_contest_review_contest_id_contest"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["contest_entry.id"],
            name=op.f("fk_contest_review_entry_id_contest_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["juror_id"],
            ["contest_juror.id"],
            name=op.f("fk_contest_review_juror_id_contest_juror"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_review")),
        sa.UniqueConstraint(
            "entry_id", "juror_id", name=op.f("uq_contest_review_entry_id_juror_id")
        ),
    )
    with op.batch_alter_table("contest_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contest_review_contest_id"), ["contest_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contest_review_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contest_review_juror_id"), ["juror_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contest_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_review_juror_id"))
        batch_op.drop_index(batch_op.f("ix_contest_review_entry_id"))
        batch_op.drop_index(batch_op.f("ix_contest_review_contest_id"))

    op.drop_table("contest_review")
    with op.batch_alter_table("contest_entry_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_entry_file_entry_id"))

    op.drop_table("contest_entry_file")
    with op.batch_alter_table("contest_entry_author", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_entry_author_user_id"))
        batch_op.drop_index(batch_op.f("ix_contest_entry_author_entry_id"))

    op.drop_table("contest_entry_author")
    with op.batch_alter_table("contest_certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_certificate_user_id"))
        batch_op.drop_index(batch_op.f("ix_contest_certificate_entry_id"))

    op.drop_table("contest_certificate")
    with op.batch_alter_table("contest_juror", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_juror_user_id"))
        batch_op.drop_index(batch_op.f("ix_contest_juror_contest_id"))

    op.drop_table("contest_juror")
    with op.batch_alter_table("contest_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_entry_owner_id"))
        batch_op.drop_index("ix_contest_entry_contest_id_state")

    op.drop_table("contest_entry")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_jury_deadline_at"))
        batch_op.drop_index(batch_op.f("ix_contest_deadline_at"))

    op.drop_table("contest")
