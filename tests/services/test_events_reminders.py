"""The events' timed duties on a real database: the reminder plan, each reminder sent once
across restarts, the late rule after downtime, and the follow-up feedback forms
(bot/services/event_reminders.py, planned by bot/services/events.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.callbacks import EventCalendar, EventFeedback
from bot.services import event_attendance as attendance
from bot.services import event_authoring as authoring
from bot.services import event_registrations as registrations
from bot.services import event_reminders as duty
from models import EventReminder
from tests import factories
from tests.services.test_events import (
    ADMINS,
    COACH,
    END,
    I18N,
    NOW,
    START,
    STUDENT,
    ZONE,
    coach,
    deliveries,
    scheduled,
    students,
)


async def plan(db):
    """(offset, due, sent, skipped) of every reminder, by registration, largest offset first."""
    async with db() as session:
        rows = (
            await session.scalars(
                select(EventReminder).order_by(
                    EventReminder.registration_id, EventReminder.offset_minutes.desc()
                )
            )
        ).all()
        return [(r.offset_minutes, r.due_at, r.sent_at, r.skipped_at) for r in rows]


async def run(db, at):
    """One pass of the reminder duty at `at`: (chat, text, buttons) of what it queued."""
    done = await duty.send_due_reminders(db, I18N, ZONE, now=at)
    queued = []
    for broadcast_id in done.broadcast_ids:
        queued.extend(await deliveries(db, broadcast_id))
    return queued


async def test_registering_plans_one_reminder_per_offset(db):
    """Tried: register two days ahead with the default offsets: rows due 24 h, 1 h and 10 min
    before the start, none sent."""
    await coach(db)
    await students(db, 1)
    event = await scheduled(db)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    assert await plan(db) == [
        (1440, START - timedelta(days=1), None, None),
        (60, START - timedelta(hours=1), None, None),
        (10, START - timedelta(minutes=10), None, None),
    ]


async def test_an_event_30_minutes_away_gets_only_the_10_minute_reminder(db):
    """Tried: register 30 minutes before the start: one row, the 10-minute one."""
    await coach(db)
    await students(db, 1)
    event = await scheduled(db)
    await registrations.register(db, STUDENT, event.id, now=START - timedelta(minutes=30))
    assert [offset for offset, *_ in await plan(db)] == [10]


async def test_each_reminder_goes_once_at_its_offset_even_when_the_duty_runs_twice(db):
    """Tried: the duty at each offset's time, twice each (a restart, or the next tick): one
    reminder per offset, in the person's language, with the time in their zone, the Join link
    and the calendar button; nothing before its time; a waiting person gets none."""
    await coach(db)
    await factories.student(db, STUDENT, language="ru")
    await factories.student(db, STUDENT + 1)
    event = await scheduled(db, capacity=1)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    await registrations.register(db, STUDENT + 1, event.id, now=NOW)  # waiting
    assert await run(db, START - timedelta(days=1, minutes=1)) == []
    sent = []
    for offset in (1440, 60, 10):
        at = START - timedelta(minutes=offset) + timedelta(seconds=20)
        sent.append(await run(db, at))
        assert await run(db, at) == []  # the second pass finds nothing due
        assert await run(db, at + timedelta(seconds=30)) == []
    assert [[chat for chat, _, _ in one] for one in sent] == [[STUDENT]] * 3
    _, text, buttons = sent[0][0]
    assert "Напоминание" in text and "Цифровые платформы" in text
    assert "через 1 дн." in text
    assert "3 декабря 2026, 15:00 (Asia/Almaty)" in text
    assert buttons == [
        {"label": "📅 Добавить в календарь", "data": EventCalendar(event.id).pack()},
        {"label": "🔗 Подключиться", "url": "https://zoom.us/j/123"},
    ]
    assert "через 10 мин" in sent[2][0][1]
    assert all(sent_at is not None for _, _, sent_at, _ in await plan(db))


async def test_after_downtime_a_missed_reminder_goes_late_only_before_the_start(db):
    """Tried: the bot is down from before the 1 h reminder to 20 minutes before the start: the
    1 h reminder goes late (the 10-minute one is not due yet); a second person whose every
    reminder was missed until after the start gets none (skipped, not sent)."""
    await coach(db)
    await students(db, 1)
    event = await scheduled(db)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    await run(db, START - timedelta(days=1))
    late = await run(db, START - timedelta(minutes=20))
    assert [chat for chat, _, _ in late] == [STUDENT]
    assert "20 min" in late[0][1]
    assert await run(db, START + timedelta(minutes=1)) == []
    rows = await plan(db)
    assert rows[2][2] is None and rows[2][3] == START + timedelta(minutes=1)  # 10 min: skipped


async def test_after_long_downtime_only_the_latest_missed_reminder_goes(db):
    """Tried: no pass from two days before until 5 minutes before the start: the 24 h, 1 h and
    10 min reminders are all due; only the 10-minute one is sent, the others skipped."""
    await coach(db)
    await students(db, 1)
    event = await scheduled(db)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    queued = await run(db, START - timedelta(minutes=5))
    assert len(queued) == 1
    assert [
        (offset, sent is not None, skipped is not None)
        for offset, _, sent, skipped in await plan(db)
    ] == [
        (1440, False, True),
        (60, False, True),
        (10, True, False),
    ]


async def test_a_new_time_plans_the_reminders_again(db):
    """Tried: the 24 h reminder is sent, then the event moves a day later: all three are due
    again at the new times and each goes once; moved earlier so the 1 h time has passed: that
    one is skipped, the 10-minute one kept."""
    await coach(db)
    await students(db, 1)
    event = await scheduled(db)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    at = START - timedelta(days=1)
    assert len(await run(db, at)) == 1
    later = START + timedelta(days=1)
    await authoring.edit(
        db, COACH, ADMINS, event.id, i18n=I18N, zone=ZONE, now=at, starts_at=later
    )
    assert [(offset, due, sent) for offset, due, sent, _ in await plan(db)] == [
        (1440, later - timedelta(days=1), None),
        (60, later - timedelta(hours=1), None),
        (10, later - timedelta(minutes=10), None),
    ]
    assert len(await run(db, later - timedelta(days=1))) == 1
    assert await run(db, later - timedelta(days=1)) == []
    now = later - timedelta(minutes=50)
    earlier = now + timedelta(minutes=30)  # the 1 h time is 30 minutes ago
    await authoring.edit(
        db, COACH, ADMINS, event.id, i18n=I18N, zone=ZONE, now=now, starts_at=earlier
    )
    rows = {offset: (due, sent, skipped) for offset, due, sent, skipped in await plan(db)}
    assert rows[60][2] == now  # skipped: its new time had passed
    assert rows[10] == (earlier - timedelta(minutes=10), None, None)
    assert await run(db, now) == []
    assert len(await run(db, earlier - timedelta(minutes=10))) == 1


async def test_no_reminder_after_cancelling_or_giving_the_place_back(db):
    """Tried: one person gives the place back, then the event is cancelled: the duty at each
    offset sends nothing; every row is skipped."""
    await coach(db)
    await students(db, 2)
    event = await scheduled(db)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    await registrations.register(db, STUDENT + 1, event.id, now=NOW)
    await registrations.unregister(db, STUDENT, event.id, i18n=I18N, zone=ZONE, now=NOW)
    await authoring.cancel(db, COACH, ADMINS, event.id, i18n=I18N, zone=ZONE, now=NOW)
    for offset in (1440, 60, 10):
        assert await run(db, START - timedelta(minutes=offset)) == []
    assert all(sent is None and skipped is not None for _, _, sent, skipped in await plan(db))


async def test_the_person_moved_up_gets_reminders_from_then_on(db):
    """Tried: a waiting person is moved up 30 minutes before the start: they get the 10-minute
    reminder only."""
    await coach(db)
    await students(db, 2)
    event = await scheduled(db, capacity=1)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    await registrations.register(db, STUDENT + 1, event.id, now=NOW)
    await registrations.unregister(
        db, STUDENT, event.id, i18n=I18N, zone=ZONE, now=START - timedelta(minutes=30)
    )
    queued = await run(db, START - timedelta(minutes=10))
    assert [chat for chat, _, _ in queued] == [STUDENT + 1]


async def test_the_follow_up_asks_attendees_once(db):
    """Tried: two registered, one checks in; before the end nothing; after it the attendee gets
    the feedback form with five rating buttons (5 first), the absentee nothing; a second pass
    (a restart) queues nothing; a cancelled event is never followed up."""
    await coach(db)
    await students(db, 2)
    event = await scheduled(db)
    cancelled = await scheduled(db)
    await authoring.cancel(db, COACH, ADMINS, cancelled.id, i18n=I18N, zone=ZONE, now=NOW)
    for n in range(2):
        await registrations.register(db, STUDENT + n, event.id, now=NOW)
    code = await attendance.open_checkin(db, COACH, ADMINS, event.id, now=START)
    await attendance.check_in(db, STUDENT, event.id, code, now=START)
    assert await duty.follow_up(db, I18N, now=END - timedelta(minutes=1)) == []
    done = await duty.follow_up(db, I18N, now=END)
    assert [(d.event_id, d.forms) for d in done] == [(event.id, 1)]
    assert done[0].broadcast_id is not None
    asked = await deliveries(db, done[0].broadcast_id)
    assert [chat for chat, _, _ in asked] == [STUDENT]
    assert "Rate it from 1 to 5" in asked[0][1]
    assert [b["data"] for b in asked[0][2]] == [
        EventFeedback(event.id, rating).pack() for rating in (5, 4, 3, 2, 1)
    ]
    assert asked[0][2][0]["label"] == "★★★★★"
    assert await duty.follow_up(db, I18N, now=END + timedelta(hours=1)) == []
