"""Course data: the two course datasets, the learners-of-a-course audience, /course_stats.

The course rows (Course, Enrolment, LessonProgress, CheckAnswer) are inserted directly with
the models, as the course's own services would leave them; people are onboarded through the
factories. Tried: a Telegram id, a name or a username in a course export; a learner's lessons
not yet reached left out of the progress rows (the funnel could not be read off them); an
organizer of one university seeing another's learners in the data or the stats; a forged or
over-long audience reference; a learner who finished still addressed as "not finished".
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services import InvalidInput, NotFound, PermissionDenied, audiences, broadcasts
from bot.services.course_stats import course_stats, render_course_chart, render_course_chart_async
from bot.services.exports import Filters, Options, export
from bot.services.exports.datasets import DATASETS, by_code
from bot.services.universities import list_universities
from models import (
    Attempt,
    Campaign,
    CheckAnswer,
    Course,
    Enrolment,
    Instrument,
    LessonProgress,
    User,
)
from tests import factories

ADMINS = frozenset({1})
KEY = "course-data-key"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _text(word: str) -> dict[str, str]:
    return {"kk": f"{word} kk", "ru": f"{word} ru", "en": word}


def definition(code: str = "demo_course") -> dict:
    """A course as its validated pack dumps it: two modules, three lessons, two checks."""

    def lesson(code: str, check: str | None) -> dict:
        step = {"type": "text", "text": _text(f"{code} text")}
        return {
            "code": code,
            "title": _text(f"Lesson {code}"),
            "steps": [step],
            "check": None
            if check is None
            else {
                "code": check,
                "kind": "single",
                "question": _text("Q"),
                "options": [
                    {"code": "a", "text": _text("A"), "correct": True},
                    {"code": "b", "text": _text("B"), "correct": False},
                ],
                "explanation": _text("E"),
            },
        }

    return {
        "kind": "course",
        "code": code,
        "version": 1,
        "title": _text("Digital learning"),
        "pre_test": "dlt_pre",
        "post_test": "dlt_post",
        "modules": [
            {"code": "m1", "title": _text("M1"), "lessons": [lesson("lms", "lms_q")]},
            {
                "code": "m2",
                "title": _text("M2"),
                "lessons": [lesson("boards", "boards_q"), lesson("video", None)],
            },
        ],
    }


async def add_course(db, code: str = "demo_course", version: int = 1) -> int:
    """A course version as the loader stores it; returns its id."""
    async with db.begin() as session:
        course = Course(
            code=code,
            version=version,
            pack_version=1,
            title=_text("Digital learning"),
            pre_test="dlt_pre",
            post_test="dlt_post",
            definition=definition(code),
            checksum="0" * 64,
            source="content/demo_course.yaml",
        )
        session.add(course)
        await session.flush()
        return course.id


async def enrol(
    db,
    telegram_id: int,
    course_id: int,
    *,
    done: int = 0,
    opened: int = 0,
    answers: dict[str, tuple[list[str], bool]] | None = None,
    finished: bool = False,
    active: datetime | None = None,
    code: str = "demo_course",
) -> int:
    """Enrol a person: `done` lessons completed, then `opened` more opened (course order)."""
    lessons = ["lms", "boards", "video"]
    async with db.begin() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        enrolment = Enrolment(
            user_id=user.id,
            course_code=code,
            course_id=course_id,
            lesson_index=done,
            last_active_at=active,
            finished_at=T0 + timedelta(days=5) if finished else None,
        )
        session.add(enrolment)
        await session.flush()
        for i, lesson in enumerate(lessons[: done + opened]):
            day = T0 + timedelta(days=i)
            session.add(
                LessonProgress(
                    enrolment_id=enrolment.id,
                    lesson_code=lesson,
                    position=i,
                    delivered_at=day,
                    opened_at=day + timedelta(minutes=5),
                    completed_at=day + timedelta(minutes=9) if i < done else None,
                )
            )
        for lesson, (options, correct) in (answers or {}).items():
            session.add(
                CheckAnswer(
                    enrolment_id=enrolment.id,
                    lesson_code=lesson,
                    question_code=f"{lesson}_q",
                    options=options,
                    correct=correct,
                    answered_at=T0 + timedelta(hours=1),
                )
            )
        return enrolment.id


async def _people(db) -> list:
    """Three learners: two of the first university (kk, ru), one of the fifth (en)."""
    unis = await list_universities(db)
    await factories.student(db, 1, ADMINS, first_name="Admin")
    for telegram_id, uni, language in ((111111111, 0, "kk"), (222222222, 0, "ru"), (333, 4, "en")):
        await factories.student(
            db,
            telegram_id,
            ADMINS,
            university=uni,
            language=language,
            first_name=f"Name{telegram_id}",
            username=f"u{telegram_id}",
        )
    return unis


async def seeded(db) -> tuple[list, int]:
    """The three learners enrolled at different points; returns (universities, course id)."""
    unis = await _people(db)
    course_id = await add_course(db)
    await enrol(
        db,
        111111111,
        course_id,
        done=3,
        answers={"lms": (["a"], True), "boards": (["b"], False)},
        finished=True,
    )
    await enrol(db, 222222222, course_id, done=1, opened=1, answers={"lms": (["a"], True)})
    await enrol(db, 333, course_id, answers={})
    return unis, course_id


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


async def _export(settings, dataset, fmt, folder, filters=None, identified=False):
    opts = Options(KEY, "en", identified)
    folder.mkdir(parents=True, exist_ok=True)
    return await export(
        settings.database_url, dataset, fmt, filters or Filters(), opts, folder, stem=dataset
    )


# --- the datasets ------------------------------------------------------------------------


def test_the_course_datasets_have_their_own_codes():
    """New codes after the four survey datasets; the existing ones keep theirs."""
    assert by_code("4") is DATASETS["course_progress"]
    assert by_code("5") is DATASETS["course_checks"]
    assert [by_code(code).name for code in "0123"] == ["answers", "wide", "scores", "swot"]
    for name in ("course_progress", "course_checks"):
        assert set(DATASETS[name].description) == {"kk", "ru", "en"}


async def test_progress_has_every_lesson_of_every_learner_and_no_identity(db, settings, tmp_path):
    """A row per learner and lesson, reached or not; no Telegram id, name or username."""
    unis, _ = await seeded(db)
    written = await _export(settings, "course_progress", "csv", tmp_path)
    assert written.rows == 9  # three learners x three lessons
    out = tmp_path / "course_progress.csv"
    text = out.read_text(encoding="utf-8-sig")
    for secret in ("111111111", "222222222", "Name333", "u111111111", "Name111111111"):
        assert secret not in text
    rows = _read(out)
    assert list(rows[0])[:5] == ["participant", "university", "country", "language", "course"]
    by_person: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_person.setdefault(row["participant"], []).append(row)
    assert all(code.startswith("P") and len(code) == 16 for code in by_person)
    first, second, third = by_person.values()
    assert [r["status"] for r in first] == ["completed"] * 3
    assert [r["status"] for r in second] == ["completed", "opened", "not_reached"]
    assert [r["status"] for r in third] == ["not_reached"] * 3
    assert [r["lesson"] for r in first] == ["lms", "boards", "video"]
    assert [r["lesson_position"] for r in first] == ["1", "2", "3"]
    assert [r["module"] for r in first] == ["m1", "m2", "m2"]
    assert first[0]["university"] == unis[0].code and first[0]["language"] == "kk"
    assert third[0]["university"] == unis[4].code and third[0]["language"] == "en"
    assert first[0]["course"] == "demo_course" and first[0]["course_version"] == "1"
    assert first[0]["delivered_at"] == "2026-03-02 09:00:00"
    assert first[0]["opened_at"] == "2026-03-02 09:05:00"
    assert first[0]["completed_at"] == "2026-03-02 09:09:00"
    assert first[0]["course_finished_at"] == "2026-03-07 09:00:00"
    assert second[2]["delivered_at"] == "" and second[1]["completed_at"] == ""
    book = json.loads(written.codebook.read_text(encoding="utf-8"))
    assert book["dataset"] == "course_progress"
    (table,) = book["tables"]
    variables = {v["name"]: v for v in table["variables"]}
    assert "telegram_id" not in variables and variables["delivered_at"]["type"] == "datetime"
    assert set(variables["status"]["value_labels"]) == {
        "not_reached",
        "delivered",
        "opened",
        "completed",
    }
    assert set(variables["lesson"]["label"]) == {"kk", "ru", "en"}


async def test_checks_export_in_csv_and_parquet(db, settings, tmp_path):
    """One row per check answer, with the options chosen and 1/0 for correct, in both formats."""
    import pandas as pd

    await seeded(db)
    written = await _export(settings, "course_checks", "csv", tmp_path)
    assert written.rows == 3
    rows = _read(tmp_path / "course_checks.csv")
    assert [(r["lesson"], r["question"], r["options"], r["correct"]) for r in rows] == [
        ("lms", "lms_q", "a", "1"),
        ("boards", "boards_q", "b", "0"),
        ("lms", "lms_q", "a", "1"),
    ]
    assert rows[1]["lesson_position"] == "2" and rows[0]["answered_at"] == "2026-03-02 10:00:00"
    parquet = await _export(settings, "course_checks", "parquet", tmp_path / "pq")
    frame = pd.read_parquet(parquet.files[0])
    assert list(frame["correct"]) == [1, 0, 1] and "telegram_id" not in frame.columns
    assert list(frame["question"]) == ["lms_q", "boards_q", "lms_q"]
    assert parquet.codebook.exists()
    progress = await _export(settings, "course_progress", "parquet", tmp_path / "pp")
    assert len(pd.read_parquet(progress.files[0])) == 9


async def test_course_exports_follow_filters_and_scope(db, settings, tmp_path):
    """University, country and an organizer's scope narrow the course rows like the others."""
    unis, _ = await seeded(db)
    mine = await _export(settings, "course_progress", "csv", tmp_path / "a", Filters(scope=()))
    assert mine.rows == 0
    scoped = Filters(scope=(unis[4].code,))
    written = await _export(settings, "course_checks", "csv", tmp_path / "b", scoped)
    assert written.rows == 0  # the learner of unis[4] answered nothing
    written = await _export(settings, "course_progress", "csv", tmp_path / "c", scoped)
    assert written.rows == 3
    by_uni = Filters(university=unis[0].code)
    written = await _export(settings, "course_checks", "csv", tmp_path / "d", by_uni)
    assert written.rows == 3
    later = Filters(since=(T0 + timedelta(days=1)).date())
    written = await _export(settings, "course_checks", "csv", tmp_path / "e", later)
    assert written.rows == 0


