"""The contest's entries ZIP (bot/services/contest_bundle.py) with files kept by the emulator.

The files are sent to the emulator as documents (so it keeps them under real-looking file_ids,
as Telegram does) and the entries of `tests.contest_study` carry them; the bundle downloads them
through a bot talking to the emulator in process (getFile, then the file), or over HTTP for the
command line. Tried: the layout (a folder per entry code, the files' bytes, the manifest), a
withdrawn entry bundled, a file Telegram does not know stopping the rest (it is listed as failed
with the reason, the others go in), a file recorded over 20 MB asked for at all, an entry with no
file left without its folder, a path-traversing or duplicate name, an archive over the upload
limit not split, an organizer of one university getting another's entries, a student getting
anything, the audit log, and the command line without a token or with an unknown contest.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from telegram import Bot

from bot.__main__ import CliError, run_contest_bundle
from bot.downloads import fetcher
from bot.sandbox.emulator import Emulator
from bot.sandbox.request import EmulatorRequest
from bot.sandbox.server import EmulatorServer
from bot.services import PermissionDenied, contest_bundle
from bot.services import exports as export_service
from bot.services.contest_bundle import safe_name
from bot.services.contest_entries import NewFile
from models import EntryFile, ExportLog
from tests import factories
from tests.conftest import make_settings
from tests.contest_study import ADMIN, ADMINS, FIVE, FOUR, ONE, TWO, seed

SENDER = 744_000_001  # the emulator's user who "sent" the files
SLIDES = b"%PDF-1.4 slides of platform A " * 50
DEMO = bytes(range(256)) * 40  # a made-up video
PLAN = b"%PDF-1.4 the plan of platform B"


def _send(emulator: Emulator, name: str, content: bytes, mime: str) -> NewFile:
    """A document sent to the emulator: Telegram's file_id, name, type and size."""
    update = emulator.post_document(SENDER, name, content, mime, enqueue=False)
    document = update["message"]["document"]
    return NewFile(
        document["file_id"], name, mime, document["file_size"], document["file_unique_id"]
    )


def _emulator_with_files() -> tuple[Emulator, dict[int, list[NewFile]]]:
    emulator = Emulator()
    emulator.add_user(SENDER, "Sender")
    files = {
        ONE: [
            _send(emulator, "slides.pdf", SLIDES, "application/pdf"),
            _send(emulator, "demo.mp4", DEMO, "video/mp4"),
        ],
        TWO: [_send(emulator, "plan.pdf", PLAN, "application/pdf")],
        FOUR: [_send(emulator, "withdrawn.pdf", b"%PDF gone", "application/pdf")],
    }
    return emulator, files


def _bot(emulator: Emulator) -> Bot:
    return Bot(
        emulator.token,
        base_url=EmulatorRequest.BASE_URL,
        base_file_url=EmulatorRequest.BASE_FILE_URL,
        request=EmulatorRequest(emulator),
    )


