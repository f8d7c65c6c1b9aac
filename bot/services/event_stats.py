"""/event_stats for coaches and organizers: who registered for an event, who came, what they said.

One read of an event: registered (with a place), waiting, cancelled, reminded (people sent at
least one reminder, and the reminders sent), attended (checked in), no-shows (registered, not
checked in, once the event is over), the feedback (mean of the ratings, how many, their spread,
the comments), and the same figures by the participants' universities. The registrant list is
a CSV file that names people (Telegram id, name, username): an identified export, recorded in
`export_log` like every export.

Who sees what: a coach sees the events they scheduled; an organizer held to universities sees
the events those universities host (and their own); admins and consortium-wide organizers see
every event. Students see none. The rights are read from the database on every call, so a
button kept from before a role was taken away shows nothing. Drafts are not events yet: they
have no figures and are never listed.

The chart is drawn like `bot.services.charts`: matplotlib's object API on Agg, fonts passed
explicitly, DejaVu Sans for the Kazakh letters.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.services import NotFound, PermissionDenied, chart_pool
from bot.services.charts import CURRENT_COLOR, bar_panel, paired_bars, panel_figure, png
from bot.services.event_access import managed_condition
from bot.services.exports import common as c
from bot.services.exports import writers
from bot.services.exports.events import reminders_sent
from bot.services.exports.spec import Chunks, Table
from bot.services.roles import Role, require
from models import (
    Event,
    EventRegistration,
    ExportLog,
    University,
    User,
    utcnow,
)

VIEWERS = (Role.ADMIN, Role.ORGANIZER, Role.COACH)
NOT_FOUND = "event_stats.not_found"
NOT_YOURS = "event_stats.not_yours"
LISTED = 30  # events offered in the picker, the latest first
REGISTRANTS = "registrants"  # the export log's name for the registrant list


@dataclass(frozen=True)
class EventLine:
    """An event as the picker lists it."""

    id: int
    code: str
    kind: str
    state: str
    title: dict[str, str]
    starts_at: datetime | None


@dataclass(frozen=True)
class UniversityLine:
    """The event's figures for the participants of one university ("" for none)."""

    university: str
    registered: int
    waiting: int
    attended: int
    no_shows: int
    feedback_n: int
    feedback_mean: float | None


@dataclass(frozen=True)
class Comment:
    """A comment left with the feedback, its rating and the author's university."""

    rating: int | None
    text: str
    university: str


@dataclass(frozen=True)
class EventStats:
    """Everything /event_stats shows about one event."""

    id: int
    code: str
    kind: str
    state: str
    title: dict[str, str]
    starts_at: datetime | None
    timezone: str | None
    capacity: int | None
    host: str | None  # the hosting university's code
    ended: bool  # over (and not cancelled): no-shows are counted
    registered: int
    waiting: int
    cancelled: int  # registrations cancelled
    reminded: int  # people sent at least one reminder
    reminders_sent: int
    attended: int
    no_shows: int  # 0 until the event is over
    feedback_n: int
    feedback_mean: float | None
    ratings: tuple[int, int, int, int, int]  # how many gave 1, 2, 3, 4, 5
    comments: list[Comment] = field(default_factory=list)
    universities: list[UniversityLine] = field(default_factory=list)


@dataclass(frozen=True)
class RegistrantList:
    """The registrant list as a CSV file."""

    file_name: str
    content: bytes
    rows: int


async def _visible(
    session: AsyncSession, actor: int, admin_ids: frozenset[int]
) -> tuple[User, ColumnElement[bool] | None]:
    """The viewer and the condition on Event they are held to (None: every event).

    Raises:
        PermissionDenied: not an admin, organizer or coach.
    """
    user, roles = await require(session, actor, admin_ids, *VIEWERS)
    return user, await managed_condition(session, user, roles)


