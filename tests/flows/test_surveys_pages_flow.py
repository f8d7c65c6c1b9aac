"""A survey in chat as pages: each button answer edits one message, which keeps the record.

See `bot/survey_pages.py` and docs/surveys-in-chat.md. Every test counts what the bot posted
through the emulator's call counters: a button answer must cost the callback answer and one
editMessageText, never a sendMessage (Telegram's ~30 new messages a second is the ceiling a
lecture hall answering together would hit).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import NEW_MESSAGE, SurveyPoint, SurveyStart, SurveySubmit
from bot.services import content as content_service
from bot.survey_pages import PAGE_BUDGET
from handlers import surveys as survey_handlers
from models import Answer
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard

ADMINS = frozenset({ADMIN_ID})
LONG = (
    "thinking about the lessons of this term, the materials the teachers shared online and "
    "the tasks we did together in small groups, I would say that"
)


def _text(value: str) -> dict[str, str]:
    return dict.fromkeys(("kk", "ru", "en"), value)


def _pack(tmp_path: Path, questions: list[dict], code: str = "pages") -> Path:
    pack = {
        "code": code,
        "version": 1,
        "kind": "survey",
        "title": _text("Pages"),
        "likert_scales": {"agree5": {"points": 5, "low": _text("No"), "high": _text("Yes")}},
        "questions": questions,
    }
    path = tmp_path / f"{code}.yaml"
    path.write_text(yaml.safe_dump(pack, allow_unicode=True), "utf-8")
    return path


def _likert(code: str, text: str, **extra: object) -> dict:
    return {"type": "likert", "code": code, "likert": "agree5", "text": _text(text), **extra}


def _mixed(tmp_path: Path) -> Path:
    """An intro, three statements, an optional one, a number typed in the middle, two more."""
    return _pack(
        tmp_path,
        [
            {"type": "info", "code": "intro", "text": _text("About your lessons")},
            _likert("q1", "Lessons were clear"),
            _likert("q2", "Tasks were useful"),
            _likert("q3", "I could ask questions"),
            _likert("q4", "Groups worked well", required=False),
            {"type": "number", "code": "hours", "text": _text("Hours a week?"), "min": 0},
            _likert("q5", "I would take it again"),
            _likert("q6", "I would recommend it"),
        ],
    )


async def _start(harness, i18n, pack: Path, code: str, user_id: int):
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    report = await content_service.load_path(db, pack)
    assert report.ok, report
    await factories.campaign(db, ADMIN_ID, ADMINS, code, "pre")
    student = harness.user(user_id, "Student", "en")
    await onboard(student, i18n)
    await student.send("/surveys")
    await student.tap("Pages (pre)")
    return student, i18n.translator("en")


def _sends(harness) -> int:
    return harness.emulator.stats.calls["sendMessage"]


def _message(student, message_id: int):
    return next(m for m in student.messages if m.message_id == message_id)


async def _answers(harness) -> dict:
    async with harness.app.bot_data.db() as session:
        return dict((await session.execute(select(Answer.item_code, Answer.value))).all())


async def test_button_answers_edit_one_message_that_keeps_the_record(harness, i18n, tmp_path):
    """The intro, three statements and a skip, all by buttons.

    Tried: Continue, 4, 5, 3, Skip. Before, each answer posted the next question as a new
    message (a sendMessage per answer); now the one message is edited each time, the intro
    stays on it in full and every answered question is a numbered record with its answer.
    """
    student, t = await _start(harness, i18n, _mixed(tmp_path), "pages", 740)
    page = student.last_message.message_id
    sends, edits = _sends(harness), harness.emulator.stats.calls["editMessageText"]
    await student.tap(t.plain("surveys.continue"))
    for point in ("4", "5", "3"):
        await student.tap(point)
    await student.tap(t.plain("surveys.skip"))
    assert _sends(harness) == sends  # no new message for five buttons
    assert harness.emulator.stats.calls["editMessageText"] == edits + 5
    assert student.last_message.message_id == page
    assert student.last_text == (
        "Pages · 5 / 7\n\n"
        "About your lessons\n\n"
        "✓ 1. Lessons were clear — 4\n"
        "✓ 2. Tasks were useful — 5\n"
        "✓ 3. I could ask questions — 3\n"
        f"4. Groups worked well — {t.plain('surveys.skipped')}\n\n"
        "Hours a week?\n\n" + t.plain("surveys.number_hint_whole")
    )
    assert await _answers(harness) == {"q1": 4, "q2": 5, "q3": 3, "q4": None}


async def test_back_on_a_page_and_a_stale_button(harness, i18n, tmp_path):
    """Back twice, a changed answer, then the old button of an earlier question.

    Tried: answering 1 and 2, Back to 2 then to 1, choosing 2 for question 1, then forging
    question 2's old "5" (as a client still showing it could). Back redraws the page with
    the records before the question only and the stored answer ticked; the change brings the
    first unanswered question back with both records; the stale press changes nothing.
    """
    student, t = await _start(harness, i18n, _mixed(tmp_path), "pages", 741)
    page = student.last_message.message_id
    await student.tap(t.plain("surveys.continue"))
    await student.tap("4")
    await student.tap("5")
    sends = _sends(harness)
    await student.tap(t.plain("surveys.back"))
    assert "✓ 1. Lessons were clear — 4" in student.last_text
    assert "Tasks were useful" in student.last_text.split("\n\n")[-2]  # on screen again
    assert "✓5" in student.last_buttons
    await student.tap(t.plain("surveys.back"))
    assert "✓ 1." not in student.last_text and "✓4" in student.last_buttons
    await student.tap("2")  # changed: the first unanswered question follows
    assert "✓ 1. Lessons were clear — 2\n✓ 2. Tasks were useful — 5" in student.last_text
    assert "I could ask questions" in student.last_text and "· 3 / 7" in student.last_text
    assert _sends(harness) == sends and student.last_message.message_id == page
    shown = student.last_text
    await student.tap_data(SurveyPoint(1, 2, 5, 0).pack(), page)  # question 2's "5"
    # On the live page: redrawn as stored (here what it already shows), with where they are.
    assert student.last_toast == t.plain("surveys.shown_again")
    assert student.last_text == shown
    assert await _answers(harness) == {"q1": 2, "q2": 5}


def _typed(harness, student, text: str) -> list:
    """The student's own messages saying `text`, deleted ones included."""
    return [m for m in harness.emulator.chat(student.user_id) if not m.from_bot and m.text == text]


