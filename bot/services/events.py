"""Events: scheduling, announcement, registration, waiting list, check-in, feedback (issue 12).

An event (a webinar, a coaching session, a seminar, a conference, a presentation, a consilium)
is drafted by a coach, organizer or admin (`create_draft`, `update_draft`), published to its
audience by an announcement broadcast with the buttons "I will attend" and "Add to calendar"
(`publish`), and changed or cancelled later (`edit`, `cancel`), its registrants told.

Registration (`register`, `unregister`): a place while there is one, else the waiting list in
the order people joined it; a place given back moves the first waiting person up, and they are
told. Registering twice gives the same state back. Each registration with a place has one
reminder row per offset before the start (`event_reminder`), planned here and sent by the
reminder duty (`bot.services.event_reminders`): THE PLAN RULE is that an offset whose time has
already passed when the plan is made gets no reminder (registering 30 minutes before the start
gets only the 10-minute one); a change of time plans the reminders again for the new time.

Check-in: from 15 minutes before the start until the end the coach opens attendance and says a
short code aloud (`open_checkin`); people check in with it once (`check_in`; someone not
registered is recorded as a walk-in). After the end attendees get a feedback form (the
follow-up duty) and rate once (`submit_feedback`); absentees get the recording once it is
posted (`post_recording`).

Messages the bot sends on its own (a notice of change, a place freed, a recording) are queued in
the outbox as one personal broadcast per operation, in the transaction that makes the change,
each person's own text in their language with times in their zone (`zone_of_user`); the caller
starts the broadcast whose id it gets back. Titles and descriptions are stored as plain text
(per language) and escaped when shown.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import EventCalendar, EventRegister
from bot.config import LANGUAGES
from bot.db import Sessionmaker
from bot.i18n import I18n, Translator
from bot.services import InvalidInput, NotFound, PermissionDenied, ServiceError, audiences
from bot.services.broadcast_content import Button, split_languages, visible_length
from bot.services.broadcasts import create_system, open_personal_in, queue_personal
from bot.services.event_access import managed_condition, may_manage
from bot.services.event_times import (
    CAPACITY_MAX,
    DEFAULT_OFFSETS,
    DURATION_MAX,
    DURATION_MIN,
    OFFSET_MAX,
    OFFSET_MIN,
    OFFSETS_MAX,
    check_url,
    show_when,
)
from bot.services.roles import Role, require, roles_of
from bot.text import clean_block, clean_line
from models import (
    Enrolment,
    Event,
    EventCheckinAttempt,
    EventRegistration,
    EventReminder,
    University,
    User,
    utcnow,
)

SCHEDULERS = (Role.ADMIN, Role.ORGANIZER, Role.COACH)
CHECKIN_BEFORE = timedelta(minutes=15)  # check-in opens this long before the start
TITLE_MAX = 200
DESCRIPTION_MAX = 2000
COMMENT_MAX = 1000
CODE_DIGITS = 6  # said aloud; with CHECKIN_TRIES, one guess in 200,000 gets in
CHECKIN_TRIES = 5  # wrong codes a person may type per event
_CODE_ALPHABET = string.ascii_lowercase + string.digits
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


@dataclass(frozen=True)
class Registrant:
    """One person registered (or waiting, or cancelled) for an event, for its organizer."""

    telegram_id: int
    first_name: str
    university: dict[str, str] | None  # language -> name
    state: RegState
    registered_at: datetime | None
    waiting_since: datetime | None
    checked_in_at: datetime | None
    feedback_rating: int | None
    feedback_comment: str | None


@dataclass(frozen=True)
class Feedback:
    """What is stored of a person's feedback after a submit; `first`: this submit rated."""

    rating: int
    comment: str | None
    first: bool


# --- texts ------------------------------------------------------------------------------------


def pick(texts: Mapping[str, str] | None, language: str) -> str:
    """The text in `language`, else the unmarked one, else English, else any; "" if none."""
    if not texts:
        return ""
    for key in (language, "*", "en"):
        if texts.get(key):
            return texts[key]
    return next(iter(texts.values()), "")


def parse_texts(text: str, *, line: bool, limit: int) -> dict[str, str]:
    """Plain text typed with optional `[kk]`/`[ru]`/`[en]` sections: language -> text.

    Text without sections is for every language (key "*"). `line`: one line each (a title).

    Raises:
        InvalidInput: `events.empty_text`, `events.unmarked_text` (text outside the sections
            next to sections), `events.text_too_long` (with the section and the limit).
    """
    texts = {
        language: clean_line(body) if line else clean_block(body)
        for language, body in split_languages(text or "").items()
    }
    texts = {language: body for language, body in texts.items() if body}
    if not texts:
        raise InvalidInput("events.empty_text")
    if "*" in texts and len(texts) > 1:
        raise InvalidInput("events.unmarked_text")
    for language, body in texts.items():
        if len(body) > limit:
            section = "" if language == "*" else f"[{language}] "
            raise InvalidInput(
                "events.text_too_long", limit=limit, length=len(body), section=section
            )
    return texts


