"""The command line: `migrate` alone, and a wrong setting stopping the bot with one line."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest

from tests.e2e.process import bot_env


def test_migrate_creates_the_schema_and_the_data_directory(tmp_path):
    db = tmp_path / "nested" / "dir" / "ortaq.db"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env=bot_env(db, None, None),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stdout
    con = sqlite3.connect(db)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"app_user", "university", "invite", "user_role"} <= tables
    con.close()


def test_a_wrong_setting_stops_the_bot_with_one_line(tmp_path):
    env = bot_env(tmp_path / "x.db", None, None, ADMIN_IDS="12,not-a-number")
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        (
            "configuration error: ADMIN_IDS: expected comma-separated numeric Telegram user ids, "
            "e.g. 12345,67890"
        )
    ]
    assert not (tmp_path / "x.db").exists()  # nothing was started


def test_env_file_in_the_working_directory_is_read(tmp_path):
    (tmp_path / ".env").write_text("TIMEZONE=Mars/Olympus\n")
    env = bot_env(tmp_path / "x.db", None, None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("configuration error: TIMEZONE:")


async def test_a_rejected_token_is_one_line_and_never_printed(tmp_path):
    import asyncio

    from bot.sandbox.emulator import Emulator
    from bot.sandbox.server import EmulatorServer

    emulator = Emulator()
    wrong = "424242:ThisTokenIsNotTheEmulators"
    async with EmulatorServer(emulator) as server:
        env = bot_env(tmp_path / "x.db", server.url, wrong)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 2
    text = (out + err).decode()
    assert wrong not in text and "ThisTokenIsNotTheEmulators" not in text
    assert text.strip().splitlines()[-1] == (
        "configuration error: BOT_TOKEN: the Bot API rejected this token"
    )


def test_an_unreachable_bot_api_is_said_in_one_last_line(tmp_path):
    env = bot_env(tmp_path / "x.db", "http://127.0.0.1:9", "123456:ABCdefghijklm")
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("cannot reach the Bot API at http://127.0.0.1:9")
    assert "ABCdefghijklm" not in result.stderr


def _bot(folder, env, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` in `folder` with no standard input; output as text."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def test_export_from_the_command_line(tmp_path):
    db = tmp_path / "ortaq.db"
    env = bot_env(db, None, None)
    assert _bot(tmp_path, env, "migrate").returncode == 0
    out = tmp_path / "answers.csv"
    result = _bot(
        tmp_path,
        env,
        "export",
        "--dataset",
        "answers",
        "--format",
        "csv",
        "--out",
        str(out),
        "--wave",
        "pre",
    )
    assert result.returncode == 0, result.stderr
    assert "0 rows" in result.stdout
    assert out.read_text(encoding="utf-8-sig").startswith("participant,university,country")
    assert out.with_suffix(".codebook.json").exists()
    # Into a folder, identified, SPSS: written, and the audit log has both exports.
    folder = tmp_path / "out"
    result = _bot(
        tmp_path,
        env,
        "export",
        "--dataset",
        "wide",
        "--format",
        "sav",
        "--out",
        str(folder),
        "--identified",
        "--since",
        "2026-01-01",
    )
    assert result.returncode == 0, result.stderr
    assert (folder / "ortaq-wide.sav").exists() and (folder / "ortaq-wide.codebook.json").exists()
    import pyreadstat

    _, meta = pyreadstat.read_sav(str(folder / "ortaq-wide.sav"), metadataonly=True)
    assert meta.column_names[:4] == ["participant", "telegram_id", "first_name", "username"]
    import sqlite3

    with sqlite3.connect(db) as connection:
        log = connection.execute(
            "SELECT via, dataset, format, identified FROM export_log ORDER BY id"
        ).fetchall()
    assert log == [("cli", "answers", "csv", 0), ("cli", "wide", "sav", 1)]
    # A bad date is refused with a clear message, nothing written.
    result = _bot(tmp_path, env, "export", "--out", str(folder), "--since", "01.09.2026")
    assert result.returncode == 2 and "is not a date like 2026-09-01" in result.stderr


def test_analysis_from_the_command_line(tmp_path):
    import asyncio

    from bot.db import create_engine, make_sessionmaker
    from bot.services.content import load_defaults_if_empty
    from tests.study import seed_prepost

    db = tmp_path / "ortaq.db"
    env = bot_env(db, None, None)
    assert _bot(tmp_path, env, "migrate").returncode == 0

    async def seed() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        sessions = make_sessionmaker(engine)
        await load_defaults_if_empty(sessions)
        # Two study groups of 5 per university, one typed in two spellings.
        spelled = ("ПИ-21", "ИЯ-11", " пи-21", "ИЯ-11")
        await seed_prepost(sessions, 30, groups=lambda n: spelled[n // 3 % 4])
        await engine.dispose()

    asyncio.run(seed())
    out = tmp_path / "analysis"
    args = ("--instrument", "dlt_post", "--out", str(out), "--labels", "kk")
    result = _bot(tmp_path, env, "analysis", *args)
    assert result.returncode == 0, result.stderr
    assert "30 participants (post: 30, pre: 30)" in result.stdout
    assert "pre/post pre -> post: 30 linked" in result.stdout
    assert (out / "ortaq-analysis-dlt_post.xlsx").exists() and (out / "prepost.png").exists()
    assert "not run: 30 complete cases, needs at least" in result.stdout  # EFA: too few
    book = pd.read_excel(out / "ortaq-analysis-dlt_post.xlsx", sheet_name=None)
    ranked = book["ranking_study_group"].dropna(subset=["mean"])
    assert set(ranked["group"]) == {"ПИ-21", "ИЯ-11"} and (ranked["n"] == 5).all()
    assert {"gain_ranking_study_group", "pairwise_study_group", "codebook"} <= set(book)
    assert len(list(out.glob("ranking_study_group_*.png"))) == 3
    result = _bot(tmp_path, env, "analysis", "--instrument", "nope", "--out", str(out))
    assert result.returncode == 1 and "no instrument 'nope'" in result.stderr


def _cli_case(tmp_path, case: str) -> tuple[dict, tuple[str, ...], str]:
    """The environment, arguments and expected message of one wrong command line."""
    env = bot_env(tmp_path / "ortaq.db", None, None)
    (tmp_path / "read-only.csv").write_text("x")
    (tmp_path / "read-only.csv").chmod(0o444)
    cases: dict[str, tuple[tuple[str, ...], str]] = {
        "export into /dev/null": (("export", "--out", "/dev/null"), "/dev/null: not a folder"),
        "export under /dev/null": (
            ("export", "--out", "/dev/null/answers.csv"),
            "/dev/null: not a folder",
        ),
        "export into an unwritable folder": (
            ("export", "--out", "/sys/ortaq-answers.csv"),
            "cannot write /sys/ortaq-answers.csv:",
        ),
        "export over a read-only file": (
            ("export", "--out", str(tmp_path / "read-only.csv")),
            f"cannot write {tmp_path / 'read-only.csv'}: Permission denied",
        ),
        "analysis into /dev/null": (
            ("analysis", "--instrument", "dlt_pre", "--out", "/dev/null"),
            "/dev/null: not a folder",
        ),
        "a campaign id too large": (
            ("export", "--out", str(tmp_path), "--campaign", "99999999999999999999999"),
            "argument --campaign: '99999999999999999999999' is not a campaign id",
        ),
        "an unknown country": (
            ("export", "--out", str(tmp_path), "--country", "FR"),
            "argument --country: invalid choice: 'FR'",
        ),
        "a date that is not one": (
            ("export", "--out", str(tmp_path), "--since", "01.09.2026"),
            "is not a date like 2026-09-01",
        ),
        "a missing content file": (
            ("content", "load", str(tmp_path / "missing.yaml")),
            f"{tmp_path / 'missing.yaml'}: no such file or folder",
        ),
        "a port out of range": (
            ("sandbox", "--port", "99999"),
            "argument --port: '99999' is not a port (0 to 65535)",
        ),
        "an unknown command": (("frobnicate",), "invalid choice: 'frobnicate'"),
        "a database that cannot be opened": (("migrate",), "cannot open the database"),
    }
    args, expected = cases[case]
    if case == "a database that cannot be opened":
        env["DATABASE_URL"] = "sqlite+aiosqlite:////dev/null/ortaq.db"
    return env, args, expected


@pytest.mark.parametrize(
    "case",
    [
        "export into /dev/null",
        "export under /dev/null",
        "export into an unwritable folder",
        "export over a read-only file",
        "analysis into /dev/null",
        "a campaign id too large",
        "an unknown country",
        "a date that is not one",
        "a missing content file",
        "a port out of range",
        "an unknown command",
        "a database that cannot be opened",
    ],
)
def test_every_command_line_error_is_one_line(tmp_path, case):
    """Tried: unwritable outputs (/dev/null as a folder, a folder under it, /sys, a read-only
    file), arguments out of range and a database that cannot be opened. `export --out
    /dev/null` printed a traceback, and so did most of the others; each is now one line on
    stderr with a non-zero exit."""
    if case == "export over a read-only file" and os.geteuid() == 0:
        pytest.skip("root writes read-only files")
    env, args, expected = _cli_case(tmp_path, case)
    result = _bot(tmp_path, env, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr


def test_outputs_in_missing_folders_are_created_and_a_folder_named_like_a_file_is_used(tmp_path):
    """`--out` in a folder that does not exist yet creates it; an existing folder whose name
    has a suffix (`exports.csv/`) is written into, not opened as a file (IsADirectoryError)."""
    env = bot_env(tmp_path / "ortaq.db", None, None)
    deep = tmp_path / "missing" / "deeper" / "answers.csv"
    result = _bot(tmp_path, env, "export", "--out", str(deep))
    assert result.returncode == 0, result.stderr
    assert deep.exists() and deep.with_suffix(".codebook.json").exists()
    folder = tmp_path / "exports.csv"
    folder.mkdir()
    result = _bot(tmp_path, env, "export", "--out", str(folder))
    assert result.returncode == 0, result.stderr
    assert (folder / "ortaq-answers.csv").exists()


def test_verify_a_certificate_from_the_command_line(tmp_path):
    """Tried: `verify` with the code of a certificate issued through the services (typed in
    lower case with a dash: who, what, when, where, exit 0) and with a made-up code (one line
    on stderr, exit 1)."""
    import asyncio

    from bot.db import create_engine, make_sessionmaker
    from bot.services import certificates
    from tests import factories
    from tests.flows.test_certificates_flow import finish_course

    db = tmp_path / "ortaq.db"
    env = bot_env(db, None, None)
    assert _bot(tmp_path, env, "migrate").returncode == 0

    async def issue() -> certificates.CertificateView:
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        try:
            sessions = make_sessionmaker(engine)
            await factories.student(sessions, 7401)
            enrolment = await finish_course(sessions, 7401)
            issued = await certificates.issue(sessions, 7401, enrolment, "Әлия Ғалымқызы")
            return issued.certificate
        finally:
            await engine.dispose()

    cert = asyncio.run(issue())
    typed = f"{cert.code[:5].lower()}-{cert.code[5:].lower()}"
    result = _bot(tmp_path, env, "verify", typed)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"certificate {cert.code}: genuine"
    assert "name: Әлия Ғалымқызы" in lines and "course: Course mini (mini)" in lines
    assert any(line.startswith("issued: 20") for line in lines)
    assert f"university: {cert.university}" in lines
    result = _bot(tmp_path, env, "verify", "ZZZZZZZZZZ")
    assert result.returncode == 1 and not result.stdout
    assert result.stderr.strip().splitlines() == ["unknown certificate code 'ZZZZZZZZZZ'"]
