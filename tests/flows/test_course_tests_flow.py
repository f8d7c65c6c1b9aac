"""A course's pre-/post-test: one always-open campaign per course and wave, started in chat.

The learner enrols in a small course naming the default dlt_pre / dlt_post; the test is
offered through `bot.services.course_tests.due_test`, started in chat with the survey's own
Start button, and answered through the surveys services (tests/factories.py).
"""

from __future__ import annotations

from sqlalchemy import select

from bot.callbacks import SurveyStart
from bot.services import course as svc
from bot.services import course_tests
from bot.services.course import OfferKind
from models import Campaign
from tests import factories
from tests.services.test_course import add_course, definition

LEARNER, OTHER = 7701, 7702


async def test_pre_and_post_tests_run_as_the_course_campaigns(harness, i18n):
    """Tried: enrolling offers dlt_pre: a campaign (wave pre, to the course's learners, open,
    no closing, no bulk invitation) is made once, and a second learner gets the same one; the
    Start button opens the survey in chat; once submitted no test is due and the lesson is
    offered; after the last lesson dlt_post (wave post), and once it is submitted the course
    is finished (offer_next)."""
    db = harness.app.bot_data.db
    await add_course(db, definition("tested", 1, pre_test="dlt_pre", post_test="dlt_post"))
    for telegram_id in (LEARNER, OTHER):
        await factories.student(db, telegram_id)
    enrolment = (await svc.enrol(db, LEARNER, "tested")).enrolment.id
    other = (await svc.enrol(db, OTHER, "tested")).enrolment.id

    pre = await course_tests.due_test(db, LEARNER, enrolment)
    assert pre is not None and (pre.kind, pre.instrument, pre.wave) == (
        OfferKind.PRE_TEST,
        "dlt_pre",
        "pre",
    )
    assert await course_tests.due_test(db, LEARNER, enrolment) == pre
    assert (await course_tests.due_test(db, OTHER, other)).campaign_id == pre.campaign_id
    async with db() as session:
        campaign = await session.get(Campaign, pre.campaign_id)
        assert campaign.audience_kind == "course" and campaign.closes_at is None
        assert campaign.published_at is not None and campaign.invited_at is not None

    learner = harness.user(LEARNER, "Aliya", "en")
    await learner.send("/start")
    await learner.tap_data(SurveyStart(pre.campaign_id).pack(), learner.last_message.message_id)
    assert learner.last_buttons  # the survey's first screen, with its buttons
    await factories.attempt(db, LEARNER, pre.campaign_id)
    assert await course_tests.due_test(db, LEARNER, enrolment) is None
    assert (await svc.offer_next(db, LEARNER, enrolment)).kind is OfferKind.LESSON

    screen = await svc.open_lesson(db, LEARNER, enrolment, 0)
    step = 1
    while not screen.completed:
        screen = await svc.next_step(db, LEARNER, enrolment, 0, step)
        step += 1
    assert screen.offer.kind is OfferKind.POST_TEST
    post = await course_tests.due_test(db, LEARNER, enrolment)
    assert post is not None and (post.instrument, post.wave) == ("dlt_post", "post")
    assert post.campaign_id != pre.campaign_id
    await factories.attempt(db, LEARNER, post.campaign_id)
    assert (await svc.offer_next(db, LEARNER, enrolment)).kind is OfferKind.FINISHED
    assert await course_tests.due_test(db, LEARNER, enrolment) is None


async def test_enrolling_in_chat_hands_over_the_pre_test_start_button(harness, i18n):
    """Tried: a learner enrols with the course's link (?start=c-tested): the course's offer
    is followed by the dlt_pre Start button of the course's pre campaign (the course.tests
    action), and pressing it opens the survey."""
    db = harness.app.bot_data.db
    t = i18n.translator("en")
    await add_course(db, definition("tested", 1, pre_test="dlt_pre", post_test="dlt_post"))
    await factories.student(db, LEARNER)
    learner = harness.user(LEARNER, "Aliya", "en")
    await learner.send("/start c-tested")
    start = t.plain("surveys.start_button")
    offered = [m for m in learner.messages if start in m.buttons]
    assert len(offered) == 1 and offered[0].text.startswith("📝 What I know")
    async with db() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.wave == "pre"))
    data = offered[0].inline_keyboard[0][0]["callback_data"]
    assert data == SurveyStart(campaign.id).pack() and campaign.audience_kind == "course"
    await learner.tap(start, message_id=offered[0].message_id)
    assert learner.last_buttons
