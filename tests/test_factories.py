"""The factories build what the bot itself would: the states tests rely on, checked once here."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.services import InvalidInput, PermissionDenied, campaigns, surveys
from bot.services.roles import Role
from models import Broadcast, Campaign, Delivery
from tests import factories

ADMIN = 1
ADMINS = frozenset({ADMIN})


async def test_people_are_onboarded_and_staff_hold_their_role_and_scope(db):
    profile = await factories.student(db, 10, ADMINS, university=2, language="ru")
    assert profile.onboarded and profile.language == "ru" and profile.consent
    assert profile.university is not None and not profile.has(Role.COACH)
    assert not (await factories.person(db, 11)).onboarded
    assert (await factories.admin(db, ADMIN, ADMINS)).has(Role.ADMIN)
    with pytest.raises(ValueError):
        await factories.admin(db, 12, ADMINS)
    coach = await factories.coach(db, 13, ADMINS)
    assert coach.has(Role.COACH) and coach.onboarded
    juror = await factories.juror(db, 14, ADMINS, onboarded=False)
    assert juror.has(Role.JUROR) and not juror.onboarded
    organizer = await factories.organizer(db, 15, ADMINS, university=2)
    assert organizer.has(Role.ORGANIZER) and organizer.university == profile.university
    # Scoped by its invite: it publishes to its own university only.
    with pytest.raises(PermissionDenied):
        await factories.campaign(db, 15, ADMINS, "dlt_pre")
    assert await factories.campaign(
        db,
        15,
        ADMINS,
        "dlt_pre",
        audience_kind="university",
        audience_ref=str(profile.university.id),
    )
    added = await factories.university(db, "KZ | Abai University", ADMINS)
    assert await factories.student(db, 16, university=added)


async def test_a_campaign_is_published_open_and_refused_without_an_audience(db):
    await factories.admin(db, ADMIN, ADMINS, onboarded=False)
    with pytest.raises(InvalidInput, match="nobody"):  # nobody onboarded yet, as in /publish
        await factories.campaign(db, ADMIN, ADMINS, "dlt_pre")
    await factories.admin(db, ADMIN, ADMINS)
    campaign = await factories.campaign(db, ADMIN, ADMINS, "dlt_pre", "pre\u200b")
    async with db() as session:
        row = await session.get(Campaign, campaign)
    assert row.published_at is not None and row.invited_at is None and row.wave == "pre"
    assert [c.id for c in await surveys.open_campaigns(db, ADMIN)] == [campaign]
    assert (await campaigns.figures(db, ADMIN, ADMINS))[0].state == "open"


async def test_attempts_stop_where_the_answers_run_out_and_closing_tells_those_mid_way(db):
    await factories.admin(db, ADMIN, ADMINS)
    campaign = await factories.campaign(db, ADMIN, ADMINS, "dlt_pre")
    for telegram_id in (20, 21, 22):
        await factories.student(db, telegram_id)
    done = await factories.attempt(db, 20, campaign)
    assert done.kind == "done" and done.result is not None
    review = await factories.attempt(db, 21, campaign, submit=False)
    assert review.kind == "review"
    second = await factories.attempt(db, 22, campaign, ["y1"], submit=False)
    assert second.kind == "item" and second.position == 2  # the year answered, no more
    assert await factories.close_campaign(db, ADMIN, ADMINS, campaign) == [21, 22]
    async with db() as session:
        texts = (
            await session.scalars(
                select(Broadcast.texts)
                .join(Delivery, Delivery.broadcast_id == Broadcast.id)
                .where(Delivery.chat_id == 21)
            )
        ).all()
    assert len(texts) == 1 and set(texts[0]) == {"kk", "ru", "en"}
    assert await surveys.open_campaigns(db, 20) == []
