"""The export audit log: every export, who asked for it, and whether it named people.

Research exports are pseudonymous; an identified export (Telegram id, name, username) exists
for admins only and is the reason this table exists: each one is recorded here, with the
filters used and the number of rows, and the row outlives the user who made it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin


class ExportLog(IdMixin, TimestampMixin, Base):
    """One export made in chat or from the command line."""

    __tablename__ = "export_log"

    actor_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL"), index=True
    )
    # Kept even when the user row is deleted: who took identified data must stay on record.
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    via: Mapped[str] = mapped_column(String(8))  # chat or cli
    dataset: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(8))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    identified: Mapped[bool] = mapped_column(Boolean, default=False)
    rows: Mapped[int] = mapped_column(Integer, default=0)
