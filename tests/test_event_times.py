"""What organizers type about an event's time, read and refused (bot/services/event_times.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.services import InvalidInput
from bot.services.event_times import (
    DEFAULT_OFFSETS,
    check_url,
    parse_capacity,
    parse_duration,
    parse_offsets,
    parse_when,
    show_when,
)
from bot.services.times import parse_local_time

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5 since 2024-03-01
MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 1 December 2026, 10:00 in Almaty


@pytest.mark.parametrize(
    "typed",
    [
        "2026-12-03 15:00",
        "03.12.2026 15:00",
        "03.12 15:00",
        "3.12 15:00",
        " 03.12.2026  15:00\u200b",
    ],
)
def test_the_three_forms_read_the_same_moment(typed):
    """Tried: the ISO form, the day-first form, day and month without a year (the next such
    day), one-digit day, extra spaces and an invisible character: all 3 Dec 15:00 Almaty."""
    moment = parse_when(typed, ALMATY, NOW)
    assert moment == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert moment.tzinfo is UTC


def test_a_zone_other_than_the_bots_is_honoured():
    """Tried: 15:00 typed by a coach in Moscow (UTC+3) is 12:00 UTC."""
    assert parse_when("03.12.2026 15:00", MOSCOW, NOW) == datetime(2026, 12, 3, 12, tzinfo=UTC)


def test_a_day_without_year_that_has_passed_is_next_years():
    """Tried: 30.11 (yesterday) and 01.12 09:00 (an hour ago): next year; 01.12 11:00 (in an
    hour): today."""
    assert parse_when("30.11 15:00", ALMATY, NOW) == datetime(2027, 11, 30, 10, tzinfo=UTC)
    assert parse_when("01.12 09:00", ALMATY, NOW) == datetime(2027, 12, 1, 4, tzinfo=UTC)
    assert parse_when("01.12 11:00", ALMATY, NOW) == datetime(2026, 12, 1, 6, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["2026-11-30 15:00", "01.12.2026 10:00", "01.12.2026 09:59"])
def test_a_full_date_in_the_past_is_refused_as_past(typed):
    """Tried: yesterday, exactly now, a minute ago: `events.past_time` with an example."""
    with pytest.raises(InvalidInput) as refused:
        parse_when(typed, ALMATY, NOW)
    assert refused.value.key == "events.past_time"
    assert refused.value.values["example"]


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "tomorrow",
        "32.12.2026 15:00",
        "03.13 15:00",
        "2026-12-03",
        "15:00",
        "03.12 25:00",
        "2026/12/03 15:00",
        "29.02 10:00 x",
    ],
)
def test_nonsense_is_refused_with_an_example(typed):
    """Tried: empty, a word, day 32, month 13, a date without time, a time without date,
    hour 25, slashes, trailing junk: `events.bad_time` with an example."""
    with pytest.raises(InvalidInput) as refused:
        parse_when(typed, ALMATY, NOW)
    assert refused.value.key == "events.bad_time"
    assert refused.value.values["example"] == "03.12.2026 15:00"


def test_the_broadcasts_parser_is_unchanged():
    """Tried: the one form /broadcast and /publish accept still reads, the day-first one is
    still theirs to refuse (`broadcasts.bad_time`)."""
    assert parse_local_time("2026-12-03 15:00", ALMATY) == datetime(2026, 12, 3, 15, tzinfo=ALMATY)
    with pytest.raises(InvalidInput) as refused:
        parse_local_time("03.12.2026 15:00", ALMATY)
    assert refused.value.key == "broadcasts.bad_time"


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("90", 90),
        ("1:30", 90),
        ("1h30", 90),
        ("1.5h", 90),
        ("1,5 ч", 90),
        ("90 min", 90),
        ("1 h 30 min", 90),
        ("1 ч 30 мин", 90),
        ("2 сағ", 120),
        ("5", 5),
        ("24h", 1440),
    ],
)
def test_durations(typed, minutes):
    """Tried: every form of the contract, in Latin and Cyrillic units, and both limits."""
    assert parse_duration(typed) == minutes


@pytest.mark.parametrize(
    "typed", ["", "4", "1441", "25h", "0:00", "1:75", "1.30", "90 60", "abc", "-5"]
)
def test_bad_durations(typed):
    """Tried: nothing, under 5 minutes, over a day, a clock with 75 minutes, 1.30 (neither
    hours nor minutes), two bare numbers, a word, a negative: `events.bad_duration`."""
    with pytest.raises(InvalidInput) as refused:
        parse_duration(typed)
    assert refused.value.key == "events.bad_duration"


@pytest.mark.parametrize(
    ("typed", "offsets"),
    [
        ("24h, 1h, 10m", (1440, 60, 10)),
        ("1d 2h 15min", (1440, 120, 15)),
        ("10m, 24h, 1h", (1440, 60, 10)),
        ("60, 10", (60, 10)),
        ("1h, 60m", (60,)),
        ("30d", (43200,)),
        ("1 күн, 1 сағ", (1440, 60)),
    ],
)
def test_offsets_sorted_largest_first_and_deduplicated(typed, offsets):
    """Tried: the contract's examples, any order, bare minutes, a repeat, the 30-day limit,
    Kazakh units."""
    assert parse_offsets(typed) == offsets


@pytest.mark.parametrize(
    "typed", ["", "soon", "0m", "31d", "1d 2h 3h 4h 5m 6m", "0.5m", "10 parsecs"]
)
def test_bad_offsets(typed):
    """Tried: nothing, a word, zero, over 30 days, six reminders, half a minute, an unknown
    unit: `events.bad_offsets`."""
    with pytest.raises(InvalidInput) as refused:
        parse_offsets(typed)
    assert refused.value.key == "events.bad_offsets"


def test_default_offsets_are_a_day_an_hour_and_ten_minutes():
    """Tried: the default plan (24 h, 1 h, 10 min) is what parse_offsets reads for it."""
    assert parse_offsets("24h, 1h, 10m") == DEFAULT_OFFSETS


@pytest.mark.parametrize(
    ("typed", "places"), [("12", 12), ("-", None), ("нет", None), ("жоқ", None), ("No", None)]
)
def test_capacity(typed, places):
    """Tried: a number, and each way of saying there is no limit."""
    assert parse_capacity(typed) == places


@pytest.mark.parametrize("typed", ["0", "-3", "twelve", "1.5", "", "100001"])
def test_bad_capacity(typed):
    """Tried: zero (refused, not "no limit"), negative, a word, a fraction, nothing, too many."""
    with pytest.raises(InvalidInput) as refused:
        parse_capacity(typed)
    assert refused.value.key == "events.bad_capacity"


@pytest.mark.parametrize(
    "typed",
    [
        "https://zoom.us/j/123?pwd=x",
        "http://meet.example.kz/room",
        " https://teams.microsoft.com/l/x ",
    ],
)
def test_links(typed):
    """Tried: https with a query, plain http, spaces around (trimmed)."""
    assert check_url(typed) == typed.strip()


@pytest.mark.parametrize(
    "typed",
    [
        "zoom.us/j/1",
        "ftp://files.example.com/x",
        "https://",
        "https://zoom us/j",
        "javascript:alert(1)",
        "https://localhost",
        "https://host.com:port/x",
        "https://x.com/" + "a" * 500,
    ],
)
def test_bad_links(typed):
    """Tried: no scheme, ftp, no host, a space, javascript:, a host without a dot, a bad port,
    over 500 characters: `events.bad_link` with an example."""
    with pytest.raises(InvalidInput) as refused:
        check_url(typed)
    assert refused.value.key == "events.bad_link"
    assert refused.value.values["example"].startswith("https://")


def test_show_when_in_each_language_and_zone():
    """Tried: 3 Dec 2026 10:00 UTC shown in Almaty in en/ru/kk (month names, the genitive in
    Russian, the Kazakh order) and in Moscow."""
    moment = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert show_when(moment, ALMATY, "en") == "3 December 2026, 15:00 (Asia/Almaty)"
    assert show_when(moment, ALMATY, "ru") == "3 декабря 2026, 15:00 (Asia/Almaty)"
    assert show_when(moment, ALMATY, "kk") == "2026 жылғы 3 желтоқсан, 15:00 (Asia/Almaty)"
    assert show_when(moment, MOSCOW, "ru") == "3 декабря 2026, 13:00 (Europe/Moscow)"
