"""Migrations: upgrade produces exactly the models' schema, and downgrade works."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import models
from bot.db import downgrade, migrate
from models.resource import include_name


def test_upgrade_matches_models_and_downgrade_empties(tmp_path):
    path = tmp_path / "m.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate(url)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        diff = compare_metadata(ctx, models.Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    downgrade(url, "base")
    con = sqlite3.connect(path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert tables == {"alembic_version"}
    migrate(url)  # and up again, cleanly


def test_every_revision_has_a_downgrade_and_one_head():
    from alembic.script import ScriptDirectory

    from bot.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    assert len(script.get_heads()) == 1
    for rev in script.walk_revisions():
        assert "def downgrade" in Path(rev.path).read_text(encoding="utf-8")