async def test_an_identified_course_export_names_the_learners(db, settings, tmp_path):
    """Identified (admins only, checked by the service) adds the Telegram id, as elsewhere."""
    await seeded(db)
    await _export(settings, "course_checks", "csv", tmp_path, identified=True)
    rows = _read(tmp_path / "course_checks.csv")
    assert {r["telegram_id"] for r in rows} == {"111111111", "222222222"}


# --- the audience ------------------------------------------------------------------------


async def _telegram_ids(db, kind: str, ref: str | None) -> set[int]:
    async with db() as session:
        return {u.telegram_id for u in await session.scalars(audiences.members(kind, ref))}


async def test_the_learners_of_a_course_are_an_audience(db):
    """All learners, or those not finished; a later version and other courses handled."""
    await seeded(db)
    await factories.student(db, 444, ADMINS)  # enrolled in another course only
    await factories.student(db, 555, ADMINS)  # enrolled in version 2 of the course
    other = await add_course(db, "other_course")
    await enrol(db, 444, other, code="other_course")
    second = await add_course(db, "demo_course", version=2)
    await enrol(db, 555, second)
    listed = {entry.code: entry for entry in await audiences.course_audiences(db)}
    course, other_entry = listed["demo_course"], listed["other_course"]  # and the default one
    assert course.code == "demo_course" and other_entry.code == "other_course"
    async with db() as session:
        assert await audiences.course_ref(session, "demo_course") == course.ref
        assert await audiences.course_ref(session, "nope") is None
    assert course.ref != str(second)  # the first version names the course
    assert await _telegram_ids(db, "course", course.ref) == {111111111, 222222222, 333, 555}
    assert await _telegram_ids(db, "course_open", course.ref) == {222222222, 333, 555}
    assert await _telegram_ids(db, "course", other_entry.ref) == {444}
    async with db() as session:
        assert await audiences.count(session, "course_open", str(second)) == 3
        await audiences.check_audience(session, "course", course.ref)
        for bad in (None, "", "x1", "99999", "1" * 40, "١"):  # forged or naming nothing
            with pytest.raises(InvalidInput):
                await audiences.check_audience(session, "course_open", bad)
    assert await _telegram_ids(db, "course", "x") == set()
    assert len(f"bc:a:{2**40}:course_open:{course.ref}".encode()) <= 64
    assert audiences.COURSE_LABELS["course_open"] == "broadcasts.audience_course_open"


