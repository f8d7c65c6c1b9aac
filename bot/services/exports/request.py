"""An export request as chosen in chat, carried whole in each button's callback data.

Every button of the /export screen holds the full request (dataset, source, university,
country, period, format, identity) with one choice changed, as the `request` field of its
`bot.callbacks.Export*` class, so the screen needs no server-side state: it works the same
after a restart, and a forged or stale button decodes to nothing. The dataset travels as its
registered code (`datasets.Dataset.code`), never as a position in a list, so datasets can be
added in any order without changing what a sent button means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import func, select

from bot.db import Sessionmaker
from bot.services import InvalidInput
from bot.services.exports.common import Filters
from bot.services.exports.datasets import Dataset, by_code
from models import Campaign, Instrument, University

FORMATS = ("csv", "xlsx", "parquet", "sav")
PERIODS = (0, 7, 30, 90, 365)  # days back; 0: all time
CUSTOM = len(PERIODS)  # the period index of typed dates (`since`, `until`)
FIRST_YEAR, LAST_YEAR = 2000, 2100  # typed dates outside these are typos
_PATTERN = re.compile(
    r"^([a-z0-9]{1,3})\.(0|[ic]\d{1,9})\.(\d{1,9})\.(0|[A-Z]{2})\.(\d)\.(\d)\.([01])"
    r"(?:\.(0|\d{8})\.(0|\d{8}))?$"
)
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})|(\d{1,2})\.(\d{1,2})\.(\d{4})")


@dataclass(frozen=True)
class Request:
    """What to export, in compact form."""

    dataset: str = "0"  # the dataset's code (answers)
    source: str = "0"  # 0: everything; i<instrument id>; c<campaign id>
    university: int = 0  # university id; 0: all
    country: str = "0"  # ISO code; 0: all
    period: int = 0  # index into PERIODS
    fmt: int = 1  # index into FORMATS (XLSX by default: opens anywhere, codebook inside)
    identified: int = 0
    since: int = 0  # typed period (CUSTOM): YYYYMMDD, 0 for open-ended
    until: int = 0

    def encode(self) -> str:
        """The request as callback data (at most 51 bytes; 58 in the longest button)."""
        dates = f".{self.since}.{self.until}" if self.period == CUSTOM else ""
        return (
            f"{self.dataset}.{self.source}.{self.university}.{self.country}."
            f"{self.period}.{self.fmt}.{self.identified}{dates}"
        )

    def dates(self) -> tuple[date | None, date | None]:
        """The typed period's first and last day (None: open-ended)."""
        return _day(self.since), _day(self.until)

    def compact(self) -> str:
        """The request less its period, short enough to wait in `user.awaiting` (<= 28).

        Ids are written in base 36, so even nine-digit ids fit.
        """
        source = self.source if self.source == "0" else self.source[0] + _b36(self.source[1:])
        return (
            f"{self.dataset}.{source}.{_b36(str(self.university))}.{self.country}."
            f"{self.fmt}.{self.identified}"
        )

    @classmethod
    def from_compact(cls, text: str) -> Request | None:
        """The request from `compact()`; None for anything else."""
        parts = text.split(".")
        if len(parts) != 6 or not all(p.isalnum() for p in parts):
            return None
        dataset, source, uni, country, fmt, identified = parts
        try:
            if source != "0":
                source = source[0] + str(int(source[1:], 36))
            university = str(int(uni, 36))
        except ValueError:
            return None
        return cls.decode(f"{dataset}.{source}.{university}.{country}.0.{fmt}.{identified}")

    @classmethod
    def decode(cls, text: str) -> Request | None:
        """The request from callback data; None for anything that is not one."""
        match = _PATTERN.match(text)
        if match is None:
            return None
        dataset, source, uni, country, period, fmt, identified, since, until = match.groups()
        if by_code(dataset) is None or int(period) > CUSTOM or int(fmt) >= len(FORMATS):
            return None
        custom = int(period) == CUSTOM
        if custom != (since is not None):
            return None
        request = cls(
            dataset,
            source,
            int(uni),
            country,
            int(period),
            int(fmt),
            int(identified),
            int(since or 0),
            int(until or 0),
        )
        if custom:
            try:
                first, last = _day(request.since), _day(request.until)
            except ValueError:
                return None
            if first is None or (last is not None and first > last):
                return None
            if any(d and not FIRST_YEAR <= d.year <= LAST_YEAR for d in (first, last)):
                return None
        return request

    def but(self, **changes: object) -> Request:
        """A copy with some choices changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def dataset_entry(self) -> Dataset:
        """The dataset's registry entry; KeyError for a code no dataset has (decode refuses it)."""
        found = by_code(self.dataset)
        if found is None:
            raise KeyError(self.dataset)
        return found

    @property
    def dataset_name(self) -> str:
        """The dataset's name."""
        return self.dataset_entry.name

    @property
    def format_name(self) -> str:
        """The format's name."""
        return FORMATS[self.fmt]


