"""Runs broadcasts: workers draining the outbox through the gateway, progress, scheduling.

A broadcast runs as one asyncio task with a few workers. Each worker claims one delivery,
sends it, records the result, and claims the next; the limiter paces them, so there are only
enough workers to keep Telegram's 30 messages/s flowing despite network latency. The sender's
progress message is edited every few seconds with one query of counts; the final report
replaces it. On start-up `resume` settles interrupted deliveries and restarts what was
running, so a restart continues every broadcast where it stopped.

Scheduled broadcasts are a timed duty (`duty`, started by `bot.jobs.start_jobs`): each pass
moves the scheduled broadcasts whose time has come to sending, each exactly once
(`bot.services.broadcasts.start_due`), and starts them. The pass runs on a timer, and also at
each broadcast's own time (`Jobs.wake`), so it leaves on the minute it was scheduled for.

With several replicas, a broadcast is sent by the process that started it; when that process
is killed, the orphans duty (`orphans_duty`) of the others settles its claimed deliveries as
unconfirmed and sends the rest (`bot.services.broadcasts.adopt_orphans`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import keyboards as kb
from bot.callbacks import BroadcastCancel, BroadcastFailures
from bot.gateway import Gateway, Outcome, Outgoing, SendResult
from bot.i18n import I18n, Translator, pick_language
from bot.jobs.duties import Duty
from bot.services import NotFound
from bot.services import broadcasts as svc
from bot.services import users as user_service
from bot.services.broadcast_content import Content
from bot.services.broadcasts import BroadcastView, DeliveryState, State

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.context import BotData
    from bot.db import Sessionmaker

logger = logging.getLogger(__name__)

WORKERS = 16
PROGRESS_INTERVAL = 3.0
WORKER_BACKOFF = 1.0
# Scheduled broadcasts are also woken at their own time: the timer only catches what a wake-up
# missed (one scheduled on another replica, a wake-up lost to a restart).
SCHEDULED = "scheduled-broadcasts"
SCHEDULED_EVERY = 60.0
# Broadcasts a killed replica was sending: the other replicas take them over.
ORPHANS = "orphaned-broadcasts"
ORPHANS_EVERY = 60.0

_STATE_OF: dict[Outcome, DeliveryState] = {
    Outcome.SENT: DeliveryState.SENT,
    Outcome.BLOCKED: DeliveryState.SKIPPED,
    Outcome.CHAT_NOT_FOUND: DeliveryState.SKIPPED,
    Outcome.FAILED: DeliveryState.FAILED,
    Outcome.UNCERTAIN: DeliveryState.UNCERTAIN,
}


def link_buttons(
    content: Content, language: str = "en", default: str = "en"
) -> InlineKeyboardMarkup | None:
    """The buttons under a broadcast message, labelled in the recipient's language."""
    if not content.buttons:
        return None
    rows = []
    for b in content.buttons:
        label = b.label_for(language, default)
        if b.url:
            rows.append([InlineKeyboardButton(label, url=b.url)])
        else:
            rows.append([InlineKeyboardButton(label, callback_data=b.data)])
    return InlineKeyboardMarkup(rows)


def outgoing(content: Content, chat_id: int, language: str, default_language: str) -> Outgoing:
    """The message one recipient gets, in their language when the content has it."""
    return Outgoing(
        chat_id=chat_id,
        kind=content.kind,
        text=content.text_for(language, default_language),
        file_id=content.file_id,
        reply_markup=link_buttons(content, language, default_language),
    )


