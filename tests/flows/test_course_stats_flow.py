"""/course_stats in chat: an organizer held to a university sees theirs, with the chart.

Learners of two universities enrol and take lessons through the course services; the default
course (dlt_course) is loaded too, so the organizer first picks the course.
"""

from __future__ import annotations

from bot.callbacks import CourseStatsPick
from bot.services import course as svc
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.test_certificates_flow import finish_course
from tests.services.test_course import add_course, definition

ADMINS = frozenset({ADMIN_ID})


async def test_a_scoped_organizer_sees_their_university_and_a_student_is_refused(harness, i18n):
    """Tried: two learners at university 0 (one finished the 2-lesson course, one enrolled
    only) and one at university 1 (opened the first lesson); an organizer scoped to
    university 0 picks the course in Russian: 2 enrolled, 1 finished, the funnel, the check
    1 of 1 right, their university only, decimal commas, and a chart; a student's
    /course_stats and a forged pick are refused; a pick of an unknown course id is a stale
    button."""
    db = harness.app.bot_data.db
    t = i18n.translator("ru")
    await factories.admin(db, ADMIN_ID, ADMINS)
    for telegram_id, university in ((7501, 0), (7502, 0), (7503, 1)):
        await factories.student(db, telegram_id, university=university)
    await finish_course(db, 7501)  # adds the course "mini" too
    await svc.enrol(db, 7502, "mini")
    enrolment = (await svc.enrol(db, 7503, "mini")).enrolment.id
    await svc.open_lesson(db, 7503, enrolment, 0)
    await factories.organizer(db, 7504, ADMINS, university=0, language="ru")
    organizer = harness.user(7504, "Org", "ru")

    await organizer.send("/course_stats")
    assert organizer.last_text == t("course_stats.choose")
    assert "Course mini (ru)" in organizer.last_buttons
    await organizer.tap("Course mini (ru)")
    text = next(x for x in organizer.texts if x.startswith("📊"))
    assert "Course mini (ru)" in text
    assert "Записались: 2 · активны за 7 дней: 2 · завершили: 1 (50,0%)" in text
    assert "1. Lesson 0 (ru): 1 / 1 (50,0%)" in text
    assert "l1/q1: 1 / 1 (100,0%)" in text
    assert "Только ваши университеты:" in text
    universities = text.split("По университетам")[1].splitlines()[1:]
    assert len(universities) == 1 and "2 / 2 / 1, 100,0%" in universities[0]
    assert organizer.messages[-1].photo

    await organizer.tap_data(CourseStatsPick(999999).pack(), organizer.last_message.message_id)
    assert organizer.last_toast == t.plain("errors.stale_button")

    student = harness.user(7502, "Student", "en")
    en = i18n.translator("en")
    await student.send("/course_stats")
    assert student.last_text == en("errors.not_allowed")
    await student.tap_data(CourseStatsPick(1).pack(), student.last_message.message_id)
    assert student.last_toast == en.plain("errors.not_allowed")


async def test_an_admin_sees_every_university(harness, i18n):
    """Tried: the same course with learners at two universities, seen by an admin in English:
    both universities listed, no scope line."""
    db = harness.app.bot_data.db
    await factories.admin(db, ADMIN_ID, ADMINS)
    await add_course(db, definition("solo", 1))
    for telegram_id, university in ((7601, 0), (7602, 1)):
        await factories.student(db, telegram_id, university=university)
        await svc.enrol(db, telegram_id, "solo")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await admin.send("/course_stats")
    await admin.tap("Course solo")
    text = next(x for x in admin.texts if x.startswith("📊"))
    assert "Enrolled: 2" in text and "Your universities only" not in text
    assert len(text.split("By university")[1].splitlines()[1:]) == 2
