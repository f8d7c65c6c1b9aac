"""Failure modes of the sandbox Bot API: error answers, injected faults and rate limits.

:class:`ApiError` is how every emulated method fails (it becomes Telegram's
``{"ok": false, ...}`` body); :class:`NetworkFault` asks the transport adapter to fail below
HTTP. :class:`Faults` is the on-demand fault queue tests and benchmarks program
(``emulator.faults.add("sendMessage", kind="retry_after", retry_after=3)``), and
:class:`Limits` / :class:`RateLimiter` reproduce Telegram's flood control with token buckets on
an injectable clock, so tests can cross a limit without sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

__all__ = [
    "FAULT_KINDS",
    "ApiError",
    "Fault",
    "Faults",
    "Limits",
    "NetworkFault",
    "RateLimiter",
]

FAULT_KINDS = frozenset(
    {"retry_after", "server_error", "blocked", "chat_not_found", "latency", "network"}
)


class ApiError(Exception):
    """An unsuccessful Bot API answer: HTTP status, Telegram description, optional retry_after."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, object]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, object] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class NetworkFault(ConnectionError):
    """The request must fail below HTTP; adapters turn it into a dropped connection.

    In-process, :class:`bot.sandbox.request.EmulatorRequest` raises
    :class:`telegram.error.NetworkError`; over HTTP the server closes the socket without an
    answer. Raised before the method runs, so the call has no effect, like a request that never
    reached Telegram.
    """


def too_many_requests(retry_after: int) -> ApiError:
    """Return Telegram's flood-control answer."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


@dataclass(slots=True)
class Fault:
    """One programmed fault; fires on the next ``times`` matching calls (-1: until cleared)."""

    method: str | None
    kind: str
    times: int = 1
    retry_after: int = 1
    status: int = 500
    delay: float = 0.0
    chat_id: int | None = None
    fired: int = 0

    def matches(self, method: str, chat_id: object) -> bool:
        """Tell whether this fault applies to a call of ``method`` for ``chat_id``."""
        if self.method is not None and self.method != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self) -> ApiError:
        """Return the answer this fault produces (for kinds that answer with an error)."""
        if self.kind == "retry_after":
            return too_many_requests(self.retry_after)
        if self.kind == "blocked":
            return ApiError(403, "Forbidden: bot was blocked by the user")
        if self.kind == "chat_not_found":
            return ApiError(400, "Bad Request: chat not found")
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Internal Server Error"
        return ApiError(self.status, phrase)


@dataclass
class Faults:
    """The queue of programmed faults, consulted in order on every call."""

    pending: list[Fault] = field(default_factory=list)

    def add(
        self,
        method: str | None = None,
        *,
        kind: str,
        times: int = 1,
        retry_after: int = 1,
        status: int = 500,
        delay: float = 0.0,
        chat_id: int | None = None,
    ) -> Fault:
        """Program a fault for ``method`` (any method if None), optionally one chat only.

        ``kind`` is one of ``retry_after`` (429), ``server_error`` (``status``, 5xx),
        ``blocked`` (403), ``chat_not_found`` (400), ``latency`` (answer after ``delay``
        seconds) or ``network`` (connection failure). ``times=-1`` keeps it until
        :meth:`clear`.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if times == 0 or times < -1:
            raise ValueError("times must be positive, or -1 for a permanent fault")
        fault = Fault(
            method=method.lower() if method else None,
            kind=kind,
            times=times,
            retry_after=retry_after,
            status=status,
            delay=delay,
            chat_id=chat_id,
        )
        self.pending.append(fault)
        return fault

    def clear(self) -> None:
        """Forget every programmed fault."""
        self.pending.clear()

    def take(self, method: str, chat_id: object) -> Fault | None:
        """Consume one firing of the first fault matching this call, if any."""
        if not self.pending:
            return None
        for index, fault in enumerate(self.pending):
            if fault.matches(method, chat_id):
                fault.fired += 1
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        del self.pending[index]
                return fault
        return None

    def __len__(self) -> int:
        return len(self.pending)


@dataclass(frozen=True, slots=True)
class Limits:
    """Flood limits to enforce; None disables one. Telegram: ~30/s overall, ~1/s per chat.

    Bursts default to the rate (at least one message): a bucket holding a full second of
    traffic, which is how Telegram tolerates short bursts yet holds the average.
    """

    global_per_second: float | None = None
    per_chat_per_second: float | None = None
    global_burst: float | None = None
    per_chat_burst: float | None = None


class _Bucket:
    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def wait_time(self, now: float) -> float:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class RateLimiter:
    """Token buckets (one global, one per chat) deciding when to answer 429."""

    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self._global: _Bucket | None = None
        self._chats: dict[object, _Bucket] = {}

    def _bucket(self, rate: float, burst: float | None, now: float) -> _Bucket:
        return _Bucket(rate, burst if burst is not None else max(1.0, rate), now)

    def check(self, chat_id: object) -> None:
        """Take a token for one send to ``chat_id`` or raise the 429 Telegram would answer."""
        limits, now = self.limits, self.clock()
        buckets: list[_Bucket] = []
        if limits.global_per_second:
            if self._global is None:
                self._global = self._bucket(limits.global_per_second, limits.global_burst, now)
            buckets.append(self._global)
        if limits.per_chat_per_second and chat_id is not None:
            bucket = self._chats.get(chat_id)
            if bucket is None:
                bucket = self._bucket(limits.per_chat_per_second, limits.per_chat_burst, now)
                self._chats[chat_id] = bucket
            buckets.append(bucket)
        wait = max((bucket.wait_time(now) for bucket in buckets), default=0.0)
        if wait > 0:
            # A refused request consumes nothing, so a client that honours retry_after
            # gets through; Telegram reports whole seconds, rounded up.
            raise too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.tokens -= 1
