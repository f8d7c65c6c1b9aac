"""The core every user meets: the profile loader, /help, /menu, /cancel and the dispatchers.

`register` adds the commands every user has; `register_fallbacks`, called after every feature,
adds what is tried last: the dispatchers that give typed text and files to the route the user's
stored `awaiting` value names (`bot.awaiting`, routes from `Features.text` / `Features.file`),
the answer to unknown commands, and the stale-button answer. No feature module is imported
here: the menu, /help and the routes come from the registry.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import awaiting
from bot.callbacks import MenuOpen
from bot.context import BotContext
from bot.features import PRIVATE, Features
from bot.replies import reply, require_profile, show_menu, stale_button, toast
from bot.services import users as user_service
from bot.services.roles import Role

logger = logging.getLogger(__name__)

# Group -1 loads the profile for every update before any other handler looks at it.
PROFILE_GROUP = -1

# The onboarding feature answers typed text and /menu while registration is unfinished.
ONBOARDING = "onboarding"


def register(features: Features) -> None:
    """Add the profile loader and the commands every user has."""
    features.handler(TypeHandler(Update, load_profile), group=PROFILE_GROUP)
    features.stale = stale_button
    features.command("help", help_command, menu=60)
    features.command("menu", menu, menu=30)
    features.command("cancel", cancel, menu=70)
    features.button(MenuOpen, open_menu_item)
    features.action("menu", show_menu)
    features.action("help", help_command)
    features.menu("help", "menu.help", "help", position=40)
    features.help("help.intro")
    features.help("help.commands")


def register_fallbacks(features: Features) -> None:
    """Add what is tried after every feature: the dispatchers and the fallback answers."""
    features.handler(CallbackQueryHandler(stale_button))
    features.handler(ChatMemberHandler(track_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    features.handler(MessageHandler(PRIVATE & filters.COMMAND, unknown_command))
    features.handler(MessageHandler(PRIVATE & filters.TEXT, route_text))
    features.handler(MessageHandler(PRIVATE & ~filters.TEXT, route_media))


async def load_profile(update: Update, context: BotContext) -> None:
    """Register or refresh the user behind the update and keep their profile on the context."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    if update.inline_query is not None or update.chosen_inline_result is not None:
        # Someone typing @bot in another chat has not started the bot (and may block it):
        # registering them, or marking them reachable, would be wrong. Nothing is stored.
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


async def menu(update: Update, context: BotContext) -> None:
    """Show the main menu, or the onboarding step still to do (/menu)."""
    profile = require_profile(context)
    if profile.next_step is not None:
        await reply(update, context, context.t("onboarding.finish_first"))
        await context.features.actions[ONBOARDING](update, context)
        return
    await show_menu(update, context)


async def open_menu_item(update: Update, context: BotContext, data: MenuOpen) -> None:
    """Open the main-menu entry whose button was pressed."""
    profile = require_profile(context)
    entry = next((e for e in context.features.menu_entries if e.code == data.entry), None)
    if entry is None or (entry.roles is not None and not profile.has(*entry.roles)):
        await stale_button(update, context)
        return
    await toast(update, context)
    await context.features.actions[entry.action](update, context)


def _rank(roles: frozenset[Role] | None) -> int:
    """Help for everyone first, then for coaches, organizers and admins."""
    if roles is None:
        return 0
    if Role.COACH in roles:
        return 1
    return 2 if Role.ORGANIZER in roles else 3


async def help_command(update: Update, context: BotContext) -> None:
    """Explain what the bot does and list the commands the user may use (/help)."""
    profile = context.profile
    entries = sorted(context.features.help_entries, key=lambda e: _rank(e.roles))
    parts = [
        context.t(entry.key)
        for entry in entries
        if entry.roles is None or (profile is not None and profile.has(*entry.roles))
    ]
    await reply(update, context, "\n\n".join(parts))


async def cancel(update: Update, context: BotContext) -> None:
    """Leave whatever input the bot was waiting for; nothing saved is lost (/cancel)."""
    profile = require_profile(context)
    if profile.awaiting is not None:
        context.profile = await user_service.set_awaiting(
            context.db, profile.telegram_id, None, context.admin_ids
        )
    await reply(update, context, context.t("cancel.done"))
    if context.profile is not None and context.profile.next_step is not None:
        await reply(update, context, context.t("cancel.onboarding_pending"))


async def route_text(update: Update, context: BotContext) -> None:
    """Give typed text to the route the user's `awaiting` names, or say what is expected."""
    profile = context.profile
    message = update.effective_message
    if profile is None or message is None or message.text is None:
        return
    waiting = awaiting.parse(profile.awaiting)
    route = context.features.texts.get(waiting[0]) if waiting is not None else None
    if route is not None and waiting is not None:
        await route(update, context, waiting[1])
    elif profile.next_step is not None:
        await context.features.texts[ONBOARDING](update, context, "")
    else:
        await reply(update, context, context.t("errors.not_understood"))


async def route_media(update: Update, context: BotContext) -> None:
    """Give a photo or file to the route that waits for one, or say none is expected."""
    profile = context.profile
    waiting = awaiting.parse(profile.awaiting if profile is not None else None)
    route = context.features.files.get(waiting[0]) if waiting is not None else None
    if route is not None and waiting is not None:
        await route(update, context, waiting[1])
        return
    for accepts, callback in context.features.file_fallbacks:
        if accepts(update):
            await callback(update, context)
            return
    await reply(update, context, context.t("errors.unexpected_message"))


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command the bot does not know."""
    await reply(update, context, context.t("errors.unknown_command"))
