"""Inline mode: `@<bot> words` in any chat lists matching resources of the bank to share.

Typing `@<bot> words` (BotFather `/setinline` must be on) searches the approved resources'
titles and descriptions in kk/ru/en, best first, as `/resources <words>` does (the words are
text: quotes, operators and SQL in them find nothing special); with no words the newest
resources are listed. Results come 20 at a time (`next_offset` pages on as the list scrolls).
Each result is an article: choosing it posts the resource's card "via @bot" into the chat,
with an "Open" button that is a deep link (`?start=r-<code>`), since a button of an inline
message cannot tell the bot which chat it is in: whoever taps it opens the card in their own
chat with the bot (after onboarding, if they are new), where its use is counted.

Someone using inline mode has not necessarily started the bot: nothing is stored about them
(`handlers.common.load_profile` leaves inline updates alone); a registered person's own
language is read, anyone else gets their Telegram app's. A card posted "via @bot" into the
chat with the bot itself is not an answer to anything the bot waits for: it is ignored.
"""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import InlineQueryHandler, MessageHandler, filters

from bot import bank_cards as cards
from bot.context import BotContext
from bot.features import PRIVATE, Features
from bot.i18n import Translator, pick_language
from bot.replies import shorten
from bot.services import NotFound
from bot.services import resource_search as search_service
from bot.services import resources as svc
from bot.services import users as user_service
from bot.services.resources import ResourceView

logger = logging.getLogger(__name__)

PAGE = 20  # results per answer (Telegram takes at most 50)
CACHE_SECONDS = 30  # how long Telegram may reuse an answer for the same person and words
DESCRIPTION_CHARS = 120
OFFSET_MAX = 1000  # results paged through at most: a forged offset asks for no more


class _ViaThisBot(filters.MessageFilter):
    """A message posted from one of this bot's inline results."""

    def filter(self, message: Message) -> bool:
        via = message.via_bot
        return via is not None and via.id == message.get_bot().id


def register(features: Features) -> None:
    """Answer inline queries; leave this bot's own cards in its chat alone."""
    features.handler(InlineQueryHandler(answer_inline_query))
    features.handler(MessageHandler(PRIVATE & _ViaThisBot(), ignore_own_card))


async def _translator(
    context: BotContext, telegram_id: int, app_language: str | None
) -> Translator:
    """A registered person's language, else their Telegram app's (nothing is stored)."""
    default = context.settings.default_language
    try:
        profile = await user_service.get_profile(context.db, telegram_id, context.admin_ids)
    except NotFound:
        return context.i18n.translator(pick_language(app_language, default))
    language = profile.language or pick_language(profile.telegram_language, default)
    return context.i18n.translator(language)


def _offset(raw: str) -> int:
    """The results already shown (the previous answer's `next_offset`); 0 for anything else."""
    if raw.isascii() and raw.isdigit() and len(raw) <= 6:
        return min(int(raw), OFFSET_MAX)
    return 0


def _description(view: ResourceView, t: Translator) -> str:
    """The line under a result's title: type, discipline, university, rating."""
    parts = [cards.kind_label(t, view.kind)]
    if view.discipline_name:
        parts.append(svc.pick(view.discipline_name, t.language))
    if view.university_name:
        parts.append(svc.pick(view.university_name, t.language))
    if view.ratings and view.rating_mean is not None:
        parts.append(f"{cards.STARS} {t.number(view.rating_mean)}")
    return shorten(" · ".join(parts), DESCRIPTION_CHARS)


def _result(view: ResourceView, t: Translator, bot_username: str) -> InlineQueryResultArticle:
    """One resource as an inline result: its card, to be posted with an Open button."""
    link = cards.deep_link(bot_username, view.code)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.plain("bank.inline_open"), url=link)]]
    )
    text = cards.card(view, t, link=False, mine=False)
    return InlineQueryResultArticle(
        id=f"{cards.DEEP_LINK}-{view.code}",
        title=shorten(cards.title(view, t), 100),
        input_message_content=InputTextMessageContent(text, parse_mode=ParseMode.HTML),
        reply_markup=keyboard,
        description=_description(view, t),
    )


async def answer_inline_query(update: Update, context: BotContext) -> None:
    """List the resources matching the typed words (the newest with none), a page at a time."""
    query = update.inline_query
    if query is None:
        return
    user = query.from_user
    t = await _translator(context, user.id, user.language_code)
    offset = _offset(query.offset)
    words = " ".join(query.query.split())
    if words:
        views = await search_service.search(context.db, user.id, words, limit=PAGE, offset=offset)
    else:
        page = offset // PAGE
        found = await svc.browse(context.db, user.id, page=page, per_page=PAGE)
        views = found.items if found.page == page else []  # past the end: nothing more
    bot_username = context.bot.username
    results = [_result(view, t, bot_username) for view in views]
    more = len(views) == PAGE and offset + PAGE < OFFSET_MAX
    try:
        await query.answer(
            results,
            cache_time=CACHE_SECONDS,
            is_personal=True,
            next_offset=str(offset + PAGE) if more else "",
            button=InlineQueryResultsButton(
                t.plain("bank.inline_open_bank"), start_parameter=f"{cards.DEEP_LINK}-"
            ),
        )
    except BadRequest as exc:
        # The person typed on (a newer query replaced this one) or Telegram stopped waiting:
        # there is nobody to tell, and nothing was stored.
        if "query is too old" not in exc.message.lower():
            raise
        logger.info("inline query answered too late: %s", exc.message)


async def ignore_own_card(update: Update, context: BotContext) -> None:
    """A resource card posted from inline mode into the chat with the bot: it answers nothing."""
    return
