"""Universities of the consortium, each in one country, named in every interface language."""

from __future__ import annotations

from sqlalchemy import Boolean, String, true
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin


class University(IdMixin, TimestampMixin, Base):
    """A member university; hidden ones stay in the data but are not offered to new students."""

    __tablename__ = "university"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2: KZ, RU, UZ
    name_en: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_kk: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    def name(self, language: str) -> str:
        """The name in `language`, falling back to English."""
        return getattr(self, f"name_{language}", None) or self.name_en
