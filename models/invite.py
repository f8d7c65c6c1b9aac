"""Invite codes carried by `t.me/<bot>?start=<code>` deep links that grant a role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin, UTCDateTime


class Invite(IdMixin, TimestampMixin, Base):
    """A code granting `role` (and a university) to whoever opens it, `max_uses` times."""

    __tablename__ = "invite"

    code: Mapped[str] = mapped_column(String(48), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    university_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("university.id", ondelete="CASCADE")
    )
    max_uses: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InviteUse(IdMixin, Base):
    """One user having used one invite; a user can use an invite only once."""

    __tablename__ = "invite_use"
    __table_args__ = (UniqueConstraint("invite_id", "user_id"),)

    invite_id: Mapped[int] = mapped_column(BigId, ForeignKey("invite.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("app_user.id", ondelete="CASCADE"))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())
