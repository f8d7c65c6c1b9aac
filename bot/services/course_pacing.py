"""Course pacing: self-paced or one lesson a day at the learner's hour; the lesson and nudge duty.

A learner takes the course self-paced (they press Next) or scheduled: one lesson a day at
their hour and minute, on the weekdays they chose, in their time zone (the bot's TIMEZONE
unless they chose another). A scheduled enrolment's `next_due_at` is the next such moment
strictly after now, stored in UTC; it is None when nothing is scheduled (self-paced, paused,
finished, or the post-test is all that is left).

Deliveries are the "a due row, claimed once, done once" pattern (`bot.services.due.run_due`):
the lesson duty takes each due enrolment in its own transaction, queues the lesson's message
(its title and an Open button) in the broadcast outbox, records `delivered_at` on the lesson's
progress and sets the next `next_due_at`, all in one commit, so a lesson is delivered exactly
once across restarts and replicas.

THE CATCH-UP RULE. After downtime (the bot stopped, the learner unreachable) a learner whose
lesson was due gets ONE lesson, the next one, never a pile of the days missed; the lesson after
it is scheduled for the next slot strictly after now. A slot whose lesson is still open (it was
delivered or opened and not completed yet) sends nothing: one lesson waits at a time, and the
nudges take care of a learner who stopped.

A learner who blocked the bot (`users.reachable` false) gets no deliveries and no nudges; their
enrolment stays due, so when they write again (reachable again) the next pass delivers the one
lesson of the catch-up rule.

Nudges: a learner inactive for `COURSE_NUDGE_DAYS` days (no lesson opened, no step, no answer)
gets one friendly reminder per period, with a Continue button, unless they turned nudges off,
paused, or finished.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import LessonContinue, LessonOpen
from bot.db import Sessionmaker
from bot.services import InvalidInput
from bot.services.audiences import Audience, course_ref
from bot.services.broadcasts import open_personal, queue_personal
from bot.services.course import (
    EnrolmentView,
    LessonScreen,
    Pace,
    enrolment_view,
    lessons_of,
    open_lesson,
    own_enrolment,
    pick,
)
from bot.services.due import BATCH, DueRows, run_due
from bot.text import visible
from models import Course, Enrolment, LessonProgress, User, utcnow

EVERY_DAY = 0b1111111  # bit 0 Monday ... bit 6 Sunday
WORKDAYS = 0b0011111
_HOUR = re.compile(r"(\d{1,2})(?:[:.h ](\d{2}))?")


# --- the schedule --------------------------------------------------------------------------


def zone_of(name: str | None, default: tzinfo) -> tzinfo:
    """The learner's zone: `name`, or the bot's default zone."""
    return ZoneInfo(name) if name else default


def check_zone(name: str) -> str:
    """An IANA zone name as typed, checked.

    Raises:
        InvalidInput: `course.bad_zone`.
    """
    name = visible(name).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("course.bad_zone", example="Asia/Almaty") from None
    return name


def parse_hour(text: str) -> tuple[int, int]:
    """A typed time of day (`9`, `09:30`, `9.30`) as hour and minute.

    Raises:
        InvalidInput: `course.bad_hour`.
    """
    match = _HOUR.fullmatch(visible(text).strip())
    if match is not None:
        hour, minute = int(match[1]), int(match[2] or 0)
        if hour < 24 and minute < 60:
            return hour, minute
    raise InvalidInput("course.bad_hour", example="09:00")


def next_slot(
    now: datetime, hour: int, minute: int, weekdays: int, zone: tzinfo
) -> datetime | None:
    """The first moment strictly after `now` at `hour:minute` in `zone` on one of `weekdays`.

    UTC-aware; None when no weekday is chosen. A local time a clock change skips is taken with
    the offset before the change.
    """
    if not weekdays & EVERY_DAY:
        return None
    today: date = now.astimezone(zone).date()
    for days in range(8):
        day = today + timedelta(days=days)
        if not weekdays >> day.weekday() & 1:
            continue
        moment = datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)
        if moment > now:
            return moment
    return None  # unreachable: a chosen weekday comes back within 8 days


def _reschedule(enrolment: Enrolment, lessons: int, now: datetime, default: tzinfo) -> None:
    """Set `next_due_at` from the enrolment's pace, schedule and state."""
    scheduled = (
        enrolment.pace == Pace.SCHEDULED
        and enrolment.paused_at is None
        and enrolment.finished_at is None
        and enrolment.lesson_index < lessons
    )
    enrolment.next_due_at = (
        next_slot(
            now,
            enrolment.hour,
            enrolment.minute,
            enrolment.weekdays,
            zone_of(enrolment.timezone, default),
        )
        if scheduled
        else None
    )


