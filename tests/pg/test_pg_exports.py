"""Research exports and the analysis on PostgreSQL give what they give on SQLite.

The same people answer the same campaign in a PostgreSQL database and in a SQLite twin; each
export (it runs in a worker thread: on PostgreSQL through `asyncio.run` and an async engine of
its own) must write the same rows on both, times aside. The analysis of a seeded pre/post study
must report the same figures.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bot.db import Sessionmaker, create_engine, make_sessionmaker
from bot.services import analysis, exports
from bot.services import content as content_service
from bot.services.exports import Filters, Options
from tests import factories
from tests.study import seed_prepost

EXAMPLE = Path(__file__).resolve().parents[1] / "content" / "example_pack.yaml"
ADMINS = frozenset({1})
KEY = "pg-export-key"


@pytest.fixture
async def twin(migrated_template: Path, tmp_path: Path) -> AsyncIterator[tuple[str, Sessionmaker]]:
    """A SQLite database migrated with the same content: the reference to compare with."""
    path = tmp_path / "twin.db"
    shutil.copy(migrated_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    yield url, make_sessionmaker(engine)
    await engine.dispose()


async def _person(db, telegram_id, language, university_index):
    await factories.student(
        db,
        telegram_id,
        ADMINS,
        university=university_index,
        language=language,
        first_name=f"Аты{telegram_id}",
        username=f"u{telegram_id}",
    )


async def _seed(db) -> int:
    """Admin, the example test, a campaign; two people finish it, one stops half-way."""
    await _person(db, 1, "en", 0)
    assert (await content_service.load_path(db, EXAMPLE)).ok
    campaign = await factories.campaign(db, 1, ADMINS, "example_test", "pre")
    for telegram_id, language, uni in ((5_100_000_001, "kk", 0), (5_100_000_002, "ru", 4)):
        await _person(db, telegram_id, language, uni)
        await factories.attempt(
            db, telegram_id, campaign, ["a", ("moodle", "canvas"), 7], language=language
        )
    await _person(db, 5_100_000_003, "en", 1)
    await factories.attempt(db, 5_100_000_003, campaign, ["b"], submit=False)
    return campaign


def _rows(path: Path) -> list[dict[str, str]]:
    """CSV rows without the columns that hold times (they differ between two runs)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [{k: v for k, v in row.items() if not k.endswith("_at")} for row in rows]


async def _export_both(pg_url, twin_url, tmp_path, dataset, fmt="csv", language="ru"):
    written = {}
    for name, url in (("pg", pg_url), ("sqlite", twin_url)):
        folder = tmp_path / name / dataset / fmt
        folder.mkdir(parents=True)
        written[name] = await exports.export(
            url, dataset, fmt, Filters(), Options(KEY, language), folder, stem=dataset
        )
    return written["pg"], written["sqlite"]


@pytest.mark.parametrize("dataset", ["answers", "wide", "scores"])
async def test_an_export_writes_the_same_rows_as_on_sqlite(db, pg_url, twin, tmp_path, dataset):
    twin_url, twin_db = twin
    assert await _seed(db) == await _seed(twin_db)
    pg, sqlite = await _export_both(pg_url, twin_url, tmp_path, dataset)
    assert pg.rows == sqlite.rows > 0
    rows = _rows(pg.files[0])
    assert rows == _rows(sqlite.files[0])
    text = pg.files[0].read_text(encoding="utf-8-sig")
    assert "5100000001" not in text and "Аты5100000001" not in text  # pseudonymous
    # Times: the same UTC text on both, although this server's time zone is Asia/Almaty.
    with pg.files[0].open(encoding="utf-8-sig", newline="") as fh:
        rows_with_times = list(csv.DictReader(fh))
    times = [v for row in rows_with_times for k, v in row.items() if k.endswith("_at") and v]
    now = datetime.now(UTC).replace(tzinfo=None)
    assert times and all(
        abs(datetime.strptime(v, "%Y-%m-%d %H:%M:%S") - now) < timedelta(minutes=10) for v in times
    ), times


@pytest.mark.parametrize("fmt", ["parquet", "xlsx", "sav"])
async def test_the_wide_dataset_in_every_format(db, pg_url, twin, tmp_path, fmt):
    twin_url, twin_db = twin
    campaign = await _seed(db)
    await _seed(twin_db)
    filters = Filters(campaign_id=campaign)
    pg = await exports.export(
        pg_url, "wide", fmt, filters, Options(KEY, "kk"), tmp_path, stem="pg"
    )
    sqlite = await exports.export(
        twin_url, "wide", fmt, filters, Options(KEY, "kk"), tmp_path, stem="sqlite"
    )
    assert pg.rows == sqlite.rows == 3

    def frame(path: Path) -> pd.DataFrame:
        if fmt == "parquet":
            data = pd.read_parquet(path)
        elif fmt == "xlsx":
            data = pd.read_excel(path, sheet_name=0)
        else:
            import pyreadstat

            data, _ = pyreadstat.read_sav(str(path), user_missing=True)
        return data[[c for c in data.columns if not c.endswith("_at")]]

    pd.testing.assert_frame_equal(frame(pg.files[0]), frame(sqlite.files[0]))


async def test_the_pre_post_analysis_reports_the_same_figures(db, pg_url, twin, tmp_path):
    twin_url, twin_db = twin
    spelled = ("ПИ-21", "ИЯ-11", " пи-21 ")  # study groups, one typed in two spellings
    await seed_prepost(db, 45, groups=lambda n: spelled[n // 3 % 3])
    await seed_prepost(twin_db, 45, groups=lambda n: spelled[n // 3 % 3])
    (tmp_path / "pg").mkdir()
    (tmp_path / "sqlite").mkdir()
    pg = await analysis.analyse(pg_url, "dlt_pre", Filters(), KEY, "en", tmp_path / "pg")
    sqlite = await analysis.analyse(twin_url, "dlt_pre", Filters(), KEY, "en", tmp_path / "sqlite")
    assert pg.participants == sqlite.participants == 45
    assert pg.by_wave == {"pre": 45, "post": 45} and pg.pairs == 45
    assert (pg.pre_wave, pg.post_wave) == ("pre", "post")
    assert pg.notes == sqlite.notes
    pd.testing.assert_frame_equal(
        pd.DataFrame(map(asdict, pg.lines)), pd.DataFrame(map(asdict, sqlite.lines))
    )  # NaN == NaN here
    assert [p.name for p in pg.charts] == [p.name for p in sqlite.charts]
    pg_sheets = pd.read_excel(pg.workbook, sheet_name=None)
    sqlite_sheets = pd.read_excel(sqlite.workbook, sheet_name=None)
    assert list(pg_sheets) == list(sqlite_sheets)
    assert pg_sheets["ranking_study_group"]["mean"].notna().any()
    for name, sheet in pg_sheets.items():
        if name == "summary":  # the date and time of the run
            continue
        mine, other = sheet, sqlite_sheets[name]
        if name == "over_time":
            # When each database's campaigns opened: seeded one after the other, the clock may
            # have ticked between them. The waves' order is compared with the rest.
            mine, other = mine.drop(columns="opened"), other.drop(columns="opened")
        pd.testing.assert_frame_equal(mine, other, obj=f"sheet {name}")
