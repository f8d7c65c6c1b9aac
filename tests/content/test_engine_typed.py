"""Typed answers (text, date, number): invisible and control characters, the range of dates."""

from __future__ import annotations

import pytest

from bot.content.engine import AnswerError, compile_pack, parse_typed
from bot.content.validate import check_data

T = {"kk": "к", "ru": "р", "en": "e"}


def _typed_pack():
    """A survey with one text (up to 10 characters), one date and one number question."""
    report = check_data(
        {
            "code": "t",
            "version": 1,
            "kind": "survey",
            "title": T,
            "questions": [
                {"type": "text", "code": "t1", "text": T, "max_length": 10},
                {"type": "date", "code": "d1", "text": T},
                {"type": "number", "code": "n1", "text": T},
            ],
        },
        "t.yaml",
    )
    assert report.ok and report.pack is not None
    return compile_pack(report.pack)


@pytest.mark.parametrize("text", ["\u200b", "\u200b\u200c\u200d\u2060\ufeff", " \u200b\n "])
def test_a_text_answer_of_invisible_characters_is_empty(text):
    """Only zero-width characters used to be a stored answer; whitespace alone was refused."""
    with pytest.raises(AnswerError, match="empty_text"):
        parse_typed(_typed_pack().by_code["t1"], text)


def test_typed_answers_lose_control_characters():
    """A NUL in a text answer was stored as typed (SQLite kept it, PostgreSQL text refuses it);
    a date or number pasted with a left-to-right mark or a zero-width space was unreadable."""
    pack = _typed_pack()
    assert parse_typed(pack.by_code["t1"], "a\x00b\r\nc\x1b") == "ab\nc"
    assert parse_typed(pack.by_code["d1"], "\u200e01.09.2026\u200b") == "2026-09-01"
    assert parse_typed(pack.by_code["n1"], "1\u200b2\u200f") == 12


def test_dates_are_accepted_in_a_sensible_range_which_the_message_gives():
    """Year 1 (0001-01-01, 01.01.0001) was accepted and stored; now 1900-2100, and said so."""
    d1 = _typed_pack().by_code["d1"]
    assert parse_typed(d1, "1900-01-01") == "1900-01-01"
    assert parse_typed(d1, "31.12.2100") == "2100-12-31"
    for bad in ("0001-01-01", "01.01.0001", "31.12.1899", "2101-01-01", "01/01/9999"):
        with pytest.raises(AnswerError, match="date_out_of_range") as exc:
            parse_typed(d1, bad)
        assert exc.value.values == {"low": "01.01.1900", "high": "31.12.2100"}
