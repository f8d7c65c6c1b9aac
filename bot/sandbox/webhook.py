"""The emulator's webhook delivery: queued updates POSTed to the bot, as Telegram does.

Once the bot has called ``setWebhook`` (a URL and a ``secret_token``), Telegram stops answering
getUpdates and POSTs each update to that URL with the header
``X-Telegram-Bot-Api-Secret-Token``, retrying an update until it is answered 200.
:class:`WebhookDelivery` does the same for an :class:`~bot.sandbox.emulator.Emulator`:

- **Targets.** Telegram takes one public HTTPS URL; in production a load balancer behind it
  spreads the requests over the replicas. The sandbox has no load balancer, so the delivery
  POSTs to a list of *targets* (``http://127.0.0.1:PORT/path`` of each replica), in turn
  (round robin). This is a test facility standing in for the load balancer: the URL given to
  ``setWebhook`` is only recorded. Targets are given to the constructor or added later
  (``add_target``, or ``POST /sandbox/webhook/targets`` on the emulator server).
- **Order and concurrency.** Up to ``max_connections`` updates are in flight at once (the
  ``setWebhook`` parameter, default 40 as in Telegram), never two of one chat: a chat's next
  update waits until the previous one was answered.
- **Retries.** A delivery that was not answered 200 (another status, a refused or dropped
  connection, a timeout) is tried again on the next target after a short back-off
  (``retry_delay``, doubling up to ``max_retry_delay``), until it is.
- **Duplicates on purpose.** With ``duplicate_rate`` (0..1, drawn from ``random.Random(seed)``
  so a run can be repeated) an update is also POSTed to the following target at the same
  moment: two replicas get the same update at once, as after a load balancer's retry (with
  one target, it gets the update twice at once).
- **The secret.** Every POST carries the ``secret_token`` of ``setWebhook``. A target that
  refuses it (401 or 403: a replica configured with another ``WEBHOOK_SECRET`` than the one
  that called ``setWebhook``) is counted in ``stats.refused_secret`` and reported in
  ``getWebhookInfo``'s ``last_error_message``, as Telegram does ("Wrong response from the
  webhook: 403 Forbidden"); the update is retried like any other failure.

The bot may answer a webhook request with a Bot API call in the body (``{"method": ...}``),
as Telegram allows; the delivery carries it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.sandbox.emulator import Emulator
from bot.sandbox.faults import NetworkFault

__all__ = ["SECRET_HEADER", "DeliveryStats", "WebhookDelivery"]

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_REASONS = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}


@dataclass
class DeliveryStats:
    """What the webhook delivery did (tests and benchmarks read it)."""

    delivered: int = 0
    """Updates answered 200 (each counted once, whatever the retries and duplicates)."""
    posts: int = 0
    """POST requests made (deliveries, retries and duplicates)."""
    retries: int = 0
    duplicates: int = 0
    refused_secret: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    """Failed POSTs by cause: an HTTP status, "connection" or "timeout"."""
    by_target: Counter[str] = field(default_factory=Counter)
    """POSTs answered 200, by target."""

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values."""
        return {
            "delivered": self.delivered,
            "posts": self.posts,
            "retries": self.retries,
            "duplicates": self.duplicates,
            "refused_secret": self.refused_secret,
            "failures": dict(self.failures),
            "by_target": dict(self.by_target),
        }


