"""SQLite's short transactions on the event loop's thread vs in aiosqlite's thread.

Runs `--transactions` (2,000) small transactions through the bot's own engine
(`bot.db.create_engine`, so `bot/sqlite_driver.py` with the pragmas of `bot.db`) on a fresh
migrated SQLite file: each selects a user by Telegram id (the ORM, as the handlers do), inserts
one row and commits, the shape of a survey answer. Once with `sqlite_driver.INLINE` on (the
statements, commit and rollback on the loop's thread) and once off (every call crosses to
aiosqlite's thread, as before), each on a fresh file; one task after another (`--tasks 1`)
and `--tasks` (50) at once, all sharing the one pooled connection as the bot's updates do.

Prints the CPU (time.process_time: every thread of the process) and wall milliseconds per
transaction. Timing figures: run it on a quiet machine, compare the two lines of one run.

    .venv/bin/python bench/sqlite_inline.py [--transactions 2000] [--tasks 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bot import sqlite_driver  # noqa: E402
from bot.db import create_engine, make_sessionmaker, migrate  # noqa: E402
from models import HandledUpdate, User, utcnow  # noqa: E402

USERS = 1000


async def measure(url: str, transactions: int, tasks: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per transaction."""
    engine = create_engine(url)
    db = make_sessionmaker(engine)
    try:
        async with db.begin() as session:
            session.add_all(User(telegram_id=10_000 + i, first_name=f"U{i}") for i in range(USERS))
        counter = iter(range(transactions))

        async def worker() -> None:
            for n in counter:
                async with db.begin() as session:
                    user = await session.scalar(
                        select(User).where(User.telegram_id == 10_000 + n % USERS)
                    )
                    assert user is not None
                    await session.execute(
                        insert(HandledUpdate).values(update_id=n, handled_at=utcnow())
                    )

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        async with db() as session:
            assert len((await session.scalars(select(HandledUpdate.update_id))).all()) == (
                transactions
            )
    finally:
        await engine.dispose()
    return cpu * 1000 / transactions, wall * 1000 / transactions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=50, help="tasks at once in the second run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{args.transactions} transactions: select a user, insert a row, commit")
        print(f"{'tasks':>5}  {'mode':<7} {'CPU ms/tx':>10} {'wall ms/tx':>11}")
        for tasks in (1, args.tasks):
            for inline in (False, True):
                path = Path(tmp) / f"bench-{tasks}-{inline}.db"
                url = f"sqlite+aiosqlite:///{path}"
                migrate(url)
                sqlite_driver.INLINE = inline
                cpu, wall = asyncio.run(measure(url, args.transactions, tasks))
                mode = "inline" if inline else "thread"
                print(f"{tasks:>5}  {mode:<7} {cpu:>10.3f} {wall:>11.3f}", flush=True)
    sqlite_driver.INLINE = True


if __name__ == "__main__":
    main()
