"""Registrations: a place while there is one, else the waiting list, in order.

`register` takes a place (or a place on the waiting list of a full session, in the order people
joined it); registering twice gives the same state back. `unregister` gives it back and the
first waiting person moves up and is told (`fill_places`, also used when places are added).
Places are counted under a lock on the event row, so two people taking the last place at once
on two replicas cannot both get it. Each registration with a place has its reminders planned
(`bot.services.event_reminders.plan_reminders`). `registrants` lists them for the organizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.i18n import I18n
from bot.services import InvalidInput, PermissionDenied
from bot.services.event_reminders import plan_reminders
from bot.services.events import (
    ACTIVE,
    EventState,
    MyEvent,
    Notices,
    RegState,
    count_places,
    in_audience,
    load_event,
    load_user,
    managed_event,
    mine_of,
    registration_of,
    university_names,
)
from models import Event, EventRegistration, User, utcnow


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
        user = await load_user(session, telegram_id)
        event = await load_event(session, event_id, lock=True)
        if not _open_for_registration(event, now):
            raise InvalidInput("events.closed")
        registration = await registration_of(session, event.id, user.id)
        if registration is not None and registration.state in ACTIVE:
            return await mine_of(session, event, registration, now)
        if not await in_audience(session, event, user):
            raise PermissionDenied("events.not_for_you")
        registered, _ = await count_places(session, event.id)
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
        return await mine_of(session, event, registration, now)


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
        user = await load_user(session, telegram_id)
        event = await load_event(session, event_id, lock=True)
        registration = await registration_of(session, event.id, user.id)
        if registration is None or registration.state not in ACTIVE:
            return await mine_of(session, event, registration, now), None
        if event.ends_at is not None and event.ends_at <= now:
            raise InvalidInput("events.closed")
        had_place = registration.state == RegState.REGISTERED.value
        registration.state = RegState.CANCELLED.value
        registration.cancelled_at = now
        await session.flush()
        await plan_reminders(session, registration, event, now)
        notices = Notices(session, event, i18n, zone)
        if had_place:
            await fill_places(session, event, notices, now)
        await session.flush()
        return await mine_of(session, event, registration, now), notices.broadcast_id


async def fill_places(
    session: AsyncSession, event: Event, notices: Notices, now: datetime
) -> None:
    """Move the first waiting people up while there is a free place, telling each of them."""
    if event.state != EventState.PUBLISHED.value:
        return
    registered, _ = await count_places(session, event.id)
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


# --- for the organizer ------------------------------------------------------------------------


async def registrants(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], event_id: int
) -> list[Registrant]:
    """Everyone who registered, for whoever manages the event.

    Those with a place first, then the waiting list in order, then those who cancelled.
    """
    async with db() as session:
        event, _, _ = await managed_event(session, actor_id, admin_ids, event_id)
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
            names = await university_names(session, user.university_id)
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
