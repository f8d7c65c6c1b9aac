"""Update processing: concurrent across users, strictly in order for each user, bounded.

PTB's `concurrent_updates(True)` is unbounded (measured 3-5x slower than a bound of 32 under
load) and may run two updates of one user at once, which breaks "answer, then next question"
flows; sequential processing collapses to about 19 updates/s at 50 ms of API latency.

PTB's own semaphore is taken *before* `do_process_update` (its `process_update` is final), so
a user who taps fast would hold several of its slots while waiting behind themselves. This
processor therefore gives PTB a wide admission limit (which only bounds memory) and applies
the real bound itself, after the per-user lock: waiting users hold no slots. An update that
only waits for room in Telegram's second sets its slot aside meanwhile (`slot_set_aside`).

Across processes (several replicas on one PostgreSQL database) the processor hands each update
to a `bot.replicas.UpdateGuard` inside that lock and slot: the guard skips an update handled
already and makes two replicas take turns with one person's updates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

if TYPE_CHECKING:
    from bot.metrics import Metrics

# How many updates may be admitted (running or queued behind their user) at once.
ADMISSION_LIMIT = 4096

if TYPE_CHECKING:
    from bot.replicas import UpdateGuard


class _Slot:
    """One of the processor's `limit` places, held by the update running in this context."""

    __slots__ = ("held", "places")

    def __init__(self, places: asyncio.BoundedSemaphore) -> None:
        self.places = places
        self.held = False


_SLOT: ContextVar[_Slot | None] = ContextVar("update_slot", default=None)


@contextlib.asynccontextmanager
async def slot_set_aside() -> AsyncIterator[None]:
    """Give the running update's place to another update while this block only waits.

    For a wait of its own with nothing to compute: a reply queued for room in Telegram's
    second (`RateLimiter.reply`), a flood-control pause. Without this, a lecture hall's
    first seconds filled every place with `/surveys` lists queued behind Telegram's 30
    messages a second, and every other student's answer, which needs no new message, waited
    behind them. The person's own order is kept (their lock stays held); the place is taken
    again, in turn with the others, when the wait is over. Outside an update (a broadcast's
    worker, a duty), or when the place was set aside already, nothing changes.
    """
    slot = _SLOT.get()
    if slot is None or not slot.held:
        yield
        return
    slot.held = False
    slot.places.release()
    try:
        yield
    finally:
        await slot.places.acquire()
        slot.held = True


def update_key(update: object) -> object:
    """The serialisation key of an update: its user, else its chat, else nothing shared."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return ("u", update.effective_user.id)
        if update.effective_chat is not None:
            return ("c", update.effective_chat.id)
    return ("x", id(update))


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """At most `limit` updates run at once; never two of one user at once."""

    def __init__(self, limit: int, metrics: Metrics | None = None):
        """Run at most `limit` updates at once; count and time them in `metrics` if given."""
        super().__init__(max(ADMISSION_LIMIT, limit))
        self.limit = limit
        self.metrics = metrics
        self.guard: UpdateGuard | None = None
        """Set by the composition root: each update handled once, in turn across replicas."""
        self._running = asyncio.BoundedSemaphore(limit)
        self._locks: dict[object, asyncio.Lock] = {}
        self._waiting: dict[object, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run `coroutine` once this user's earlier updates are done and a slot is free."""
        key = update_key(update)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            # asyncio.Lock wakes waiters first-in first-out, so one user's order is kept.
            async with lock:
                slot = _Slot(self._running)
                await self._running.acquire()
                slot.held = True
                token = _SLOT.set(slot)  # `slot_set_aside` lends it while the update waits
                try:
                    handled = (
                        coroutine if self.guard is None else self.guard.run(update, coroutine)
                    )
                    if self.metrics is None:
                        await handled
                    else:
                        with self.metrics.handling(update):
                            await handled
                finally:
                    _SLOT.reset(token)
                    if slot.held:
                        slot.held = False
                        self._running.release()
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                # Forget idle users so memory does not grow with the number of users ever seen.
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