async def test_a_typed_answer_in_the_middle_goes_on_on_the_page(harness, i18n, tmp_path):
    """A number typed after four button answers, then two more buttons and the review.

    Tried: typing 6 for "Hours a week?" while the page is the last message in the chat. The
    page keeps its records with the typed answer last and shows the next question: no new
    message; the student's "6" is removed (its answer is the page's record, and the page is
    the bottom of the chat again, in order). The buttons after it edit the same page, which
    then becomes the review; Back from the review, Submit.
    """
    student, t = await _start(harness, i18n, _mixed(tmp_path), "pages", 742)
    page = student.last_message.message_id
    await student.tap(t.plain("surveys.continue"))
    for point in ("4", "5", "3", "2"):
        await student.tap(point)
    sends = _sends(harness)
    await student.send("6")
    assert _sends(harness) == sends
    assert student.last_message.message_id == page
    assert student.last_text.startswith("Pages · 6 / 7\n\nAbout your lessons\n\n✓ 1. Lessons")
    assert "✓ 4. Groups worked well — 2\n✓ 5. Hours a week? — 6\n\nI would take it again" in (
        student.last_text
    )
    [typed] = _typed(harness, student, "6")
    assert typed.deleted
    await student.tap("5")
    assert "✓ 6. I would take it again — 5" in student.last_text
    await student.tap("4")
    assert student.last_message.message_id == page and _sends(harness) == sends
    assert t.plain("surveys.submit") in student.last_buttons  # the review took its place
    assert "7. I would recommend it — 4" in student.last_text
    await student.tap(t.plain("surveys.back"))  # from the review, onto the same page
    assert student.last_text.startswith("Pages · 7 / 7\n\nAbout your lessons")
    await student.tap("4")
    await student.tap(t.plain("surveys.submit"))
    assert (await _answers(harness))["hours"] == 6