def personal_outgoing(payload: dict[str, Any], chat_id: int) -> Outgoing:
    """A recipient's own message (a delivery with a payload: a lesson, a nudge)."""
    rows = [
        [
            InlineKeyboardButton(b["label"], url=b["url"])
            if b.get("url")
            else InlineKeyboardButton(b["label"], callback_data=b["data"])
        ]
        for b in payload.get("buttons") or []
    ]
    return Outgoing(
        chat_id=chat_id,
        text=payload.get("text") or "",
        reply_markup=InlineKeyboardMarkup(rows) if rows else None,
    )


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render_progress(view: BroadcastView, t: Translator) -> tuple[str, InlineKeyboardMarkup | None]:
    """The sender's progress or final report, with its buttons."""
    counts = view.counts
    sent = counts.get("sent", 0)
    failed = counts.get("failed", 0)
    skipped = counts.get("skipped", 0)
    uncertain = counts.get("uncertain", 0)
    now = datetime.now(UTC)
    elapsed = (now - view.started_at).total_seconds() if view.started_at else 0.0
    rate = sent / elapsed if elapsed > 0 else 0.0
    values = {
        "id": view.id,
        "sent": sent,
        "failed": failed,
        "skipped": skipped,
        "uncertain": uncertain,
        "remaining": view.remaining,
        "total": view.total,
        "rate": f"{rate:.1f}",
        "eta": _duration(view.remaining / rate) if rate > 0 else "—",
        "duration": _duration(((view.finished_at or now) - view.started_at).total_seconds())
        if view.started_at
        else "—",
    }
    problems = failed + skipped + uncertain
    if view.state is State.SENDING:
        cancel = kb.rows(
            [kb.button(t.plain("broadcasts.cancel"), BroadcastCancel(view.id).pack())]
        )
        return t("broadcasts.progress", **values), cancel
    key = "broadcasts.cancelled_report" if view.state is State.CANCELLED else "broadcasts.done"
    failures = kb.rows(
        [kb.button(t.plain("broadcasts.failures_file"), BroadcastFailures(view.id).pack())]
    )
    return t(key, **values), failures if problems else None


