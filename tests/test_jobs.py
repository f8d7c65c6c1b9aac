"""Timed duties (bot.jobs): started once each on a timer, or driven by tests, never both."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs import DUTIES, Duty, Jobs
from bot.jobs.broadcasts import ORPHANS, SCHEDULED
from bot.jobs.campaigns import CAMPAIGN_STEPS
from bot.jobs.contest import CONTEST_DRAFTS
from bot.jobs.contest_jury import CONTEST_ALLOCATION, CONTEST_JURY_REMINDER
from bot.jobs.course import COURSE_LESSONS, COURSE_NUDGES
from bot.jobs.events import EVENT_FOLLOW_UP, EVENT_REMINDERS
from bot.jobs.handled_updates import PRUNE_HANDLED
from bot.sandbox.harness import Harness


class RecordingQueue:
    """Stands in for PTB's job queue: records what would run, runs nothing."""

    def __init__(self):
        self.repeating: list[tuple[str, float]] = []
        self.once: list[tuple[str, datetime]] = []

    def run_repeating(self, callback, *, interval, first, name, data):
        self.repeating.append((name, interval))

    def run_once(self, callback, *, when, name, data):
        self.once.append((data, when))


def test_duties_run_on_timers_only_when_autorun():
    async def nothing():
        return None

    queue = RecordingQueue()
    jobs = Jobs()
    jobs.add(Duty("a", 60.0, nothing))
    jobs.add(Duty("b", 30.0, nothing))
    with pytest.raises(ValueError, match="twice"):
        jobs.add(Duty("a", 1.0, nothing))
    jobs.start(queue)
    assert queue.repeating == [("a", 60.0), ("b", 30.0)]
    at = datetime.now(UTC) + timedelta(hours=1)
    jobs.wake("a", at)
    assert queue.once == [("a", at)]

    driven = Jobs(autorun=False)
    driven.add(Duty("a", 60.0, nothing))
    quiet = RecordingQueue()
    driven.start(quiet)
    driven.wake("a", at)
    assert quiet.repeating == [] and quiet.once == []


async def test_passes_of_one_duty_never_overlap():
    running = 0
    most = 0

    async def slow():
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)
        running -= 1

    jobs = Jobs(autorun=False)
    jobs.add(Duty("slow", 60.0, slow))
    await asyncio.gather(*(jobs.run("slow") for _ in range(5)))
    assert most == 1


async def test_a_tick_starts_a_pass_and_returns_a_tick_during_a_pass_starts_none(caplog):
    """Tried: the timer's callback with a pass that waits on an event: the callback returns at
    once (so APScheduler never sees the job still running), a second tick during the pass
    starts nothing, a pass that raises is logged and the next tick runs again, and `stop`
    cancels a pass still running."""
    release = asyncio.Event()
    passes = 0

    async def long_pass():
        nonlocal passes
        passes += 1
        await release.wait()

    async def failing():
        raise RuntimeError("database gone")

    jobs = Jobs(autorun=False)
    jobs.add(Duty("long", 30.0, long_pass))
    jobs.add(Duty("bad", 30.0, failing))

    class Job:
        data = "long"

    class Context:
        job = Job()

    await jobs._tick(Context())  # returns although the pass is still waiting
    await asyncio.sleep(0)
    assert passes == 1
    assert jobs.tick("long") is None  # a pass runs: nothing more is started
    release.set()
    await asyncio.gather(*jobs._passes)
    second = jobs.tick("long")
    assert second is not None
    await second
    assert passes == 2
    bad = jobs.tick("bad")
    assert bad is not None
    await bad  # logged, not raised
    assert "timed duty bad: the pass failed" in caplog.text
    release.clear()
    hanging = jobs.tick("long")
    await asyncio.sleep(0)
    await jobs.stop()
    assert hanging is not None and hanging.cancelled()


async def test_the_application_starts_every_duty(settings):
    async with Harness(settings) as harness:
        jobs = harness.app.bot_data.jobs
        assert list(jobs.duties) == [
            SCHEDULED,
            ORPHANS,
            CAMPAIGN_STEPS,
            COURSE_LESSONS,
            COURSE_NUDGES,
            EVENT_REMINDERS,
            EVENT_FOLLOW_UP,
            CONTEST_DRAFTS,
            CONTEST_ALLOCATION,
            CONTEST_JURY_REMINDER,
            PRUNE_HANDLED,
        ]
        assert len(jobs.duties) == len(DUTIES)
        assert not jobs.autorun  # the harness drives them: nothing runs behind a test's back
        await harness.run_jobs()  # nothing is due: a pass does nothing, twice
        await harness.run_jobs()
        assert not harness.errors
