"""Content packs sent in chat: an organizer sends a YAML file and gets the validation report.

Survey, test and course packs alike; a course sent in chat has no folder, so its media are
given by `url:` (a `file:` is refused with its path).

The check runs as background work (`bot.jobs.background`), not inside the update: a 1 MB
pack takes seconds to parse, and updates of one user are handled in order, so the uploader's
next messages waited for it; and PTB's stop waits for every update in progress, so SIGTERM
waited too. A stopping bot cancels the job; the check's daemon thread is left behind.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Document, Update

from bot.context import BotContext
from bot.errors import background_reporter
from bot.features import Features
from bot.replies import reply, require_profile, shorten
from bot.services import ServiceError
from bot.services import content as content_service
from bot.services.roles import Role

logger = logging.getLogger(__name__)

PACK_SUFFIXES = (".yaml", ".yml")
REPORT_LINES = 15
ERROR_LINE = 200
# From this size the check takes a noticeable while (about 2 s per 100 KB): say it started.
NOTICE_BYTES = 100_000


def register(features: Features) -> None:
    """Take content packs (.yaml files) sent to the bot while nothing else is awaited."""
    features.file_fallback(is_pack, receive_pack)


def is_pack(update: Update) -> bool:
    """True when the message carries a file that looks like a content pack."""
    message = update.effective_message
    document = message.document if message else None
    return bool(document and (document.file_name or "").lower().endswith(PACK_SUFFIXES))


def work_key(telegram_id: int) -> str:
    """One pack check per person at a time."""
    return f"pack:{telegram_id}"


async def receive_pack(update: Update, context: BotContext) -> None:
    """Start checking the pack file an organizer sent; the report follows when it is done."""
    profile = require_profile(context)
    message = update.effective_message
    document = message.document if message is not None else None
    if document is None:  # `is_pack` let only documents through
        return
    t = context.t
    if not profile.has(Role.ADMIN, Role.ORGANIZER):
        await reply(update, context, t("errors.not_allowed"))
        return
    if (document.file_size or 0) > content_service.UPLOAD_MAX_BYTES:
        await reply(update, context, t("content.too_large"))
        return
    key = work_key(profile.telegram_id)
    if not context.background.start(
        key,
        lambda: _check(update, context, document),
        on_error=background_reporter(update, context, key),
    ):
        await reply(update, context, t("content.busy"))


async def _check(update: Update, context: BotContext, document: Document) -> None:
    """Download the pack, check it off the event loop, load it if valid, and report.

    A failure other than a refusal escapes to the background runner, whose report
    (`bot.errors.background_reporter`) apologises and alerts the admins.
    """
    profile = require_profile(context)
    t = context.t
    name = document.file_name or "pack"
    try:
        if (document.file_size or 0) >= NOTICE_BYTES:
            await reply(update, context, t("content.checking"))
        telegram_file = await document.get_file()
        data = bytes(await telegram_file.download_as_bytearray())
        outcome = await content_service.load_upload(
            context.db, profile.telegram_id, context.admin_ids, data, name
        )
    except asyncio.CancelledError:
        # The bot is stopping. The load is one transaction: the pack is in whole or not at all.
        logger.info("pack check of %s from %s stopped with the bot", name, profile.telegram_id)
        raise
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
