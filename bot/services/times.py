"""Times typed by people: read in a time zone, stored in UTC, shown back in the same form.

One parser for every feature that asks for a moment (scheduled broadcasts, campaign opening and
closing, and next the events and contest deadlines), so they all accept and refuse the same.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.services import InvalidInput
from bot.text import visible

TIME_FORMAT = "%Y-%m-%d %H:%M"


def parse_local_time(text: str, zone: tzinfo) -> datetime:
    """A `YYYY-MM-DD HH:MM` time in `zone`, as an aware datetime."""
    try:
        typed = " ".join(visible(text).split())
        naive = datetime.strptime(typed, TIME_FORMAT)  # noqa: DTZ007 - the zone is set below
    except ValueError:
        raise InvalidInput("broadcasts.bad_time", example="2026-12-01 18:30") from None
    return naive.replace(tzinfo=zone)


def show_local_time(moment: datetime, zone: tzinfo) -> str:
    """A stored (UTC) moment as people type it, in `zone`."""
    return moment.astimezone(zone).strftime(TIME_FORMAT)