async def test_a_typed_answer_after_another_message_closes_the_page(harness, i18n, tmp_path):
    """A typed answer when the page is no longer the last message in the chat.

    Tried: "many" typed for the number (refused with a message), then 6. The refusal came
    after the page, so the page is not where the student looks: it is closed with the typed
    answer last and without buttons, the next question comes as a new message below the
    student's own, which stays; the buttons after it edit that new page.
    """
    student, t = await _start(harness, i18n, _mixed(tmp_path), "pages", 745)
    first_page = student.last_message.message_id
    await student.tap(t.plain("surveys.continue"))
    for point in ("4", "5", "3", "2"):
        await student.tap(point)
    await student.send("many")
    refusal = student.last_message.message_id
    assert refusal > first_page
    await student.send("6")
    closed = _message(student, first_page)
    assert not closed.inline_keyboard
    assert closed.text.startswith("Pages\n\nAbout your lessons\n\n✓ 1. Lessons were clear — 4")
    assert closed.text.endswith("✓ 4. Groups worked well — 2\n✓ 5. Hours a week? — 6")
    second_page = student.last_message.message_id
    assert second_page > refusal
    assert student.last_text.startswith("Pages · 6 / 7\n\nI would take it again")
    assert not any(m.deleted for m in _typed(harness, student, "6"))
    sends = _sends(harness)
    await student.tap("5")
    assert "✓ 6. I would take it again — 5" in student.last_text
    assert student.last_message.message_id == second_page and _sends(harness) == sends
    assert await _answers(harness) == {"q1": 4, "q2": 5, "q3": 3, "q4": 2, "hours": 6, "q5": 5}


async def test_a_typed_answer_after_a_broadcast_or_a_restart_starts_a_new_page(
    harness, i18n, tmp_path
):
    """The page is not known to be last: a broadcast came after it; or the bot restarted.

    Tried: a message from the bot to the student's chat (as a broadcast's copy) between the
    typed question and the answer; for a second student, a restart there. Both answers are
    taken once and the next question starts a new page below the student's message.
    """
    student, t = await _start(harness, i18n, _mixed(tmp_path), "pages", 746)
    page = student.last_message.message_id
    await student.tap(t.plain("surveys.continue"))
    for point in ("4", "5", "3", "2"):
        await student.tap(point)
    notice = await harness.app.bot.send_message(student.user_id, "The webinar starts at 15:00.")
    await student.send("6")
    assert not _message(student, page).inline_keyboard
    assert student.last_message.message_id > notice.message_id
    assert student.last_text.startswith("Pages · 6 / 7\n\nI would take it again")

    other = harness.user(747, "Other", "en")
    await onboard(other, i18n)
    await other.send("/surveys")
    await other.tap("Pages (pre)")
    other_page = other.last_message.message_id
    await other.tap(t.plain("surveys.continue"))
    for point in ("1", "2", "3", "4"):
        await other.tap(point)
    await harness.restart()
    await other.send("7")
    assert not _message(other, other_page).inline_keyboard
    assert other.last_message.message_id > other_page
    assert other.last_text.startswith("Pages · 6 / 7\n\nI would take it again")
    async with harness.app.bot_data.db() as session:
        hours = await session.scalars(select(Answer.value).where(Answer.item_code == "hours"))
        assert sorted(hours.all()) == [6, 7]


async def test_resume_after_a_restart_starts_a_new_page(harness, i18n, tmp_path):
    """A restart after two answers; the student comes back with /start and Continue.

    Tried: resuming, answering on the new page, then pressing a button of the old page,
    still showing the question answered meanwhile. The new page starts at the question it
    shows (no records of the old one), the old page's button is out of date, and the answers
    are those given once each.
    """
    student, t = await _start(harness, i18n, _mixed(tmp_path), "pages", 743)
    old_page = student.last_message.message_id
    await student.tap(t.plain("surveys.continue"))
    await student.tap("4")
    await student.tap("5")
    await harness.restart()
    await student.send("/start")
    await student.tap(t.plain("surveys.continue"))
    new_page = student.last_message.message_id
    assert new_page > old_page
    assert student.last_text.startswith("Pages · 3 / 7\n\nI could ask questions")
    await student.tap("1", message_id=new_page)
    assert student.last_text.startswith("Pages · 4 / 7\n\n✓ 3. I could ask questions — 1")
    await student.tap("3", message_id=old_page)  # question 3's button on the old page
    assert student.last_toast == t.plain("errors.stale_button")
    assert await _answers(harness) == {"q1": 4, "q2": 5, "q3": 1}


