"""Events: webinars, coaching sessions, seminars, conferences, presentations and consilia.

An event is scheduled by a coach or organizer (a draft until published), announced to its
audience by a broadcast, and taken by registrations: registered, waiting (a full session's
waiting list, in order of `waiting_since`) or cancelled. Each registration's reminders are rows
of their own (`event_reminder`), one per offset before the start, taken by the "a due row,
claimed once, done once" pattern (`bot.services.due`), so each person gets each reminder once
across restarts and replicas. The event's own follow-up after its end (feedback forms to
attendees) is a due row too: `followed_up_at` is None until done.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin, UTCDateTime


class Event(IdMixin, TimestampMixin, Base):
    """One session: what, when, where to join, for whom, how many places."""

    __tablename__ = "event"

    code: Mapped[str] = mapped_column(String(16), unique=True)  # deep links: ?start=e-<code>
    kind: Mapped[str] = mapped_column(String(16))  # webinar, coaching, seminar, conference, ...
    state: Mapped[str] = mapped_column(String(16), default="draft")  # draft/published/cancelled
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # language -> text
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    timezone: Mapped[str | None] = mapped_column(String(40))  # the zone it was scheduled in
    join_url: Mapped[str | None] = mapped_column(String(500))
    university_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("university.id", ondelete="SET NULL"), index=True
    )  # the hosting university
    audience_kind: Mapped[str] = mapped_column(String(16), default="all")
    audience_ref: Mapped[str | None] = mapped_column(String(32))
    capacity: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    reminder_offsets: Mapped[list[int]] = mapped_column(JSON, default=list)  # minutes before
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL"), index=True
    )
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    announcement_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("broadcast.id", ondelete="SET NULL")
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Attendance: a short code said aloud, valid from `checkin_opened_at` to the end.
    checkin_code: Mapped[str | None] = mapped_column(String(8))
    checkin_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recording_url: Mapped[str | None] = mapped_column(String(500))
    recording_posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The follow-up duty: None until the feedback forms of the attendees are queued.
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventRegistration(IdMixin, TimestampMixin, Base):
    """One person and one event: registered, waiting or cancelled; attended; their feedback."""

    __tablename__ = "event_registration"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("ix_event_registration_event_id_state", "event_id", "state"),
    )

    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("event.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16))  # registered, waiting, cancelled
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # got a place
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the queue's order
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # moved up from waiting
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback_rating: Mapped[int | None] = mapped_column(Integer)  # 1..5
    feedback_comment: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recording_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventReminder(IdMixin, Base):
    """One reminder of one registration at one offset before the start: due, sent or skipped."""

    __tablename__ = "event_reminder"
    __table_args__ = (UniqueConstraint("registration_id", "offset_minutes"),)

    registration_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("event_registration.id", ondelete="CASCADE"), index=True
    )
    offset_minutes: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    skipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # too late, cancelled


class EventCheckinAttempt(IdMixin, Base):
    """Wrong check-in codes one person typed for one event (the limit is in the service).

    Kept in the database so a restart does not give someone new tries at a short code.
    """

    __tablename__ = "event_checkin_attempt"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("event.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
