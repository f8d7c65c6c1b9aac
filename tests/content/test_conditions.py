"""The safe condition language: what it accepts, what it refuses, how it evaluates."""

from __future__ import annotations

import pytest

from bot.content.conditions import ConditionError, parse


@pytest.mark.parametrize(
    ("source", "answers", "expected"),
    [
        ("q1 == 'a'", {"q1": "a"}, True),
        ("q1 == 'a'", {"q1": "b"}, False),
        ("q1 != 'a'", {}, False),  # unanswered satisfies no comparison
        ("q2 >= 4 and q3 != 'no'", {"q2": 4, "q3": "yes"}, True),
        ("q2 >= 4 and q3 != 'no'", {"q2": 3, "q3": "yes"}, False),
        ("'b' in q4", {"q4": ("a", "b")}, True),
        ("'c' in q4", {"q4": ("a", "b")}, False),
        ("q5 in ('a', 'b')", {"q5": "b"}, True),
        ("q5 not in ['a', 'b']", {"q5": "c"}, True),
        ("not (q6 == 'yes') or q7 < 2.5", {"q6": "yes", "q7": 2}, True),
        ("1 < q8 <= 3", {"q8": 3}, True),
        ("1 < q8 <= 3", {"q8": 4}, False),
        ("q9 > 2", {"q9": "text"}, False),  # mismatched types: not met, no crash
    ],
)
def test_evaluation(source, answers, expected):
    assert parse(source).evaluate(answers) is expected


def test_names_are_collected():
    assert parse("q1 == 'a' and ('x' in q2 or q3 > 1)").names == {"q1", "q2", "q3"}


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('echo owned')",
        "q1.upper() == 'A'",
        "q1[0] == 'a'",
        "q1 + 1 > 2",
        "lambda: 1",
        "q1 == 'a' if q2 else q3",
        "[x for x in q1]",
        "q1 is None",
        "q1 ==",
    ],
)
def test_anything_beyond_the_language_is_refused(source):
    with pytest.raises(ConditionError):
        parse(source)


def test_deep_nesting_and_huge_conditions_are_refused_not_crashing():
    with pytest.raises(ConditionError):
        parse("not " * 1000 + "q1 == 'a'")
    assert parse("(" * 100 + "q1 == 'a'" + ")" * 100).evaluate({"q1": "a"})
    with pytest.raises(ConditionError, match="at most"):
        parse("q1 == '" + "a" * 600 + "'")
