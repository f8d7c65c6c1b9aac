"""Course media in chat: video steps, one upload then Telegram's file_id, missing files reported.

A small course pack is written to the test's folder with a video in its `media/` folder and a
video by URL (served by the emulator, which never leaves the machine), then loaded as an
organizer would load it.
"""

from __future__ import annotations

import html
import re

import yaml
from sqlalchemy import select, update

from bot.services import content as content_service
from bot.services.roles import Role, ensure_role
from models import CourseMedia
from tests.conftest import ADMIN_ID
from tests.flows.helpers import UNIVERSITY_EN, onboard

CODE = "media_course"
VIDEO_URL = "https://media.example.org/lecture.mp4"
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4
UNIVERSITY = {
    "en": UNIVERSITY_EN,
    "ru": "🇰🇿 Таразский региональный университет имени М.Х. Дулати",
    "kk": "🇰🇿 М.Х. Дулати атындағы Тараз өңірлік университеті",
}


def _t(text: str) -> dict[str, str]:
    """The same text in the three languages, told apart."""
    return {"kk": f"{text} (kk)", "ru": f"{text} (ru)", "en": text}


def _visible(text: str) -> str:
    """A translated HTML text as the person reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def _load_pack(harness, folder) -> None:
    """Write the course pack with its video file into `folder` and load it."""
    (folder / "media").mkdir()
    (folder / "media" / "intro.mp4").write_bytes(MP4)
    pack = {
        "kind": "course",
        "code": CODE,
        "version": 1,
        "title": _t("Media course"),
        "modules": [
            {
                "code": "first",
                "title": _t("First module"),
                "lessons": [
                    {
                        "code": "watch",
                        "title": _t("Watch and learn"),
                        "steps": [
                            {"type": "text", "text": _t("Two short videos follow.")},
                            {
                                "type": "video",
                                "file": "media/intro.mp4",
                                "caption": _t("The intro video"),
                            },
                            {"type": "video", "url": VIDEO_URL, "caption": _t("The lecture")},
                        ],
                    },
                    {
                        "code": "read",
                        "title": _t("Read on"),
                        "steps": [{"type": "text", "text": _t("Some reading.")}],
                    },
                ],
            }
        ],
    }
    path = folder / "media_course.yaml"
    path.write_text(yaml.safe_dump(pack, allow_unicode=True), "utf-8")
    outcome = await content_service.load_path(harness.app.bot_data.db, path)
    assert outcome.ok, outcome
    harness.emulator.serve_url(VIDEO_URL, MP4 + b"lecture", "lecture.mp4", "video/mp4")


async def _learner(harness, i18n, telegram_id: int, name: str, language: str = "en"):
    """An onboarded learner enrolled in the media course, on the first lesson's first step."""
    t = i18n.translator(language)
    user = harness.user(telegram_id, name, language)
    await onboard(user, i18n, language, UNIVERSITY[language])
    await user.send(f"/start c-{CODE}")
    await user.tap(t.plain("course.open_number_button", number=1))
    assert "Two short videos follow" in user.last_text
    return user


async def _stored(harness) -> CourseMedia | None:
    """The course_media row of the intro video."""
    async with harness.app.bot_data.db() as session:
        return await session.scalar(
            select(CourseMedia).where(
                CourseMedia.course_code == CODE, CourseMedia.path == "media/intro.mp4"
            )
        )


