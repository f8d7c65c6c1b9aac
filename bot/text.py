"""Cleaning text people type before it is stored, so SQLite and PostgreSQL keep the same thing.

PostgreSQL refuses a NUL character in text ("invalid byte sequence"), SQLite keeps it: the same
input worked on one database and failed on the other. Control characters (C0, DEL, C1) are
never content a person means to type, and a lone surrogate cannot be encoded at all, so they
are removed everywhere; newline and tab stay in multi-line texts only.

Format characters (Unicode category Cf: zero-width space and joiners, word joiner, BOM, bidi
marks) and the Hangul fillers draw nothing. They stay inside a text (a zero-width joiner builds
emoji and some scripts need the non-joiner) but are trimmed at its ends and do not count when
deciding whether a text is empty, so "\u200b\u200b" is refused like "   " is.
"""

from __future__ import annotations

import unicodedata

# Letters that render as blank space without being whitespace or format characters (the
# Hangul fillers and the blank Braille pattern are the usual "invisible name" trick).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_KEPT_IN_BLOCKS = frozenset("\n\t")


def _invisible(char: str) -> bool:
    """True for a character that shows nothing: whitespace, a format character, a filler."""
    return char.isspace() or char in _BLANK_LETTERS or unicodedata.category(char) == "Cf"


def _drop_controls(text: str, keep: frozenset[str] = frozenset()) -> str:
    """`text` without control characters and lone surrogates, except those in `keep`."""
    return "".join(c for c in text if c in keep or unicodedata.category(c) not in ("Cc", "Cs"))


def _trim(text: str) -> str:
    """`text` without the invisible characters at its ends."""
    start, end = 0, len(text)
    while start < end and _invisible(text[start]):
        start += 1
    while end > start and _invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def clean_line(text: str) -> str:
    """One line of typed text as stored: NFC, no control characters, single spaces, trimmed.

    Line breaks and tabs become spaces (a name is one line); other controls are removed.
    """
    text = unicodedata.normalize("NFC", text)
    spaced = "".join(" " if c.isspace() else c for c in text)
    return _trim(" ".join(_drop_controls(spaced).split()))


def clean_block(text: str) -> str:
    """Multi-line typed text as stored: NFC, LF line ends, no controls but tab, trimmed.

    Inner spacing and line breaks are kept: they are part of what was written.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return _trim(_drop_controls(text, _KEPT_IN_BLOCKS))


def is_blank(text: str) -> bool:
    """True when `text` shows nothing: only whitespace, controls and invisible characters."""
    return all(_invisible(c) or unicodedata.category(c) in ("Cc", "Cs") for c in text)


def visible(text: str) -> str:
    """`text` without anything invisible, for parsing a typed number, date or time.

    A date copied from a document often carries a left-to-right mark or a zero-width space;
    what the person sees is what is parsed. Spaces between words become one space.
    """
    kept = []
    for char in unicodedata.normalize("NFC", text):
        if char.isspace():
            kept.append(" ")
        elif not (_invisible(char) or unicodedata.category(char) in ("Cc", "Cs")):
            kept.append(char)
    return " ".join("".join(kept).split())
