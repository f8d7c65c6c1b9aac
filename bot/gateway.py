"""The outbound gateway: every message the bot sends on its own initiative goes through here.

Why our own limiter rather than PTB's `AIORateLimiter`: that class calls itself a minimal
reference implementation. It throttles *every* request, direct replies included, and on a
`RetryAfter` it halts all requests and retries by itself. A broadcast needs three things it
does not give:
- a per-chat slot schedule that sits beside the global one;
- the exact `retry_after` wait shared by every sender, with control of the retry returned to
  the caller, which must record each outcome in the outbox;
- an injectable clock, so tests cross the limits without sleeping.

`RateLimiter` hands out send slots from two schedules: one global (default 30/s) and one per
chat (default 1/s). Slots are reserved first come, first served, so the senders are paced
smoothly rather than in bursts that Telegram would answer with 429. A chat's own backlog delays
only that chat. Direct replies to a user's own action do not come through here (a person is
waiting for them); `bot.floodguard` counts them in the limiter as they leave.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.floodguard import GATEWAY_CALL, never_sent, retry_after_seconds

logger = logging.getLogger(__name__)


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
        self._now = max(self._now, target)
        await asyncio.sleep(0)


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

    def _book_global(self, earliest: float, now: float) -> float:
        """Book the first global slot at or after `earliest` that keeps the spacing."""
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
        slot = self._book_global(earliest, now) if global_slot else earliest
        if chat_id is not None:
            self._chat_next[chat_id] = slot + self.chat_interval
            if len(self._chat_next) > 10_000:
                # Chats whose next slot has passed need no entry: keep memory flat in big runs.
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        return slot - now

    def record_reply(self, chat_id: int) -> None:
        """Count a direct reply sent now (not waited for: a person is waiting for it).

        It takes a global slot, since Telegram counts every message, and the chat's next
        slot is one chat interval from now: the gateway's next message to this chat leaves
        room for it, but replies never pile up a backlog of their own.
        """
        now = self.clock.now()
        self._book_global(max(now, self._paused_until), now)
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), now + self.chat_interval)

    async def acquire(self, chat_id: int | None, *, global_slot: bool = True) -> None:
        """Wait for a slot to send to `chat_id` (see `reserve`)."""
        delay = self.reserve(chat_id, global_slot=global_slot)
        if delay > 0:
            await self.clock.sleep(delay)
        # A 429 that arrived while we slept pauses everyone, slots reserved before included.
        while (wait := self._paused_until - self.clock.now()) > 0:
            await self.clock.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Telegram asked to wait: nobody sends for `seconds` from now."""
        until = self.clock.now() + seconds
        self._paused_until = max(self._paused_until, until)


