"""The outbound gateway: every message the bot sends on its own initiative goes through here.

Why our own limiter rather than PTB's `AIORateLimiter`: that class calls itself a minimal
reference implementation. It throttles *every* request, direct replies included, and on a
`RetryAfter` it halts all requests and retries by itself. A broadcast needs three things it
does not give:
- a per-chat slot schedule that sits beside the global one;
- the exact `retry_after` wait shared by every sender, with control of the retry returned to
  the caller, which must record each outcome in the outbox;
- an injectable clock, so tests cross the limits without sleeping.

The pacing itself (`RateLimiter`, its clock) lives in `bot.ratelimit`: a global schedule and
one per chat, so one chat's backlog delays only that chat. Direct replies to a user's own action
do not come through here (a person is waiting for them); `bot.floodguard` counts them in the
same limiter as they leave.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

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
from bot.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.metrics import Metrics

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What became of one message."""

    SENT = "sent"
    BLOCKED = "blocked"  # 403: the user blocked the bot
    CHAT_NOT_FOUND = "chat_not_found"  # 400: the user deleted the chat / never started it
    FAILED = "failed"  # refused for another reason, or retries exhausted
    UNCERTAIN = "uncertain"  # timed out after sending: Telegram may or may not have it


@dataclass(frozen=True, slots=True)
class SendResult:
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
        metrics: Metrics | None = None,
    ):
        """Send through `bot`, paced by `limiter`; count each message's outcome in `metrics`."""
        self.metrics = metrics
        self.bot = bot
        self.limiter = limiter
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_flood_waits = max_flood_waits
        self.flood_waits = 0  # RetryAfter answers received, for reports and benchmarks

    async def send(self, message: Outgoing, *, holds_slot: bool = False) -> SendResult:
        """Send one message; never raises for Telegram's answers, returns what happened.

        `holds_slot`: the caller already waited for a global slot (the broadcast workers do,
        so that they claim a delivery only when it can leave at once); only the chat's own
        pace is still waited for, and retries take new slots.
        """
        result = await self._with_retries(
            message.chat_id, lambda: self._send_once(message), holds_slot=holds_slot
        )
        if self.metrics is not None:
            self.metrics.sent(result.outcome)
        return result

    async def wait_slot(self) -> None:
        """Wait for a global send slot, to use with `send(..., holds_slot=True)`."""
        await self.limiter.acquire(None)

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, reply_markup: InlineKeyboardMarkup | None
    ) -> SendResult:
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
    ) -> SendResult:
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
                    return SendResult(Outcome.FAILED, error=f"flood control: {exc.message}")
                continue
            except Forbidden as exc:
                return SendResult(Outcome.BLOCKED, error=exc.message)
            except BadRequest as exc:
                if "chat not found" in exc.message.lower():
                    return SendResult(Outcome.CHAT_NOT_FOUND, error=exc.message)
                return SendResult(Outcome.FAILED, error=exc.message)
            except TimedOut as exc:
                if not never_sent(exc):
                    # The request left: Telegram may have delivered it. Sending again risks a
                    # duplicate, so the outbox records it as uncertain instead.
                    return SendResult(Outcome.UNCERTAIN, error=f"timed out: {exc.message}")
                attempts += 1
                if attempts >= self.max_attempts:
                    return SendResult(Outcome.FAILED, error=f"network: {exc.message}")
                await self.limiter.clock.sleep(self.backoff * 2 ** (attempts - 1))
                continue
            except (InvalidToken, ChatMigrated) as exc:
                return SendResult(Outcome.FAILED, error=exc.message)
            except NetworkError as exc:
                attempts += 1
                if attempts >= self.max_attempts:
                    return SendResult(Outcome.FAILED, error=f"network: {exc.message}")
                delay = self.backoff * 2 ** (attempts - 1)
                logger.info(
                    "network error to chat %s, retry %s in %.1fs", chat_id, attempts, delay
                )
                await self.limiter.clock.sleep(delay)
                continue
            message_id = sent.message_id if isinstance(sent, Message) else None
            return SendResult(Outcome.SENT, message_id=message_id)
