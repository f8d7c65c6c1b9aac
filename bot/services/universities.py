"""The consortium's universities: listing for pickers, and the admin's management of them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound
from bot.services.roles import Role, require
from bot.text import clean_line, is_blank
from models import University

COUNTRIES: tuple[str, ...] = ("KZ", "RU", "UZ")
NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class UniversityView:
    """A university as shown to users."""

    id: int
    code: str
    country: str
    names: dict[str, str]
    active: bool

    def name(self, language: str) -> str:
        """The name in `language`, falling back to English."""
        return self.names.get(language) or self.names["en"]


def view(university: University) -> UniversityView:
    """Turn a row into a view."""
    return UniversityView(
        id=university.id,
        code=university.code,
        country=university.country,
        names={"en": university.name_en, "ru": university.name_ru, "kk": university.name_kk},
        active=university.active,
    )


async def list_universities(
    db: Sessionmaker, *, include_hidden: bool = False
) -> list[UniversityView]:
    """Universities in a stable order: by country (KZ first), then by id."""
    async with db() as session:
        stmt = select(University)
        if not include_hidden:
            stmt = stmt.where(University.active.is_(True))
        rows = (await session.scalars(stmt)).all()
    order = {c: i for i, c in enumerate(COUNTRIES)}
    return sorted((view(u) for u in rows), key=lambda u: (order.get(u.country, 99), u.id))


async def get_active(session: AsyncSession, university_id: int) -> University:
    """The active university with this id, or `NotFound`."""
    university = await session.get(University, university_id)
    if university is None or not university.active:
        raise NotFound("errors.university_not_found")
    return university


def parse_new_university(text: str) -> tuple[str, str, str, str]:
    """Parse `COUNTRY | English name | Russian name | Kazakh name` (the last two optional).

    Raises:
        InvalidInput: wrong country code, missing or overlong name.
    """
    parts = [clean_line(p) for p in text.split("|")]
    if len(parts) < 2 or len(parts) > 4:
        raise InvalidInput("universities.add_format")
    country = parts[0].upper()
    if country not in COUNTRIES:
        # Only countries every interface language can name; a new one needs its translations.
        raise InvalidInput("universities.bad_country", value=parts[0])
    names = list(parts[1:])
    en = names[0]
    ru = names[1] if len(names) > 1 and names[1] else en
    kk = names[2] if len(names) > 2 and names[2] else en
    for name in (en, ru, kk):
        if is_blank(name):
            raise InvalidInput("universities.add_format")
        if len(name) > NAME_MAX:
            raise InvalidInput("universities.name_too_long", limit=NAME_MAX)
    return country, en, ru, kk


async def add_university(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], text: str
) -> UniversityView:
    """Add a university from the admin's one-line description (see `parse_new_university`)."""
    country, en, ru, kk = parse_new_university(text)
    async with db.begin() as session:
        await require(session, actor_id, admin_ids, Role.ADMIN)
        exists = await session.scalar(
            select(University.id).where(func.lower(University.name_en) == en.lower())
        )
        if exists is not None:
            raise InvalidInput("universities.duplicate", name=en)
        count = await session.scalar(select(func.count(University.id)))
        code = _slug(en) or "uni"
        code = f"{code[:24]}-{(count or 0) + 1}"
        university = University(code=code, country=country, name_en=en, name_ru=ru, name_kk=kk)
        session.add(university)
        await session.flush()
        return view(university)


async def set_active(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], university_id: int, active: bool
) -> UniversityView:
    """Hide a university from new students, or show it again; its data stays.

    Setting, not toggling: a stale or double-tapped button cannot undo what it asked for.
    """
    async with db.begin() as session:
        await require(session, actor_id, admin_ids, Role.ADMIN)
        university = await session.get(University, university_id)
        if university is None:
            raise NotFound("errors.university_not_found")
        university.active = active
        return view(university)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
