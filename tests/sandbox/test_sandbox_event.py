"""The sandbox's demo webinar: scheduled by the coach identity, a first-time student registers.

Tried on a database with the default content (as the sandbox's first start leaves it), with a
controlled `now`: the console's `open_demo_event` publishes a webinar about two hours ahead
(on a quarter hour), hosted by the first university, for everyone, through the events service;
a second start adds nothing; a new student finds it among their upcoming events and registers
at once (the coach's /event_stats counts them); a cancelled demo is not replaced before its
time; once the demo is over, the next start schedules a fresh one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import I18n
from bot.sandbox.console import (
    DEMO_EVENT_LINK,
    DEMO_EVENT_PLACES,
    IDENTITIES,
    open_demo_event,
)
from bot.services import event_authoring as authoring
from bot.services import event_registrations as registrations
from bot.services import event_stats, events
from bot.services.roles import ensure_role
from bot.services.universities import list_universities
from tests import factories

NOW = datetime(2031, 5, 4, 10, 7, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Almaty")


async def test_a_first_time_student_registers_for_the_demo_webinar(db):
    """Tried: the demo published at 12:15 (10:07 + 2 h, up to the quarter hour) with its link,
    places and the three languages; opened once; a student onboarded a minute later sees it
    and registers; the coach's figures count them."""
    i18n = I18n()
    coach = IDENTITIES["coach"]
    admins: frozenset[int] = frozenset({IDENTITIES["organizer"].user_id})
    await ensure_role(db, coach.user_id, coach.role, first_name=coach.first_name)
    opened = await open_demo_event(db, coach.user_id, admins, i18n, ZONE, now=NOW)
    assert opened is not None
    event, announcement = opened
    assert announcement > 0
    assert (event.kind, event.state) == (events.Kind.WEBINAR, events.EventState.PUBLISHED)
    assert event.starts_at == datetime(2031, 5, 4, 12, 15, tzinfo=UTC)
    assert (event.join_url, event.capacity, event.audience_kind) == (
        DEMO_EVENT_LINK,
        DEMO_EVENT_PLACES,
        "all",
    )
    assert set(event.title) == {"kk", "ru", "en"} and event.title_in("en").startswith("Demo")
    assert event.university_id == (await list_universities(db))[0].id
    assert await open_demo_event(db, coach.user_id, admins, i18n, ZONE, now=NOW) is None

    student = IDENTITIES["student"].user_id
    await factories.student(db, student, language="kk")
    later = NOW + timedelta(minutes=1)
    mine = await events.upcoming(db, student, now=later)
    assert [m.event.id for m in mine] == [event.id] and mine[0].state is None
    registered = await registrations.register(db, student, event.id, now=later)
    assert registered.state is events.RegState.REGISTERED
    figures = await event_stats.event_stats(db, coach.user_id, admins, event.id, now=later)
    assert (figures.registered, figures.waiting, figures.ended) == (1, 0, False)


async def test_the_demo_is_replaced_only_once_its_time_has_passed(db):
    """Tried: the coach cancels the demo: a start before its time adds none; after its time a
    fresh demo is scheduled two hours from then."""
    i18n = I18n()
    coach = IDENTITIES["coach"]
    admins: frozenset[int] = frozenset({IDENTITIES["organizer"].user_id})
    await ensure_role(db, coach.user_id, coach.role, first_name=coach.first_name)
    opened = await open_demo_event(db, coach.user_id, admins, i18n, ZONE, now=NOW)
    assert opened is not None
    first = opened[0]
    await authoring.cancel(db, coach.user_id, admins, first.id, i18n=i18n, zone=ZONE, now=NOW)
    assert await open_demo_event(db, coach.user_id, admins, i18n, ZONE, now=NOW) is None
    after = NOW + timedelta(hours=3)
    again = await open_demo_event(db, coach.user_id, admins, i18n, ZONE, now=after)
    assert again is not None and again[0].id != first.id
    assert again[0].starts_at == datetime(2031, 5, 4, 15, 15, tzinfo=UTC)
