"""One translation layer for every user-visible string: gettext catalogs read with Babel.

Catalogs live in `bot/locales/<lang>/LC_MESSAGES/bot.po`. Message ids are stable keys such as
`onboarding.choose_language`; the English catalog holds the English text like the others, so a
missing translation is a failing test, never an English string leaking into a Kazakh chat.
Placeholders use `str.format` names (`{name}`); values are HTML-escaped because every message
is sent with parse mode HTML.

Numbers shown to people go through `format_number`: one decimal by default, with a decimal
comma in Kazakh and Russian ("3,7") and a point in English ("3.7"), as each language writes
them. Only what a person reads is rounded; stored and exported numbers never are.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from pathlib import Path

from babel.messages.pofile import read_po

from bot.config import LANGUAGES

logger = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "bot"
DECIMAL_COMMA = frozenset({"kk", "ru"})  # languages that write 3,7 rather than 3.7


def format_number(
    value: float, language: str, decimals: int = 1, *, sign: bool = False, trim: bool = False
) -> str:
    """`value` as a person reads it in `language`: rounded to `decimals`, never "-0.0".

    `sign` writes "+" before a positive number (a change); `trim` drops the decimals of a
    whole number ("5", not "5.0": maxima, points).
    """
    if trim and round(value, decimals) == round(value):
        decimals = 0
    text = f"{value:{'+' if sign else ''}.{decimals}f}"
    if float(text) == 0:
        text = f"{0:.{decimals}f}"  # neither "-0.0" nor "+0.0"
    return text.replace(".", ",") if language in DECIMAL_COMMA else text


def load_catalog(language: str, locales_dir: Path = LOCALES_DIR) -> dict[str, str]:
    """Read one language's catalog into a dict of key to text (untranslated keys left out)."""
    path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    messages: dict[str, str] = {}
    for message in catalog:
        text = message.string
        key = message.id
        if isinstance(key, str) and key and isinstance(text, str) and text and not message.fuzzy:
            messages[key] = text
    return messages


class Translator:
    """Translates keys into one language."""

    def __init__(self, language: str, messages: Mapping[str, str], fallback: Mapping[str, str]):
        """Bind `language` to its messages, with `fallback` for a key missing at run time."""
        self.language = language
        self._messages = messages
        self._fallback = fallback

    def _lookup(self, key: str) -> str:
        text = self._messages.get(key)
        if text is None:
            text = self._fallback.get(key)
            if text is None:
                logger.error("missing translation key %s", key)
                return key
            logger.warning("key %s missing in %s", key, self.language)
        return text

    def __call__(self, key: str, /, **values: object) -> str:
        """The HTML text for `key`, with `values` escaped and substituted."""
        text = self._lookup(key)
        if not values:
            return text
        return text.format(**{k: html.escape(str(v), quote=False) for k, v in values.items()})

    def plain(self, key: str, /, **values: object) -> str:
        """The text for `key` without escaping (button labels, toasts: not HTML)."""
        text = self._lookup(key)
        return text.format(**values) if values else text

    def number(
        self, value: float, decimals: int = 1, *, sign: bool = False, trim: bool = False
    ) -> str:
        """`value` written for a person in this language (see `format_number`)."""
        return format_number(value, self.language, decimals, sign=sign, trim=trim)


class I18n:
    """All catalogs, loaded once at start-up."""

    def __init__(self, default_language: str = "kk", locales_dir: Path = LOCALES_DIR):
        """Load every language's catalog; `default_language` serves unknown languages."""
        self.default_language = default_language
        self.catalogs = {lang: load_catalog(lang, locales_dir) for lang in LANGUAGES}
        self._translators = {
            lang: Translator(lang, self.catalogs[lang], self.catalogs["en"]) for lang in LANGUAGES
        }

    def translator(self, language: str | None) -> Translator:
        """The translator for `language`, or for the default language if it is unknown."""
        return self._translators.get(language or "", self._translators[self.default_language])

    def all(self, key: str, /, **values: object) -> dict[str, str]:
        """The plain text of `key` in every language (for command menus and the like)."""
        return {lang: self._translators[lang].plain(key, **values) for lang in LANGUAGES}


def pick_language(telegram_language: str | None, default: str) -> str:
    """Map Telegram's IETF language tag (e.g. `ru-RU`) to one of ours, else `default`."""
    if telegram_language:
        base = telegram_language.split("-", 1)[0].lower()
        if base in LANGUAGES:
            return base
    return default