async def test_buttons_sent_before_pages_still_answer(harness, i18n, tmp_path):
    """A button packed without the page part, as the bot sent them before this change.

    Tried: pressing "s:l:<attempt>:<step>:<point>" under the question on screen. It is not
    refused as malformed: it answers, and the page starts at the next question.
    """
    student, t = await _start(harness, i18n, _mixed(tmp_path), "pages", 744)
    await student.tap(t.plain("surveys.continue"))
    page = student.last_message.message_id
    await student.tap_data("s:l:1:1:4", page)
    assert await _answers(harness) == {"q1": 4}
    assert student.last_text.startswith("Pages · 2 / 7\n\nTasks were useful")


async def test_a_long_survey_goes_on_over_pages_under_telegrams_limit(harness, i18n, tmp_path):
    """Sixty long statements answered by buttons, then the review.

    Tried: answering all of them. No message ever goes over the page budget (Telegram refuses
    4096 characters); when the next question would not fit, the page is closed with its
    records (no buttons) and the question starts a new message: a handful of messages for
    sixty answers, each question recorded on exactly one page, numbered as shown. The review,
    which can list only some of sixty long answers, comes in a message of its own, so the
    last page keeps its records too.
    """
    questions = [_likert(f"s{i}", f"{i}: {LONG} statement {i} holds") for i in range(1, 61)]
    student, t = await _start(harness, i18n, _pack(tmp_path, questions), "pages", 745)
    first_page = student.last_message.message_id
    sends = _sends(harness)
    for _ in range(60):
        await student.tap("4")
    pages = [m for m in student.messages if m.message_id >= first_page]
    assert 2 <= len(pages) <= 4 and _sends(harness) - sends == len(pages) - 1
    assert all(len(m.text) <= PAGE_BUDGET for m in pages)
    closed, review = pages[:-1], pages[-1]
    assert all(not m.inline_keyboard for m in closed)
    records = [line for m in closed for line in m.text.splitlines() if line.startswith("✓ ")]
    numbers = [int(line[2:].split(".")[0]) for line in records]
    assert numbers == list(range(1, len(numbers) + 1))  # in order, none twice
    assert numbers[-1] == 60  # the last page kept its records when the review came
    assert all(line.endswith(" — 4") and " … " in line for line in records)
    assert "Check your answers" in review.text and t.plain("surveys.submit") in review.buttons
    assert len(await _answers(harness)) == 60


async def test_back_across_a_page_break_starts_the_page_again(harness, i18n, tmp_path):
    """Back from the first question of the second page, to the last one of the first.

    Tried: answering until a new page starts, Back, a changed answer. The closed page stays as
    it was (the history keeps what was answered then); the second page's message now shows
    the question gone back to with no records before it, and once it is answered again its
    record comes first on that page, the question left comes back under it.
    """
    questions = [_likert(f"s{i}", f"{i}: {LONG} statement {i} holds") for i in range(1, 41)]
    student, t = await _start(harness, i18n, _pack(tmp_path, questions), "pages", 746)
    first_page = student.last_message.message_id
    while student.last_message.message_id == first_page:
        await student.tap("4")
    second_page = student.last_message.message_id
    closed = _message(student, first_page).text
    last_record = closed.splitlines()[-1]
    k = int(last_record[2:].split(".")[0])  # the last question of the first page
    assert student.last_text.startswith(f"Pages · {k + 1} / 40\n\n{k + 1}: ")
    sends = _sends(harness)
    await student.tap(t.plain("surveys.back"))
    assert student.last_message.message_id == second_page
    assert student.last_text.startswith(f"Pages · {k} / 40\n\n{k}: ") and "✓ " not in (
        student.last_text
    )
    assert "✓4" in student.last_buttons
    await student.tap("2")
    assert student.last_text.startswith(f"Pages · {k + 1} / 40\n\n✓ {k}. ")
    assert f"— 2\n\n{k + 1}: " in student.last_text
    assert _message(student, first_page).text == closed and _sends(harness) == sends
    assert (await _answers(harness))[f"s{k}"] == 2


