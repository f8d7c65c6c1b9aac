"""The sandbox's course: loaded with the default content, and a first-time student reaches a
lesson at once.

Tried on a database with the default content (as the sandbox's first start leaves it): the
console's `demo_course` finds dlt_course; the organizer identity opens the demo survey; a new
student enrols, is offered the pre-test (dlt_pre), answers the demo survey, and then the
first lesson opens.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.sandbox.console import DEMO_COURSE, IDENTITIES, demo_course, open_demo_survey
from bot.services import course as svc
from bot.services import course_tests
from bot.services.course import OfferKind
from bot.services.roles import ensure_role
from models import Campaign
from tests import factories


async def test_a_first_time_student_finds_the_course_and_opens_a_lesson(db):
    """Tried: the default course found with its lessons; enrolling offers dlt_pre; after the
    demo survey (the same instrument) is answered no test is due and lesson 1 opens."""
    course = await demo_course(db)
    assert course is not None and course.code == DEMO_COURSE and course.lessons >= 8
    organizer = IDENTITIES["organizer"]
    admins = frozenset({organizer.user_id})
    await ensure_role(db, organizer.user_id, organizer.role, first_name=organizer.first_name)
    assert await open_demo_survey(db, organizer.user_id, admins)
    student = IDENTITIES["student"].user_id
    await factories.student(db, student, language="kk")
    enrolled = await svc.enrol(db, student, DEMO_COURSE)
    assert enrolled.offer.kind is OfferKind.PRE_TEST and enrolled.offer.instrument == "dlt_pre"
    async with db() as session:
        demo = await session.scalar(
            select(Campaign.id).where(Campaign.instrument_code == "dlt_pre")
        )
    await factories.attempt(db, student, demo, language="kk")
    enrolment = enrolled.enrolment.id
    assert await course_tests.due_test(db, student, enrolment) is None
    screen = await svc.open_lesson(db, student, enrolment, 0)
    assert screen.step is not None and screen.step.text["kk"]
