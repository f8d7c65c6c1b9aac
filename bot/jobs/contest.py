"""The contest's timed duty for entries: the draft reminder before the deadline.

"A due row, claimed once, done once" (`bot.services.due`): the contest is the row. Once per
contest, in the day before its deadline, each owner of a draft still not submitted gets a
reminder with a Continue button (`bot.services.contest_entries.remind_drafts`), queued in the
commit that sets `Contest.drafts_reminded_at`; the pass then starts the personal broadcasts.
A day's notice needs no precision to the second: every five minutes is plenty. The jury's
duties (allocation, jurors' reminders) are in `bot.jobs.contest_jury`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.jobs.duties import Duty
from bot.services import contest_entries

if TYPE_CHECKING:
    from bot.context import BotData

logger = logging.getLogger(__name__)

CONTEST_DRAFTS = "contest-drafts"
DRAFTS_EVERY = 300.0


def drafts_duty(data: BotData) -> Duty:
    """The draft-reminder duty of one application."""
    broadcaster, db, i18n, settings = data.broadcaster, data.db, data.i18n, data.settings
    if broadcaster is None or db is None or i18n is None or settings is None:
        raise RuntimeError("the application is wired before the duties start")

    async def run() -> None:
        """Queue the reminders of every contest whose deadline is a day away, and send them."""
        done = await contest_entries.remind_drafts(db, i18n, settings.tz)
        for reminded in done:
            if reminded.broadcast_id is not None:
                broadcaster.start(reminded.broadcast_id)
        count = sum(r.reminded for r in done)
        if count:
            logger.info("contest drafts: %d owners reminded", count)

    return Duty(CONTEST_DRAFTS, DRAFTS_EVERY, run)
