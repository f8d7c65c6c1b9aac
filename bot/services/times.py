"""Times typed by people: read in a time zone, stored in UTC, shown back in the same form.

One parser for every feature that asks for a moment (scheduled broadcasts, campaign opening and
closing, the events, and next the contest deadlines), so they all accept and refuse the same.
`parse_local_time` reads the one form the broadcasts and campaigns ask for; `read_day_time`
also reads the day-first forms people in the consortium write (`03.12.2026 15:00`, and
`03.12 15:00`: the next such day), which the events accept.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from bot.services import InvalidInput
from bot.text import visible

TIME_FORMAT = "%Y-%m-%d %H:%M"
# The forms `read_day_time` reads, a full date first; then day and month with no year.
DAY_TIME_FORMATS = (TIME_FORMAT, "%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M")
_NO_YEAR = re.compile(r"(\d{1,2})\.(\d{1,2})\.? (\d{1,2}):(\d{2})")


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


def read_day_time(text: str, zone: tzinfo, now: datetime) -> datetime | None:
    """A typed day and time in `zone` as an aware datetime, or None for anything else.

    Reads `2026-12-03 15:00`, `03.12.2026 15:00`, and `03.12 15:00`: the next such day and
    time, this year in `zone` or next year if it has passed by `now`. Whether a full date lies
    in the past is the caller's to judge.
    """
    typed = " ".join(visible(text).split())
    for form in DAY_TIME_FORMATS:
        try:
            naive = datetime.strptime(typed, form)  # noqa: DTZ007 - the zone is set below
        except ValueError:
            continue
        return naive.replace(tzinfo=zone)
    match = _NO_YEAR.fullmatch(typed)
    if match is None:
        return None
    day, month, hour, minute = (int(part) for part in match.groups())
    year = now.astimezone(zone).year
    for candidate in (year, year + 1):
        try:
            moment = datetime(candidate, month, day, hour, minute, tzinfo=zone)
        except ValueError:  # 31.02, 25:00, or 29.02 of a year without it
            continue
        if moment > now:
            return moment
    return None
