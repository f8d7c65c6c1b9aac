"""The course service: reading a course, enrolment, lessons step by step, checks, progress.

Courses are small definitions written here and inserted as `Course` rows directly (the shape
the pack loader stores: the validated pack as data); learners are onboarded through the real
services (tests/factories.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound
from bot.services import course as svc
from bot.services.course import CheckKind, OfferKind, StepKind, split_text
from models import Course, Enrolment, LessonProgress
from tests import factories

LEARNER = 5101
OTHER = 5102
ADMIN = 5100
ADMINS = frozenset({ADMIN})


def _t(text: str) -> dict[str, str]:
    """The same text in the three languages, marked by language."""
    return {"kk": f"{text} (kk)", "ru": f"{text} (ru)", "en": text}


def definition(
    code: str = "mini",
    lessons: int = 3,
    *,
    pre_test: str | None = None,
    post_test: str | None = None,
    version: int = 1,
) -> dict[str, Any]:
    """A course of `lessons` lessons in two modules; every lesson 2 steps; odd ones a check."""
    made = []
    for i in range(lessons):
        lesson: dict[str, Any] = {
            "code": f"l{i}",
            "title": _t(f"Lesson {i}"),
            "steps": [
                {"type": "text", "text": _t(f"Text of lesson {i}")},
                {"type": "link", "url": "https://moodle.org", "text": _t("Moodle")},
            ],
            "check": None,
        }
        if i % 2 == 1:
            lesson["check"] = {
                "code": f"q{i}",
                "kind": "single",
                "question": _t("Which?"),
                "options": [
                    {"code": "a", "text": _t("A"), "correct": True},
                    {"code": "b", "text": _t("B"), "correct": False},
                ],
                "explanation": _t("A is right."),
            }
        made.append(lesson)
    half = max(1, lessons // 2)
    return {
        "kind": "course",
        "code": code,
        "version": version,
        "title": _t(f"Course {code}"),
        "description": None,
        "pre_test": pre_test,
        "post_test": post_test,
        "modules": [
            {"code": "m1", "title": _t("Module 1"), "lessons": made[:half]},
            {"code": "m2", "title": _t("Module 2"), "lessons": made[half:]},
        ],
    }


async def add_course(db: Sessionmaker, definition: dict[str, Any], version: int = 1) -> int:
    """Insert a course version directly, as the loader stores one; its id."""
    async with db.begin() as session:
        course = Course(
            code=definition["code"],
            version=version,
            pack_version=definition["version"],
            title=definition["title"],
            pre_test=definition.get("pre_test"),
            post_test=definition.get("post_test"),
            definition=definition,
            checksum=f"{definition['code']}-{version}",
            source=f"content/courses/{definition['code']}.yaml",
        )
        session.add(course)
        await session.flush()
        return course.id


async def enrolled(db: Sessionmaker, code: str = "mini", lessons: int = 3, **kw: Any) -> int:
    """A course `code` and the learner enrolled in it; the enrolment's id."""
    await add_course(db, definition(code, lessons, **kw))
    await factories.student(db, LEARNER)
    return (await svc.enrol(db, LEARNER, code)).enrolment.id


async def submit_test(db: Sessionmaker, code: str, wave: str) -> None:
    """The learner submits the instrument `code` in a campaign an admin opened for everyone."""
    await factories.admin(db, ADMIN, ADMINS)
    campaign = await factories.campaign(db, ADMIN, ADMINS, code, wave)
    await factories.attempt(db, LEARNER, campaign)


async def take_lesson(
    db: Sessionmaker, enrolment: int, position: int, answer: str = "a"
) -> svc.LessonScreen:
    """Open a lesson, press Next through its steps, answer its check; the last screen."""
    screen = await svc.open_lesson(db, LEARNER, enrolment, position)
    step = 1
    while True:
        screen = await svc.next_step(db, LEARNER, enrolment, position, step)
        if screen.completed:
            return screen
        if screen.check is not None:
            return await svc.check_answer(db, LEARNER, enrolment, position, [answer])
        step += 1


