"""Instruments (surveys and tests) as loaded from content packs, one row per version.

A changed pack never overwrites an earlier version: answers keep pointing at the version they
were given to. `definition` holds the validated pack as data, so the engine and the exports
read exactly what was shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin, UTCDateTime


class Instrument(IdMixin, TimestampMixin, Base):
    """One version of an instrument."""

    __tablename__ = "instrument"
    __table_args__ = (UniqueConstraint("code", "version"),)

    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)  # ours: 1, 2, ... per code, in load order
    pack_version: Mapped[int] = mapped_column(Integer)  # what the pack file declared
    kind: Mapped[str] = mapped_column(String(8))  # survey or test
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    pair_role: Mapped[str | None] = mapped_column(String(4))
    pair_with: Mapped[str | None] = mapped_column(String(40))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    checksum: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200))
    loaded_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL")
    )


class Campaign(IdMixin, TimestampMixin, Base):
    """An instrument version published to an audience for a wave (pre, post, ...)."""

    __tablename__ = "campaign"

    instrument_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("instrument.id", ondelete="RESTRICT"), index=True
    )
    instrument_code: Mapped[str] = mapped_column(String(40), index=True)
    wave: Mapped[str] = mapped_column(String(32))
    audience_kind: Mapped[str] = mapped_column(String(16), default="all")
    audience_ref: Mapped[str | None] = mapped_column(String(32))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL")
    )
    # None while the organizer is still composing it in chat.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remind_before_hours: Mapped[int | None] = mapped_column(Integer)
    # Set in the same transaction that queues the messages, so each goes out exactly once.
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Attempt(IdMixin, Base):
    """One person taking one campaign's instrument once; progress lives in its answers."""

    __tablename__ = "attempt"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id", "number"),)

    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    instrument_id: Mapped[int] = mapped_column(BigId, ForeignKey("instrument.id"))
    number: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16), default="in_progress")
    language: Mapped[str] = mapped_column(String(2))
    seed: Mapped[str] = mapped_column(String(16))
    # The item shown after going Back (None: the first unanswered one); passed info screens.
    cursor: Mapped[str | None] = mapped_column(String(40))
    passed: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Options ticked on a multiple-choice item before Done.
    draft: Mapped[list[str] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Answer(IdMixin, Base):
    """One stored answer, by item code, in the language-independent form."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("attempt_id", "item_code"),)

    attempt_id: Mapped[int] = mapped_column(BigId, ForeignKey("attempt.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(40))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)  # None: skipped
    numeric: Mapped[float | None] = mapped_column(Float)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
