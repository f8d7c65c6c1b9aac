"""The resource bank for everyone: /resources, the filters, search, a card, using and rating.

`/resources` lists the approved resources, newest first, a page at a time, with filters by
discipline, type, language and university (each a button offering its values; the filters
travel in the buttons, so nothing is kept between presses); `/resources <words>` and the
Search button search titles and descriptions in all three languages (the words typed next are
awaited as `rb_search`). A resource's card (a list's button, a deep link `?start=r-<code>`,
the Open button of a card shared in another chat through inline mode) shows what it is, its
license, its mean rating and how many people used it. "Get" sends its file (by Telegram's
`file_id`) and/or its link and counts one use per person; whoever used it rates it 1..5 with
the star buttons, then may add a comment (`rb_comment:<resource>-<rating>`); rating again
replaces the rating. Contributing and moderating are `handlers.bank_contribute`; inline mode is
`handlers.bank_inline`.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import bank_cards as cards
from bot import keyboards as kb
from bot.awaiting import int_argument, waiting_for
from bot.callbacks import (
    BankBrowse,
    BankFilter,
    BankFilterKind,
    BankGet,
    BankModeration,
    BankNew,
    BankOpen,
    BankRate,
    BankRateSkip,
    BankSearch,
)
from bot.context import BotContext
from bot.conversation import (
    answered_refusals,
    set_awaiting,
    stop_waiting,
    typed_text,
)
from bot.features import Features
from bot.replies import fit_lines, reply, require_profile, safe_edit, shorten, toast
from bot.services import ServiceError
from bot.services import resource_search as search_service
from bot.services import resources as svc
from bot.services import universities as university_service
from bot.services.resources import Kind, ResourceView

logger = logging.getLogger(__name__)

SEARCH_ROUTE = "rb_search"  # words to search for
COMMENT_ROUTE = "rb_comment"  # `rb_comment:<resource>-<rating>`: an optional comment
ROUTES = (SEARCH_ROUTE, COMMENT_ROUTE)
PER_PAGE = 5  # resources on a page of /resources
SEARCH_SHOWN = 10  # search results listed at once
LABEL_MAX = 60
FILTER_LANGUAGES = ("kk", "ru", "en")


def register(features: Features) -> None:
    """Add /resources, the bank's deep link, browsing, search, cards, use and rating."""
    features.command("resources", resources_command, menu=19)
    features.deep_link(cards.DEEP_LINK, open_by_link)
    features.button(BankBrowse, answered_refusals(browse_button))
    features.button(BankFilter, answered_refusals(filter_button))
    features.button(BankSearch, answered_refusals(search_button))
    features.button(BankOpen, answered_refusals(open_button))
    features.button(BankGet, answered_refusals(get_button))
    features.button(BankRate, answered_refusals(rate_button))
    features.button(BankRateSkip, answered_refusals(skip_comment_button))
    features.text(SEARCH_ROUTE, typed_search)
    features.text(COMMENT_ROUTE, typed_comment)
    features.action("resources", resources_command)
    features.menu("resources", "menu.resources", "resources", position=19)
    features.help("help.resources")


# --- /resources: a page, the filters ----------------------------------------------------------


async def resources_command(update: Update, context: BotContext) -> None:
    """The bank's first page (`/resources`), or a search (`/resources <words>`)."""
    profile = require_profile(context)
    if profile.next_step is not None:
        await reply(update, context, context.t("onboarding.finish_first"))
        return
    words = " ".join(context.args or ()).strip()
    if words:
        await _search(update, context, words)
        return
    await _show_page(update, context, BankBrowse(None, "", "", None, 0), edit=False)


async def browse_button(update: Update, context: BotContext, data: BankBrowse) -> None:
    """Another page, or the list under other filters (the pressed message is edited)."""
    await toast(update, context)
    await _show_page(update, context, data, edit=True)


