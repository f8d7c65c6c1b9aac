"""The contest's timed duties for the jury: the allocation, and the jurors' reminder.

Both are "a due row, claimed once, done once" (`bot.services.due`), the contest being the row:

- the allocation (`contest_jury.allocate_due`): once a contest's submissions have closed (its
  late cut-off, or its deadline), its entries are allocated to the jurors, each juror is told
  their share and the organizers get the report, in the commit that sets `allocated_at`;
- the jurors' reminder (`contest_jury.remind_jurors`): once per contest, 48 hours before the
  jury deadline, each juror with pending reviews is told how many are left, in the commit that
  sets `jurors_reminded_at`.

Each pass then starts the broadcasts it queued. Submissions close on the minute and jurors are
waiting to start, so the allocation runs every minute; the reminder, two days ahead, every ten.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.jobs.duties import Duty
from bot.services import contest_jury

if TYPE_CHECKING:
    from bot.context import BotData

logger = logging.getLogger(__name__)

CONTEST_ALLOCATION = "contest-allocation"
CONTEST_JURY_REMINDER = "contest-jury-reminder"
ALLOCATION_EVERY = 60.0
REMINDER_EVERY = 600.0


def allocation_duty(data: BotData) -> Duty:
    """The allocation duty of one application."""
    broadcaster, db, i18n, settings = data.broadcaster, data.db, data.i18n, data.settings
    if broadcaster is None or db is None or i18n is None or settings is None:
        raise RuntimeError("the application is wired before the duties start")

    async def run() -> None:
        """Allocate every contest whose submissions have closed; send the messages."""
        done = await contest_jury.allocate_due(db, i18n, settings.tz, settings.admin_ids)
        for allocated in done:
            for broadcast_id in allocated.broadcast_ids:
                broadcaster.start(broadcast_id)
            if not allocated.left_for_later:
                logger.info(
                    "contest %d allocated: %d entries, %d jurors, %d reviews, %d issues",
                    allocated.contest_id,
                    allocated.entries,
                    allocated.jurors,
                    allocated.reviews,
                    len(allocated.issues),
                )

    return Duty(CONTEST_ALLOCATION, ALLOCATION_EVERY, run)


def jury_reminder_duty(data: BotData) -> Duty:
    """The jurors' reminder duty of one application."""
    broadcaster, db, i18n, settings = data.broadcaster, data.db, data.i18n, data.settings
    if broadcaster is None or db is None or i18n is None or settings is None:
        raise RuntimeError("the application is wired before the duties start")

    async def run() -> None:
        """Remind the jurors with pending reviews of every contest whose jury deadline nears."""
        done = await contest_jury.remind_jurors(db, i18n, settings.tz)
        for reminded in done:
            if reminded.broadcast_id is not None:
                broadcaster.start(reminded.broadcast_id)
        count = sum(r.jurors for r in done)
        if count:
            logger.info("contest jury: %d jurors reminded", count)

    return Duty(CONTEST_JURY_REMINDER, REMINDER_EVERY, run)
