"""Prometheus metrics of one application, served as text on `/metrics` (`bot.webserver`).

Each application has its own `CollectorRegistry` (`Metrics.registry`), never the library's
global one: tests and benchmarks build many applications in one process, and each counts only
its own. The pieces that count get the `Metrics` object from the composition root
(`bot.app.build_application`):

- `bot.concurrency.PerUserUpdateProcessor`: updates handled by kind, handler latency, the time
  of the last update handled;
- `bot.floodguard.FloodGuard`, which every Bot API request passes (direct replies and the
  gateway's sends alike): calls and errors by method, 429 answers;
- `bot.gateway.Gateway`: messages the bot sent on its own, by outcome;
- `bot.jobs.duties.Jobs`: timed duties' passes, rows found due and taken, late ticks;
- the outbox's pending deliveries are counted in the database at each scrape
  (`bot.webserver`), so every replica reports the same shared backlog.

Names follow Prometheus' conventions: `ortaq_` prefix, `_total` for counters, base units
(seconds). `docs/deploy.md` lists them with the alerts built on them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from telegram import Update

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "update_kind"]

# Handler latency buckets, in seconds: a reply is expected well under a second; exports and
# analyses run in the background and do not count here.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DUTY_BUCKETS = (0.05, 0.25, 1.0, 5.0, 15.0, 60.0, 300.0)
_KINDS = tuple(str(kind) for kind in Update.ALL_TYPES)


def update_kind(update: object) -> str:
    """The kind of an update as Telegram names it (`message`, `callback_query`, ...)."""
    if isinstance(update, Update):
        for kind in _KINDS:
            if getattr(update, kind, None) is not None:
                return kind
        return "other"
    return type(update).__name__.lower()


class Metrics:
    """The counters, histograms and gauges of one application, in a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None):
        """Create every metric in `registry` (a new one by default)."""
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter(
            "ortaq_updates_handled", "Updates handled, by kind", ["kind"], registry=r
        )
        self.update_seconds = Histogram(
            "ortaq_update_handling_seconds",
            "Time to handle one update (after waiting for the user's earlier updates)",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.last_update = Gauge(
            "ortaq_last_update_handled_timestamp_seconds",
            "Unix time the last update was handled by this process (0: none yet)",
            registry=r,
        )
        self.api_calls = Counter(
            "ortaq_bot_api_calls", "Bot API requests made, by method", ["method"], registry=r
        )
        self.in_response = Counter(
            "ortaq_bot_api_answers_in_response",
            "Button presses answered in the webhook response instead of a request",
            registry=r,
        )
        self.api_errors = Counter(
            "ortaq_bot_api_errors",
            "Bot API requests that failed, by method and error class",
            ["method", "error"],
            registry=r,
        )
        self.flood_waits = Counter(
            "ortaq_bot_api_flood_waits",
            "429 answers (RetryAfter) from the Bot API, by method",
            ["method"],
            registry=r,
        )
        self.messages = Counter(
            "ortaq_outbound_messages",
            "Messages the bot sent on its own (broadcasts, reminders, lessons), by outcome "
            "(sent, blocked, chat_not_found, failed, uncertain)",
            ["outcome"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "ortaq_outbox_pending",
            "Deliveries of the outbox not sent yet (pending or being sent), at scrape time",
            registry=r,
        )
        self.duty_passes = Counter(
            "ortaq_duty_passes",
            "Passes of each timed duty, by outcome",
            ["duty", "outcome"],
            registry=r,
        )
        self.duty_seconds = Histogram(
            "ortaq_duty_pass_seconds",
            "Time one pass of a timed duty took",
            ["duty"],
            buckets=DUTY_BUCKETS,
            registry=r,
        )
        self.duty_last_pass = Gauge(
            "ortaq_duty_last_pass_timestamp_seconds",
            "Unix time the last pass of each timed duty ended in this process",
            ["duty"],
            registry=r,
        )
        self.duty_late = Counter(
            "ortaq_duty_late_ticks",
            "Timer ticks that found the duty's previous pass still running (falling behind)",
            ["duty"],
            registry=r,
        )
        self.rows_due = Counter(
            "ortaq_duty_rows_due",
            "Due rows a pass found (bot.services.due.run_due), by table",
            ["table"],
            registry=r,
        )
        self.rows_done = Counter(
            "ortaq_duty_rows_done",
            "Due rows a pass took and settled in this process, by table",
            ["table"],
            registry=r,
        )
        self.last_update.set(0)
        # Unix time of the last update handled, or None before the first (for /healthz).
        self.last_update_at: float | None = None

    # --- updates ---

    @contextmanager
    def handling(self, update: object) -> Iterator[None]:
        """Count one update and time its handling (the `with` block)."""
        kind = update_kind(update)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.update_seconds.labels(kind).observe(time.perf_counter() - start)
            self.updates.labels(kind).inc()
            self.last_update_at = time.time()
            self.last_update.set(self.last_update_at)

    # --- Bot API ---

    def api_call(self, method: str) -> None:
        """One Bot API request left for `method`."""
        self.api_calls.labels(method).inc()

    def answered_in_response(self) -> None:
        """A button press answered in the webhook response, not by a request."""
        self.in_response.inc()

    def api_error(self, method: str, error: BaseException) -> None:
        """A request for `method` failed with `error`; a 429 is also counted as a flood wait."""
        name = type(error).__name__
        self.api_errors.labels(method, name).inc()
        if name == "RetryAfter":
            self.flood_waits.labels(method).inc()

    def sent(self, outcome: str) -> None:
        """One message the bot sent on its own ended as `outcome`."""
        self.messages.labels(outcome).inc()

    # --- timed duties ---

    def duty_pass(self, duty: str, seconds: float, *, failed: bool) -> None:
        """A pass of `duty` ended after `seconds`."""
        self.duty_passes.labels(duty, "failed" if failed else "ok").inc()
        self.duty_seconds.labels(duty).observe(seconds)
        self.duty_last_pass.labels(duty).set(time.time())

    def duty_tick_late(self, duty: str) -> None:
        """A timer tick of `duty` found its previous pass still running."""
        self.duty_late.labels(duty).inc()

    def due_rows(self, table: str, found: int, done: int) -> None:
        """A `run_due` pass over `table` found `found` rows due and settled `done` of them."""
        if found:
            self.rows_due.labels(table).inc(found)
        if done:
            self.rows_done.labels(table).inc(done)

    # --- exposition ---

    def render(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)