def _texts(value: str | Mapping[str, str], *, line: bool, limit: int) -> dict[str, str]:
    """A title or description given as typed text or as language -> text, checked."""
    if isinstance(value, str):
        return parse_texts(value, line=line, limit=limit)
    checked: dict[str, str] = {}
    for language, typed in value.items():
        if language not in (*LANGUAGES, "*"):
            raise InvalidInput("events.empty_text")
        body = clean_line(typed) if line else clean_block(typed)
        if body:
            checked[language] = body
    if not checked:
        raise InvalidInput("events.empty_text")
    if "*" in checked and len(checked) > 1:
        raise InvalidInput("events.unmarked_text")
    for language, body in checked.items():
        if visible_length(body) > limit:
            section = "" if language == "*" else f"[{language}] "
            raise InvalidInput(
                "events.text_too_long", limit=limit, length=len(body), section=section
            )
    return checked


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


# --- loading, rights and views ------------------------------------------------------------------


def can_schedule(roles: Iterable[Role]) -> bool:
    """Coaches, organizers and admins may schedule events."""
    return bool(set(roles).intersection(SCHEDULERS))


async def _user(session: AsyncSession, telegram_id: int) -> User:
    """The person, known to the bot."""
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise PermissionDenied("errors.not_allowed")
    return user


async def _event(session: AsyncSession, event_id: int, *, lock: bool = False) -> Event:
    """The event (`FOR UPDATE` with `lock`: places and registrations are decided under it)."""
    stmt = select(Event).where(Event.id == event_id)
    if lock:
        stmt = stmt.with_for_update()
    event = await session.scalar(stmt)
    if event is None:
        raise NotFound("events.not_found")
    return event


