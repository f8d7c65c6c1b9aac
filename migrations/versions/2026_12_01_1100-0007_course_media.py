"""Course media: the Telegram file_id of a pack's local media file, and its missing reports.

Reviewed by hand: one new table, `course_media`, one row per course code and path (the file as
the pack names it, relative to the pack's folder: unique together, which is also the index every
look-up uses). `file_id` is what Telegram returned for the upload of the content whose sha256
is `content_key`, so later learners get the file by file_id and changed content uploads again;
`kind` says how it was sent (photo, document, video), since a file_id only serves that kind.
`missing_since`/`reported_at` record a file found missing at send time and that the organizers
were told once; both are cleared when the file is back. No foreign key: a course is addressed by
its code across versions, as `enrolment.course_code` is. Nothing here is personal data.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "course_media",
        sa.Column("course_code", sa.String(length=40), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("content_key", sa.String(length=64), nullable=True),
        sa.Column("file_id", sa.String(length=255), nullable=True),
        sa.Column("missing_since", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reported_at", models.base.UTCDateTime(timezone=True), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_media")),
        sa.UniqueConstraint("course_code", "path", name=op.f("uq_course_media_course_code_path")),
    )


def downgrade() -> None:
    op.drop_table("course_media")