def _manifest(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    text = archive.read("manifest.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


async def _forget(db, file_id: str, new_id: str) -> None:
    """Make a stored file one Telegram does not know (as after a forged or expired id)."""
    async with db.begin() as session:
        await session.execute(
            update(EntryFile).where(EntryFile.file_id == file_id).values(file_id=new_id)
        )


async def test_a_folder_per_entry_with_its_files_and_the_manifest(db, tmp_path):
    """Entries one and two (not the withdrawn three) each in their folder with the bytes sent;
    plan.pdf made unknown to Telegram is listed as failed with Telegram's reason while the
    others go in; the manifest lists every file in order with its status."""
    emulator, files = _emulator_with_files()
    seeded = await seed(db, files)
    await _forget(db, files[TWO][0].file_id, "BQACAgIAAxkBAAIforged")
    one, two = seeded.codes[seeded.one], seeded.codes[seeded.two]
    async with _bot(emulator) as bot:
        bundle = await contest_bundle.write(
            db, tmp_path, fetcher(bot), contest_id=seeded.contest_id
        )
    assert (bundle.entries, bundle.files, bundle.fetched, bundle.failed) == (2, 3, 2, 1)
    (path,) = bundle.parts
    assert path.name == "ortaq-contest-dlt_platform_contest-entries.zip"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(
            [f"{one}/slides.pdf", f"{one}/demo.mp4", "manifest.csv"]
        )
        assert archive.read(f"{one}/slides.pdf") == SLIDES
        assert archive.read(f"{one}/demo.mp4") == DEMO
        assert archive.testzip() is None
        rows = _manifest(archive)
    assert [(r["entry_code"], r["file"], r["file_name"], r["status"]) for r in rows] == [
        (one, "1", "slides.pdf", "ok"),
        (one, "2", "demo.mp4", "ok"),
        (two, "1", "plan.pdf", "failed"),
    ]
    assert rows[0]["path"] == f"{one}/slides.pdf" and rows[0]["size_bytes"] == str(len(SLIDES))
    assert rows[0]["title"] == "Platform A" and rows[0]["late"] == "0"
    assert rows[2]["late"] == "1" and rows[2]["path"] == ""
    assert "Telegram refused" in rows[2]["reason"] and "file" in rows[2]["reason"].lower()
    assert bundle.failures == [(two, "plan.pdf", rows[2]["reason"])]
    assert seeded.codes[seeded.three] not in {r["entry_code"] for r in rows}
    assert not (tmp_path / ".download").exists() and not (tmp_path / "manifest.csv").exists()


async def test_too_big_and_fileless_entries_are_said_in_the_manifest(db, tmp_path):
    """A file recorded over 20 MB is never asked for (the Bot API would refuse it) and is listed
    with the reason; an entry whose files are gone keeps an empty folder and a 'none' row."""
    emulator, files = _emulator_with_files()
    seeded = await seed(db, files)
    async with db.begin() as session:
        await session.execute(
            update(EntryFile)
            .where(EntryFile.file_id == files[ONE][1].file_id)
            .values(size=21 * 1024 * 1024)
        )
        await session.execute(delete(EntryFile).where(EntryFile.entry_id == seeded.two))
    asked: list[str] = []

    async with _bot(emulator) as bot:
        real = fetcher(bot)

        async def counting(file_id: str, to: Path) -> None:
            asked.append(file_id)
            await real(file_id, to)

        bundle = await contest_bundle.write(db, tmp_path, counting, contest_id=seeded.contest_id)
    assert asked == [files[ONE][0].file_id]
    one, two = seeded.codes[seeded.one], seeded.codes[seeded.two]
    with zipfile.ZipFile(bundle.parts[0]) as archive:
        assert f"{two}/" in archive.namelist()
        rows = _manifest(archive)
    assert [(r["entry_code"], r["status"]) for r in rows] == [
        (one, "ok"),
        (one, "failed"),
        (two, "none"),
    ]
    assert rows[1]["reason"].startswith("over 20 MB")


def test_names_are_safe_and_unique():
    """A name with path separators, a leading dot, Windows' forbidden characters or a device
    name stays inside its folder; the same name twice (in any case) is numbered."""
    taken: set[str] = set()
    assert safe_name("../../etc/passwd", taken) == "_.._etc_passwd"
    assert safe_name('a:b*c?"d<e>f|g.pdf', taken) == "a_b_c__d_e_f_g.pdf"
    assert safe_name("CON.pdf", taken) == "CON_.pdf"
    assert safe_name("   ", taken) == "file"
    assert safe_name("Slides.PDF", taken) == "Slides.PDF"
    assert safe_name("slides.pdf", taken) == "slides (2).pdf"
    assert safe_name("slides.pdf", taken) == "slides (3).pdf"
    long = safe_name("x" * 300 + ".pptx", taken)
    assert len(long) <= 120 and long.endswith(".pptx")
    assert "/" not in safe_name("a/b\\c", taken)


async def test_a_big_archive_is_split_like_the_other_exports(db, tmp_path, monkeypatch):
    """Past the part size the archive comes as .zip.001, .002, ... which joined are the ZIP."""
    monkeypatch.setattr(export_service, "PART_SIZE", 4000)
    emulator, files = _emulator_with_files()
    seeded = await seed(db, files)
    async with _bot(emulator) as bot:
        bundle = await contest_bundle.write(
            db, tmp_path, fetcher(bot), contest_id=seeded.contest_id
        )
    assert len(bundle.parts) > 1
    assert [p.name.rsplit(".", 1)[1] for p in bundle.parts][:2] == ["001", "002"]
    assert all(p.stat().st_size <= 4000 for p in bundle.parts)
    joined = b"".join(p.read_bytes() for p in bundle.parts)
    with zipfile.ZipFile(io.BytesIO(joined)) as archive:
        assert archive.read(f"{seeded.codes[seeded.two]}/plan.pdf") == PLAN


async def test_organizers_get_their_universities_entries_and_it_is_logged(db, tmp_path):
    """An organizer of university 4 gets entry one only (its co-author is there); an admin gets
    both; a student is refused; each bundle is in the audit log with the contest's code."""
    emulator, files = _emulator_with_files()
    seeded = await seed(db, files)
    organizer = 744_000_100
    await factories.organizer(db, organizer, ADMINS, university=4)
    for folder in "oas":
        (tmp_path / folder).mkdir()
    async with _bot(emulator) as bot:
        fetch = fetcher(bot)
        mine = await contest_bundle.for_chat(
            db, organizer, ADMINS, seeded.contest_id, tmp_path / "o", fetch
        )
        assert mine.entries == 1
        with zipfile.ZipFile(mine.parts[0]) as archive:
            assert {r["entry_code"] for r in _manifest(archive)} == {seeded.codes[seeded.one]}
        everything = await contest_bundle.for_chat(
            db, ADMIN, ADMINS, seeded.contest_id, tmp_path / "a", fetch
        )
        assert everything.entries == 2
        with pytest.raises(PermissionDenied):
            await contest_bundle.for_chat(
                db, FIVE, ADMINS, seeded.contest_id, tmp_path / "s", fetch
            )
    offered = await contest_bundle.choices(db, organizer, ADMINS)
    assert [(c.code, c.entries) for c in offered] == [("dlt_platform_contest", 1)]
    async with db() as session:
        logged = (
            await session.scalars(select(ExportLog).where(ExportLog.dataset == "contest_bundle"))
        ).all()
    assert [(row.via, row.format, row.rows) for row in logged] == [
        ("chat", "zip", 2),
        ("chat", "zip", 3),
    ]
    assert logged[0].filters["contest"] == "dlt_platform_contest"
    assert logged[0].filters["scope"] == [seeded.universities[4].code]


async def test_the_command_line_downloads_over_the_bot_api(db, db_path, tmp_path, capsys):
    """`python -m bot contest-bundle CODE --out DIR` with BOT_TOKEN and BOT_API_URL pointing at
    the emulator over HTTP on 127.0.0.1: the archive in DIR, one line per failure; without a
    token it says why nothing can be downloaded; an unknown contest is named."""
    emulator, files = _emulator_with_files()
    seeded = await seed(db, files)
    await _forget(db, files[ONE][1].file_id, "BQACAgIAAxkBAAIexpired")
    async with EmulatorServer(emulator) as server:
        assert server.url is not None
        settings = make_settings(db_path, bot_token=emulator.token, bot_api_url=server.url)
        assert await run_contest_bundle(settings, "dlt_platform_contest", tmp_path / "out") == 0
        with pytest.raises(CliError) as unknown:
            await run_contest_bundle(settings, "no_such_contest", tmp_path / "out2")
        assert "no contest 'no_such_contest'" in str(unknown.value)
    printed = capsys.readouterr().out
    archive_path = tmp_path / "out" / "ortaq-contest-dlt_platform_contest-entries.zip"
    assert str(archive_path) in printed
    assert "2 entries, 3 files: 2 downloaded, 1 failed" in printed
    assert f"failed: {seeded.codes[seeded.one]}/demo.mp4: Telegram refused" in printed
    with zipfile.ZipFile(archive_path) as archive:
        assert archive.read(f"{seeded.codes[seeded.two]}/plan.pdf") == PLAN
    async with db() as session:
        logged = await session.scalar(select(ExportLog).where(ExportLog.via == "cli"))
    assert logged is not None and logged.dataset == "contest_bundle" and logged.actor_id is None
    with pytest.raises(CliError) as no_token:
        await run_contest_bundle(make_settings(db_path), "dlt_platform_contest", tmp_path / "x")
    assert no_token.value.code == 2
    assert "BOT_TOKEN is not set" in str(no_token.value)
    assert "only the bot they were sent to can download them" in str(no_token.value)
    assert not (tmp_path / "x").exists()
