"""Audiences: who receives something, shared by every feature that writes to people.

An audience is a kind and an optional reference, stored as two columns (`audience_kind`,
`audience_ref`) on whatever addresses people: a broadcast, a campaign, and next a course's
messages or an event's reminders. Each kind is registered here once, with

- a resolver, which narrows a select of users to the audience (`members` starts it from the
  people who finished onboarding), and
- a check, which refuses a reference that names nothing: references come back from buttons, so
  they are never trusted to be a number or a known code, and
- optionally, the university a reference is limited to: a sender scoped to one university (an
  organizer or coach of that university) may address exactly the audiences limited to it, and
- optionally, a rule of its own on who may address a reference (`check_sender` applies both):
  the registrants of an event are for whoever manages the event.

The built-in kinds are everyone, a university (`ref` is its id) and a country (`ref` is its
code); the course adds its learners (`course`: all of them, `course_open`: those who have not
finished; `ref` is the id of the course's first loaded version, which names the course across
versions in a few digits: a course code may be longer than the 32-character column; `<id>.<u>`
narrows it to the learners of university `u`, which is what a university-scoped sender may
address); the events add their registrants (`event`: registered or on the waiting list;
`ref` is the event's id, `<id>.<u>` when the event is hosted by university `u`, which is what
a sender scoped to that university may address); the contest adds its participants and jury
(`contest`: the authors of submitted entries and the jurors, who hear the results;
`contest_jury`: the jurors; `ref` is the contest's id; a national contest is limited to no
university). A
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
from bot.services import InvalidInput, PermissionDenied
from bot.services.event_access import may_manage
from bot.services.roles import Role, roles_of
from bot.services.universities import COUNTRIES, UniversityView, get_active, view
from models import (
    Contest,
    ContestEntry,
    Course,
    Enrolment,
    EntryAuthor,
    Event,
    EventRegistration,
    Juror,
    University,
    User,
    UserRole,
)


class Audience(StrEnum):
    """The audience kinds the bot knows; each is registered with `register`."""

    ALL = "all"
    UNIVERSITY = "university"
    COUNTRY = "country"
    COURSE = "course"  # the learners of a course
    COURSE_OPEN = "course_open"  # ... who have not finished it
    EVENT = "event"  # the registrants of an event (with its waiting list)
    CONTEST = "contest"  # a contest's participants (authors of submitted entries) and jury
    CONTEST_JURY = "contest_jury"  # a contest's jurors


# An audience resolver narrows a select of users; `ref` is the audience's parameter.
Resolver = Callable[[Select[Any], str | None], Select[Any]]
# A check raises InvalidInput("broadcasts.unknown_audience") for a reference naming nothing.
Check = Callable[[AsyncSession, str | None], Awaitable[None]]
# The university a (checked) reference limits the audience to; None: not limited to one.
UniversityOf = Callable[[str | None], int | None]
# Refuses (PermissionDenied) a sender who may not address a (checked) reference of the kind.
SenderRule = Callable[[AsyncSession, User, set[Role], str | None], Awaitable[None]]

# Kinds are stored in a 16-character column and travel in buttons.
_KIND = re.compile(r"[a-z][a-z_]{0,15}")
UNKNOWN = "broadcasts.unknown_audience"


@dataclass(frozen=True, slots=True)
class AudienceKind:
    """How one kind of audience is resolved and checked, and the university it is limited to."""

    resolve: Resolver
    check: Check
    university: UniversityOf | None = None
    sender: SenderRule | None = None


_KINDS: dict[str, AudienceKind] = {}
_RESOLVERS: dict[str, Resolver] = {}
# kind -> resolver, read-only: features register kinds with `register`.
RESOLVERS: Mapping[str, Resolver] = MappingProxyType(_RESOLVERS)


def register(
    kind: str,
    resolve: Resolver,
    check: Check,
    *,
    university: UniversityOf | None = None,
    sender: SenderRule | None = None,
) -> None:
    """Make `kind` an audience every feature can address; a kind is registered once.

    `university(ref)` names the one university a reference limits the audience to (None: not
    limited); without it, a university-scoped sender may not address the kind at all.
    `sender` refuses a sender the kind allows no matter their university.
    """
    if not _KIND.fullmatch(kind):
        raise ValueError(f"bad audience kind {kind!r}")
    if kind in _KINDS:
        raise ValueError(f"audience kind {kind!r} is registered twice")
    _KINDS[kind] = AudienceKind(resolve, check, university, sender)
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


async def sender_university(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int]
) -> int | None:
    """The university the sender `telegram_id` is limited to (None: no limit, or unknown)."""
    async with db() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        if user is None:
            return None
        return await sender_scope(session, user, await roles_of(session, user, admin_ids))


def within_scope(scope: int | None, kind: str, ref: str | None) -> bool:
    """True when a sender limited to university `scope` (None: no limit) may address it.

    A scoped sender may address an audience whose kind says it is limited to their university
    (that university's people, the learners of a course there), nothing wider.
    """
    if scope is None:
        return True
    audience = _KINDS.get(kind)
    if audience is None or audience.university is None:
        return False
    return audience.university(ref) == scope


async def check_sender(
    session: AsyncSession,
    user: User,
    roles: set[Role],
    kind: str,
    ref: str | None,
    *,
    scope_key: str,
) -> None:
    """Refuse a sender who may not address the (checked) audience.

    Raises:
        PermissionDenied: `scope_key` beyond the sender's university (see `within_scope`); the
            kind's own key when its rule refuses them (an event's registrants: `events.not_yours`).
    """
    if not within_scope(await sender_scope(session, user, roles), kind, ref):
        raise PermissionDenied(scope_key)
    audience = _KINDS.get(kind)
    if audience is not None and audience.sender is not None:
        await audience.sender(session, user, roles, ref)


# --- the built-in kinds ---------------------------------------------------------------------


def _everyone(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """Everyone who finished onboarding."""
    return stmt


async def _any_reference(session: AsyncSession, ref: str | None) -> None:
    """Everyone needs no reference (one given is ignored, as it always was)."""


def _id(text: str | None) -> int | None:
    """The id a reference (or part of one) holds: ASCII digits, at most 12; else None."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    return int(text)


