"""Events (issue 12): what an event is, how people see it, and what its modules share.

An event (a webinar, a coaching session, a seminar, a conference, a presentation, a consilium)
is drafted, published, changed and cancelled by a coach, organizer or admin
(`bot.services.event_authoring`), taken by registrations with a waiting list
(`bot.services.event_registrations`), attended with a code said aloud, rated and followed by
its recording (`bot.services.event_attendance`), and reminded of by rows of its own
(`bot.services.event_reminders`: the plan and the duty). This module holds what they share: the
kinds and states, `EventView` and `MyEvent`, the texts (`card`, durations, zones), loading an
event with the rights to it (`managed_event`; who manages one is `bot.services.event_access`),
the views people ask for (`get`, `my_event`, `upcoming`, `manageable`, `audience_events`), and
`Notices`: messages the bot sends on its own (a notice of change, a place freed, a recording)
are queued in the outbox as one personal broadcast per operation, in the transaction that makes
the change, each person's own text in their language with times in their zone
(`zone_of_user`); the caller starts the broadcast whose id it gets back. Titles and
descriptions are stored as plain text (per language) and escaped when shown.

The functions without a leading underscore below `load_user` are for the events modules (one
transaction each is theirs to open); the others are the use cases handlers call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import EventCalendar
from bot.db import Sessionmaker
from bot.i18n import I18n, Translator
from bot.services import InvalidInput, NotFound, PermissionDenied, audiences
from bot.services.broadcasts import open_personal_in, queue_personal
from bot.services.event_access import managed_condition, may_manage
from bot.services.event_times import show_when
from bot.services.roles import Role, require
from bot.text import clean_line
from models import Enrolment, Event, EventRegistration, University, User, utcnow

SCHEDULERS = (Role.ADMIN, Role.ORGANIZER, Role.COACH)
STARS = "★"


class Kind(StrEnum):
    """What sort of event it is."""

    WEBINAR = "webinar"
    COACHING = "coaching"
    SEMINAR = "seminar"
    CONFERENCE = "conference"
    PRESENTATION = "presentation"  # of a book or a paper written jointly
    CONSILIUM = "consilium"  # a pedagogical consilium


class EventState(StrEnum):
    """Life of an event."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RegState(StrEnum):
    """Life of a registration."""

    REGISTERED = "registered"
    WAITING = "waiting"
    CANCELLED = "cancelled"


ACTIVE = (RegState.REGISTERED.value, RegState.WAITING.value)
# The label of each kind, as people read it.
KIND_LABELS: dict[Kind, str] = {
    Kind.WEBINAR: "events.kind_webinar",
    Kind.COACHING: "events.kind_coaching",
    Kind.SEMINAR: "events.kind_seminar",
    Kind.CONFERENCE: "events.kind_conference",
    Kind.PRESENTATION: "events.kind_presentation",
    Kind.CONSILIUM: "events.kind_consilium",
}


@dataclass(frozen=True)
class EventView:
    """An event as people see it, with its current numbers."""

    id: int
    code: str
    kind: Kind
    state: EventState
    title: dict[str, str]  # language (or "*": every language) -> plain text
    description: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    duration_minutes: int
    timezone: str | None  # the zone it was scheduled in (None: the bot's TIMEZONE)
    join_url: str | None
    university_id: int | None  # the hosting university
    university_name: dict[str, str] | None  # language -> name
    audience_kind: str
    audience_ref: str | None
    capacity: int | None  # None: no limit
    reminder_offsets: tuple[int, ...]  # minutes before the start, largest first
    sequence: int  # the iCalendar SEQUENCE: grows with every change people must see
    registered: int
    waiting: int
    recording_url: str | None
    checkin_open: bool
    created_by_id: int | None

    @property
    def places_left(self) -> int | None:
        """Free places (None: no limit)."""
        return None if self.capacity is None else max(0, self.capacity - self.registered)

    def title_in(self, language: str) -> str:
        """The title in `language` (else in another one given)."""
        return pick(self.title, language)

    def name_in(self, language: str) -> str:
        """The title in `language`, else the event's code (a draft may have no title yet)."""
        return self.title_in(language) or self.code

    def description_in(self, language: str) -> str:
        """The description in `language` (else in another one given; "" if none)."""
        return pick(self.description, language)


@dataclass(frozen=True)
class MyEvent:
    """An event with one person's registration: None when they have none (or cancelled it)."""

    event: EventView
    state: RegState | None
    position: int | None  # place on the waiting list, from 1
    checked_in: bool


# --- texts ------------------------------------------------------------------------------------


