"""Course pacing: the next slot, pause and resume, the lesson duty, the catch-up rule, nudges.

Every pass is given its `now`, so the clock is moved by the test and nothing waits. Courses are
small definitions inserted directly (tests/services/test_course.py); learners are onboarded
through the real services.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.callbacks import LessonContinue, LessonOpen
from bot.config import LANGUAGES
from bot.db import Sessionmaker
from bot.i18n import I18n
from bot.jobs import DUTIES
from bot.services import InvalidInput, users
from bot.services import course as svc
from bot.services import course_pacing as pacing
from bot.services.course import Pace
from models import Broadcast, Delivery, Enrolment, LessonProgress
from tests import factories
from tests.services.test_course import LEARNER, add_course, definition

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5, the tests' TIMEZONE
EVERY_DAY = pacing.EVERY_DAY
MONDAY = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # 08:00 in Almaty, a Monday
I18N = I18n("kk")
T = {language: I18N.translator(language) for language in LANGUAGES}


async def scheduled(db: Sessionmaker, lessons: int = 3, *, weekdays: int = EVERY_DAY) -> int:
    """The learner enrolled at Monday 08:00 Almaty, scheduled at 09:00 on `weekdays`."""
    await add_course(db, definition("paced", lessons))
    await factories.student(db, LEARNER)
    enrolment = (await svc.enrol(db, LEARNER, "paced")).enrolment.id
    await pacing.set_schedule(
        db, LEARNER, enrolment, ALMATY, hour=9, minute=0, weekdays=weekdays, now=MONDAY
    )
    await pacing.set_pace(db, LEARNER, enrolment, Pace.SCHEDULED, ALMATY, now=MONDAY)
    return enrolment


async def row(db: Sessionmaker, enrolment: int) -> Enrolment:
    """The enrolment as stored."""
    async with db() as session:
        found = await session.get(Enrolment, enrolment)
        assert found is not None
        return found


async def lessons_pass(db: Sessionmaker, now: datetime) -> list[pacing.Delivered]:
    """One pass of the lesson duty at `now`."""
    return await pacing.deliver_due_lessons(db, T, "kk", ALMATY, now=now)


def test_next_slot_is_strictly_after_now_on_a_chosen_weekday_in_the_zone():
    """Tried: before the hour (today), at the hour exactly (tomorrow), weekdays only on a
    Friday evening (Monday), no weekday (None), and a clock change in Europe/Berlin."""
    at_nine = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    assert pacing.next_slot(MONDAY, 9, 0, EVERY_DAY, ALMATY) == at_nine
    assert pacing.next_slot(at_nine, 9, 0, EVERY_DAY, ALMATY) == at_nine + timedelta(days=1)
    friday_evening = datetime(2026, 12, 11, 15, 0, tzinfo=UTC)
    assert pacing.next_slot(friday_evening, 9, 0, 0b0011111, ALMATY) == datetime(
        2026, 12, 14, 4, 0, tzinfo=UTC
    )
    assert pacing.next_slot(MONDAY, 9, 0, 0, ALMATY) is None
    berlin = ZoneInfo("Europe/Berlin")
    before = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # Saturday; summer time from Sunday
    slot = pacing.next_slot(before, 9, 30, EVERY_DAY, berlin)
    assert slot == datetime(2026, 3, 29, 7, 30, tzinfo=UTC)  # 09:30 CEST
    assert slot is not None and slot.tzinfo is UTC


def test_typed_hours_and_zones_are_checked():
    """Tried: 9, 09:30, 9.30, then 24:00, 9:60, 'nine' and an empty text; a real IANA zone,
    a made-up one and a path-like one."""
    assert pacing.parse_hour("9") == (9, 0)
    assert pacing.parse_hour(" 09:30 ") == (9, 30)
    assert pacing.parse_hour("9.30") == (9, 30)
    for bad in ("24:00", "9:60", "nine", ""):
        with pytest.raises(InvalidInput) as refused:
            pacing.parse_hour(bad)
        assert refused.value.key == "course.bad_hour"
    assert pacing.check_zone("Europe/Moscow") == "Europe/Moscow"
    for bad in ("Mars/Olympus", "../etc/passwd"):
        with pytest.raises(InvalidInput) as zone:
            pacing.check_zone(bad)
        assert zone.value.key == "course.bad_zone"


async def test_pace_schedule_pause_and_resume_set_next_due_at(db):
    """Tried: scheduled (next 09:00 Almaty), the hour moved to 07:30 (tomorrow, as 07:30 has
    passed), another zone, no weekdays (refused), paused (nothing due), resumed, self-paced
    (nothing due)."""
    enrolment = await scheduled(db)
    assert (await row(db, enrolment)).next_due_at == datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    view = await pacing.set_schedule(db, LEARNER, enrolment, ALMATY, hour=7, minute=30, now=MONDAY)
    assert view.next_due_at == datetime(2026, 12, 8, 2, 30, tzinfo=UTC)
    view = await pacing.set_schedule(
        db, LEARNER, enrolment, ALMATY, timezone="Europe/Moscow", now=MONDAY
    )
    assert view.timezone == "Europe/Moscow"
    assert view.next_due_at == datetime(2026, 12, 7, 4, 30, tzinfo=UTC)  # 07:30 MSK
    with pytest.raises(InvalidInput) as none:
        await pacing.set_schedule(db, LEARNER, enrolment, ALMATY, weekdays=0)
    assert none.value.key == "course.no_weekdays"
    view = await pacing.pause(db, LEARNER, enrolment, ALMATY, now=MONDAY)
    assert view.paused and view.next_due_at is None
    assert await lessons_pass(db, MONDAY + timedelta(days=3)) == []
    view = await pacing.resume(db, LEARNER, enrolment, ALMATY, now=MONDAY)
    assert not view.paused and view.next_due_at is not None
    view = await pacing.set_pace(db, LEARNER, enrolment, Pace.SELF, ALMATY, now=MONDAY)
    assert view.next_due_at is None


async def test_a_due_lesson_is_delivered_once_with_its_open_button(db):
    """Tried: a pass before the slot (nothing), a pass at the slot (the lesson queued in the
    outbox for the learner with LessonOpen, delivered_at recorded, tomorrow scheduled), and
    the same pass again, as a second replica or a restart would run it (nothing more)."""
    enrolment = await scheduled(db)
    assert await lessons_pass(db, MONDAY) == []
    at_slot = datetime(2026, 12, 7, 4, 0, 20, tzinfo=UTC)
    done = await lessons_pass(db, at_slot)
    assert [(d.enrolment_id, d.lesson) for d in done] == [(enrolment, 0)]
    assert await lessons_pass(db, at_slot) == []
    async with db() as session:
        broadcast = await session.get(Broadcast, done[0].broadcast_id)
        assert broadcast is not None and broadcast.state == "sending"
        deliveries = (
            await session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast.id))
        ).all()
        assert [d.chat_id for d in deliveries] == [LEARNER]
        payload = deliveries[0].payload
        assert payload is not None
        assert payload["buttons"][0]["data"] == LessonOpen(enrolment, 0).pack()
        assert "Lesson 0" in payload["text"]
        progress = await session.scalar(select(LessonProgress))
        assert progress is not None and progress.delivered_at == at_slot
    assert (await row(db, enrolment)).next_due_at == datetime(2026, 12, 8, 4, 0, tzinfo=UTC)


async def test_learners_due_together_share_one_broadcast_each_with_their_own_message(db):
    """Tried: three learners due at the same minute (English, Russian, and one who blocked
    the bot): one pass queues one personal broadcast for the
    course, one delivery each with that learner's own Open button in their language; the
    blocked learner is not taken at all (their row stays due until they write again)."""
    enrolment = await scheduled(db)
    others = {}
    for telegram_id, language in ((5201, "ru"), (5202, "kk")):
        await factories.student(db, telegram_id, language=language)
        others[telegram_id] = (await svc.enrol(db, telegram_id, "paced")).enrolment.id
        await pacing.set_schedule(
            db, telegram_id, others[telegram_id], ALMATY, hour=9, minute=0, now=MONDAY
        )
        await pacing.set_pace(
            db, telegram_id, others[telegram_id], Pace.SCHEDULED, ALMATY, now=MONDAY
        )
    await users.mark_unreachable(db, 5202)
    done = await lessons_pass(db, datetime(2026, 12, 7, 4, 0, 20, tzinfo=UTC))
    assert sorted(d.enrolment_id for d in done) == sorted([enrolment, others[5201]])
    assert len({d.broadcast_id for d in done}) == 1
    async with db() as session:
        deliveries = {
            d.chat_id: d
            for d in await session.scalars(
                select(Delivery).where(Delivery.broadcast_id == done[0].broadcast_id)
            )
        }
    assert set(deliveries) == {LEARNER, 5201}
    russian = deliveries[5201].payload
    assert russian is not None and deliveries[5201].language == "ru"
    assert russian["buttons"][0]["data"] == LessonOpen(others[5201], 0).pack()
    assert russian["buttons"][0]["label"] == T["ru"].plain("course.open_button")
    assert russian["text"] != deliveries[LEARNER].payload["text"]  # type: ignore[index]
    assert (await row(db, others[5202])).next_due_at is not None  # still due, untouched


async def test_catch_up_after_downtime_is_one_lesson_then_the_next_slot(db):
    """Tried: the bot down for three days past the learner's slots: one pass delivers one
    lesson (not three) and schedules the next slot after now; the same day nothing more; the
    next day's slot sends nothing while that lesson is still open, and the one after the
    learner completed it sends the next lesson."""
    enrolment = await scheduled(db)
    back = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)  # Thursday 15:00 Almaty
    done = await lessons_pass(db, back)
    assert [d.lesson for d in done] == [0]
    assert (await row(db, enrolment)).next_due_at == datetime(2026, 12, 11, 4, 0, tzinfo=UTC)
    assert await lessons_pass(db, back + timedelta(hours=6)) == []
    friday = datetime(2026, 12, 11, 4, 1, tzinfo=UTC)
    waiting = await lessons_pass(db, friday)
    assert [(d.lesson, d.broadcast_id) for d in waiting] == [(None, None)]
    await svc.open_lesson(db, LEARNER, enrolment, 0)
    await svc.next_step(db, LEARNER, enrolment, 0, 1)
    await svc.next_step(db, LEARNER, enrolment, 0, 2)
    saturday = datetime(2026, 12, 12, 4, 1, tzinfo=UTC)
    assert [d.lesson for d in await lessons_pass(db, saturday)] == [1]


async def test_jump_ahead_opens_the_next_lesson_and_its_slot_then_waits(db):
    """Tried: Next on a scheduled course before the slot: the lesson opens now; at the slot
    nothing is sent for it (it is open)."""
    enrolment = await scheduled(db)
    screen = await pacing.jump_ahead(db, LEARNER, enrolment)
    assert screen.lesson.position == 0 and screen.step_index == 0
    done = await lessons_pass(db, datetime(2026, 12, 7, 4, 0, tzinfo=UTC))
    assert [d.broadcast_id for d in done] == [None]


async def test_an_unreachable_learner_gets_nothing_until_they_write_again(db):
    """Tried: the learner blocked the bot before their slot: passes skip them; once they
    write again (reachable), the next pass delivers the one lesson due."""
    enrolment = await scheduled(db)
    await users.mark_unreachable(db, LEARNER)
    later = datetime(2026, 12, 9, 4, 0, tzinfo=UTC)
    assert await lessons_pass(db, later) == []
    await factories.person(db, LEARNER)  # writes again
    done = await lessons_pass(db, later)
    assert [(d.enrolment_id, d.lesson) for d in done] == [(enrolment, 0)]


async def test_the_last_lesson_done_leaves_nothing_scheduled(db):
    """Tried: a one-lesson scheduled course completed: nothing due any more, no delivery."""
    enrolment = await scheduled(db, lessons=1)
    await svc.open_lesson(db, LEARNER, enrolment, 0)
    await svc.next_step(db, LEARNER, enrolment, 0, 1)
    await svc.next_step(db, LEARNER, enrolment, 0, 2)
    stored = await row(db, enrolment)
    assert stored.finished_at is not None and stored.next_due_at is None
    assert await lessons_pass(db, MONDAY + timedelta(days=2)) == []


async def test_nudges_once_per_period_and_never_when_turned_off(db):
    """Tried: a self-paced learner inactive 2 days (no nudge), 4 days (one nudge with a
    Continue button), the same pass again (nothing), 3 more days (a second), then nudges
    off (nothing), and a paused learner (nothing)."""
    await add_course(db, definition("slow", 2))
    await factories.student(db, LEARNER)
    enrolment = (await svc.enrol(db, LEARNER, "slow")).enrolment.id
    start = (await row(db, enrolment)).last_active_at
    assert start is not None
    assert await pacing.send_nudges(db, T, "kk", 3, now=start + timedelta(days=2)) == []
    first = await pacing.send_nudges(db, T, "kk", 3, now=start + timedelta(days=4))
    assert len(first) == 1
    assert await pacing.send_nudges(db, T, "kk", 3, now=start + timedelta(days=4)) == []
    async with db() as session:
        delivery = await session.scalar(select(Delivery).where(Delivery.broadcast_id == first[0]))
        assert delivery is not None and delivery.payload is not None
        assert delivery.payload["buttons"][0]["data"] == LessonContinue(enrolment).pack()
    assert len(await pacing.send_nudges(db, T, "kk", 3, now=start + timedelta(days=7))) == 1
    await pacing.set_nudges(db, LEARNER, enrolment, False, ALMATY)
    assert await pacing.send_nudges(db, T, "kk", 3, now=start + timedelta(days=30)) == []
    await pacing.set_nudges(db, LEARNER, enrolment, True, ALMATY)
    await pacing.pause(db, LEARNER, enrolment, ALMATY)
    assert await pacing.send_nudges(db, T, "kk", 3, now=start + timedelta(days=60)) == []


def test_the_course_duties_are_listed():
    """Tried: bot.jobs.DUTIES names the lesson and nudge duties."""
    from bot.jobs import course

    assert course.lesson_duty in DUTIES and course.nudge_duty in DUTIES
