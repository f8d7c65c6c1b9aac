"""What a broadcast says: texts per language, a photo or document, link buttons, and the checks.

The content of a message the bot sends to many people (a broadcast, and the campaign
invitations and reminders queued in the same outbox), and the parsing of what a sender gave in
chat into it: `[kk] … [ru] … [en] …` sections, Telegram's length limits counted as Telegram
counts them, formatting that must not run from one language's section into another's, and
`Label | https://link` button lines. Pure functions: nothing here touches the database, so the
drafting service (`bot.services.broadcasts`) stores what these return.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.config import LANGUAGES
from bot.services import InvalidInput
from bot.text import clean_block, clean_line, is_blank

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
BUTTONS_MAX = 6
LABEL_MAX = 64


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a broadcast message: a link, or (bot-made messages) a callback."""

    label: str | dict[str, str]  # one label, or one per language
    url: str | None = None
    data: str | None = None

    def label_for(self, language: str, default: str) -> str:
        """The label in `language`."""
        if isinstance(self.label, str):
            return self.label
        return (
            self.label.get(language) or self.label.get(default) or next(iter(self.label.values()))
        )


@dataclass(frozen=True, slots=True)
class Content:
    """What a broadcast says, in one or more languages."""

    kind: str  # "text", "photo" or "document"
    texts: dict[str, str]
    file_id: str | None = None
    file_name: str | None = None
    buttons: tuple[Button, ...] = ()

    def text_for(self, language: str, default: str) -> str:
        """The text in `language`, else in the default language, else the first given."""
        if not self.texts:
            return ""
        return (
            self.texts.get(language) or self.texts.get(default) or next(iter(self.texts.values()))
        )


_LANG_MARK = re.compile(r"^\[(kk|ru|en)\][ \t]*\n?", re.MULTILINE)
_TAG = re.compile(r"<[^>]+>")


def visible_length(html_text: str) -> int:
    """Length of an HTML message as Telegram counts it (tags removed, entities decoded)."""
    return len(html.unescape(_TAG.sub("", html_text)))


_TAG_PARTS = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>")


def _shows_nothing(html_text: str) -> bool:
    """True when the HTML text shows nothing: no visible character once tags are removed."""
    return is_blank(html.unescape(_TAG.sub("", html_text)))


def _balanced(html_text: str) -> bool:
    """True when every formatting tag opened in the text is closed in it, in order."""
    stack: list[str] = []
    for closing, name in _TAG_PARTS.findall(html_text):
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def split_languages(html_text: str) -> dict[str, str]:
    """Split `[kk] ... [ru] ... [en] ...` sections; text without markers is for everyone.

    Returns:
        language -> text; the key "*" holds text given without any marker.
    """
    marks = list(_LANG_MARK.finditer(html_text))
    if not marks:
        return {"*": clean_block(html_text)}
    texts: dict[str, str] = {}
    lead = clean_block(html_text[: marks[0].start()])
    if not _shows_nothing(lead):
        texts["*"] = lead
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(html_text)
        body = clean_block(html_text[mark.end() : end])
        if not _shows_nothing(body):
            texts[mark.group(1)] = body
    return texts


def build_content(
    kind: str, html_text: str | None, file_id: str | None, file_name: str | None
) -> Content:
    """Validate a message the sender gave as broadcast content.

    Raises:
        InvalidInput: unsupported kind, empty content, text or caption over Telegram's limit.
    """
    if kind not in ("text", "photo", "document"):
        raise InvalidInput("broadcasts.unsupported")
    texts = split_languages(html_text) if html_text and not _shows_nothing(html_text) else {}
    if kind == "text" and not texts:
        raise InvalidInput("broadcasts.empty")
    if kind != "text" and not file_id:
        raise InvalidInput("broadcasts.unsupported")
    limit = TEXT_LIMIT if kind == "text" else CAPTION_LIMIT
    for language, text in texts.items():
        length = visible_length(text)
        if length > limit:
            key = "broadcasts.text_too_long" if kind == "text" else "broadcasts.caption_too_long"
            label = "" if language == "*" else f"[{language}] "
            raise InvalidInput(key, limit=limit, length=length, section=label)
        if _shows_nothing(text):
            raise InvalidInput("broadcasts.empty")
    for language, text in texts.items():
        if not _balanced(text):
            # Formatting that starts in one language's section and ends in another.
            label = "" if language == "*" else f"[{language}] "
            raise InvalidInput("broadcasts.formatting_across", section=label)
    if "*" in texts and len(texts) > 1:
        # Unmarked lead text next to marked sections: treat it as the default-language text
        # only if that language has no section of its own; otherwise it is ambiguous.
        raise InvalidInput("broadcasts.unmarked_text")
    file_name = (clean_line(file_name) or None) if file_name else None
    return Content(kind=kind, texts=texts, file_id=file_id, file_name=file_name)


def parse_buttons(text: str) -> tuple[Button, ...]:
    """Parse one `Label | https://link` per line.

    Raises:
        InvalidInput: a line without `|`, a label too long, a link that is not http(s), too many.
    """
    buttons = []
    for line in (clean_line(raw) for raw in text.splitlines()):
        if not line:
            continue
        label, sep, url = (clean_line(part) for part in line.partition("|"))
        if not sep or not label or not url:
            raise InvalidInput("broadcasts.button_format", line=line[:80])
        if len(label) > LABEL_MAX:
            raise InvalidInput("broadcasts.button_label_long", limit=LABEL_MAX)
        if not re.fullmatch(r"https?://[^\s]+\.[^\s]+", url) and not url.startswith("tg://"):
            raise InvalidInput("broadcasts.button_url", url=url[:80])
        buttons.append(Button(label=label, url=url))
    if not buttons:
        raise InvalidInput("broadcasts.button_format", line=text[:80])
    if len(buttons) > BUTTONS_MAX:
        raise InvalidInput("broadcasts.too_many_buttons", limit=BUTTONS_MAX)
    return tuple(buttons)


def available_languages(content: Content) -> list[str]:
    """Languages the content was given in (`*` means one text for everyone)."""
    return [lang for lang in LANGUAGES if lang in content.texts]
