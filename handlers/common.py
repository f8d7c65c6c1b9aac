"""Handlers every user meets: the profile loader, /help, /cancel, the menu and fallbacks.

Also the two small reply helpers the other handler modules share, so each of them renders
and answers callback queries the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError

from bot import keyboards as kb
from bot.context import BotContext
from bot.services import users as user_service
from bot.services.roles import Role
from bot.services.users import Awaiting, Step

logger = logging.getLogger(__name__)

TextRoute = Callable[[Update, BotContext, str], Awaitable[None]]


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
    update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the message whose button was pressed; a repeat of the same edit is not an error.

    A double tap, or an update delivered again after a crash, edits a message into what it
    already says, which Telegram answers with 400 "message is not modified".
    """
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await query.edit_message_text(text, reply_markup=keyboard)
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
    """Answer the pressed button, with a short notice if `text` is given."""
    if update.callback_query is not None:
        await update.callback_query.answer(text[:200] if text else None)


async def load_profile(update: Update, context: BotContext) -> None:
    """Register or refresh the user behind the update and keep their profile on the context."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    chat = update.effective_chat
    if chat is not None and chat.type != chat.PRIVATE:
        # Someone speaking in a group is not registering: store nothing about them.
        return
    context.profile = await user_service.seen(
        context.db,
        user.id,
        first_name=user.first_name or "",
        username=user.username,
        telegram_language=user.language_code,
        admin_ids=context.admin_ids,
    )


async def track_membership(update: Update, context: BotContext) -> None:
    """Record that the user blocked the bot (or unblocked it) in their private chat."""
    change = update.my_chat_member
    if change is None or change.chat.type != change.chat.PRIVATE:
        return
    status = change.new_chat_member.status
    if status in (change.new_chat_member.BANNED, change.new_chat_member.LEFT):
        await user_service.mark_unreachable(context.db, change.from_user.id)


async def show_menu(update: Update, context: BotContext) -> None:
    """Show the main menu, with the entries the user's roles allow."""
    profile = context.profile
    assert profile is not None
    t = context.t
    buttons = [
        kb.button(t.plain("menu.surveys"), "menu:surveys"),
        kb.button(t.plain("menu.profile"), "menu:profile"),
        kb.button(t.plain("menu.language"), "menu:language"),
        kb.button(t.plain("menu.help"), "menu:help"),
    ]
    if profile.has(Role.ADMIN, Role.ORGANIZER, Role.COACH):
        buttons.append(kb.button(t.plain("menu.broadcast"), "menu:broadcast"))
    if profile.has(Role.ADMIN, Role.ORGANIZER):
        buttons.append(kb.button(t.plain("menu.invite"), "menu:invite"))
    if profile.has(Role.ADMIN):
        buttons.append(kb.button(t.plain("menu.universities"), "menu:universities"))
    await reply(update, context, t("menu.title"), kb.rows(buttons, per_row=2))


async def menu(update: Update, context: BotContext) -> None:
    """Show the main menu (/menu)."""
    assert context.profile is not None
    if context.profile.next_step is not None:
        from handlers.users import ask_step

        await reply(update, context, context.t("onboarding.finish_first"))
        await ask_step(update, context, context.profile)
        return
    await show_menu(update, context)


async def open_menu_item(update: Update, context: BotContext) -> None:
    """Open the main-menu entry whose button was pressed."""
    from handlers import broadcasts, invites, surveys, universities, users

    query = update.callback_query
    assert query is not None and query.data is not None
    parts = kb.split(query.data, "menu", 1)
    routes: dict[str, Callable[[Update, BotContext], Awaitable[None]]] = {
        "profile": users.show_profile,
        "language": users.change_language,
        "help": help_command,
        "invite": invites.start_invite,
        "universities": universities.list_universities,
        "broadcast": broadcasts.start_broadcast,
        "surveys": surveys.list_surveys,
    }
    route = routes.get(parts[0]) if parts else None
    if route is None:
        await toast(update, context, context.t.plain("errors.stale_button"))
        return
    await toast(update, context)
    await route(update, context)


