"""Taking surveys and tests in chat: every question type, bad input, resume, limits, closing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot.callbacks import SurveyOption, SurveyPoint
from bot.services import content as content_service
from models import Answer, Attempt, utcnow
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard

PACKS = Path(__file__).resolve().parents[1] / "content"
ADMINS = frozenset({ADMIN_ID})


async def _campaign(harness, i18n, pack: str, code: str, wave: str = "pre") -> int:
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    assert (await content_service.load_path(db, PACKS / pack)).ok
    return await factories.campaign(db, ADMIN_ID, ADMINS, code, wave)


async def _answers(harness, attempt_id=None):
    async with harness.app.bot_data.db() as session:
        stmt = select(Answer.item_code, Answer.value)
        if attempt_id:
            stmt = stmt.where(Answer.attempt_id == attempt_id)
        return dict((await session.execute(stmt)).all())


async def test_every_question_type_with_bad_input_back_and_review(harness, i18n):
    t = i18n.translator("en")
    await _campaign(harness, i18n, "all_types_pack.yaml", "all_types")
    aru = harness.user(700, "Aru", "en")
    await onboard(aru, i18n)
    await aru.send("/surveys")
    await aru.tap("All types (pre)")
    assert "Welcome to the survey" in aru.last_text
    await aru.tap(t.plain("surveys.continue"))
    # Eight: "Which other tools?" counts until "Other" is left unticked (the total never grows).
    assert "1 / 8" in aru.last_text and "Year of study" in aru.last_text
    question = aru.last_message.message_id
    await aru.send("second")  # text where a button is expected
    assert aru.last_text == t("surveys.use_buttons")

    def page():  # the survey's message, above the reply: each button answer edits it
        return next(m for m in aru.messages if m.message_id == question)

    sends = harness.emulator.stats.calls["sendMessage"]
    await aru.tap("Second year")
    answered = page()
    assert "✓ 1. Year of study — Second year" in answered.text  # the answer, as a record
    assert "Tools you use" in answered.text and "☐ Zoom" in answered.buttons  # the next one
    await aru.tap(t.plain("surveys.done"))  # nothing ticked yet
    assert aru.last_toast == t.plain("surveys.tick_something")
    await aru.tap("☐ Zoom")
    await aru.tap("☐ Other")
    await aru.tap("☑ Zoom")  # untick
    assert "☑ Other" in page().buttons and "☐ Zoom" in page().buttons
    await aru.tap(t.plain("surveys.done"))
    assert "Which other tools?" in page().text  # shown because "other" was ticked
    assert harness.emulator.stats.calls["sendMessage"] == sends  # answering posted nothing
    await aru.send("x" * 60)
    assert aru.last_text == t("surveys.text_too_long", length=60, limit=50)
    await aru.send("Padlet")
    assert "1 — Disagree … 5 — Agree" in aru.last_text
    await aru.tap("4")
    assert "Your views" in aru.last_text and "They are useful" in aru.last_text
    await aru.tap("5")
    assert "They are hard" in aru.last_text
    await aru.tap(t.plain("surveys.back"))
    assert "They are useful" in aru.last_text and "✓5" in aru.last_buttons
    await aru.tap("3")
    await aru.tap("2")
    assert "Hours online per week" in aru.last_text
    for bad, key in (("many", "surveys.not_a_number"), ("7.5", "surveys.whole_number")):
        await aru.send(bad)
        assert aru.last_text == t(key)
    await aru.send("99")
    assert aru.last_text == t("surveys.out_of_range", low="0", high="80")
    await aru.send("12")
    assert "Since when" in aru.last_text
    since = aru.last_message.message_id
    await aru.send("yesterday")
    assert aru.last_text.startswith("I could not read that date")
    await aru.tap(t.plain("surveys.skip"))  # the review takes the place of the question
    review = next(m for m in aru.messages if m.message_id == since)
    assert "Check your answers" in review.text and "Padlet" in review.text
    await aru.tap(t.plain("surveys.submit"))
    # The review closes with the thanks and the scores under the answers, without buttons.
    result = next(m for m in aru.messages if m.message_id == since)
    assert not result.inline_keyboard and "Check your answers" not in result.text
    assert result.text.index("Padlet") < result.text.index(t("surveys.thanks").split("!")[0])
    result = result.text
    assert "Attitude: <b>" not in result and "Attitude: 3" in result
    assert aru.last_message.photo and "your scores by scale" in aru.last_message.caption
    answers = await _answers(harness)
    assert answers == {
        "year": "y2",
        "tools": ["other"],
        "tools_other": "Padlet",
        "enjoy": 4,
        "views_1": 3,
        "views_2": 2,
        "hours": 12,
        "since": None,
    }


async def test_same_codes_whatever_the_language(harness, i18n):
    await _campaign(harness, i18n, "all_types_pack.yaml", "all_types")
    titles = {"kk": "Барлық түрлер", "ru": "Все типы"}
    for telegram_id, language, year in ((701, "kk", "2-курс"), (702, "ru", "2 курс")):
        t = i18n.translator(language)
        user = harness.user(telegram_id, "U", language)
        await onboard(user, i18n, language=language, university="Тараз")
        await user.send("/surveys")
        await user.tap(titles[language])
        await user.tap(t.plain("surveys.continue"))
        await user.tap(year)
    async with harness.app.bot_data.db() as session:
        stmt = select(Answer.value).where(Answer.item_code == "year")
        values = (await session.scalars(stmt)).all()
    assert values == ["y2", "y2"]


async def test_resume_after_a_restart_and_forged_buttons(harness, i18n):
    t = i18n.translator("en")
    await _campaign(harness, i18n, "all_types_pack.yaml", "all_types")
    bek = harness.user(703, "Bek", "en")
    await onboard(bek, i18n)
    await bek.send("/surveys")
    await bek.tap("All types (pre)")
    await bek.tap(t.plain("surveys.continue"))
    await bek.tap("First year")
    question = bek.last_message.message_id
    await harness.restart()
    await bek.send("/start")
    assert bek.last_text == t("surveys.unfinished")
    await bek.tap(t.plain("surveys.continue"))
    assert "Tools you use" in bek.last_text  # the same question, nothing lost
    # A stale button of an earlier question, and someone else's attempt, change nothing.
    await bek.tap_data(SurveyOption(1, 1, 0).pack(), question)
    assert bek.last_toast == t.plain("errors.stale_button")
    eve = harness.user(704, "Eve", "en")
    await onboard(eve, i18n)
    await eve.tap_data(SurveyPoint(1, 4, 5).pack(), eve.last_message.message_id)
    assert eve.last_toast == t.plain("errors.stale_button")
    assert await _answers(harness) == {"year": "y1"}


async def test_time_limit_attempt_limit_and_protected_test_messages(harness, i18n):
    t = i18n.translator("en")
    await _campaign(harness, i18n, "example_pack.yaml", "example_test")
    cem = harness.user(705, "Cem", "en")
    await onboard(cem, i18n)
    await cem.send("/surveys")
    await cem.tap("Example test (pre)")
    assert cem.last_message.protect_content is True
    await cem.tap(t.plain("surveys.continue"))
    async with harness.app.bot_data.db.begin() as session:
        await session.execute(update(Attempt).values(deadline_at=utcnow() - timedelta(seconds=1)))
    await cem.tap("A learning system")
    assert cem.last_text == t("surveys.time_up")
    await cem.send("/surveys")
    await cem.tap("Example test (pre)")  # the second and last attempt
    await cem.tap(t.plain("surveys.continue"))
    await cem.tap("A learning system")
    await cem.tap("☐ Moodle")
    await cem.tap("☐ Canvas")
    await cem.tap(t.plain("surveys.done"))
    await cem.send("3")
    await cem.tap(t.plain("surveys.submit"))
    result = cem.messages[-2].text
    assert "Score: <b>3</b>" not in result and "Score: 3 of 3 (100%)" in result
    assert "Your level: High" in result
    await cem.send("/surveys")
    await cem.tap("Example test (pre)")
    assert cem.last_text == t("surveys.no_attempts_left", limit=2)


async def test_closing_mid_way_keeps_answers_and_says_so(harness, i18n):
    t = i18n.translator("en")
    campaign = await _campaign(harness, i18n, "all_types_pack.yaml", "all_types")
    dana = harness.user(706, "Dana", "en")
    await onboard(dana, i18n)
    await dana.send("/surveys")
    await dana.tap("All types (pre)")
    await dana.tap(t.plain("surveys.continue"))
    await dana.tap("First year")
    await factories.close_campaign(harness.app.bot_data.db, ADMIN_ID, ADMINS, campaign)
    await dana.tap("☐ Moodle")
    assert dana.last_text == t("surveys.campaign_closed")
    await dana.send("anything")  # no longer waiting for this survey
    assert dana.last_text == t("errors.not_understood").replace("<b>", "")
    assert await _answers(harness) == {"year": "y1"}


async def test_without_consent_nothing_is_stored(harness, i18n):
    t = i18n.translator("en")
    await _campaign(harness, i18n, "all_types_pack.yaml", "all_types")
    user = harness.user(707, "Fatima", "en")
    await user.send("/start")
    await user.tap("English")
    await user.tap(t.plain("onboarding.consent_no"))
    await user.tap("M.Kh. Dulaty Taraz Regional University")
    await user.send("G-1")
    await user.send("/surveys")
    await user.tap("All types (pre)")
    assert user.last_text == t("surveys.consent_needed")
    async with harness.app.bot_data.db() as session:
        assert (await session.scalars(select(Attempt.id))).all() == []


async def test_many_users_answering_at_once_keep_their_own_answers(harness, i18n):
    import asyncio

    t = i18n.translator("en")
    await _campaign(harness, i18n, "all_types_pack.yaml", "all_types")
    people = [harness.user(900 + i, f"P{i}", "en") for i in range(12)]
    for person in people:
        await onboard(person, i18n)

    async def take(person, year, point):
        await person.send("/surveys")
        await person.tap("All types (pre)")
        await person.tap(t.plain("surveys.continue"))
        await person.tap(year)
        await person.tap("☐ Moodle")
        await person.tap(t.plain("surveys.done"))
        await person.tap(str(point))

    # Updates of different users interleave through the real update processor.
    await asyncio.gather(
        *(
            take(p, "First year" if i % 2 else "Second year", 1 + i % 5)
            for i, p in enumerate(people)
        )
    )
    async with harness.app.bot_data.db() as session:
        rows = (
            await session.execute(
                select(Attempt.user_id, Answer.item_code, Answer.value).join(
                    Answer, Answer.attempt_id == Attempt.id
                )
            )
        ).all()
    by_attempt: dict[int, dict] = {}
    for user_id, code, value in rows:
        by_attempt.setdefault(user_id, {})[code] = value
    assert len(by_attempt) == 12
    enjoy = sorted(answers["enjoy"] for answers in by_attempt.values())
    assert enjoy == sorted(1 + i % 5 for i in range(12))
    assert all(answers["tools"] == ["moodle"] for answers in by_attempt.values())
