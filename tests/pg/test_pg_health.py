"""/healthz and /metrics on PostgreSQL: the checks' statements, in the order they run there.

On PostgreSQL a failed statement ends the transaction, so the health check reads the Alembic
revision last; a database never migrated (no alembic_version table) must still give a report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.sandbox.harness import Harness
from bot.webserver import WebServer


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[Harness, str]]:
    async with Harness(settings) as harness:
        assert harness.app is not None
        web = WebServer(harness.app)
        url = await web.start("127.0.0.1", 0)
        try:
            yield harness, url
        finally:
            await web.stop()


async def test_healthz_reports_at_head_behind_ahead_and_never_migrated(
    served: tuple[Harness, str],
):
    harness, url = served
    assert harness.app is not None and harness.app.bot_data.engine is not None
    engine = harness.app.bot_data.engine
    async with aiohttp.ClientSession() as http:

        async def health() -> tuple[int, dict]:
            async with http.get(f"{url}/healthz") as response:
                return response.status, await response.json()

        status, report = await health()
        assert status == 200, report
        assert report["database"] == "ok" and report["migrations"] == "at head"
        assert report["outbox_pending"] == 0
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0013'"))
        status, report = await health()
        assert (status, report["migrations"]) == (503, "behind")
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
        status, report = await health()
        assert (status, report["migrations"]) == (200, "ahead")
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE alembic_version"))
        status, report = await health()
        assert (status, report["migrations"]) == (503, "behind")
        assert report["database"] == "ok" and report["outbox_pending"] == 0
        async with http.get(f"{url}/metrics") as response:
            assert response.status == 200
            assert "ortaq_outbox_pending 0.0" in await response.text()