def _filters_line(context: BotContext, data: BankBrowse, names: dict[str, str]) -> str | None:
    """The filters in force, as a line ("" when none)."""
    t = context.t
    parts = []
    if data.discipline is not None:
        parts.append(names.get("discipline", "?"))
    if data.kind:
        parts.append(cards.kind_label(t, data.kind))
    if data.language:
        parts.append(cards.language_names((data.language,)))
    if data.university is not None:
        parts.append(names.get("university", "?"))
    return t("bank.filters_line", filters=", ".join(parts)) if parts else None


async def _filter_names(context: BotContext, data: BankBrowse) -> dict[str, str]:
    """The names of the discipline and university filtered on, in the reader's language."""
    language = context.t.language
    names: dict[str, str] = {}
    if data.discipline is not None:
        for d in await svc.disciplines(context.db):
            if d.id == data.discipline:
                names["discipline"] = d.name_in(language)
    if data.university is not None:
        for u in await university_service.list_universities(context.db, include_hidden=True):
            if u.id == data.university:
                names["university"] = u.name(language)
    return names


def _line(context: BotContext, number: int, view: ResourceView) -> str:
    """One resource in a list: number, title, kind, rating."""
    t = context.t
    rating = (
        f"{cards.STARS} {t.number(view.rating_mean)}"
        if view.ratings and view.rating_mean is not None
        else ""
    )
    return t(
        "bank.list_line",
        number=number,
        title=shorten(cards.title(view, t), 120),
        kind=cards.kind_label(t, view.kind),
        rating=rating,
    )


def _open_buttons(
    context: BotContext, views: list[ResourceView], first: int
) -> list[InlineKeyboardButton]:
    t = context.t
    return [
        kb.button(
            shorten(f"{first + i}. {cards.title(view, t)}", LABEL_MAX), BankOpen(view.id).pack()
        )
        for i, view in enumerate(views)
    ]


async def _show_page(update: Update, context: BotContext, data: BankBrowse, *, edit: bool) -> None:
    """A page of approved resources under the filters, with paging, filters and the tools."""
    profile = require_profile(context)
    t = context.t
    found = await svc.browse(
        context.db,
        profile.telegram_id,
        discipline_id=data.discipline,
        kind=data.kind or None,
        language=data.language or None,
        university_id=data.university,
        page=data.page,
        per_page=PER_PAGE,
    )
    filtered = bool(
        data.discipline is not None or data.kind or data.language or data.university is not None
    )
    lines = [t("bank.title", count=t.number(found.total, trim=True))]
    filters = _filters_line(context, data, await _filter_names(context, data))
    if filters:
        lines.append(filters)
    lines.append("")
    first = found.page * PER_PAGE + 1
    if not found.items:
        lines.append(t("bank.none_filtered" if filtered else "bank.none"))
    for i, view in enumerate(found.items):
        lines.append(_line(context, first + i, view))
    rows: list[list[InlineKeyboardButton]] = [
        [button] for button in _open_buttons(context, found.items, first)
    ]
    if found.pages > 1:
        here = BankBrowse(data.discipline, data.kind, data.language, data.university, 0)
        paging: list[InlineKeyboardButton] = []
        if found.page > 0:
            paging.append(kb.button("◀", _at_page(here, found.page - 1).pack()))
        paging.append(
            kb.button(
                t.plain("bank.page", page=found.page + 1, pages=found.pages),
                _at_page(here, found.page).pack(),
            )
        )
        if found.page + 1 < found.pages:
            paging.append(kb.button("▶", _at_page(here, found.page + 1).pack()))
        rows.append(paging)
    rows += _filter_rows(context, data)
    rows.append([kb.button(t.plain("bank.search_button"), BankSearch().pack())])
    tools: list[InlineKeyboardButton] = []
    if await svc.may_contribute(context.db, profile.telegram_id, context.admin_ids):
        tools.append(kb.button(t.plain("bank.contribute_button"), BankNew().pack()))
    if await svc.may_moderate(context.db, profile.telegram_id, context.admin_ids):
        tools.append(kb.button(t.plain("bank.moderation_button"), BankModeration().pack()))
    if tools:
        rows.append(tools)
    text = "\n".join(lines)
    keyboard = InlineKeyboardMarkup(rows)
    if edit and update.callback_query is not None:
        await safe_edit(update, text, keyboard)
    else:
        await reply(update, context, text, keyboard)


