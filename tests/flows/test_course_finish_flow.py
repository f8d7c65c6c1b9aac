"""The course's finishing touches in chat: it goes on after its tests; the time zone choice.

A learner onboarded in chat is enrolled in a small course naming the default dlt_pre /
dlt_post; the tests are answered through the surveys services up to their review
(tests/factories.py) and submitted in chat with the survey's own Submit button, so the
`Features.after_submit` hook of the course runs after the result card. The time zone of the
daily lesson is chosen in the pace settings, by button or by a typed IANA name.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.callbacks import PaceZone, SurveyResume
from bot.services import course as svc
from bot.services import course_tests
from bot.services.course import OfferKind
from tests import factories
from tests.flows.helpers import onboard
from tests.services.test_course import add_course, definition

LEARNER = 7801


async def _submit_in_chat(learner, db, t, campaign_id: int) -> int:
    """Answer the campaign's test up to its review, then submit it in chat; messages before."""
    review = await factories.attempt(db, LEARNER, campaign_id, submit=False)
    assert review.kind == "review"
    await learner.tap_data(SurveyResume(review.attempt_id).pack(), learner.last_message.message_id)
    before = len(learner.messages)
    await learner.tap(t.plain("surveys.submit"))
    return before


async def _take_lessons(db, enrolment: int, lessons: int) -> None:
    """Take every lesson through the course services, answering the checks."""
    for position in range(lessons):
        screen = await svc.open_lesson(db, LEARNER, enrolment, position)
        step = 1
        while not screen.completed:
            if screen.check is not None:
                screen = await svc.check_answer(db, LEARNER, enrolment, position, ["a"])
                continue
            screen = await svc.next_step(db, LEARNER, enrolment, position, step)
            step += 1


async def test_submitting_the_tests_in_chat_moves_the_course_on(harness, i18n):
    """Tried: submitting the pre-test in chat (the result card is followed by the first
    lesson's offer with its Open button); the lessons taken through the services (the
    post-test is due); submitting the post-test in chat (the result card is followed by
    "you have finished" and the certificate's name question at once, the enrolment is marked
    finished); and submitting the pre-test again afterwards (nothing more from the course)."""
    t = i18n.translator("en")
    db = harness.app.bot_data.db
    learner = harness.user(LEARNER, "Aliya", "en")
    await onboard(learner, i18n)
    await add_course(db, definition("fin", 2, pre_test="dlt_pre", post_test="dlt_post"))
    enrolment = (await svc.enrol(db, LEARNER, "fin")).enrolment.id

    pre = await course_tests.due_test(db, LEARNER, enrolment)
    assert pre is not None and pre.kind is OfferKind.PRE_TEST
    before = await _submit_in_chat(learner, db, t, pre.campaign_id)
    after = learner.messages[before:]
    assert after[-1].text == t("course.next_lesson", number=1)
    assert learner.buttons_of(after[-1]) == [t.plain("course.open_number_button", number=1)]
    assert not any(m.text and m.text.startswith("🎓") for m in after)  # nothing finished

    await _take_lessons(db, enrolment, 2)
    post = await course_tests.due_test(db, LEARNER, enrolment)
    assert post is not None and post.kind is OfferKind.POST_TEST
    before = await _submit_in_chat(learner, db, t, post.campaign_id)
    texts = [m.text for m in learner.messages[before:]]
    finished = [i for i, text in enumerate(texts) if text and text.startswith("🎓 You have")]
    assert len(finished) == 1
    ask = t("certificates.ask_name", min=2, max=120)
    assert texts[finished[0] + 1 :] == [ask]
    views = await svc.my_enrolments(db, LEARNER)
    assert views[0].finished_at is not None
    assert (await svc.offer_next(db, LEARNER, enrolment)).kind is OfferKind.FINISHED


