"""Telegram text formatting for the sandbox: parse_mode HTML / MarkdownV2 / Markdown to entities.

The emulator needs the visible text of every message the bot sends: Telegram counts the 4096
and 1024 character limits after entity parsing, compares edits by visible text and entities
("message is not modified"), and answers a malformed markup with "can't parse entities". This
module turns marked-up text into ``(plain_text, entities)`` the way the Bot API does, with
entity offsets and lengths in UTF-16 code units as Telegram reports them, and raises
:class:`MarkupError` with Telegram-like wording for what Telegram refuses.

HTML follows the documented rules closely (the tags Telegram supports, the four named entities
plus numeric ones, byte offsets in errors). MarkdownV2 is close enough to catch the classic
production bug, an unescaped reserved character such as ``.`` or ``-``; legacy Markdown is
rough.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MarkupError", "parse", "utf16_len"]


class MarkupError(ValueError):
    """Raised for text Telegram would refuse with "Bad Request: can't parse entities: ..."."""


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, the unit of Telegram offsets."""
    if text.isascii():
        # Fast path: most bot text is ASCII, where code points and code units coincide.
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    # Telegram reports error positions as UTF-8 byte offsets into the source; computed only on
    # the error path so parsing stays linear.
    return len(text[:index].encode("utf-8"))