async def _change(
    db: Sessionmaker,
    telegram_id: int,
    enrolment_id: int,
    default_zone: tzinfo,
    change: Any,
    now: datetime | None,
) -> EnrolmentView:
    """Apply `change(enrolment, now)` to the learner's enrolment and reschedule it."""
    now = now or utcnow()
    async with db.begin() as session:
        _user, enrolment, course = await own_enrolment(
            session, telegram_id, enrolment_id, lock=True
        )
        change(enrolment, now)
        total = len(lessons_of(course.definition))
        _reschedule(enrolment, total, now, default_zone)
        return enrolment_view(enrolment, course, total)


async def set_pace(
    db: Sessionmaker,
    telegram_id: int,
    enrolment_id: int,
    pace: Pace,
    default_zone: tzinfo,
    *,
    now: datetime | None = None,
) -> EnrolmentView:
    """Self-paced, or scheduled from the next slot after now.

    Raises:
        NotFound: `course.not_enrolled`.
    """

    def change(enrolment: Enrolment, _now: datetime) -> None:
        """Store the pace."""
        enrolment.pace = pace.value

    return await _change(db, telegram_id, enrolment_id, default_zone, change, now)


async def set_schedule(
    db: Sessionmaker,
    telegram_id: int,
    enrolment_id: int,
    default_zone: tzinfo,
    *,
    hour: int | None = None,
    minute: int | None = None,
    weekdays: int | None = None,
    timezone: str | None = None,
    now: datetime | None = None,
) -> EnrolmentView:
    """Change the hour, minute, weekdays (bit 0 Monday) or zone; the next lesson moves with them.

    `timezone=""` goes back to the bot's zone.

    Raises:
        NotFound: `course.not_enrolled`.
        InvalidInput: `course.bad_hour`, `course.no_weekdays`, `course.bad_zone`.
    """
    if (hour is not None and not 0 <= hour < 24) or (minute is not None and not 0 <= minute < 60):
        raise InvalidInput("course.bad_hour", example="09:00")
    if weekdays is not None and not 0 < weekdays <= EVERY_DAY:
        raise InvalidInput("course.no_weekdays")
    zone = check_zone(timezone) if timezone else timezone

    def change(enrolment: Enrolment, _now: datetime) -> None:
        """Store what was given."""
        if hour is not None:
            enrolment.hour = hour
        if minute is not None:
            enrolment.minute = minute
        if weekdays is not None:
            enrolment.weekdays = weekdays
        if zone is not None:
            enrolment.timezone = zone or None

    return await _change(db, telegram_id, enrolment_id, default_zone, change, now)


async def pause(
    db: Sessionmaker,
    telegram_id: int,
    enrolment_id: int,
    default_zone: tzinfo,
    *,
    now: datetime | None = None,
) -> EnrolmentView:
    """Pause: no scheduled lessons and no nudges until resumed.

    Raises:
        NotFound: `course.not_enrolled`.
    """

    def change(enrolment: Enrolment, at: datetime) -> None:
        """Mark paused (a second pause keeps the first time)."""
        enrolment.paused_at = enrolment.paused_at or at

    return await _change(db, telegram_id, enrolment_id, default_zone, change, now)


async def resume(
    db: Sessionmaker,
    telegram_id: int,
    enrolment_id: int,
    default_zone: tzinfo,
    *,
    now: datetime | None = None,
) -> EnrolmentView:
    """Resume: a scheduled learner's next lesson comes at the next slot after now.

    Raises:
        NotFound: `course.not_enrolled`.
    """

    def change(enrolment: Enrolment, at: datetime) -> None:
        """Clear the pause; resuming counts as activity (no nudge at once)."""
        enrolment.paused_at = None
        enrolment.last_active_at = at

    return await _change(db, telegram_id, enrolment_id, default_zone, change, now)


async def set_nudges(
    db: Sessionmaker,
    telegram_id: int,
    enrolment_id: int,
    on: bool,
    default_zone: tzinfo,
) -> EnrolmentView:
    """Turn the reminders after inactivity on or off.

    Raises:
        NotFound: `course.not_enrolled`.
    """

    def change(enrolment: Enrolment, _now: datetime) -> None:
        """Store the choice."""
        enrolment.nudges = on

    return await _change(db, telegram_id, enrolment_id, default_zone, change, None)