def _at_page(data: BankBrowse, page: int) -> BankBrowse:
    return BankBrowse(data.discipline, data.kind, data.language, data.university, page)


def _filter_rows(context: BotContext, data: BankBrowse) -> list[list[InlineKeyboardButton]]:
    """The four filter buttons (marked when set) and, when any is set, one to clear them."""
    t = context.t

    def one(what: BankFilterKind, key: str, on: bool) -> InlineKeyboardButton:
        label = ("✓ " if on else "") + t.plain(key)
        pressed = BankFilter(what, data.discipline, data.kind, data.language, data.university)
        return kb.button(label, pressed.pack())

    rows = [
        [
            one(BankFilterKind.DISCIPLINE, "bank.filter_discipline", data.discipline is not None),
            one(BankFilterKind.KIND, "bank.filter_kind", bool(data.kind)),
        ],
        [
            one(BankFilterKind.LANGUAGE, "bank.filter_language", bool(data.language)),
            one(BankFilterKind.UNIVERSITY, "bank.filter_university", data.university is not None),
        ],
    ]
    if data.discipline is not None or data.kind or data.language or data.university is not None:
        rows.append(
            [kb.button(t.plain("bank.filters_clear"), BankBrowse(None, "", "", None, 0).pack())]
        )
    return rows


async def filter_button(update: Update, context: BotContext, data: BankFilter) -> None:
    """Offer the values of one filter (the others kept); "Any" removes it."""
    t = context.t
    language = t.language
    keep = BankBrowse(data.discipline, data.kind, data.language, data.university, 0)
    options: list[tuple[str, BankBrowse]] = []
    if data.what is BankFilterKind.DISCIPLINE:
        key = "bank.choose_discipline"
        for d in await svc.disciplines(context.db):
            options.append(
                (
                    d.name_in(language),
                    BankBrowse(d.id, keep.kind, keep.language, keep.university, 0),
                )
            )
        anyone = BankBrowse(None, keep.kind, keep.language, keep.university, 0)
    elif data.what is BankFilterKind.KIND:
        key = "bank.choose_kind"
        for kind in Kind:
            options.append(
                (
                    cards.kind_label(t, kind),
                    BankBrowse(keep.discipline, kind.value, keep.language, keep.university, 0),
                )
            )
        anyone = BankBrowse(keep.discipline, "", keep.language, keep.university, 0)
    elif data.what is BankFilterKind.LANGUAGE:
        key = "bank.choose_language"
        for code in FILTER_LANGUAGES:
            options.append(
                (
                    cards.language_names((code,)),
                    BankBrowse(keep.discipline, keep.kind, code, keep.university, 0),
                )
            )
        anyone = BankBrowse(keep.discipline, keep.kind, "", keep.university, 0)
    else:
        key = "bank.choose_university"
        for u in await university_service.list_universities(context.db):
            flag = kb.COUNTRY_FLAGS.get(u.country, "")
            options.append(
                (
                    f"{flag} {u.name(language)}".strip(),
                    BankBrowse(keep.discipline, keep.kind, keep.language, u.id, 0),
                )
            )
        anyone = BankBrowse(keep.discipline, keep.kind, keep.language, None, 0)
    buttons = [kb.button(shorten(label, LABEL_MAX), value.pack()) for label, value in options]
    buttons.append(kb.button(t.plain("bank.filter_any"), anyone.pack()))
    await toast(update, context)
    await safe_edit(update, t(key), kb.rows(buttons, per_row=2 if len(buttons) > 8 else 1))


