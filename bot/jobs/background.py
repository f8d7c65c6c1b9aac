"""Long work started from chat (exports, analyses), off the update path.

Updates of one user are handled one at a time, so an export run inside its update handler
held back everything that organizer sent for minutes (/cancel included), and a second tap on
Export queued a second full export. Here such work runs as a task of its own: one per key at
a time (a second start is refused while the first runs) and at most `slots` at once, so a few
large exports cannot take every worker thread from the results charts students wait for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


def research_key(telegram_id: int) -> str:
    """One export or analysis per person at a time (they share the key)."""
    return f"research:{telegram_id}"


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

    def start(self, key: str, job: Callable[[], Awaitable[None]]) -> bool:
        """Start `job` under `key`; False (and nothing started) if one already runs."""
        if key in self.tasks:
            return False
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._slots)
        self.tasks[key] = asyncio.create_task(self._run(key, job, self._semaphore))
        return True

    async def _run(
        self, key: str, job: Callable[[], Awaitable[None]], semaphore: asyncio.Semaphore
    ) -> None:
        try:
            async with semaphore:
                await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            # Jobs tell their user themselves; anything that escapes is a bug to log.
            logger.exception("background job %s failed", key)
        finally:
            self.tasks.pop(key, None)

    async def idle(self) -> None:
        """Wait until no job runs (tests, and a graceful stop)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks.values()), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel what still runs: its files are temporary and the user can ask again."""
        for task in list(self.tasks.values()):
            task.cancel()
        await self.idle()
