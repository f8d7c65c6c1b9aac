"""Timed duties (bot.jobs): started once each on a timer, or driven by tests, never both."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs import DUTIES, Duty, Jobs
from bot.jobs.broadcasts import SCHEDULED
from bot.jobs.campaigns import CAMPAIGN_STEPS
from bot.jobs.course import COURSE_LESSONS, COURSE_NUDGES
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


async def test_the_application_starts_every_duty(settings):
    async with Harness(settings) as harness:
        jobs = harness.app.bot_data.jobs
        assert list(jobs.duties) == [SCHEDULED, CAMPAIGN_STEPS, COURSE_LESSONS, COURSE_NUDGES]
        assert len(jobs.duties) == len(DUTIES)
        assert not jobs.autorun  # the harness drives them: nothing runs behind a test's back
        await harness.run_jobs()  # nothing is due: a pass does nothing, twice
        await harness.run_jobs()
        assert not harness.errors