def pick(texts: Mapping[str, str] | None, language: str) -> str:
    """The text in `language`, else the unmarked one, else English, else any; "" if none."""
    if not texts:
        return ""
    for key in (language, "*", "en"):
        if texts.get(key):
            return texts[key]
    return next(iter(texts.values()), "")


def duration_text(minutes: int, t: Translator) -> str:
    """A number of minutes as people say it: `1 h 30 min`, `2 h`, `45 min`, `1 d`."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(t.plain("events.days", count=days))
    if hours:
        parts.append(t.plain("events.hours", count=hours))
    if mins or not parts:
        parts.append(t.plain("events.minutes", count=mins))
    return " ".join(parts)


def zone_named(name: str | None, default: tzinfo) -> tzinfo:
    """The zone called `name`, or `default` (no name, or a name no longer known)."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def check_zone(name: str) -> str:
    """An IANA zone name as typed, checked.

    Raises:
        InvalidInput: `events.bad_zone`.
    """
    name = clean_line(name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("events.bad_zone", example="Asia/Almaty") from None
    return name


async def zone_of_user(session: AsyncSession, user: User, default: tzinfo) -> tzinfo:
    """The zone a person's times are shown in.

    The one they chose (for their course lessons), else the bot's TIMEZONE (`default`).
    """
    name = await session.scalar(
        select(Enrolment.timezone)
        .where(Enrolment.user_id == user.id, Enrolment.timezone.is_not(None))
        .order_by(Enrolment.updated_at.desc(), Enrolment.id.desc())
        .limit(1)
    )
    return zone_named(name, default)


def card(event: EventView, t: Translator, zone: tzinfo) -> str:
    """The event as a message (HTML) in `t`'s language, its time in `zone`.

    The announcement, the preview and the event's screen show it.
    """
    language = t.language
    lines = [
        t(
            "events.card",
            title=event.title_in(language),
            kind=t.plain(KIND_LABELS[event.kind]),
        )
    ]
    if event.starts_at is not None:
        lines.append(t("events.card_when", when=show_when(event.starts_at, zone, language)))
    lines.append(t("events.card_duration", duration=duration_text(event.duration_minutes, t)))
    if event.university_name:
        lines.append(t("events.card_host", university=pick(event.university_name, language)))
    if event.capacity is not None:
        lines.append(t("events.card_places", left=event.places_left or 0, capacity=event.capacity))
    description = event.description_in(language)
    if description:
        lines.append("")
        lines.append(t("events.card_description", description=description))
    return "\n".join(lines)


# --- loading, rights and views ----------------------------------------------------------------


def can_schedule(roles: Iterable[Role]) -> bool:
    """Coaches, organizers and admins may schedule events."""
    return bool(set(roles).intersection(SCHEDULERS))


async def load_user(session: AsyncSession, telegram_id: int) -> User:
    """The person, known to the bot."""
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise PermissionDenied("errors.not_allowed")
    return user


async def load_event(session: AsyncSession, event_id: int, *, lock: bool = False) -> Event:
    """The event (`FOR UPDATE` with `lock`: places and registrations are decided under it)."""
    stmt = select(Event).where(Event.id == event_id)
    if lock:
        stmt = stmt.with_for_update()
    event = await session.scalar(stmt)
    if event is None:
        raise NotFound("events.not_found")
    return event


async def managed_event(
    session: AsyncSession,
    actor_id: int,
    admin_ids: frozenset[int],
    event_id: int,
    *,
    lock: bool = False,
) -> tuple[Event, User, set[Role]]:
    """The event, if the actor may manage it.

    Raises:
        PermissionDenied: not a scheduler (`errors.not_allowed`), or not theirs
            (`events.not_yours`).
        NotFound: `events.not_found`.
    """
    user, roles = await require(session, actor_id, admin_ids, *SCHEDULERS)
    event = await load_event(session, event_id, lock=lock)
    if not await may_manage(session, user, roles, event):
        raise PermissionDenied("events.not_yours")
    return event, user, roles


async def university_names(session: AsyncSession, university_id: int | None) -> dict[str, str]:
    """The university's name in each language ({} for none)."""
    if university_id is None:
        return {}
    row = await session.get(University, university_id)
    if row is None:
        return {}
    return {"kk": row.name_kk, "ru": row.name_ru, "en": row.name_en}


async def count_places(session: AsyncSession, event_id: int) -> tuple[int, int]:
    """How many are registered and how many wait."""
    rows = await session.execute(
        select(EventRegistration.state, func.count())
        .where(EventRegistration.event_id == event_id)
        .group_by(EventRegistration.state)
    )
    counts = {str(state): int(n) for state, n in rows.all()}
    return counts.get(RegState.REGISTERED.value, 0), counts.get(RegState.WAITING.value, 0)


def _checkin_open(event: Event, now: datetime) -> bool:
    """Attendance is open and the session has not ended."""
    return (
        event.checkin_code is not None
        and event.checkin_opened_at is not None
        and event.state == EventState.PUBLISHED.value
        and (event.ends_at is None or now < event.ends_at)
    )


async def view_of(session: AsyncSession, event: Event, now: datetime | None = None) -> EventView:
    registered, waiting = await count_places(session, event.id)
    names = await university_names(session, event.university_id)
    return EventView(
        id=event.id,
        code=event.code,
        kind=Kind(event.kind),
        state=EventState(event.state),
        title=dict(event.title or {}),
        description=dict(event.description or {}),
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        duration_minutes=event.duration_minutes,
        timezone=event.timezone,
        join_url=event.join_url,
        university_id=event.university_id,
        university_name=names or None,
        audience_kind=event.audience_kind,
        audience_ref=event.audience_ref,
        capacity=event.capacity,
        reminder_offsets=tuple(event.reminder_offsets or ()),
        sequence=event.sequence,
        registered=registered,
        waiting=waiting,
        recording_url=event.recording_url,
        checkin_open=_checkin_open(event, now or utcnow()),
        created_by_id=event.created_by_id,
    )


async def registration_of(
    session: AsyncSession, event_id: int, user_id: int
) -> EventRegistration | None:
    return await session.scalar(
        select(EventRegistration).where(
            EventRegistration.event_id == event_id, EventRegistration.user_id == user_id
        )
    )


async def _position(session: AsyncSession, registration: EventRegistration) -> int | None:
    """The place on the waiting list, from 1 (None: not waiting)."""
    if registration.state != RegState.WAITING.value or registration.waiting_since is None:
        return None
    ahead = await session.scalar(
        select(func.count())
        .select_from(EventRegistration)
        .where(
            EventRegistration.event_id == registration.event_id,
            EventRegistration.state == RegState.WAITING.value,
            or_(
                EventRegistration.waiting_since < registration.waiting_since,
                and_(
                    EventRegistration.waiting_since == registration.waiting_since,
                    EventRegistration.id < registration.id,
                ),
            ),
        )
    )
    return int(ahead or 0) + 1


async def mine_of(
    session: AsyncSession, event: Event, registration: EventRegistration | None, now: datetime
) -> MyEvent:
    view = await view_of(session, event, now)
    if registration is None or registration.state == RegState.CANCELLED.value:
        return MyEvent(view, None, None, False)
    return MyEvent(
        view,
        RegState(registration.state),
        await _position(session, registration),
        registration.checked_in_at is not None,
    )


async def in_audience(session: AsyncSession, event: Event, user: User) -> bool:
    """The person is in the event's audience."""
    try:
        stmt = audiences.members(event.audience_kind, event.audience_ref)
    except InvalidInput:
        return False
    found = await session.scalar(
        select(func.count()).select_from(stmt.where(User.id == user.id).subquery())
    )
    return bool(found)


async def get(db: Sessionmaker, event_id: int) -> EventView:
    """The event (no rights checked: what anyone with its button may see of it).

    Raises:
        NotFound: `events.not_found`.
    """
    async with db() as session:
        return await view_of(session, await load_event(session, event_id))


async def get_by_code(db: Sessionmaker, code: str) -> EventView:
    """The event a deep link (`?start=e-<code>`) names.

    Raises:
        NotFound: `events.not_found` (also for a draft: nobody may open it by link yet).
    """
    async with db() as session:
        event = await session.scalar(select(Event).where(Event.code == (code or "").lower()))
        if event is None or event.state == EventState.DRAFT.value:
            raise NotFound("events.not_found")
        return await view_of(session, event)


async def my_event(
    db: Sessionmaker, telegram_id: int, event_id: int, *, now: datetime | None = None
) -> MyEvent:
    """One event with the person's registration (the event's screen, a deep link).

    Raises:
        NotFound: `events.not_found` (a draft is shown only to whoever manages it).
    """
    now = now or utcnow()
    async with db() as session:
        user = await load_user(session, telegram_id)
        event = await load_event(session, event_id)
        if event.state == EventState.DRAFT.value and event.created_by_id != user.id:
            raise NotFound("events.not_found")
        return await mine_of(
            session, event, await registration_of(session, event.id, user.id), now
        )


async def upcoming(
    db: Sessionmaker, telegram_id: int, *, now: datetime | None = None
) -> list[MyEvent]:
    """Published events not ended yet that the person may attend, with their state.

    Those of their audience and those they hold a registration for, soonest first.
    """
    now = now or utcnow()
    async with db() as session:
        user = await load_user(session, telegram_id)
        events = (
            await session.scalars(
                select(Event)
                .where(Event.state == EventState.PUBLISHED.value, Event.ends_at > now)
                .order_by(Event.starts_at, Event.id)
            )
        ).all()
        found = []
        for event in events:
            registration = await registration_of(session, event.id, user.id)
            active = registration is not None and registration.state in ACTIVE
            if active or await in_audience(session, event, user):
                found.append(await mine_of(session, event, registration, now))
        return found


async def manageable(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int]
) -> list[EventView]:
    """The events the actor may edit, newest start first.

    Their own; their university's for a scoped organizer; all for admins and consortium-wide
    organizers.
    """
    async with db() as session:
        user, roles = await require(session, actor_id, admin_ids, *SCHEDULERS)
        return await _managed_views(session, user, roles)


