"""The taking engine and scoring, on the example pack and on small packs built in the test."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.content.engine import (
    AnswerError,
    choice_value,
    compile_pack,
    likert_value,
    parse_typed,
    toggle,
)
from bot.content.scoring import level_for, scale_maximum, score
from bot.content.validate import check_data

EXAMPLE = Path(__file__).with_name("example_pack.yaml")
T = {"kk": "к", "ru": "р", "en": "e"}


def _compiled(data: dict):
    report = check_data(data, "t.yaml")
    assert report.ok, [str(e) for e in report.errors]
    return compile_pack(report.pack)


@pytest.fixture
def example():
    return _compiled(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))


def test_order_conditions_and_progress(example):
    answers: dict = {}
    passed: set = set()
    first = example.next_item(answers, passed)
    assert first.code == "intro" and first.kind == "info"
    passed.add("intro")
    assert example.next_item(answers, passed).code == "q1"
    # q3 shows only if q1 == 'a': counted until q1 says otherwise, so the total never grows
    # (before, "1 / 2" became "2 / 3" on answering 'a').
    assert example.progress("q1", answers) == (1, 3)
    assert example.progress("q2", {"q1": "b"}) == (2, 2)
    answers["q1"] = "a"
    assert example.progress("q2", answers) == (2, 3)
    answers["q2"] = ("moodle",)
    assert example.next_item(answers, passed).code == "q3"
    answers["q1"] = "b"  # changing q1 hides q3
    assert example.next_item(answers, passed) is None
    assert example.previous_item(None, answers, passed).code == "q2"
    assert example.previous_item("q2", answers, passed).code == "q1"
    assert example.previous_item("q1", answers, passed).code == "intro"


def test_typed_answers(example):
    q3 = example.by_code["q3"]
    assert parse_typed(q3, " 12 ") == 12
    for bad, key in [
        ("twelve", "surveys.not_a_number"),
        ("12.5", "surveys.whole_number"),
        ("41", "surveys.out_of_range"),
        ("-1", "surveys.out_of_range"),
    ]:
        with pytest.raises(AnswerError) as exc:
            parse_typed(q3, bad)
        assert exc.value.key == key
    with pytest.raises(AnswerError, match="use_buttons"):
        parse_typed(example.by_code["q1"], "a")


def test_text_and_date_answers():
    pack = _compiled(
        {
            "code": "t",
            "version": 1,
            "kind": "survey",
            "title": T,
            "questions": [
                {"type": "text", "code": "t1", "text": T, "max_length": 10},
                {"type": "date", "code": "d1", "text": T},
                {"type": "number", "code": "n1", "text": T, "integer": False, "min": 0.5},
            ],
        }
    )
    assert parse_typed(pack.by_code["t1"], "  hello ") == "hello"
    with pytest.raises(AnswerError, match="text_too_long") as exc:
        parse_typed(pack.by_code["t1"], "x" * 11)
    assert exc.value.values == {"limit": 10, "length": 11}
    with pytest.raises(AnswerError, match="empty_text"):
        parse_typed(pack.by_code["t1"], "   ")
    assert parse_typed(pack.by_code["d1"], "01.09.2026") == "2026-09-01"
    assert parse_typed(pack.by_code["d1"], "2026-09-01") == "2026-09-01"
    for bad in ("31.02.2026", "next monday", "2026/13/01"):
        with pytest.raises(AnswerError, match="bad_date"):
            parse_typed(pack.by_code["d1"], bad)
    assert parse_typed(pack.by_code["n1"], "2,5") == 2.5
    with pytest.raises(AnswerError, match="out_of_range"):
        parse_typed(pack.by_code["n1"], "0.4")


def test_buttons_are_checked_against_the_pack(example):
    q1, q2 = example.by_code["q1"], example.by_code["q2"]
    assert choice_value(q1, "a") == "a"
    with pytest.raises(AnswerError):
        choice_value(q1, "zzz")
    selected = toggle(q2, (), "canvas")
    selected = toggle(q2, selected, "moodle")
    assert selected == ("moodle", "canvas")  # the pack's order, whatever the tapping order
    assert toggle(q2, selected, "canvas") == ("moodle",)
    with pytest.raises(AnswerError):
        toggle(q2, selected, "word2")
    with pytest.raises(AnswerError):
        likert_value(q1, 3)


def test_shuffle_is_stable_per_attempt():
    pack = _compiled(
        {
            "code": "s",
            "version": 1,
            "kind": "survey",
            "title": T,
            "settings": {"shuffle_options": True},
            "questions": [
                {
                    "type": "single",
                    "code": "q",
                    "text": T,
                    "options": [{"code": f"o{i}", "text": T} for i in range(8)],
                }
            ],
        }
    )
    item = pack.by_code["q"]
    first = [o.code for o in item.option_order("attempt-1")]
    assert first == [o.code for o in item.option_order("attempt-1")]
    assert sorted(first) == [f"o{i}" for i in range(8)]
    assert any([o.code for o in item.option_order(f"attempt-{n}")] != first for n in range(2, 6))


def test_test_scoring_with_partial_credit_and_levels(example):
    answers = {"q1": "a", "q2": ("moodle", "canvas"), "q3": 5}
    result = score(example, answers)
    assert (result.points, result.max_points, result.percent) == (3.0, 3.0, 100.0)
    assert result.level == "high"
    assert result.scales["knowledge"].value == 3.0
    assert result.scales["knowledge"].level == "pioneer"  # the top band includes its max
    half = score(example, {"q1": "a", "q2": ("moodle",)})
    assert half.points == 2.0 and half.scales["knowledge"].level == "pioneer"
    wrong = score(example, {"q1": "b", "q2": ("moodle", "word")})
    assert wrong.points == 0.0 and wrong.percent == 0.0 and wrong.level == "low"
    assert wrong.scales["knowledge"].level == "newcomer"


def test_likert_scales_means_reverse_items_and_skips():
    pack = _compiled(
        {
            "code": "l",
            "version": 1,
            "kind": "survey",
            "title": T,
            "likert_scales": {"a5": {"points": 5, "low": T, "high": T}},
            "scales": [
                {
                    "code": "coop",
                    "title": T,
                    "method": "mean",
                    "levels": [
                        {"code": "low", "min": 1, "max": 3, "label": T},
                        {"code": "high", "min": 3, "max": 5, "label": T},
                    ],
                }
            ],
            "questions": [
                {
                    "type": "matrix",
                    "code": "m",
                    "text": T,
                    "likert": "a5",
                    "items": [
                        {"code": "c1", "text": T, "scale": "coop"},
                        {"code": "c2", "text": T, "scale": "coop", "reverse": True},
                        {"code": "c3", "text": T, "scale": "coop"},
                    ],
                },
            ],
        }
    )
    assert [i.code for i in pack.items] == ["c1", "c2", "c3"]
    assert pack.items[1].stem is not None
    result = score(pack, {"c1": 5, "c2": 1, "c3": None})  # c3 skipped: not counted
    assert result.scales["coop"].value == 5.0 and result.scales["coop"].items == 2
    assert result.scales["coop"].level == "high" and result.points is None


def test_level_bands():
    from bot.content.schema import Level

    levels = [Level(code="a", min=0, max=10, label=T), Level(code="b", min=10, max=20, label=T)]
    assert [level_for(levels, v) for v in (0, 9.99, 10, 20, 20.01, -1, None)] == [
        "a",
        "a",
        "b",
        "b",
        None,
        None,
        None,
    ]


def test_absurd_numbers_are_refused(example):
    q3 = example.by_code["q3"]
    for bad in ("9" * 400, "1e5", "inf", "nan", "1" * 17):
        with pytest.raises(AnswerError, match="not_a_number"):
            parse_typed(q3, bad)


def _likert_pack(method: str = "mean") -> object:
    """Three 5-point items on one scale, scored by `method`."""
    return _compiled(
        {
            "code": "l3",
            "version": 1,
            "kind": "survey",
            "title": T,
            "likert_scales": {"a5": {"points": 5, "low": T, "high": T}},
            "scales": [{"code": "s", "title": T, "method": method}],
            "questions": [
                {
                    "type": "matrix",
                    "code": "m",
                    "text": T,
                    "likert": "a5",
                    "items": [{"code": f"i{n}", "text": T, "scale": "s"} for n in (1, 2, 3)],
                },
            ],
        }
    )


def test_scores_keep_full_precision():
    """A mean of 1, 1, 2 is 4/3, not 1.3333; a third of a multiple-choice point is 1/3.

    Tried: the scale mean, a test's partial-credit points and its percent, which were stored
    rounded to 4 (and 2) decimals, so the analysis ran on 1.3333 and a paired mean
    difference of exactly 1 came out as 0.999983.
    """
    result = score(_likert_pack(), {"i1": 1, "i2": 1, "i3": 2})
    assert result.scales["s"].value == 4 / 3
    test = _compiled(
        {
            "code": "t3",
            "version": 1,
            "kind": "test",
            "title": T,
            "scales": [{"code": "k", "title": T, "method": "sum"}],
            "questions": [
                {
                    "type": "multiple",
                    "code": "q",
                    "scale": "k",
                    "text": T,
                    "options": [
                        {"code": c, "text": T, "correct": c != "d"} for c in ("a", "b", "c", "d")
                    ],
                },
                {
                    "type": "single",
                    "code": "r",
                    "scale": "k",
                    "points": 2,
                    "text": T,
                    "options": [
                        {"code": "y", "text": T, "correct": True},
                        {"code": "n", "text": T},
                    ],
                },
            ],
        }
    )
    result = score(test, {"q": ("a",), "r": "y"})
    assert result.points == 1 / 3 + 2 and result.scales["k"].value == 1 / 3 + 2
    assert result.max_points == 3.0 and result.percent == 100 * (1 / 3 + 2) / 3


def test_a_sum_on_a_band_edge_keeps_its_band():
    """Points 0.7 + 0.1 + 0.1 + 0.1 add up to the band edge 1, not to 0.9999999999999999.

    Tried with scores no longer rounded: a plain float sum lands just under the edge and
    would put a full score in the band below.
    """
    questions = [
        {
            "type": "single",
            "code": f"q{n}",
            "scale": "k",
            "points": points,
            "text": T,
            "options": [{"code": "y", "text": T, "correct": True}, {"code": "n", "text": T}],
        }
        for n, points in enumerate((0.7, 0.1, 0.1, 0.1))
    ]
    levels = [
        {"code": "low", "min": 0, "max": 1, "label": T},
        {"code": "top", "min": 1, "max": 2, "label": T},
    ]
    pack = _compiled(
        {
            "code": "edge",
            "version": 1,
            "kind": "test",
            "title": T,
            "scales": [{"code": "k", "title": T, "method": "sum", "levels": levels}],
            "questions": questions,
        }
    )
    result = score(pack, {f"q{n}": "y" for n in range(4)})
    assert result.scales["k"].value == 1.0 and result.scales["k"].level == "top"
    assert result.percent == 100.0


def test_a_scales_maximum_comes_from_its_items(example):
    """The "of 5" shown with a score: a Likert mean reaches the points, a sum adds them up."""
    mean, total = _likert_pack("mean"), _likert_pack("sum")
    assert scale_maximum(mean, mean.pack.scales[0]) == 5.0
    assert scale_maximum(total, total.pack.scales[0]) == 15.0
    # The example test's knowledge scale: one point for q1, two for q2's partial credit.
    assert scale_maximum(example, example.pack.scales[0]) == 3.0
    unbounded = _compiled(
        {
            "code": "n",
            "version": 1,
            "kind": "survey",
            "title": T,
            "scales": [{"code": "s", "title": T, "method": "sum"}],
            "questions": [{"type": "number", "code": "x", "text": T, "scale": "s"}],
        }
    )
    assert scale_maximum(unbounded, unbounded.pack.scales[0]) is None
