"""Events (webinars, coaching, seminars, ...), their registrations and reminders.

Reviewed by hand: a person's registrations go with their user (CASCADE from app_user), their
reminders with the registration (CASCADE), so /delete_my_data leaves no trace; an event keeps
its rows when its creator, hosting university or announcement is deleted (SET NULL). One
registration per person and event; one reminder per registration and offset (the duty's
exactly-once rests on it). Indexed for the duties: `event_reminder.due_at` (reminders due),
`event.ends_at` (follow-ups due), `event.starts_at` (upcoming events), and registrations by
(event, state) for counting places. Timestamps default portably (CURRENT_TIMESTAMP on both
backends).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:56:55.301605
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("starts_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=40), nullable=True),
        sa.Column("join_url", sa.String(length=500), nullable=True),
        sa.Column(
            "university_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("audience_kind", sa.String(length=16), nullable=False),
        sa.Column("audience_ref", sa.String(length=32), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("reminder_offsets", sa.JSON(), nullable=False),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column(
            "announcement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("published_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checkin_code", sa.String(length=8), nullable=True),
        sa.Column("checkin_opened_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recording_url", sa.String(length=500), nullable=True),
        sa.Column("recording_posted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("followed_up_at", models.base.UTCDateTime(timezone=True), nullable=True),
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
            ["announcement_id"],
            ["broadcast.id"],
            name=op.f("fk_event_announcement_id_broadcast"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_event_created_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["university.id"],
            name=op.f("fk_event_university_id_university"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("code", name=op.f("uq_event_code")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_created_by_id"), ["created_by_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_event_ends_at"), ["ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_event_university_id"), ["university_id"], unique=False
        )

    op.create_table(
        "event_registration",
        sa.Column(
            "event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("registered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("waiting_since", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("promoted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_in_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("feedback_sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("feedback_rating", sa.Integer(), nullable=True),
        sa.Column("feedback_comment", sa.Text(), nullable=True),
        sa.Column("feedback_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recording_sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
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
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_registration_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_event_registration_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_registration")),
        sa.UniqueConstraint(
            "event_id", "user_id", name=op.f("uq_event_registration_event_id_user_id")
        ),
    )
    with op.batch_alter_table("event_registration", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_registration_event_id_state", ["event_id", "state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_registration_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "event_reminder",
        sa.Column(
            "registration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("due_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("skipped_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["event_registration.id"],
            name=op.f("fk_event_reminder_registration_id_event_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_reminder")),
        sa.UniqueConstraint(
            "registration_id",
            "offset_minutes",
            name=op.f("uq_event_reminder_registration_id_offset_minutes"),
        ),
    )
    with op.batch_alter_table("event_reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_reminder_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_event_reminder_registration_id"), ["registration_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("event_reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_reminder_registration_id"))
        batch_op.drop_index(batch_op.f("ix_event_reminder_due_at"))

    op.drop_table("event_reminder")
    with op.batch_alter_table("event_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_registration_user_id"))
        batch_op.drop_index("ix_event_registration_event_id_state")

    op.drop_table("event_registration")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_university_id"))
        batch_op.drop_index(batch_op.f("ix_event_starts_at"))
        batch_op.drop_index(batch_op.f("ix_event_ends_at"))
        batch_op.drop_index(batch_op.f("ix_event_created_by_id"))

    op.drop_table("event")
