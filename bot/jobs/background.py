"""Long work started from chat (exports, analyses, pack checks), off the update path.

Updates of one user are handled one at a time, so an export run inside its update handler
held back everything that organizer sent for minutes (/cancel included), and a second tap on
Export queued a second full export. Here such work runs as a task of its own: one per key at
a time (a second start is refused while the first runs) and at most `slots` at once, so a few
large exports cannot take every worker thread from the results charts students wait for.

A job tells its user the outcomes it expects (a refusal, an empty export) itself. What escapes
it is a failure: the runner hands it to the job's `on_error` (handlers pass
`bot.errors.background_reporter`, the same report as the error handler's: the user told their
saved data is kept, the admins alerted), or logs it when there is none.

Whether the garbage collector is relaxed while a job runs is the runner's decision too
(`relax_gc`, see `relaxed_gc`): it is process-wide, so no service makes it on its own.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
OnError = Callable[[BaseException], Awaitable[None]]

RELAXED_THRESHOLD = 50_000  # allocations between collections of the youngest generation


def research_key(telegram_id: int) -> str:
    """One export or analysis per person at a time (they share the key)."""
    return f"research:{telegram_id}"


@dataclass
class _Collector:
    """The jobs that asked for a relaxed collector, and the threshold to restore after them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0
    saved: tuple[int, ...] = field(default_factory=gc.get_threshold)


_COLLECTOR = _Collector()


@contextmanager
def relaxed_gc() -> Iterator[None]:
    """Collect garbage less often while a large export or analysis runs.

    An export allocates a row tuple per answer; with the default threshold (a collection every
    700 allocations) the collector rescanned them over and over, a fifth of the export's time.
    The threshold is process-wide, so for the duration the bot's cycles are collected every
    50,000 allocations instead; it is restored when the last relaxed job ends. Only runners
    (this module's `Background`, the command line) use it, never a service.
    """
    state = _COLLECTOR
    with state.lock:
        if state.users == 0:
            state.saved = gc.get_threshold()
            gc.set_threshold(max(state.saved[0], RELAXED_THRESHOLD), *state.saved[1:])
        state.users += 1
    try:
        yield
    finally:
        with state.lock:
            state.users -= 1
            if state.users == 0:
                gc.set_threshold(*state.saved)


class Background:
    """Keyed background jobs with a bound on how many run at once."""

    def __init__(self, slots: int = 2):
        """Allow `slots` jobs to run at the same time; the rest wait their turn."""
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._slots = slots
        self._semaphore: asyncio.Semaphore | None = None

    def busy(self, key: str) -> bool:
        """True while a job with this key runs or waits."""
        return key in self.tasks

    def start(
        self,
        key: str,
        job: Job,
        *,
        on_error: OnError | None = None,
        relax_gc: bool = False,
    ) -> bool:
        """Start `job` under `key`; False (and nothing started) if one already runs.

        Args:
            key: one job per key at a time.
            job: the work; the outcomes it expects it reports itself.
            on_error: what to do with an exception that escapes the job (None: log it).
            relax_gc: collect garbage less often while it runs (`relaxed_gc`): for jobs that
                allocate millions of short-lived rows, such as exports and analyses.
        """
        if key in self.tasks:
            return False
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._slots)
        self.tasks[key] = asyncio.create_task(
            self._run(key, job, self._semaphore, on_error, relax_gc)
        )
        return True

    async def _run(
        self,
        key: str,
        job: Job,
        semaphore: asyncio.Semaphore,
        on_error: OnError | None,
        relax_gc: bool,
    ) -> None:
        try:
            async with semaphore:
                if relax_gc:
                    with relaxed_gc():
                        await job()
                else:
                    await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is reported, none is lost
            await self._failed(key, exc, on_error)
        finally:
            self.tasks.pop(key, None)

    @staticmethod
    async def _failed(key: str, error: Exception, on_error: OnError | None) -> None:
        """Report a job's failure; a report that fails itself is logged, never raised."""
        if on_error is None:
            logger.error("background job %s failed", key, exc_info=error)
            return
        try:
            await on_error(error)
        except Exception:
            logger.exception("background job %s failed, and so did its report", key)
            logger.error("the failure of background job %s", key, exc_info=error)

    async def idle(self) -> None:
        """Wait until no job runs (tests, and a graceful stop)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks.values()), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel what still runs: its files are temporary and the user can ask again."""
        for task in list(self.tasks.values()):
            task.cancel()
        await self.idle()
