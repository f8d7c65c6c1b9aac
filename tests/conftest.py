"""Shared fixtures: settings on a temporary SQLite file migrated with the real migrations."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.db import Sessionmaker, create_engine, make_sessionmaker, migrate
from bot.services.content import load_defaults_if_empty

ADMIN_ID = 900001


def make_settings(db_path: Path, **overrides: object) -> Settings:
    """Settings for tests: never read a developer's .env or the real BOT_TOKEN."""
    values: dict[str, object] = {
        "_env_file": None,
        "bot_token": None,
        "database_url": f"sqlite+aiosqlite:///{db_path}",
        "admin_ids": str(ADMIN_ID),
        "bot_api_url": "http://127.0.0.1:9",
        "default_language": "kk",
        "timezone": "Asia/Almaty",
        "pseudonym_key": "test-pseudonym-key",
        "log_level": "INFO",
        # Charts in a thread: a flow test's app is built and stopped per test, and starting
        # worker processes for each would only slow the suite (tests/services/test_chart_pool.py
        # runs the real pool).
        "chart_workers": 0,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated to head, default content loaded, per test session; each test
    gets a copy (so the bot's first-start content loading finds it done)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate(url)

    async def load() -> None:
        engine = create_engine(url)
        outcome = await load_defaults_if_empty(make_sessionmaker(engine))
        await engine.dispose()
        assert outcome is None or outcome.ok, [str(e) for e in outcome.errors]

    asyncio.run(load())
    return path


@pytest.fixture
def db_path(tmp_path: Path, migrated_template: Path) -> Path:
    """A fresh migrated database file for this test."""
    path = tmp_path / "ortaq.db"
    shutil.copy(migrated_template, path)
    return path


@pytest.fixture
def settings(db_path: Path) -> Settings:
    """Settings pointing at this test's database."""
    return make_settings(db_path)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Sessionmaker]:
    """A session factory on this test's database."""
    engine = create_engine(settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


def pytest_configure(config: pytest.Config) -> None:
    """Markers used by the tests (tests/pg adds the real-PostgreSQL tests)."""
    config.addinivalue_line(
        "markers", "pg: runs against a real PostgreSQL server (tests/pg; see docs/postgresql.md)"
    )
    config.addinivalue_line(
        "markers", "sqlite_only: a tests/services test that tests/pg must not run on PostgreSQL"
    )
    config.addinivalue_line(
        "markers", "e2e: runs the real bot process over HTTP (tests/e2e; slow: seconds each)"
    )
