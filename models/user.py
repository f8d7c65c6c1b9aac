"""People who talk to the bot, their profile, consent and roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigId, IdMixin, TimestampMixin, UTCDateTime
from models.university import University


class User(IdMixin, TimestampMixin, Base):
    """A Telegram user known to the bot; onboarding progress is derived from these columns."""

    # "user" is reserved in PostgreSQL; a quoted name would trip every analyst's SQL.
    __tablename__ = "app_user"

    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    telegram_language: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(2))
    # None: not asked yet; False: declined (no answers are stored); True: consented.
    consent: Mapped[bool | None] = mapped_column(Boolean)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    university_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("university.id", ondelete="SET NULL"), index=True
    )
    group_name: Mapped[str | None] = mapped_column(String(200))
    # The free text the bot waits for (e.g. "group"), kept here so a restart keeps the flow.
    awaiting: Mapped[str | None] = mapped_column(String(32))
    # A `/start` deep link (`c-<code>`) opened before onboarding was complete, followed once it
    # is; at most 64 characters, Telegram's limit for a start parameter.
    pending_start: Mapped[str | None] = mapped_column(String(64))
    onboarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # False after Telegram answered 403 blocked / 400 chat not found; True again when they write.
    reachable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    university: Mapped[University | None] = relationship(lazy="joined")


class UserRole(IdMixin, TimestampMixin, Base):
    """A role held by a user; `university_id` scopes organizer and coach rights when set."""

    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("app_user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    university_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("university.id", ondelete="SET NULL")
    )
    granted_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL")
    )