async def _managed(
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
    event = await _event(session, event_id, lock=lock)
    if not await may_manage(session, user, roles, event):
        raise PermissionDenied("events.not_yours")
    return event, user, roles


async def _university_names(session: AsyncSession, university_id: int | None) -> dict[str, str]:
    """The university's name in each language ({} for none)."""
    if university_id is None:
        return {}
    row = await session.get(University, university_id)
    if row is None:
        return {}
    return {"kk": row.name_kk, "ru": row.name_ru, "en": row.name_en}


async def _places(session: AsyncSession, event_id: int) -> tuple[int, int]:
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


async def _view(session: AsyncSession, event: Event, now: datetime | None = None) -> EventView:
    registered, waiting = await _places(session, event.id)
    names = await _university_names(session, event.university_id)
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


async def _registration(
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


async def _mine(
    session: AsyncSession, event: Event, registration: EventRegistration | None, now: datetime
) -> MyEvent:
    view = await _view(session, event, now)
    if registration is None or registration.state == RegState.CANCELLED.value:
        return MyEvent(view, None, None, False)
    return MyEvent(
        view,
        RegState(registration.state),
        await _position(session, registration),
        registration.checked_in_at is not None,
    )


async def _in_audience(session: AsyncSession, event: Event, user: User) -> bool:
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
        return await _view(session, await _event(session, event_id))


async def get_by_code(db: Sessionmaker, code: str) -> EventView:
    """The event a deep link (`?start=e-<code>`) names.

    Raises:
        NotFound: `events.not_found` (also for a draft: nobody may open it by link yet).
    """
    async with db() as session:
        event = await session.scalar(select(Event).where(Event.code == (code or "").lower()))
        if event is None or event.state == EventState.DRAFT.value:
            raise NotFound("events.not_found")
        return await _view(session, event)


async def my_event(
    db: Sessionmaker, telegram_id: int, event_id: int, *, now: datetime | None = None
) -> MyEvent:
    """One event with the person's registration (the event's screen, a deep link).

    Raises:
        NotFound: `events.not_found` (a draft is shown only to whoever manages it).
    """
    now = now or utcnow()
    async with db() as session:
        user = await _user(session, telegram_id)
        event = await _event(session, event_id)
        if event.state == EventState.DRAFT.value and event.created_by_id != user.id:
            raise NotFound("events.not_found")
        return await _mine(session, event, await _registration(session, event.id, user.id), now)


async def upcoming(
    db: Sessionmaker, telegram_id: int, *, now: datetime | None = None
) -> list[MyEvent]:
    """Published events not ended yet that the person may attend, with their state.

    Those of their audience and those they hold a registration for, soonest first.
    """
    now = now or utcnow()
    async with db() as session:
        user = await _user(session, telegram_id)
        events = (
            await session.scalars(
                select(Event)
                .where(Event.state == EventState.PUBLISHED.value, Event.ends_at > now)
                .order_by(Event.starts_at, Event.id)
            )
        ).all()
        found = []
        for event in events:
            registration = await _registration(session, event.id, user.id)
            active = registration is not None and registration.state in ACTIVE
            if active or await _in_audience(session, event, user):
                found.append(await _mine(session, event, registration, now))
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


async def _managed_views(
    session: AsyncSession, user: User, roles: set[Role], *where: ColumnElement[bool]
) -> list[EventView]:
    """The events the person manages (and `where`), newest start first."""
    condition = await managed_condition(session, user, roles)
    stmt = select(Event).where(*where)
    if condition is not None:
        stmt = stmt.where(condition)
    rows = (await session.scalars(stmt.order_by(Event.starts_at.desc(), Event.id.desc()))).all()
    return [await _view(session, event) for event in rows]


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


# --- drafting and publishing --------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


async def create_draft(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], kind: Kind | str
) -> EventView:
    """Start a draft of `kind`, hosted by the actor's university.

    Its audience is the widest the actor may address (everyone; a scoped coach or organizer:
    their university).

    Raises:
        PermissionDenied: a student (`errors.not_allowed`).
        InvalidInput: `events.bad_kind`.
    """
    try:
        kind = Kind(kind)
    except ValueError:
        raise InvalidInput("events.bad_kind") from None
    async with db.begin() as session:
        user, roles = await require(session, actor_id, admin_ids, *SCHEDULERS)
        scope = await audiences.sender_scope(session, user, roles)
        event = Event(
            code=_new_code(),
            kind=kind.value,
            state=EventState.DRAFT.value,
            title={},
            description={},
            duration_minutes=60,
            university_id=scope if scope is not None else user.university_id,
            audience_kind=(
                audiences.Audience.ALL.value
                if scope is None
                else audiences.Audience.UNIVERSITY.value
            ),
            audience_ref=None if scope is None else str(scope),
            reminder_offsets=list(DEFAULT_OFFSETS),
            created_by_id=user.id,
            sequence=0,
        )
        session.add(event)
        await session.flush()
        return await _view(session, event)


def _check_offsets(offsets: Iterable[int]) -> list[int]:
    found = sorted({int(o) for o in offsets}, reverse=True)
    if len(found) > OFFSETS_MAX or not all(OFFSET_MIN <= o <= OFFSET_MAX for o in found):
        raise InvalidInput("events.bad_offsets", example="24h, 1h, 10m", most=OFFSETS_MAX)
    return found


_FIELDS = frozenset(
    {
        "title",
        "description",
        "starts_at",
        "duration_minutes",
        "timezone",
        "join_url",
        "university_id",
        "audience_kind",
        "audience_ref",
        "capacity",
        "reminder_offsets",
        "kind",
    }
)


async def _apply(
    session: AsyncSession,
    event: Event,
    user: User,
    roles: set[Role],
    fields: Mapping[str, Any],
    now: datetime,
) -> set[str]:
    """Check and store `fields` on the event; the names of those that changed."""
    unknown = set(fields) - _FIELDS
    if unknown:
        raise TypeError(f"unknown event fields: {sorted(unknown)}")
    changed: set[str] = set()

    def put(name: str, value: Any) -> None:
        if getattr(event, name) != value:
            setattr(event, name, value)
            changed.add(name)

    if "kind" in fields:
        try:
            put("kind", Kind(fields["kind"]).value)
        except ValueError:
            raise InvalidInput("events.bad_kind") from None
    if "title" in fields:
        put("title", _texts(fields["title"], line=True, limit=TITLE_MAX))
    if "description" in fields:
        value = fields["description"]
        put(
            "description",
            {} if not value else _texts(value, line=False, limit=DESCRIPTION_MAX),
        )
    if "starts_at" in fields:
        starts_at: datetime = fields["starts_at"]
        if starts_at.tzinfo is None:
            raise ValueError("starts_at must be aware")
        if starts_at <= now:
            raise InvalidInput("events.past_time", example="03.12.2026 15:00")
        put("starts_at", starts_at)
    if "duration_minutes" in fields:
        minutes = int(fields["duration_minutes"])
        if not DURATION_MIN <= minutes <= DURATION_MAX:
            raise InvalidInput(
                "events.bad_duration",
                example="90, 1:30, 1h30",
                low=DURATION_MIN,
                high=DURATION_MAX,
            )
        put("duration_minutes", minutes)
    if "timezone" in fields:
        put("timezone", check_zone(fields["timezone"]) if fields["timezone"] else None)
    if "join_url" in fields:
        put("join_url", check_url(fields["join_url"]) if fields["join_url"] else None)
    scope = await audiences.sender_scope(session, user, roles)
    if "university_id" in fields:
        university_id = fields["university_id"]
        if university_id is not None:
            row = await session.get(University, university_id)
            if row is None or not row.active:
                raise InvalidInput("events.bad_university")
        if scope is not None and university_id != scope:
            raise PermissionDenied("events.own_university_only")
        put("university_id", university_id)
    if "audience_kind" in fields or "audience_ref" in fields:
        kind = fields.get("audience_kind", event.audience_kind)
        ref = fields.get(
            "audience_ref", event.audience_ref if "audience_kind" not in fields else None
        )
        await audiences.check_audience(session, kind, ref)
        await audiences.check_sender(
            session, user, roles, kind, ref, scope_key="events.own_university_only"
        )
        put("audience_kind", kind)
        put("audience_ref", ref)
    if "capacity" in fields:
        capacity = fields["capacity"]
        if capacity is not None and not 0 < int(capacity) <= CAPACITY_MAX:
            raise InvalidInput("events.bad_capacity", example="12")
        put("capacity", None if capacity is None else int(capacity))
    if "reminder_offsets" in fields:
        put("reminder_offsets", _check_offsets(fields["reminder_offsets"]))
    if event.starts_at is not None:
        event.ends_at = event.starts_at + timedelta(minutes=event.duration_minutes)
    return changed


async def update_draft(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    event_id: int,
    *,
    now: datetime | None = None,
    **fields: Any,
) -> EventView:
    """Set fields of a draft; only those given change (`capacity=None`: no limit).

    Fields: title and description (typed text with optional `[kk]`/`[ru]`/`[en]` sections, or
    language -> text; plain text, escaped when shown), starts_at (aware), duration_minutes,
    timezone (IANA name, "" or None: the bot's), join_url, university_id (the host),
    audience_kind and audience_ref, capacity, reminder_offsets (minutes), kind.

    Raises:
        PermissionDenied: not theirs; a scoped sender choosing beyond their university
            (`events.own_university_only`).
        InvalidInput: `events.not_draft`, and each field's own message.
    """
    now = now or utcnow()
    async with db.begin() as session:
        event, user, roles = await _managed(session, actor_id, admin_ids, event_id, lock=True)
        if event.state != EventState.DRAFT.value:
            raise InvalidInput("events.not_draft")
        await _apply(session, event, user, roles, fields, now)
        return await _view(session, event, now)


def _labels(i18n: I18n, key: str) -> dict[str, str]:
    return {language: i18n.translator(language).plain(key) for language in LANGUAGES}


async def publish(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    event_id: int,
    *,
    i18n: I18n,
    zone: tzinfo,
    now: datetime | None = None,
) -> tuple[EventView, int]:
    """Publish the draft and queue its announcement to its audience; the broadcast's id.

    The announcement (the event's card in each language, its time in the event's zone, the
    buttons "I will attend" and "Add to calendar") is a system broadcast committed with the
    publication: the caller starts it and reports its progress to the sender as /broadcast does.
    `zone` is the bot's TIMEZONE (an event scheduled without a zone of its own is in it).

    Raises:
        InvalidInput: `events.not_draft` (published already: a double tap), `events.incomplete`
            (no title or no time), `events.past_time`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        event, user, roles = await _managed(session, actor_id, admin_ids, event_id, lock=True)
        if event.state != EventState.DRAFT.value:
            raise InvalidInput("events.not_draft")
        if not event.title or event.starts_at is None:
            raise InvalidInput("events.incomplete")
        if event.starts_at <= now:
            raise InvalidInput("events.past_time", example="03.12.2026 15:00")
        await audiences.check_audience(session, event.audience_kind, event.audience_ref)
        await audiences.check_sender(
            session,
            user,
            roles,
            event.audience_kind,
            event.audience_ref,
            scope_key="events.own_university_only",
        )
        event.state = EventState.PUBLISHED.value
        event.published_at = now
        event.ends_at = event.starts_at + timedelta(minutes=event.duration_minutes)
        await session.flush()
        view = await _view(session, event, now)
        event_zone = zone_named(event.timezone, zone)
        texts = {
            language: card(view, i18n.translator(language), event_zone) for language in LANGUAGES
        }
        buttons = (
            Button(_labels(i18n, "events.register_button"), data=EventRegister(event.id).pack()),
            Button(_labels(i18n, "events.calendar_button"), data=EventCalendar(event.id).pack()),
        )
        broadcast_id = await create_system(
            db,
            created_by_id=user.id,
            audience_kind=event.audience_kind,
            audience_ref=event.audience_ref,
            texts=texts,
            buttons=buttons,
            default_language=i18n.default_language,
            session=session,
        )
        event.announcement_id = broadcast_id
        return view, broadcast_id


# --- the reminder plan -------------------------------------------------------------------------


async def plan_reminders(
    session: AsyncSession, registration: EventRegistration, event: Event, now: datetime
) -> None:
    """Plan the registration's reminders for the event's time (THE PLAN RULE above).

    An offset still ahead gets a row due then (a reminder already sent for an earlier time is
    due again, for the new one); an offset already passed gets none (an unsent row of it is
    skipped); an offset no longer chosen loses its unsent row. A registration without a place,
    or an event not published, has nothing due.
    """
    rows = {
        row.offset_minutes: row
        for row in (
            await session.scalars(
                select(EventReminder).where(EventReminder.registration_id == registration.id)
            )
        ).all()
    }
    active = (
        registration.state == RegState.REGISTERED.value
        and event.state == EventState.PUBLISHED.value
        and event.starts_at is not None
    )
    offsets = set(event.reminder_offsets or ()) if active else set()
    for offset, unwanted in rows.items():
        if offset not in offsets and unwanted.sent_at is None and unwanted.skipped_at is None:
            unwanted.skipped_at = now
    if event.starts_at is None:
        return
    for offset in sorted(offsets, reverse=True):
        due = event.starts_at - timedelta(minutes=offset)
        row = rows.get(offset)
        if due > now:
            if row is None:
                session.add(
                    EventReminder(
                        registration_id=registration.id, offset_minutes=offset, due_at=due
                    )
                )
            elif row.due_at != due or row.skipped_at is not None:
                row.due_at, row.sent_at, row.skipped_at = due, None, None
        elif (
            row is not None
            and row.sent_at is None
            and row.skipped_at is None
            and row.due_at != due
        ):
            row.skipped_at = now  # moved into the past by a change: too late for it now


async def _replan_all(session: AsyncSession, event: Event, now: datetime) -> None:
    registrations = (
        await session.scalars(
            select(EventRegistration).where(EventRegistration.event_id == event.id)
        )
    ).all()
    for registration in registrations:
        await plan_reminders(session, registration, event, now)


# --- notices to registrants --------------------------------------------------------------------


class _Notices:
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


async def _fill_places(
    session: AsyncSession, event: Event, notices: _Notices, now: datetime
) -> None:
    """Move the first waiting people up while there is a free place, telling each of them."""
    if event.state != EventState.PUBLISHED.value:
        return
    registered, _ = await _places(session, event.id)
    free = None if event.capacity is None else event.capacity - registered
    if free is not None and free <= 0:
        return
    waiting = (
        await session.scalars(
            select(EventRegistration)
            .where(
                EventRegistration.event_id == event.id,
                EventRegistration.state == RegState.WAITING.value,
            )
            .order_by(EventRegistration.waiting_since, EventRegistration.id)
            .limit(free if free is not None else None)
        )
    ).all()
    for registration in waiting:
        registration.state = RegState.REGISTERED.value
        registration.registered_at = now
        registration.promoted_at = now
        await session.flush()
        await plan_reminders(session, registration, event, now)
        await notices.tell(registration.user_id, "events.moved_up", calendar=True, join=True)


# --- changing and cancelling -------------------------------------------------------------------


async def edit(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    event_id: int,
    *,
    i18n: I18n,
    zone: tzinfo,
    now: datetime | None = None,
    **fields: Any,
) -> tuple[EventView, int | None]:
    """Change a published event (the fields of `update_draft`); a draft is just updated.

    A change of time, duration or link raises the SEQUENCE and tells everyone registered or
    waiting (with the calendar button to update their calendar); a new time plans the
    reminders again; more places move waiting people up (they are told). Returns the view and
    the personal broadcast of the notices (None: nobody to tell).

    Raises:
        InvalidInput: `events.cancelled`, `events.ended`, and each field's own message.
    """
    now = now or utcnow()
    async with db.begin() as session:
        event, user, roles = await _managed(session, actor_id, admin_ids, event_id, lock=True)
        if event.state == EventState.CANCELLED.value:
            raise InvalidInput("events.cancelled")
        if event.state == EventState.DRAFT.value:
            await _apply(session, event, user, roles, fields, now)
            return await _view(session, event, now), None
        if event.ends_at is not None and event.ends_at <= now:
            raise InvalidInput("events.ended")
        changed = await _apply(session, event, user, roles, fields, now)
        notices = _Notices(session, event, i18n, zone)
        moved = bool(changed & {"starts_at", "duration_minutes"})
        relinked = "join_url" in changed
        if changed & {
            "starts_at",
            "duration_minutes",
            "join_url",
            "title",
            "description",
            "timezone",
        }:
            event.sequence += 1
        if moved or "reminder_offsets" in changed:
            await _replan_all(session, event, now)
        if moved or relinked:
            told = (
                await session.scalars(
                    select(EventRegistration.user_id)
                    .where(
                        EventRegistration.event_id == event.id,
                        EventRegistration.state.in_(ACTIVE),
                    )
                    .order_by(EventRegistration.id)
                )
            ).all()
            key = "events.changed_time" if moved else "events.changed_link"
            for user_id in told:
                await notices.tell(user_id, key, calendar=True, join=True)
        if "capacity" in changed:
            await _fill_places(session, event, notices, now)
        await session.flush()
        return await _view(session, event, now), notices.broadcast_id


async def cancel(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    event_id: int,
    *,
    i18n: I18n,
    zone: tzinfo,
    now: datetime | None = None,
) -> tuple[EventView, int | None]:
    """Cancel the event; everyone registered or waiting is told.

    The notice carries the calendar button (the file now says CANCELLED), the SEQUENCE grows,
    reminders not sent are skipped. A draft is simply cancelled.

    Raises:
        InvalidInput: `events.cancelled` (already), `events.ended`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        event, _user, _roles = await _managed(session, actor_id, admin_ids, event_id, lock=True)
        if event.state == EventState.CANCELLED.value:
            raise InvalidInput("events.cancelled")
        if event.state == EventState.PUBLISHED.value and event.ends_at and event.ends_at <= now:
            raise InvalidInput("events.ended")
        was_published = event.state == EventState.PUBLISHED.value
        event.state = EventState.CANCELLED.value
        event.cancelled_at = now
        event.sequence += 1
        notices = _Notices(session, event, i18n, zone)
        if was_published:
            await _replan_all(session, event, now)
            told = (
                await session.scalars(
                    select(EventRegistration.user_id)
                    .where(
                        EventRegistration.event_id == event.id,
                        EventRegistration.state.in_(ACTIVE),
                    )
                    .order_by(EventRegistration.id)
                )
            ).all()
            for user_id in told:
                await notices.tell(user_id, "events.cancelled_notice", calendar=True)
        await session.flush()
        return await _view(session, event, now), notices.broadcast_id


# --- registration ------------------------------------------------------------------------------


def _open_for_registration(event: Event, now: datetime) -> bool:
    return (
        event.state == EventState.PUBLISHED.value
        and event.ends_at is not None
        and now < event.ends_at
    )


async def register(
    db: Sessionmaker, telegram_id: int, event_id: int, *, now: datetime | None = None
) -> MyEvent:
    """Take a place, or a place on the waiting list of a full session (MyEvent says which).

    Twice: the same state back, nothing added. Places are counted under a lock on the event,
    so two people taking the last place at once on two replicas cannot both get it.

    Raises:
        InvalidInput: `events.closed` (cancelled, ended, or not published).
        PermissionDenied: `events.not_for_you` (not in the event's audience).
        NotFound: `events.not_found`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        user = await _user(session, telegram_id)
        event = await _event(session, event_id, lock=True)
        if not _open_for_registration(event, now):
            raise InvalidInput("events.closed")
        registration = await _registration(session, event.id, user.id)
        if registration is not None and registration.state in ACTIVE:
            return await _mine(session, event, registration, now)
        if not await _in_audience(session, event, user):
            raise PermissionDenied("events.not_for_you")
        registered, _ = await _places(session, event.id)
        if registration is None:
            registration = EventRegistration(event_id=event.id, user_id=user.id)
            session.add(registration)
        if event.capacity is None or registered < event.capacity:
            registration.state = RegState.REGISTERED.value
            registration.registered_at = now
            registration.waiting_since = None
        else:
            registration.state = RegState.WAITING.value
            registration.waiting_since = now
            registration.registered_at = None
        registration.cancelled_at = None
        registration.promoted_at = None
        await session.flush()
        await plan_reminders(session, registration, event, now)
        return await _mine(session, event, registration, now)


async def unregister(
    db: Sessionmaker,
    telegram_id: int,
    event_id: int,
    *,
    i18n: I18n,
    zone: tzinfo,
    now: datetime | None = None,
) -> tuple[MyEvent, int | None]:
    """Give the place back (or leave the waiting list); the first waiting person moves up.

    Reminders not sent are dropped; the person moved up is told (the personal broadcast's id).

    Not registered: nothing changes. A session that has ended keeps its attendance.

    Raises:
        InvalidInput: `events.closed` (the event ended).
        NotFound: `events.not_found`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        user = await _user(session, telegram_id)
        event = await _event(session, event_id, lock=True)
        registration = await _registration(session, event.id, user.id)
        if registration is None or registration.state not in ACTIVE:
            return await _mine(session, event, registration, now), None
        if event.ends_at is not None and event.ends_at <= now:
            raise InvalidInput("events.closed")
        had_place = registration.state == RegState.REGISTERED.value
        registration.state = RegState.CANCELLED.value
        registration.cancelled_at = now
        await session.flush()
        await plan_reminders(session, registration, event, now)
        notices = _Notices(session, event, i18n, zone)
        if had_place:
            await _fill_places(session, event, notices, now)
        await session.flush()
        return await _mine(session, event, registration, now), notices.broadcast_id


# --- check-in ----------------------------------------------------------------------------------


def _in_window(event: Event, now: datetime) -> bool:
    """From 15 minutes before the start until the end."""
    return (
        event.state == EventState.PUBLISHED.value
        and event.starts_at is not None
        and event.ends_at is not None
        and event.starts_at - CHECKIN_BEFORE <= now < event.ends_at
    )


async def open_checkin(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    event_id: int,
    *,
    now: datetime | None = None,
) -> str:
    """Open attendance and return the code to say aloud (the same code when opened again).

    Raises:
        InvalidInput: `events.checkin_closed` (outside 15 minutes before the start to the
            end, or the event is not published).
    """
    now = now or utcnow()
    async with db.begin() as session:
        event, _user, _roles = await _managed(session, actor_id, admin_ids, event_id, lock=True)
        if not _in_window(event, now):
            raise InvalidInput("events.checkin_closed")
        if event.checkin_code is None:
            event.checkin_code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        if event.checkin_opened_at is None:
            event.checkin_opened_at = now
        return event.checkin_code


def _code(text: str) -> str:
    return "".join(c for c in text if not c.isspace())


async def _attempts(
    session: AsyncSession, events: Iterable[Event], user: User
) -> dict[int, EventCheckinAttempt]:
    """The person's wrong-code counts for these events (event id -> row; none yet: absent)."""
    ids = [event.id for event in events]
    if not ids:
        return {}
    rows = await session.scalars(
        select(EventCheckinAttempt).where(
            EventCheckinAttempt.event_id.in_(ids), EventCheckinAttempt.user_id == user.id
        )
    )
    return {row.event_id: row for row in rows.all()}


def _locked(attempts: Mapping[int, EventCheckinAttempt], event: Event) -> bool:
    row = attempts.get(event.id)
    return row is not None and row.failures >= CHECKIN_TRIES


async def _open_now(session: AsyncSession, now: datetime) -> list[Event]:
    """The events whose check-in is open now, locked in id order (their counts change)."""
    rows = (
        await session.scalars(
            select(Event)
            .where(
                Event.checkin_code.is_not(None),
                Event.state == EventState.PUBLISHED.value,
                Event.checkin_opened_at.is_not(None),
                Event.ends_at > now,
            )
            .order_by(Event.id)
            .with_for_update()
        )
    ).all()
    return [event for event in rows if _in_window(event, now)]


async def _code_of_a_past_session(
    session: AsyncSession, user: User, typed: str, now: datetime
) -> bool:
    """Whether `typed` is the code of a session of the person's whose check-in has closed."""
    if not typed:
        return False
    rows = (
        await session.scalars(
            select(Event)
            .join(EventRegistration, EventRegistration.event_id == Event.id)
            .where(Event.checkin_code == typed, EventRegistration.user_id == user.id)
        )
    ).all()
    return any(not _in_window(event, now) for event in rows)


async def _record_wrong_code(
    session: AsyncSession,
    user: User,
    events: list[Event],
    attempts: dict[int, EventCheckinAttempt],
    now: datetime,
) -> ServiceError:
    """Count a wrong code against each event tried; the refusal to give once committed."""
    for event in events:
        if _locked(attempts, event):
            continue
        row = attempts.get(event.id)
        if row is None:
            row = EventCheckinAttempt(event_id=event.id, user_id=user.id, failures=0)
            session.add(row)
            attempts[event.id] = row
        row.failures += 1
        row.last_failed_at = now
    if all(_locked(attempts, event) for event in events):
        return InvalidInput("events.checkin_locked", tries=CHECKIN_TRIES)
    return InvalidInput("events.bad_code")


async def check_in(
    db: Sessionmaker,
    telegram_id: int,
    event_id: int | None,
    code: str,
    *,
    now: datetime | None = None,
) -> EventView:
    """Record the person's attendance with the code the coach said (once; again: fine).

    Without `event_id` the code finds the event among the events open for check-in now (the
    one the person is registered for first). Someone not registered (in the audience) is
    recorded as a walk-in: registered and checked in.

    THE TRIES RULE: a wrong code counts against each event it was tried on (with `event_id`
    that one; without, every event open for check-in now), per person, in the database (a
    restart gives no new tries); after `CHECKIN_TRIES` wrong codes the person cannot check in
    to that event, even with the right code, until its coach lets them try again
    (`allow_checkin_retry`). The code of a session of theirs whose check-in has closed is
    answered "check-in is closed", not "wrong code", and is not counted.

    Raises:
        InvalidInput: `events.bad_code`, `events.checkin_locked` (too many wrong codes),
            `events.checkin_closed` (not opened, or outside the session's window).
        PermissionDenied: `events.not_for_you`.
    """
    now = now or utcnow()
    typed = _code(code)
    async with db.begin() as session:
        user = await _user(session, telegram_id)
        if event_id is None:
            tried = await _open_now(session, now)
            if not tried:
                if await _code_of_a_past_session(session, user, typed, now):
                    raise InvalidInput("events.checkin_closed")
                raise InvalidInput("events.bad_code")
        else:
            event = await _event(session, event_id, lock=True)
            if event.checkin_code is None or not _in_window(event, now):
                raise InvalidInput("events.checkin_closed")
            tried = [event]
        attempts = await _attempts(session, tried, user)
        matches = [
            e
            for e in tried
            if typed and e.checkin_code and secrets.compare_digest(typed, e.checkin_code)
        ]
        if not matches:
            if event_id is None and await _code_of_a_past_session(session, user, typed, now):
                raise InvalidInput("events.checkin_closed")
            refusal = await _record_wrong_code(session, user, tried, attempts, now)
        else:
            mine = [e for e in matches if await _registration(session, e.id, user.id) is not None]
            event = (mine or matches)[0]
            if _locked(attempts, event):
                raise InvalidInput("events.checkin_locked", tries=CHECKIN_TRIES)
            return await _record_check_in(session, event, user, now)
    raise refusal  # after the commit: the wrong code stays counted


async def _record_check_in(
    session: AsyncSession, event: Event, user: User, now: datetime
) -> EventView:
    """The person checked in (a walk-in in the audience registered too); the event's view."""
    registration = await _registration(session, event.id, user.id)
    if registration is None or registration.state != RegState.REGISTERED.value:
        if registration is None:
            if not await _in_audience(session, event, user):
                raise PermissionDenied("events.not_for_you")
            registration = EventRegistration(event_id=event.id, user_id=user.id)
            session.add(registration)
        registration.state = RegState.REGISTERED.value
        registration.registered_at = registration.registered_at or now
        registration.cancelled_at = None
    if registration.checked_in_at is None:
        registration.checked_in_at = now
    await session.flush()
    await plan_reminders(session, registration, event, now)
    return await _view(session, event, now)


async def locked_out(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], event_id: int
) -> list[str]:
    """The first names of those who may not check in any more (too many wrong codes)."""
    async with db() as session:
        event, _user, _roles = await _managed(session, actor_id, admin_ids, event_id)
        names = await session.scalars(
            select(User.first_name)
            .join(EventCheckinAttempt, EventCheckinAttempt.user_id == User.id)
            .where(
                EventCheckinAttempt.event_id == event.id,
                EventCheckinAttempt.failures >= CHECKIN_TRIES,
            )
            .order_by(EventCheckinAttempt.last_failed_at, EventCheckinAttempt.id)
        )
        return list(names.all())


async def allow_checkin_retry(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], event_id: int
) -> int:
    """Let everyone locked out of the event's check-in try again; how many were let."""
    async with db.begin() as session:
        event, _user, _roles = await _managed(session, actor_id, admin_ids, event_id, lock=True)
        rows = (
            await session.scalars(
                select(EventCheckinAttempt).where(
                    EventCheckinAttempt.event_id == event.id,
                    EventCheckinAttempt.failures >= CHECKIN_TRIES,
                )
            )
        ).all()
        for row in rows:
            row.failures = 0
        return len(rows)


