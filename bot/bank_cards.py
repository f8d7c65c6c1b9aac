"""A resource of the bank as people read it: the card, its labels and its deep link.

The bank's handler modules (`handlers.bank`, `handlers.bank_contribute`, `handlers.bank_inline`)
may not import one another, and all three show the same card: in /resources, in the
contributor's preview and in the message an inline result posts into another chat. So the
card lives here, as text in the reader's language (HTML, values escaped by the translator);
the keyboards stay with the handlers.
"""

from __future__ import annotations

import html

from telegram.helpers import create_deep_linked_url

from bot.i18n import Translator
from bot.keyboards import LANGUAGE_LABELS
from bot.replies import shorten
from bot.services.resources import (
    KIND_LABELS,
    LEVEL_LABELS,
    STATE_LABELS,
    Kind,
    Level,
    ResourceView,
    State,
    pick,
)

DEEP_LINK = "r"  # t.me/<bot>?start=r-<code>
DESCRIPTION_CHARS = 700  # of the description on a card (the whole one is in the preview)
ALL_RIGHTS = "all rights reserved"  # the one license name that is words, translated
STARS = "⭐"


def title(view: ResourceView, t: Translator) -> str:
    """The title in the reader's language (plain text), else its code."""
    return view.title_in(t.language) or view.code


def kind_label(t: Translator, kind: Kind | str | None) -> str:
    """The kind as the reader says it ("—" when not chosen)."""
    if kind is None or kind == "":
        return "—"
    return t.plain(KIND_LABELS[Kind(kind)])


def level_label(t: Translator, level: Level | str | None) -> str:
    """The level as the reader says it ("—" when not chosen)."""
    if level is None or level == "":
        return "—"
    return t.plain(LEVEL_LABELS[Level(level)])


def state_label(t: Translator, state: State) -> str:
    """The moderation state as the reader says it."""
    return t.plain(STATE_LABELS[state])


def license_label(t: Translator, license_: str | None) -> str:
    """The license: its short name (CC BY-SA), "all rights reserved" in the reader's words."""
    if not license_:
        return "—"
    return t.plain("bank.license_all_rights") if license_ == ALL_RIGHTS else license_


def language_names(languages: tuple[str, ...] | list[str]) -> str:
    """The languages of a resource by their own names (other codes in capitals)."""
    return ", ".join(LANGUAGE_LABELS.get(code, code.upper()) for code in languages) or "—"


def size_text(t: Translator, size: int | None) -> str:
    """A file size as people read it: KB under a megabyte, else MB with one decimal."""
    if not size:
        return "—"
    if size < 1024 * 1024:
        return t.plain("bank.size_kb", size=t.number(max(1, round(size / 1024)), trim=True))
    return t.plain("bank.size_mb", size=t.number(size / (1024 * 1024)))


def rating_line(view: ResourceView, t: Translator) -> str:
    """The mean rating with how many rated, and how many people used it."""
    uses = t.number(view.uses, trim=True)
    if view.ratings and view.rating_mean is not None:
        return t(
            "bank.card_rating",
            mean=t.number(view.rating_mean),
            n=t.number(view.ratings, trim=True),
            uses=uses,
        )
    return t("bank.card_no_rating", uses=uses)


def card(
    view: ResourceView,
    t: Translator,
    *,
    full: bool = False,
    numbers: bool = True,
    link: bool = True,
    mine: bool = True,
) -> str:
    """The resource's card (HTML).

    `full`: the whole description (the contributor's preview); `numbers`: the rating and
    uses; `link`: the resource's own link written out; `mine`: the reader's own rating (not
    on a card shared with others).
    """
    language = t.language
    lines = [t("bank.card_title", title=title(view, t))]
    description = view.description_in(language)
    if description:
        body = description if full else shorten(description, DESCRIPTION_CHARS)
        lines.append(html.escape(body, quote=False))
    lines.append("")
    lines.append(
        t("bank.card_kind_level", kind=kind_label(t, view.kind), level=level_label(t, view.level))
    )
    discipline = pick(view.discipline_name, language) if view.discipline_name else "—"
    lines.append(t("bank.card_discipline", discipline=discipline))
    lines.append(t("bank.card_languages", languages=language_names(view.languages)))
    lines.append(t("bank.card_license", license=license_label(t, view.license)))
    if view.authors:
        lines.append(t("bank.card_authors", authors=view.authors))
    university = pick(view.university_name, language) if view.university_name else "—"
    lines.append(t("bank.card_university", university=university))
    if view.has_file:
        lines.append(
            t(
                "bank.card_file",
                name=view.file_name or t.plain("bank.file_unnamed"),
                size=size_text(t, view.file_size),
            )
        )
    if view.url and link:
        lines.append(t("bank.card_link", link=view.url))
    if numbers:
        lines.append(rating_line(view, t))
        if mine and view.my_rating is not None:
            lines.append(t("bank.card_my_rating", stars=STARS * view.my_rating))
    return "\n".join(lines)


def deep_link(bot_username: str, code: str) -> str:
    """`https://t.me/<bot>?start=r-<code>`: opens the resource's card in the bot."""
    return create_deep_linked_url(bot_username, f"{DEEP_LINK}-{code}")
