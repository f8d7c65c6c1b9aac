"""Engine, session factory and schema migrations.

SQLite gets WAL mode (readers never block the single writer), foreign keys on and a busy
timeout; PostgreSQL needs nothing special. Migrations are Alembic's, run programmatically so
`python -m bot` and the tests use the very same revisions.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from bot import sqlite_driver

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

Sessionmaker = async_sessionmaker[AsyncSession]


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix):
        return None
    path = url[len(prefix) :].split("?", 1)[0]
    return None if not path or path == ":memory:" else Path(path)


def ensure_database_dir(url: str) -> None:
    """Create the directory of a SQLite file so a fresh checkout just works."""
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    # First: bot.sqlite_driver keeps this as the wait of work it sends to aiosqlite's thread
    # (SQLite's own stays 0 so that nothing waits for a lock on the event loop's thread), and
    # switching a new file to WAL may have to wait for the lock.
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for `url` with the pragmas SQLite needs.

    SQLite gets a single pooled connection: it admits one writer at a time anyway, and
    several connections competing for the write lock wait in SQLite's busy handler, which
    sleeps with a growing back-off (measured: 3x lower throughput with 15 connections than
    with one). With one connection, concurrent updates queue in asyncio instead, in order.
    Transactions stay short because no service holds one while awaiting Telegram. The cost:
    a service must never open a second session while holding one (it would wait for itself);
    services pass their session to helpers instead.
    """
    ensure_database_dir(url)
    # Statement parameters hold users' answers: keep them out of errors, logs and alerts.
    kwargs = {"hide_parameters": True, **kwargs}
    if url.startswith("sqlite"):
        kwargs = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 120, **kwargs}
        # Short statements on the loop's thread, the rest in aiosqlite's (bot/sqlite_driver.py).
        kwargs.setdefault("module", sqlite_driver.module())
    else:
        # As many connections as updates handled at once (MAX_CONCURRENT_UPDATES, 32 by
        # default), so a burst does not queue for the pool's default 5 + 10.
        kwargs = {"pool_pre_ping": True, "pool_size": 20, "max_overflow": 20, **kwargs}
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> Sessionmaker:
    """Sessions whose objects stay readable after commit (services return them)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_of(db: Sessionmaker) -> AsyncEngine:
    """The engine behind `db`'s sessions: for a hot read that needs no ORM session.

    A Core statement run on a connection of its own costs about half the Python of the same
    statement through a session (measured on the person read of every update).
    """
    bind = db.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("this session factory is not bound to one engine")
    return bind


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at our migrations and at `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = url
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision` (blocking; no event loop may be running)."""
    ensure_database_dir(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Downgrade the database at `url` to `revision` (blocking)."""
    command.downgrade(alembic_config(url), revision)


async def migrate_async(url: str, revision: str = "head") -> None:
    """Run `migrate` from async code: Alembic's async env.py needs a loop of its own."""
    await asyncio.to_thread(migrate, url, revision)