async def _event(
    session: AsyncSession, actor: int, admin_ids: frozenset[int], ref: int | str
) -> tuple[User, Event]:
    """The event `ref` (an id, or a code as in `?start=e-<code>`) if the viewer may see it.

    Raises:
        PermissionDenied: not a viewer, or an event they may not see.
        NotFound: no such event, or a draft.
    """
    user, condition = await _visible(session, actor, admin_ids)
    event: Event | None
    if isinstance(ref, int) or ref.isdigit():
        number = int(ref)
        event = await session.get(Event, number) if number < 2**63 else None
    else:
        event = await session.scalar(select(Event).where(Event.code == ref.strip()))
    if event is None or event.state == "draft":
        raise NotFound(NOT_FOUND)
    if condition is not None:
        allowed = await session.scalar(
            select(func.count()).select_from(Event).where(Event.id == event.id, condition)
        )
        if not allowed:
            raise PermissionDenied(NOT_YOURS)
    return user, event


async def viewable_events(
    db: Sessionmaker, actor: int, admin_ids: frozenset[int], *, limit: int = LISTED
) -> list[EventLine]:
    """The events `actor` (a Telegram id) may see the figures of, the latest start first.

    Raises:
        PermissionDenied: not an admin, organizer or coach.
    """
    async with db() as session:
        _, condition = await _visible(session, actor, admin_ids)
        stmt = select(Event).where(Event.state != "draft")
        if condition is not None:
            stmt = stmt.where(condition)
        rows = await session.scalars(
            stmt.order_by(Event.starts_at.desc(), Event.id.desc()).limit(limit)
        )
        return [
            EventLine(e.id, e.code, e.kind, e.state, dict(e.title or {}), e.starts_at)
            for e in rows
        ]


async def event_stats(
    db: Sessionmaker,
    actor: int,
    admin_ids: frozenset[int],
    ref: int | str,
    *,
    now: datetime | None = None,
) -> EventStats:
    """The figures of the event `ref` (id or code), as the viewer `actor` may see them.

    Raises:
        PermissionDenied: not an admin, organizer or coach (`errors.not_allowed`), or an
            event they may not see (`event_stats.not_yours`).
        NotFound: `event_stats.not_found`, no such event (or a draft).
    """
    now = now or utcnow()
    async with db() as session:
        _, event = await _event(session, actor, admin_ids, ref)
        host = None
        if event.university_id is not None:
            host = await session.scalar(
                select(University.code).where(University.id == event.university_id)
            )
        rows = (await session.execute(_registrations(event.id))).all()
    ended = event.state != "cancelled" and event.ends_at is not None and event.ends_at <= now
    return _figures(event, host, ended, rows)


def _registrations(event_id: int) -> Any:
    """Per registration: state, check-in, rating, comment, reminders sent, university code."""
    sent = reminders_sent()
    return (
        select(
            EventRegistration.state,
            EventRegistration.checked_in_at,
            EventRegistration.feedback_rating,
            EventRegistration.feedback_comment,
            sent.c.sent,
            University.code,
        )
        .select_from(EventRegistration)
        .join(User, User.id == EventRegistration.user_id)
        .outerjoin(University, University.id == User.university_id)
        .outerjoin(sent, sent.c.registration_id == EventRegistration.id)
        .where(EventRegistration.event_id == event_id)
        .order_by(EventRegistration.feedback_at, EventRegistration.id)
    )


