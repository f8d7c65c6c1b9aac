"""Updates already handled: one row per Telegram `update_id`, so a redelivery does nothing.

Telegram delivers an update again when the bot did not confirm it (a crash, a restart, a
webhook request that timed out), and behind a load balancer two replicas may get the same
update. `bot.replicas.UpdateGuard` inserts the update's id before its handlers run and skips
an update whose id is already here. Rows older than `bot.services.handled_updates.KEEP` are
pruned by a timed duty: Telegram keeps an unconfirmed update for 24 hours at most.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class HandledUpdate(Base):
    """One update that was handled (or is being handled) by some replica."""

    __tablename__ = "handled_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), index=True)
