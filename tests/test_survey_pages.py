"""What a survey page shows (bot/survey_pages.py): records, numbering, the budget, cutting."""

from __future__ import annotations

from bot.content.engine import compile_pack
from bot.content.schema import Pack
from bot.i18n import I18n
from bot.survey_pages import (
    PAGE_BUDGET,
    RECORD_QUESTION,
    closed,
    compose,
    cut_middle,
    first_step,
    fits,
    records,
)


def _text(value: str) -> dict[str, str]:
    return dict.fromkeys(("kk", "ru", "en"), value)


PACK = compile_pack(
    Pack.model_validate(
        {
            "code": "p",
            "version": 1,
            "kind": "survey",
            "title": _text("P"),
            "questions": [
                {"type": "info", "code": "intro", "text": _text("Read <this> first")},
                {
                    "type": "single",
                    "code": "year",
                    "text": _text("Year & group"),
                    "options": [
                        {"code": "y1", "text": _text("First <year>")},
                        {"code": "y2", "text": _text("Second")},
                    ],
                },
                {
                    "type": "text",
                    "code": "why",
                    "text": _text("Why?"),
                    "show_if": "year == 'y2'",
                },
                {"type": "number", "code": "n", "text": _text("How many?"), "required": False},
                {"type": "text", "code": "long", "text": _text("x " * 100 + "the end")},
            ],
        }
    )
)
T = I18n("kk").translator("en")


def test_first_step_never_after_the_screen():
    assert first_step(None, 4) == 4  # a new message, or a button from before pages
    assert first_step(2, 4) == 2
    assert first_step(6, 4) == 4  # Back before the page's first step starts it again


def test_records_escape_number_as_shown_and_skip_hidden_questions():
    """The intro in full, answers numbered among the questions still shown, HTML escaped."""
    answers = {"year": "y1", "n": None, "long": "ok"}
    blocks = records(PACK, answers, "en", T, 0, 5)
    long = cut_middle("x " * 100 + "the end", RECORD_QUESTION)
    assert len(long) <= RECORD_QUESTION and " … " in long and long.endswith("the end")
    assert blocks == [
        "Read &lt;this&gt; first",
        (
            "✓ 1. Year &amp; group — <b>First &lt;year&gt;</b>\n"
            f"2. How many? — {T('surveys.skipped')}\n"
            f"✓ 3. {long} — <b>ok</b>"
        ),
    ]
    assert records(PACK, answers, "en", T, 2, 4) == [f"2. How many? — {T('surveys.skipped')}"]


def test_budget_and_closed_pages_cut_by_whole_lines():
    assert fits("x" * PAGE_BUDGET) and not fits("x" * (PAGE_BUDGET + 1))
    assert compose("<b>P</b>", ["a", "b"], ["q"]) == "<b>P</b>\n\na\n\nb\n\nq"
    many = ["\n".join(f"✓ {i}. {'y' * 90} — <b>4</b>" for i in range(1, 80))]
    text = closed("<b>P</b>", many, "…")
    assert len(text) <= 3900 and text.endswith("\n…")
    assert all(line.endswith("</b>") for line in text.splitlines()[2:-1])
