"""Instruments (surveys and tests) as loaded from content packs, one row per version.

A changed pack never overwrites an earlier version: answers keep pointing at the version they
were given to. `definition` holds the validated pack as data, so the engine and the exports
read exactly what was shown.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin


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
