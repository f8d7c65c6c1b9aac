"""A campaign followed as it runs (issue 17, item 4), on a real database: responses per day in
the bot's zone with running totals, each person once, completion by university as /campaigns
counts it, the days kept to the campaign's window, rights and scope, and the chart drawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.services import NotFound, PermissionDenied, surveys
from bot.services.campaign_chart import progress_chart
from bot.services.campaign_progress import progress
from models import Attempt, Campaign
from tests import factories

ADMIN = 900_001
ADMINS = frozenset({ADMIN})
ZONE = factories.ZONE  # Asia/Almaty, UTC+5
# 09:00 in Almaty, ten days ago (attempts can only start in an open campaign)
OPENS = (datetime.now(UTC) - timedelta(days=10)).replace(hour=4, minute=0, second=0, microsecond=0)
NOW = OPENS + timedelta(days=3, hours=2)


async def _attempt(db, telegram_id, campaign_id, started, submitted=None):
    screen = await surveys.start(db, telegram_id, campaign_id, "en")
    values = {"started_at": started}
    if submitted is not None:
        values |= {"submitted_at": submitted, "state": "submitted"}
    async with db.begin() as session:
        await session.execute(
            update(Attempt).where(Attempt.id == screen.attempt_id).values(**values)
        )


async def test_responses_per_day_and_completion_by_university(db) -> None:
    """Tried: four students of two universities; one starts on day 1 and submits on day 3, one
    starts and submits late on day 2 in Almaty (18:30 UTC), one starts on day 3 and stops, one
    never starts; a coach who answers is not counted; an organizer of another university may
    not follow the campaign, nor a student; the chart renders."""
    await factories.student(db, ADMIN, ADMINS, university=0)
    students = {101: 0, 102: 0, 103: 1, 104: 1}
    for telegram_id, university in students.items():
        await factories.student(db, telegram_id, ADMINS, university=university)
    await factories.coach(db, 105, ADMINS)
    campaign_id = await factories.campaign(db, ADMIN, ADMINS, "dlt_pre")
    async with db.begin() as session:
        await session.execute(update(Campaign).values(opens_at=OPENS))
    day = timedelta(days=1)
    await _attempt(db, 101, campaign_id, OPENS + timedelta(hours=1), OPENS + 2 * day)
    late = OPENS + day + timedelta(hours=14, minutes=30)  # 18:30 UTC = 23:30 in Almaty, day 2
    await _attempt(db, 102, campaign_id, late, late + timedelta(minutes=10))
    await _attempt(db, 103, campaign_id, OPENS + 2 * day)
    await _attempt(db, 105, campaign_id, OPENS, OPENS + timedelta(minutes=5))  # staff

    result = await progress(db, ADMIN, ADMINS, campaign_id, ZONE, now=NOW)
    first = OPENS.astimezone(ZONE).date()
    assert [d.day for d in result.days] == [first + i * day for i in range(4)]
    # 102 started and submitted at 23:30 and 23:40 on day 2 in Almaty (18:30 UTC): day 2.
    assert [(d.started, d.submitted) for d in result.days] == [(1, 0), (1, 1), (1, 1), (0, 0)]
    assert [(d.started_total, d.submitted_total) for d in result.days][-1] == (3, 2)
    assert result.audience == 4
    per = {u.university["en"]: (u.audience, u.started, u.submitted) for u in result.by_university}
    assert sorted(per.values()) == [(2, 1, 0), (2, 2, 2)]
    png = progress_chart(
        result,
        {"title": "t", "per_day": "d", "started": "s", "submitted": "u", "completion": "c"},
        "en",
    )
    assert png.startswith(b"\x89PNG")

    other = await factories.university(db, "KZ | Other University | Другой | Басқа", ADMINS)
    await factories.organizer(db, 106, ADMINS, university=other)
    with pytest.raises(NotFound):
        await progress(db, 106, ADMINS, campaign_id, ZONE, now=NOW)
    with pytest.raises(PermissionDenied):
        await progress(db, 101, ADMINS, campaign_id, ZONE, now=NOW)
    with pytest.raises(NotFound):
        await progress(db, ADMIN, ADMINS, 999_999, ZONE, now=NOW)


async def test_a_staff_survey_counts_its_staff_not_its_students(db) -> None:
    """The teachers' survey of the collaborative environment (`settings.respondents: staff`):
    its campaign for everyone counts the coach and the organizer who were invited (and the
    admin), not the students; the students' default survey counts the students, not staff."""
    await factories.student(db, ADMIN, ADMINS, university=0)
    for telegram_id in (201, 202):
        await factories.student(db, telegram_id, ADMINS, university=0)
    await factories.coach(db, 203, ADMINS)
    await factories.organizer(db, 204, ADMINS)
    staff_campaign = await factories.campaign(db, 204, ADMINS, "collab_readiness", "2026")
    await _attempt(db, 203, staff_campaign, OPENS, OPENS + timedelta(minutes=9))
    staff = await progress(db, ADMIN, ADMINS, staff_campaign, ZONE)
    # The coach and the admin (the organizer is its author and does not count).
    assert staff.audience == 2 and staff.days[-1].submitted_total == 1
    student_campaign = await factories.campaign(db, ADMIN, ADMINS, "dlt_pre")
    students = await progress(db, ADMIN, ADMINS, student_campaign, ZONE)
    assert students.audience == 2
