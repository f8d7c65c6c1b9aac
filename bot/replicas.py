"""What lets several bot processes share one database: each update handled once, in order.

`UpdateGuard.run(update, handle)` wraps the handling of every update
(`bot.concurrency.PerUserUpdateProcessor` calls it inside its per-user lock):

- **Handled once.** Telegram redelivers an update the bot did not confirm (a crash, a restart,
  a webhook request that timed out), and behind a load balancer two replicas may both get it.
  The update's `update_id` is recorded in `handled_update` (`bot.services.handled_updates`);
  an update already recorded is skipped: no handler runs, nothing is answered or stored twice.
  We record ids rather than make every write idempotent: one check covers every feature,
  present and future, including the replies, which no database constraint could deduplicate.
- **One person at a time across processes.** On PostgreSQL the guard's transaction starts
  with `pg_advisory_xact_lock(<the person's Telegram id>)` (the chat's id when there is no
  person, the update's own id when there is neither) and stays open, on a connection of its
  own, while the handlers run: two replicas handling two updates of one person take turns, as
  two updates of one person already do in one process. The record is inserted right after the
  lock, in the same transaction, so it commits when the handling is done: a replica killed in
  the middle leaves neither lock nor record, and the redelivered update is handled by whoever
  gets it (at least once for a crash, exactly once otherwise; the flows already refuse an old
  button or a step answered twice). This is the one transaction held while Telegram is
  awaited; it holds a lock and one row, nothing the services write.
- **SQLite** has one process and one writer: the in-process per-user order is enough, and the
  record is checked before the handlers and written after them, without holding the single
  connection meanwhile. The records of updates finishing together are written in one
  transaction, by a task of the guard's; a crash before it commits means Telegram's
  redelivery is handled again, as a crash between the handlers and the record always did.
  Being the only writer, the process checks in memory: the ids it recorded, and at its first
  update the `REMEMBERED` most recent ones an earlier run did (a redelivery is of a recent
  update), so the check costs no statement.

The guard's connections are a pool of their own (`limit` of them, one per update running at
once), so the handlers never wait for a connection the guard holds.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from telegram import Update

from bot.db import Sessionmaker, make_sessionmaker
from bot.services import handled_updates

logger = logging.getLogger(__name__)

# SQLite: how many of the most recent handled ids the check keeps in memory (about 100 bytes
# each). Telegram redelivers an update within minutes of its first delivery, far fewer ids ago.
REMEMBERED = 100_000


def lock_key(update: Update) -> int:
    """The advisory lock of an update: its person, else its chat, else the update itself."""
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.update_id


def _discard(coroutine: Awaitable[Any]) -> None:
    """Drop a handling that will not run (closing it, so Python does not warn it was lost)."""
    if inspect.iscoroutine(coroutine):
        coroutine.close()


class UpdateGuard:
    """Run each update's handling once across processes, one person's updates in turn."""

    def __init__(self, db: Sessionmaker, engine: AsyncEngine, limit: int):
        """Guard the handling of updates for the database of `engine` (`db` its sessions).

        On PostgreSQL it opens a pool of `limit` connections (the updates handled at once).
        """
        self.db = db
        self.lock_engine: AsyncEngine | None = None
        self.lock_db: Sessionmaker | None = None
        if engine.dialect.name == "postgresql":
            self.lock_engine = create_async_engine(
                engine.url,
                hide_parameters=True,
                pool_pre_ping=True,
                pool_size=limit,
                max_overflow=0,
            )
            self.lock_db = make_sessionmaker(self.lock_engine)
        self.skipped = 0
        """Updates skipped because they were handled already (tests and logs read it)."""
        # SQLite: the ids recorded, oldest first, and as a set (None until the first update).
        self._order: deque[int] = deque()
        self._known: set[int] | None = None
        # SQLite: ids handled and not yet written, and the task writing them.
        self._unwritten: list[int] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, update: object, handling: Awaitable[Any]) -> bool:
        """Await `handling` unless `update` was handled already; whether it ran.

        When the database cannot be asked (it is down), the update is handled anyway: its
        handlers then fail the usual way and the person is told, rather than left unanswered.
        """
        if not isinstance(update, Update):
            await handling  # not from Telegram (a test's or PTB's own object): nothing to record
            return True
        if self.lock_db is None:
            return await self._run_single(update, handling)
        session = self.lock_db()
        try:
            await session.begin()
            claimed = await handled_updates.claim(session, update.update_id, lock_key(update))
        except Exception:
            logger.exception("update %s: could not record it, handled unguarded", update.update_id)
            await session.close()
            await handling
            return True
        try:
            if not claimed:
                return self._skip(update, handling)
            await handling
            try:
                await session.commit()
            except Exception:  # handled, but a redelivery would be handled again
                logger.exception("update %s: handled, its record was lost", update.update_id)
            return True
        finally:
            await session.close()  # rolls back whatever was not committed, releasing the lock

    async def _run_single(self, update: Update, handling: Awaitable[Any]) -> bool:
        """SQLite: check before (in memory), record after (one process, one connection)."""
        if self._known is None:
            try:
                recorded = await handled_updates.recent(self.db, REMEMBERED)
            except Exception:
                number = update.update_id
                logger.exception("update %s: could not check it, handled unguarded", number)
            else:
                self._order = deque(recorded)
                self._known = set(recorded)
        if self._known is not None and update.update_id in self._known:
            return self._skip(update, handling)
        await handling
        self._remember(update.update_id)
        self._unwritten.append(update.update_id)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="handled-update records")
        return True

    async def _write(self) -> None:
        """Write the records of the updates handled so far, many in one transaction.

        Fifty people answering at once finish fifty updates while one record is written: the
        next transaction takes all of them, rather than each update paying a transaction of
        its own on the single connection.
        """
        while self._unwritten:
            update_ids, self._unwritten = self._unwritten, []
            try:
                await handled_updates.record(self.db, *update_ids)
            except Exception:
                logger.exception("updates %s: handled, their records were lost", update_ids)

    def _remember(self, *update_ids: int) -> None:
        """Add ids to the SQLite check, forgetting the oldest beyond `REMEMBERED`."""
        for update_id in update_ids:
            self._order.append(update_id)
            if self._known is not None:
                self._known.add(update_id)
        while len(self._order) > REMEMBERED:
            old = self._order.popleft()
            if self._known is not None:
                self._known.discard(old)

    def _skip(self, update: Update, handling: Awaitable[Any]) -> bool:
        logger.info("update %s was handled already: skipped", update.update_id)
        _discard(handling)
        self.skipped += 1
        return False

    async def dispose(self) -> None:
        """Write the records still pending and close the guard's own connections (at shutdown)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer
        if self.lock_engine is not None:
            await self.lock_engine.dispose()