async def test_the_surveys_list_and_the_invitation_become_the_survey(harness, i18n, tmp_path):
    """Tried: /surveys, then the survey's button in that list; then, for another student, the
    Start button of the campaign's invitation; then an invitation sent before its button
    turned into the page (its button data says so). The list and the invitation are each
    edited into the survey's first page (no new message: in a lecture hall's first seconds
    each one counts against Telegram's 30 a second); the old invitation keeps its text and
    the survey starts below it."""
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    report = await content_service.load_path(db, _mixed(tmp_path))
    assert report.ok, report
    campaign_id = await factories.campaign(db, ADMIN_ID, ADMINS, "pages", "pre")
    t = i18n.translator("en")
    student = harness.user(751, "Student", "en")
    await onboard(student, i18n)
    await student.send("/surveys")
    listed = student.last_message.message_id
    sends = _sends(harness)
    await student.tap("Pages (pre)")
    assert _sends(harness) == sends
    assert student.last_message.message_id == listed
    assert t.plain("surveys.continue") in student.last_buttons
    await student.tap(t.plain("surveys.continue"))
    assert "Lessons were clear" in student.last_text

    invited = harness.user(752, "Invited", "en")
    await onboard(invited, i18n)
    await harness.run_jobs()  # the campaign's invitation goes out
    invitation = next(
        m for m in invited.messages if t.plain("surveys.start_button") in invited.buttons_of(m)
    )
    assert "Pages is open for you" in (invitation.text or "")
    sends = _sends(harness)
    await invited.tap(t.plain("surveys.start_button"), message_id=invitation.message_id)
    assert _sends(harness) == sends
    assert invited.last_message.message_id == invitation.message_id
    assert _message(invited, invitation.message_id).text.startswith("Pages")
    assert t.plain("surveys.continue") in invited.last_buttons
    await invited.tap(t.plain("surveys.continue"))
    assert "Lessons were clear" in invited.last_text
    assert invited.last_message.message_id == invitation.message_id

    # An invitation sent before: its Start leaves it as it is and starts a new page.
    late = harness.user(753, "Late", "en")
    await onboard(late, i18n)
    start = SurveyStart(campaign_id, NEW_MESSAGE).pack()
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Start", callback_data=start)]])
    old = await harness.app.bot.send_message(late.user_id, "Pages is open.", reply_markup=keyboard)
    await late.tap("Start", message_id=old.message_id)
    assert _message(late, old.message_id).text == "Pages is open."
    assert late.last_message.message_id != old.message_id
    assert t.plain("surveys.continue") in late.last_buttons


async def test_submit_closes_the_review_with_the_thanks_or_sends_them_when_too_long(
    harness, i18n, tmp_path, monkeypatch
):
    """Submit on the review: the thanks go under the answers, in place of the buttons.

    Tried: a survey answered to the review and submitted (no new message for the thanks);
    a second student's, with the room of one message made too small for the answers and the
    thanks together: the review only loses its buttons and the thanks come in a new message.
    Submit pressed again on either review changes nothing.
    """
    student, t = await _start(harness, i18n, _mixed(tmp_path), "pages", 748)
    page = student.last_message.message_id
    await student.tap(t.plain("surveys.continue"))
    for point in ("4", "5", "3", "2"):
        await student.tap(point)
    await student.send("6")
    await student.tap("5")
    await student.tap("4")
    sends = _sends(harness)
    await student.tap(t.plain("surveys.submit"))
    assert _sends(harness) == sends
    closed = _message(student, page)
    assert not closed.inline_keyboard
    assert closed.text.startswith("Pages\n1. Lessons were clear — 4")
    assert "7. I would recommend it — 4\n\n" + t.plain("surveys.thanks") in closed.text
    await student.tap_data(SurveySubmit(1).pack(), page)
    assert student.last_toast == t.plain("surveys.already_submitted")

    monkeypatch.setattr(survey_handlers, "MESSAGE_LIMIT", 200)
    other = harness.user(749, "Other", "en")
    await onboard(other, i18n)
    await other.send("/surveys")
    await other.tap("Pages (pre)")
    review = other.last_message.message_id
    await other.tap(t.plain("surveys.continue"))
    for point in ("1", "2", "3", "4"):
        await other.tap(point)
    await other.send("7")
    await other.tap("5")
    await other.tap("4")
    await other.tap(t.plain("surveys.submit"))
    kept = _message(other, review)
    assert not kept.inline_keyboard and t.plain("surveys.thanks") not in kept.text
    assert "Check your answers" in kept.text
    assert other.last_message.message_id > review
    assert other.last_text.startswith(t.plain("surveys.thanks"))