async def help_command(update: Update, context: BotContext) -> None:
    """Explain what the bot does and list the commands the user may use (/help)."""
    profile = context.profile
    t = context.t
    parts = [t("help.intro"), t("help.commands")]
    if profile is not None and profile.has(Role.ADMIN, Role.ORGANIZER, Role.COACH):
        parts.append(t("help.coach"))
    if profile is not None and profile.has(Role.ADMIN, Role.ORGANIZER):
        parts.append(t("help.organizer"))
        parts.append(t("help.organizer_surveys"))
    if profile is not None and profile.has(Role.ADMIN):
        parts.append(t("help.admin"))
    await reply(update, context, "\n\n".join(parts))


async def cancel(update: Update, context: BotContext) -> None:
    """Leave whatever input the bot was waiting for; nothing saved is lost (/cancel)."""
    profile = context.profile
    assert profile is not None
    if profile.awaiting is not None:
        context.profile = await user_service.set_awaiting(
            context.db, profile.telegram_id, None, context.admin_ids
        )
    await reply(update, context, context.t("cancel.done"))
    if context.profile is not None and context.profile.next_step is not None:
        await reply(update, context, context.t("cancel.onboarding_pending"))


async def route_text(update: Update, context: BotContext) -> None:
    """Give typed text to the step that waits for it, or say what is expected instead."""
    from handlers import broadcasts, surveys, universities, users

    profile = context.profile
    message = update.effective_message
    if profile is None or message is None or message.text is None:
        return
    attempt_id = surveys.awaiting_attempt(profile.awaiting)
    if attempt_id is not None:
        await surveys.save_typed(update, context, attempt_id)
        return
    feature_route = broadcasts.awaiting_route(profile.awaiting)
    if feature_route is not None:
        route, item_id = feature_route
        await broadcasts.AWAITING_ROUTES[route](update, context, item_id)
        return
    from handlers import campaigns, exports

    export_request = exports.awaiting_request(profile.awaiting)
    if export_request is not None:
        await exports.save_dates(update, context, export_request)
        return
    campaign_route = campaigns.awaiting_route(profile.awaiting)
    if campaign_route is not None:
        await campaigns.save_typed(update, context, *campaign_route)
        return
    routes: dict[str, TextRoute] = {
        Awaiting.GROUP.value: users.save_group,
        Awaiting.UNIVERSITY_NAME.value: universities.save_new_university,
    }
    if profile.awaiting in routes:
        await routes[profile.awaiting](update, context, message.text)
        return
    step = profile.next_step
    if step is Step.GROUP:
        await users.save_group(update, context, message.text)
    elif step is not None:
        # A button is expected: say so and show the same step again.
        await reply(update, context, context.t("errors.use_buttons"))
        await users.ask_step(update, context, profile)
    elif profile.awaiting == Awaiting.UNIVERSITY.value:
        await reply(update, context, context.t("errors.use_buttons"))
    else:
        await reply(update, context, context.t("errors.not_understood"))


async def route_media(update: Update, context: BotContext) -> None:
    """Give a photo or file to the step that waits for one, or say none is expected."""
    from handlers import broadcasts, content

    profile = context.profile
    feature_route = broadcasts.awaiting_route(profile.awaiting if profile else None)
    if feature_route is not None and feature_route[0] == "bc_content":
        await broadcasts.save_content(update, context, feature_route[1])
        return
    if content.is_pack(update):
        await content.receive_pack(update, context)
        return
    await reply(update, context, context.t("errors.unexpected_message"))


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command the bot does not know."""
    await reply(update, context, context.t("errors.unknown_command"))


async def stale_button(update: Update, context: BotContext) -> None:
    """Answer a button whose data no handler recognises (old or forged)."""
    await toast(update, context, context.t.plain("errors.stale_button"))
