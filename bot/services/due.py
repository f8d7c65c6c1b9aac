"""A due row, claimed once, done once: the database half of every timed duty.

Everything the bot does on its own at a time (a scheduled broadcast, a campaign's invitation,
reminder and closing, and next a lesson delivery or an event reminder) is a row with a due time
and a state that says whether it is done. `run_due` is the one way such rows are taken:

1. find the ids of the rows due now (`is_due(now)`), without locking anything;
2. for each id, open its own short transaction and select the row again `FOR UPDATE SKIP
   LOCKED`, still under `is_due(now)`: a row another replica is taking is skipped, not waited
   for, and a row done meanwhile no longer matches (SQLite has one writer at a time, so there
   the second look alone decides);
3. in that same transaction, `settle(session, row, now)` does the work and marks the row done
   so that `is_due` no longer matches it: the work is writing rows (queueing messages in the
   broadcast outbox, which sends each of them exactly once), never calling Telegram;
4. commit. The claim, the work and the mark are one commit: a crash before it leaves the row
   due for the next pass, a crash after it leaves it done, so no row is done twice or lost.

What needs doing after the commit (starting the sending of the messages queued) is the caller's,
with the values `settle` returned: see `bot.jobs`, where each duty runs a pass on a timer.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from models import utcnow

logger = logging.getLogger(__name__)

R = TypeVar("R")

# Rows taken per pass: the next pass, a tick later, takes the rest.
BATCH = 200

# Told (table, rows found due, rows settled here) after each `run_due`: the running bot's duty
# passes set it to count them in its metrics (`bot.jobs.duties`); unset, nobody is told.
DUE_OBSERVER: contextvars.ContextVar[Callable[[str, int, int], None] | None] = (
    contextvars.ContextVar("due_observer", default=None)
)


@dataclass(frozen=True)
class DueRows(Generic[R]):
    """One kind of due row: its table, when a row is due, and the work that settles it."""

    model: type[Any]  # a mapped class with an integer `id`
    is_due: Callable[[datetime], ColumnElement[bool]]  # due at `now`, and not done yet
    # In the claiming transaction: do the work, make `is_due` false for the row, return a value.
    settle: Callable[[AsyncSession, Any, datetime], Awaitable[R]]


async def run_due(
    db: Sessionmaker, rows: DueRows[R], *, now: datetime | None = None, batch: int = BATCH
) -> list[R]:
    """Take every row due at `now` (at most `batch`), each exactly once; what `settle` returned.

    A row another process took, or one no longer due, is left out.
    """
    now = now or utcnow()
    model = rows.model
    async with db() as session:
        ids = (
            await session.scalars(
                select(model.id).where(rows.is_due(now)).order_by(model.id).limit(batch)
            )
        ).all()
    settled: list[R] = []
    for row_id in ids:
        try:
            async with db.begin() as session:
                row = await session.scalar(
                    select(model)
                    .where(model.id == row_id, rows.is_due(now))
                    .with_for_update(skip_locked=True)
                )
                if row is None:
                    continue  # another replica has it, or it was done or cancelled meanwhile
                value = await rows.settle(session, row, now)
        except Exception:  # one bad row must not hold back every later one
            # Rolled back: the row stays due and is tried again at the next pass.
            logger.exception("%s %s: could not be settled", model.__tablename__, row_id)
            continue
        settled.append(value)  # committed: the row is done
    observe = DUE_OBSERVER.get()
    if observe is not None:
        observe(model.__tablename__, len(ids), len(settled))
    return settled
