"""Work the bot does on its own: timed duties, broadcasts, and background work started from chat.

Timed duties follow one pattern, "a due row, claimed once, done once". Whatever the bot does at
a time (start a scheduled broadcast; a campaign's invitations, reminder and closing; next the
lesson deliveries and the event reminders) is a row in the database with a due time and a state.
A duty's pass finds the rows that are due and takes each in its own short transaction: it selects
the row again, still due, `FOR UPDATE SKIP LOCKED` (on PostgreSQL a row another replica is taking
is skipped; SQLite has one writer at a time), queues the row's messages in the broadcast outbox
and marks the row done, all in that one commit (`bot.services.due.run_due`). After the commit the
pass starts sending what it queued; the outbox sends each message exactly once. So a pass may run
on a timer, right after a user's action, at a row's exact time, and on several replicas at once:
a row is never done twice, and a crash loses nothing (an uncommitted row is still due).

`start_jobs(app)` starts them all at start-up: it resumes the outbox, adds each duty of `DUTIES`
(the one ordered list; a feature with a timed duty adds a module here and one line there) and
runs each on its timer. Tests build the application with `autorun_jobs=False` and run the
duties themselves (`Jobs.run_all`, the harness's `run_jobs`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.jobs import broadcasts, campaigns, contest, contest_jury, course, events, handled_updates
from bot.jobs.duties import Duty, Jobs

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.context import BotData

__all__ = ["DUTIES", "Duty", "Jobs", "start_jobs"]

# Every timed duty, in the order a pass of `Jobs.run_all` runs them.
DUTIES: tuple[Callable[[BotData], Duty], ...] = (
    broadcasts.duty,
    broadcasts.orphans_duty,
    campaigns.duty,
    course.lesson_duty,
    course.nudge_duty,
    events.reminder_duty,
    events.follow_up_duty,
    contest.drafts_duty,
    contest_jury.allocation_duty,
    contest_jury.jury_reminder_duty,
    handled_updates.prune_duty,
)


async def start_jobs(app: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Start every timed duty: resume the outbox, then run each duty on its timer."""
    data = app.bot_data
    if data.broadcaster is None:
        raise RuntimeError("build the application with bot.app.build_application")
    scheduled = await data.broadcaster.resume()
    for make in DUTIES:
        data.jobs.add(make(data))
    data.jobs.start(app.job_queue)
    for at in scheduled:
        data.jobs.wake(broadcasts.SCHEDULED, at)