class Broadcaster:
    """Starts, resumes, stops and reports the broadcasts of one application."""

    def __init__(
        self,
        gateway: Gateway,
        db: Sessionmaker,
        i18n: I18n,
        settings: Settings,
        *,
        workers: int = WORKERS,
        progress_interval: float = PROGRESS_INTERVAL,
    ):
        """Send through `gateway`, keeping the outbox in `db`."""
        self.gateway = gateway
        self.db = db
        self.i18n = i18n
        self.settings = settings
        self.workers = workers
        self.progress_interval = progress_interval
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self._stopping = False

    # --- life cycle ------------------------------------------------------------------------

    async def resume(self) -> list[datetime]:
        """At start-up: settle interrupted deliveries, resume sending broadcasts.

        Returns:
            the times of the scheduled broadcasts, for their wake-ups (`Jobs.wake`).
        """
        sending, scheduled = await svc.recover(self.db)
        for broadcast_id in sending:
            logger.info("resuming broadcast %s", broadcast_id)
            self.start(broadcast_id)
        return [at for _, at in scheduled]

    async def adopt_orphans(self) -> None:
        """Send the broadcasts a killed replica left (the orphans duty's pass)."""
        for broadcast_id in await svc.adopt_orphans(self.db):
            logger.info("broadcast %s: taken over from a replica that stopped", broadcast_id)
            self.start(broadcast_id)

    async def start_due(self) -> None:
        """Start every scheduled broadcast whose time has come (the scheduled duty's pass)."""
        for broadcast_id in await svc.start_due(self.db):
            # Started first: the broadcast is "sending" now, and a pass never takes it again,
            # so a failing progress report must not leave it without a task until a restart.
            self.start(broadcast_id)
            try:
                await self.report(broadcast_id)
            except Exception:  # the report is a convenience; the sending goes on
                logger.exception("broadcast %s: progress report failed", broadcast_id)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming; let in-flight sends finish and record, then cancel what is left."""
        self._stopping = True
        tasks = [task for task in self.tasks.values() if not task.done()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def abort(self) -> None:
        """Stop at once, as a killed process would: sends die wherever they are, unrecorded.

        For tests of crash recovery (the harness's `crash`); a real stop is `stop`.
        """
        self._stopping = True
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def start(self, broadcast_id: int) -> None:
        """Run the broadcast unless it is already running in this process."""
        task = self.tasks.get(broadcast_id)
        if self._stopping or (task is not None and not task.done()):
            return
        self.tasks[broadcast_id] = asyncio.create_task(
            self._run(broadcast_id), name=f"broadcast:{broadcast_id}"
        )

    async def wait(self, broadcast_id: int) -> None:
        """Wait until the broadcast's task ends (tests and the CLI)."""
        task = self.tasks.get(broadcast_id)
        if task is not None:
            await task

    async def idle(self) -> None:
        """Wait until no broadcast runs in this process (tests, after running the duties)."""
        while running := [task for task in self.tasks.values() if not task.done()]:
            await asyncio.gather(*running)

    # --- sending ---------------------------------------------------------------------------

    async def _run(self, broadcast_id: int) -> None:
        view = await svc.get(self.db, broadcast_id)
        if view is None or view.content is None:
            return
        # A broadcast the bot sends on its own (lessons, reminders) has nobody watching it.
        progress = (
            asyncio.create_task(self._progress_loop(broadcast_id))
            if view.progress_chat_id is not None
            else None
        )
        # Each worker waits for a global send slot before it claims a delivery: more workers
        # than deliveries would book slots nobody uses (a one-person lesson message took 16),
        # and thousands of such small broadcasts would crawl far below the gateway's rate.
        workers = max(1, min(self.workers, view.remaining))
        try:
            await asyncio.gather(
                *(self._worker(broadcast_id, view.content) for _ in range(workers))
            )
        finally:
            if progress is not None:
                progress.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await progress
        if self._stopping:
            return
        await svc.finish_if_done(self.db, broadcast_id)
        if view.progress_chat_id is not None:
            await self.report(broadcast_id)

    async def _worker(self, broadcast_id: int, content: Content) -> None:
        default = self.settings.default_language
        while not self._stopping:
            # Wait for a send slot *before* claiming: a claimed delivery then leaves at once,
            # which keeps the crash window (claimed, not yet sent) to a few milliseconds.
            await self.gateway.wait_slot()
            if self._stopping:
                return
            try:
                task = await svc.claim_next(self.db, broadcast_id)
                if task is None:
                    return
                message = (
                    personal_outgoing(task.payload, task.chat_id)
                    if task.payload is not None
                    else outgoing(content, task.chat_id, task.language, default)
                )
                result = await self.gateway.send(message, holds_slot=True)
                await self._record(task.delivery_id, result)
            except asyncio.CancelledError:
                raise
            except Exception:
                # One failure (a locked database, an unexpected answer) must not orphan the
                # broadcast: log it and go on; a delivery left "sending" is settled on restart.
                logger.exception("broadcast %s: a send failed unexpectedly", broadcast_id)
                await asyncio.sleep(WORKER_BACKOFF)

    async def _record(self, delivery_id: int, result: SendResult) -> None:
        await svc.record(
            self.db,
            delivery_id,
            _STATE_OF[result.outcome],
            message_id=result.message_id,
            error=result.error,
            unreachable=result.unreachable,
        )

    # --- progress --------------------------------------------------------------------------

    async def _progress_loop(self, broadcast_id: int) -> None:
        # Real seconds on purpose: the report is for a person watching, whatever the clock.
        while True:
            await asyncio.sleep(self.progress_interval)
            await self.report(broadcast_id)

    async def _sender_translator(self, chat_id: int) -> Translator:
        try:
            profile = await user_service.get_profile(self.db, chat_id, frozenset())
        except NotFound:  # the sender deleted their data meanwhile
            return self.i18n.translator(self.settings.default_language)
        # As the sender's replies speak (`BotContext.t`): their Telegram app's language until
        # they pick one, so a report never switches language on them.
        return self.i18n.translator(
            profile.language
            or pick_language(profile.telegram_language, self.settings.default_language)
        )

    async def report(self, broadcast_id: int) -> None:
        """Show the current figures to the sender: edit the progress message, or send one."""
        view = await svc.get(self.db, broadcast_id)
        if view is None or view.progress_chat_id is None:
            return
        t = await self._sender_translator(view.progress_chat_id)
        text, keyboard = render_progress(view, t)
        if view.progress_message_id is not None:
            await self.gateway.edit_text(
                view.progress_chat_id, view.progress_message_id, text, keyboard
            )
            return
        result = await self.gateway.send(
            Outgoing(chat_id=view.progress_chat_id, text=text, reply_markup=keyboard)
        )
        if result.message_id is not None:
            await svc.set_progress_message(
                self.db, broadcast_id, view.progress_chat_id, result.message_id
            )


def duty(data: BotData) -> Duty:
    """The scheduled-broadcasts duty of one application."""
    if data.broadcaster is None:
        raise RuntimeError("the broadcaster is wired before the duties start")
    return Duty(SCHEDULED, SCHEDULED_EVERY, data.broadcaster.start_due)


def orphans_duty(data: BotData) -> Duty:
    """The duty that takes over the broadcasts of a replica that was killed."""
    if data.broadcaster is None:
        raise RuntimeError("the broadcaster is wired before the duties start")
    return Duty(ORPHANS, ORPHANS_EVERY, data.broadcaster.adopt_orphans)