def _figures(event: Event, host: str | None, ended: bool, rows: Sequence[Any]) -> EventStats:
    """Count the registrations of one event."""
    states = {"registered": 0, "waiting": 0, "cancelled": 0}
    reminded = reminders = attended = no_shows = 0
    ratings = [0, 0, 0, 0, 0]
    comments: list[Comment] = []
    # university -> registered, waiting, attended, no-shows, rated, sum of ratings
    by_university: dict[str, list[int]] = {}
    for state, checked_in, rating, comment, sent, university in rows:
        line = by_university.setdefault(university or "", [0, 0, 0, 0, 0, 0])
        states[state] = states.get(state, 0) + 1
        line[0] += state == "registered"
        line[1] += state == "waiting"
        reminders += sent or 0
        reminded += bool(sent)
        if checked_in is not None:
            attended += 1
            line[2] += 1
        elif ended and state == "registered":
            no_shows += 1
            line[3] += 1
        if rating is not None and 1 <= rating <= 5:
            ratings[rating - 1] += 1
            line[4] += 1
            line[5] += rating
        if comment:
            comments.append(Comment(rating, comment, university or ""))
    rated = sum(ratings)
    total = sum((i + 1) * n for i, n in enumerate(ratings))
    lines = [
        UniversityLine(
            uni, got[0], got[1], got[2], got[3], got[4], got[5] / got[4] if got[4] else None
        )
        for uni, got in sorted(by_university.items(), key=lambda kv: (-kv[1][0], -kv[1][2], kv[0]))
        if any(got[:3])  # only cancelled registrations: nothing to show
    ]
    return EventStats(
        id=event.id,
        code=event.code,
        kind=event.kind,
        state=event.state,
        title=dict(event.title or {}),
        starts_at=event.starts_at,
        timezone=event.timezone,
        capacity=event.capacity,
        host=host,
        ended=ended,
        registered=states["registered"],
        waiting=states["waiting"],
        cancelled=states["cancelled"],
        reminded=reminded,
        reminders_sent=reminders,
        attended=attended,
        no_shows=no_shows,
        feedback_n=rated,
        feedback_mean=total / rated if rated else None,
        ratings=(ratings[0], ratings[1], ratings[2], ratings[3], ratings[4]),
        comments=comments,
        universities=lines,
    )


# --- the registrant list --------------------------------------------------------------------


def _column(name: str, en: str, ru: str, kk: str, **kw: Any) -> Any:
    return c._v(name, en, ru, kk, **kw)


REGISTRANT_COLUMNS = [
    *c.IDENTITY,
    c.UNIVERSITY,
    c.LANGUAGE,
    _column("state", "Registration state", "Состояние регистрации", "Тіркелу күйі"),
    _column("registered_at", "Got a place (UTC)", "Получил место (UTC)", "Орын алды (UTC)"),
    _column(
        "waiting_since",
        "Joined the waiting list (UTC)",
        "Встал в лист ожидания (UTC)",
        "Күту тізіміне қосылды (UTC)",
    ),
    _column("cancelled_at", "Cancelled (UTC)", "Отменил (UTC)", "Бас тартты (UTC)"),
    _column(
        "reminders_sent", "Reminders sent", "Напоминаний отправлено", "Жіберілген еске салғыштар"
    ),
    _column("checked_in_at", "Checked in (UTC)", "Отметился (UTC)", "Белгіленді (UTC)"),
    _column("feedback_rating", "Rating (1-5)", "Оценка (1-5)", "Баға (1-5)"),
    _column("feedback_comment", "Comment", "Комментарий", "Пікір", free_text=True),
]
_STATE_ORDER = {"registered": 0, "waiting": 1, "cancelled": 2}


async def registrant_list(
    db: Sessionmaker, actor: int, admin_ids: frozenset[int], ref: int | str
) -> RegistrantList:
    """The registrant list of an event as CSV (names people), recorded in the export log.

    For the same viewers as the figures: the event's owner, the organizers of its university,
    consortium-wide organizers and admins. Registered first, then the waiting list in its
    order, then the cancelled.

    Raises:
        PermissionDenied, NotFound: as `event_stats`.
    """
    async with db() as session:
        user, event = await _event(session, actor, admin_ids, ref)
        sent = reminders_sent()
        found = (
            await session.execute(
                select(
                    User.telegram_id,
                    User.first_name,
                    User.username,
                    University.code,
                    User.language,
                    EventRegistration.state,
                    EventRegistration.registered_at,
                    EventRegistration.waiting_since,
                    EventRegistration.cancelled_at,
                    sent.c.sent,
                    EventRegistration.checked_in_at,
                    EventRegistration.feedback_rating,
                    EventRegistration.feedback_comment,
                )
                .select_from(EventRegistration)
                .join(User, User.id == EventRegistration.user_id)
                .outerjoin(University, University.id == User.university_id)
                .outerjoin(sent, sent.c.registration_id == EventRegistration.id)
                .where(EventRegistration.event_id == event.id)
                .order_by(EventRegistration.id)
            )
        ).all()
        code = event.code
        event_id = event.id
    rows = sorted(found, key=_list_order)
    data = [
        [
            telegram_id,
            first_name or "",
            username or "",
            university or "",
            language or "",
            state,
            c.utc_text(registered),
            c.utc_text(waiting),
            c.utc_text(cancelled),
            reminders or 0,
            c.utc_text(checked_in),
            rating,
            comment or "",
        ]
        for (
            telegram_id,
            first_name,
            username,
            university,
            language,
            state,
            registered,
            waiting,
            cancelled,
            reminders,
            checked_in,
            rating,
            comment,
        ) in rows
    ]
    content = await asyncio.to_thread(_csv, data)
    async with db.begin() as session:
        session.add(
            ExportLog(
                actor_id=user.id,
                actor_telegram_id=user.telegram_id,
                via="chat",
                dataset=REGISTRANTS,
                format="csv",
                filters={"event": event_id, "event_code": code},
                identified=True,
                rows=len(data),
            )
        )
    return RegistrantList(f"ortaq-registrants-{code}.csv", content, len(data))


