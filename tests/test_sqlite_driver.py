"""SQLite on the event loop's thread, aiosqlite's thread when needed (bot/sqlite_driver.py).

What SQLAlchemy reads from a cursor must be what the stock adapter gives: rows, description,
row counts, the last row id, executemany, sqlite3's exceptions mapped to SQLAlchemy's, and
transactions that commit and roll back, whether a statement ran inline or in the thread. And
the point of it: a short statement makes no crossing at all; a statement that meets another
connection's lock, a long read and marked heavy work go to the thread (one crossing), and the
loop keeps running meanwhile.

Progress is shown by counting the ticks of another coroutine, never by a clock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import aiosqlite.core
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from bot import sqlite_driver
from bot.db import create_engine

LOOP_THREAD = "loop"
WORKER_THREAD = "worker"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "d.db"


@pytest.fixture
async def engine(path: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    yield engine
    await engine.dispose()


@pytest.fixture
def crossings(monkeypatch) -> list[object]:
    """The functions sent to aiosqlite's thread from now on."""
    calls: list[object] = []
    original = aiosqlite.core.Connection._execute

    async def counted(self, function, *args, **kwargs):
        calls.append(args[2] if function is sqlite_driver._waiting else function)
        return await original(self, function, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
    return calls


async def sqlite_of(connection) -> sqlite3.Connection:
    raw = await connection.get_raw_connection()
    return raw.driver_connection._conn


async def adapter_of(connection) -> sqlite_driver._Connection:
    raw = await connection.get_raw_connection()
    return raw.dbapi_connection


@contextmanager
def traced(sqlite: sqlite3.Connection) -> Iterator[list[tuple[str, str]]]:
    """(thread, SQL) of each statement SQLite starts, the adapter's busy pragmas left out."""
    loop_thread = threading.get_ident()
    seen: list[tuple[str, str]] = []

    def trace(sql: str) -> None:
        if "busy_timeout" not in sql:
            where = LOOP_THREAD if threading.get_ident() == loop_thread else WORKER_THREAD
            seen.append((where, sql))

    sqlite.set_trace_callback(trace)
    try:
        yield seen
    finally:
        sqlite.set_trace_callback(None)


class Ticker:
    """Another coroutine: counts how often the loop ran it."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(0)

    async def wait(self, ticks: int) -> None:
        """Let the loop run until the ticker has ticked `ticks` more times."""
        target = self.ticks + ticks
        while self.ticks < target:
            await asyncio.sleep(0)

    def stop(self) -> None:
        self._task.cancel()


@contextmanager
def ticker() -> Iterator[Ticker]:
    t = Ticker()
    try:
        yield t
    finally:
        t.stop()


async def write_lock(path: Path) -> sqlite3.Connection:
    """Another connection, opened in another thread, holding SQLite's write lock on `path`
    until it commits."""

    def lock() -> sqlite3.Connection:
        other = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t (n) VALUES (100)")
        return other

    return await asyncio.to_thread(lock)


async def make_table(engine, rows: int = 0) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"))
        if rows:
            await connection.execute(
                text(
                    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
                    "WHERE i < :rows) INSERT INTO t (n) SELECT i FROM c"
                ),
                {"rows": rows},
            )


# --- what SQLAlchemy sees -------------------------------------------------------------------


async def test_the_engine_uses_it(engine):
    assert isinstance(engine.dialect.dbapi, sqlite_driver._Dbapi)
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, aiosqlite.Connection)
        assert isinstance(raw.dbapi_connection, sqlite_driver._Connection)
        # The pragmas of bot.db ran through it at connect.
        assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
        assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
        # bot.db's busy timeout is the adapter's, for the thread; SQLite's own stays 0.
        assert raw.dbapi_connection._busy_ms == 10_000
        assert (await connection.scalar(text("PRAGMA busy_timeout"))) == 0


@pytest.mark.parametrize("mode", ["inline", "thread"])
async def test_rows_counts_ids_and_errors_as_sqlalchemy_expects(engine, mode):
    with sqlite_driver.in_thread() if mode == "thread" else nullcontext():
        async with engine.begin() as connection:
            await connection.execute(
                text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)")
            )
            inserted = await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
            assert inserted.lastrowid == 1 and inserted.rowcount == 1
            many = await connection.execute(
                text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
            )
            assert many.rowcount == 2
            result = await connection.execute(text("SELECT id, name FROM t ORDER BY id"))
            assert list(result.keys()) == ["id", "name"]
            assert result.cursor.description == (
                ("id", None, None, None, None, None, None),
                ("name", None, None, None, None, None, None),
            )
            assert [tuple(r) for r in result] == [(1, "a"), (2, "b"), (3, "c")]
            updated = await connection.execute(
                text("UPDATE t SET name = name || '!' WHERE id > 1")
            )
            assert updated.rowcount == 2
            assert (await connection.execute(text("SELECT 1 WHERE 0"))).first() is None
            with pytest.raises(IntegrityError) as caught:
                await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
            assert type(caught.value.orig) is sqlite3.IntegrityError
        with pytest.raises(OperationalError) as caught:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT nothing FROM nowhere"))
        assert type(caught.value.orig) is sqlite3.OperationalError


async def test_a_rolled_back_transaction_leaves_nothing(engine):
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER)"))
    with pytest.raises(RuntimeError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("undo")
    async with engine.connect() as connection:
        assert (await connection.scalar(text("SELECT count(*) FROM t"))) == 0


async def test_a_rollback_after_an_error_undoes_the_transaction_and_the_connection_goes_on(
    engine,
):
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER UNIQUE)"))
        await connection.execute(text("INSERT INTO t VALUES (1)"))
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO t VALUES (2)"))
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        await connection.rollback()
        assert (await connection.execute(text("SELECT n FROM t"))).scalars().all() == [1]
        await connection.execute(text("INSERT INTO t VALUES (3)"))
        await connection.commit()
        assert (await connection.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all() == [
            1,
            3,
        ]


# --- where statements run -------------------------------------------------------------------


async def test_short_statements_run_on_the_loops_thread_with_no_crossing(engine, crossings):
    async with engine.connect() as connection:
        sqlite = await sqlite_of(connection)
        await connection.execute(text("CREATE TABLE t (n INTEGER)"))
        await connection.commit()
        crossings.clear()
        with traced(sqlite) as seen:
            await connection.execute(text("INSERT INTO t VALUES (1), (2)"))
            assert (await connection.execute(text("SELECT n FROM t"))).scalars().all() == [1, 2]
            await connection.commit()
        assert crossings == []
        assert [where for where, _ in seen] == [LOOP_THREAD] * 4  # BEGIN, INSERT, SELECT, COMMIT
        assert [sql.split()[0] for _, sql in seen] == ["BEGIN", "INSERT", "SELECT", "COMMIT"]


async def test_in_thread_sends_statements_to_the_thread_one_crossing_each(engine, crossings):
    """A select with rows and an insert: one call to aiosqlite's thread each (the stock adapter
    made four: open a cursor, execute, fetch, close)."""
    async with engine.connect() as connection:
        sqlite = await sqlite_of(connection)
        await connection.execute(text("CREATE TABLE t (n INTEGER)"))
        await connection.commit()
        crossings.clear()
        with traced(sqlite) as seen, sqlite_driver.in_thread():
            await connection.execute(text("INSERT INTO t VALUES (1), (2)"))
            assert (await connection.execute(text("SELECT n FROM t"))).scalars().all() == [1, 2]
            await connection.commit()
        assert crossings == [sqlite_driver._run, sqlite_driver._run, sqlite_driver._commit]
        assert [where for where, _ in seen] == [WORKER_THREAD] * 4
        # Only inside the block: back to inline after it.
        crossings.clear()
        await connection.execute(text("SELECT 1"))
        assert crossings == []


async def test_the_switch_sends_everything_to_the_thread(engine, crossings, monkeypatch):
    monkeypatch.setattr(sqlite_driver, "INLINE", False)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER)"))
        await connection.execute(text("INSERT INTO t VALUES (1)"))
    assert sqlite_driver._run in crossings and sqlite_driver._commit in crossings


# --- locks: never wait on the loop ------------------------------------------------------------


async def test_a_write_that_meets_another_connections_lock_waits_in_the_thread(
    engine, path, crossings
):
    await make_table(engine)
    other = await write_lock(path)
    async with engine.connect() as connection:
        sqlite = await sqlite_of(connection)

        async def write() -> None:
            await connection.execute(text("INSERT INTO t (n) VALUES (1)"))
            await connection.commit()

        with traced(sqlite) as seen, ticker() as loop:
            task = asyncio.create_task(write())
            await loop.wait(50)
            # The loop ran 50 times while the write waited for the lock (in the thread).
            assert not task.done()
            other.commit()
            other.close()
            await task
        inserts = [where for where, sql in seen if sql.startswith("INSERT")]
        # Tried inline, met the lock at once (busy timeout 0), waited and ran in the thread.
        assert inserts == [LOOP_THREAD, WORKER_THREAD]
        assert crossings == [sqlite_driver._run]
        # The failed attempt changed nothing: one row of ours, once, after the other's.
        assert (await connection.execute(text("SELECT n FROM t ORDER BY id"))).scalars().all() == [
            100,
            1,
        ]
        # Back to 0 for the next inline statement.
        assert (await connection.scalar(text("PRAGMA busy_timeout"))) == 0


async def test_a_commit_that_meets_a_readers_lock_is_retried_in_the_thread(
    engine, path, crossings
):
    """Rollback-journal mode: COMMIT needs readers gone and fails with BUSY while one reads;
    SQLite keeps the transaction, the thread waits for the reader and commits it once."""
    await make_table(engine, rows=3)
    async with engine.connect() as connection:
        await connection.execute(text("PRAGMA journal_mode=DELETE"))
        reader = sqlite3.connect(path, timeout=0, check_same_thread=False)
        cursor = reader.execute("SELECT n FROM t")
        cursor.fetchone()  # holds SHARED until the cursor is done
        await connection.execute(text("INSERT INTO t (n) VALUES (4)"))
        crossings.clear()
        with ticker() as loop:
            task = asyncio.create_task(connection.commit())
            await loop.wait(50)
            assert not task.done()
            cursor.close()
            reader.close()
            await task
        assert crossings == [sqlite_driver._commit]
        check = sqlite3.connect(path)
        assert [n for (n,) in check.execute("SELECT n FROM t ORDER BY n")] == [1, 2, 3, 4]
        check.close()


async def test_a_cancelled_call_keeps_the_connection_until_the_thread_is_done(engine, path):
    """No inline statement may run on the connection while the thread still uses it."""
    await make_table(engine)
    other = await write_lock(path)
    async with engine.connect() as connection:
        adapter = await adapter_of(connection)
        insert = "INSERT INTO t (n) VALUES (1)"
        waiting = asyncio.create_task(adapter._run(sqlite_driver._run, insert, None, False))
        with ticker() as loop:
            await loop.wait(20)
            waiting.cancel()
            await loop.wait(20)
            assert waiting.cancelled()
            assert adapter._execute_mutex.locked()  # the thread still waits for the lock
            after = asyncio.create_task(adapter._run(sqlite_driver._run, "SELECT 1", None, False))
            await loop.wait(20)
            assert not after.done()
            other.commit()
            other.close()
            assert (await after)[1] == [(1,)]
        # The cancelled insert did run, once, in the thread; its transaction is rolled back.
        assert (await connection.execute(text("SELECT n FROM t"))).scalars().all() == [100, 1]
        await adapter._run(sqlite_driver._rollback)
        assert (await connection.execute(text("SELECT n FROM t"))).scalars().all() == [100]


# --- heavy work -------------------------------------------------------------------------------


async def test_a_long_read_is_interrupted_and_run_in_the_thread(engine, crossings, monkeypatch):
    await make_table(engine, rows=5000)
    monkeypatch.setattr(sqlite_driver, "READ_BUDGET", 0.0)  # any read SQLite reports on is long
    async with engine.connect() as connection:
        sqlite = await sqlite_of(connection)
        await connection.execute(text("INSERT INTO t (n) VALUES (0)"))  # a transaction open
        crossings.clear()
        with traced(sqlite) as seen:
            values = (await connection.execute(text("SELECT n FROM t"))).scalars().all()
            # A short read (well under PROGRESS_STEPS instructions) never meets the budget.
            one = await connection.scalar(text("SELECT n FROM t WHERE id = 2"))
        assert sorted(values) == list(range(5001)) and one == 2
        # The long read: tried inline, interrupted, run in the thread; the short one inline.
        assert seen == [
            (LOOP_THREAD, "SELECT n FROM t"),
            (WORKER_THREAD, "SELECT n FROM t"),
            (LOOP_THREAD, "SELECT n FROM t WHERE id = 2"),
        ]
        assert crossings == [sqlite_driver._run]
        # Interrupting the read left the transaction alone: the insert is still there.
        assert sqlite.in_transaction
        await connection.commit()
        assert (await connection.scalar(text("SELECT count(*) FROM t"))) == 5001


async def test_a_write_is_never_interrupted(engine, crossings, monkeypatch):
    """Interrupting a write would roll back its whole transaction: it runs to the end."""
    await make_table(engine, rows=5000)
    monkeypatch.setattr(sqlite_driver, "READ_BUDGET", 0.0)
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (n) VALUES (0)"))
        crossings.clear()
        copied = await connection.execute(text("INSERT INTO t (n) SELECT n FROM t"))
        assert copied.rowcount == 5001
        assert crossings == []
    async with engine.connect() as connection:
        assert (await connection.scalar(text("SELECT count(*) FROM t"))) == 10002


async def test_many_short_statements_give_the_loop_back(engine, monkeypatch):
    await make_table(engine, rows=10)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        with ticker() as loop:
            await loop.wait(1)
            # Inline statements never suspend the task: within a slice nobody else runs...
            monkeypatch.setattr(sqlite_driver, "SLICE", 3600.0)
            start = loop.ticks
            for i in range(1, 11):
                await connection.execute(text("SELECT n FROM t WHERE id = :i"), {"i": i})
            assert loop.ticks == start
            # ... and past it, the loop is given back before the next statement.
            monkeypatch.setattr(sqlite_driver, "SLICE", -1.0)
            start = loop.ticks
            for i in range(1, 11):
                await connection.execute(text("SELECT n FROM t WHERE id = :i"), {"i": i})
            assert loop.ticks - start >= 4  # every other one: a yield starts a new stretch


def test_reads_are_told_from_writes():
    assert sqlite_driver._is_read("SELECT 1", False)
    assert sqlite_driver._is_read("  select n FROM t", False)
    assert sqlite_driver._is_read("WITH c AS (SELECT 1) SELECT * FROM c", False)
    assert not sqlite_driver._is_read("WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c", False)
    assert not sqlite_driver._is_read("INSERT INTO t SELECT n FROM t", False)
    assert not sqlite_driver._is_read("UPDATE t SET n = 1 RETURNING n", False)
    assert not sqlite_driver._is_read("PRAGMA journal_mode=WAL", False)
    assert not sqlite_driver._is_read("SELECT 1", True)


async def test_a_marked_heavy_write_runs_in_the_thread(db, crossings):
    """The pruning of handled updates (a day of them at once) is marked: its DELETE goes to
    the thread, the rest of its transaction stays inline."""
    from datetime import timedelta

    from bot.services import handled_updates
    from models import HandledUpdate, utcnow

    now = utcnow()
    async with db.begin() as session:
        session.add_all(
            HandledUpdate(update_id=i, handled_at=now - timedelta(hours=49)) for i in range(50)
        )
    crossings.clear()
    assert await handled_updates.prune(db, now=now) == 50
    assert crossings == [sqlite_driver._run]  # the DELETE; the count and the commit inline


async def test_wal_checkpoints_run_in_the_thread_after_writes(
    engine, crossings, monkeypatch, caplog
):
    """SQLite's automatic checkpoint (inside a COMMIT, fsyncs) is off; every CHECKPOINT_EVERY
    commits that wrote, the commit goes to the thread and checkpoints there, right after."""
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_EVERY", 2)
    await make_table(engine)
    async with engine.connect() as connection:
        assert (await connection.scalar(text("PRAGMA wal_autocheckpoint"))) == 0
        adapter = await adapter_of(connection)
        await connection.commit()
        adapter._writes = 0
        crossings.clear()
        await connection.execute(text("INSERT INTO t (n) VALUES (1)"))
        await connection.commit()
        await connection.execute(text("SELECT n FROM t"))
        await connection.commit()  # read only: not a write
        assert crossings == []
        await connection.execute(text("INSERT INTO t (n) VALUES (2)"))
        await connection.commit()
        assert crossings == [sqlite_driver._commit_and_checkpoint]
        assert "checkpoint failed" not in caplog.text
        await connection.execute(text("INSERT INTO t (n) VALUES (3)"))
        await connection.commit()
        assert crossings == [sqlite_driver._commit_and_checkpoint]  # counting afresh
        assert (await connection.execute(text("SELECT n FROM t"))).scalars().all() == [1, 2, 3]
