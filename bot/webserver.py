"""The bot's HTTP side: Telegram's webhook, `/healthz` and `/metrics` (aiohttp.web).

`BOT_MODE=webhook`: `serve` starts the application, listens on `WEBHOOK_LISTEN`, then calls
`setWebhook` (the URL, the secret, the same allowed update types polling asks for, pending
updates kept). A POST to the path of `WEBHOOK_URL` must carry the secret in
`X-Telegram-Bot-Api-Secret-Token` (compared in constant time): without it 401, a wrong one
403, and the body is not read. The update is handled inside the request, through the
application's update processor (`bot.concurrency`: the concurrency bound and each user's
order), and the request is answered 200 only once it has been handled: a replica that dies
mid-update never acknowledged it, so Telegram delivers it again. An update whose handler
failed is still acknowledged (the error handler told the user and the admins; a redelivery
would fail the same way). Callback queries are answered with `answerCallbackQuery` as in
polling, not in the webhook response. `deleteWebhook` is never called on stop: the other
replicas keep receiving.

`/healthz` (JSON): the database answers `SELECT 1`, its Alembic revision against the code's head,
the outbox's pending deliveries, the time this process last handled an update. 200 when the
database answers and is at head (or ahead: a newer release's replicas migrated it, see
`migration_state`), else 503; the backlog and the last update are for the
operator to read and alert on (a quiet night has no updates; a broadcast is a backlog).

`/metrics`: Prometheus text of this application's registry (`bot.metrics`); the outbox gauge
is counted in the database at each scrape.

In polling mode `serve` runs the same application with `/healthz` and `/metrics` on
`HEALTH_LISTEN`; `python -m bot` uses PTB's own `run_polling` when that is not set.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from telegram import Update

from bot import answer_in_response
from bot.app import OrtaqApp
from bot.config import Settings, split_listen
from bot.db import alembic_config
from bot.lean_updates import lean
from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from models.broadcast import Delivery

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram posts one update of at most a few kilobytes; refuse anything far larger unread.
MAX_BODY = 1024 * 1024
# A health check that waits longer than this on the database reports it unreachable.
HEALTH_TIMEOUT = 5.0
# Deliveries not sent yet: waiting for a slot, or claimed and on their way.
UNSENT = ("pending", "sending")


def code_revisions(database_url: str) -> tuple[frozenset[str], frozenset[str]]:
    """The code's Alembic head(s) and every revision it knows (reads the scripts; blocking)."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    known = frozenset(rev.revision for rev in script.walk_revisions())
    return frozenset(script.get_heads()), known


def migration_state(current: frozenset[str], heads: frozenset[str], known: frozenset[str]) -> str:
    """`at head`, `ahead` (a newer release migrated it: fine while replicas roll) or `behind`.

    Ahead is healthy by the expand/contract rule (docs/deploy.md): a migration only adds what
    the previous release can ignore, so the old replicas keep serving while the new ones
    start. Behind (or never migrated) is not: this code needs tables or columns not there yet.
    """
    if current == heads:
        return "at head"
    if current and not current <= known:
        return "ahead"
    return "behind"