async def test_a_broadcast_and_a_campaign_address_the_learners(db):
    """The services that address people accept the course kinds; scoped senders do not."""
    unis, _ = await seeded(db)
    (course,) = [e for e in await audiences.course_audiences(db) if e.code == "demo_course"]
    draft = await broadcasts.create_draft(db, 1, ADMINS)
    assert await broadcasts.set_audience(db, 1, ADMINS, draft, "course_open", course.ref) == 2
    campaign = await factories.campaign(
        db, 1, ADMINS, "dlt_pre", audience_kind="course", audience_ref=course.ref
    )
    assert campaign
    await factories.organizer(db, 77, ADMINS, university=unis[0])
    scoped_draft = await broadcasts.create_draft(db, 77, ADMINS)
    with pytest.raises(PermissionDenied):
        await broadcasts.set_audience(db, 77, ADMINS, scoped_draft, "course", course.ref)


# --- /course_stats -----------------------------------------------------------------------


async def _scores(db, telegram_id: int, code: str, platforms: float) -> None:
    """A submitted attempt of instrument `code` whose `platforms` scale scored `platforms`."""
    async with db.begin() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        instrument = await session.scalar(
            select(Instrument).where(Instrument.code == code).order_by(Instrument.id.desc())
        )
        campaign = Campaign(
            instrument_id=instrument.id,
            instrument_code=code,
            wave=code.removeprefix("dlt_"),
            opens_at=T0,
        )
        session.add(campaign)
        await session.flush()
        session.add(
            Attempt(
                campaign_id=campaign.id,
                user_id=user.id,
                instrument_id=instrument.id,
                language="en",
                seed="s",
                state="submitted",
                started_at=T0,
                submitted_at=T0 + timedelta(minutes=3),
                passed=[],
                result={"scales": {"platforms": {"value": platforms, "items": 3}}},
            )
        )


