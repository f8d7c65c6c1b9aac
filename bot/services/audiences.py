"""Audiences: who receives something, shared by every feature that writes to people.

An audience is a kind and an optional reference, stored as two columns (`audience_kind`,
`audience_ref`) on whatever addresses people: a broadcast, a campaign, and next a course's
messages or an event's reminders. Each kind is registered here once, with

- a resolver, which narrows a select of users to the audience (`members` starts it from the
  people who finished onboarding), and
- a check, which refuses a reference that names nothing: references come back from buttons, so
  they are never trusted to be a number or a known code.

The built-in kinds are everyone, a university (`ref` is its id) and a country (`ref` is its
code); the course adds its learners (`course`: all of them, `course_open`: those who have not
finished; `ref` is the id of the course's first loaded version, which names the course across
versions in a few digits: a course code may be longer than the 32-character column). A
feature that defines a new "who" (the registrants of an event) adds a member to `Audience` and
calls `register` below, next to the others; broadcasts, campaigns and every other feature
can then address it without knowing how it is resolved.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.services import InvalidInput
from bot.services.roles import Role
from bot.services.universities import COUNTRIES, get_active
from models import Course, Enrolment, University, User, UserRole


class Audience(StrEnum):
    """The audience kinds the bot knows; each is registered with `register`."""

    ALL = "all"
    UNIVERSITY = "university"
    COUNTRY = "country"
    COURSE = "course"  # the learners of a course
    COURSE_OPEN = "course_open"  # ... who have not finished it


# An audience resolver narrows a select of users; `ref` is the audience's parameter.
Resolver = Callable[[Select[Any], str | None], Select[Any]]
# A check raises InvalidInput("broadcasts.unknown_audience") for a reference naming nothing.
Check = Callable[[AsyncSession, str | None], Awaitable[None]]

# Kinds are stored in a 16-character column and travel in buttons.
_KIND = re.compile(r"[a-z][a-z_]{0,15}")
UNKNOWN = "broadcasts.unknown_audience"


@dataclass(frozen=True, slots=True)
class AudienceKind:
    """How one kind of audience is resolved and checked."""

    resolve: Resolver
    check: Check


_KINDS: dict[str, AudienceKind] = {}
_RESOLVERS: dict[str, Resolver] = {}
# kind -> resolver, read-only: features register kinds with `register`.
RESOLVERS: Mapping[str, Resolver] = MappingProxyType(_RESOLVERS)


def register(kind: str, resolve: Resolver, check: Check) -> None:
    """Make `kind` an audience every feature can address; a kind is registered once."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"bad audience kind {kind!r}")
    if kind in _KINDS:
        raise ValueError(f"audience kind {kind!r} is registered twice")
    _KINDS[kind] = AudienceKind(resolve, check)
    _RESOLVERS[kind] = resolve


def kinds() -> list[str]:
    """Every registered kind, in the order of registration."""
    return list(_KINDS)


async def check_audience(session: AsyncSession, kind: str, ref: str | None) -> None:
    """Refuse an unknown kind, or a reference (a university, a country) that does not exist.

    Raises:
        InvalidInput: `broadcasts.unknown_audience`.
    """
    audience = _KINDS.get(kind)
    if audience is None:
        raise InvalidInput(UNKNOWN)
    await audience.check(session, ref)


def members(kind: str, ref: str | None) -> Select[Any]:
    """A select of the onboarded users in the audience (check it first: see `check_audience`).

    Raises:
        InvalidInput: an unknown kind.
    """
    resolver = _RESOLVERS.get(kind)
    if resolver is None:
        raise InvalidInput(UNKNOWN)
    return resolver(select(User).where(User.onboarded_at.is_not(None)), ref)


async def count(session: AsyncSession, kind: str, ref: str | None) -> int:
    """How many people the audience has now."""
    stmt = members(kind, ref)
    return await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


async def sender_scope(session: AsyncSession, user: User, roles: set[Role]) -> int | None:
    """The university a non-admin sender is limited to (None: the whole consortium)."""
    if Role.ADMIN in roles:
        return None
    scopes = (
        await session.scalars(
            select(UserRole.university_id).where(
                UserRole.user_id == user.id,
                UserRole.role.in_([Role.ORGANIZER.value, Role.COACH.value]),
            )
        )
    ).all()
    # Any consortium-wide role lifts the limit; otherwise the one university of the role.
    if not scopes or any(s is None for s in scopes):
        return None
    return scopes[0]