# --- after the session -------------------------------------------------------------------------


async def submit_feedback(
    db: Sessionmaker,
    telegram_id: int,
    event_id: int,
    rating: int | None,
    comment: str | None = None,
    *,
    now: datetime | None = None,
) -> Feedback:
    """Rate the event 1..5 (the first rating is kept) and add a comment once.

    `rating=None` adds only the comment (the step after the rating buttons: a rating first).

    Raises:
        PermissionDenied: `events.feedback_attendees_only` (did not check in).
        InvalidInput: `events.bad_rating`, `events.feedback_done` (a second comment),
            `events.text_too_long`, `events.empty_text` (neither a rating nor a comment).
    """
    now = now or utcnow()
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        raise InvalidInput("events.bad_rating")
    text = clean_block(comment) if comment else ""
    if len(text) > COMMENT_MAX:
        raise InvalidInput("events.text_too_long", limit=COMMENT_MAX, length=len(text), section="")
    if rating is None and not text:
        raise InvalidInput("events.empty_text")
    async with db.begin() as session:
        user = await _user(session, telegram_id)
        event = await _event(session, event_id)
        registration = await _registration(session, event.id, user.id)
        if registration is None or registration.checked_in_at is None:
            raise PermissionDenied("events.feedback_attendees_only")
        if rating is None and registration.feedback_rating is None:
            raise InvalidInput("events.bad_rating")  # a comment comes after the rating
        first = rating is not None and registration.feedback_rating is None
        if first:
            registration.feedback_rating = rating
            registration.feedback_at = now
        if text:
            if registration.feedback_comment:
                raise InvalidInput("events.feedback_done")
            registration.feedback_comment = text
            registration.feedback_at = registration.feedback_at or now
        return Feedback(registration.feedback_rating or 0, registration.feedback_comment, first)


