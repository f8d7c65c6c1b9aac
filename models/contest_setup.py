"""An organizer's working copy of a contest's definition, edited in the /contest_setup wizard.

The wizard changes a copy, not the contest: each typed value or button is saved into the copy
at once (so a restart or /cancel loses nothing), and only Save puts the whole definition
through the contest pack schema and the loader's locks and stores it on the contest (the next
pack version). One copy per organizer and contest; a new contest's copy has no contest yet.
`base_version` is the contest's pack version the copy was taken from, so a save after another
organizer's save is refused instead of undoing theirs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin


class ContestSetup(IdMixin, TimestampMixin, Base):
    """A working copy of one contest's definition (a pack as data) by one organizer."""

    __tablename__ = "contest_setup"
    __table_args__ = (UniqueConstraint("user_id", "contest_id"),)

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    # None: a new contest, not saved yet.
    contest_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contest.id", ondelete="CASCADE"), index=True
    )
    base_version: Mapped[int | None] = mapped_column(Integer)
    # The pack being edited (`bot.content.contest_schema.ContestPack` as JSON, windows with
    # their UTC offset), plus `_criterion`: a criterion being added, step by step.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
