"""Send slots at Telegram's limits, on a clock tests can replace.

`RateLimiter` hands out send slots from two schedules: one global (default 30/s) and one per
chat (default 1/s). Slots are reserved first come, first served, so senders are paced smoothly
rather than in bursts that Telegram would answer with 429, and a chat's own backlog delays only
that chat. Both outbound paths count in the same limiter: `bot.gateway` waits for a slot before
each message the bot sends on its own, and `bot.floodguard` books a slot for each direct reply
as it leaves (a person is waiting for it, so it is not paced: it waits only when the last
second is full, and then ahead of the paced sends).

The clock is injectable: `VirtualClock` lets tests cross the limits without sleeping. This
module depends on neither of its two users, so they can both import it.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections import deque


class Clock:
    """Real time; tests substitute a virtual clock with the same two methods."""

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        await asyncio.sleep(seconds)


class VirtualClock(Clock):
    """A clock whose sleeps return at once and move time forward to their end.

    Several tasks sleeping together move time to the latest of their ends, never back, so
    anything paced by it is paced at least as slowly as in real time; nothing waits for real.
    """

    def __init__(self, start: float = 1000.0):
        """Start at `start` seconds."""
        self._now = start

    def now(self) -> float:
        """The virtual time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Advance to the end of the sleep and let other tasks run."""
        target = self._now + max(0.0, seconds)
        if seconds > 0 and target <= self._now:
            # A wait shorter than the float's step at this time (a window's end computed as
            # `start + WINDOW - now`) must still move time, or its waiter never sees it end.
            target = math.nextafter(self._now, math.inf)
        self._now = max(self._now, target)
        await asyncio.sleep(0)


# The hard cap: at most `per_second * WINDOW` messages leave in any WINDOW seconds, replies
# included. The window is a little longer than Telegram's second, for the jitter between the
# moment a message leaves here and the moment it reaches Telegram.
WINDOW = 1.05


class RateLimiter:
    """Send slots on a global schedule and a per-chat schedule.

    The global schedule is a sorted list of booked send times at least `interval` apart, so the
    overall rate never exceeds `per_second` in any window. A send whose chat is busy books the
    first free global slot at or after the chat's own next slot: one chat's backlog (a student
    tapping quickly through a survey) delays only that chat, and other chats go on using the
    global slots before it.
    """

    def __init__(
        self,
        per_second: float = 30.0,
        per_chat_per_second: float = 1.0,
        clock: Clock | None = None,
    ):
        """Pace at `per_second` overall and `per_chat_per_second` per chat."""
        if per_second <= 0 or per_chat_per_second <= 0:
            raise ValueError("rates must be positive")
        self.interval = 1.0 / per_second
        self.chat_interval = 1.0 / per_chat_per_second
        self.clock = clock or Clock()
        self._booked: list[float] = []  # global send times, sorted, none in the past
        self._chat_next: dict[int, float] = {}
        self._paused_until = 0.0
        # Every message that actually left (paced sends and replies), for the window check.
        self._departures: deque[float] = deque()
        self._window_cap = max(1, math.floor(per_second * WINDOW))
        self._replies_waiting = 0  # replies waiting for room in the window (they go first)

    def _book_global(
        self, earliest: float, now: float, within: float | None = None
    ) -> float | None:
        """Book the first global slot at or after `earliest` that keeps the spacing.

        With `within`, book only a slot less than `within` seconds after `earliest`, else
        nothing (None).
        """
        booked = self._booked
        # Slots more than one interval in the past no longer constrain anything.
        drop = bisect.bisect_left(booked, now - self.interval)
        if drop:
            del booked[:drop]
        slot = earliest
        i = bisect.bisect_left(booked, slot)
        if i > 0 and slot < booked[i - 1] + self.interval:
            slot = booked[i - 1] + self.interval
        # Walk forward over the bookings that leave no gap wide enough before them.
        while i < len(booked) and booked[i] < slot + self.interval:
            slot = max(slot, booked[i] + self.interval)
            i += 1
            if within is not None and slot - earliest >= within:
                return None
        booked.insert(i, slot)
        return slot

    def reserve(self, chat_id: int | None, *, global_slot: bool = True) -> float:
        """Reserve the next free slot; returns the seconds to wait for it.

        `chat_id=None` reserves a global slot only; `global_slot=False` only the chat's (for
        a sender that already holds a global slot).
        """
        now = self.clock.now()
        earliest = max(now, self._paused_until)
        if chat_id is not None:
            earliest = max(earliest, self._chat_next.get(chat_id, 0.0))
        booked = self._book_global(earliest, now) if global_slot else None
        slot = earliest if booked is None else booked
        if chat_id is not None:
            self._chat_next[chat_id] = slot + self.chat_interval
            self._prune_chats(now)
        return slot - now

    def _prune_chats(self, now: float) -> None:
        if len(self._chat_next) > 10_000:
            # Chats whose next slot has passed need no entry: keep memory flat in big runs.
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}

    def record_reply(self, chat_id: int) -> None:
        """Count a direct reply sent now (not waited for: a person is waiting for it).

        It takes a free global slot of the present (within one interval of now), since
        Telegram counts every message; when replies alone run above the rate there is none,
        and nothing is booked: the reply has left already, and booking future slots for it
        would push every broadcast back by the whole excess (minutes in a busy hour). The
        chat's next slot is one chat interval from now: the gateway's next message to this
        chat leaves room for it, but replies never pile up a backlog of their own.
        """
        now = self.clock.now()
        departures = self._departures
        while departures and departures[0] + WINDOW <= now:
            departures.popleft()
        departures.append(now)
        self._book_global(max(now, self._paused_until), now, within=self.interval)
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), now + self.chat_interval)
        self._prune_chats(now)

    def reply_waits(self) -> bool:
        """Whether a reply now would wait (the last WINDOW seconds hold the limit already)."""
        now = self.clock.now()
        departures = self._departures
        while departures and departures[0] + WINDOW <= now:
            departures.popleft()
        return len(departures) >= self._window_cap

    async def reply(self, chat_id: int) -> float:
        """Count a direct reply, first waiting while the last WINDOW seconds are full.

        A reply is never delayed behind the schedule (a person is waiting), only by what
        actually left: when replies alone ask for more than the rate (a lecture hall of 500
        opening the survey within seconds), sending them anyway only earns 429s, whose retries
        and apologies take yet more of the same budget. So they queue for the window, ahead
        of the paced sends, which give way while a reply waits. Returns the seconds waited.
        """
        started = self.clock.now()
        await self.room_for_reply()
        self.record_reply(chat_id)
        return self.clock.now() - started

    async def room_for_reply(self) -> None:
        """Wait until the last WINDOW seconds have room for a reply; count nothing.

        For a caller that does something else between the wait and the reply (it takes its
        update's place back, `bot.concurrency.slot_set_aside`): it then calls `reply`, which
        counts the departure when it really leaves (and waits again if the room was taken).
        The paced sends give way while a reply waits here too.
        """
        departures = self._departures
        self._replies_waiting += 1
        try:
            while True:
                now = self.clock.now()
                while departures and departures[0] + WINDOW <= now:
                    departures.popleft()
                if len(departures) < self._window_cap:
                    return
                await self.clock.sleep(departures[0] + WINDOW - now)
        finally:
            self._replies_waiting -= 1

    async def acquire(self, chat_id: int | None, *, global_slot: bool = True) -> None:
        """Wait for a slot to send to `chat_id` (see `reserve`)."""
        delay = self.reserve(chat_id, global_slot=global_slot)
        if delay > 0:
            await self.clock.sleep(delay)
        # A 429 that arrived while we slept pauses everyone, slots reserved before included;
        # after the pause each waiter books a new slot, so they do not all leave at once.
        paused = False
        while (wait := self._paused_until - self.clock.now()) > 0:
            await self.clock.sleep(wait)
            paused = True
        if paused:
            delay = self.reserve(chat_id, global_slot=global_slot)
            if delay > 0:
                await self.clock.sleep(delay)
        if global_slot:
            await self._leave_within_window()

    async def _leave_within_window(self) -> None:
        """Wait while the last WINDOW seconds are full, then count this departure.

        The slots alone cannot keep the total under the limit: a reply is sent at once (a
        person is waiting) even when every slot of the present is booked by a paced send
        already asleep until it. So a paced send, when its slot comes, also looks at what
        actually left in the last WINDOW seconds and gives way while that is full: the
        replies go first, and the scheduled messages fill what they leave.
        """
        departures = self._departures
        while True:
            now = self.clock.now()
            while departures and departures[0] + WINDOW <= now:
                departures.popleft()
            if self._replies_waiting:  # a reply waits for room: it goes first
                await self.clock.sleep(self.interval)
                continue
            if len(departures) < self._window_cap:
                departures.append(now)
                return
            await self.clock.sleep(departures[0] + WINDOW - now)

    def pause(self, seconds: float) -> None:
        """Telegram asked to wait: nobody sends for `seconds` from now."""
        until = self.clock.now() + seconds
        self._paused_until = max(self._paused_until, until)