class WebhookDelivery:
    """POST an emulator's queued updates to the bot's webhook target(s) once it set a webhook."""

    def __init__(
        self,
        emulator: Emulator,
        targets: Iterable[str] = (),
        *,
        duplicate_rate: float = 0.0,
        seed: int = 0,
        retry_delay: float = 0.05,
        max_retry_delay: float = 1.0,
        timeout: float = 60.0,
    ) -> None:
        """Deliver `emulator`'s updates to `targets` in turn (see the module's notes)."""
        if not 0.0 <= duplicate_rate <= 1.0:
            raise ValueError("duplicate_rate is a probability, 0 to 1")
        self.emulator = emulator
        self.targets: list[str] = []
        for target in targets:
            self.add_target(target)
        self.duplicate_rate = duplicate_rate
        self.random = random.Random(seed)
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.timeout = timeout
        self.stats = DeliveryStats()
        self._turn = 0
        self._busy: dict[int, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    # --- targets -------------------------------------------------------------------------

    def add_target(self, url: str) -> None:
        """Deliver to `url` too (an http(s) URL; a replica's webhook address)."""
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a webhook target is an http(s) URL, not {url!r}")
        if url not in self.targets:
            self.targets.append(url)
            self.emulator.wake_updates()

    def remove_target(self, url: str) -> None:
        """Stop delivering to `url` (a replica taken out of the load balancer)."""
        if url in self.targets:
            self.targets.remove(url)

    def _next_target(self) -> str:
        target = self.targets[self._turn % len(self.targets)]
        self._turn += 1
        return target

    # --- running -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start delivering (inside the running loop); updates wait until a webhook is set."""
        if self._runner is not None:
            raise RuntimeError("the webhook delivery is already running")
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            connector=aiohttp.TCPConnector(limit=0),
        )
        self._runner = asyncio.create_task(self._run(), name="sandbox-webhook")

    async def stop(self) -> None:
        """Stop delivering; updates in flight are abandoned (and stay undelivered)."""
        runner, self._runner = self._runner, None
        tasks = [runner, *self._tasks] if runner is not None else list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> WebhookDelivery:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def in_flight(self) -> int:
        """Updates being delivered right now."""
        return len(self._tasks)

    def idle(self, chat_id: int | None = None) -> bool:
        """Nothing queued or in flight (for `chat_id`, or at all): every update was answered."""
        if chat_id is None:
            return not self._tasks and not self.emulator.pending_updates
        return chat_id not in self._busy and not self.emulator.queued_for(chat_id)

    async def wait_idle(
        self,
        chat_id: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - the sandbox's wait_* take a timeout
    ) -> None:
        """Wait until :meth:`idle` (every update answered); TimeoutError after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.idle(chat_id):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"webhook delivery not idle within {timeout:g}s: "
                    f"{self.emulator.pending_updates} queued, {self.in_flight} in flight"
                )
            await self.emulator.wait_updates(remaining)

    def _available(self) -> bool:
        return bool(self.emulator.webhook["url"]) and bool(self.targets)

    def _limit(self) -> int:
        return int(self.emulator.webhook.get("max_connections") or 40)

    async def _run(self) -> None:
        while True:
            while self._available() and len(self._tasks) < self._limit():
                update = self.emulator.take_update(lambda queued: _chat_of(queued) in self._busy)
                if update is None:
                    break
                chat = _chat_of(update)
                if chat is not None:
                    self._busy[chat] = update["update_id"]
                task = asyncio.create_task(self._deliver(update, chat))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            await self.emulator.wait_updates(1.0)

    async def _deliver(self, update: dict[str, Any], chat: int | None) -> None:
        try:
            delay = self.retry_delay
            first = True
            while True:
                if not self._available():  # the webhook was deleted meanwhile: back in the queue
                    self.emulator.requeue(update)
                    return
                if not first:
                    self.stats.retries += 1
                first = False
                posts = [self._post(self._next_target(), update)]
                if self.random.random() < self.duplicate_rate:
                    self.stats.duplicates += 1
                    posts.append(self._post(self._next_target(), update))
                results = await asyncio.gather(*posts)
                if results[0]:
                    self.stats.delivered += 1
                    return
                await asyncio.sleep(delay)  # back-off before the retry, as Telegram does
                delay = min(self.max_retry_delay, delay * 2)
        finally:
            if chat is not None:
                self._busy.pop(chat, None)
            task = asyncio.current_task()
            if task is not None:
                self._tasks.discard(task)  # before waking: a waiter must see this one done
            self.emulator.wake_updates()

    async def _post(self, url: str, update: dict[str, Any]) -> bool:
        """POST one update to `url`; whether it was answered 200."""
        assert self._session is not None
        secret = self.emulator.webhook.get("secret_token")
        headers = {SECRET_HEADER: str(secret)} if secret else {}
        self.stats.posts += 1
        try:
            async with self._session.post(url, json=update, headers=headers) as response:
                status = response.status
                body = await response.read()
        except TimeoutError:
            self._failed("timeout", "Read timeout expired")
            return False
        except aiohttp.ClientError as error:
            self._failed("connection", f"Connection failed: {type(error).__name__}")
            return False
        if status != 200:
            if status in (401, 403):
                self.stats.refused_secret += 1
            reason = _REASONS.get(status, "")
            self._failed(
                str(status), f"Wrong response from the webhook: {status} {reason}".strip()
            )
            return False
        self.stats.by_target[url] += 1
        await self._answer_in_response(body)
        return True

    def _failed(self, cause: str, message: str) -> None:
        self.stats.failures[cause] += 1
        self.emulator.webhook_error = (int(time.time()), message)
        self.emulator.wake_updates()  # whoever watches the stats looks again

    async def _answer_in_response(self, body: bytes) -> None:
        await carry_out(self.emulator, body)


async def carry_out(emulator: Emulator, body: bytes) -> bool:
    """Carry out a Bot API call the bot put in its webhook answer, as Telegram does.

    True if there was one. Like Telegram, a call that fails is not reported to the bot.
    """
    if not body.strip():
        return False
    try:
        call = json.loads(body)
    except ValueError:
        return False
    if not isinstance(call, dict) or not isinstance(call.get("method"), str):
        return False
    params = {key: value for key, value in call.items() if key != "method"}
    with contextlib.suppress(NetworkFault):  # an error answer is not reported either
        await emulator.call(emulator.token, call["method"], params, {})
    return True


def _chat_of(update: dict[str, Any]) -> int | None:
    """The chat whose order an update keeps (its sender's for a chat-less update)."""
    for value in update.values():
        if isinstance(value, dict):
            message = value.get("message")
            if isinstance(message, dict) and "chat" in message:
                return int(message["chat"]["id"])
            if "chat" in value:
                return int(value["chat"]["id"])
            sender = value.get("from")
            if isinstance(sender, dict):
                return int(sender["id"])
    return None