def _list_order(row: Any) -> tuple[int, str]:
    """Registered, then waiting, then cancelled; each in the order they got there."""
    state, registered, waiting, cancelled = row[5:9]
    when = {"registered": registered, "waiting": waiting}.get(state, cancelled)
    return _STATE_ORDER.get(state, 3), c.utc_text(when) or ""


def _csv(data: list[list[Any]]) -> bytes:
    """The rows as the exports write CSV: UTF-8 with a BOM, typed text made inert."""

    def chunks() -> Chunks:
        yield [list(row) for row in data]

    table = Table(REGISTRANTS, {"en": REGISTRANTS}, REGISTRANT_COLUMNS, chunks)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "registrants.csv"
        writers.write_csv(table, out, lambda _rows: None)
        return out.read_bytes()


# --- the chart --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, in the viewer's language (the handler translates them)."""

    universities: str = "By university"
    registered: str = "registered"
    attended: str = "attended"
    ratings: str = "Feedback ratings"
    none: str = "no university"


MAX_ROWS = 30  # a guard: far inside Telegram's photo limits


def render_event_chart(
    stats: EventStats, language: str = "en", labels: ChartLabels | None = None
) -> bytes:
    """PNG bytes: registered and attended by university and, when rated, the ratings 1..5."""
    words = labels or ChartLabels()
    universities = stats.universities[:MAX_ROWS]
    panels: list[int] = []
    if universities:
        panels.append(len(universities))
    if stats.feedback_n:
        panels.append(5)
    rows = sum(panels) or 1
    height = max(2.6, 1.1 + 0.9 * max(len(panels), 1) + 0.4 * rows)
    title = next(
        (stats.title[k] for k in (language, "*", "en") if stats.title.get(k)),
        next(iter(stats.title.values()), stats.code),
    )
    fig, axes = panel_figure(title, panels, height)
    at = 0
    if universities:
        ax = axes[at, 0]
        at += 1
        paired_bars(
            ax,
            [u.registered for u in universities],
            [u.attended for u in universities],
            (words.registered, words.attended),
        )
        top = max(max(u.registered, u.attended) for u in universities)
        names = [u.university or words.none for u in universities]
        bar_panel(ax, names, max(1, math.ceil(top * 1.1)), words.universities, integer=True)
    if stats.feedback_n:
        ax = axes[at, 0]
        ax.barh(range(5), list(stats.ratings), height=0.6, color=CURRENT_COLOR, zorder=2)
        top = max(1, math.ceil(max(stats.ratings) * 1.1))
        bar_panel(ax, ["1", "2", "3", "4", "5"], top, words.ratings, integer=True)
    if not panels:
        axes[0, 0].set_axis_off()
    return png(fig)


async def render_event_chart_async(
    stats: EventStats, language: str = "en", labels: ChartLabels | None = None
) -> bytes:
    """`render_event_chart` in a chart worker process (`chart_pool`), off the loop and the GIL."""
    return await chart_pool.run(render_event_chart, stats, language, labels)
