"""The one error report: log, tell the user their saved data is kept, alert admins.

Two ways in, one report (`report`): PTB's error handler (`handle_error`) for a failure while an
update is handled, and `background_reporter` for a failure of work the update started in the
background (an export, an analysis, a pack check: `bot.jobs.background`), which used to reach
the log only while the user waited for a file that never came.

Logs name the update by its id, user and chat only: message text can hold personal answers,
and the bot token must never reach a log (PTB puts it in request URLs).
"""

from __future__ import annotations

import contextlib
import html
import logging
import time
import traceback
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.context import BotContext
from bot.i18n import pick_language
from bot.replies import toast
from bot.services import users as user_service

logger = logging.getLogger(__name__)

# One alert per admin per this many seconds: a failing dependency must not flood the admins.
ALERT_INTERVAL = 60.0
ALERT_MAX_CHARS = 3500


def describe(update: object) -> str:
    """Name an update without its content."""
    if isinstance(update, Update):
        user = update.effective_user.id if update.effective_user else None
        chat = update.effective_chat.id if update.effective_chat else None
        kind = "callback" if update.callback_query else "message" if update.message else "other"
        return f"update {update.update_id} ({kind}, user {user}, chat {chat})"
    return f"non-update {type(update).__name__}"


def redact(text: str, secret: str | None) -> str:
    """Remove the bot token from `text`."""
    return text.replace(secret, "<token>") if secret else text


async def handle_error(update: object, context: BotContext) -> None:
    """Log the failure, apologise to the user in their language, and alert admins."""
    if isinstance(update, Update) and update.callback_query is not None:
        # Stop the button's spinner; the message below says what happened.
        with contextlib.suppress(TelegramError):
            await toast(update, context)  # in webhook mode, in the response
    await report(update, context, context.error)


def background_reporter(
    update: object, context: BotContext, key: str
) -> Callable[[BaseException], Awaitable[None]]:
    """The `on_error` of background job `key` that `update` started: the same report.

    The apology takes the place of the job's status line (the message whose button started
    it) when there is one, so "Exporting… 0 rows" does not stay on screen above it.
    """

    async def report_failure(error: BaseException) -> None:
        await report(update, context, error, where=f"background job {key}", in_place=True)

    return report_failure


async def report(
    update: object,
    context: BotContext,
    error: BaseException | None,
    *,
    where: str | None = None,
    in_place: bool = False,
) -> None:
    """Log `error` (token redacted), apologise to the user in their language, alert admins.

    Args:
        update: the update that failed, or that started the work that failed.
        context: its context (the error handler's own, or the one the job kept).
        error: what was raised.
        where: what failed when it was not the update's handler (a background job).
        in_place: edit the pressed message into the apology rather than sending a new one.
    """
    token = context.bot.token if context.bot else None
    trace = "".join(traceback.format_exception(error)) if error else "no exception"
    what = describe(update) if where is None else f"{where} of {describe(update)}"
    logger.error("error while handling %s:\n%s", what, redact(trace, token))
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            t = context.i18n.translator(await _language_of(context, update))
            if not (in_place and await _edit_in_place(update, t("errors.internal"))):
                await context.bot.send_message(update.effective_chat.id, t("errors.internal"))
        except TelegramError:
            logger.warning("could not tell %s about the error", describe(update))
    await _alert_admins(context, what, redact(trace, token))


async def _edit_in_place(update: Update, text: str) -> bool:
    """Edit the pressed message into `text`; False when there is none or the edit failed."""
    query = update.callback_query
    if query is None or query.message is None:
        return False
    try:
        await query.edit_message_text(text)
    except TelegramError:
        return False
    return True


async def _language_of(context: BotContext, update: Update) -> str:
    """The user's language; the error context is new, so it has no profile of its own."""
    user = update.effective_user
    default = context.settings.default_language
    if user is None:
        return default
    try:
        profile = await user_service.get_profile(context.db, user.id, context.admin_ids)
    except Exception:  # noqa: BLE001 - the database may be what failed: Telegram's language
        return pick_language(user.language_code, default)
    return profile.language or pick_language(profile.telegram_language, default)


async def _alert_admins(context: BotContext, what: str, trace: str) -> None:
    if context.bot_data.db is None:
        return
    now = time.monotonic()
    try:
        admins = await user_service.admin_chat_ids(context.db, context.admin_ids)
    except Exception:  # the database itself may be what failed
        logger.exception("could not look up admins to alert")
        return
    for admin in admins:
        if now - context.bot_data.admin_alerts.get(admin, -ALERT_INTERVAL) < ALERT_INTERVAL:
            continue
        context.bot_data.admin_alerts[admin] = now
        tail = html.escape(trace[-ALERT_MAX_CHARS:])
        text = f"⚠️ {html.escape(what)}\n<pre>{tail}</pre>"
        try:
            await context.bot.send_message(admin, text)
        except Forbidden:
            await user_service.mark_unreachable(context.db, admin)
        except TelegramError:
            logger.warning("could not alert admin %s", admin)
