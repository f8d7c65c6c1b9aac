"""The sandbox's parse_mode parsing: visible text, UTF-16 entity offsets, Telegram's errors."""

from __future__ import annotations

import pytest

from bot.sandbox.markup import MarkupError, parse, utf16_len


def test_html_gives_visible_text_and_entities():
    text, entities = parse(
        "Hi <b>Alice</b> &amp; <i>Bob <u>x</u></i>, <a href='https://e.kz/?a=1&amp;b=2'>site</a>",
        "HTML",
    )
    assert text == "Hi Alice & Bob x, site"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 5},
        {"type": "italic", "offset": 11, "length": 5},
        {"type": "underline", "offset": 15, "length": 1},
        {"type": "text_link", "offset": 18, "length": 4, "url": "https://e.kz/?a=1&b=2"},
    ]


def test_offsets_are_utf16_code_units():
    text, entities = parse("😀 <b>Сәлем</b>", "HTML")
    assert text == "😀 Сәлем"
    # The emoji takes two UTF-16 code units, Cyrillic letters one each.
    assert entities == [{"type": "bold", "offset": 3, "length": 5}]
    assert utf16_len("😀") == 2 and utf16_len("Сәлем") == 5


def test_html_synonyms_spoilers_quotes_and_pre_language():
    text, entities = parse(
        "<strong>a</strong><em>b</em><ins>c</ins><del>d</del><tg-spoiler>e</tg-spoiler>"
        '<span class="tg-spoiler">f</span><blockquote expandable>g</blockquote>'
        '<pre><code class="language-python">h</code></pre><code>i</code>&#1241;&#x4E2D;&lt;&quot;',
        "html",
    )
    assert text == 'abcdefghiә中<"'
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "spoiler",
        "expandable_blockquote",
        "pre",
        "code",
    ]
    assert entities[7]["language"] == "python"


def test_empty_tags_and_bare_ampersand():
    assert parse("<b></b>R&D", "HTML") == ("R&D", [])


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<font>x</font>", 'Unsupported start tag "font" at byte offset 0'),
        ("Сәлем <br>", 'Unsupported start tag "br" at byte offset 11'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
def test_html_errors_use_telegram_wording(source, error):
    with pytest.raises(MarkupError) as caught:
        parse(source, "HTML")
    assert str(caught.value) == error


def test_markdown_v2_entities_and_escapes():
    text, entities = parse(
        r"*bold* _it_ __u__ ~s~ ||sp|| `a\`b` [l](https://x.kz/\)) 1\.5\!", "MarkdownV2"
    )
    assert text == "bold it u s sp a`b l 1.5!"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    assert entities[-1]["url"] == "https://x.kz/)"


def test_markdown_v2_pre_and_blockquote():
    assert parse("```python\nprint(1)\n```", "MarkdownV2") == (
        "print(1)\n",
        [{"type": "pre", "offset": 0, "length": 9, "language": "python"}],
    )
    assert parse(">one\n>two\nafter", "MarkdownV2") == (
        "one\ntwo\nafter",
        [{"type": "blockquote", "offset": 0, "length": 7}],
    )


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("Score: 4.5", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("PO-21", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("*never closed", "Can't find end of Bold entity at byte offset 0"),
        ("ok `code", "Can't find end of Code entity at byte offset 3"),
    ],
)
def test_markdown_v2_errors(source, error):
    with pytest.raises(MarkupError) as caught:
        parse(source, "MarkdownV2")
    assert str(caught.value) == error


def test_legacy_markdown_is_lenient_about_punctuation():
    assert parse("*Score:* 4.5 - [link](https://x.kz)", "Markdown") == (
        "Score: 4.5 - link",
        [
            {"type": "bold", "offset": 0, "length": 6},
            {"type": "text_link", "offset": 13, "length": 4, "url": "https://x.kz"},
        ],
    )
    with pytest.raises(MarkupError):
        parse("*open", "Markdown")


def test_unknown_parse_mode_is_a_value_error():
    with pytest.raises(ValueError, match="unsupported parse_mode"):
        parse("x", "BBCode")