# --- search -------------------------------------------------------------------------------------


async def search_button(update: Update, context: BotContext, data: BankSearch) -> None:
    """Ask for the words to search for."""
    await toast(update, context)
    await set_awaiting(context, waiting_for(SEARCH_ROUTE))
    await reply(update, context, context.t("bank.ask_search"))


async def typed_search(update: Update, context: BotContext, argument: str) -> None:
    """Search for the typed words; nothing found keeps waiting for other words."""
    await _search(update, context, typed_text(update))


async def _search(update: Update, context: BotContext, words: str) -> None:
    """The approved resources whose title or description match `words`, best first."""
    profile = require_profile(context)
    t = context.t
    query = " ".join(words.split())
    if not query:
        await set_awaiting(context, waiting_for(SEARCH_ROUTE))
        await reply(update, context, t("bank.ask_search"))
        return
    found = await search_service.search(
        context.db, profile.telegram_id, query, limit=SEARCH_SHOWN + 1
    )
    shown_query = shorten(query, 60)
    if not found:
        await set_awaiting(context, waiting_for(SEARCH_ROUTE))
        await reply(update, context, t("bank.search_none", query=shown_query))
        return
    await stop_waiting(context, ROUTES)
    views = found[:SEARCH_SHOWN]
    lines = [t("bank.search_title", query=shown_query, count=len(views)), ""]
    lines += [_line(context, i + 1, view) for i, view in enumerate(views)]
    if len(found) > SEARCH_SHOWN:
        lines += ["", t("bank.search_more", count=SEARCH_SHOWN)]
    buttons = _open_buttons(context, views, 1)
    buttons.append(kb.button(t.plain("bank.search_again"), BankSearch().pack()))
    text = fit_lines(lines, lambda count: t("bank.list_more", count=count))
    await reply(update, context, text, kb.rows(buttons))


# --- one resource -------------------------------------------------------------------------------


def _rating_row(view: ResourceView) -> list[InlineKeyboardButton]:
    """Five buttons, 1..5 stars; the person's current rating marked."""
    return [
        kb.button(
            f"{'✓' if view.my_rating == n else ''}{n}{cards.STARS}", BankRate(view.id, n).pack()
        )
        for n in range(1, 6)
    ]


def card_keyboard(context: BotContext, view: ResourceView) -> InlineKeyboardMarkup:
    """Get (the file and/or link), the stars once used, and back to the bank."""
    t = context.t
    rows: list[list[InlineKeyboardButton]] = []
    if view.has_file or view.url:
        key = "bank.get_file_button" if view.has_file else "bank.get_link_button"
        rows.append([kb.button(t.plain(key), BankGet(view.id).pack())])
    if view.used_by_me and view.state is svc.State.APPROVED:
        rows.append(_rating_row(view))
    rows.append([kb.button(t.plain("bank.back_button"), BankBrowse(None, "", "", None, 0).pack())])
    return InlineKeyboardMarkup(rows)


async def show_card(update: Update, context: BotContext, ref: int | str) -> None:
    """Send a resource's card (by id or code), if the person may see it."""
    profile = require_profile(context)
    t = context.t
    view = await svc.get(context.db, profile.telegram_id, ref, admin_ids=context.admin_ids)
    text = cards.card(view, t)
    if view.state is not svc.State.APPROVED:
        text += "\n\n" + t("bank.card_state", state=cards.state_label(t, view.state))
    elif view.used_by_me:
        text += "\n\n" + t("bank.rate_prompt")
    await reply(update, context, text, card_keyboard(context, view))


async def open_by_link(update: Update, context: BotContext, code: str) -> None:
    """Open the resource a `?start=r-<code>` link names (an inline card's Open button).

    `?start=r-` (inline mode's "open the bank" button) opens the bank's first page.
    """
    if not code:
        await _show_page(update, context, BankBrowse(None, "", "", None, 0), edit=False)
        return
    try:
        await show_card(update, context, code)
    except ServiceError as exc:
        await reply(update, context, context.t(exc.key, **exc.values))


