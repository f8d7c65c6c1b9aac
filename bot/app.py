"""The composition root: the only place that knows every piece and wires them together.

`python -m bot`, the tests, the console sandbox and the benchmarks all build the bot here.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Sequence
from typing import Any

from telegram import BotCommand
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

import handlers
from bot.chat_tail import ChatTail
from bot.concurrency import PerUserUpdateProcessor
from bot.config import LANGUAGES, Settings
from bot.context import CONTEXT_TYPES, BotData
from bot.db import create_engine, make_sessionmaker
from bot.errors import handle_error
from bot.features import FeatureRegister
from bot.floodguard import FloodGuard
from bot.gateway import Gateway
from bot.i18n import I18n
from bot.jobs import Jobs, start_jobs
from bot.jobs.broadcasts import Broadcaster
from bot.lean_updates import LeanUpdates
from bot.metrics import Metrics
from bot.ratelimit import Clock, RateLimiter
from bot.replicas import UpdateGuard
from bot.services import chart_pool
from bot.services.content import load_defaults_if_empty
from bot.transport import build_request

logger = logging.getLogger(__name__)

OrtaqApp = Application[Any, Any, Any, Any, BotData, Any]


def build_application(
    settings: Settings,
    *,
    token: str | None = None,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    base_url: str | None = None,
    base_file_url: str | None = None,
    clock: Clock | None = None,
    features: Sequence[FeatureRegister] | None = None,
    autorun_jobs: bool = True,
) -> OrtaqApp:
    """Build the bot: settings, database, i18n, handlers, error handler, start-up hooks.

    Args:
        settings: the configuration.
        token: overrides `settings.bot_token` (the sandbox passes the emulator's token).
        request: a custom request for API calls (the in-process emulator plugs in here).
        get_updates_request: a custom request for getUpdates (defaults to `request`).
        base_url: overrides the API root derived from `BOT_API_URL`.
        base_file_url: overrides the file root derived from `BOT_API_URL`.
        clock: paces outbound messages (tests pass a virtual clock).
        features: the features to register (default `handlers.FEATURES`; tests add toys).
        autorun_jobs: run the timed duties on their timers; tests pass False and run them
            themselves (`bot.jobs.Jobs.run_all`), so nothing happens behind their back.
    """
    bot_token = token or (settings.bot_token.get_secret_value() if settings.bot_token else None)
    if not bot_token:
        raise ValueError("a bot token is needed (BOT_TOKEN, or the sandbox's)")
    limiter = RateLimiter(settings.broadcast_rate, settings.broadcast_chat_rate, clock)
    metrics = Metrics()  # a registry per application: tests build many in one process
    tail = ChatTail()  # the newest message sent to each chat (bot.chat_tail)
    processor = PerUserUpdateProcessor(settings.max_concurrent_updates, metrics)
    builder = (
        ApplicationBuilder()
        .token(bot_token)
        .base_url(base_url or settings.api_base_url)
        .base_file_url(base_file_url or settings.api_base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(processor)
        .rate_limiter(FloodGuard(limiter, metrics=metrics, tail=tail))
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
    )
    built: tuple[BaseRequest, ...] = ()
    if request is not None:
        polling = get_updates_request or request
        builder = builder.request(request).get_updates_request(LeanUpdates(polling))
    else:
        # The transport named by BOT_API_TRANSPORT, with PTB's pool sizes: room for every
        # update in flight and the broadcast workers, and one connection for the long poll,
        # whose answers are leaned (bot.lean_updates).
        pool = max(256, 4 * settings.max_concurrent_updates)
        built = (
            build_request(settings.bot_api_transport, connection_pool_size=pool),
            build_request(settings.bot_api_transport, connection_pool_size=1),
        )
        builder = builder.request(built[0]).get_updates_request(LeanUpdates(built[1]))
    app: OrtaqApp = builder.build()
    app.bot_data.transports = built
    app.bot_data.chat_tail = tail
    engine = create_engine(settings.database_url)
    data = app.bot_data
    data.settings = settings
    data.engine = engine
    data.db = make_sessionmaker(engine)
    data.update_guard = processor.guard = UpdateGuard(
        data.db, engine, settings.max_concurrent_updates
    )
    data.i18n = I18n(settings.default_language)
    data.metrics = metrics
    data.gateway = Gateway(app.bot, limiter, metrics=metrics)
    data.broadcaster = Broadcaster(data.gateway, data.db, data.i18n, settings)
    data.jobs = Jobs(autorun=autorun_jobs, metrics=metrics)
    # Charts go to worker processes, started at the first chart and stopped with the bot.
    chart_pool.configure(settings.chart_workers)
    data.features = handlers.register(app, tuple(features or handlers.FEATURES))
    app.add_error_handler(handle_error)
    return app


async def on_startup(app: OrtaqApp) -> None:
    """Load default content, set the menus, start the timed duties (before polling starts)."""
    assert app.bot_data.db is not None
    await load_defaults_if_empty(app.bot_data.db)
    # matplotlib takes about a second to import: do it now, off the event loop, rather than
    # when the first student submits a survey and everyone waits for it.
    await asyncio.to_thread(importlib.import_module, "bot.services.charts")
    # The chart workers start in the background, so the first Submits do not wait for them.
    app.bot_data.warming = asyncio.create_task(chart_pool.warm(), name="chart-workers")
    await set_command_menus(app)
    await start_jobs(app)
    logger.info("bot @%s is up", app.bot.username)


async def set_command_menus(app: OrtaqApp) -> None:
    """Register the command menu per language, and the default language's for everyone else."""
    i18n = app.bot_data.i18n
    settings = app.bot_data.settings
    assert i18n is not None and settings is not None and app.bot_data.features is not None
    menu = app.bot_data.features.menu_commands
    try:
        for language in LANGUAGES:
            t = i18n.translator(language)
            commands = [BotCommand(c, t.plain(f"commands.{c}")) for c in menu]
            await app.bot.set_my_commands(commands, language_code=language)
        t = i18n.translator(settings.default_language)
        await app.bot.set_my_commands([BotCommand(c, t.plain(f"commands.{c}")) for c in menu])
    except TelegramError:
        # A menu is a convenience: the bot still works without it.
        logger.warning("could not set the command menus", exc_info=True)


async def on_stop(app: OrtaqApp) -> None:
    """Let in-flight broadcast sends finish and record while the HTTP client is still open."""
    await app.bot_data.jobs.stop()
    if app.bot_data.broadcaster is not None:
        await app.bot_data.broadcaster.stop()
    await app.bot_data.background.stop()
    warming, app.bot_data.warming = app.bot_data.warming, None
    if warming is not None:
        await asyncio.gather(warming, return_exceptions=True)  # then the pool can be ended
    await chart_pool.shutdown()


async def on_shutdown(app: OrtaqApp) -> None:
    """Stop broadcasting if `on_stop` did not run, then close the database."""
    await on_stop(app)
    if app.bot_data.update_guard is not None:
        await app.bot_data.update_guard.dispose()
    if app.bot_data.engine is not None:
        await app.bot_data.engine.dispose()