async def test_course_stats_on_seeded_data(db):
    """Enrolled, active, finished, the funnel, check accuracy, pre->post and universities."""
    unis, _ = await seeded(db)
    await _scores(db, 111111111, "dlt_pre", 2.0)
    await _scores(db, 111111111, "dlt_post", 3.5)
    await _scores(db, 222222222, "dlt_pre", 1.0)  # no post yet: not a pair
    stats = await course_stats(db, 1, ADMINS, "demo_course", now=T0 + timedelta(days=3))
    assert (stats.enrolled, stats.active, stats.finished, stats.scope) == (3, 2, 1, None)
    assert [(f.code, f.delivered, f.opened, f.completed) for f in stats.funnel] == [
        ("lms", 2, 2, 2),
        ("boards", 2, 2, 1),
        ("video", 1, 1, 1),
    ]
    assert [(c.question, c.answered, c.correct) for c in stats.checks] == [
        ("lms_q", 2, 2),
        ("boards_q", 1, 0),
    ]
    assert stats.checks[1].percent == 0.0 and stats.checks[0].percent == 100.0
    (platforms,) = stats.prepost
    assert (platforms.scale, platforms.pairs, platforms.mean_pre, platforms.mean_post) == (
        "platforms",
        1,
        2.0,
        3.5,
    )
    assert platforms.change == 1.5 and set(platforms.title) == {"kk", "ru", "en"}
    assert [(u.university, u.enrolled, u.active, u.finished) for u in stats.universities] == [
        (unis[0].code, 2, 2, 1),
        (unis[4].code, 1, 0, 0),
    ]
    assert (stats.universities[0].answered, stats.universities[0].correct) == (3, 2)
    later = await course_stats(db, 1, ADMINS, "demo_course", now=T0 + timedelta(days=30))
    assert later.active == 0
    png = await render_course_chart_async(stats, "kk")
    assert png.startswith(b"\x89PNG")
    empty = await course_stats(db, 1, ADMINS, "demo_course", now=T0)
    assert render_course_chart(replace(empty, funnel=[], prepost=[])).startswith(b"\x89PNG")


async def test_course_stats_are_scoped_for_organizers(db):
    """An organizer or coach of one university sees its learners; students see nothing."""
    unis, _ = await seeded(db)
    await factories.organizer(db, 71, ADMINS, university=unis[4])
    await factories.coach(db, 72, ADMINS, university=unis[0])
    await factories.organizer(db, 73, ADMINS)  # consortium-wide
    theirs = await course_stats(db, 71, ADMINS, "demo_course", now=T0 + timedelta(days=3))
    assert (theirs.enrolled, theirs.finished, theirs.scope) == (1, 0, (unis[4].code,))
    assert [f.delivered for f in theirs.funnel] == [0, 0, 0] and theirs.checks == []
    assert [u.university for u in theirs.universities] == [unis[4].code]
    coach = await course_stats(db, 72, ADMINS, "demo_course", now=T0 + timedelta(days=3))
    assert (coach.enrolled, coach.finished, len(coach.checks)) == (2, 1, 2)
    assert (await course_stats(db, 73, ADMINS, "demo_course")).enrolled == 3
    with pytest.raises(PermissionDenied):
        await course_stats(db, 333, ADMINS, "demo_course")
    with pytest.raises(NotFound):
        await course_stats(db, 1, ADMINS, "no_such_course")
