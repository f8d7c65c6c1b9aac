"""The bot and the emulator in one process, for flow tests and benchmarks.

Each simulated user's action is handed straight to `Application.process_update`, so when
`await alice.send(...)` returns the bot has finished answering: flow tests need no sleeps and
no polling. `restart()` throws the application away and builds a new one on the same database
and emulator, which is what a process restart looks like to a user.

Timed duties (scheduled broadcasts, campaign steps) never run here on their own: the
application is built with `autorun_jobs=False`, and a test runs them with `run_jobs()` at the
moment it chooses, after moving the stored times, as the timer would have.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import Update

from bot.app import OrtaqApp, build_application
from bot.config import Settings
from bot.features import FeatureRegister
from bot.ratelimit import VirtualClock
from bot.sandbox.emulator import Emulator
from bot.sandbox.request import EmulatorRequest
from bot.sandbox.users import SimulatedUser


class Harness:
    """Build, start and drive the real application against an in-process emulator."""

    def __init__(
        self,
        settings: Settings,
        emulator: Emulator | None = None,
        clock: VirtualClock | None = None,
        features: Sequence[FeatureRegister] | None = None,
    ):
        """Prepare a harness; use it as an async context manager.

        One virtual clock paces both the bot's outbound limiter and the emulator's flood
        limits, so tests cross Telegram's limits without waiting for real.
        """
        self.settings = settings
        self.features = features  # None: the bot's own features (handlers.FEATURES)
        self.clock = clock or VirtualClock()
        self.emulator = emulator or Emulator(clock=self.clock.now)
        self.app: OrtaqApp | None = None
        self.errors: list[BaseException] = []

    async def __aenter__(self) -> Harness:
        """Build and initialise the application, and run its start-up hook."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Shut the application down."""
        await self.stop()

    async def start(self) -> None:
        """Build a fresh application (as a new process would) and initialise it."""
        request = EmulatorRequest(self.emulator)
        app = build_application(
            self.settings,
            token=self.emulator.token,
            request=request,
            get_updates_request=EmulatorRequest(self.emulator),
            base_url=EmulatorRequest.BASE_URL,
            base_file_url=EmulatorRequest.BASE_FILE_URL,
            clock=self.clock,
            features=self.features,
            autorun_jobs=False,  # tests run the timed duties themselves: `run_jobs`
        )
        app.add_error_handler(self._record_error)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        self.app = app

    async def stop(self) -> None:
        """Shut the application down and run its shutdown hook."""
        if self.app is not None:
            if self.app.post_stop is not None:
                await self.app.post_stop(self.app)
            await self.app.shutdown()
            if self.app.post_shutdown is not None:
                await self.app.post_shutdown(self.app)
            self.app = None

    async def crash(self) -> None:
        """Stop as a killed process would: running tasks die wherever they are."""
        if self.app is not None and self.app.bot_data.broadcaster is not None:
            await self.app.bot_data.broadcaster.abort()
        await self.stop()

    async def run_jobs(self) -> None:
        """Run every timed duty once, as its timer would, and wait for what it started."""
        assert self.app is not None, "harness not started"
        await self.app.bot_data.jobs.run_all()
        if self.app.bot_data.broadcaster is not None:
            await self.app.bot_data.broadcaster.idle()

    async def restart(self) -> None:
        """Stop and start again: everything the bot remembers must come from the database."""
        await self.stop()
        await self.start()

    async def _record_error(self, update: object, context: Any) -> None:
        if context.error is not None:
            self.errors.append(context.error)

    async def deliver(self, update: dict[str, Any]) -> None:
        """Hand one update to the application and wait until it has been handled.

        That includes background work it started (see `bot.jobs.background`).

        It goes through the application's update processor, as in production, so the
        per-user ordering and the concurrency bound are part of every flow test.
        """
        assert self.app is not None, "harness not started"
        parsed = Update.de_json(update, self.app.bot)
        await self.app.update_processor.process_update(parsed, self.app.process_update(parsed))
        # Exports and analyses run in the background in production; a flow test sees their
        # outcome as the answer to the tap that started them.
        await self.app.bot_data.background.idle()

    def user(
        self, user_id: int, first_name: str = "Alice", language_code: str = "en"
    ) -> SimulatedUser:
        """A simulated Telegram user whose actions reach the bot at once."""
        return SimulatedUser(
            self.emulator, user_id, first_name, language_code, deliver=self.deliver
        )