async def jump_ahead(db: Sessionmaker, telegram_id: int, enrolment_id: int) -> LessonScreen:
    """Open the next lesson now, without waiting for its slot (Next on a scheduled course).

    The slot that comes then sends nothing while that lesson is open (the catch-up rule).

    Raises:
        NotFound: `course.not_enrolled`, `course.no_such_lesson` (every lesson is done).
    """
    async with db() as session:
        _user, enrolment, _course = await own_enrolment(session, telegram_id, enrolment_id)
        position = enrolment.lesson_index
    return await open_lesson(db, telegram_id, enrolment_id, position)


# --- the lesson duty -----------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """What one claimed enrolment did: the broadcast queued (None: nothing was sent)."""

    enrolment_id: int
    lesson: int | None
    broadcast_id: int | None


def _reachable() -> ColumnElement[bool]:
    """The enrolment's learner can be written to (not blocked)."""
    return Enrolment.user_id.in_(select(User.id).where(User.reachable.is_(True)))


def lesson_due(now: datetime) -> ColumnElement[bool]:
    """Enrolments whose scheduled lesson is due at `now` (the lesson duty's rows)."""
    return and_(
        Enrolment.next_due_at.is_not(None),
        Enrolment.next_due_at <= now,
        Enrolment.pace == Pace.SCHEDULED.value,
        Enrolment.paused_at.is_(None),
        Enrolment.finished_at.is_(None),
        _reachable(),
    )


@dataclass(frozen=True)
class _CourseText:
    """What the duty's messages need of one course version, read once per pass."""

    title: Mapping[str, str]
    lessons: tuple[Any, ...]


class _Outbox:
    """One pass's personal broadcasts, one per course version with due enrolments.

    Opened before the pass claims anything (`open`), each in a commit of its own, so every
    claim can queue its learner's message in the same transaction that marks the row done.
    """

    def __init__(self, db: Sessionmaker, default_language: str, translators: Mapping[str, Any]):
        self.db = db
        self.default_language = default_language
        self.translators = translators
        self.broadcasts: dict[int, int] = {}  # course version id -> broadcast id
        self.courses: dict[int, _CourseText] = {}

    async def open(self, course_ids: list[int]) -> None:
        """Open a personal broadcast for each course version (by its open learners)."""
        async with self.db() as session:
            refs = {}
            for course_id in course_ids:
                course = await session.get(Course, course_id)
                if course is None:
                    continue
                refs[course_id] = await course_ref(session, course.code)
                self.courses[course_id] = _CourseText(
                    dict(course.title or {}), lessons_of(course.definition)
                )
        for course_id, ref in refs.items():
            self.broadcasts[course_id] = await open_personal(
                self.db, audience_kind=Audience.COURSE_OPEN.value, audience_ref=ref
            )

    def translator(self, user: User) -> Any:
        """The translator of the user's language (the default one for a user without)."""
        language = user.language or self.default_language
        return self.translators.get(language) or self.translators[self.default_language]

    async def queue(
        self, session: AsyncSession, enrolment: Enrolment, text: Any, button: tuple[str, str]
    ) -> int | None:
        """Queue the learner's own message, written by `text(translator)`; the broadcast id."""
        broadcast_id = self.broadcasts.get(enrolment.course_id)
        user = await session.get(User, enrolment.user_id)
        if broadcast_id is None or user is None:
            return None
        t = self.translator(user)
        label_key, data = button
        await queue_personal(
            session,
            broadcast_id,
            user,
            text=text(t, user.language or self.default_language),
            buttons=((t.plain(label_key), data),),
            default_language=self.default_language,
        )
        return broadcast_id


async def _due_courses(db: Sessionmaker, is_due: ColumnElement[bool]) -> list[int]:
    """The course versions with an enrolment due (the broadcasts a pass opens)."""
    async with db() as session:
        return list(
            (await session.scalars(select(Enrolment.course_id).where(is_due).distinct())).all()
        )


