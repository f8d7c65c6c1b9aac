"""The online course: course versions, enrolments, lesson progress, check answers, certificates.

Reviewed by hand: a learner's rows go with their user (enrolment CASCADE from app_user, and
progress, check answers and certificate CASCADE from the enrolment), so /delete_my_data leaves
no trace; a course version cannot be deleted while someone is enrolled in it (RESTRICT);
`enrolment.next_due_at` is indexed because the lesson duty looks for due rows by it; one
enrolment per user and course code, one progress row and one check answer per lesson, one
certificate per enrolment with a unique verification code. Timestamps default portably
(CURRENT_TIMESTAMP on both backends).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 07:31:58.095496
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "course",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pack_version", sa.Integer(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("pre_test", sa.String(length=40), nullable=True),
        sa.Column("post_test", sa.String(length=40), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("loaded_by_id", BIG_ID, nullable=True),
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
            ["loaded_by_id"],
            ["app_user.id"],
            name=op.f("fk_course_loaded_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_course_code_version")),
    )
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_code"), ["code"], unique=False)

    op.create_table(
        "enrolment",
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("course_code", sa.String(length=40), nullable=False),
        sa.Column("course_id", BIG_ID, nullable=False),
        sa.Column("pace", sa.String(length=12), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("weekdays", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=40), nullable=True),
        sa.Column("lesson_index", sa.Integer(), nullable=False),
        sa.Column("next_due_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("nudges", sa.Boolean(), nullable=False),
        sa.Column("last_active_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("nudged_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
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
            ["course_id"],
            ["course.id"],
            name=op.f("fk_enrolment_course_id_course"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_enrolment_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment")),
        sa.UniqueConstraint(
            "user_id", "course_code", name=op.f("uq_enrolment_user_id_course_code")
        ),
    )
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrolment_course_code"), ["course_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_enrolment_course_id"), ["course_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_enrolment_next_due_at"), ["next_due_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_enrolment_user_id"), ["user_id"], unique=False)

    op.create_table(
        "certificate",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("enrolment_id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("course_title", sa.JSON(), nullable=False),
        sa.Column("university", sa.String(length=200), nullable=True),
        sa.Column("issued_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
            name=op.f("fk_certificate_enrolment_id_enrolment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("code", name=op.f("uq_certificate_code")),
        sa.UniqueConstraint("enrolment_id", name=op.f("uq_certificate_enrolment_id")),
    )
    op.create_table(
        "check_answer",
        sa.Column("enrolment_id", BIG_ID, nullable=False),
        sa.Column("lesson_code", sa.String(length=40), nullable=False),
        sa.Column("question_code", sa.String(length=40), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("answered_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
            name=op.f("fk_check_answer_enrolment_id_enrolment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_answer")),
        sa.UniqueConstraint(
            "enrolment_id", "lesson_code", name=op.f("uq_check_answer_enrolment_id_lesson_code")
        ),
    )
    with op.batch_alter_table("check_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_check_answer_enrolment_id"), ["enrolment_id"], unique=False
        )

    op.create_table(
        "lesson_progress",
        sa.Column("enrolment_id", BIG_ID, nullable=False),
        sa.Column("lesson_code", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("delivered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
            name=op.f("fk_lesson_progress_enrolment_id_enrolment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_progress")),
        sa.UniqueConstraint(
            "enrolment_id", "lesson_code", name=op.f("uq_lesson_progress_enrolment_id_lesson_code")
        ),
    )
    with op.batch_alter_table("lesson_progress", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lesson_progress_enrolment_id"), ["enrolment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lesson_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_progress_enrolment_id"))

    op.drop_table("lesson_progress")
    with op.batch_alter_table("check_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_answer_enrolment_id"))

    op.drop_table("check_answer")
    op.drop_table("certificate")
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_user_id"))
        batch_op.drop_index(batch_op.f("ix_enrolment_next_due_at"))
        batch_op.drop_index(batch_op.f("ix_enrolment_course_id"))
        batch_op.drop_index(batch_op.f("ix_enrolment_course_code"))

    op.drop_table("enrolment")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_code"))

    op.drop_table("course")
