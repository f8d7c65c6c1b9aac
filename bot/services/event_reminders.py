"""The events' timed duties: reminders before the start, and the follow-up after the end.

Both are "a due row, claimed once, done once" (`bot.services.due.run_due`).

Reminders: each registration with a place has one `event_reminder` row per offset, planned
here (`plan_reminders`) whenever someone gets a place, gives it back or checks in, and for
everyone when the time changes (`replan_all`). THE PLAN RULE: an offset whose time has already
passed when the plan is made gets no reminder (registering 30 minutes before the start gets
only the 10-minute one); a change of time plans the reminders again for the new time.

The reminder duty takes each due row once, in its own transaction: it queues the person's
reminder (in their language, the time in their zone, with a Join button carrying the event's
link) in the outbox and marks the row sent, in one commit, so a restart or a second replica
never sends it twice and a crash before the commit leaves it due. THE LATE RULE after
downtime: a missed reminder is still sent if the session has not started (and no later
reminder of the same person is due by now: it says the same, closer to the time); once the
session has started it is skipped, not sent. A reminder of a cancelled event, or of a place
given back, is skipped too.

Follow-up: an event whose end has passed is a due row until `followed_up_at` is set. The duty
takes it once and queues a feedback form (rating buttons 1 to 5) to every attendee (checked in),
each once (`feedback_sent_at`).

Messages of a pass go in personal broadcasts (`bot.services.broadcasts`): one per event with due
reminders, opened before the pass claims anything; one per event followed up, in the claiming
transaction. The caller starts every broadcast named in the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.callbacks import EventCalendar, EventFeedback
from bot.db import Sessionmaker
from bot.i18n import I18n
from bot.services import audiences
from bot.services.broadcasts import open_personal, open_personal_in, queue_personal
from bot.services.due import BATCH, DueRows, run_due
from bot.services.event_times import show_when
from bot.services.events import (
    STARS,
    EventState,
    RegState,
    duration_text,
    pick,
    zone_of_user,
)
from models import Event, EventRegistration, EventReminder, User, utcnow

# --- the plan ---------------------------------------------------------------------------------


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


async def replan_all(session: AsyncSession, event: Event, now: datetime) -> None:
    registrations = (
        await session.scalars(
            select(EventRegistration).where(EventRegistration.event_id == event.id)
        )
    ).all()
    for registration in registrations:
        await plan_reminders(session, registration, event, now)


# --- the reminder duty ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminded:
    """What one claimed reminder did: sent (queued in `broadcast_id`) or skipped."""

    reminder_id: int
    sent: bool
    broadcast_id: int | None
    left_for_later: bool = False  # fell due after the pass opened its broadcasts


@dataclass(frozen=True)
class ReminderPass:
    """One pass of the reminder duty: the reminders taken and the broadcasts to start."""

    reminded: list[Reminded] = field(default_factory=list)
    broadcast_ids: tuple[int, ...] = ()


def reminder_due(now: datetime) -> ColumnElement[bool]:
    """Reminders due at `now`, neither sent nor skipped (the reminder duty's rows)."""
    return and_(
        EventReminder.sent_at.is_(None),
        EventReminder.skipped_at.is_(None),
        EventReminder.due_at <= now,
    )


async def _due_events(db: Sessionmaker, now: datetime) -> list[tuple[int, int | None]]:
    """The events (id, host) with a reminder due: one personal broadcast each."""
    async with db() as session:
        rows = await session.execute(
            select(Event.id, Event.university_id)
            .join(EventRegistration, EventRegistration.event_id == Event.id)
            .join(EventReminder, EventReminder.registration_id == EventRegistration.id)
            .where(reminder_due(now))
            .distinct()
        )
        return [(event_id, university_id) for event_id, university_id in rows.all()]


async def _later_one_due(session: AsyncSession, reminder: EventReminder, now: datetime) -> bool:
    """Another reminder of the same registration, closer to the start, is due by now."""
    other = aliased(EventReminder)
    found = await session.scalar(
        select(
            exists().where(
                other.registration_id == reminder.registration_id,
                other.offset_minutes < reminder.offset_minutes,
                other.due_at <= now,
                other.skipped_at.is_(None),
            )
        )
    )
    return bool(found)


async def send_due_reminders(
    db: Sessionmaker,
    i18n: I18n,
    default_zone: tzinfo,
    *,
    now: datetime | None = None,
    batch: int = BATCH,
) -> ReminderPass:
    """Queue every reminder due at `now` (at most `batch`), each exactly once (THE LATE RULE).

    Args:
        db: the session factory.
        i18n: the catalogs, to write each person's reminder in their language.
        default_zone: the bot's TIMEZONE, for people without a zone of their own.
        now: the time of the pass (tests move it; default: the current time).
        batch: reminders taken at most; the duty takes batches until fewer are due.
    """
    now = now or utcnow()
    opened: dict[int, int] = {}
    for event_id, university_id in await _due_events(db, now):
        opened[event_id] = await open_personal(
            db,
            audience_kind=audiences.Audience.EVENT.value,
            audience_ref=audiences.event_ref(event_id, university_id),
        )

    async def settle(session: AsyncSession, reminder: EventReminder, at: datetime) -> Reminded:
        """Queue the reminder and mark it sent, or mark it skipped."""
        registration = await session.get(EventRegistration, reminder.registration_id)
        event = (
            await session.get(Event, registration.event_id) if registration is not None else None
        )
        if registration is None or event is None:  # pragma: no cover - cascades remove rows
            reminder.skipped_at = at
            return Reminded(reminder.id, False, None)
        broadcast_id = opened.get(event.id)
        if broadcast_id is None:
            return Reminded(reminder.id, False, None, left_for_later=True)
        if (
            registration.state != RegState.REGISTERED.value
            or event.state != EventState.PUBLISHED.value
            or event.starts_at is None
            or at >= event.starts_at
            or await _later_one_due(session, reminder, at)
        ):
            reminder.skipped_at = at
            return Reminded(reminder.id, False, None)
        user = await session.get(User, registration.user_id)
        if user is None:  # pragma: no cover - cascades remove rows
            reminder.skipped_at = at
            return Reminded(reminder.id, False, None)
        language = user.language or i18n.default_language
        t = i18n.translator(language)
        zone = await zone_of_user(session, user, default_zone)
        minutes_left = max(1, round((event.starts_at - at).total_seconds() / 60))
        text = t(
            "events.reminder" if event.join_url else "events.reminder_no_link",
            title=pick(event.title, language),
            when=show_when(event.starts_at, zone, language),
            left=duration_text(minutes_left, t),
        )
        await queue_personal(
            session,
            broadcast_id,
            user,
            text=text,
            buttons=((t.plain("events.calendar_button"), EventCalendar(event.id).pack()),),
            links=((t.plain("events.join_button"), event.join_url),) if event.join_url else (),
            default_language=i18n.default_language,
        )
        reminder.sent_at = at
        return Reminded(reminder.id, True, broadcast_id)

    reminded = await run_due(
        db, DueRows(EventReminder, reminder_due, settle), now=now, batch=batch
    )
    return ReminderPass(reminded, tuple(opened.values()))


# --- the follow-up -----------------------------------------------------------------------------


def follow_up_due(now: datetime) -> ColumnElement[bool]:
    """Published events that have ended and are not followed up yet."""
    return and_(
        Event.state == EventState.PUBLISHED.value,
        Event.ends_at.is_not(None),
        Event.ends_at <= now,
        Event.followed_up_at.is_(None),
    )


@dataclass(frozen=True)
class FollowedUp:
    """One event followed up: how many forms were queued, in which broadcast (None: none)."""

    event_id: int
    forms: int
    broadcast_id: int | None


async def follow_up(
    db: Sessionmaker, i18n: I18n, *, now: datetime | None = None, batch: int = BATCH
) -> list[FollowedUp]:
    """Queue the feedback form to every attendee of each ended event, each event once."""
    now = now or utcnow()

    async def settle(session: AsyncSession, event: Event, at: datetime) -> FollowedUp:
        """Queue one form per attendee not asked yet, and mark the event followed up."""
        event.followed_up_at = at
        attendees = (
            await session.execute(
                select(EventRegistration, User)
                .join(User, User.id == EventRegistration.user_id)
                .where(
                    EventRegistration.event_id == event.id,
                    EventRegistration.checked_in_at.is_not(None),
                    EventRegistration.feedback_sent_at.is_(None),
                )
                .order_by(EventRegistration.id)
            )
        ).all()
        if not attendees:
            return FollowedUp(event.id, 0, None)
        broadcast_id = await open_personal_in(
            session,
            audience_kind=audiences.Audience.EVENT.value,
            audience_ref=audiences.event_ref(event.id, event.university_id),
        )
        for registration, user in attendees:
            language = user.language or i18n.default_language
            t = i18n.translator(language)
            registration.feedback_sent_at = at
            await queue_personal(
                session,
                broadcast_id,
                user,
                text=t("events.feedback_ask", title=pick(event.title, language)),
                buttons=tuple(
                    (STARS * rating, EventFeedback(event.id, rating).pack())
                    for rating in range(5, 0, -1)
                ),
                default_language=i18n.default_language,
            )
        return FollowedUp(event.id, len(attendees), broadcast_id)

    return await run_due(db, DueRows(Event, follow_up_due, settle), now=now, batch=batch)