async def managed(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], event_id: int
) -> EventView:
    """The event, for whoever manages it (checked before asking them anything about it).

    Raises:
        PermissionDenied: a student (`errors.not_allowed`), not theirs (`events.not_yours`).
        NotFound: `events.not_found`.
    """
    async with db() as session:
        event, _, _ = await managed_event(session, actor_id, admin_ids, event_id)
        return await view_of(session, event)


async def _managed_views(
    session: AsyncSession, user: User, roles: set[Role], *where: ColumnElement[bool]
) -> list[EventView]:
    """The events the person manages (and `where`), newest start first."""
    condition = await managed_condition(session, user, roles)
    stmt = select(Event).where(*where)
    if condition is not None:
        stmt = stmt.where(condition)
    rows = (await session.scalars(stmt.order_by(Event.starts_at.desc(), Event.id.desc()))).all()
    return [await view_of(session, event) for event in rows]


async def audience_events(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int]
) -> list[EventView]:
    """The events whose registrants the actor may write to (/broadcast), newest start first.

    Published events they manage with someone registered or waiting; a sender scoped to a
    university: only the events it hosts (what `audiences.check_sender` lets them address).
    """
    async with db() as session:
        user, roles = await require(session, actor_id, admin_ids, *SCHEDULERS)
        where = [Event.state == EventState.PUBLISHED.value]
        scope = await audiences.sender_scope(session, user, roles)
        if scope is not None:
            where.append(Event.university_id == scope)
        views = await _managed_views(session, user, roles, *where)
        return [view for view in views if view.registered + view.waiting]


