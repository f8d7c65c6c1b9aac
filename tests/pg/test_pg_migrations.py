"""Migrations on PostgreSQL: each revision up and down, and head equals the models exactly."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import models
from bot.db import alembic_config, downgrade, migrate_async
from models.resource import include_name


async def _inspect(url: str) -> tuple[list[object], set[str], str | None]:
    """The differences between the database and the models, its tables, its revision."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"compare_type": True, "include_name": include_name}
                    ),
                    models.Base.metadata,
                )
            )
            tables = set(
                (
                    await conn.scalars(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    )
                ).all()
            )
            revision = None
            if "alembic_version" in tables:
                revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    return diff, tables, revision


async def test_head_matches_the_models_and_every_revision_goes_down_and_up(pg_empty_url):
    url = pg_empty_url
    script = ScriptDirectory.from_config(alembic_config(url))
    (head,) = script.get_heads()
    upward = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    for revision in upward:  # one revision at a time, as deployments over time did
        await migrate_async(url, revision)
        assert (await _inspect(url))[2] == revision
    diff, tables, revision = await _inspect(url)
    assert revision == head
    assert diff == [], f"models and migrations differ on PostgreSQL: {diff}"
    assert tables == {t.name for t in models.Base.metadata.sorted_tables} | {"alembic_version"}
    for revision in reversed(upward):  # each downgrade on its own
        await asyncio.to_thread(downgrade, url, "-1")
        assert (await _inspect(url))[2] != revision
    _, tables, revision = await _inspect(url)
    assert tables == {"alembic_version"} and revision is None
    await migrate_async(url)  # and up again, cleanly
    diff, _, revision = await _inspect(url)
    assert diff == [] and revision == head


async def test_it_is_a_real_postgresql_server(pg_db):
    async with pg_db() as session:
        version = await session.scalar(text("SELECT version()"))
        zone = await session.scalar(text("SHOW TimeZone"))
    assert version.startswith("PostgreSQL ")
    assert zone == "Asia/Almaty"  # not UTC: the application must not depend on it
    assert pg_db.kw["bind"].dialect.name == "postgresql"
