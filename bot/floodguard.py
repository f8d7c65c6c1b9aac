"""Flood control and brief failures for direct replies: wait, then try again.

Messages the bot sends on its own initiative are paced by `bot.gateway`, which handles
`RetryAfter` itself and must see it. A reply to the user's own action is not paced: it answers
a person who is waiting. When several replies in a row hit Telegram's short-burst limit of one
chat, Telegram answers 429 with `retry_after`. This PTB rate limiter waits exactly that long
and retries (a few times), so the flow goes on instead of failing. A brief 5xx or network error
is retried too, after a short back-off, as the gateway does; a read timeout of a call that posts
a message is not, since Telegram may already have it. It leaves the gateway's calls alone,
recognised by a context variable the gateway sets around them.

It imports the limiter from `bot.ratelimit`, not from the gateway: the gateway imports this
module (for `GATEWAY_CALL` and the error helpers), and the two must not import each other.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

from bot.chat_tail import ChatTail
from bot.concurrency import slot_set_aside
from bot.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.metrics import Metrics

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


# What each transport (PTB's httpx one, bot.transport's aiohttp one) raises when a request
# never left this process. aiohttp's ConnectionTimeoutError covers both waiting for a pooled
# connection and opening one; ClientConnectorError, a connection that could not be opened
# (refused, DNS, TLS handshake, proxy).
_NOT_SENT_TIMEOUTS = (httpx.ConnectTimeout, httpx.PoolTimeout, aiohttp.ConnectionTimeoutError)
_NOT_SENT_FAILURES = (httpx.ConnectError, *_NOT_SENT_TIMEOUTS, aiohttp.ClientConnectorError)


def never_sent(error: TimedOut) -> bool:
    """A connect or pool timeout: the request never left this process, so retrying is safe."""
    return isinstance(error.__cause__, _NOT_SENT_TIMEOUTS)


def may_have_arrived(error: NetworkError) -> bool:
    """True when the connection broke after the request left: Telegram may have it.

    A reset or a protocol error may come after Telegram took the request; a 5xx answer (no
    transport cause) or a connect or pool failure means it did not.
    """
    cause = error.__cause__
    if cause is None:
        return False
    return not isinstance(cause, _NOT_SENT_FAILURES)


# Methods that post a new message: they count against Telegram's per-chat and overall limits.
SENDING_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage", "sendPoll"}
)


class FloodGuard(BaseRateLimiter[dict[str, Any]]):
    """Retries direct replies after `RetryAfter` and brief errors; passes the gateway through.

    Replies are not paced, but they are counted in the gateway's limiter, so the gateway's
    next message to the same chat (and the global rate) leaves room for them; a reply waits
    only while the last second already holds Telegram's limit (`RateLimiter.reply`).
    """

    def __init__(
        self,
        limiter: RateLimiter | None = None,
        max_retries: int = 3,
        max_wait: float = 60.0,
        *,
        network_retries: int = 3,
        backoff: float = 0.25,
        metrics: Metrics | None = None,
        tail: ChatTail | None = None,
    ):
        """Retry floods at most `max_retries` times (each wait at most `max_wait` seconds).

        5xx and network errors are retried `network_retries` times, after `backoff`,
        then twice that, and so on. Every request (the gateway's too) is counted in `metrics`
        with its failures by error class: this is the one seam all Bot API calls pass. The
        messages they create are noted in `tail` (`bot.chat_tail`).
        """
        self.metrics = metrics
        self.tail = tail
        self.limiter = limiter
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.network_retries = network_retries
        self.backoff = backoff

    async def _sleep(self, seconds: float) -> None:
        if self.limiter is not None:
            await self.limiter.clock.sleep(seconds)
        else:
            await asyncio.sleep(seconds)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    @staticmethod
    def _counted(
        callback: Callable[..., Coroutine[Any, Any, Any]], endpoint: str, metrics: Metrics
    ) -> Callable[..., Coroutine[Any, Any, Any]]:
        """`callback`, counting each call (each retry too) and each failure in `metrics`."""

        async def counted(*args: Any, **kwargs: Any) -> Any:
            metrics.api_call(endpoint)
            try:
                return await callback(*args, **kwargs)
            except Exception as exc:
                metrics.api_error(endpoint, exc)
                raise

        return counted

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
        if self.metrics is not None:
            callback = self._counted(callback, endpoint, self.metrics)
        if GATEWAY_CALL.get():
            result = await callback(*args, **kwargs)
        else:
            result = await self._call(callback, args, kwargs, endpoint, data)
        if self.tail is not None:
            self.tail.record(endpoint, data, result)
        return result

    async def _call(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """A direct call: counted against Telegram's second, retried as the class says."""
        chat_id = data.get("chat_id")
        sends = endpoint in SENDING_METHODS
        if self.limiter is not None and sends and isinstance(chat_id, int):
            # Counted, not paced (a person is waiting); it waits only while the last second
            # is full, which would earn a 429, and lends its update's place meanwhile.
            # The departure is counted once the place is back, right before the call: counted
            # earlier, replies still waiting for a place would leave together past the limit.
            while self.limiter.reply_waits():
                async with slot_set_aside():
                    await self.limiter.room_for_reply()
            await self.limiter.reply(chat_id)
        attempt = 0
        failures = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                attempt += 1
                wait = retry_after_seconds(exc)
                if attempt > self.max_retries or wait > self.max_wait:
                    raise
                logger.info("flood control on %s: waiting %.0f s", endpoint, wait)
                async with slot_set_aside():
                    await self._sleep(wait)
            except BadRequest:
                # A 400 is Telegram's final word (PTB makes it a NetworkError): never retried.
                raise
            except TimedOut as exc:
                # A post that timed out after leaving may have arrived: never risk a duplicate.
                if sends and not never_sent(exc):
                    raise
                failures += 1
                if failures > self.network_retries:
                    raise
                await self._sleep(self.backoff * 2 ** (failures - 1))
            except NetworkError as exc:
                # 5xx answers and failed connections: Telegram did not take the request. A post
                # whose connection broke after it left may have arrived: not sent twice.
                if sends and may_have_arrived(exc):
                    raise
                failures += 1
                if failures > self.network_retries:
                    raise
                logger.info("%s on %s: retry %s", exc.message, endpoint, failures)
                await self._sleep(self.backoff * 2 ** (failures - 1))
