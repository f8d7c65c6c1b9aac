"""/event_stats's service: an event's figures, who may see them, the registrant list, the chart.

The events and registrations are the ones `tests/services/test_event_data.py` inserts (as the
events' services leave them). Tried: waiting and cancelled registrations counted as registered;
no-shows counted before the end or for a cancelled event; a skipped reminder counted as sent;
a coach seeing another coach's event; an organizer of one university seeing an event another
university hosts; a student, a draft, an unknown id or code; the registrant list for someone who
may not see the event (and whether it is recorded in the export log when it is given).
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.services import NotFound, PermissionDenied
from bot.services.event_stats import (
    ChartLabels,
    event_stats,
    registrant_list,
    render_event_chart,
    render_event_chart_async,
    viewable_events,
)
from models import ExportLog
from tests import factories
from tests.services.test_event_data import ADMINS, COMMENT, T0, seed

COACH = 7001  # scheduled the webinar
OTHER_COACH = 7002


async def _world(db):
    """The seeded events, the webinar scheduled by COACH; organizers of two universities."""
    await factories.coach(db, COACH, ADMINS, university=0)
    seeded = await seed(db, owner=COACH)
    unis = seeded.universities
    await factories.coach(db, OTHER_COACH, ADMINS, university=0)
    await factories.organizer(db, 7003, ADMINS, university=unis[0])
    await factories.organizer(db, 7004, ADMINS, university=unis[4])
    await factories.organizer(db, 7005, ADMINS)  # consortium-wide
    return seeded


async def test_the_figures_of_an_event_that_is_over(db):
    """Registered, waiting, reminded, attended, no-shows, feedback and universities."""
    seeded = await _world(db)
    unis = seeded.universities
    stats = await event_stats(db, 1, ADMINS, seeded.webinar, now=T0 + timedelta(days=1))
    assert (stats.code, stats.kind, stats.state, stats.host) == (
        "web1",
        "webinar",
        "published",
        unis[0].code,
    )
    assert (stats.registered, stats.waiting, stats.cancelled) == (3, 1, 1)
    assert (stats.reminded, stats.reminders_sent) == (4, 7)  # skipped reminders do not count
    assert (stats.attended, stats.no_shows, stats.ended) == (2, 1, True)
    assert (stats.feedback_n, stats.feedback_mean, stats.ratings) == (2, 4.0, (0, 0, 1, 0, 1))
    assert [(c.rating, c.text, c.university) for c in stats.comments] == [
        (5, COMMENT, unis[0].code)
    ]
    lines = [
        (u.university, u.registered, u.waiting, u.attended, u.no_shows, u.feedback_n)
        for u in stats.universities
    ]
    assert lines == [(unis[0].code, 2, 0, 1, 1, 1), (unis[4].code, 1, 1, 1, 0, 1)]
    assert [u.feedback_mean for u in stats.universities] == [5.0, 3.0]
    by_code = await event_stats(db, 1, ADMINS, "web1", now=T0 + timedelta(days=1))
    assert by_code == stats

    during = await event_stats(db, 1, ADMINS, seeded.webinar, now=T0 + timedelta(minutes=30))
    assert (during.no_shows, during.ended, during.attended) == (0, False, 2)
    cancelled = await event_stats(db, 1, ADMINS, seeded.cancelled, now=T0 + timedelta(days=1))
    assert (cancelled.state, cancelled.ended, cancelled.no_shows) == ("cancelled", False, 0)
    assert cancelled.feedback_mean is None and cancelled.registered == 1
    ahead = await event_stats(db, 1, ADMINS, str(seeded.seminar), now=T0)
    assert (ahead.registered, ahead.ended, ahead.host) == (1, False, unis[4].code)


async def test_who_sees_which_event(db):
    """Coaches their own; scoped organizers their university's; consortium-wide and admins
    all; students none; drafts, unknown ids and codes are not found."""
    seeded = await _world(db)

    async def listed(actor: int) -> list[str]:
        return [e.code for e in await viewable_events(db, actor, ADMINS)]

    assert await listed(1) == ["sem1", "web1", "can1"]  # the latest start first
    assert await listed(7005) == ["sem1", "web1", "can1"]
    assert await listed(COACH) == ["web1"]
    assert await listed(OTHER_COACH) == []
    assert await listed(7003) == ["web1", "can1"]  # hosted by the first university
    assert await listed(7004) == ["sem1"]
    assert (await event_stats(db, COACH, ADMINS, "web1")).registered == 3
    assert (await event_stats(db, 7004, ADMINS, seeded.seminar)).registered == 1
    for actor, ref in ((OTHER_COACH, "web1"), (COACH, seeded.seminar), (7003, seeded.seminar)):
        with pytest.raises(PermissionDenied) as refused:
            await event_stats(db, actor, ADMINS, ref)
        assert refused.value.key == "event_stats.not_yours"
    for student in (111111111, 424242):  # a student, and someone the bot never saw
        with pytest.raises(PermissionDenied) as refused:
            await viewable_events(db, student, ADMINS)
        assert refused.value.key == "errors.not_allowed"
        with pytest.raises(PermissionDenied):
            await event_stats(db, student, ADMINS, seeded.webinar)
    for ref in (seeded.draft, "drf1", 999999, "999999999999999999999", "nope"):
        with pytest.raises(NotFound) as missing:
            await event_stats(db, 1, ADMINS, ref)
        assert missing.value.key == "event_stats.not_found"


async def test_the_registrant_list_names_people_and_is_recorded(db):
    """The owner gets a CSV naming the registrants (registered, then waiting, then cancelled),
    a comment made inert for spreadsheets, and an identified entry in the export log; another
    coach is refused and nothing is logged for them."""
    seeded = await _world(db)
    listing = await registrant_list(db, COACH, ADMINS, seeded.webinar)
    assert listing.file_name == "ortaq-registrants-web1.csv" and listing.rows == 5
    assert listing.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(listing.content.decode("utf-8-sig"))))
    assert [r["telegram_id"] for r in rows] == [
        "111111111",
        "222222222",
        "333333333",
        "444444444",
        "555555555",
    ]
    assert [r["state"] for r in rows] == ["registered"] * 3 + ["waiting", "cancelled"]
    assert rows[0]["first_name"] == "Name111111111" and rows[0]["username"] == "u111111111"
    assert rows[0]["feedback_comment"] == "'" + COMMENT
    assert rows[0]["reminders_sent"] == "3" and rows[0]["checked_in_at"] == "2025-11-03 09:03:00"
    assert rows[1]["checked_in_at"] == "" and rows[1]["feedback_rating"] == ""
    with pytest.raises(PermissionDenied):
        await registrant_list(db, OTHER_COACH, ADMINS, seeded.webinar)
    with pytest.raises(PermissionDenied):
        await registrant_list(db, 111111111, ADMINS, seeded.webinar)
    assert (await registrant_list(db, 7003, ADMINS, "web1")).rows == 5  # its university's
    async with db() as session:
        logged = (await session.scalars(select(ExportLog).order_by(ExportLog.id))).all()
    assert [(e.actor_telegram_id, e.dataset, e.identified, e.rows) for e in logged] == [
        (COACH, "registrants", True, 5),
        (7003, "registrants", True, 5),
    ]
    assert logged[0].filters == {"event": seeded.webinar, "event_code": "web1"}
    assert logged[0].via == "chat" and logged[0].format == "csv"


async def test_the_chart(db):
    """A PNG with both panels (universities, ratings) in Kazakh; an event with nobody yet still
    renders (an empty chart rather than an error)."""
    seeded = await _world(db)
    stats = await event_stats(db, 1, ADMINS, seeded.webinar, now=T0 + timedelta(days=1))
    words = ChartLabels("Университеттер бойынша", "тіркелді", "келді", "Бағалар", "жоқ")
    png = await render_event_chart_async(stats, "kk", words)
    assert png.startswith(b"\x89PNG") and len(png) > 5_000
    empty = replace(stats, universities=[], feedback_n=0, ratings=(0, 0, 0, 0, 0))
    assert render_event_chart(empty).startswith(b"\x89PNG")
    assert len(render_event_chart(empty)) < len(png)
