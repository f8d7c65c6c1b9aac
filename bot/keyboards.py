"""Inline keyboards and the short callback-data codes behind their buttons.

Callback data is at most 64 bytes and a Cyrillic letter takes two, so buttons carry short
ASCII codes (`uni:3`, `inv:u:coach:0`), never labels. Codes are parsed back here and every id
in them is re-checked by a service against the user who pressed the button.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import LanguagePick
from bot.config import LANGUAGES

LANGUAGE_LABELS = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
COUNTRY_FLAGS = {"KZ": "🇰🇿", "RU": "🇷🇺", "UZ": "🇺🇿"}
CALLBACK_MAX_BYTES = 64


def button(label: str, data: str) -> InlineKeyboardButton:
    """A callback button; refuses data Telegram would reject, at build time."""
    if not 1 <= len(data.encode()) <= CALLBACK_MAX_BYTES:
        raise ValueError(f"callback data must be 1-64 bytes: {data!r}")
    return InlineKeyboardButton(label, callback_data=data)


def rows(buttons: Iterable[InlineKeyboardButton], per_row: int = 1) -> InlineKeyboardMarkup:
    """Lay buttons out `per_row` to a row."""
    items = list(buttons)
    return InlineKeyboardMarkup([items[i : i + per_row] for i in range(0, len(items), per_row)])


def languages(selected: str | None) -> InlineKeyboardMarkup:
    """One button per language; the preselected one is marked."""
    return rows(
        (
            button(
                ("✓ " if lang == selected else "") + LANGUAGE_LABELS[lang],
                LanguagePick(lang).pack(),
            )
            for lang in LANGUAGES
        ),
        per_row=3,
    )


def split(data: str, prefix: str, parts: int) -> Sequence[str] | None:
    """Split `prefix:a:b` into its parts after the prefix, or None if the shape is wrong."""
    pieces = data.split(":")
    if pieces[0] != prefix or len(pieces) != parts + 1:
        return None
    return pieces[1:]


def parse_int(text: str) -> int | None:
    """A non-negative int from callback data, or None for anything forged."""
    # ASCII only: "²" is a digit to str.isdigit() but int() raises on it.
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None
