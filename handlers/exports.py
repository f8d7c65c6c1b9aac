"""/export: organizers receive the pseudonymous answers table as a file in chat."""

from __future__ import annotations

import tempfile
from pathlib import Path

from telegram import Update

from bot import keyboards as kb
from bot.context import BotContext
from bot.services import ServiceError
from bot.services import campaigns as campaign_service
from bot.services import exports as svc
from bot.services.roles import Role
from handlers.common import reply, toast

FORMATS = ("csv", "xlsx", "parquet", "sav")


async def start_export(update: Update, context: BotContext) -> None:
    """Ask which campaign's answers to export (/export)."""
    profile = context.profile
    assert profile is not None
    t = context.t
    if not profile.has(Role.ADMIN, Role.ORGANIZER):
        await reply(update, context, t("errors.not_allowed"))
        return
    rows = await campaign_service.figures(context.db, profile.telegram_id, context.admin_ids, 8)
    buttons = [kb.button(t.plain("exports.all_campaigns"), "ex:c:0")]
    buttons += [
        kb.button(f"#{c.id} {c.title.get(t.language) or c.title['en']}"[:60], f"ex:c:{c.id}")
        for c in rows
    ]
    await reply(update, context, t("exports.choose_campaign"), kb.rows(buttons))


async def export_button(update: Update, context: BotContext) -> None:
    """Take the campaign, then the format, then send the file."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.profile is not None
    t = context.t
    if not context.profile.has(Role.ADMIN, Role.ORGANIZER):
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    parts = query.data.split(":")
    campaign = kb.parse_int(parts[2]) if len(parts) > 2 else None
    if campaign is None:
        await toast(update, context, t.plain("errors.stale_button"))
        return
    if parts[1] == "c" and len(parts) == 3:
        await toast(update, context)
        buttons = [kb.button(f.upper(), f"ex:f:{campaign}:{f}") for f in FORMATS]
        await reply(update, context, t("exports.choose_format"), kb.rows(buttons, per_row=4))
        return
    if parts[1] != "f" or len(parts) != 4:
        await toast(update, context, t.plain("errors.stale_button"))
        return
    await toast(update, context, t.plain("exports.working"))
    chat = update.effective_chat
    assert chat is not None
    with tempfile.TemporaryDirectory() as folder:
        try:
            path, count = await svc.export_file(
                context.db,
                context.profile.telegram_id,
                context.admin_ids,
                context.settings.pseudonym_key.get_secret_value(),
                campaign or None,
                parts[3],
                t.language,
                Path(folder),
            )
        except ServiceError as exc:
            await reply(update, context, t(exc.key, **exc.values))
            return
        await context.bot.send_document(
            chat.id,
            path.read_bytes(),
            filename=path.name,
            caption=t("exports.caption", count=count),
        )