def parse(text: str, parse_mode: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse ``text`` marked up in ``parse_mode`` into visible text and Telegram entities.

    ``parse_mode`` is case-insensitive ("HTML", "MarkdownV2", "Markdown"). Raises
    :class:`ValueError` for an unknown mode and :class:`MarkupError` for malformed markup.
    """
    mode = parse_mode.lower()
    if mode == "html":
        return _HtmlParser(text).run()
    if mode == "markdownv2":
        return _MarkdownV2Parser(text).run()
    if mode == "markdown":
        return _parse_legacy_markdown(text)
    raise ValueError(f"unsupported parse_mode {parse_mode!r}")


class _Builder:
    """Accumulates visible text and keeps the running UTF-16 position for entity offsets."""

    __slots__ = ("chunks", "entities", "pos")

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.entities: list[dict[str, Any]] = []
        self.pos = 0

    def add(self, chunk: str) -> None:
        if chunk:
            self.chunks.append(chunk)
            self.pos += utf16_len(chunk)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        length = self.pos - start
        # Telegram silently drops empty entities such as "<b></b>".
        if length > 0:
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        # Entities are closed innermost first; Telegram lists them by offset, outer first.
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.chunks), self.entities


# --- HTML -----------------------------------------------------------------------------------

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_SPECIAL = re.compile(r"[<&]")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_TAG_NAME = re.compile(r"[A-Za-z0-9-]*")
_ATTRIBUTE = re.compile(
    r"""([A-Za-z0-9_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""",
)


def _decode_entity(match: re.Match[str]) -> str:
    decimal, hexadecimal, named = match.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"


def _unescape_attribute(value: str) -> str:
    return _ENTITY.sub(_decode_entity, value) if "&" in value else value


class _OpenTag:
    __slots__ = ("attrs", "name", "offset", "start")

    def __init__(self, name: str, start: int, offset: int, attrs: dict[str, str]) -> None:
        self.name = name
        self.start = start
        self.offset = offset
        self.attrs = attrs


class _HtmlParser:
    """One pass over the source: text and entity references go out, tags open/close entities."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.out = _Builder()
        self.stack: list[_OpenTag] = []
        # A <code class="language-x"> directly inside <pre> sets the pre entity's language
        # instead of producing its own code entity, as Telegram does.
        self.pre_language: dict[int, str] = {}

    def fail(self, message: str) -> MarkupError:
        return MarkupError(message)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        src, n, i = self.src, len(self.src), 0
        while i < n:
            match = _SPECIAL.search(src, i)
            if match is None:
                self.out.add(src[i:])
                break
            j = match.start()
            self.out.add(src[i:j])
            if src[j] == "&":
                entity = _ENTITY.match(src, j)
                if entity:
                    self.out.add(_decode_entity(entity))
                    i = entity.end()
                else:
                    # A lone "&" that starts no known entity is kept as text.
                    self.out.add("&")
                    i = j + 1
            elif src.startswith("</", j):
                i = self.end_tag(j)
            else:
                i = self.start_tag(j)
        if self.stack:
            raise self.fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        return self.out.result()

    def start_tag(self, j: int) -> int:
        src = self.src
        name_match = _TAG_NAME.match(src, j + 1)
        assert name_match is not None  # the pattern accepts the empty string
        name = name_match.group().lower()
        if name not in _HTML_TAGS:
            raise self.fail(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, j)}'
            )
        attrs: dict[str, str] = {}
        k = name_match.end()
        while True:
            while k < len(src) and src[k].isspace():
                k += 1
            if k >= len(src):
                raise self.fail(f"Unclosed start tag at byte offset {_byte_offset(src, j)}")
            if src[k] == ">":
                k += 1
                break
            attribute = _ATTRIBUTE.match(src, k)
            if attribute is None:
                raise self.fail(
                    f'Empty attribute name in the tag "{name}" at byte offset '
                    f"{_byte_offset(src, j)}"
                )
            key = attribute.group(1).lower()
            value = next((g for g in attribute.groups()[1:] if g is not None), "")
            attrs[key] = _unescape_attribute(value)
            k = attribute.end()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise self.fail('Tag "span" must have class "tg-spoiler"')
        self.stack.append(_OpenTag(name, self.out.pos, j, attrs))
        return k

    def end_tag(self, j: int) -> int:
        src = self.src
        name_match = _TAG_NAME.match(src, j + 2)
        assert name_match is not None
        name = name_match.group().lower()
        k = name_match.end()
        while k < len(src) and src[k].isspace():
            k += 1
        if k >= len(src) or src[k] != ">":
            raise self.fail(f"Unclosed end tag at byte offset {_byte_offset(src, j)}")
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {_byte_offset(src, j)}")
        tag = self.stack[-1]
        if tag.name != name:
            raise self.fail(
                f"Unmatched end tag at byte offset {_byte_offset(src, j)}, "
                f'expected "</{tag.name}>", found "</{name}>"'
            )
        self.stack.pop()
        self.close(tag)
        return k + 1

    def close(self, tag: _OpenTag) -> None:
        out = self.out
        kind = _HTML_TAGS[tag.name]
        if kind == "text_link":
            href = tag.attrs.get("href", "")
            # <a> without a usable href is plain text in Telegram.
            if href:
                out.entity("text_link", tag.start, url=href)
        elif kind == "code":
            language = tag.attrs.get("class", "")
            parent = self.stack[-1] if self.stack else None
            if parent is not None and parent.name == "pre" and language.startswith("language-"):
                self.pre_language[id(parent)] = language.removeprefix("language-")
            else:
                out.entity("code", tag.start)
        elif kind == "pre":
            language = self.pre_language.pop(id(tag), "")
            if language:
                out.entity("pre", tag.start, language=language)
            else:
                out.entity("pre", tag.start)
        elif kind == "blockquote":
            expandable = "expandable" in tag.attrs
            out.entity("expandable_blockquote" if expandable else "blockquote", tag.start)
        elif kind == "custom_emoji":
            emoji_id = tag.attrs.get("emoji-id")
            if not emoji_id:
                raise self.fail('Tag "tg-emoji" must have attribute "emoji-id"')
            out.entity("custom_emoji", tag.start, custom_emoji_id=emoji_id)
        else:
            out.entity(kind, tag.start)


# --- MarkdownV2 -----------------------------------------------------------------------------

_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
}


