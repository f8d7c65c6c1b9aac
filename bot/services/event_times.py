"""What an event's organizer types about time, read and checked; and a moment shown back.

Pure functions: the day and time of an event (the three forms of `bot.services.times`), its
duration, the reminder offsets, the number of places and the join link, each refused with its
own `events.*` message (and an example) when it is not what it should be. `show_when` writes a
moment the way people read it in Kazakh, Russian or English, with the zone named, so a person
in another zone knows which time is meant.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from urllib.parse import urlsplit

from bot.services import InvalidInput
from bot.services.times import read_day_time
from bot.text import visible

# Reminders before the start: a day, an hour and ten minutes.
DEFAULT_OFFSETS: tuple[int, ...] = (1440, 60, 10)
DURATION_MIN, DURATION_MAX = 5, 1440  # minutes
OFFSET_MIN, OFFSET_MAX = 1, 30 * 1440  # one minute to thirty days
OFFSETS_MAX = 5
CAPACITY_MAX = 100_000
URL_MAX = 500  # the join_url and recording_url columns

TIME_EXAMPLE = "03.12.2026 15:00"
DURATION_EXAMPLE = "90, 1:30, 1h30"
OFFSETS_EXAMPLE = "24h, 1h, 10m"
LINK_EXAMPLE = "https://zoom.us/j/123456789"

# Units as people type them in kk, ru and en, in minutes.
_UNITS: dict[str, int] = {}
for _names, _minutes in (
    (("d", "day", "days", "д", "дн", "день", "дня", "дней", "к", "күн"), 1440),
    (("h", "hr", "hrs", "hour", "hours", "ч", "час", "часа", "часов", "с", "сағ", "сағат"), 60),
    (("m", "min", "mins", "minute", "minutes", "м", "мин", "минут", "минуты", "минута"), 1),
):
    for _name in _names:
        _UNITS[_name] = _minutes
_AMOUNT = re.compile(r"(\d+(?:[.,]\d+)?)\s*([^\d\s.,]*)\.?")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_NO_LIMIT = frozenset({"-", "—", "no", "none", "нет", "жоқ", "∞"})

MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    # The genitive: "3 декабря".
    "ru": (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
    "kk": (
        "қаңтар",
        "ақпан",
        "наурыз",
        "сәуір",
        "мамыр",
        "маусым",
        "шілде",
        "тамыз",
        "қыркүйек",
        "қазан",
        "қараша",
        "желтоқсан",
    ),
}


def _typed(text: str) -> str:
    """The text without invisible characters, spaces collapsed, lower case."""
    return " ".join(visible(text).split()).lower()


def parse_when(text: str, zone: tzinfo, now: datetime) -> datetime:
    """The start of an event typed in `zone`, as an aware datetime in UTC.

    Accepts `2026-12-03 15:00`, `03.12.2026 15:00` and `03.12 15:00` (the next such day).

    Raises:
        InvalidInput: `events.bad_time` (with an example), `events.past_time`.
    """
    moment = read_day_time(text, zone, now)
    if moment is None:
        raise InvalidInput("events.bad_time", example=TIME_EXAMPLE)
    if moment <= now:
        raise InvalidInput("events.past_time", example=TIME_EXAMPLE)
    return moment.astimezone(UTC)


def example_when(zone: tzinfo, now: datetime | None = None) -> str:
    """A date and time a week from now at 15:00 in `zone`, as people type it (for a question)."""
    local = (now or datetime.now(UTC)).astimezone(zone).replace(hour=15, minute=0)
    return (local + timedelta(days=7)).strftime("%d.%m.%Y %H:%M")


def _amounts(text: str) -> list[tuple[float, bool]] | None:
    """Every `<number><unit>` in `text` as (minutes, a unit was typed); None if anything else.

    A number without a unit is minutes.
    """
    found: list[tuple[float, bool]] = []
    position = 0
    while position < len(text):
        if text[position] in " ,;":
            position += 1
            continue
        match = _AMOUNT.match(text, position)
        if match is None or match.end() == position:
            return None
        size = _UNITS.get(match[2]) if match[2] else 1
        if size is None:
            return None
        found.append((float(match[1].replace(",", ".")) * size, bool(match[2])))
        position = match.end()
    return found


def parse_duration(text: str) -> int:
    """A duration typed as `90`, `90 min`, `1:30`, `1h30`, `1.5h` or `1 h 30 min`, in minutes.

    Raises:
        InvalidInput: `events.bad_duration` (outside 5 minutes to 24 hours, or unreadable).
    """
    typed = _typed(text)
    clock = _CLOCK.fullmatch(typed)
    minutes: float | None = None
    if clock is not None:
        if int(clock[2]) < 60:
            minutes = int(clock[1]) * 60 + int(clock[2])
    else:
        # "1h30": a bare number right after a unit is minutes.
        parts = _amounts(re.sub(r"([^\d\s.,])\s*(\d+)$", r"\1 \2m", typed))
        if parts and (len(parts) == 1 or all(unit for _, unit in parts)):
            minutes = sum(amount for amount, _ in parts)
    if minutes is None or minutes != int(minutes) or not DURATION_MIN <= minutes <= DURATION_MAX:
        raise InvalidInput(
            "events.bad_duration", example=DURATION_EXAMPLE, low=DURATION_MIN, high=DURATION_MAX
        )
    return int(minutes)


def parse_offsets(text: str) -> tuple[int, ...]:
    """Reminder offsets typed as `24h, 1h, 10m` or `1d 2h 15min`: minutes, largest first.

    Each amount is one reminder (a bare number is minutes); repeats count once.

    Raises:
        InvalidInput: `events.bad_offsets` (unreadable, a fraction of a minute, outside 1
            minute to 30 days, more than five, or none).
    """
    amounts = [amount for amount, _ in _amounts(_typed(text)) or []]
    offsets = sorted({int(a) for a in amounts}, reverse=True)
    if (
        not amounts
        or any(a != int(a) for a in amounts)
        or len(offsets) > OFFSETS_MAX
        or not all(OFFSET_MIN <= o <= OFFSET_MAX for o in offsets)
    ):
        raise InvalidInput("events.bad_offsets", example=OFFSETS_EXAMPLE, most=OFFSETS_MAX)
    return tuple(offsets)


def parse_capacity(text: str) -> int | None:
    """The number of places (`12`), or None for no limit (`-`, `no`, `нет`, `жоқ`).

    Raises:
        InvalidInput: `events.bad_capacity` (zero, negative, or not a number).
    """
    typed = _typed(text)
    if typed in _NO_LIMIT:
        return None
    if typed.isascii() and typed.isdigit() and 0 < int(typed) <= CAPACITY_MAX:
        return int(typed)
    raise InvalidInput("events.bad_capacity", example="12")


def check_url(text: str) -> str:
    """A join or recording link: http(s), with a host, no spaces, at most 500 characters.

    Raises:
        InvalidInput: `events.bad_link` (with an example).
    """
    url = visible(text).strip()
    bad = InvalidInput("events.bad_link", example=LINK_EXAMPLE)
    if not url or len(url) > URL_MAX or any(c.isspace() for c in url):
        raise bad
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        raise bad from None
    if parts.scheme.lower() not in ("http", "https") or not host or "." not in host.strip("."):
        raise bad
    return url


def zone_name(zone: tzinfo) -> str:
    """The IANA name of a zone (`Asia/Almaty`), or what it calls itself."""
    return str(getattr(zone, "key", None) or zone)


def show_when(moment: datetime, zone: tzinfo, language: str) -> str:
    """A stored moment in `zone` as people read it: `3 December 2026, 15:00 (Asia/Almaty)`.

    Russian: `3 декабря 2026, 15:00`; Kazakh: `2026 жылғы 3 желтоқсан, 15:00`.
    """
    local = moment.astimezone(zone)
    month = MONTHS.get(language, MONTHS["en"])[local.month - 1]
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if language == "kk":
        day = f"{local.year} жылғы {local.day} {month}"
    else:
        day = f"{local.day} {month} {local.year}"
    return f"{day}, {clock} ({zone_name(zone)})"
