"""Loading course packs: all or nothing, versioned like instruments, uploads without files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import delete, select

from bot.content.course_schema import parse_definition
from bot.content.validate import check_file
from bot.services import PermissionDenied, users
from bot.services import content as svc
from bot.services.roles import Role, ensure_role
from models import Course, Instrument

CONTENT = Path(__file__).resolve().parents[2] / "content"
ADMINS = frozenset({1})


def _t(text: str) -> dict[str, str]:
    """The same text in the three languages."""
    return {"kk": f"{text} (kk)", "ru": f"{text} (ru)", "en": text}


def _course(pre: str | None = "dlt_pre", media: dict | None = None) -> dict:
    """A one-lesson course naming `pre` as its pre-test, with an optional media step."""
    steps: list[dict] = [{"type": "text", "text": _t("Read this.")}]
    if media is not None:
        steps.append(media)
    data = {
        "kind": "course",
        "code": "tiny_course",
        "version": 1,
        "title": _t("Tiny"),
        "modules": [
            {
                "code": "m1",
                "title": _t("Module"),
                "lessons": [{"code": "l1", "title": _t("Lesson"), "steps": steps}],
            }
        ],
    }
    if pre is not None:
        data["pre_test"] = pre
    return data


def _write(folder: Path, name: str, data: dict) -> Path:
    """Write a pack as YAML and return its path."""
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def _clear(db) -> None:
    """An empty content library: no course, no instrument."""
    async with db.begin() as session:
        await session.execute(delete(Course))
        await session.execute(delete(Instrument))


async def _courses(db, code: str = "tiny_course") -> list[Course]:
    """The stored versions of a course, oldest first."""
    async with db() as session:
        rows = await session.scalars(
            select(Course).where(Course.code == code).order_by(Course.version)
        )
        return list(rows.all())


async def _load_instruments(db) -> None:
    """The shipped dlt_pre and dlt_post, so a course may name them."""
    reports = [check_file(CONTENT / name) for name in ("dlt_pre.yaml", "dlt_post.yaml")]
    assert (await svc.load_reports(db, reports)).ok


async def test_load_once_then_unchanged_then_new_version(db, tmp_path):
    """Loaded, loaded again unchanged (no row), then changed: version 2, version 1 kept."""
    await _clear(db)
    await _load_instruments(db)
    data = _course()
    path = _write(tmp_path, "course.yaml", data)
    first = await svc.load_path(db, path)
    assert first.ok, first.errors
    assert [(x.code, x.version, x.status, x.kind) for x in first.loaded] == [
        ("tiny_course", 1, "created", "course")
    ]
    again = await svc.load_path(db, path)
    assert [x.status for x in again.loaded] == ["unchanged"]
    data["modules"][0]["lessons"][0]["steps"][0]["text"]["en"] = "Read this, please."
    changed = await svc.load_path(db, _write(tmp_path, "course.yaml", data))
    assert [(x.version, x.status) for x in changed.loaded] == [(2, "new_version")]
    versions = await _courses(db)
    assert [(c.version, c.pack_version, c.pre_test, c.post_test) for c in versions] == [
        (1, 1, "dlt_pre", None),
        (2, 1, "dlt_pre", None),
    ]
    old, new = (parse_definition(c.definition) for c in versions)
    assert old.lessons()[0].lesson.steps[0].text.en == "Read this."
    assert new.lessons()[0].lesson.steps[0].text.en == "Read this, please."
    assert versions[0].title == _t("Tiny") and versions[0].source == str(path)
    assert versions[0].checksum != versions[1].checksum


async def test_a_pre_test_must_be_loaded_or_in_the_batch(db, tmp_path):
    """Unknown pre-test: refused; the same course with the instrument in its batch: loaded."""
    await _clear(db)
    refused = await svc.load_path(db, _write(tmp_path, "c.yaml", _course()))
    assert not refused.ok and refused.loaded == []
    assert [str(e) for e in refused.errors] == [
        f"{tmp_path / 'c.yaml'}: pre_test: no instrument 'dlt_pre' is loaded or given"
    ]
    assert await _courses(db) == []
    for name in ("dlt_pre.yaml", "dlt_post.yaml"):
        (tmp_path / name).write_bytes((CONTENT / name).read_bytes())
    together = await svc.load_path(db, tmp_path)
    assert together.ok and {(x.code, x.kind) for x in together.loaded} == {
        ("tiny_course", "course"),
        ("dlt_pre", "instrument"),
        ("dlt_post", "instrument"),
    }


async def test_one_bad_pack_refuses_courses_and_instruments_alike(db, tmp_path):
    """A valid course next to a broken survey: nothing of the batch is loaded."""
    await _clear(db)
    _write(tmp_path, "a_course.yaml", _course(pre=None))
    _write(tmp_path, "b_bad.yaml", {"kind": "survey", "code": "bad"})
    outcome = await svc.load_path(db, tmp_path)
    assert not outcome.ok and outcome.loaded == []
    assert await _courses(db) == []


async def test_a_missing_media_file_refuses_the_load(db, tmp_path):
    """A photo named by file: must exist next to the pack; once it does, the course loads."""
    await _clear(db)
    media = {"type": "photo", "file": "media/p.png"}
    path = _write(tmp_path, "c.yaml", _course(pre=None, media=media))
    outcome = await svc.load_path(db, path)
    assert [str(e) for e in outcome.errors] == [
        (
            f"{path}: modules[0].lessons[0].steps[1].file: no file 'media/p.png' in the pack's "
            f"folder ({tmp_path})"
        )
    ]
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "p.png").write_bytes(b"\x89PNG")
    assert (await svc.load_path(db, path)).ok


async def test_uploads_of_courses(db):
    """Organizers only; a course sent in chat loads with url: media and is refused with file:."""
    await _clear(db)
    await _load_instruments(db)
    await users.seen(
        db, 5, first_name="s", username=None, telegram_language=None, admin_ids=ADMINS
    )
    with_url = _course(media={"type": "video", "url": "https://example.org/v.mp4"})
    data = yaml.safe_dump(with_url, allow_unicode=True).encode()
    with pytest.raises(PermissionDenied):
        await svc.load_upload(db, 5, ADMINS, data, "course.yaml")
    await ensure_role(db, 6, Role.ORGANIZER)
    outcome = await svc.load_upload(db, 6, ADMINS, data, "course.yaml")
    assert outcome.ok and [(x.code, x.status) for x in outcome.loaded] == [
        ("tiny_course", "created")
    ]
    (stored,) = await _courses(db)
    assert stored.loaded_by_id is not None and stored.source == "course.yaml"
    with_file = _course(media={"type": "photo", "file": "media/p.png"})
    data = yaml.safe_dump(with_file, allow_unicode=True).encode()
    refused = await svc.load_upload(db, 6, ADMINS, data, "course.yaml")
    assert not refused.ok
    assert "steps[1].file: a pack sent in chat has no folder" in str(refused.errors[0])


async def test_default_content_includes_the_course(db):
    """An empty database gets the shipped instruments and the default course at first start."""
    await _clear(db)
    outcome = await svc.load_defaults_if_empty(db)
    assert outcome is not None and outcome.ok, [str(e) for e in outcome.errors]
    assert ("dlt_course", 1, "created", "course") in {
        (x.code, x.version, x.status, x.kind) for x in outcome.loaded
    }
    (course,) = await _courses(db, "dlt_course")
    assert (course.pre_test, course.post_test) == ("dlt_pre", "dlt_post")
    assert len(parse_definition(course.definition).lessons()) >= 9
    assert await svc.load_defaults_if_empty(db) is None


async def test_default_course_added_to_a_database_with_instruments_only(db):
    """A database from before courses: only the course is loaded; instruments get no version."""
    await _clear(db)
    await _load_instruments(db)
    outcome = await svc.load_defaults_if_empty(db)
    assert outcome is not None and outcome.ok
    assert [(x.code, x.kind) for x in outcome.loaded] == [("dlt_course", "course")]
    assert {code for code, _, _ in await svc.latest_versions(db)} == {"dlt_pre", "dlt_post"}


async def test_the_cli_loads_courses(db, settings, tmp_path, capsys):
    """`content load`: a course loads and says so; one naming an unknown test loads nothing."""
    from bot.__main__ import load_content

    await _clear(db)
    await _load_instruments(db)
    path = _write(tmp_path, "c.yaml", _course())
    assert await load_content(settings, path) == 0
    assert f"{path}: tiny_course (course) v1 created" in capsys.readouterr().out
    path = _write(tmp_path, "c.yaml", _course(pre="nowhere"))
    assert await load_content(settings, path) == 1
    out = capsys.readouterr().out
    assert f"{path}: pre_test: no instrument 'nowhere' is loaded or given" in out
    assert "nothing was loaded" in out
    assert [c.version for c in await _courses(db)] == [1]
