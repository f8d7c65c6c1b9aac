"""Content packs sent in chat: an organizer sends a YAML file and gets the validation report."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.services import ServiceError
from bot.services import content as content_service
from bot.services.roles import Role
from handlers.common import reply, shorten

PACK_SUFFIXES = (".yaml", ".yml")
REPORT_LINES = 15
ERROR_LINE = 200


def is_pack(update: Update) -> bool:
    """True when the message carries a file that looks like a content pack."""
    message = update.effective_message
    document = message.document if message else None
    return bool(document and (document.file_name or "").lower().endswith(PACK_SUFFIXES))


async def receive_pack(update: Update, context: BotContext) -> None:
    """Check the pack file an organizer sent and load it if it is valid."""
    profile = context.profile
    message = update.effective_message
    assert profile is not None and message is not None and message.document is not None
    t = context.t
    if not profile.has(Role.ADMIN, Role.ORGANIZER):
        await reply(update, context, t("errors.not_allowed"))
        return
    document = message.document
    if (document.file_size or 0) > content_service.UPLOAD_MAX_BYTES:
        await reply(update, context, t("content.too_large"))
        return
    telegram_file = await document.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    try:
        outcome = await content_service.load_upload(
            context.db, profile.telegram_id, context.admin_ids, data, document.file_name or "pack"
        )
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    if not outcome.ok:
        # Each line cut short: a file name or a reason can be as long as the sender made it.
        errors = [shorten(str(error), ERROR_LINE) for error in outcome.errors]
        shown = "\n".join(f"• {line}" for line in errors[:REPORT_LINES])
        more = len(errors) - REPORT_LINES
        await reply(update, context, t("content.invalid", count=len(errors), errors=shown))
        if more > 0:
            await reply(update, context, t("content.more_errors", count=more))
        return
    for item in outcome.loaded:
        await reply(
            update, context, t(f"content.{item.status}", code=item.code, version=item.version)
        )
