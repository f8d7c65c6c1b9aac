"""The events' duties as the running bot has them (bot/jobs/events.py): a pass queues and
sends what is due, through the outbox to the emulator, and a restart sends nothing twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.sandbox.harness import Harness
from bot.services import event_attendance as attendance
from bot.services import event_authoring as authoring
from bot.services import event_registrations as registrations
from bot.services import events as ev
from bot.services.roles import Role
from models import Event, EventReminder, utcnow
from tests import factories
from tests.services.test_events import ADMINS, COACH, I18N, STUDENT, TITLE, ZONE

STARTS_IN = timedelta(days=2)


async def test_the_duties_send_reminders_and_feedback_forms_once_across_a_restart(settings):
    """Tried: a webinar two days ahead, one registrant; the 24 h reminder's stored time moved
    into the past: a pass sends it (the emulator gets it with its Join link button); a restart
    and another pass send nothing more; the event's stored end moved into the past after a
    check-in: the feedback form arrives once, with five rating buttons."""
    async with Harness(settings) as harness:
        db = harness.app.bot_data.db
        harness.emulator.add_user(COACH, "Coach")
        harness.emulator.add_user(STUDENT, "Aru", language_code="ru")
        await factories.staff(db, COACH, Role.COACH, ADMINS)
        await factories.student(db, STUDENT, language="ru")
        now = utcnow()
        made = await authoring.create_draft(db, COACH, ADMINS, ev.Kind.WEBINAR)
        await authoring.update_draft(
            db,
            COACH,
            ADMINS,
            made.id,
            title=TITLE,
            starts_at=now + STARTS_IN,
            join_url="https://zoom.us/j/123",
        )
        _, announcement = await authoring.publish(db, COACH, ADMINS, made.id, i18n=I18N, zone=ZONE)
        broadcaster = harness.app.bot_data.broadcaster
        assert broadcaster is not None
        broadcaster.start(announcement)  # as /new_event's Publish does
        await registrations.register(db, STUDENT, made.id)
        await harness.run_jobs()  # the announcement goes; no reminder is due yet
        before = len(harness.emulator.bot_messages(STUDENT))
        assert before == 1
        async with db.begin() as session:
            await session.execute(
                update(EventReminder)
                .where(EventReminder.offset_minutes == 1440)
                .values(due_at=now - timedelta(minutes=1))
            )
        await harness.run_jobs()
        sent = harness.emulator.bot_messages(STUDENT)[before:]
        assert len(sent) == 1
        assert "Напоминание" in (sent[0].content or "")
        urls = [b.get("url") for row in sent[0].inline_keyboard for b in row]
        assert "https://zoom.us/j/123" in urls
        await harness.restart()
        await harness.run_jobs()
        assert len(harness.emulator.bot_messages(STUDENT)) == before + 1

        db = harness.app.bot_data.db
        async with db.begin() as session:  # the session is on now: check-in, then it ends
            await session.execute(
                update(Event)
                .where(Event.id == made.id)
                .values(starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1))
            )
        code = await attendance.open_checkin(db, COACH, ADMINS, made.id)
        await attendance.check_in(db, STUDENT, made.id, code)
        async with db.begin() as session:
            await session.execute(
                update(Event).where(Event.id == made.id).values(ends_at=now - timedelta(minutes=1))
            )
        await harness.run_jobs()
        await harness.run_jobs()
        forms = harness.emulator.bot_messages(STUDENT)[before + 1 :]
        assert len(forms) == 1
        assert "Оцените от 1 до 5" in (forms[0].content or "")
        assert len(forms[0].inline_keyboard) == 5
        assert not harness.errors