async def deliver_due_lessons(
    db: Sessionmaker,
    translators: Mapping[str, Any],
    default_language: str,
    default_zone: tzinfo,
    *,
    now: datetime | None = None,
    batch: int = BATCH,
) -> list[Delivered]:
    """Queue the lesson of every enrolment that is due (at most `batch`), each exactly once.

    The messages go in one personal broadcast per course version (`open_personal`), each
    learner's with their own Open button, queued in the transaction that claims the
    enrolment; the caller starts the broadcasts named in the result.

    Args:
        db: the session factory.
        translators: language -> translator, to write each learner's message in their language.
        default_language: for learners without a language of their own.
        default_zone: the bot's TIMEZONE, for learners without a zone.
        now: the time of the pass (tests move it; default: the current time).
        batch: enrolments taken at most; the duty takes batches until fewer are due.
    """
    now = now or utcnow()
    outbox = _Outbox(db, default_language, translators)
    await outbox.open(await _due_courses(db, lesson_due(now)))

    async def settle(session: AsyncSession, enrolment: Enrolment, at: datetime) -> Delivered:
        """Queue the lesson (unless one is open), record it, and schedule the next slot."""
        course = outbox.courses.get(enrolment.course_id)
        if course is None:  # a course version that fell due after the outbox was opened
            row = await session.get(Course, enrolment.course_id)
            assert row is not None
            course = _CourseText(dict(row.title or {}), lessons_of(row.definition))
        lessons = course.lessons
        broadcast_id = None
        position: int | None = None
        if enrolment.lesson_index < len(lessons) and enrolment.course_id not in outbox.broadcasts:
            # It fell due after the pass opened its broadcasts (a learner moved their hour a
            # moment ago): untouched, it stays due, and the next pass delivers it.
            return Delivered(enrolment.id, None, None)
        if enrolment.lesson_index < len(lessons):
            lesson = lessons[enrolment.lesson_index]
            progress = await session.scalar(
                select(LessonProgress).where(
                    LessonProgress.enrolment_id == enrolment.id,
                    LessonProgress.lesson_code == lesson.code,
                )
            )
            waiting = progress is not None and (
                progress.delivered_at is not None or progress.opened_at is not None
            )
            if not waiting:
                if progress is None:
                    progress = LessonProgress(
                        enrolment_id=enrolment.id,
                        lesson_code=lesson.code,
                        position=lesson.position,
                        step=0,
                    )
                    session.add(progress)
                progress.delivered_at = at
                position = lesson.position

                def text(t: Any, language: str) -> str:
                    """The lesson's announcement in the learner's language."""
                    return str(
                        t(
                            "course.lesson_ready",
                            course=pick(course.title, language),
                            lesson=pick(lesson.title, language),
                            number=lesson.position + 1,
                            total=len(lessons),
                        )
                    )

                broadcast_id = await outbox.queue(
                    session,
                    enrolment,
                    text,
                    ("course.open_button", LessonOpen(enrolment.id, lesson.position).pack()),
                )
        # The catch-up rule: the next lesson at the next slot strictly after now.
        _reschedule(enrolment, len(lessons), at, default_zone)
        return Delivered(enrolment.id, position, broadcast_id)

    return await run_due(db, DueRows(Enrolment, lesson_due, settle), now=now, batch=batch)


# --- nudges --------------------------------------------------------------------------------


def nudge_due(days: int) -> Any:
    """Enrolments to nudge at `now`: inactive `days` days, not nudged in the last `days`."""

    def is_due(now: datetime) -> ColumnElement[bool]:
        """Inactive and not nudged for a period, nudges on, not paused, not finished."""
        since = now - timedelta(days=days)
        return and_(
            Enrolment.nudges.is_(True),
            Enrolment.paused_at.is_(None),
            Enrolment.finished_at.is_(None),
            func.coalesce(Enrolment.last_active_at, Enrolment.created_at) <= since,
            or_(Enrolment.nudged_at.is_(None), Enrolment.nudged_at <= since),
            _reachable(),
        )

    return is_due


async def send_nudges(
    db: Sessionmaker,
    translators: Mapping[str, Any],
    default_language: str,
    days: int,
    *,
    now: datetime | None = None,
    batch: int = BATCH,
) -> list[int | None]:
    """Queue one reminder for every learner inactive for `days` days (the nudge duty).

    Returns, for each enrolment taken (at most `batch`), the personal broadcast its nudge was
    queued in (one per course version; None: left for the next pass). Each enrolment is
    nudged at most once per `days` days; the duty takes batches until fewer are due.
    """
    now = now or utcnow()
    is_due = nudge_due(days)
    outbox = _Outbox(db, default_language, translators)
    await outbox.open(await _due_courses(db, is_due(now)))

    async def settle(session: AsyncSession, enrolment: Enrolment, at: datetime) -> int | None:
        """Queue the nudge with a Continue button and mark the enrolment nudged."""
        course = outbox.courses.get(enrolment.course_id)
        if course is None:  # fell due after the pass looked: the next pass nudges
            return None
        enrolment.nudged_at = at

        def text(t: Any, language: str) -> str:
            """The reminder in the learner's language."""
            return str(t("course.nudge", course=pick(course.title, language)))

        return await outbox.queue(
            session,
            enrolment,
            text,
            ("course.continue_button", LessonContinue(enrolment.id).pack()),
        )

    return await run_due(db, DueRows(Enrolment, is_due, settle), now=now, batch=batch)
