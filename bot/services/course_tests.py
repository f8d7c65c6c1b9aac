"""A course's pre-test and post-test, taken through the surveys engine as campaigns.

A course names instrument codes (`Course.pre_test`, `Course.post_test`); an attempt of the
surveys engine belongs to a campaign. So each course has, per wave ("pre" before the first
lesson, "post" after the last), one campaign that is always open and addressed to the
course's learners (the audience kind `course`, referenced by the id of the course's first
version, as `bot.services.audiences` registered it). It is created the first time a learner
of the course is offered that test, published at once, with no closing date and its
invitation step marked done: nobody is invited in bulk, each learner gets the survey's own
Start button (`SurveyStart(campaign)`) from the course when the test is due, and the surveys
feature runs it. There is no person publishing it (the course does), so it has no author.

When both tests name the same instrument, its "pre" and "post" waves are what the surveys
engine and /course_stats pair. After the post-test is submitted, `course.offer_next` (or any
read of the learner's progress) marks the course finished.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.db import Sessionmaker
from bot.services.audiences import Audience, course_ref
from bot.services.course import OfferKind, own_enrolment, settle_offer
from bot.services.surveys import latest_instrument
from models import Campaign, Course, utcnow

WAVES = {OfferKind.PRE_TEST: "pre", OfferKind.POST_TEST: "post"}


@dataclass(frozen=True)
class TestOffer:
    """The test a learner should take now: which one, its campaign, and its title."""

    kind: OfferKind  # PRE_TEST or POST_TEST
    instrument: str
    wave: str
    campaign_id: int
    title: dict[str, str]


async def due_test(db: Sessionmaker, telegram_id: int, enrolment_id: int) -> TestOffer | None:
    """The pre- or post-test the learner should take now, with its campaign; None if neither.

    The course's campaign for that wave is created (published, always open, addressed to the
    course's learners) the first time any learner needs it.

    Raises:
        NotFound: `course.not_enrolled`, `surveys.no_instrument` (the test is not loaded).
    """
    now = utcnow()
    async with db.begin() as session:
        _user, enrolment, course = await own_enrolment(session, telegram_id, enrolment_id)
        offer = await settle_offer(session, enrolment, course, now)
        if offer.kind not in WAVES or offer.instrument is None:
            return None
        wave = WAVES[offer.kind]
        ref = await course_ref(session, course.code)
        assert ref is not None  # the enrolment's own course has a first version
        # One campaign per course and wave, even when learners ask at the same moment: the
        # course's first version is the lock (PostgreSQL; SQLite has one writer at a time).
        await session.scalar(select(Course.id).where(Course.id == int(ref)).with_for_update())
        campaign = await session.scalar(
            select(Campaign)
            .where(
                Campaign.instrument_code == offer.instrument,
                Campaign.wave == wave,
                Campaign.audience_kind == Audience.COURSE.value,
                Campaign.audience_ref == ref,
                Campaign.published_at.is_not(None),
                Campaign.closed_at.is_(None),
            )
            .order_by(Campaign.id.desc())
            .limit(1)
        )
        instrument = await latest_instrument(session, offer.instrument)
        if campaign is None:
            campaign = Campaign(
                instrument_id=instrument.id,
                instrument_code=instrument.code,
                wave=wave,
                audience_kind=Audience.COURSE.value,
                audience_ref=ref,
                opens_at=now,
                closes_at=None,
                created_by_id=None,
                published_at=now,
                remind_before_hours=None,
                invited_at=now,  # no invitations in bulk: the course offers it to each learner
            )
            session.add(campaign)
            await session.flush()
        return TestOffer(offer.kind, instrument.code, wave, campaign.id, dict(instrument.title))
