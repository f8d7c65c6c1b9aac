"""/universities: admins list, add, hide and show the consortium's universities."""

from __future__ import annotations

from telegram import Update

from bot import keyboards as kb
from bot.context import BotContext
from bot.services import PermissionDenied, ServiceError
from bot.services import universities as university_service
from bot.services import users as user_service
from bot.services.roles import Role
from bot.services.users import Awaiting
from handlers.common import reply, toast


async def list_universities(update: Update, context: BotContext) -> None:
    """List every university with a hide/show button each and an Add button (/universities)."""
    profile = context.profile
    assert profile is not None
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
                f"adm:u:{u.id}:{'h' if u.active else 's'}",
            )
        )
    buttons.append(kb.button(t.plain("universities.add"), "adm:u:add"))
    await reply(update, context, "\n".join(lines), kb.rows(buttons))


async def university_action(update: Update, context: BotContext) -> None:
    """Hide or show a university (`adm:u:<id>:h|s`), or start adding one, from its button."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.profile is not None
    t = context.t
    if not context.profile.has(Role.ADMIN):
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    parts = query.data.split(":")[1:]
    if len(parts) < 2 or parts[0] != "u":
        await toast(update, context, t.plain("errors.stale_button"))
        return
    if parts[1] == "add" and len(parts) == 2:
        await toast(update, context)
        context.profile = await user_service.set_awaiting(
            context.db, context.profile.telegram_id, Awaiting.UNIVERSITY_NAME, context.admin_ids
        )
        await reply(update, context, t("universities.add_prompt"))
        return
    university_id = kb.parse_int(parts[1])
    if university_id is None or len(parts) != 3 or parts[2] not in ("h", "s"):
        await toast(update, context, t.plain("errors.stale_button"))
        return
    try:
        changed = await university_service.set_active(
            context.db,
            context.profile.telegram_id,
            context.admin_ids,
            university_id,
            parts[2] == "s",
        )
    except ServiceError as exc:
        await toast(update, context, t.plain(exc.key, **exc.values))
        return
    key = "universities.shown" if changed.active else "universities.hidden"
    await toast(update, context, t.plain(key, name=changed.name(t.language)))
    await list_universities(update, context)


async def save_new_university(update: Update, context: BotContext, text: str) -> None:
    """Add the university described in the admin's message."""
    assert context.profile is not None
    t = context.t
    try:
        added = await university_service.add_university(
            context.db, context.profile.telegram_id, context.admin_ids, text
        )
    except PermissionDenied as exc:
        # No longer an admin: stop waiting for a name, or every message would be refused.
        context.profile = await user_service.set_awaiting(
            context.db, context.profile.telegram_id, None, context.admin_ids
        )
        await reply(update, context, t(exc.key, **exc.values))
        return
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    context.profile = await user_service.set_awaiting(
        context.db, context.profile.telegram_id, None, context.admin_ids
    )
    await reply(update, context, t("universities.added", name=added.name(t.language)))
    await list_universities(update, context)