class Outcome(StrEnum):
    """What became of one message."""

    SENT = "sent"
    BLOCKED = "blocked"  # 403: the user blocked the bot
    CHAT_NOT_FOUND = "chat_not_found"  # 400: the user deleted the chat / never started it
    FAILED = "failed"  # refused for another reason, or retries exhausted
    UNCERTAIN = "uncertain"  # timed out after sending: Telegram may or may not have it


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of a send, with Telegram's message id when sent."""

    outcome: Outcome
    message_id: int | None = None
    error: str | None = None

    @property
    def unreachable(self) -> bool:
        """The user cannot be written to until they write to the bot again."""
        return self.outcome in (Outcome.BLOCKED, Outcome.CHAT_NOT_FOUND)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send: text, or a photo or document by Telegram file id with a caption.

    Text and captions are HTML, whatever the bot's default parse mode.
    """

    chat_id: int
    kind: str = "text"
    text: str = ""
    file_id: str | None = None
    reply_markup: InlineKeyboardMarkup | None = None
    protect_content: bool = False


class Gateway:
    """Sends with the limiter, waits on RetryAfter, retries network errors, classifies refusals."""

    def __init__(
        self,
        bot: Bot,
        limiter: RateLimiter,
        *,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_flood_waits: int = 20,
    ):
        """Send through `bot`, paced by `limiter`."""
        self.bot = bot
        self.limiter = limiter
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_flood_waits = max_flood_waits
        self.flood_waits = 0  # RetryAfter answers received, for reports and benchmarks

    async def send(self, message: Outgoing, *, holds_slot: bool = False) -> Result:
        """Send one message; never raises for Telegram's answers, returns what happened.

        `holds_slot`: the caller already waited for a global slot (the broadcast workers do,
        so that they claim a delivery only when it can leave at once); only the chat's own
        pace is still waited for, and retries take new slots.
        """
        return await self._with_retries(
            message.chat_id, lambda: self._send_once(message), holds_slot=holds_slot
        )

    async def wait_slot(self) -> None:
        """Wait for a global send slot, to use with `send(..., holds_slot=True)`."""
        await self.limiter.acquire(None)

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, reply_markup: InlineKeyboardMarkup | None
    ) -> Result:
        """Edit a message the bot sent (progress reports); "not modified" counts as done."""

        async def edit() -> Message | bool:
            try:
                return await self.bot.edit_message_text(
                    text,
                    chat_id=chat_id,
                    message_id=message_id,
                    reply_markup=reply_markup,
                    parse_mode=ParseMode.HTML,
                )
            except BadRequest as exc:
                if "not modified" in exc.message:
                    return True
                raise

        return await self._with_retries(chat_id, edit)

    async def _send_once(self, message: Outgoing) -> Message:
        markup, protect = message.reply_markup, message.protect_content
        if message.kind in ("photo", "document"):
            send = self.bot.send_photo if message.kind == "photo" else self.bot.send_document
            return await send(
                message.chat_id,
                message.file_id or "",
                caption=message.text or None,
                reply_markup=markup,
                protect_content=protect,
                parse_mode=ParseMode.HTML,
            )
        return await self.bot.send_message(
            message.chat_id,
            message.text,
            reply_markup=markup,
            protect_content=protect,
            parse_mode=ParseMode.HTML,
        )

    @staticmethod
    async def _call(call: Callable[[], Awaitable[Message | bool]]) -> Message | bool:
        token = GATEWAY_CALL.set(True)
        try:
            return await call()
        finally:
            GATEWAY_CALL.reset(token)

    async def _with_retries(
        self,
        chat_id: int,
        call: Callable[[], Awaitable[Message | bool]],
        *,
        holds_slot: bool = False,
    ) -> Result:
        attempts = 0
        flood_waits = 0
        first = True
        while True:
            await self.limiter.acquire(chat_id, global_slot=not (first and holds_slot))
            first = False
            try:
                sent = await self._call(call)
            except RetryAfter as exc:
                # Flood control is per bot: everybody waits exactly as long as Telegram asks.
                flood_waits += 1
                self.flood_waits += 1
                self.limiter.pause(retry_after_seconds(exc))
                if flood_waits > self.max_flood_waits:
                    return Result(Outcome.FAILED, error=f"flood control: {exc.message}")
                continue
            except Forbidden as exc:
                return Result(Outcome.BLOCKED, error=exc.message)
            except BadRequest as exc:
                if "chat not found" in exc.message.lower():
                    return Result(Outcome.CHAT_NOT_FOUND, error=exc.message)
                return Result(Outcome.FAILED, error=exc.message)
            except TimedOut as exc:
                if not never_sent(exc):
                    # The request left: Telegram may have delivered it. Sending again risks a
                    # duplicate, so the outbox records it as uncertain instead.
                    return Result(Outcome.UNCERTAIN, error=f"timed out: {exc.message}")
                attempts += 1
                if attempts >= self.max_attempts:
                    return Result(Outcome.FAILED, error=f"network: {exc.message}")
                await self.limiter.clock.sleep(self.backoff * 2 ** (attempts - 1))
                continue
            except (InvalidToken, ChatMigrated) as exc:
                return Result(Outcome.FAILED, error=exc.message)
            except NetworkError as exc:
                attempts += 1
                if attempts >= self.max_attempts:
                    return Result(Outcome.FAILED, error=f"network: {exc.message}")
                delay = self.backoff * 2 ** (attempts - 1)
                logger.info(
                    "network error to chat %s, retry %s in %.1fs", chat_id, attempts, delay
                )
                await self.limiter.clock.sleep(delay)
                continue
            message_id = sent.message_id if isinstance(sent, Message) else None
            return Result(Outcome.SENT, message_id=message_id)
