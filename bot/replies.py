"""Reply helpers every handler module shares, so each renders and answers buttons the same way.

Replies to a user's own action go straight to Telegram (flood control and brief failures are
handled under them by `bot.floodguard`); messages the bot sends on its own go through
`bot.gateway`. Nothing here touches the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from telegram import InlineKeyboardMarkup, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram.error import BadRequest, TelegramError

from bot import answer_in_response
from bot import keyboards as kb
from bot.callbacks import MenuOpen
from bot.context import BotContext
from bot.services.campaigns import WAVES
from bot.services.users import Profile

logger = logging.getLogger(__name__)


async def reply(
    update: Update,
    context: BotContext,
    text: str,
    keyboard: InlineKeyboardMarkup | None = None,
) -> None:
    """Send `text` to the chat the update came from (a reply, not a broadcast)."""
    chat = update.effective_chat
    if chat is None:
        return
    # Flood control on replies is handled by bot.floodguard for every call.
    await context.bot.send_message(chat.id, text, reply_markup=keyboard)


TEXT_BUDGET = 3900  # under Telegram's 4096, with room for a closing "and N more" line


def shorten(text: str, limit: int) -> str:
    """Plain text cut to `limit` characters with an ellipsis (escape it after cutting)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit_lines(lines: list[str], more: Callable[[int], str], budget: int = TEXT_BUDGET) -> str:
    """Join whole lines until the budget is spent, then say how many were left out.

    Each line is valid HTML on its own, so nothing is ever cut inside a tag or an entity.
    """
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            kept.append(more(len(lines) - index))
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


async def safe_edit(
    update: Update,
    text: str,
    keyboard: InlineKeyboardMarkup | None = None,
    *,
    message_id: int | None = None,
) -> None:
    """Edit the message whose button was pressed; a repeat of the same edit is not an error.

    `message_id`: edit that message of the update's chat instead (a survey's page after a
    typed answer). A double tap, or an update delivered again after a crash, edits a message
    into what it already says, which Telegram answers with 400 "message is not modified".
    """
    if message_id is None:
        query = update.callback_query
        if query is None or query.message is None:
            return
        chat_id, message_id = query.message.chat.id, query.message.message_id
    else:
        chat = update.effective_chat
        if chat is None:
            return
        chat_id = chat.id
    # Through the bot's `_post`, as `edit_message_text` itself goes (Defaults, the rate limiter
    # and bot.floodguard, PTB's errors), but without building a `Message` from the answer:
    # nobody reads it, and parsing a page's text, entities and buttons cost a third of a
    # millisecond on every survey answer (`bench/surveys.py --profile`).
    data: dict[str, object] = {
        "chat_id": chat_id,
        "message_id": message_id,
        "text": text,
        "parse_mode": DEFAULT_NONE,
    }
    if keyboard is not None:
        data["reply_markup"] = keyboard
    try:
        await update.get_bot()._post("editMessageText", data)
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise


async def status(update: Update, text: str) -> None:
    """Edit the pressed message into a status line, best effort.

    For progress and outcome lines of background work: if the message was deleted, or the
    edit fails or times out, the work goes on and its files are still sent.
    """
    try:
        await safe_edit(update, text)
    except TelegramError:
        logger.info("status line not updated", exc_info=True)


# Bots upload up to 50 MB; at a few MB/s that takes longer than PTB's default 20 s.
UPLOAD_TIMEOUT = 300.0


async def send_file(context: BotContext, chat_id: int, path: Path, caption: str) -> None:
    """Send a file from disk as a document, with time enough for a large upload."""
    with path.open("rb") as fh:
        await context.bot.send_document(
            chat_id,
            fh,
            filename=path.name,
            caption=caption,
            write_timeout=UPLOAD_TIMEOUT,
            read_timeout=UPLOAD_TIMEOUT,
        )


async def toast(update: Update, context: BotContext, text: str | None = None) -> None:
    """Answer the pressed button, with a short notice if `text` is given.

    A press can be answered once, within about 15 seconds. One delivered again (Telegram
    redelivers an update whose process died after answering it) or one that waited too long
    is refused with 400 "query is too old … or query id is invalid": the press is still
    handled, only its notice is lost. In webhook mode the answer rides on the response
    (`bot.answer_in_response`).
    """
    query = update.callback_query
    if query is None:
        return
    text = text[:200] if text else None
    if answer_in_response.defer(query.id, text):
        return
    try:
        await query.answer(text)
    except BadRequest as exc:
        if "query is too old" not in exc.message.lower() and "query id" not in exc.message:
            raise
        logger.info("button press %s answered too late or twice", query.id)


async def stale_button(update: Update, context: BotContext) -> None:
    """Answer a button whose data no handler accepts (old, forged or malformed).

    Someone still registering is shown their step again: a button from before an upgrade
    (its data in an older format) must not leave them with nothing to press.
    """
    await toast(update, context, context.t.plain("errors.stale_button"))
    profile = context.profile
    resume = context.features.actions.get("onboarding")
    if profile is not None and profile.next_step is not None and resume is not None:
        await resume(update, context)


def require_profile(context: BotContext) -> Profile:
    """The profile of the user behind the update (loaded in group -1 for every private update).

    Raises instead of `assert`, which `python -O` removes: a handler reached without a
    profile is a wiring error, reported by the error handler.
    """
    if context.profile is None:
        raise RuntimeError("no profile: the handler was reached outside a private chat")
    return context.profile


async def show_menu(update: Update, context: BotContext) -> None:
    """Show the main menu: the registered entries the user's roles allow."""
    profile = require_profile(context)
    t = context.t
    buttons = [
        kb.button(t.plain(entry.label), MenuOpen(entry.code).pack())
        for entry in context.features.menu_entries
        if entry.roles is None or profile.has(*entry.roles)
    ]
    await reply(update, context, t("menu.title"), kb.rows(buttons, per_row=2))


def wave_label(context: BotContext, wave: str) -> str:
    """A wave as shown: the known ones translated, a custom label as it was typed."""
    return context.t.plain(f"campaigns.wave_{wave}") if wave in WAVES else wave
