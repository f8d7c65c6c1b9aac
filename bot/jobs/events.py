"""The events' timed duties: reminders before the start, and the follow-up after the end.

Both are "a due row, claimed once, done once" (`bot.services.event_reminders`): the reminder
duty takes each due `event_reminder` row once and queues the person's reminder with its Join
button; the follow-up duty takes each ended event once and queues the feedback forms of its
attendees. A pass then starts the personal broadcasts it queued into. Reminders fall due on the
minute (10 minutes before a start must not come 5 minutes late), so that duty runs every 30
seconds and takes batch after batch; the follow-up is not urgent: once a minute.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.jobs.duties import Duty
from bot.services import event_reminders

if TYPE_CHECKING:
    from bot.context import BotData

logger = logging.getLogger(__name__)

EVENT_REMINDERS = "event-reminders"
EVENT_FOLLOW_UP = "event-follow-up"
REMINDERS_EVERY = 30.0
FOLLOW_UP_EVERY = 60.0
BATCH = 200


def reminder_duty(data: BotData) -> Duty:
    """The reminder duty of one application."""
    broadcaster, db, i18n, settings = data.broadcaster, data.db, data.i18n, data.settings
    if broadcaster is None or db is None or i18n is None or settings is None:
        raise RuntimeError("the application is wired before the duties start")

    async def run() -> None:
        """Queue every due reminder, batch after batch, and start sending them."""
        sent = 0
        while True:
            done = await event_reminders.send_due_reminders(db, i18n, settings.tz, batch=BATCH)
            for broadcast_id in done.broadcast_ids:
                broadcaster.start(broadcast_id)  # an empty one closes at once
            sent += sum(1 for r in done.reminded if r.sent)
            if len(done.reminded) < BATCH:
                break
        if sent:
            logger.info("event reminders: %d queued", sent)

    return Duty(EVENT_REMINDERS, REMINDERS_EVERY, run)


def follow_up_duty(data: BotData) -> Duty:
    """The follow-up duty of one application."""
    broadcaster, db, i18n = data.broadcaster, data.db, data.i18n
    if broadcaster is None or db is None or i18n is None:
        raise RuntimeError("the application is wired before the duties start")

    async def run() -> None:
        """Queue the feedback forms of every event that has ended, and start sending them."""
        while True:
            done = await event_reminders.follow_up(db, i18n, batch=BATCH)
            for followed in done:
                if followed.broadcast_id is not None:
                    broadcaster.start(followed.broadcast_id)
            if len(done) < BATCH:
                break

    return Duty(EVENT_FOLLOW_UP, FOLLOW_UP_EVERY, run)