async def post_recording(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    event_id: int,
    url: str,
    *,
    i18n: I18n,
    zone: tzinfo,
    now: datetime | None = None,
) -> tuple[EventView, int | None]:
    """Post the recording's link; absentees get it, once each (the personal broadcast's id).

    Absentees are those registered who did not check in; posting again sends the link only to
    those who have not had it.

    Raises:
        InvalidInput: `events.bad_link`, `events.not_ended`, `events.cancelled`.
    """
    now = now or utcnow()
    link = check_url(url)
    async with db.begin() as session:
        event, _user, _roles = await _managed(session, actor_id, admin_ids, event_id, lock=True)
        if event.state == EventState.CANCELLED.value:
            raise InvalidInput("events.cancelled")
        if (
            event.state != EventState.PUBLISHED.value
            or event.ends_at is None
            or now < event.ends_at
        ):
            raise InvalidInput("events.not_ended")
        event.recording_url = link
        event.recording_posted_at = event.recording_posted_at or now
        absentees = (
            await session.scalars(
                select(EventRegistration)
                .where(
                    EventRegistration.event_id == event.id,
                    EventRegistration.state == RegState.REGISTERED.value,
                    EventRegistration.checked_in_at.is_(None),
                    EventRegistration.recording_sent_at.is_(None),
                )
                .order_by(EventRegistration.id)
            )
        ).all()
        notices = _Notices(session, event, i18n, zone)
        for registration in absentees:
            registration.recording_sent_at = now
            await notices.tell(
                registration.user_id,
                "events.recording_notice",
                link=("events.recording_button", link),
            )
        await session.flush()
        return await _view(session, event, now), notices.broadcast_id