async def test_video_steps_uploaded_once_then_sent_by_file_id(harness, i18n, tmp_path):
    """Two learners (a restart between them) take a lesson with a video from the pack's folder
    and one by URL: each sees both videos with their captions and the Next button; the folder's
    video is uploaded once (multipart) and the second learner's call carries the stored file_id.
    A file_id Telegram refuses is replaced by a fresh upload; changed content is uploaded again.
    """
    t = i18n.translator("en")
    stats = harness.emulator.stats
    await _load_pack(harness, tmp_path)

    aru = await _learner(harness, i18n, 1201, "Aru")
    await aru.tap(t.plain("course.next"))
    intro = aru.last_message
    assert intro.video is not None and intro.caption == "The intro video"
    assert intro.video["mime_type"] == "video/mp4" and intro.video["file_size"] == len(MP4)
    assert aru.last_buttons == [t.plain("course.next")]
    assert stats.uploads["sendVideo"] == 1
    await aru.tap(t.plain("course.next"))
    lecture = aru.last_message
    assert lecture.video is not None and lecture.caption == "The lecture"
    assert lecture.video["file_name"] == "lecture.mp4"
    assert aru.last_buttons == [t.plain("course.next")]
    stored = await _stored(harness)
    assert stored is not None and stored.file_id == intro.video["file_id"]
    assert stored.kind == "video" and stored.content_key

    await harness.restart()  # the file_id comes from the database, not from memory
    calls = stats.calls["sendVideo"]
    boris = await _learner(harness, i18n, 1202, "Boris", "ru")
    await boris.tap(i18n.translator("ru").plain("course.next"))
    again = boris.last_message
    assert again.video is not None and again.caption == "The intro video (ru)"
    assert again.video["file_id"] == intro.video["file_id"]
    assert stats.calls["sendVideo"] == calls + 1 and stats.uploads["sendVideo"] == 1

    # Telegram no longer knows the stored file_id: the file is uploaded again and kept.
    async with harness.app.bot_data.db.begin() as session:
        await session.execute(update(CourseMedia).values(file_id="BAACAgIAAxkBAAIgone"))
    dana = await _learner(harness, i18n, 1203, "Dana")
    await dana.tap(t.plain("course.next"))
    fresh = dana.last_message
    assert fresh.video is not None and fresh.caption == "The intro video"
    assert stats.uploads["sendVideo"] == 2 and stats.errors[400] >= 1
    assert (await _stored(harness)).file_id == fresh.video["file_id"]

    # The organizer replaces the video: the new content is uploaded, not the old file_id.
    (tmp_path / "media" / "intro.mp4").write_bytes(MP4 + b"new cut")
    erlan = await _learner(harness, i18n, 1204, "Erlan")
    await erlan.tap(t.plain("course.next"))
    assert erlan.last_message.video["file_size"] == len(MP4) + len(b"new cut")
    assert stats.uploads["sendVideo"] == 3
    assert (await _stored(harness)).file_id == erlan.last_message.video["file_id"]


async def test_missing_file_reported_to_the_organizers_once(harness, i18n, tmp_path):
    """The video goes missing: two learners (a restart between them) get the step without it,
    and the admin (ru) and an organizer (kk) are each told once, in their language, naming the
    course, the lesson and the file; a student is not told. When the file is back it is sent
    again, and a later disappearance is reported again.
    """
    t = i18n.translator("en")
    broadcaster = harness.app.bot_data.broadcaster
    admin = harness.user(ADMIN_ID, "Admin", "ru")
    await onboard(admin, i18n, "ru", UNIVERSITY["ru"])
    organizer = harness.user(1301, "Saule", "kk")
    await onboard(organizer, i18n, "kk", UNIVERSITY["kk"])
    await ensure_role(harness.app.bot_data.db, 1301, Role.ORGANIZER)
    await _load_pack(harness, tmp_path)
    video = tmp_path / "media" / "intro.mp4"
    video.unlink()

    aru = await _learner(harness, i18n, 1302, "Aru")
    await aru.tap(t.plain("course.next"))
    assert aru.last_message.video is None and aru.last_text == "The intro video"
    assert aru.last_buttons == [t.plain("course.next")]
    await broadcaster.idle()
    await harness.restart()
    boris = await _learner(harness, i18n, 1303, "Boris")
    await boris.tap(t.plain("course.next"))
    assert boris.last_message.video is None and boris.last_text == "The intro video"
    await harness.app.bot_data.broadcaster.idle()

    def reports(user, language: str) -> list[str]:
        """The missing-file reports in `user`'s chat."""
        expected = _visible(
            i18n.translator(language)(
                "course.media_missing_report",
                course=_t("Media course")[language],
                number=1,
                lesson=_t("Watch and learn")[language],
                path="media/intro.mp4",
            )
        )
        return [x for x in user.texts if x == expected]

    assert len(reports(admin, "ru")) == 1
    assert len(reports(organizer, "kk")) == 1
    assert not any("media/intro.mp4" in x for x in aru.texts + boris.texts)
    stored = await _stored(harness)
    assert stored.missing_since is not None and stored.reported_at is not None

    # Back in the folder: sent again, and the marks are cleared.
    video.write_bytes(MP4)
    dana = await _learner(harness, i18n, 1304, "Dana")
    await dana.tap(t.plain("course.next"))
    assert dana.last_message.video is not None
    stored = await _stored(harness)
    assert stored.missing_since is None and stored.reported_at is None
    # Gone again: a new disappearance, reported again (once).
    video.unlink()
    for telegram_id, name in ((1305, "Erlan"), (1306, "Gulnar")):
        learner = await _learner(harness, i18n, telegram_id, name)
        await learner.tap(t.plain("course.next"))
        assert learner.last_message.video is None
    await harness.app.bot_data.broadcaster.idle()
    assert len(reports(admin, "ru")) == 2
    assert len(reports(organizer, "kk")) == 2
