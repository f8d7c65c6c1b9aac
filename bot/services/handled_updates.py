"""The record of handled Telegram updates: a redelivered update is done once, on one replica.

`bot.replicas.UpdateGuard` is the caller; this module holds its database half.

- On PostgreSQL `claim(session, update_id, lock_key)` runs at the start of the transaction
  that the guard keeps open while the update's handlers run: it takes
  `pg_advisory_xact_lock(lock_key)` (the user's Telegram id: two replicas handling two updates
  of one person take turns) and inserts the update's id `ON CONFLICT DO NOTHING`. A second
  delivery of the same update, on any replica, waits for the first transaction and then finds
  the id: it is skipped. The row commits when the handlers are done, so a replica that dies in
  the middle leaves no row (and releases the lock): Telegram's redelivery is then handled.
- On SQLite (one process, and the in-process per-user order) `seen` before the handlers and
  `record` after them do the same without holding the single connection meanwhile; `record`
  takes the ids of every update finished while the previous record was being written.

`prune` deletes rows older than `KEEP`: Telegram gives up on an unconfirmed update within 24
hours, so an older id can never come back (and Telegram may start numbering afresh after a
week without updates).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot import sqlite_driver
from bot.db import Sessionmaker
from models import HandledUpdate, utcnow

# Telegram keeps an update for 24 hours; twice that leaves room for a clock off by hours.
KEEP = timedelta(hours=48)

_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


async def claim(session: AsyncSession, update_id: int, lock_key: int) -> bool:
    """PostgreSQL: lock `lock_key` for this transaction and record the update; False if known.

    Waits while another transaction holds the same key (the same person's update on another
    replica) or has inserted the same id and not yet committed.
    """
    await session.execute(_LOCK, {"key": lock_key})
    inserted = await session.scalar(
        postgresql.insert(HandledUpdate)
        .values(update_id=update_id, handled_at=utcnow())
        .on_conflict_do_nothing(index_elements=[HandledUpdate.update_id])
        .returning(HandledUpdate.update_id)
    )
    return inserted is not None


async def recent(db: Sessionmaker, limit: int) -> list[int]:
    """The `limit` highest update ids recorded, highest last (SQLite's memory at start)."""
    async with db() as session:
        found = await session.scalars(
            select(HandledUpdate.update_id).order_by(HandledUpdate.update_id.desc()).limit(limit)
        )
        return sorted(found)


async def seen(db: Sessionmaker, update_id: int) -> bool:
    """Whether the update `update_id` was handled already (SQLite's check before handling)."""
    async with db() as session:
        found = await session.scalar(
            select(HandledUpdate.update_id).where(HandledUpdate.update_id == update_id)
        )
    return found is not None


async def record(db: Sessionmaker, *update_ids: int) -> None:
    """Record updates as handled (SQLite's mark after handling), in one transaction; idempotent."""
    if not update_ids:
        return
    now = utcnow()
    async with db.begin() as session:
        await session.execute(
            sqlite.insert(HandledUpdate).on_conflict_do_nothing(
                index_elements=[HandledUpdate.update_id]
            ),
            [{"update_id": update_id, "handled_at": now} for update_id in update_ids],
        )


async def prune(db: Sessionmaker, *, now: datetime | None = None) -> int:
    """Delete the records older than `KEEP`; how many. Harmless on several replicas at once."""
    cutoff = (now or utcnow()) - KEEP
    old = HandledUpdate.handled_at < cutoff
    async with db.begin() as session:
        count = await session.scalar(select(func.count()).select_from(HandledUpdate).where(old))
        if count:
            # A day of updates at once: off the event loop's thread on SQLite.
            with sqlite_driver.in_thread():
                await session.execute(delete(HandledUpdate).where(old))
    return int(count or 0)
