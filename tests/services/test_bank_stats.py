"""Each university's contribution to the resource bank (bot/services/bank_stats.py), checked
against a hand computation on a small fixed example, and who may see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.services import PermissionDenied
from bot.services import resources as bank
from bot.services.bank_stats import ChartLabels, contribution, render_bank_chart
from bot.services.resources import Kind
from models import Resource
from tests import factories
from tests.services.test_resources import (
    ADMIN_ID,
    ADMINS,
    COACH,
    I18N,
    ORG0,
    ORG1,
    OTHER_COACH,
    STUDENT,
    complete,
    world,
)

NOW = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SINCE, UNTIL = NOW - 30 * DAY, NOW + DAY
S0 = 7_400_000_103  # a student of university 0
S2 = 7_400_000_102  # a student of university 2
NOBODYS = 7_400_000_104  # someone who never chose a university


async def approve_at(db, actor, at, **fields):
    """A resource by `actor`, approved at `at` by the admin."""
    view = await complete(db, actor, **fields)
    await bank.submit(db, actor, ADMINS, view.id, i18n=I18N)
    await bank.approve(db, ADMIN_ID, ADMINS, view.id, i18n=I18N, now=at)
    return view.id


async def example(db):
    """The fixed example (see the expected figures in the tests below).

    University 0 (COACH): A textbook/d0 approved 10 days ago, B video/d1 5 days ago, D test/d0
    40 days ago (before the period). University 1 (OTHER_COACH): C textbook/d0 3 days ago, and
    E still pending. Uses in the period: A by STUDENT (u1), S2 (u2), S0 (u0), NOBODYS (none);
    B by STUDENT; C by COACH (u0), S0 (u0), OTHER_COACH (u1). Before the period: D by STUDENT.
    Ratings: A by STUDENT 1 before the period then 4 in it (replaced), by S2 2 in it, by S0 5
    before it; B by STUDENT 5; C by COACH 3. A shipped resource used by STUDENT counts for
    no university.
    """
    unis = await world(db)
    await factories.student(db, S0, university=unis[0])
    await factories.student(db, S2, university=unis[2])
    await factories.person(db, NOBODYS)
    d0, d1 = (await bank.disciplines(db))[:2]
    a = await approve_at(db, COACH, NOW - 10 * DAY, kind=Kind.TEXTBOOK, discipline=d0.id)
    b = await approve_at(db, COACH, NOW - 5 * DAY, kind=Kind.VIDEO, discipline=d1.id)
    d = await approve_at(db, COACH, NOW - 40 * DAY, kind=Kind.TEST, discipline=d0.id)
    c = await approve_at(db, OTHER_COACH, NOW - 3 * DAY, kind=Kind.TEXTBOOK, discipline=d0.id)
    pending = await complete(db, OTHER_COACH)
    await bank.submit(db, OTHER_COACH, ADMINS, pending.id, i18n=I18N)
    for person, resource, at in (
        (STUDENT, a, NOW - 9 * DAY),
        (S2, a, NOW - 8 * DAY),
        (S0, a, NOW - 8 * DAY),
        (NOBODYS, a, NOW - 7 * DAY),
        (STUDENT, b, NOW - 4 * DAY),
        (COACH, c, NOW - 2 * DAY),
        (S0, c, NOW - 2 * DAY),
        (OTHER_COACH, c, NOW - 2 * DAY),
        (STUDENT, d, NOW - 39 * DAY),
    ):
        await bank.open_resource(db, person, resource, now=at)
    for person, resource, rating, at in (
        (STUDENT, a, 1, NOW - 35 * DAY),
        (STUDENT, a, 4, NOW - DAY),
        (S2, a, 2, NOW - DAY),
        (S0, a, 5, NOW - 50 * DAY),
        (STUDENT, b, 5, NOW - DAY),
        (COACH, c, 3, NOW - DAY),
    ):
        await bank.rate(db, person, resource, rating, now=at)
    shipped = (await bank.browse(db, STUDENT, per_page=50)).items
    await bank.open_resource(db, STUDENT, next(v for v in shipped if v.university_id is None).id)
    return unis, d0, d1


async def test_the_contribution_in_a_period_matches_the_hand_computation(db):
    """In the period: university 0 has 2 approved (a textbook and a video; D is older), 5 uses,
    3 of them by other universities' people (STUDENT twice, S2; not S0, its own, nor NOBODYS,
    of no university), 3 ratings in the period with mean (4 + 2 + 5) / 3; university 1 has
    1 approved, 3 uses, 2 by others, 1 rating of 3. Shares: resources 2/3 and 1/3, uses by
    others 3/5 and 2/5; university 2 and the rest 0; E (pending) counts nowhere."""
    unis, d0, d1 = await example(db)
    stats = await contribution(db, ORG1, ADMINS, since=SINCE, until=UNTIL)
    first, second, *rest = stats.universities
    assert (first.university_id, second.university_id) == (unis[0].id, unis[1].id)
    assert (stats.approved, stats.uses_by_others) == (3, 5)
    assert (first.approved, first.by_kind, first.by_discipline) == (
        2,
        {"textbook": 1, "video": 1},
        {d0.id: 1, d1.id: 1},
    )
    assert (first.uses, first.uses_by_others, first.ratings) == (5, 3, 3)
    assert first.rating_mean == pytest.approx(11 / 3)
    assert (first.share_resources, first.share_uses) == (pytest.approx(2 / 3), 3 / 5)
    assert (second.approved, second.uses, second.uses_by_others) == (1, 3, 2)
    assert (second.ratings, second.rating_mean) == (1, 3.0)
    assert (second.share_resources, second.share_uses) == (pytest.approx(1 / 3), 2 / 5)
    assert all(u.approved == u.uses == u.ratings == 0 for u in rest)
    assert all(u.share_resources == 0 and u.share_uses == 0 for u in rest)
    assert {u.university_id for u in rest} >= {unis[2].id}
    assert stats.disciplines[d0.id] == d0.name


async def test_without_a_period_everything_counts(db):
    """With no bounds D, its use by STUDENT and S0's early rating of A count too: university 0
    has 3 approved, 6 uses, 4 by others, 4 ratings with mean (4 + 2 + 5 + 5) / 4; the shares
    are 3/4 and 4/6; the shipped resources count as unassigned, in no share."""
    await example(db)
    stats = await contribution(db, ADMIN_ID, ADMINS)
    first, second = stats.universities[:2]
    assert (first.approved, first.uses, first.uses_by_others) == (3, 6, 4)
    assert (first.ratings, first.rating_mean) == (4, 4.0)
    assert (first.share_resources, first.share_uses) == (3 / 4, pytest.approx(4 / 6))
    assert (second.share_resources, second.share_uses) == (1 / 4, pytest.approx(2 / 6))
    async with db() as session:
        shipped = await session.scalar(
            select(func.count(Resource.id)).where(
                Resource.university_id.is_(None), Resource.state == "approved"
            )
        )
    assert stats.unassigned == shipped and shipped >= 5
    assert sum(u.share_resources or 0 for u in stats.universities) == pytest.approx(1)


async def test_an_empty_period_has_no_shares(db):
    """A period with nothing approved or used: every figure 0, the shares None (no sum)."""
    await example(db)
    stats = await contribution(db, ORG0, ADMINS, since=NOW + 10 * DAY, until=NOW + 20 * DAY)
    assert stats.approved == stats.uses_by_others == 0
    assert all(u.share_resources is None and u.share_uses is None for u in stats.universities)


async def test_only_organizers_and_admins_see_the_contribution(db):
    """A student and a coach are refused; an organizer of either university and the admin
    see every university's figures."""
    await world(db)
    for actor in (STUDENT, COACH):
        with pytest.raises(PermissionDenied):
            await contribution(db, actor, ADMINS)
    for actor in (ORG0, ORG1, ADMIN_ID):
        assert (await contribution(db, actor, ADMINS)).universities


async def test_the_chart_is_a_png_in_kazakh_and_when_empty(db):
    """The chart renders with Kazakh labels, and a period with nothing says so on the image."""
    await example(db)
    stats = await contribution(db, ADMIN_ID, ADMINS, since=SINCE, until=UNTIL)
    labels = ChartLabels(
        title="Ресурстар банкіне үлес",
        resources="мақұлданған ресурстар үлесі, %",
        uses="басқа университеттердің пайдалануы, %",
        empty="Бұл кезеңде ештеңе жоқ",
    )
    png = render_bank_chart(stats, "kk", labels)
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    empty = await contribution(db, ADMIN_ID, ADMINS, since=NOW + 10 * DAY, until=NOW + 11 * DAY)
    assert render_bank_chart(empty, "kk", labels).startswith(b"\x89PNG")