def _b36(number: str) -> str:
    value = int(number)
    digits = ""
    while True:
        value, digit = divmod(value, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not value:
            return digits


def _day(value: int) -> date | None:
    """A YYYYMMDD number as a date (0: None); ValueError for an impossible date."""
    if not value:
        return None
    return date(value // 10000, value // 100 % 100, value % 100)


def parse_period(text: str) -> tuple[int, int]:
    """Typed dates as (since, until) in YYYYMMDD: one date (from that day on) or two.

    Accepts 2026-09-01 and 01.09.2026, separated by anything else.

    Raises:
        InvalidInput: no date, more than two, an impossible date, or the end before the start.
    """
    found: list[date] = []
    for iso, day, month, year in _DATE.findall(text):
        try:
            found.append(date.fromisoformat(iso) if iso else date(int(year), int(month), int(day)))
        except ValueError:
            raise InvalidInput("exports.bad_dates") from None
        if not FIRST_YEAR <= found[-1].year <= LAST_YEAR:
            raise InvalidInput("exports.bad_dates")
    if not 1 <= len(found) <= 2 or (len(found) == 2 and found[0] > found[1]):
        raise InvalidInput("exports.bad_dates")
    numbers = [int(d.strftime("%Y%m%d")) for d in found]
    return numbers[0], numbers[1] if len(numbers) == 2 else 0


async def filters_of(db: Sessionmaker, request: Request, today: date) -> Filters:
    """The filters a request stands for.

    Raises:
        InvalidInput: the instrument, campaign or university no longer exists.
    """
    async with db() as session:
        instrument = campaign = university = None
        if request.source.startswith("i"):
            found = await session.get(Instrument, int(request.source[1:]))
            if found is None:
                raise InvalidInput("errors.stale_button")
            instrument = found.code
        elif request.source.startswith("c"):
            if await session.get(Campaign, int(request.source[1:])) is None:
                raise InvalidInput("errors.stale_button")
            campaign = int(request.source[1:])
        if request.university:
            uni = await session.get(University, request.university)
            if uni is None:
                raise InvalidInput("errors.stale_button")
            university = uni.code
    if request.period == CUSTOM:
        since, until = request.dates()
    else:
        days = PERIODS[request.period]
        since, until = (today - timedelta(days=days - 1) if days else None), None
    return Filters(
        campaign_id=campaign,
        university=university,
        country=None if request.country == "0" else request.country,
        instrument=instrument,
        since=since,
        until=until,
    )


@dataclass(frozen=True)
class InstrumentChoice:
    """An instrument as offered in a menu: its latest version."""

    id: int
    code: str
    title: dict[str, str]
    pair_role: str | None  # pre or post, when it is half of a pair
    pair_with: str | None

    def label(self, language: str) -> str:
        """Its title and code, in `language`."""
        return f"{self.title.get(language) or self.title['en']} ({self.code})"


async def instruments(db: Sessionmaker) -> list[InstrumentChoice]:
    """The latest version of every instrument, by code."""
    async with db() as session:
        latest = select(func.max(Instrument.id).label("id")).group_by(Instrument.code).subquery()
        rows = await session.scalars(
            select(Instrument).join(latest, latest.c.id == Instrument.id).order_by(Instrument.code)
        )
        return [InstrumentChoice(i.id, i.code, i.title, i.pair_role, i.pair_with) for i in rows]


async def countries(db: Sessionmaker) -> list[str]:
    """The countries of the consortium's universities."""
    async with db() as session:
        rows = await session.scalars(select(University.country).distinct())
        return sorted(c for c in rows if c)
