"""Scheduling events: drafts, publishing with the announcement, changes and cancellation.

A coach, organizer or admin drafts an event (`create_draft`, `update_draft`: each field checked,
a scoped sender held to their university), publishes it to its audience by an announcement
broadcast with the buttons "I will attend" and "Add to calendar" (`publish`), and changes or
cancels it later (`edit`, `cancel`): a new time or link raises the iCalendar SEQUENCE, plans the
reminders again and tells everyone registered or waiting; more places move waiting people up.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import EventCalendar, EventRegister
from bot.config import LANGUAGES
from bot.db import Sessionmaker
from bot.i18n import I18n
from bot.services import InvalidInput, PermissionDenied, audiences
from bot.services.broadcast_content import Button, split_languages
from bot.services.broadcasts import create_system
from bot.services.event_registrations import fill_places
from bot.services.event_reminders import replan_all
from bot.services.event_times import (
    CAPACITY_MAX,
    DEFAULT_OFFSETS,
    DURATION_MAX,
    DURATION_MIN,
    OFFSET_MAX,
    OFFSET_MIN,
    OFFSETS_MAX,
    check_url,
)
from bot.services.events import (
    ACTIVE,
    SCHEDULERS,
    EventState,
    EventView,
    Kind,
    Notices,
    card,
    check_zone,
    managed_event,
    view_of,
    zone_named,
)
from bot.services.roles import Role, require
from bot.text import clean_block, clean_line
from models import Event, EventRegistration, University, User, utcnow

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
_CODE_ALPHABET = string.ascii_lowercase + string.digits


# --- texts ------------------------------------------------------------------------------------


def parse_texts(text: str, *, line: bool, limit: int) -> dict[str, str]:
    """Plain text typed with optional `[kk]`/`[ru]`/`[en]` sections: language -> text.

    Text without sections is for every language (key "*"). `line`: one line each (a title).

    Raises:
        InvalidInput: `events.empty_text`, `events.unmarked_text` (text outside the sections
            next to sections), `events.text_too_long` (with the section and the limit).
    """
    return _checked(split_languages(text or ""), line=line, limit=limit)


def _texts(value: str | Mapping[str, str], *, line: bool, limit: int) -> dict[str, str]:
    """A title or description given as typed text or as language -> text, checked."""
    if isinstance(value, str):
        return parse_texts(value, line=line, limit=limit)
    if any(language not in (*LANGUAGES, "*") for language in value):
        raise InvalidInput("events.empty_text")
    return _checked(value, line=line, limit=limit)


def _checked(texts: Mapping[str, str], *, line: bool, limit: int) -> dict[str, str]:
    """Language -> text cleaned (one line each with `line`), the empty ones left out, checked.

    The length is that of the plain text as stored (it is escaped when shown).
    """
    cleaned = {
        language: clean_line(body) if line else clean_block(body)
        for language, body in texts.items()
    }
    cleaned = {language: body for language, body in cleaned.items() if body}
    if not cleaned:
        raise InvalidInput("events.empty_text")
    if "*" in cleaned and len(cleaned) > 1:
        raise InvalidInput("events.unmarked_text")
    for language, body in cleaned.items():
        if len(body) > limit:
            section = "" if language == "*" else f"[{language}] "
            raise InvalidInput(
                "events.text_too_long", limit=limit, length=len(body), section=section
            )
    return cleaned


# --- drafting and publishing ------------------------------------------------------------------


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
        return await view_of(session, event)


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
        event, user, roles = await managed_event(session, actor_id, admin_ids, event_id, lock=True)
        if event.state != EventState.DRAFT.value:
            raise InvalidInput("events.not_draft")
        await _apply(session, event, user, roles, fields, now)
        return await view_of(session, event, now)


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
        event, user, roles = await managed_event(session, actor_id, admin_ids, event_id, lock=True)
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
        view = await view_of(session, event, now)
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


# --- changing and cancelling ------------------------------------------------------------------


async def _registered_or_waiting(session: AsyncSession, event: Event) -> list[int]:
    """The user ids of everyone registered or waiting, in the order they came."""
    rows = await session.scalars(
        select(EventRegistration.user_id)
        .where(EventRegistration.event_id == event.id, EventRegistration.state.in_(ACTIVE))
        .order_by(EventRegistration.id)
    )
    return list(rows.all())


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
        event, user, roles = await managed_event(session, actor_id, admin_ids, event_id, lock=True)
        if event.state == EventState.CANCELLED.value:
            raise InvalidInput("events.cancelled")
        if event.state == EventState.DRAFT.value:
            await _apply(session, event, user, roles, fields, now)
            return await view_of(session, event, now), None
        if event.ends_at is not None and event.ends_at <= now:
            raise InvalidInput("events.ended")
        changed = await _apply(session, event, user, roles, fields, now)
        notices = Notices(session, event, i18n, zone)
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
            await replan_all(session, event, now)
        if moved or relinked:
            told = await _registered_or_waiting(session, event)
            key = "events.changed_time" if moved else "events.changed_link"
            for user_id in told:
                await notices.tell(user_id, key, calendar=True, join=True)
        if "capacity" in changed:
            await fill_places(session, event, notices, now)
        await session.flush()
        return await view_of(session, event, now), notices.broadcast_id


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
        event, _, _ = await managed_event(session, actor_id, admin_ids, event_id, lock=True)
        if event.state == EventState.CANCELLED.value:
            raise InvalidInput("events.cancelled")
        if event.state == EventState.PUBLISHED.value and event.ends_at and event.ends_at <= now:
            raise InvalidInput("events.ended")
        was_published = event.state == EventState.PUBLISHED.value
        event.state = EventState.CANCELLED.value
        event.cancelled_at = now
        event.sequence += 1
        notices = Notices(session, event, i18n, zone)
        if was_published:
            await replan_all(session, event, now)
            told = await _registered_or_waiting(session, event)
            for user_id in told:
                await notices.tell(user_id, "events.cancelled_notice", calendar=True)
        await session.flush()
        return await view_of(session, event, now), notices.broadcast_id