# --- notices to registrants -------------------------------------------------------------------


class Notices:
    """The personal broadcast of one operation's notices, opened at the first one."""

    def __init__(self, session: AsyncSession, event: Event, i18n: I18n, zone: tzinfo):
        self.session = session
        self.event = event
        self.i18n = i18n
        self.zone = zone
        self.broadcast_id: int | None = None

    async def tell(
        self,
        user_id: int,
        key: str,
        *,
        calendar: bool = False,
        join: bool = False,
        link: tuple[str, str] | None = None,
        **values: Any,
    ) -> None:
        """Queue `key` to the person, with the event's title and time in their language/zone."""
        user = await self.session.get(User, user_id)
        if user is None:
            return
        if self.broadcast_id is None:
            self.broadcast_id = await open_personal_in(
                self.session,
                audience_kind=audiences.Audience.EVENT.value,
                audience_ref=audiences.event_ref(self.event.id, self.event.university_id),
            )
        language = user.language or self.i18n.default_language
        t = self.i18n.translator(language)
        zone = await zone_of_user(self.session, user, self.zone)
        when = show_when(self.event.starts_at, zone, language) if self.event.starts_at else ""
        text = t(key, title=pick(self.event.title, language), when=when, **values)
        buttons: list[tuple[str, str]] = []
        if calendar:
            buttons.append(
                (t.plain("events.calendar_button"), EventCalendar(self.event.id).pack())
            )
        links: list[tuple[str, str]] = []
        if join and self.event.join_url:
            links.append((t.plain("events.join_button"), self.event.join_url))
        if link is not None:
            links.append((t.plain(link[0]), link[1]))
        await queue_personal(
            self.session,
            self.broadcast_id,
            user,
            text=text,
            buttons=tuple(buttons),
            links=tuple(links),
            default_language=self.i18n.default_language,
        )
