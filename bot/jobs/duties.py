"""The timed duties of one application: passes run on a timer, or by a test, never both.

A `Duty` is one pass over the rows of one kind that are due (`bot.services.due`): the pass
claims each due row once, queues its messages in the outbox and marks it done, then starts
sending what it queued. Since every row is claimed once, a pass may run at any time and any
number of times: on its timer, right after a user's action made something due (a campaign
published now), at the exact time a row falls due (a scheduled broadcast), or on another
replica at the same moment.

`Jobs` holds the duties. In the running bot PTB's job queue runs each on its timer
(`autorun=True`). Built with `autorun=False` (the test harness), nothing runs on its own:
a test runs every duty once with `run_all()`, as the timer would have, after it has moved the
clock or the stored times, so no test ever waits for a real timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.services.due import DUE_OBSERVER

if TYPE_CHECKING:
    from bot.metrics import Metrics

logger = logging.getLogger(__name__)

# The first pass waits this long after start-up, so polling starts first.
FIRST_PASS = 1.0


@dataclass(frozen=True)
class Duty:
    """One timed duty: `run` takes what is due once; it runs every `every` seconds."""

    name: str
    every: float
    run: Callable[[], Awaitable[None]]


class Jobs:
    """The duties of one application, run by PTB's job queue or driven by tests."""

    def __init__(self, *, autorun: bool = True, metrics: Metrics | None = None):
        """Hold duties; `autorun=False`: never run them on a timer (tests call `run_all`).

        `metrics`: where passes, their rows and late ticks are counted.
        """
        self.metrics = metrics
        self.autorun = autorun
        self.duties: dict[str, Duty] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._passes: set[asyncio.Task[None]] = set()
        self._job_queue: Any = None

    def add(self, duty: Duty) -> None:
        """Add a duty; a name is taken once."""
        if duty.name in self.duties:
            raise ValueError(f"duty {duty.name!r} is added twice")
        self.duties[duty.name] = duty

    def start(self, job_queue: Any) -> None:
        """Run every duty on its timer from now on (unless tests drive them, or no queue)."""
        if not self.autorun or job_queue is None:
            return
        self._job_queue = job_queue
        for duty in self.duties.values():
            job_queue.run_repeating(
                self._tick, interval=duty.every, first=FIRST_PASS, name=duty.name, data=duty.name
            )

    def wake(self, name: str, at: datetime) -> None:
        """Also run the duty `name` at `at` (UTC), for a row due at a known time.

        A time already past runs it at once. Without a timer (tests, or before `start`) it does
        nothing: the duty's next pass takes the row anyway.
        """
        if self._job_queue is None:
            return
        when = max(at, datetime.now(UTC))
        self._job_queue.run_once(self._tick, when=when, name=f"{name}:wake", data=name)

    async def _tick(self, context: Any) -> None:
        """Start a pass of the duty named by the job's data (PTB job callback); return at once.

        A pass may outlast its timer (10,000 lessons due at 9:00 take minutes to queue): the
        job only starts it, so the scheduler never finds the job still running (APScheduler
        would log "maximum number of running instances reached" every interval), and a tick
        while a pass runs starts nothing, since that pass takes whatever is due meanwhile.
        """
        self.tick(context.job.data)

    def tick(self, name: str) -> asyncio.Task[None] | None:
        """Start a pass of `name` in the background unless one runs; the pass's task, or None."""
        lock = self._locks.setdefault(name, asyncio.Lock())
        if lock.locked():
            if self.metrics is not None:
                self.metrics.duty_tick_late(name)
            return None
        task = asyncio.create_task(self._logged(name), name=f"duty:{name}")
        self._passes.add(task)
        task.add_done_callback(self._passes.discard)
        return task

    async def _logged(self, name: str) -> None:
        try:
            await self.run(name)
        except Exception:  # the next tick tries again; a failing pass must not stop the timer
            logger.exception("timed duty %s: the pass failed", name)

    async def stop(self) -> None:
        """Cancel the passes running in the background (at shutdown).

        A row whose pass was cancelled before its commit is still due: the next start takes it.
        """
        tasks = list(self._passes)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self, name: str) -> None:
        """Run one pass of the duty `name` now; passes of one duty never overlap."""
        duty = self.duties[name]
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            if self.metrics is None:
                await duty.run()
                return
            token = DUE_OBSERVER.set(self.metrics.due_rows)
            start = time.perf_counter()
            failed = True
            try:
                await duty.run()
                failed = False
            finally:
                DUE_OBSERVER.reset(token)
                self.metrics.duty_pass(name, time.perf_counter() - start, failed=failed)

    async def run_all(self) -> None:
        """Run one pass of every duty, in the order they were added (tests, the CLI)."""
        for name in list(self.duties):
            await self.run(name)
