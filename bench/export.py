"""Export speed and memory: N answers in SQLite, written by Ortaq and by a raw pandas baseline.

Prepares a fresh SQLite file (migrations, the default content packs, six universities, an
admin who publishes one `dlt_pre` campaign through the campaign service), then bulk-inserts
students, one submitted attempt per student and an answer to each of the survey's 27 items,
until there are `--answers` answers (through the services a million answers would take hours;
the export reads rows, however they were written). Then, each in a
child process of its own so that its peak memory (ru_maxrss) is its own:

- Ortaq's long answers export (`bot.services.exports.export`, the same call `/export` and
  `python -m bot export` make) to CSV, Parquet and XLSX;
- the baseline: `pandas.read_sql` of the same joined rows (the same columns, before any
  labelling) followed by `DataFrame.to_csv` / `to_parquet`.

Prints seconds, rows and peak RSS for each, and Ortaq's time as a multiple of the baseline.

    .venv/bin/python bench/export.py --answers 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN = 900001  # publishes the campaign; takes no survey, so adds no rows

BASELINE_SQL = """
SELECT app_user.id AS user_id, university.code AS university, university.country AS country,
       app_user.language AS language, instrument.code AS instrument,
       instrument.version AS instrument_version, campaign.id AS campaign, campaign.wave AS wave,
       attempt.id AS attempt, attempt.state AS attempt_state, answer.item_code AS item,
       answer.value AS answer_code, answer.numeric AS value, answer.answered_at AS answered_at
FROM attempt
JOIN campaign ON campaign.id = attempt.campaign_id
JOIN instrument ON instrument.id = attempt.instrument_id
JOIN app_user ON app_user.id = attempt.user_id
LEFT OUTER JOIN university ON university.id = app_user.university_id
JOIN answer ON answer.attempt_id = attempt.id
ORDER BY answer.id
"""


def prepare(path: Path, answers: int) -> int:
    """Create the database with `answers` answers; returns how many were written."""
    from bot.db import create_engine, make_sessionmaker, migrate
    from bot.services.content import load_defaults_if_empty
    from tests import factories

    url = f"sqlite+aiosqlite:///{path}"
    migrate(url)

    async def load() -> int:
        engine = create_engine(url)
        try:
            db = make_sessionmaker(engine)
            await load_defaults_if_empty(db)
            admins = frozenset({ADMIN})
            await factories.admin(db, ADMIN, admins)
            return await factories.campaign(db, ADMIN, admins, "dlt_pre", "pre")
        finally:
            await engine.dispose()

    campaign_id = asyncio.run(load())
    connection = sqlite3.connect(path)
    instrument_id, definition = connection.execute(
        "SELECT id, definition FROM instrument WHERE code = 'dlt_pre'"
    ).fetchone()
    items = [
        item["code"]
        for question in json.loads(definition)["questions"]
        if question["type"] == "matrix"
        for item in question["items"]
    ]
    universities = [row[0] for row in connection.execute("SELECT id FROM university")]
    now = datetime(2026, 10, 1)
    stored = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores UTC times in SQLite
    stamp = now.strftime(stored)
    first_user = connection.execute("SELECT max(id) FROM app_user").fetchone()[0] + 1
    students = -(-answers // len(items))
    rng = random.Random(7)
    connection.executemany(
        "INSERT INTO app_user (id, telegram_id, first_name, language, consent, university_id, "
        "reachable, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, 1, ?, ?)",
        (
            (
                first_user + i - 1,
                10_000_000 + i,
                f"Student {i}",
                rng.choice(("kk", "ru", "en")),
                rng.choice(universities),
                stamp,
                stamp,
            )
            for i in range(1, students + 1)
        ),
    )
    connection.executemany(
        "INSERT INTO attempt (id, campaign_id, user_id, instrument_id, number, state, language, "
        "seed, passed, started_at, submitted_at) VALUES (?, ?, ?, ?, 1, 'submitted', 'kk', "
        "'s', '[]', ?, ?)",
        (
            (i, campaign_id, first_user + i - 1, instrument_id, stamp, stamp)
            for i in range(1, students + 1)
        ),
    )
    written = 0

    def rows() -> Iterator[tuple[object, ...]]:
        nonlocal written
        for attempt in range(1, students + 1):
            for n, item in enumerate(items):
                if written == answers:
                    return
                point = rng.randint(1, 5)
                at = (now + timedelta(seconds=attempt * 60 + n)).strftime(stored)
                written += 1
                yield (attempt, item, str(point), float(point), at)

    connection.executemany(
        "INSERT INTO answer (attempt_id, item_code, value, numeric, answered_at) "
        "VALUES (?, ?, ?, ?, ?)",
        rows(),
    )
    connection.commit()
    connection.close()
    return written


def one(which: str, fmt: str, path: Path, out: Path) -> dict[str, object]:
    """Run one measurement in this process; returns seconds, rows and peak RSS."""
    # Imports first: the figures are for the work, not for loading libraries.
    import pandas as pd
    import pyarrow.parquet  # noqa: F401

    from bot.jobs.background import relaxed_gc
    from bot.services.exports import Filters, Options, export

    started = time.perf_counter()
    if which == "ortaq":
        with relaxed_gc():  # as /export and the CLI run it (their runner relaxes the collector)
            written = asyncio.run(
                export(
                    f"sqlite+aiosqlite:///{path}",
                    "answers",
                    fmt,
                    Filters(),
                    Options("bench-key", "ru"),
                    out,
                    "ortaq",
                )
            )
        rows = written.rows
    else:
        with sqlite3.connect(path) as connection:
            frame = pd.read_sql(BASELINE_SQL, connection)
        rows = len(frame)
        if fmt == "csv":
            frame.to_csv(out / "baseline.csv", index=False, encoding="utf-8-sig")
        else:
            frame.to_parquet(out / "baseline.parquet", index=False)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    return {"which": which, "format": fmt, "seconds": seconds, "rows": rows, "peak_mib": peak}


def main() -> None:
    """Prepare the data, then measure each run in its own child process."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--one", nargs=4, metavar=("WHICH", "FORMAT", "DB", "OUT"))
    args = parser.parse_args()
    if args.one:
        which, fmt, db, out = args.one
        print(json.dumps(one(which, fmt, Path(db), Path(out))))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        started = time.perf_counter()
        count = prepare(path, args.answers)
        size = path.stat().st_size / 2**20
        took = time.perf_counter() - started
        print(f"prepared {count} answers in {took:.1f} s ({size:.0f} MiB)")
        results: dict[tuple[str, str], dict[str, object]] = {}
        for which, fmt in (
            ("baseline", "csv"),
            ("ortaq", "csv"),
            ("baseline", "parquet"),
            ("ortaq", "parquet"),
            ("ortaq", "xlsx"),
        ):
            out = Path(folder) / f"{which}-{fmt}"
            out.mkdir()
            child = subprocess.run(
                [sys.executable, __file__, "--one", which, fmt, str(path), str(out)],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                check=True,
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            files = sum(f.stat().st_size for f in out.iterdir()) / 2**20
            results[(which, fmt)] = result
            base = results.get(("baseline", fmt))
            ratio = (
                f"{float(result['seconds']) / float(base['seconds']):.2f}x baseline"
                if which == "ortaq" and base
                else ""
            )
            print(
                f"{which:8} {fmt:8} {result['rows']:>9} rows {result['seconds']:7.1f} s "
                f"peak {result['peak_mib']:6.0f} MiB  files {files:6.0f} MiB  {ratio}",
                flush=True,
            )
            for item in out.iterdir():
                item.unlink()


if __name__ == "__main__":
    main()
