"""The shared cleaning of typed text (bot/text.py): what is removed, what is kept."""

from __future__ import annotations

import pytest

from bot.text import clean_block, clean_line, is_blank, visible

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def test_a_line_loses_controls_and_keeps_letters_of_every_script():
    """NUL, ESC, DEL, a C1 control and a lone surrogate were typed into a name."""
    assert clean_line("Pedagogy\x00, PO\x1b-21\x7f\x9b\ud800") == "Pedagogy, PO-21"
    assert clean_line("  ПО-21\n\tИнформатика  ") == "ПО-21 Информатика"
    assert clean_line("Әйгерім") == "Әйгерім"
    # Decomposed letters (as some keyboards send them) are stored composed.
    assert clean_line("A\u0306") == "\u0102"


def test_invisible_characters_are_trimmed_at_the_ends_only():
    """A zero-width joiner inside an emoji sequence is content; at the ends it is noise."""
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_line(f"\ufeff\u200b{family} club\u2060 ") == f"{family} club"
    assert clean_line(ZERO_WIDTH) == ""


def test_a_block_keeps_its_lines_and_tabs():
    """Multi-line answers: only the line ends are normalised and controls other than tab go."""
    assert clean_block("\u200b first\r\nsecond\x00\rthird\tcol \n") == "first\nsecond\nthird\tcol"


@pytest.mark.parametrize(
    "text", ["", "   ", ZERO_WIDTH, "\u3164\u2800", "\x00\x01", " \u200e\u200f\n"]
)
def test_blank_texts(text):
    """Whitespace, zero-width/format characters, fillers and controls show nothing."""
    assert is_blank(text)


@pytest.mark.parametrize("text", ["a", ".", "\u200bx", "0"])
def test_texts_that_show_something(text):
    """One visible character is enough."""
    assert not is_blank(text)


def test_visible_is_what_a_parser_should_see():
    """A date pasted with a left-to-right mark and a zero-width space."""
    assert visible("\u200e01.09.2026\u200b") == "01.09.2026"
    assert visible(" 2026-12-01 \u00a0 18:30\x00") == "2026-12-01 18:30"
