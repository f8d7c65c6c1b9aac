"""An export request as chosen in chat, carried whole in each button's callback data.

Every button of the /export screen holds the full request (dataset, source, university,
country, period, format, identity) with one choice changed, so the screen needs no server-side
state: it works the same after a restart, and a forged or stale button decodes to nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import func, select

from bot.db import Sessionmaker
from bot.services import InvalidInput
from bot.services.exports.common import Filters
from models import Campaign, Instrument, University

DATASETS = ("answers", "wide", "scores", "swot")
FORMATS = ("csv", "xlsx", "parquet", "sav")
PERIODS = (0, 7, 30, 90, 365)  # days back; 0: all time
_PATTERN = re.compile(r"^(\d)\.(0|[ic]\d{1,9})\.(\d{1,9})\.(0|[A-Z]{2})\.(\d)\.(\d)\.([01])$")


@dataclass(frozen=True)
class Request:
    """What to export, in compact form."""

    dataset: int = 0
    source: str = "0"  # 0: everything; i<instrument id>; c<campaign id>
    university: int = 0  # university id; 0: all
    country: str = "0"  # ISO code; 0: all
    period: int = 0  # index into PERIODS
    fmt: int = 1  # index into FORMATS (XLSX by default: opens anywhere, codebook inside)
    identified: int = 0

    def encode(self) -> str:
        """The request as callback data (at most about 30 bytes)."""
        return (
            f"{self.dataset}.{self.source}.{self.university}.{self.country}."
            f"{self.period}.{self.fmt}.{self.identified}"
        )

    @classmethod
    def decode(cls, text: str) -> Request | None:
        """The request from callback data; None for anything that is not one."""
        match = _PATTERN.match(text)
        if match is None:
            return None
        dataset, source, uni, country, period, fmt, identified = match.groups()
        if int(dataset) >= len(DATASETS) or int(period) >= len(PERIODS):
            return None
        if int(fmt) >= len(FORMATS):
            return None
        return cls(int(dataset), source, int(uni), country, int(period), int(fmt), int(identified))

    def but(self, **changes: object) -> Request:
        """A copy with some choices changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def dataset_name(self) -> str:
        """The dataset's name."""
        return DATASETS[self.dataset]

    @property
    def format_name(self) -> str:
        """The format's name."""
        return FORMATS[self.fmt]


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
    days = PERIODS[request.period]
    return Filters(
        campaign_id=campaign,
        university=university,
        country=None if request.country == "0" else request.country,
        instrument=instrument,
        since=today - timedelta(days=days - 1) if days else None,
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
