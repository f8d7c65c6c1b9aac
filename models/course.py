"""The online course: its versions from packs, enrolments, progress, checks, certificates.

A course pack, like a survey pack, is stored once per version with its validated definition, so
a learner's progress always points at the lessons they were shown. An enrolment is also the
course's timed duty: `next_due_at` is when its next scheduled lesson is due (None when nothing
is scheduled: self-paced, paused or finished), taken by the "a due row, claimed once, done once"
pattern (`bot.services.due`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin, UTCDateTime


class Course(IdMixin, TimestampMixin, Base):
    """One version of a course."""

    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("code", "version"),)

    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)  # ours: 1, 2, ... per code, in load order
    pack_version: Mapped[int] = mapped_column(Integer)  # what the pack file declared
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    # Instrument codes of the surveys engine offered before the first and after the last lesson.
    pre_test: Mapped[str | None] = mapped_column(String(40))
    post_test: Mapped[str | None] = mapped_column(String(40))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    checksum: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200))
    loaded_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL")
    )


class Enrolment(IdMixin, TimestampMixin, Base):
    """A learner in a course: their pace, their hour, and where they are."""

    __tablename__ = "enrolment"
    __table_args__ = (UniqueConstraint("user_id", "course_code"),)

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    course_code: Mapped[str] = mapped_column(String(40), index=True)
    course_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("course.id", ondelete="RESTRICT"), index=True
    )
    pace: Mapped[str] = mapped_column(String(12), default="self")  # self or scheduled
    hour: Mapped[int] = mapped_column(Integer, default=9)  # the learner's local hour
    minute: Mapped[int] = mapped_column(Integer, default=0)
    weekdays: Mapped[int] = mapped_column(Integer, default=0b0011111)  # bit 0 Monday ... 6 Sunday
    timezone: Mapped[str | None] = mapped_column(String(40))  # None: the bot's TIMEZONE
    lesson_index: Mapped[int] = mapped_column(Integer, default=0)  # the next lesson to open
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    nudges: Mapped[bool] = mapped_column(Boolean, default=True)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LessonProgress(IdMixin, Base):
    """One learner and one lesson: when it was delivered, opened and completed."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_code"),)

    enrolment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enrolment.id", ondelete="CASCADE"), index=True
    )
    lesson_code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)  # the lesson's place in the course
    step: Mapped[int] = mapped_column(Integer, default=0)  # the next step to show
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CheckAnswer(IdMixin, Base):
    """A learner's answer to a lesson's check question: the first answer counts."""

    __tablename__ = "check_answer"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_code"),)

    enrolment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enrolment.id", ondelete="CASCADE"), index=True
    )
    lesson_code: Mapped[str] = mapped_column(String(40))
    question_code: Mapped[str] = mapped_column(String(40))
    options: Mapped[list[str]] = mapped_column(JSON)  # the option codes chosen
    correct: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Certificate(IdMixin, Base):
    """A certificate of completion, found by its verification code."""

    __tablename__ = "certificate"

    code: Mapped[str] = mapped_column(String(16), unique=True)
    enrolment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enrolment.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str] = mapped_column(String(120))  # as the learner typed and confirmed it
    course_title: Mapped[dict[str, str]] = mapped_column(JSON)
    university: Mapped[str | None] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CourseMedia(IdMixin, TimestampMixin, Base):
    """A media file of a course pack's folder: its Telegram file_id, and whether it is missing.

    One row per course code and path (as the pack names it). `file_id` is what Telegram returned
    when the file was uploaded from content whose key (sha256) is `content_key`: later learners
    get it by file_id; content that changed uploads again. `missing_since` is set while the file
    is gone at send time and `reported_at` once the organizers were told; both are cleared when
    the file is back, so a later disappearance is reported again.
    """

    __tablename__ = "course_media"
    __table_args__ = (UniqueConstraint("course_code", "path"),)

    course_code: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(500))  # relative to the pack's folder
    kind: Mapped[str] = mapped_column(String(12))  # photo, document or video: how it was sent
    content_key: Mapped[str | None] = mapped_column(String(64))
    file_id: Mapped[str | None] = mapped_column(String(255))
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
