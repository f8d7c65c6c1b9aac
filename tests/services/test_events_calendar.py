"""The .ics file of an event, parsed back with icalendar: UID, SEQUENCE, STATUS, the zone,
the alarm (bot/services/event_calendar.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from bot.services import event_authoring as authoring
from bot.services import event_calendar
from tests.services.test_events import (
    ADMINS,
    COACH,
    END,
    I18N,
    NOW,
    START,
    ZONE,
    coach,
    scheduled,
)

STAMP = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


def entry(data: bytes):
    """The one VEVENT of the file, and the calendar."""
    calendar = Calendar.from_ical(data)
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert len(events) == 1
    return events[0], calendar


async def test_the_file_has_a_stable_uid_the_zone_and_an_alarm(db):
    """Tried: a published webinar in Almaty: UID <code>@ortaq, DTSTART/DTEND 15:00/16:30 with
    TZID Asia/Almaty and its VTIMEZONE, SEQUENCE 0, CONFIRMED, the link as URL and LOCATION,
    the title and description in the language asked, a VALARM a day before (the first offset)."""
    await coach(db)
    event = await scheduled(db)
    vevent, calendar = entry(event_calendar.ics(event, "ru", default_zone=ZONE, stamp=STAMP))
    assert str(vevent["uid"]) == f"{event.code}@ortaq"
    start = vevent.decoded("dtstart")
    assert start == START and start.utcoffset() == timedelta(hours=5)
    assert vevent["dtstart"].params["TZID"] == "Asia/Almaty"
    assert vevent.decoded("dtend") == END
    assert [c["tzid"] for c in calendar.walk("VTIMEZONE")] == ["Asia/Almaty"]
    assert int(vevent["sequence"]) == 0
    assert str(vevent["status"]) == "CONFIRMED"
    assert str(vevent["summary"]) == "Цифровые платформы"
    assert "Описание" in str(vevent["description"])
    assert str(vevent["url"]) == "https://zoom.us/j/123"
    assert str(vevent["location"]) == "https://zoom.us/j/123"
    alarms = [c for c in vevent.walk() if c.name == "VALARM"]
    assert len(alarms) == 1
    assert alarms[0].decoded("trigger") == timedelta(days=-1)
    assert str(alarms[0]["action"]) == "DISPLAY"
    assert event_calendar.file_name(event) == f"event-{event.code}.ics"


async def test_an_edit_raises_the_sequence_and_a_cancellation_says_cancelled(db):
    """Tried: the file after a time change (same UID, SEQUENCE 1, the new time) and after the
    cancellation (same UID, SEQUENCE 2, STATUS:CANCELLED, METHOD:CANCEL, no alarm)."""
    await coach(db)
    event = await scheduled(db)
    first, _ = entry(event_calendar.ics(event, "en", default_zone=ZONE))
    moved, _ = await authoring.edit(
        db,
        COACH,
        ADMINS,
        event.id,
        i18n=I18N,
        zone=ZONE,
        now=NOW,
        starts_at=START + timedelta(hours=2),
    )
    second, _ = entry(event_calendar.ics(moved, "en", default_zone=ZONE))
    assert second["uid"] == first["uid"]
    assert int(second["sequence"]) == 1
    assert second.decoded("dtstart") == START + timedelta(hours=2)
    cancelled, _ = await authoring.cancel(
        db, COACH, ADMINS, event.id, i18n=I18N, zone=ZONE, now=NOW
    )
    third, calendar = entry(event_calendar.ics(cancelled, "en", default_zone=ZONE))
    assert third["uid"] == first["uid"]
    assert int(third["sequence"]) == 2
    assert str(third["status"]) == "CANCELLED"
    assert str(calendar["method"]) == "CANCEL"
    assert not [c for c in third.walk() if c.name == "VALARM"]


async def test_the_events_own_zone_and_no_offsets(db):
    """Tried: an event scheduled in Moscow with no reminders: TZID Europe/Moscow (18:00 there
    for 15:00 UTC), the alarm 10 minutes before; no link: no URL."""
    await coach(db)
    event = await scheduled(
        db,
        timezone="Europe/Moscow",
        starts_at=datetime(2026, 12, 3, 15, 0, tzinfo=UTC),
        reminder_offsets=(),
        join_url=None,
    )
    vevent, calendar = entry(event_calendar.ics(event, "kk", default_zone=ZONE))
    assert vevent["dtstart"].params["TZID"] == "Europe/Moscow"
    assert vevent.decoded("dtstart").hour == 18
    assert [c["tzid"] for c in calendar.walk("VTIMEZONE")] == ["Europe/Moscow"]
    alarm = next(c for c in vevent.walk() if c.name == "VALARM")
    assert alarm.decoded("trigger") == timedelta(minutes=-10)
    assert "url" not in vevent
    assert str(vevent["summary"]) == "Цифрлық платформалар"
