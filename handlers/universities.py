"""/universities: admins list, add, hide and show the consortium's universities."""

from __future__ import annotations

from telegram import Update

from bot import keyboards as kb
from bot.callbacks import UniversityAdd, UniversityShow
from bot.context import BotContext
from bot.features import Features
from bot.replies import reply, require_profile, toast
from bot.services import PermissionDenied, ServiceError
from bot.services import universities as university_service
from bot.services import users as user_service
from bot.services.roles import Role
from bot.services.users import Awaiting

NAME_ROUTE = Awaiting.UNIVERSITY_NAME.value


def register(features: Features) -> None:
    """Add /universities for admins."""
    features.command("universities", list_universities)
    features.button(UniversityShow, set_shown)
    features.button(UniversityAdd, ask_name)
    features.text(NAME_ROUTE, save_new_university)
    features.action("universities", list_universities)
    features.menu("universities", "menu.universities", "universities", (Role.ADMIN,), position=70)
    features.help("help.admin", (Role.ADMIN,))


async def list_universities(update: Update, context: BotContext) -> None:
    """List every university with a hide/show button each and an Add button (/universities)."""
    profile = require_profile(context)
    t = context.t
    if not profile.has(Role.ADMIN):
        await reply(update, context, t("errors.not_allowed"))
        return
    universities = await university_service.list_universities(context.db, include_hidden=True)
    lines = [t("universities.title")]
    buttons = []
    for u in universities:
        flag = kb.COUNTRY_FLAGS.get(u.country, u.country)
        state = "" if u.active else t.plain("universities.hidden_mark")
        lines.append(t("universities.line", flag=flag, name=u.name(t.language), state=state))
        label_key = "universities.hide" if u.active else "universities.show"
        buttons.append(
            kb.button(
                t.plain(label_key, name=u.name(t.language)[:40]),
                UniversityShow(u.id, shown=not u.active).pack(),
            )
        )
    buttons.append(kb.button(t.plain("universities.add"), UniversityAdd().pack()))
    await reply(update, context, "\n".join(lines), kb.rows(buttons))


async def ask_name(update: Update, context: BotContext, _data: UniversityAdd) -> None:
    """Start adding a university: ask for its name."""
    profile = require_profile(context)
    t = context.t
    if not profile.has(Role.ADMIN):
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    await toast(update, context)
    context.profile = await user_service.set_awaiting(
        context.db, profile.telegram_id, NAME_ROUTE, context.admin_ids
    )
    await reply(update, context, t("universities.add_prompt"))


async def set_shown(update: Update, context: BotContext, data: UniversityShow) -> None:
    """Hide or show a university from its button."""
    profile = require_profile(context)
    t = context.t
    if not profile.has(Role.ADMIN):
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    try:
        changed = await university_service.set_active(
            context.db, profile.telegram_id, context.admin_ids, data.university, data.shown
        )
    except ServiceError as exc:
        await toast(update, context, t.plain(exc.key, **exc.values))
        return
    key = "universities.shown" if changed.active else "universities.hidden"
    await toast(update, context, t.plain(key, name=changed.name(t.language)))
    await list_universities(update, context)


async def save_new_university(update: Update, context: BotContext, _argument: str) -> None:
    """Add the university described in the admin's message."""
    profile = require_profile(context)
    message = update.effective_message
    text = message.text if message is not None and message.text is not None else ""
    t = context.t
    try:
        added = await university_service.add_university(
            context.db, profile.telegram_id, context.admin_ids, text
        )
    except PermissionDenied as exc:
        # No longer an admin: stop waiting for a name, or every message would be refused.
        context.profile = await user_service.set_awaiting(
            context.db, profile.telegram_id, None, context.admin_ids
        )
        await reply(update, context, t(exc.key, **exc.values))
        return
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    context.profile = await user_service.set_awaiting(
        context.db, profile.telegram_id, None, context.admin_ids
    )
    await reply(update, context, t("universities.added", name=added.name(t.language)))
    await list_universities(update, context)