async def test_a_survey_the_course_does_not_name_changes_nothing(harness, i18n):
    """Tried: a learner of a course whose tests are dlt_pre / dlt_post submits another
    instrument (the digital competence test) in chat: its result card is the last message,
    the course offers nothing and its pre-test is still due."""
    t = i18n.translator("en")
    db = harness.app.bot_data.db
    learner = harness.user(LEARNER, "Aliya", "en")
    await onboard(learner, i18n)
    await add_course(db, definition("fin", 2, pre_test="dlt_pre", post_test="dlt_post"))
    enrolment = (await svc.enrol(db, LEARNER, "fin")).enrolment.id
    await factories.admin(db, 1, frozenset({1}))
    campaign = await factories.campaign(db, 1, frozenset({1}), "digital_competence_test", "pre")

    before = await _submit_in_chat(learner, db, t, campaign)
    after = learner.messages[before:]
    assert after and all(t("course.next_lesson", number=1) != m.text for m in after)
    assert (await svc.offer_next(db, LEARNER, enrolment)).kind is OfferKind.PRE_TEST


async def _zone(db, telegram_id: int = LEARNER) -> str | None:
    """The stored zone of the learner's first enrolment."""
    return (await svc.my_enrolments(db, telegram_id))[0].timezone


async def test_time_zone_chosen_by_button_or_typed_name(harness, i18n):
    """Tried: the daily pace's settings offer Almaty, Tashkent, Moscow and the bot's zone;
    Tashkent (stored, ticked, the next lesson moved to 09:00 Tashkent time); "Another zone"
    and a name that is no zone, a path, then `europe/berlin` in lower case (each bad name
    explained with the bot still waiting; Berlin stored as Europe/Berlin); the bot's zone
    (back to none); a forged zone button (refused as a bad zone, nothing changed) and a zone
    button for another learner's enrolment (refused)."""
    t = i18n.translator("en")
    db = harness.app.bot_data.db
    learner = harness.user(LEARNER, "Aliya", "en")
    await onboard(learner, i18n)
    await add_course(db, definition("fin", 2))
    enrolment = (await svc.enrol(db, LEARNER, "fin")).enrolment.id
    await factories.student(db, LEARNER + 1)
    other = (await svc.enrol(db, LEARNER + 1, "fin")).enrolment.id

    await learner.send("/course")
    await learner.tap(t.plain("course.settings_button"))
    await learner.tap(t.plain("course.pace_scheduled_button"))
    await learner.send("09:00")
    own = t.plain("course.zone_bot_button", zone="Asia/Almaty")
    assert "✓ " + own in learner.last_buttons
    for key in ("course.zone_almaty", "course.zone_tashkent", "course.zone_moscow"):
        assert t.plain(key) in learner.last_buttons

    await learner.tap(t.plain("course.zone_tashkent"))
    assert await _zone(db) == "Asia/Tashkent"
    assert "✓ " + t.plain("course.zone_tashkent") in learner.last_buttons
    assert t("course.zone_line", zone="Asia/Tashkent") in learner.last_text
    view = (await svc.my_enrolments(db, LEARNER))[0]
    local = view.next_due_at.astimezone(ZoneInfo("Asia/Tashkent"))
    assert (local.hour, local.minute) == (9, 0)

    await learner.tap(t.plain("course.zone_other_button"))
    assert learner.last_text == t("course.ask_zone", zone="Asia/Tashkent", example="Asia/Almaty")
    bad = t("course.bad_zone", example="Asia/Almaty")
    for typed in ("Mars/Olympus", "../../etc/passwd"):
        await learner.send(typed)
        assert learner.last_text == bad
    assert await _zone(db) == "Asia/Tashkent"
    await learner.send("europe/berlin")
    assert t("course.zone_saved", zone="Europe/Berlin") in learner.texts
    assert await _zone(db) == "Europe/Berlin"
    assert t.plain("course.pause_button") in learner.last_buttons  # the settings again
    await learner.send("Asia/Almaty")  # no longer waiting for a zone
    assert await _zone(db) == "Europe/Berlin"

    await learner.tap(own)
    assert await _zone(db) is None

    settings = learner.last_message.message_id
    await learner.tap_data(PaceZone(enrolment, "Nowhere/City").pack(), settings)
    assert learner.last_text == bad and await _zone(db) is None
    await learner.tap_data(PaceZone(other, "Asia/Tashkent").pack(), settings)
    assert learner.last_text == t("course.not_enrolled")
    assert await _zone(db, LEARNER + 1) is None
