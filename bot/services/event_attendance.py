"""Attendance and after: check-in with a code said aloud, feedback, the recording.

From 15 minutes before the start until the end the coach opens attendance and says a short
code aloud (`open_checkin`); people check in with it once (`check_in`; someone not registered
is recorded as a walk-in). Wrong codes are limited per person and event (THE TRIES RULE at
`check_in`). After the end attendees get a feedback form (the follow-up duty in
`bot.services.event_reminders`) and rate once (`submit_feedback`); absentees get the recording
once it is posted (`post_recording`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.i18n import I18n
from bot.services import InvalidInput, PermissionDenied, ServiceError
from bot.services.event_reminders import plan_reminders
from bot.services.event_times import check_url
from bot.services.events import (
    EventState,
    EventView,
    Notices,
    RegState,
    in_audience,
    load_event,
    load_user,
    managed_event,
    registration_of,
    view_of,
)
from bot.text import clean_block
from models import Event, EventCheckinAttempt, EventRegistration, User, utcnow

CHECKIN_BEFORE = timedelta(minutes=15)  # check-in opens this long before the start
CODE_DIGITS = 6  # said aloud; with CHECKIN_TRIES, one guess in 200,000 gets in
CHECKIN_TRIES = 5  # wrong codes a person may type per event
COMMENT_MAX = 1000


@dataclass(frozen=True)
class Feedback:
    """What is stored of a person's feedback after a submit; `first`: this submit rated."""

    rating: int
    comment: str | None
    first: bool


# --- check-in ---------------------------------------------------------------------------------


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
        event, _, _ = await managed_event(session, actor_id, admin_ids, event_id, lock=True)
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
        user = await load_user(session, telegram_id)
        if event_id is None:
            tried = await _open_now(session, now)
            if not tried:
                if await _code_of_a_past_session(session, user, typed, now):
                    raise InvalidInput("events.checkin_closed")
                raise InvalidInput("events.bad_code")
        else:
            event = await load_event(session, event_id, lock=True)
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
            mine = [
                e for e in matches if await registration_of(session, e.id, user.id) is not None
            ]
            event = (mine or matches)[0]
            if _locked(attempts, event):
                raise InvalidInput("events.checkin_locked", tries=CHECKIN_TRIES)
            return await _record_check_in(session, event, user, now)
    raise refusal  # after the commit: the wrong code stays counted


async def _record_check_in(
    session: AsyncSession, event: Event, user: User, now: datetime
) -> EventView:
    """The person checked in (a walk-in in the audience registered too); the event's view."""
    registration = await registration_of(session, event.id, user.id)
    if registration is None or registration.state != RegState.REGISTERED.value:
        if registration is None:
            if not await in_audience(session, event, user):
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
    return await view_of(session, event, now)


async def locked_out(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], event_id: int
) -> list[str]:
    """The first names of those who may not check in any more (too many wrong codes)."""
    async with db() as session:
        event, _, _ = await managed_event(session, actor_id, admin_ids, event_id)
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
        event, _, _ = await managed_event(session, actor_id, admin_ids, event_id, lock=True)
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


# --- after the session ------------------------------------------------------------------------


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
        user = await load_user(session, telegram_id)
        event = await load_event(session, event_id)
        registration = await registration_of(session, event.id, user.id)
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
        event, _, _ = await managed_event(session, actor_id, admin_ids, event_id, lock=True)
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
        notices = Notices(session, event, i18n, zone)
        for registration in absentees:
            registration.recording_sent_at = now
            await notices.tell(
                registration.user_id,
                "events.recording_notice",
                link=("events.recording_button", link),
            )
        await session.flush()
        return await view_of(session, event, now), notices.broadcast_id
