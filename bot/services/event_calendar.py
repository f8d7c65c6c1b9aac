"""An event as an iCalendar file (.ics) that phone calendars import (RFC 5545, `icalendar`).

One VEVENT per file. Its UID is `<code>@ortaq`, the same in every file of the event, so a
calendar that imported it once updates the entry from a later file instead of adding a second
one; SEQUENCE is the event's own counter, raised by every change people must see (time, link,
title, cancellation), so the newer file wins; a cancelled event says `STATUS:CANCELLED`, which
removes it. Times are written in the event's zone (TZID, with its VTIMEZONE), or in the bot's
TIMEZONE for an event scheduled without one, so the entry moves with the zone's rules. A
VALARM rings at the event's first reminder offset (or 10 minutes before, without offsets).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from icalendar import Alarm, Calendar
from icalendar import Event as VEvent

from bot.services.event_times import zone_name
from bot.services.events import EventState, EventView, pick, zone_named

PRODUCT = "-//Ortaq//Events//EN"
UID_DOMAIN = "ortaq"
ALARM_DEFAULT = 10  # minutes before, for an event without reminder offsets


def uid(event: EventView) -> str:
    """The event's UID, stable across every file of it."""
    return f"{event.code}@{UID_DOMAIN}"


def file_name(event: EventView) -> str:
    """The name the .ics file is sent under."""
    return f"event-{event.code}.ics"


def ics(
    event: EventView,
    language: str,
    *,
    default_zone: tzinfo | None = None,
    stamp: datetime | None = None,
) -> bytes:
    """The event as an .ics file, its title and description in `language`.

    `default_zone` is the bot's TIMEZONE, for an event scheduled without a zone of its own
    (UTC if not given); `stamp` is DTSTAMP (now by default).

    Raises:
        ValueError: the event has no time yet (a draft).
    """
    if event.starts_at is None:
        raise ValueError("an event without a time has no calendar entry")
    zone = zone_named(event.timezone, default_zone or UTC)
    starts = event.starts_at.astimezone(zone)
    ends = (
        event.ends_at or event.starts_at + timedelta(minutes=event.duration_minutes)
    ).astimezone(zone)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if event.state is EventState.CANCELLED else "PUBLISH")
    entry = VEvent()
    entry.add("uid", uid(event))
    entry.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    entry.add("dtstart", starts)
    entry.add("dtend", ends)
    entry.add("sequence", event.sequence)
    entry.add("status", "CANCELLED" if event.state is EventState.CANCELLED else "CONFIRMED")
    entry.add("summary", pick(event.title, language) or event.code)
    description = pick(event.description, language)
    if event.join_url:
        description = f"{description}\n\n{event.join_url}".strip()
        entry.add("url", event.join_url)
        entry.add("location", event.join_url)
    if description:
        entry.add("description", description)
    if event.state is not EventState.CANCELLED:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", pick(event.title, language) or event.code)
        first = event.reminder_offsets[0] if event.reminder_offsets else ALARM_DEFAULT
        alarm.add("trigger", timedelta(minutes=-first))
        entry.add_component(alarm)
    calendar.add_component(entry)
    if zone is not UTC and zone_name(zone) != "UTC":
        calendar.add_missing_timezones()
    return calendar.to_ical()