class WebServer:
    """The webhook and/or the health endpoints of one application, on one address."""

    def __init__(
        self,
        app: OrtaqApp,
        *,
        webhook_path: str | None = None,
        secret: str | None = None,
        health: bool = True,
    ):
        """Serve the webhook at `webhook_path` (checked against `secret`), and health if asked.

        A webhook path needs a secret: an open webhook would let anyone act as any user.
        """
        if webhook_path is not None and not secret:
            raise ValueError("a webhook needs its secret")
        self.app = app
        self.webhook_path = webhook_path
        self.secret = secret.encode() if secret else b""
        self.health = health
        self.url: str | None = None
        self._runner: web.AppRunner | None = None
        self._revisions: tuple[frozenset[str], frozenset[str]] | None = None

    @property
    def metrics(self) -> Metrics:
        """The application's metrics."""
        assert self.app.bot_data.metrics is not None, "built by bot.app.build_application"
        return self.app.bot_data.metrics

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on `host:port` (0: a free port); return the base URL (http://host:port)."""
        web_app = web.Application(client_max_size=MAX_BODY)
        if self.webhook_path is not None:
            web_app.router.add_post(self.webhook_path, self._webhook)
        if self.health:
            web_app.router.add_get("/healthz", self._healthz)
            web_app.router.add_get("/metrics", self._metrics)
        # shutdown_timeout: on stop, updates being handled get this long to finish.
        runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=30.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        logger.info("listening on %s (%s)", self.url, self._what())
        return self.url

    def _what(self) -> str:
        parts = [f"webhook {self.webhook_path}"] if self.webhook_path is not None else []
        return ", ".join([*parts, *(["/healthz", "/metrics"] if self.health else [])])

    async def stop(self) -> None:
        """Stop listening; requests in flight (updates being handled) finish first."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        self.url = None

    # --- the webhook ---

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return web.Response(status=401, text="secret token missing")
        if not hmac.compare_digest(given.encode(), self.secret):
            return web.Response(status=403, text="wrong secret token")
        try:
            data = await request.json()
            lean(data)  # a survey button's page: what its handlers never read (bot.lean_updates)
            update = Update.de_json(data, self.app.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            return web.Response(status=400, text="not an update")
        app = self.app
        # Like polling: the processor keeps each user's order and bounds the concurrency.
        with answer_in_response.answering(update) as slot:
            await app.update_processor.process_update(update, app.process_update(update))
            call = answer_in_response.body(slot)
        if call is None:
            return web.Response(status=200)
        self.metrics.answered_in_response()
        return web.json_response(call)

    # --- health ---

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, the report /healthz answers with)."""
        data = self.app.bot_data
        assert data.engine is not None and data.settings is not None
        report: dict[str, Any] = {"database": "unreachable", "migrations": "unknown"}
        healthy = False
        if self._revisions is None:
            self._revisions = await asyncio.to_thread(code_revisions, data.settings.database_url)
        heads, known = self._revisions
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT), data.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                report["database"] = "ok"
                pending = await conn.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.state.in_(UNSENT))
                )
                report["outbox_pending"] = int(pending or 0)
                self.metrics.outbox_pending.set(report["outbox_pending"])
                # Last: on PostgreSQL a failed statement ends the transaction.
                try:
                    current = frozenset(
                        await conn.scalars(text("SELECT version_num FROM alembic_version"))
                    )
                except Exception:  # noqa: BLE001 - no alembic_version table: never migrated
                    current = frozenset()
                report["revision"] = sorted(current)
                report["head"] = sorted(heads)
                report["migrations"] = migration_state(current, heads, known)
                healthy = report["migrations"] != "behind"
        except Exception as exc:  # noqa: BLE001 - whatever the database did, report it
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            report["error"] = f"{type(exc).__name__}: {first}".rstrip(": ")
        last = self.metrics.last_update_at
        report["last_update_at"] = (
            datetime.fromtimestamp(last, UTC).isoformat(timespec="seconds") if last else None
        )
        report["last_update_age_seconds"] = round(time.time() - last, 1) if last else None
        report["status"] = "ok" if healthy else "unhealthy"
        return healthy, report

    async def _healthz(self, request: web.Request) -> web.StreamResponse:
        healthy, report = await self.check()
        return web.Response(
            status=200 if healthy else 503,
            text=json.dumps(report, ensure_ascii=False),
            content_type="application/json",
        )

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        await self._count_outbox()
        body = self.metrics.render()
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def _count_outbox(self) -> None:
        db = self.app.bot_data.db
        assert db is not None
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT), db() as session:
                pending = await session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.state.in_(UNSENT))
                )
        except Exception:  # the scrape still answers; /healthz says why
            logger.warning("metrics: could not count the outbox", exc_info=True)
            return
        self.metrics.outbox_pending.set(int(pending or 0))


async def serve(settings: Settings, app: OrtaqApp, stop: asyncio.Event | None = None) -> None:
    """Run `app` until `stop` is set (or SIGINT/SIGTERM): webhook or polling, with health.

    Start-up order: the application (and its timed duties), then the listener, then
    `setWebhook`, so that Telegram's first post finds someone listening. Stop order: the
    listener (updates in flight finish), then the application. Errors at start-up (a bad
    token, the Bot API unreachable, the address taken) propagate to the caller.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    webhook = settings.bot_mode == "webhook"
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    servers: list[WebServer] = []
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        try:
            if webhook:
                hook = WebServer(
                    app,
                    webhook_path=settings.webhook_path,
                    secret=secret,
                    health=settings.health_listen is None,
                )
                servers.append(hook)
                await hook.start(*split_listen(settings.webhook_listen))
            if settings.health_listen is not None:
                health = WebServer(app)
                servers.append(health)
                await health.start(*split_listen(settings.health_listen))
            if webhook:
                await app.bot.set_webhook(
                    settings.webhook_url or "",
                    secret_token=secret,
                    allowed_updates=Update.ALL_TYPES,
                    drop_pending_updates=False,
                )
                logger.info("webhook set: %s", settings.webhook_url)
            else:
                assert app.updater is not None
                await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            await stop.wait()
            logger.info("stopping")
        finally:
            for server in servers:
                await server.stop()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
