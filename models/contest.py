"""The national online contest: contests, entries with their authors and files, jurors, reviews.

A contest is stored once per pack version with its validated definition (rules, entry fields,
criteria with weights and maxima), like a course; its windows (opening, deadline, optional late
cut-off, jury deadline) and switches (blind review, conflicts excluded, standardised scores,
feedback shown to authors) are columns, so the timed duties can find what is due by index.
An entry is a draft saved at every step of its conversation until submitted; its authors are
the owner and co-authors who joined with the entry's team code; its files are Telegram
`file_id`s with name, type and size. After the submissions close the entries are allocated to
jurors (`contest_review` rows, one per entry and juror), and each review holds the juror's
score per criterion and comment until submitted (and revisable until the jury deadline).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin, UTCDateTime


class Contest(IdMixin, TimestampMixin, Base):
    """One contest: its definition, windows, review rules and where it stands."""

    __tablename__ = "contest"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    pack_version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The validated definition: rules, entry fields (files: types, count), criteria
    # [{code, title, weight, max}], team size.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    checksum: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="draft")  # draft/open/judging/released
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    late_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # late entries marked
    jury_deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    max_authors: Mapped[int] = mapped_column(Integer, default=1)
    reviews_per_entry: Mapped[int] = mapped_column(Integer, default=3)
    blind: Mapped[bool] = mapped_column(Boolean, default=True)
    exclude_conflicts: Mapped[bool] = mapped_column(Boolean, default=True)
    standardise: Mapped[bool] = mapped_column(Boolean, default=False)
    show_feedback: Mapped[bool] = mapped_column(Boolean, default=True)
    jury_code: Mapped[str | None] = mapped_column(String(16), unique=True)  # the jury invite
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL")
    )
    # The timed duties' marks: each None until done.
    drafts_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    allocated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    allocation_note: Mapped[str | None] = mapped_column(Text)  # a constraint that was not met
    jurors_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    results_broadcast_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("broadcast.id", ondelete="SET NULL")
    )


class ContestEntry(IdMixin, TimestampMixin, Base):
    """One entry: a draft saved at every step, then submitted (or withdrawn)."""

    __tablename__ = "contest_entry"
    __table_args__ = (
        UniqueConstraint("contest_id", "owner_id"),
        Index("ix_contest_entry_contest_id_state", "contest_id", "state"),
    )

    contest_id: Mapped[int] = mapped_column(BigId, ForeignKey("contest.id", ondelete="RESTRICT"))
    owner_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL"), index=True
    )
    code: Mapped[str] = mapped_column(String(16), unique=True)  # the receipt's entry code
    team_code: Mapped[str] = mapped_column(String(16), unique=True)  # co-authors join with it
    state: Mapped[str] = mapped_column(String(16), default="draft")  # draft/submitted/withdrawn
    step: Mapped[str | None] = mapped_column(String(24))  # the conversation's next field
    title: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EntryAuthor(IdMixin, Base):
    """An author of an entry: its owner, or a co-author who joined with the team code."""

    __tablename__ = "contest_entry_author"
    __table_args__ = (UniqueConstraint("entry_id", "user_id"),)

    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contest_entry.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    owner: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EntryFile(IdMixin, Base):
    """A file of an entry, kept as Telegram's file_id with its name, type and size."""

    __tablename__ = "contest_entry_file"

    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contest_entry.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[str] = mapped_column(String(256))
    file_unique_id: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(256))
    mime_type: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Juror(IdMixin, Base):
    """A member of a contest's jury (joined by the jury invite link)."""

    __tablename__ = "contest_juror"
    __table_args__ = (UniqueConstraint("contest_id", "user_id"),)

    contest_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contest.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Review(IdMixin, TimestampMixin, Base):
    """One juror's review of one entry: allocated, then scored per criterion and submitted."""

    __tablename__ = "contest_review"
    __table_args__ = (UniqueConstraint("entry_id", "juror_id"),)

    contest_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contest.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contest_entry.id", ondelete="CASCADE"), index=True
    )
    juror_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contest_juror.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending/submitted
    scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)  # criterion -> score
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ContestCertificate(IdMixin, TimestampMixin, Base):
    """A participation or winner's certificate of an author, verifiable with /verify."""

    __tablename__ = "contest_certificate"
    __table_args__ = (UniqueConstraint("entry_id", "user_id"),)

    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contest_entry.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # participation / winner
    rank: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))  # as the author typed and confirmed it
