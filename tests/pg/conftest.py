"""PostgreSQL fixtures: one throwaway server per test session, a fresh database per test.

The server (tests/pg/server.py) starts on first use. A database migrated to head with the
default content loaded is made once; each test gets its own copy of it
(`CREATE DATABASE ... TEMPLATE`, a file copy: a few tens of milliseconds), dropped after the
test.

Inside tests/pg, `settings` and `db` are the PostgreSQL ones (`pg_settings`, `pg_db`), so a
fixture or helper written for the SQLite tests (they take `db` or `settings`) runs on
PostgreSQL unchanged; `db_path`, the SQLite file, is refused. That is how the
`test_pg_suite_*.py` modules run whole service suites of tests/services here: a test there
that only makes sense on SQLite says so with `@pytest.mark.sqlite_only`. Every test here is
marked `pg` (`pytest -m pg`, or `pytest -m "not pg"` to leave them out).

No PostgreSQL on this machine: the tests fail when CI is set (CI must not pass without them),
and are skipped with the reason otherwise.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from bot.config import Settings
from bot.db import Sessionmaker, create_engine, make_sessionmaker, migrate
from bot.services.content import load_defaults_if_empty
from tests.conftest import make_settings
from tests.pg import server as pg

TEMPLATE = "ortaq_template"
HERE = Path(__file__).resolve().parent
_names = itertools.count(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test here `pg`; skip the ones a SQLite suite marked `sqlite_only`."""
    for item in items:
        if HERE not in item.path.resolve().parents:
            continue
        item.add_marker(pytest.mark.pg)
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="marked sqlite_only"))


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> NoReturn:
    if _in_ci():
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped (they fail in CI): {reason}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.Server]:
    """A running PostgreSQL server for this test session."""
    if importlib.util.find_spec("asyncpg") is None:
        _unavailable("the asyncpg driver is not installed: pip install -e '.[dev,postgres]'")
    try:
        server = pg.start()
    except pg.Unavailable as exc:
        reason = str(exc)
    else:
        reason = ""
    if reason:  # outside the except block: the report shows the reason, not a traceback
        _unavailable(reason)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: pg.Server) -> str:
    """The name of a database migrated to head with the default content loaded."""
    asyncio.run(pg.create_database(pg_server, TEMPLATE))
    url = pg_server.url(TEMPLATE)
    migrate(url)

    async def load() -> None:
        engine = create_engine(url)
        outcome = await load_defaults_if_empty(make_sessionmaker(engine))
        await engine.dispose()
        assert outcome is None or outcome.ok, [str(e) for e in outcome.errors]

    asyncio.run(load())
    return TEMPLATE


@pytest.fixture
async def pg_empty_url(pg_server: pg.Server) -> AsyncIterator[str]:
    """The URL of a new, empty database (no tables), dropped after the test."""
    name = f"empty_{next(_names)}"
    await pg.create_database(pg_server, name)
    yield pg_server.url(name)
    await pg.drop_database(pg_server, name)


@pytest.fixture
async def pg_url(pg_server: pg.Server, pg_template: str) -> AsyncIterator[str]:
    """The URL of this test's own migrated database with the default content."""
    name = f"test_{next(_names)}"
    await pg.create_database(pg_server, name, template=pg_template)
    yield pg_server.url(name)
    await pg.drop_database(pg_server, name)


@pytest.fixture
def pg_settings(pg_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at this test's PostgreSQL database."""
    return make_settings(tmp_path / "unused.db", database_url=pg_url)


@pytest.fixture
async def pg_db(pg_settings: Settings) -> AsyncIterator[Sessionmaker]:
    """A session factory on this test's PostgreSQL database."""
    engine = create_engine(pg_settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def settings(pg_settings: Settings) -> Settings:
    """In tests/pg, `settings` are the PostgreSQL ones."""
    return pg_settings


@pytest.fixture
def db(pg_db: Sessionmaker) -> Sessionmaker:
    """In tests/pg, `db` is the PostgreSQL one."""
    return pg_db


@pytest.fixture
def db_path() -> Path:
    """The SQLite file has no place in tests/pg."""
    pytest.fail("tests/pg: db_path is the SQLite database; use pg_url or pg_settings")
