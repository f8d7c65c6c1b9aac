"""The course's timed duties: scheduled lessons at the learner's hour, and nudges.

Both are "a due row, claimed once, done once" (`bot.services.due`): the enrolment is the row.
The lesson duty (`course.lesson_due` rows: `next_due_at` has come) queues the lesson's message
with its Open button in the outbox and schedules the next slot, in one commit per learner; the
nudge duty queues one reminder with a Continue button for a learner inactive for
`COURSE_NUDGE_DAYS` days. The messages of a batch share one personal broadcast per course
(each delivery carries its learner's own text and button), which the pass starts once.
Lessons fall due on the minute, so the lesson duty runs every 30 seconds and a pass takes batch
after batch until none is left (thousands of learners share 9:00); nudges are counted in days,
so once an hour is plenty. The catch-up rule after downtime is in `bot.services.course_pacing`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.config import LANGUAGES
from bot.jobs.duties import Duty
from bot.services import course_pacing

if TYPE_CHECKING:
    from bot.context import BotData

logger = logging.getLogger(__name__)

COURSE_LESSONS = "course-lessons"
COURSE_NUDGES = "course-nudges"
LESSONS_EVERY = 30.0
LESSON_BATCH = 200  # enrolments per batch of a pass (each in its own transaction)
NUDGES_EVERY = 3600.0


def lesson_duty(data: BotData) -> Duty:
    """The scheduled-lessons duty of one application."""
    broadcaster, db, i18n, settings = data.broadcaster, data.db, data.i18n, data.settings
    if broadcaster is None or db is None or i18n is None or settings is None:
        raise RuntimeError("the application is wired before the duties start")

    async def run() -> None:
        """Queue the lessons of every learner whose slot has come, sending each batch at once."""
        translators = {language: i18n.translator(language) for language in LANGUAGES}
        count = 0
        while True:
            delivered = await course_pacing.deliver_due_lessons(
                db, translators, settings.default_language, settings.tz, batch=LESSON_BATCH
            )
            for broadcast_id in {d.broadcast_id for d in delivered if d.broadcast_id}:
                broadcaster.start(broadcast_id)
            count += len(delivered)
            # A full batch: more may be due. One batch a pass left 10,000 learners due at
            # 9:00 waiting 25 minutes (200 every 30 s) for what the gateway sends in 5.5.
            if len(delivered) < LESSON_BATCH:
                break
        if count:
            logger.info("course lessons: %d learners due", count)

    return Duty(COURSE_LESSONS, LESSONS_EVERY, run)


def nudge_duty(data: BotData) -> Duty:
    """The nudges duty of one application."""
    broadcaster, db, i18n, settings = data.broadcaster, data.db, data.i18n, data.settings
    if broadcaster is None or db is None or i18n is None or settings is None:
        raise RuntimeError("the application is wired before the duties start")

    async def run() -> None:
        """Queue a reminder for every learner inactive long enough, then start sending them."""
        translators = {language: i18n.translator(language) for language in LANGUAGES}
        count = 0
        while True:
            queued = await course_pacing.send_nudges(
                db,
                translators,
                settings.default_language,
                settings.course_nudge_days,
                batch=LESSON_BATCH,
            )
            for broadcast_id in {b for b in queued if b is not None}:
                broadcaster.start(broadcast_id)
            count += len(queued)
            if len(queued) < LESSON_BATCH:
                break
        if count:
            logger.info("course nudges: %d learners reminded", count)

    return Duty(COURSE_NUDGES, NUDGES_EVERY, run)
