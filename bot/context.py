"""Typed callback context: how the database, settings and translator reach handlers.

`BotData` replaces PTB's `bot_data` dict so nothing is looked up by string key; the profile of
the user behind the update is loaded once, in handler group -1, and kept on the context.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot
from telegram.request import BaseRequest

from bot.chat_tail import ChatTail
from bot.i18n import pick_language
from bot.jobs.background import Background
from bot.jobs.duties import Jobs

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.config import Settings
    from bot.db import Sessionmaker
    from bot.features import Features
    from bot.gateway import Gateway
    from bot.i18n import I18n, Translator
    from bot.jobs.broadcasts import Broadcaster
    from bot.metrics import Metrics
    from bot.replicas import UpdateGuard
    from bot.services.users import Profile


@dataclass
class BotData:
    """Everything the composition root wires once; filled in by `build_application`."""

    settings: Settings | None = None
    engine: AsyncEngine | None = None
    db: Sessionmaker | None = None
    i18n: I18n | None = None
    gateway: Gateway | None = None
    broadcaster: Broadcaster | None = None
    background: Background = field(default_factory=Background)
    jobs: Jobs = field(default_factory=Jobs)  # timed duties (bot.jobs.start_jobs)
    features: Features | None = None
    metrics: Metrics | None = None  # this application's Prometheus metrics (bot.metrics)
    # The Bot API transports built here (not PTB's own), closed by `close_transports` when the
    # start fails before PTB could shut them down.
    transports: tuple[BaseRequest, ...] = ()
    update_guard: UpdateGuard | None = None  # each update once, in turn across replicas
    chat_tail: ChatTail = field(default_factory=ChatTail)  # the newest message in each chat
    warming: asyncio.Task[int] | None = None  # the chart workers starting (chart_pool.warm)
    # Monotonic time of the last error report per admin, for rate limiting.
    admin_alerts: dict[int, float] = field(default_factory=dict)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every handler receives."""

    profile: Profile | None = None

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ):
        """Create the context (PTB calls this once per update)."""
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.profile = None

    @property
    def settings(self) -> Settings:
        """The bot's settings."""
        assert self.bot_data.settings is not None
        return self.bot_data.settings

    @property
    def db(self) -> Sessionmaker:
        """The session factory services take."""
        assert self.bot_data.db is not None
        return self.bot_data.db

    @property
    def broadcaster(self) -> Broadcaster:
        """Runs broadcasts."""
        assert self.bot_data.broadcaster is not None
        return self.bot_data.broadcaster

    @property
    def features(self) -> Features:
        """What the features registered: routes, actions, menu and help entries."""
        assert self.bot_data.features is not None
        return self.bot_data.features

    @property
    def background(self) -> Background:
        """Long work started from chat (exports, analyses)."""
        return self.bot_data.background

    @property
    def jobs(self) -> Jobs:
        """Timed duties: run one now when a user's action made something due."""
        return self.bot_data.jobs

    @property
    def admin_ids(self) -> frozenset[int]:
        """Telegram ids of admins from `ADMIN_IDS`."""
        return self.settings.admin_ids

    @property
    def t(self) -> Translator:
        """The translator in the language of the user behind the update."""
        assert self.bot_data.i18n is not None
        language = None
        if self.profile is not None:
            # Before the user picks a language, speak the one their Telegram app uses.
            language = self.profile.language or pick_language(
                self.profile.telegram_language, self.settings.default_language
            )
        return self.bot_data.i18n.translator(language)

    @property
    def i18n(self) -> I18n:
        """All catalogs."""
        assert self.bot_data.i18n is not None
        return self.bot_data.i18n


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