class _MarkdownV2Parser:
    """MarkdownV2 as documented: toggling markers, links, code, pre, line blockquotes."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.out = _Builder()
        # (entity type, visible start, source index of the marker)
        self.stack: list[tuple[str, int, int]] = []
        self.quote_start: int | None = None

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        src, n, i = self.src, len(self.src), 0
        out = self.out
        while i < n:
            c = src[i]
            if c == "\\":
                if i + 1 < n and 0 < ord(src[i + 1]) < 127:
                    out.add(src[i + 1])
                    i += 2
                else:
                    out.add("\\")
                    i += 1
            elif c == "\n":
                if self.quote_start is not None and not src.startswith(">", i + 1):
                    # A blockquote ends with the last line that starts with ">".
                    out.entity("blockquote", self.quote_start)
                    self.quote_start = None
                out.add(c)
                i += 1
            elif c == ">" and (i == 0 or src[i - 1] == "\n"):
                if self.quote_start is None:
                    self.quote_start = out.pos
                i += 1
            elif c == "`":
                i = self.code(i)
            elif c == "*":
                self.toggle("bold", i)
                i += 1
            elif c == "~":
                self.toggle("strikethrough", i)
                i += 1
            elif c == "_":
                if src.startswith("__", i):
                    self.toggle("underline", i)
                    i += 2
                else:
                    self.toggle("italic", i)
                    i += 1
            elif c == "|" and src.startswith("||", i):
                self.toggle("spoiler", i)
                i += 2
            elif c == "[":
                self.stack.append(("text_link", out.pos, i))
                i += 1
            elif c == "]" and any(kind == "text_link" for kind, _, _ in self.stack):
                i = self.link_end(i)
            elif c in _MDV2_RESERVED:
                raise MarkupError(
                    f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
                )
            else:
                out.add(c)
                i += 1
        if self.stack:
            kind, _, index = self.stack[-1]
            raise MarkupError(
                f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset "
                f"{_byte_offset(src, index)}"
            )
        if self.quote_start is not None:
            out.entity("blockquote", self.quote_start)
        return out.result()

    def toggle(self, kind: str, index: int) -> None:
        for position in range(len(self.stack) - 1, -1, -1):
            if self.stack[position][0] == kind:
                _, start, _ = self.stack.pop(position)
                self.out.entity(kind, start)
                return
        self.stack.append((kind, self.out.pos, index))

    def link_end(self, i: int) -> int:
        src = self.src
        position = max(p for p, item in enumerate(self.stack) if item[0] == "text_link")
        _, start, _ = self.stack.pop(position)
        if not src.startswith("(", i + 1):
            raise MarkupError(
                "Character ']' is reserved and must be escaped with the preceding '\\'"
            )
        url_chars: list[str] = []
        k = i + 2
        while k < len(src) and src[k] != ")":
            if src[k] == "\\" and k + 1 < len(src):
                k += 1
            url_chars.append(src[k])
            k += 1
        if k >= len(src):
            raise MarkupError(f"Can't find end of a URL at byte offset {_byte_offset(src, i + 1)}")
        self.out.entity("text_link", start, url="".join(url_chars))
        return k + 1

    def code(self, i: int) -> int:
        src, out = self.src, self.out
        pre = src.startswith("```", i)
        k = i + 3 if pre else i + 1
        language = ""
        if pre:
            newline = src.find("\n", k)
            first_line = src[k:newline] if newline != -1 else ""
            if newline != -1 and first_line and not any(ch.isspace() for ch in first_line):
                language = first_line
                k = newline + 1
        start = out.pos
        closing = "```" if pre else "`"
        while k < len(src):
            if src[k] == "\\" and k + 1 < len(src) and src[k + 1] in "`\\":
                out.add(src[k + 1])
                k += 2
            elif src.startswith(closing, k):
                if pre:
                    extra = {"language": language} if language else {}
                    out.entity("pre", start, **extra)
                else:
                    out.entity("code", start)
                return k + len(closing)
            else:
                out.add(src[k])
                k += 1
        name = "PreCode" if pre else "Code"
        raise MarkupError(f"Can't find end of {name} entity at byte offset {_byte_offset(src, i)}")


# --- legacy Markdown --------------------------------------------------------------------------

_LEGACY = {"*": "bold", "_": "italic"}


def _parse_legacy_markdown(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    n, i = len(src), 0
    while i < n:
        c = src[i]
        if c == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            out.add(src[i + 1])
            i += 2
        elif c in _LEGACY or c == "`":
            pre = src.startswith("```", i)
            marker = "```" if pre else c
            end = src.find(marker, i + len(marker))
            if end == -1:
                raise MarkupError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(src, i)}"
                )
            start = out.pos
            out.add(src[i + len(marker) : end])
            out.entity("pre" if pre else "code" if c == "`" else _LEGACY[c], start)
            i = end + len(marker)
        elif c == "[":
            close = src.find("](", i)
            end = src.find(")", close + 2) if close != -1 else -1
            if end == -1:
                raise MarkupError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(src, i)}"
                )
            start = out.pos
            out.add(src[i + 1 : close])
            out.entity("text_link", start, url=src[close + 2 : end])
            i = end + 1
        else:
            out.add(c)
            i += 1
    return out.result()
