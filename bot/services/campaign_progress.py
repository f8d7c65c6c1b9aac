"""A campaign followed as it runs: responses per day and completion by university (issue 17).

The chart `/campaigns` sends.

Days are calendar days in the bot's zone, from the campaign's opening to today (or its
closing); each day counts the attempts started and submitted that day, and the running totals.
The people counted are the campaign's participants as its completion rate counts them (its
audience without staff, or only its staff for a staff instrument: `campaigns.participants`);
each person counts once, on the day of their first start and of their first submission.
Completion by university is the share of each university's participants who submitted, as
`/campaigns` lists it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.db import Sessionmaker
from bot.services import campaigns as campaign_service
from bot.services.campaigns import SUBMITTED, UniversityFigures, figures_of
from models import Attempt, Instrument, utcnow

MAX_DAYS = 120  # a longer campaign shows its last 120 days


@dataclass(frozen=True)
class Day:
    """One calendar day of a campaign."""

    day: date
    started: int
    submitted: int
    started_total: int
    submitted_total: int


@dataclass(frozen=True)
class Progress:
    """A campaign's responses per day and completion by university."""

    campaign_id: int
    title: dict[str, str]
    wave: str
    audience: int
    days: list[Day]
    by_university: list[UniversityFigures]


async def progress(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    campaign_id: int,
    zone: ZoneInfo,
    now: datetime | None = None,
) -> Progress:
    """The campaign's progress, for an organizer or admin who may follow it.

    Raises:
        PermissionDenied: not an organizer or admin.
        NotFound: `surveys.no_campaign` (also outside the actor's university).
    """
    now = now or utcnow()
    async with db() as session:
        campaign = await campaign_service.followed(session, actor_id, admin_ids, campaign_id)
        instrument = await session.get(Instrument, campaign.instrument_id)
        assert instrument is not None
        respondents = campaign_service.respondents_of(instrument)
        people = campaign_service.participants(campaign, admin_ids, respondents).subquery()
        firsts = (
            await session.execute(
                select(
                    Attempt.user_id,
                    func.min(Attempt.started_at),
                    func.min(Attempt.submitted_at).filter(Attempt.state == SUBMITTED),
                )
                .where(
                    Attempt.campaign_id == campaign.id, Attempt.user_id.in_(select(people.c.id))
                )
                .group_by(Attempt.user_id)
            )
        ).all()
        per_university = await figures_of(session, campaign, admin_ids)
    first_day = campaign.opens_at.astimezone(zone).date()
    end = min(now, campaign.closes_at) if campaign.closes_at else now
    last_day = max(end.astimezone(zone).date(), first_day)
    first_day = max(first_day, last_day - timedelta(days=MAX_DAYS - 1))
    started: dict[date, int] = {}
    submitted: dict[date, int] = {}
    before_started = before_submitted = 0
    for _user, began, done in firsts:
        began_day = began.astimezone(zone).date()
        if began_day < first_day:
            before_started += 1
        else:
            started[began_day] = started.get(began_day, 0) + 1
        if done is not None:
            done_day = done.astimezone(zone).date()
            if done_day < first_day:
                before_submitted += 1
            else:
                submitted[done_day] = submitted.get(done_day, 0) + 1
    days: list[Day] = []
    total_started, total_submitted = before_started, before_submitted
    day = first_day
    while day <= last_day:
        total_started += started.get(day, 0)
        total_submitted += submitted.get(day, 0)
        days.append(
            Day(day, started.get(day, 0), submitted.get(day, 0), total_started, total_submitted)
        )
        day += timedelta(days=1)
    return Progress(
        campaign_id=campaign.id,
        title=dict(instrument.title),
        wave=campaign.wave,
        audience=sum(u.audience for u in per_university),
        days=days,
        by_university=per_university,
    )