def test_split_text_keeps_paragraphs_and_cuts_long_ones_at_sentences():
    """Tried: short paragraphs (joined), a paragraph over the limit (cut at sentences), one
    word longer than the limit (cut anywhere); every part fits and nothing is lost."""
    assert split_text("One.\n\nTwo.") == ["One.\n\nTwo."]
    assert split_text("aaaa\n\nbbbb", limit=6) == ["aaaa", "bbbb"]
    long = " ".join(f"Sentence {i} is here." for i in range(40))
    parts = split_text(long, limit=100)
    assert all(len(p) <= 100 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == long
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    text = "\n\n".join("word " * 300 for _ in range(5))
    assert all(len(p) <= 4096 for p in split_text(text))


async def test_course_read_flat_and_latest_version_listed(db):
    """Tried: a course in two modules read back flattened in order with steps and checks;
    a second version of it: the list shows only the latest, once."""
    first = await add_course(db, definition("mini", 3))
    await add_course(db, definition("mini", 4, version=2), version=2)
    info = await svc.get_course(db, first)
    assert [lesson.code for lesson in info.lessons] == ["l0", "l1", "l2"]
    assert [lesson.module_code for lesson in info.lessons] == ["m1", "m2", "m2"]
    assert info.lessons[0].steps[0].kind is StepKind.TEXT
    assert info.lessons[0].steps[0].parts("ru") == ["Text of lesson 0 (ru)"]
    assert info.lessons[0].steps[1].url == "https://moodle.org"
    assert info.lessons[1].check is not None
    assert info.lessons[1].check.kind is CheckKind.SINGLE
    assert info.lessons[1].check.correct_codes == {"a"}
    listed = [c for c in await svc.list_courses(db) if c.code == "mini"]
    assert [(c.version, c.lessons) for c in listed] == [(2, 4)]
    with pytest.raises(NotFound):
        await svc.get_course(db, 999_999)


async def test_enrol_is_idempotent_and_open_to_every_university(db):
    """Tried: enrolling, enrolling again (same enrolment, said so), a student of another
    university, an unknown course, and someone who never finished onboarding."""
    await add_course(db, definition())
    await factories.student(db, LEARNER, university=0)
    await factories.student(db, OTHER, university=2)
    first = await svc.enrol(db, LEARNER, "mini")
    again = await svc.enrol(db, LEARNER, "mini")
    assert first.created and not again.created
    assert first.enrolment.id == again.enrolment.id
    assert first.offer == svc.Offer(OfferKind.LESSON, lesson=0)
    other = await svc.enrol(db, OTHER, "mini")
    assert other.created and other.enrolment.id != first.enrolment.id
    with pytest.raises(NotFound) as unknown:
        await svc.enrol(db, LEARNER, "nope")
    assert unknown.value.key == "course.not_found"
    await factories.person(db, 5199)
    with pytest.raises(NotFound) as fresh:
        await svc.enrol(db, 5199, "mini")
    assert fresh.value.key == "course.not_onboarded"


async def test_enrol_offers_the_pre_test_until_it_is_submitted(db):
    """Tried: a course naming the default dlt_pre as pre-test: enrolling offers it; after an
    attempt of dlt_pre is submitted the first lesson is offered instead."""
    await add_course(db, definition(pre_test="dlt_pre"))
    await factories.student(db, LEARNER)
    result = await svc.enrol(db, LEARNER, "mini")
    assert result.offer == svc.Offer(OfferKind.PRE_TEST, instrument="dlt_pre")
    await submit_test(db, "dlt_pre", "pre")
    offer = await svc.offer_next(db, LEARNER, result.enrolment.id)
    assert offer == svc.Offer(OfferKind.LESSON, lesson=0)


async def test_steps_in_order_stale_buttons_refused_and_lessons_unlock(db):
    """Tried: a lesson opened and walked step by step; an old Next pressed again (stale);
    a lesson past the next unlocked one (locked); completing the first unlocks the second;
    someone else's enrolment id (not theirs)."""
    enrolment = await enrolled(db)
    with pytest.raises(InvalidInput) as locked:
        await svc.open_lesson(db, LEARNER, enrolment, 1)
    assert locked.value.key == "course.locked"
    screen = await svc.open_lesson(db, LEARNER, enrolment, 0)
    assert screen.step_index == 0 and screen.step is not None
    screen = await svc.next_step(db, LEARNER, enrolment, 0, 1)
    assert screen.step_index == 1 and screen.last_step
    with pytest.raises(InvalidInput) as stale:
        await svc.next_step(db, LEARNER, enrolment, 0, 1)
    assert stale.value.key == "course.stale_step"
    done = await svc.next_step(db, LEARNER, enrolment, 0, 2)
    assert done.completed and done.offer == svc.Offer(OfferKind.LESSON, lesson=1)
    with pytest.raises(InvalidInput):
        await svc.next_step(db, LEARNER, enrolment, 0, 2)  # the completing Next, again
    await svc.open_lesson(db, LEARNER, enrolment, 1)
    await factories.student(db, OTHER)
    with pytest.raises(NotFound) as theirs:
        await svc.open_lesson(db, OTHER, enrolment, 0)
    assert theirs.value.key == "course.not_enrolled"
    with pytest.raises(NotFound):
        await svc.open_lesson(db, LEARNER, enrolment, 99)


async def test_check_first_answer_counts_and_completes_the_lesson(db):
    """Tried: a check asked after the last step; answered before its steps were seen
    (refused), with an unknown option, two options for a single-choice question, then
    wrongly (recorded wrong, explanation shown), then again (refused: the first counts);
    reopening shows the first answer."""
    enrolment = await enrolled(db)
    await take_lesson(db, enrolment, 0)
    await svc.open_lesson(db, LEARNER, enrolment, 1)
    with pytest.raises(InvalidInput) as early:
        await svc.check_answer(db, LEARNER, enrolment, 1, ["a"])
    assert early.value.key == "course.check_not_yet"
    await svc.next_step(db, LEARNER, enrolment, 1, 1)
    asked = await svc.next_step(db, LEARNER, enrolment, 1, 2)
    assert asked.check is not None and not asked.completed
    for bad, key in ((["z"], "course.bad_option"), (["a", "b"], "course.choose_one")):
        with pytest.raises(InvalidInput) as refused:
            await svc.check_answer(db, LEARNER, enrolment, 1, bad)
        assert refused.value.key == key
    wrong = await svc.check_answer(db, LEARNER, enrolment, 1, ["b"])
    assert wrong.completed and wrong.answered is not None
    assert not wrong.answered.correct
    assert wrong.answered.correct_options == ("a",)
    assert wrong.answered.explanation["en"] == "A is right."
    with pytest.raises(InvalidInput) as twice:
        await svc.check_answer(db, LEARNER, enrolment, 1, ["a"])
    assert twice.value.key == "course.already_answered"
    reopened = await svc.open_lesson(db, LEARNER, enrolment, 1)
    assert reopened.answered is not None and reopened.answered.chosen == ("b",)
    # a reopened lesson with its check answered completes without asking again
    await svc.next_step(db, LEARNER, enrolment, 1, 1)
    again = await svc.next_step(db, LEARNER, enrolment, 1, 2)
    assert again.completed and again.check is None


async def test_reopening_an_earlier_lesson_does_not_move_the_current_one(db):
    """Tried: two lessons done, the first reopened and completed again: lesson_index stays."""
    enrolment = await enrolled(db)
    await take_lesson(db, enrolment, 0)
    await take_lesson(db, enrolment, 1)
    await take_lesson(db, enrolment, 0)
    async with db() as session:
        row = await session.get(Enrolment, enrolment)
        assert row is not None and row.lesson_index == 2


async def test_last_lesson_offers_the_post_test_then_finishes(db):
    """Tried: a two-lesson course with dlt_post as post-test: after the last lesson the
    post-test is offered and the course is not finished; once dlt_post is submitted the
    course is finished."""
    enrolment = await enrolled(db, lessons=2, post_test="dlt_post")
    await take_lesson(db, enrolment, 0)
    last = await take_lesson(db, enrolment, 1)
    assert last.offer == svc.Offer(OfferKind.POST_TEST, instrument="dlt_post")
    await submit_test(db, "dlt_post", "post")
    assert await svc.offer_next(db, LEARNER, enrolment) == svc.Offer(OfferKind.FINISHED)
    async with db() as session:
        row = await session.get(Enrolment, enrolment)
        assert row is not None and row.finished_at is not None and row.next_due_at is None


async def test_without_post_test_the_last_lesson_finishes_the_course(db):
    """Tried: a one-lesson course without a post-test: completing it finishes the course."""
    enrolment = await enrolled(db, lessons=1)
    last = await take_lesson(db, enrolment, 0)
    assert last.offer == svc.Offer(OfferKind.FINISHED)


async def test_progress_view_counts_lessons_checks_and_the_bar(db):
    """Tried: a four-lesson course with two lessons done (one check right): 2 of 4, half a
    bar, 1 of 1 check right, the third lesson current, the first three unlocked."""
    enrolment = await enrolled(db, lessons=4)
    await take_lesson(db, enrolment, 0)
    await take_lesson(db, enrolment, 1, answer="a")
    view = await svc.progress_view(db, LEARNER, enrolment)
    assert (view.done, view.total) == (2, 4)
    assert view.bar == "▰▰▰▰▰▱▱▱▱▱"
    assert (view.checks_right, view.checks_answered) == (1, 1)
    assert view.current is not None and view.current.code == "l2"
    assert [line.unlocked for line in view.lessons] == [True, True, True, False]
    assert [line.completed for line in view.lessons] == [True, True, False, False]
    assert svc.progress_bar(1, 30) == "▰▱▱▱▱▱▱▱▱▱"
    assert svc.progress_bar(29, 30) == "▰▰▰▰▰▰▰▰▰▱"
    assert svc.progress_bar(0, 0) == "▱" * 10
    async with db() as session:
        rows = (await session.scalars(select(LessonProgress))).all()
        assert {r.lesson_code for r in rows} == {"l0", "l1"}
        assert all(r.completed_at is not None for r in rows)
