"""Taking a survey when Telegram fails a reply, with old buttons, and what the chat shows.

Telegram's failures are injected with the emulator's faults (`bot/sandbox/faults.py`): a
question that never arrived must come back on the student's next action, a failed cosmetic
edit must not stop the flow, and an old button must act on its own question or not at all.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select

from bot.callbacks import SurveyOption
from bot.services import content as content_service
from bot.services import surveys as svc
from models import Answer, Attempt
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard

PACKS = Path(__file__).resolve().parents[1] / "content"
ADMINS = frozenset({ADMIN_ID})


async def _campaign(harness, i18n, pack: Path, code: str) -> int:
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    report = await content_service.load_path(db, pack)
    assert report.ok, report
    return await factories.campaign(db, ADMIN_ID, ADMINS, code, "pre")


async def _answers(harness) -> dict:
    async with harness.app.bot_data.db() as session:
        return dict((await session.execute(select(Answer.item_code, Answer.value))).all())


async def _attempt(harness) -> Attempt:
    async with harness.app.bot_data.db() as session:
        return (await session.scalars(select(Attempt))).one()


def _text(language_texts: str) -> dict[str, str]:
    return dict.fromkeys(("kk", "ru", "en"), language_texts)


async def _all_types_up_to_views(harness, i18n, user_id: int):
    """A student of the all-types survey, at its second matrix statement ("They are hard")."""
    t = i18n.translator("en")
    await _campaign(harness, i18n, PACKS / "all_types_pack.yaml", "all_types")
    student = harness.user(user_id, "Aru", "en")
    await onboard(student, i18n)
    await student.send("/surveys")
    await student.tap("All types (pre)")
    await student.tap(t.plain("surveys.continue"))
    await student.tap("First year")
    await student.tap("☐ Moodle")
    await student.tap(t.plain("surveys.done"))
    await student.tap("4")
    await student.tap("5")
    assert "They are hard" in student.last_text
    return student, t


async def test_a_question_that_never_arrived_comes_back_before_a_typed_answer_is_taken(
    harness, i18n
):
    """editMessageText and sendMessage answer 500 for a while after a tap, then work again.

    Tried: the number question after the tap is lost (the edit of the page fails, and so does
    the new message tried instead); the student, seeing nothing new, types "12". Before the
    fix the send failure ended in the error handler and the 12 was stored as the answer to a
    question the student never saw. Now the 12 is not taken, the question is shown with a
    line saying so, and the next 12 answers it.
    """
    student, t = await _all_types_up_to_views(harness, i18n, 720)
    faults = harness.emulator.faults
    for method in ("sendMessage", "editMessageText"):
        faults.add(method, kind="server_error", times=-1, chat_id=student.user_id)
    await student.tap("2")  # stored; the next question (hours) cannot be shown
    assert "Hours online per week" not in student.last_text
    assert (await _answers(harness))["views_2"] == 2
    faults.clear()  # Telegram works again
    await student.send("12")
    assert "hours" not in await _answers(harness)
    assert student.last_text.startswith(t("surveys.typed_not_taken"))
    assert "Hours online per week" in student.last_text
    await student.send("12")
    assert (await _answers(harness))["hours"] == 12
    assert "Since when" in student.last_text


async def test_an_old_button_brings_back_the_question_that_never_arrived(harness, i18n):
    """sendMessage and editMessageText both answer 500 while a choice is made.

    Tried: the answered question keeps its buttons (the edit failed) and the next question is
    lost; once Telegram works again the student presses another option of the old question.
    Before the fix that press was only answered "out of date", leaving the student without a
    question; now the current question is shown again and the stored answer is unchanged.
    """
    t = i18n.translator("en")
    await _campaign(harness, i18n, PACKS / "all_types_pack.yaml", "all_types")
    student = harness.user(721, "Bek", "en")
    await onboard(student, i18n)
    await student.send("/surveys")
    await student.tap("All types (pre)")
    await student.tap(t.plain("surveys.continue"))
    year = student.last_message.message_id
    faults = harness.emulator.faults
    for method in ("sendMessage", "editMessageText"):
        faults.add(method, kind="server_error", times=-1, chat_id=student.user_id)
    await student.tap("Second year")
    assert student.last_message.message_id == year  # nothing new arrived
    faults.clear()
    first_year = SurveyOption(1, 1, 0, 1).pack()  # the button still on the student's screen
    await student.tap_data(first_year, year)
    assert student.last_toast == t.plain("surveys.shown_again")
    # Drawn on the page whose button was pressed, with the answer stored as its record.
    assert student.last_message.message_id == year
    assert "✓ 1. Year of study — Second year" in student.last_text
    assert "Tools you use" in student.last_text and "☐ Moodle" in student.last_buttons
    assert await _answers(harness) == {"year": "y2"}
    edits = student.last_message.edited
    await student.tap_data(first_year, year)  # a double tap: the question is on screen now
    assert student.last_toast == t.plain("surveys.shown_again")
    assert student.last_message.edited == edits  # the same text: Telegram changed nothing
    assert sum("Tools you use" in text for text in student.texts) == 1
    assert await _answers(harness) == {"year": "y2"}


async def test_an_answer_stored_by_a_process_that_died_before_drawing_it_is_drawn(harness, i18n):
    """The answer is stored, then the process stops before it edits the page (a crash, a
    replica killed with SIGKILL); Telegram delivers the press again to the process that is
    left.

    Tried: the stored answer and the answered button without the edit (the service and
    answerCallbackQuery called directly, as the dead process did), then the same update
    delivered again. Before the fix the press was answered "no longer active" and the page
    kept the old question with buttons that all said so, leaving the student stuck, and the
    second answer of the press (Telegram takes one) failed into "something went wrong"; now
    the page is drawn as stored, the answer once, with no error. An old button on an earlier
    page (the survey has gone on below it) still only says it is out of date.
    """
    t = i18n.translator("en")
    await _campaign(harness, i18n, PACKS / "all_types_pack.yaml", "all_types")
    student = harness.user(723, "Dana", "en")
    await onboard(student, i18n)
    await student.send("/surveys")
    await student.tap("All types (pre)")
    await student.tap(t.plain("surveys.continue"))
    page = student.last_message.message_id
    attempt = (await _attempt(harness)).id
    pressed = SurveyOption(attempt, 1, 1, 1).pack()  # "Second year"
    update = harness.emulator.post_callback(student.user_id, page, pressed, enqueue=False)
    # What the process that died did with it: the answer stored, the press answered.
    await svc.choose(harness.app.bot_data.db, student.user_id, attempt, 1, 1)
    await harness.app.bot.answer_callback_query(update["callback_query"]["id"])
    assert "Tools you use" not in student.last_text  # the page was never drawn
    await harness.deliver(update)  # Telegram delivers it again
    assert harness.errors == []
    assert student.last_message.message_id == page
    assert "✓ 1. Year of study — Second year" in student.last_text
    assert "☐ Moodle" in student.last_buttons
    assert await _answers(harness) == {"year": "y2"}
    # The survey goes on on that page; then a page of its own (resumed from /surveys), and
    # an old button of the first page is only out of date.
    await student.tap("☐ Moodle")
    await student.tap(t.plain("surveys.done"))
    await student.send("/surveys")
    await student.tap("All types (pre)")
    assert student.last_message.message_id != page
    assert "I enjoy digital tools" in student.last_text
    sent = len(student.texts)
    await student.tap_data(pressed, page)
    assert student.last_toast == t.plain("errors.stale_button")
    assert len(student.texts) == sent
    assert (await _answers(harness))["year"] == "y2"


async def test_a_failed_edit_of_the_answered_question_does_not_stop_the_survey(harness, i18n):
    """editMessageText answers 500 (beyond the low-level retries) as the choice is shown.

    Tried: pressing an option while that edit keeps failing. Before the fix the choice was
    stored but the next question never came and the student read "something went wrong"; now
    the page that could not be edited is followed by a new one, and the survey goes on.
    """
    t = i18n.translator("en")
    await _campaign(harness, i18n, PACKS / "all_types_pack.yaml", "all_types")
    student = harness.user(722, "Cem", "en")
    await onboard(student, i18n)
    await student.send("/surveys")
    await student.tap("All types (pre)")
    await student.tap(t.plain("surveys.continue"))
    faults = harness.emulator.faults
    faults.add("editMessageText", kind="server_error", times=-1, chat_id=student.user_id)
    await student.tap("Second year")
    faults.clear()
    assert "Tools you use" in student.last_text
    assert t("errors.internal") not in student.texts
    assert await _answers(harness) == {"year": "y2"}


def _four_numbers_pack(tmp_path: Path) -> Path:
    pack = {
        "code": "numbers",
        "version": 1,
        "kind": "survey",
        "title": _text("Numbers"),
        "questions": [
            {"type": "number", "code": f"n{i}", "text": _text(f"Number {i}?"), "min": 0}
            for i in range(1, 5)
        ],
    }
    path = tmp_path / "numbers.yaml"
    path.write_text(yaml.safe_dump(pack, allow_unicode=True), "utf-8")
    return path


async def test_back_under_an_answered_typed_question_acts_on_that_question_only(
    harness, i18n, tmp_path
):
    """Back, still shown under a question answered by typing, pressed two questions later.

    Tried: typing an answer to question 2 after a refused one ("many": the refusal is a new
    message, so the page is no longer last), answering 3, then pressing question 2's old
    Back. Before the fix its buttons stayed and Back stepped back from question 4, wherever
    the student was. Now the typed question's page is closed: it keeps the records of its
    questions, the typed answer last, without buttons; its old Back (pressed anyway, as a
    stale client could) changes nothing. Then the same Back pressed on the page the survey
    is on now (questions typed one after another stay on one page): it shows where the
    student is, and changes nothing either.
    """
    t = i18n.translator("en")
    await _campaign(harness, i18n, _four_numbers_pack(tmp_path), "numbers")
    student = harness.user(723, "Dana", "en")
    await onboard(student, i18n)
    await student.send("/surveys")
    await student.tap("Numbers (pre)")
    await student.send("1")
    second = student.last_message
    back = next(
        b["callback_data"]
        for row in second.inline_keyboard
        for b in row
        if b["text"] == t.plain("surveys.back")
    )
    await student.send("many")
    await student.send("12")
    second = next(m for m in student.messages if m.message_id == second.message_id)
    assert second.text == "Numbers\n\n✓ 1. Number 1? — 1\n✓ 2. Number 2? — 12"
    assert not second.inline_keyboard
    await student.send("3")
    assert "Number 4?" in student.last_text and "✓ 3. Number 3? — 3" in student.last_text
    await student.tap_data(back, second.message_id)
    assert student.last_toast == t.plain("errors.stale_button")
    assert "Number 4?" in student.last_text
    assert (await _attempt(harness)).cursor is None  # still at question 4
    await student.tap_data(back, student.last_message.message_id)  # on the live page
    assert student.last_toast == t.plain("surveys.shown_again")
    assert "Number 4?" in student.last_text
    assert (await _attempt(harness)).cursor is None
    await student.tap(t.plain("surveys.back"))  # question 4's own Back goes to question 3
    assert "Number 3?" in student.last_text


async def test_progress_never_jumps_and_the_intro_is_not_a_question(harness, i18n):
    """Progress through the all-types survey, whose "Which other tools?" shows after "Other".

    Tried: reading "n / N" on the intro and on each question while ticking "Other". Before the
    fix the intro and the first question both said "1 / 7" and the total became 8 once
    "Other" was ticked; now the intro shows no position, the total counts a question whose
    condition is still open, and it never grows as answers come in.
    """
    t = i18n.translator("en")
    await _campaign(harness, i18n, PACKS / "all_types_pack.yaml", "all_types")
    student = harness.user(724, "Erzhan", "en")
    await onboard(student, i18n)
    await student.send("/surveys")
    await student.tap("All types (pre)")
    assert "Welcome to the survey" in student.last_text and " / " not in student.last_text
    await student.tap(t.plain("surveys.continue"))
    assert "· 1 / 8" in student.last_text
    await student.tap("First year")
    assert "· 2 / 8" in student.last_text
    await student.tap("☐ Other")
    assert "· 2 / 8" in student.last_text
    await student.tap(t.plain("surveys.done"))
    assert "Which other tools?" in student.last_text and "· 3 / 8" in student.last_text
    await student.send("Padlet")
    assert "· 4 / 8" in student.last_text
    # Without "Other" the open question drops out: the total shrinks, it never grows.
    other = harness.user(725, "Farida", "en")
    await onboard(other, i18n)
    await other.send("/surveys")
    await other.tap("All types (pre)")
    await other.tap(t.plain("surveys.continue"))
    await other.tap("First year")
    await other.tap("☐ Zoom")
    await other.tap(t.plain("surveys.done"))
    assert "I enjoy digital tools" in other.last_text and "· 3 / 7" in other.last_text


async def test_a_skipped_question_is_marked_in_the_chat(harness, i18n):
    """Skip on the optional date question, the last one of the all-types survey.

    Tried: skipping it. Before the fix only its buttons went away, so the chat showed an
    unanswered question; now the review that takes its page's place says it was skipped, as
    an answered one shows its answer (a skip in the middle of a page: test_surveys_pages_flow).
    """
    student, t = await _all_types_up_to_views(harness, i18n, 726)
    await student.tap("2")
    await student.send("12")
    since = student.last_message.message_id
    await student.tap(t.plain("surveys.skip"))
    marked = next(m for m in student.messages if m.message_id == since)
    assert marked.text.endswith("7. Since when — " + t.plain("surveys.skipped"))
    assert t.plain("surveys.submit") in marked.buttons


async def test_review_tells_long_statements_apart(harness, i18n, tmp_path):
    """The review of a matrix whose statements share their first 170 characters.

    Tried: answering both and reading the review. Before the fix each line was cut at 60
    characters, so both read the same; now each line is numbered as its question was and,
    when it must be cut, loses its middle and keeps the words that differ.
    """
    t = i18n.translator("en")
    common = (
        "When I plan a lesson with digital tools for my future pupils, and the school leaves "
        "the choice of platform, materials and the order of activities to me, I usually "
    )
    pack = {
        "code": "long",
        "version": 1,
        "kind": "survey",
        "title": _text("Long"),
        "likert_scales": {"agree5": {"points": 5, "low": _text("No"), "high": _text("Yes")}},
        "questions": [
            {
                "type": "matrix",
                "code": "m",
                "likert": "agree5",
                "text": _text("Your views"),
                "items": [
                    {"code": "m1", "text": _text(common + "start from the learning goals")},
                    {"code": "m2", "text": _text(common + "start from the tool I know best")},
                ],
            }
        ],
    }
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(pack, allow_unicode=True), "utf-8")
    await _campaign(harness, i18n, path, "long")
    student = harness.user(727, "Gulnar", "en")
    await onboard(student, i18n)
    await student.send("/surveys")
    await student.tap("Long (pre)")
    await student.tap("4")
    await student.tap("2")
    review = student.last_text
    assert t("surveys.review").replace("<b>", "").replace("</b>", "") in review
    lines = review.splitlines()
    assert lines[-2].startswith("1. When I plan") and lines[-2].endswith("learning goals — 4")
    assert lines[-1].startswith("2. When I plan") and lines[-1].endswith("I know best — 2")
    assert " … " in lines[-1]  # cut in the middle, between words