async def open_button(update: Update, context: BotContext, data: BankOpen) -> None:
    """A resource chosen from a list."""
    await toast(update, context)
    await show_card(update, context, data.resource)


async def get_button(update: Update, context: BotContext, data: BankGet) -> None:
    """Send the file (by its file_id) and/or the link; one use per person is counted."""
    profile = require_profile(context)
    t = context.t
    chat = update.effective_chat
    if chat is None:
        return
    view = await svc.open_resource(
        context.db, profile.telegram_id, data.resource, admin_ids=context.admin_ids
    )
    await toast(update, context)
    name = cards.title(view, t)
    if view.file_id:
        try:
            await context.bot.send_document(
                chat.id, view.file_id, caption=t("bank.file_caption", title=name)
            )
        except BadRequest:
            # File ids belong to one bot: a file sent to an earlier bot (another token) is
            # gone for this one. Said plainly; the link, if any, still follows.
            logger.warning("resource %s: its file_id is not valid for this bot", view.code)
            await reply(update, context, t("bank.file_unavailable", title=name))
    if view.url:
        link = kb.rows([InlineKeyboardButton(t.plain("bank.open_link_button"), url=view.url)])
        await reply(update, context, t("bank.link_message", title=name, link=view.url), link)
    if view.state is not svc.State.APPROVED:
        return  # a moderator's or the contributor's look: nothing to rate
    key = "bank.rate_again" if view.my_rating is not None else "bank.rate_ask"
    stars = cards.STARS * (view.my_rating or 0)
    await reply(
        update,
        context,
        t(key, title=name, stars=stars),
        InlineKeyboardMarkup([_rating_row(view)]),
    )


# --- rating -------------------------------------------------------------------------------------


async def rate_button(update: Update, context: BotContext, data: BankRate) -> None:
    """Rate 1..5 (only after using it; again: replaces), then offer to add a comment."""
    profile = require_profile(context)
    t = context.t
    view = await svc.rate(context.db, profile.telegram_id, data.resource, data.rating)
    stars = cards.STARS * data.rating
    await toast(update, context, t.plain("bank.rated_toast", stars=stars))
    await set_awaiting(context, waiting_for(COMMENT_ROUTE, f"{view.id}-{data.rating}"))
    keyboard = kb.rows([kb.button(t.plain("bank.skip_comment"), BankRateSkip(view.id).pack())])
    await reply(
        update,
        context,
        t("bank.rated_ask_comment", stars=stars, title=cards.title(view, t)),
        keyboard,
    )


async def typed_comment(update: Update, context: BotContext, argument: str) -> None:
    """The optional comment with a rating (a too long one is explained, waiting goes on)."""
    profile = require_profile(context)
    t = context.t
    resource_part, _, rating_part = argument.partition("-")
    resource_id, rating = int_argument(resource_part), int_argument(rating_part)
    if resource_id is None or rating is None:
        await stop_waiting(context, ROUTES)
        await reply(update, context, t("errors.not_understood"))
        return
    try:
        await svc.rate(context.db, profile.telegram_id, resource_id, rating, typed_text(update))
    except ServiceError as exc:
        if exc.key != "bank.text_too_long":  # nothing else a shorter text would mend
            await stop_waiting(context, ROUTES)
        await reply(update, context, t(exc.key, **exc.values))
        return
    await stop_waiting(context, ROUTES)
    await reply(update, context, t("bank.comment_saved"))


async def skip_comment_button(update: Update, context: BotContext, data: BankRateSkip) -> None:
    """No comment: stop waiting for one."""
    await stop_waiting(context, ROUTES)
    await toast(update, context)
    query = update.callback_query
    if query is not None and query.message is not None:
        await safe_edit(update, context.t("bank.comment_skipped"))