def within_scope(scope: int | None, kind: str, ref: str | None) -> bool:
    """True when a sender limited to university `scope` (None: no limit) may address it."""
    return scope is None or (kind == Audience.UNIVERSITY and ref == str(scope))


# --- the built-in kinds ---------------------------------------------------------------------


def _everyone(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """Everyone who finished onboarding."""
    return stmt


async def _any_reference(session: AsyncSession, ref: str | None) -> None:
    """Everyone needs no reference (one given is ignored, as it always was)."""


def _university(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """The people of one university."""
    university_id = int(ref) if ref and ref.isdigit() else -1
    return stmt.where(User.university_id == university_id)


async def _existing_university(session: AsyncSession, ref: str | None) -> None:
    """Refuse a reference that is not the id of a university shown in the list."""
    if not ref or not ref.isdigit() or not ref.isascii() or len(ref) > 12:
        raise InvalidInput(UNKNOWN)
    await get_active(session, int(ref))


def _country(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """The people of every university of one country."""
    return stmt.join(University, University.id == User.university_id).where(
        University.country == (ref or "")
    )


async def _known_country(session: AsyncSession, ref: str | None) -> None:
    """Refuse a country code the consortium does not have."""
    if ref not in COUNTRIES:
        raise InvalidInput(UNKNOWN)


register(Audience.ALL.value, _everyone, _any_reference)
register(Audience.UNIVERSITY.value, _university, _existing_university)
register(Audience.COUNTRY.value, _country, _known_country)


# --- the learners of a course -----------------------------------------------------------------

# The label of each course kind as a sender reads it; `{course}` is the course's title.
COURSE_LABELS: dict[str, str] = {
    Audience.COURSE.value: "broadcasts.audience_course",
    Audience.COURSE_OPEN.value: "broadcasts.audience_course_open",
}


@dataclass(frozen=True, slots=True)
class CourseAudience:
    """A course a sender may address, with the reference its two audience kinds take."""

    code: str
    title: dict[str, str]  # of its newest version
    ref: str


def _course_id(ref: str | None) -> int:
    """The course version id a reference names (-1, matching nothing, for a bad one)."""
    return int(ref) if ref and ref.isascii() and ref.isdigit() and len(ref) <= 12 else -1


def _learners(stmt: Select[Any], ref: str | None, unfinished: bool) -> Select[Any]:
    """The people enrolled in the course `ref` names (any version); `unfinished`: not done."""
    code = select(Course.code).where(Course.id == _course_id(ref)).scalar_subquery()
    enrolled = select(Enrolment.user_id).where(Enrolment.course_code == code)
    if unfinished:
        enrolled = enrolled.where(Enrolment.finished_at.is_(None))
    return stmt.where(User.id.in_(enrolled))


def _course_learners(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """Everyone enrolled in the course."""
    return _learners(stmt, ref, unfinished=False)


def _course_unfinished(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """Everyone enrolled in the course who has not finished it."""
    return _learners(stmt, ref, unfinished=True)


async def _existing_course(session: AsyncSession, ref: str | None) -> None:
    """Refuse a reference that is not the id of a loaded course version."""
    course_id = _course_id(ref)
    if course_id < 0 or await session.get(Course, course_id) is None:
        raise InvalidInput(UNKNOWN)


async def course_ref(session: AsyncSession, code: str) -> str | None:
    """The audience reference of the course `code` (None: no such course)."""
    first = await session.scalar(select(func.min(Course.id)).where(Course.code == code))
    return None if first is None else str(first)


async def course_audiences(db: Sessionmaker) -> list[CourseAudience]:
    """Every loaded course, by code, with its newest title and its audience reference."""
    async with db() as session:
        rows = (
            await session.execute(
                select(Course.code, Course.id, Course.title).order_by(Course.code, Course.id)
            )
        ).all()
    found: dict[str, CourseAudience] = {}
    for code, course_id, title in rows:
        first = found.get(code)
        found[code] = CourseAudience(code, dict(title), first.ref if first else str(course_id))
    return list(found.values())


register(Audience.COURSE.value, _course_learners, _existing_course)
register(Audience.COURSE_OPEN.value, _course_unfinished, _existing_course)
