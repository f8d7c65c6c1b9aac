"""SQLite with one trip to aiosqlite's thread per statement (bot/sqlite_driver.py).

What SQLAlchemy reads from a cursor must be what the stock adapter gives: rows, description,
row counts, the last row id, executemany, sqlite3's exceptions mapped to SQLAlchemy's, and
transactions that commit and roll back. And the point of it: one crossing per statement.
"""

from __future__ import annotations

from pathlib import Path

import aiosqlite.core
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from bot import sqlite_driver
from bot.db import create_engine


@pytest.fixture
async def engine(tmp_path: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    yield engine
    await engine.dispose()


async def test_the_engine_uses_it(engine):
    assert isinstance(engine.dialect.dbapi, sqlite_driver._Dbapi)
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, aiosqlite.Connection)
        # The pragmas of bot.db ran through it at connect.
        assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
        assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"


async def test_rows_counts_ids_and_errors_as_sqlalchemy_expects(engine):
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
        assert [tuple(r) for r in result] == [(1, "a"), (2, "b"), (3, "c")]
        updated = await connection.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        assert (await connection.execute(text("SELECT 1 WHERE 0"))).first() is None
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
    with pytest.raises(OperationalError):
        async with engine.connect() as connection:
            await connection.execute(text("SELECT nothing FROM nowhere"))


async def test_a_rolled_back_transaction_leaves_nothing(engine):
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER)"))
    with pytest.raises(RuntimeError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("undo")
    async with engine.connect() as connection:
        assert (await connection.scalar(text("SELECT count(*) FROM t"))) == 0


async def test_one_crossing_per_statement(engine, monkeypatch):
    """Tried: a select with rows and an insert; each is one call to the connection's thread
    (the stock adapter made four: open a cursor, execute, fetch, close)."""
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER)"))
        calls: list[object] = []
        original = aiosqlite.core.Connection._execute

        async def counted(self, function, *args, **kwargs):
            calls.append(function)
            return await original(self, function, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
        await connection.execute(text("INSERT INTO t VALUES (1), (2)"))
        assert (await connection.execute(text("SELECT n FROM t"))).scalars().all() == [1, 2]
        assert len(calls) == 2