async def registrants(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], event_id: int
) -> list[Registrant]:
    """Everyone who registered, for whoever manages the event.

    Those with a place first, then the waiting list in order, then those who cancelled.
    """
    async with db() as session:
        event, _user, _roles = await _managed(session, actor_id, admin_ids, event_id)
        rows = (
            await session.execute(
                select(EventRegistration, User)
                .join(User, User.id == EventRegistration.user_id)
                .where(EventRegistration.event_id == event.id)
                .order_by(EventRegistration.id)
            )
        ).all()
        order = {state: n for n, state in enumerate(RegState)}
        found = []
        for registration, user in rows:
            names = await _university_names(session, user.university_id)
            found.append(
                Registrant(
                    telegram_id=user.telegram_id,
                    first_name=user.first_name,
                    university=names or None,
                    state=RegState(registration.state),
                    registered_at=registration.registered_at,
                    waiting_since=registration.waiting_since,
                    checked_in_at=registration.checked_in_at,
                    feedback_rating=registration.feedback_rating,
                    feedback_comment=registration.feedback_comment,
                )
            )
        epoch = datetime.min.replace(tzinfo=utcnow().tzinfo)
        found.sort(
            key=lambda r: (
                order[r.state],
                r.waiting_since or epoch if r.state is RegState.WAITING else epoch,
            )
        )
        return found


async def roles_for(db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int]) -> set[Role]:
    """The person's roles (for a handler deciding whether to offer management buttons)."""
    async with db() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        if user is None:
            return {Role.STUDENT}
        return await roles_of(session, user, admin_ids)