def _university(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """The people of one university."""
    university_id = int(ref) if ref and ref.isdigit() else -1
    return stmt.where(User.university_id == university_id)


async def _existing_university(session: AsyncSession, ref: str | None) -> None:
    """Refuse a reference that is not the id of a university shown in the list."""
    university_id = _id(ref)
    if university_id is None:
        raise InvalidInput(UNKNOWN)
    await get_active(session, university_id)


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
register(Audience.UNIVERSITY.value, _university, _existing_university, university=_id)
register(Audience.COUNTRY.value, _country, _known_country)


# --- the learners of a course -----------------------------------------------------------------

# The label of each course kind as a sender reads it; `{course}` is the course's title.
COURSE_LABELS: dict[str, str] = {
    Audience.COURSE.value: "broadcasts.audience_course",
    Audience.COURSE_OPEN.value: "broadcasts.audience_course_open",
}
# ... narrowed to one university; `{university}` is its name.
COURSE_AT_LABELS: dict[str, str] = {
    Audience.COURSE.value: "broadcasts.audience_course_at",
    Audience.COURSE_OPEN.value: "broadcasts.audience_course_open_at",
}
# `<course id>.<university id>`: the course's learners at that university (a button carries
# no "@", so a dot it is).
_AT = "."


@dataclass(frozen=True, slots=True)
class CourseAudience:
    """A course a sender may address, with the reference its two audience kinds take.

    With `university`, the reference names only the course's learners at that university.
    """

    code: str
    title: dict[str, str]  # of its newest version
    ref: str
    university: UniversityView | None = None


def _course_parts(ref: str | None) -> tuple[int, int | None]:
    """The course version id and the university id a reference names.

    A bad course id gives -1 (matching nothing); a bad university part gives -1 too, so a
    forged `12.x` narrows to nobody rather than widening to every learner.
    """
    course, at, university = (ref or "").partition(_AT)
    course_id = _id(course)
    university_id = _id(university) if at else None
    return (
        -1 if course_id is None else course_id,
        -1 if at and university_id is None else university_id,
    )


def _course_university(ref: str | None) -> int | None:
    """The university a course reference narrows its learners to (None: every university)."""
    return _course_parts(ref)[1]


def narrowed(ref: str, university_id: int) -> str:
    """The reference of a course's learners `ref` at university `university_id` only."""
    return f"{ref.partition(_AT)[0]}{_AT}{university_id}"


def _learners(stmt: Select[Any], ref: str | None, unfinished: bool) -> Select[Any]:
    """The people enrolled in the course `ref` names (any version); `unfinished`: not done.

    A reference narrowed to a university keeps only that university's learners.
    """
    course_id, university_id = _course_parts(ref)
    code = select(Course.code).where(Course.id == course_id).scalar_subquery()
    enrolled = select(Enrolment.user_id).where(Enrolment.course_code == code)
    if unfinished:
        enrolled = enrolled.where(Enrolment.finished_at.is_(None))
    stmt = stmt.where(User.id.in_(enrolled))
    if university_id is not None:
        stmt = stmt.where(User.university_id == university_id)
    return stmt


def _course_learners(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """Everyone enrolled in the course."""
    return _learners(stmt, ref, unfinished=False)


def _course_unfinished(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """Everyone enrolled in the course who has not finished it."""
    return _learners(stmt, ref, unfinished=True)


async def _existing_course(session: AsyncSession, ref: str | None) -> None:
    """Refuse a reference naming no loaded course version, or narrowed to no university."""
    course_id, university_id = _course_parts(ref)
    if course_id < 0 or await session.get(Course, course_id) is None:
        raise InvalidInput(UNKNOWN)
    if university_id is not None and (
        university_id < 0 or await session.get(University, university_id) is None
    ):
        raise InvalidInput(UNKNOWN)


async def course_ref(session: AsyncSession, code: str) -> str | None:
    """The audience reference of the course `code` (None: no such course)."""
    first = await session.scalar(select(func.min(Course.id)).where(Course.code == code))
    return None if first is None else str(first)


async def course_audiences(
    db: Sessionmaker, university_id: int | None = None
) -> list[CourseAudience]:
    """Every loaded course, by code, with its newest title and its audience reference.

    With `university_id` (a university-scoped sender's), each reference names the course's
    learners at that university only.
    """
    async with db() as session:
        rows = (
            await session.execute(
                select(Course.code, Course.id, Course.title).order_by(Course.code, Course.id)
            )
        ).all()
        university = None
        if university_id is not None:
            row = await session.get(University, university_id)
            university = view(row) if row is not None else None
    found: dict[str, CourseAudience] = {}
    for code, course_id, title in rows:
        first = found.get(code)
        found[code] = CourseAudience(code, dict(title), first.ref if first else str(course_id))
    if university_id is None:
        return list(found.values())
    return [
        CourseAudience(c.code, c.title, narrowed(c.ref, university_id), university)
        for c in found.values()
    ]


async def course_audience(db: Sessionmaker, ref: str | None) -> CourseAudience | None:
    """The course (and university, when narrowed) a course audience reference names."""
    course_id, university_id = _course_parts(ref)
    if course_id < 0 or (university_id is not None and university_id < 0):
        return None
    for course in await course_audiences(db, university_id):
        if course.ref == ref:
            return course
    return None


register(Audience.COURSE.value, _course_learners, _existing_course, university=_course_university)
register(
    Audience.COURSE_OPEN.value, _course_unfinished, _existing_course, university=_course_university
)


# --- the registrants of an event ------------------------------------------------------------

# Registrations still holding a place or waiting for one (not cancelled).
EVENT_STATES = ("registered", "waiting")


def event_ref(event_id: int, university_id: int | None) -> str:
    """The audience reference of an event's registrants, naming its hosting university."""
    return str(event_id) if university_id is None else f"{event_id}{_AT}{university_id}"


def _event_parts(ref: str | None) -> tuple[int, int | None]:
    """The event id and the hosting university id a reference names (-1: a bad part)."""
    event, at, university = (ref or "").partition(_AT)
    event_id = _id(event)
    university_id = _id(university) if at else None
    return (
        -1 if event_id is None else event_id,
        -1 if at and university_id is None else university_id,
    )


def _event_university(ref: str | None) -> int | None:
    """The hosting university a reference names (what a scoped sender may address)."""
    return _event_parts(ref)[1]


def _event_registrants(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """Everyone registered for the event, or on its waiting list."""
    event_id, _ = _event_parts(ref)
    registered = select(EventRegistration.user_id).where(
        EventRegistration.event_id == event_id, EventRegistration.state.in_(EVENT_STATES)
    )
    return stmt.where(User.id.in_(registered))


async def _existing_event(session: AsyncSession, ref: str | None) -> None:
    """Refuse a reference naming no event, or a university that is not the event's host.

    A forged `<event>.<u>` with another university than the host's would let a sender scoped
    to `u` write to the registrants of an event `u` does not host.
    """
    event_id, university_id = _event_parts(ref)
    event = await session.get(Event, event_id) if event_id >= 0 else None
    if event is None or (university_id is not None and university_id != event.university_id):
        raise InvalidInput(UNKNOWN)


def event_of(ref: str | None) -> int | None:
    """The event an event audience reference names (None: a bad reference)."""
    event_id, university_id = _event_parts(ref)
    return None if event_id < 0 or (university_id is not None and university_id < 0) else event_id


async def _manager_of_event(
    session: AsyncSession, user: User, roles: set[Role], ref: str | None
) -> None:
    """Only whoever manages the event writes to its registrants (a forged id names another's)."""
    event_id, _ = _event_parts(ref)
    event = await session.get(Event, event_id) if event_id >= 0 else None
    if event is None or not await may_manage(session, user, roles, event):
        raise PermissionDenied("events.not_yours")


register(
    Audience.EVENT.value,
    _event_registrants,
    _existing_event,
    university=_event_university,
    sender=_manager_of_event,
)


# --- a contest's participants and jury --------------------------------------------------------


def _contest_id(ref: str | None) -> int:
    """The contest id a reference names (-1, matching nothing, for a bad one)."""
    contest_id = _id(ref)
    return -1 if contest_id is None else contest_id


def _contest_jurors(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """The contest's jurors."""
    jurors = select(Juror.user_id).where(Juror.contest_id == _contest_id(ref))
    return stmt.where(User.id.in_(jurors))


def _contest_people(stmt: Select[Any], ref: str | None) -> Select[Any]:
    """The authors of the contest's submitted entries, and its jurors."""
    contest_id = _contest_id(ref)
    authors = (
        select(EntryAuthor.user_id)
        .join(ContestEntry, ContestEntry.id == EntryAuthor.entry_id)
        .where(ContestEntry.contest_id == contest_id, ContestEntry.state == "submitted")
    )
    jurors = select(Juror.user_id).where(Juror.contest_id == contest_id)
    return stmt.where(User.id.in_(authors.union(jurors)))


async def _existing_contest(session: AsyncSession, ref: str | None) -> None:
    """Refuse a reference naming no contest."""
    contest_id = _contest_id(ref)
    if contest_id < 0 or await session.get(Contest, contest_id) is None:
        raise InvalidInput(UNKNOWN)


register(Audience.CONTEST.value, _contest_people, _existing_contest)
register(Audience.CONTEST_JURY.value, _contest_jurors, _existing_contest)
