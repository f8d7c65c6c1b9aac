"""Flood control for direct replies: wait as Telegram asks, then try again.

Messages the bot sends on its own initiative are paced by `bot.gateway`, which handles
`RetryAfter` itself and must see it. A reply to the user's own action is not paced: it answers
a person who is waiting. When several replies in a row hit Telegram's short-burst limit of one
chat, Telegram answers 429 with `retry_after`. This PTB rate limiter waits exactly that long
and retries (a few times), so the flow goes on instead of failing. It leaves the gateway's calls
alone, recognised by a context variable the gateway sets around them.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

if TYPE_CHECKING:
    from bot.gateway import RateLimiter

logger = logging.getLogger(__name__)

# True while the outbound gateway is calling Telegram: it handles flood control itself.
GATEWAY_CALL: contextvars.ContextVar[bool] = contextvars.ContextVar("gateway_call", default=False)


def retry_after_seconds(error: RetryAfter) -> float:
    """`retry_after` in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        # PTB 22 warns that the type will become timedelta; both are handled here.
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# Methods that post a new message: they count against Telegram's per-chat and overall limits.
SENDING_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage", "sendPoll"}
)


class FloodGuard(BaseRateLimiter[dict[str, Any]]):
    """Retries direct replies after `RetryAfter`; passes the gateway's calls straight through.

    Replies are not delayed, but they are booked in the gateway's limiter, so the gateway's
    next message to the same chat (or its next global slot) leaves room for them.
    """

    def __init__(
        self, limiter: RateLimiter | None = None, max_retries: int = 3, max_wait: float = 60.0
    ):
        """Retry at most `max_retries` times, waiting at most `max_wait` seconds each."""
        self.limiter = limiter
        self.max_retries = max_retries
        self.max_wait = max_wait

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Call Telegram; on flood control outside the gateway, wait and call again."""
        if GATEWAY_CALL.get():
            return await callback(*args, **kwargs)
        chat_id = data.get("chat_id")
        if self.limiter is not None and endpoint in SENDING_METHODS and isinstance(chat_id, int):
            self.limiter.reserve(chat_id)  # booked, not waited for: a person is waiting
        attempt = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                attempt += 1
                wait = retry_after_seconds(exc)
                if attempt > self.max_retries or wait > self.max_wait:
                    raise
                logger.info("flood control on %s: waiting %.0f s", endpoint, wait)
                if self.limiter is not None:
                    await self.limiter.clock.sleep(wait)
                else:
                    await asyncio.sleep(wait)
