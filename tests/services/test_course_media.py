"""The course media service: file_ids kept per course file and content, missing files reported.

Files are written to the test's folder; people are made through the real services
(tests/factories.py); the report is read back from the outbox (broadcast and delivery rows).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.i18n import I18n
from bot.services import course_media as svc
from bot.services.course import Lesson
from models import Broadcast, CourseMedia, Delivery
from tests import factories

CODE = "mini"
PATH = "media/clip.mp4"
ADMIN = 5200
ADMINS = frozenset({ADMIN})
LESSON = Lesson(
    position=2,
    code="third",
    title={"kk": "Үшінші сабақ", "ru": "Третий урок", "en": "Third lesson"},
    module_code="m",
    module_title={"en": "Module"},
    steps=(),
    check=None,
)


def _translators() -> dict[str, object]:
    """A translator per language."""
    i18n = I18n("en")
    return {language: i18n.translator(language) for language in ("kk", "ru", "en")}


async def _report(db, folder) -> int | None:
    """Report the course file missing (as a learner's step finding it gone does)."""
    media = svc.LocalMedia(CODE, PATH, "video", folder / PATH)
    return await svc.report_missing(
        db, media, LESSON, _translators(), default_language="en", admin_ids=ADMINS
    )


async def _row(db) -> CourseMedia | None:
    """The file's row."""
    async with db() as session:
        return await session.scalar(select(CourseMedia).where(CourseMedia.path == PATH))


async def test_upload_then_file_id_per_content_and_kind(db, tmp_path):
    """prepare reads the file for an upload until a file_id is remembered, then gives the
    file_id; another kind, changed content or reuse=False read the file again; forget drops
    only the refused file_id, not one another learner stored since.
    """
    file = tmp_path / "clip.mp4"
    file.write_bytes(b"first cut")
    media = await svc.prepare(db, CODE, PATH, file, "video")
    assert media.content == b"first cut" and media.file_id is None and media.key
    await svc.remember(db, media, "F1")
    again = await svc.prepare(db, CODE, PATH, file, "video")
    assert again.file_id == "F1" and again.content is None
    as_document = await svc.prepare(db, CODE, PATH, file, "document")
    assert as_document.file_id is None and as_document.content == b"first cut"
    refused = await svc.prepare(db, CODE, PATH, file, "video", reuse=False)
    assert refused.file_id is None and refused.content == b"first cut"
    file.write_bytes(b"second, longer cut")
    changed = await svc.prepare(db, CODE, PATH, file, "video")
    assert changed.file_id is None and changed.content == b"second, longer cut"
    assert changed.key != media.key
    await svc.remember(db, changed, "F2")
    await svc.forget(db, again)  # F1 was refused, but F2 replaced it meanwhile
    assert (await _row(db)).file_id == "F2"
    newest = await svc.prepare(db, CODE, PATH, file, "video")
    await svc.forget(db, newest)
    assert (await _row(db)).file_id is None
    assert (await svc.prepare(db, CODE, PATH, tmp_path / "gone.mp4", "video")).missing


async def test_a_first_upload_that_lost_the_race_updates_the_row(db, tmp_path, monkeypatch):
    """Two learners upload a new file at once: the second looked before the first committed,
    so its insert fails on the unique (course, path); it is retried once and updates the row
    instead of failing the learner's step. (SQLite serialises the two transactions, so the
    race is staged: the second's first look misses the row.)
    """
    file = tmp_path / "clip.mp4"
    file.write_bytes(b"clip")
    media = await svc.prepare(db, CODE, PATH, file, "video")
    await svc.remember(db, media, "A")
    real, looks = svc._row_of, []

    def late(course_code: str, path: str):
        """The first look misses the row the other learner is committing."""
        looks.append(path)
        return real(course_code, "not yet" if len(looks) == 1 else path)

    monkeypatch.setattr(svc, "_row_of", late)
    await svc.remember(db, media, "B")
    assert len(looks) == 2
    async with db() as session:
        rows = list(await session.scalars(select(CourseMedia)))
    assert [row.file_id for row in rows] == ["B"]


async def test_missing_reported_once_to_organizers_and_admins(db, tmp_path):
    """A missing file is reported once, to the admin and the organizer in their languages (not
    to a student), whichever of two learners hits it first; no one to tell leaves it pending;
    once the file is back and gone again it is reported again.
    """
    assert await _report(db, tmp_path) is None  # nobody to tell yet: still pending
    assert (await _row(db)).reported_at is None and (await _row(db)).missing_since is not None
    await factories.admin(db, ADMIN, ADMINS, language="ru")
    await factories.organizer(db, 5201, ADMINS, language="kk")
    await factories.student(db, 5202, ADMINS)
    first, second = await asyncio.gather(_report(db, tmp_path), _report(db, tmp_path))
    ids = [x for x in (first, second) if x is not None]
    assert len(ids) == 1
    async with db() as session:
        deliveries = list(
            await session.scalars(select(Delivery).where(Delivery.broadcast_id == ids[0]))
        )
        broadcast = await session.get(Broadcast, ids[0])
    assert sorted((d.chat_id, d.language) for d in deliveries) == [(ADMIN, "ru"), (5201, "kk")]
    assert "Третий урок" in broadcast.texts["ru"] and PATH in broadcast.texts["ru"]
    assert "3" in broadcast.texts["kk"] and "Үшінші сабақ" in broadcast.texts["kk"]
    assert await _report(db, tmp_path) is None  # a third learner: already reported
    # The file is back (seen at a send), then gone again: a new report.
    (tmp_path / "media").mkdir()
    (tmp_path / PATH).write_bytes(b"clip")
    await svc.prepare(db, CODE, PATH, tmp_path / PATH, "video")
    assert (await _row(db)).reported_at is None
    (tmp_path / PATH).unlink()
    assert await _report(db, tmp_path) is not None
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 2
