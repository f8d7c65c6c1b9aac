"""A ranking question in chat (issue 17, item 1): options tapped from the most to the least
preferred, Undo, Done, Back, a restart in the middle, stale and forged buttons; the answer is
stored as the order of option codes, every tap edits the survey's one message."""

from __future__ import annotations

from pathlib import Path

from bot.callbacks import SurveyDone, SurveyRank, SurveyUnrank
from tests.flows.test_surveys_pages_flow import _answers, _likert, _pack, _sends, _start, _text

OPTIONS = [
    ("moodle", "Moodle"),
    ("classroom", "Google Classroom"),
    ("zoom", "Zoom"),
    ("bot", "A bot"),
]


def _ranking_pack(tmp_path: Path) -> Path:
    return _pack(
        tmp_path,
        [
            _likert("q1", "Lessons were clear"),
            {
                "type": "ranking",
                "code": "tools",
                "text": _text("Which tools help you most?"),
                "options": [{"code": c, "text": _text(label)} for c, label in OPTIONS],
            },
            _likert("q2", "I would take it again"),
        ],
        code="pages",
    )


async def test_a_ranking_is_tapped_in_order_with_undo_back_and_a_restart(harness, i18n, tmp_path):
    """Tried: Done before everything is ranked (refused: rank them all), Moodle then Zoom, Undo
    (Zoom back), Zoom again then Classroom: the last option takes the last place by itself;
    Undo then takes back Classroom and the self-placed last one; a restart in the middle keeps
    the places; a double tap of one option ranks it once; Done stores the order; Back shows
    the stored order again to change it; a forged Undo of more places than there are and a
    button of another step are refused; every tap edited the one message."""
    student, t = await _start(harness, i18n, _ranking_pack(tmp_path), "pages", 760)
    page = student.last_message.message_id
    sends = _sends(harness)
    await student.tap("4")
    body = student.last_text
    assert "Which tools help you most?" in body
    assert "Tap the 4 options from the one you prefer most" in body
    assert "1. Moodle" in student.last_buttons and "1. Zoom" in student.last_buttons

    await student.tap("1. Moodle")
    assert "1. Moodle" in student.last_text and "2. Zoom" in student.last_buttons
    await student.tap("2. Zoom")
    assert "2. Zoom" in student.last_text
    await student.tap(t.plain("surveys.rank_undo"))
    assert "2. Zoom" in student.last_buttons and "2. Zoom" not in student.last_text

    await harness.restart()
    await student.tap("2. Zoom", message_id=page)
    await student.tap("3. Google Classroom", message_id=page)
    # One option left: it took the last place by itself; Done is offered.
    assert "4. A bot" in student.last_text
    assert t.plain("surveys.done") in student.last_buttons
    await student.tap(t.plain("surveys.rank_undo"))
    assert "3. Google Classroom" in student.last_buttons and "4. A bot" not in student.last_text
    assert t.plain("surveys.done") not in student.last_buttons
    await student.tap("3. Google Classroom")
    await student.tap(t.plain("surveys.done"))
    assert await _answers(harness) == {"q1": 4, "tools": ["moodle", "zoom", "classroom", "bot"]}
    assert "✓ 2. Which tools help you most? — Moodle > Zoom > Google Classroom > A bot" in (
        student.last_text
    )

    # Back: the ranking again, its stored order shown, to be changed.
    await student.tap(t.plain("surveys.back"))
    assert "1. Moodle" in student.last_text and "4. A bot" in student.last_text
    assert _sends(harness) == sends  # every tap edited the page
    assert student.last_message.message_id == page


async def test_ranking_refusals(harness, i18n, tmp_path):
    """Tried: Done with two of four ranked (told to rank them all, nothing stored), an Undo
    forged to keep more places than exist, a place forged for an option index out of range,
    and a ranking button pressed under the next question (stale)."""
    student, t = await _start(harness, i18n, _ranking_pack(tmp_path), "pages", 761)
    await student.tap("4")
    await student.tap("1. Moodle")
    message = student.last_message.message_id
    pressed = next(b for d in _data(student) if (b := SurveyRank.unpack(d)) is not None)
    attempt, step = pressed.attempt, pressed.step
    await student.tap_data(SurveyDone(attempt, step, 0).pack(), message)
    assert student.last_toast == t.plain("surveys.rank_all")
    # Forged places: refused as out of date, and the question shown again as it stands.
    refused = {t.plain("surveys.shown_again"), t.plain("errors.stale_button")}
    await student.tap_data(SurveyUnrank(attempt, step, 5, 0).pack(), message)
    assert student.last_toast in refused
    await student.tap_data(SurveyRank(attempt, step, 9, 0).pack(), message)
    assert student.last_toast in refused
    assert "1. Moodle" in student.last_text
    assert "tools" not in await _answers(harness)
    for label in ("2. Zoom", "3. A bot"):
        await student.tap(label)
    await student.tap(t.plain("surveys.done"))
    await student.tap_data(SurveyRank(attempt, step, 1, 0).pack(), message)
    assert student.last_toast in refused
    assert (await _answers(harness))["tools"] == ["moodle", "zoom", "bot", "classroom"]


def _data(student) -> list[str]:
    markup = student.last_message.reply_markup or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]
