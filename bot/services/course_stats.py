"""/course_stats for coaches and organizers: who enrolled, who is active, how far they got.

One read of a course (every version of its code): enrolled, active in the last 7 days,
finished, the completion funnel lesson by lesson (in the newest version's order), the accuracy
of every check question, the pre->post change per scale of the course's tests, and the same
counts by university. An organizer or coach held to universities sees their learners only,
as the exports hold them (`bot.services.exports.exporter_scope`); admins and consortium-wide
roles see everyone.

Pre and post are paired as the surveys engine pairs them (`surveys._previous`): per learner,
their latest submitted attempt of the course's pre-test and of its post-test (when both name
the same instrument, its "pre" and "post" waves), compared scale by scale on the scores stored
when each attempt was scored. The chart is drawn like `bot.services.charts`: matplotlib's
object API on Agg, fonts passed explicitly, DejaVu Sans for the Kazakh letters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.services import NotFound, chart_pool
from bot.services.charts import bar_panel, paired_bars, panel_figure, png
from bot.services.exports.course import lessons_of
from bot.services.roles import Role, require
from bot.services.surveys import compiled
from models import (
    Attempt,
    Campaign,
    CheckAnswer,
    Course,
    Enrolment,
    Instrument,
    LessonProgress,
    University,
    User,
    UserRole,
    utcnow,
)

ACTIVE_DAYS = 7
VIEWERS = (Role.ADMIN, Role.ORGANIZER, Role.COACH)
NO_COURSE = "course_stats.no_course"


@dataclass(frozen=True)
class LessonFunnel:
    """One lesson: how many learners it reached, how many opened and completed it."""

    position: int  # 1 = first, in the newest version's order
    code: str
    title: dict[str, str]
    delivered: int  # delivered, opened or completed: the lesson reached them
    opened: int  # opened or completed
    completed: int


@dataclass(frozen=True)
class CheckAccuracy:
    """One check question: how many answered it, how many right."""

    lesson: str
    question: str
    answered: int
    correct: int

    @property
    def percent(self) -> float:
        """Share of right answers, in percent (0 when nobody answered)."""
        return 100.0 * self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class ScaleChange:
    """One scale of the pre/post tests, over the learners who took both."""

    scale: str
    title: dict[str, str]
    pairs: int
    mean_pre: float
    mean_post: float

    @property
    def change(self) -> float:
        """Mean post minus mean pre."""
        return self.mean_post - self.mean_pre


@dataclass(frozen=True)
class UniversityLine:
    """The course at one university ("" for learners without one)."""

    university: str
    enrolled: int
    active: int
    finished: int
    answered: int
    correct: int


@dataclass(frozen=True)
class CourseStats:
    """Everything /course_stats shows about one course."""

    code: str
    title: dict[str, str]
    scope: tuple[str, ...] | None  # university codes the viewer is held to (None: all)
    enrolled: int
    active: int  # did something in the last ACTIVE_DAYS days
    finished: int
    funnel: list[LessonFunnel]
    checks: list[CheckAccuracy]
    pre_test: str | None
    post_test: str | None
    prepost: list[ScaleChange] = field(default_factory=list)
    universities: list[UniversityLine] = field(default_factory=list)


async def viewer_scope(
    session: AsyncSession, actor_id: int, admin_ids: frozenset[int]
) -> tuple[User, tuple[int, ...] | None]:
    """The viewer and the university ids they are held to (None: the whole consortium).

    Raises:
        PermissionDenied: not an admin, organizer or coach.
    """
    user, roles = await require(session, actor_id, admin_ids, *VIEWERS)
    if Role.ADMIN in roles:
        return user, None
    scopes = set(
        await session.scalars(
            select(UserRole.university_id).where(
                UserRole.user_id == user.id,
                UserRole.role.in_([Role.ORGANIZER.value, Role.COACH.value]),
            )
        )
    )
    if None in scopes:
        return user, None
    return user, tuple(sorted(s for s in scopes if s is not None))


def _in_scope(stmt: Any, scope: tuple[int, ...] | None) -> Any:
    """Narrow a statement joining User to the viewer's universities."""
    return stmt if scope is None else stmt.where(User.university_id.in_(scope))


async def course_stats(
    db: Sessionmaker,
    actor: int,
    admin_ids: frozenset[int],
    course_code: str,
    *,
    now: datetime | None = None,
) -> CourseStats:
    """The statistics of the course `course_code`, as the viewer `actor` (a Telegram id) may see.

    Raises:
        PermissionDenied: not an admin, organizer or coach.
        NotFound: `course_stats.no_course`, no course with that code.
    """
    now = now or utcnow()
    since = now - timedelta(days=ACTIVE_DAYS)
    async with db() as session:
        _, scope = await viewer_scope(session, actor, admin_ids)
        versions = (
            await session.scalars(
                select(Course).where(Course.code == course_code).order_by(Course.id)
            )
        ).all()
        if not versions:
            raise NotFound(NO_COURSE)
        newest = versions[-1]
        scope_codes = (
            None
            if scope is None
            else tuple(
                sorted(
                    await session.scalars(select(University.code).where(University.id.in_(scope)))
                )
            )
        )
        learners = _in_scope(
            select(
                Enrolment.id,
                Enrolment.user_id,
                Enrolment.finished_at,
                Enrolment.last_active_at,
                University.code,
            )
            .join(User, User.id == Enrolment.user_id)
            .outerjoin(University, University.id == User.university_id)
            .where(Enrolment.course_code == course_code),
            scope,
        )
        enrolments = (await session.execute(learners)).all()
        ids = select(learners.subquery().c.id)
        progress = (
            await session.execute(
                select(
                    LessonProgress.enrolment_id,
                    LessonProgress.lesson_code,
                    LessonProgress.position,
                    LessonProgress.delivered_at,
                    LessonProgress.opened_at,
                    LessonProgress.completed_at,
                ).where(LessonProgress.enrolment_id.in_(ids))
            )
        ).all()
        answers = (
            await session.execute(
                select(
                    CheckAnswer.enrolment_id,
                    CheckAnswer.lesson_code,
                    CheckAnswer.question_code,
                    CheckAnswer.correct,
                    CheckAnswer.answered_at,
                )
                .where(CheckAnswer.enrolment_id.in_(ids))
                .order_by(CheckAnswer.id)
            )
        ).all()
        users = [row[1] for row in enrolments]
        prepost = await _prepost(session, newest.pre_test, newest.post_test, users)

    active = {e[0] for e in enrolments if e[3] is not None and e[3] >= since}
    active.update(p[0] for p in progress if any(t is not None and t >= since for t in p[3:]))
    active.update(a[0] for a in answers if a[4] >= since)
    funnel = _funnel(newest.definition, progress)
    checks = _checks(funnel, answers)
    return CourseStats(
        code=course_code,
        title=dict(newest.title),
        scope=scope_codes,
        enrolled=len(enrolments),
        active=len(active),
        finished=sum(1 for e in enrolments if e[2] is not None),
        funnel=funnel,
        checks=checks,
        pre_test=newest.pre_test,
        post_test=newest.post_test,
        prepost=prepost,
        universities=_universities(enrolments, active, answers),
    )


def _funnel(definition: dict[str, Any], progress: Sequence[Any]) -> list[LessonFunnel]:
    """Learners per lesson: the newest version's lessons, then any only older ones had."""
    counts: dict[str, list[int]] = {}
    stored: dict[str, int] = {}
    for _, lesson, position, delivered, opened, completed in progress:
        got = counts.setdefault(lesson, [0, 0, 0])
        got[0] += any(t is not None for t in (delivered, opened, completed))
        got[1] += opened is not None or completed is not None
        got[2] += completed is not None
        stored.setdefault(lesson, position)
    lessons = [(code, title) for _, code, title in lessons_of(definition)]
    listed = {code for code, _ in lessons}
    lessons += [
        (code, {}) for code in sorted(stored, key=stored.__getitem__) if code not in listed
    ]
    return [
        LessonFunnel(i + 1, code, title, *counts.get(code, [0, 0, 0]))
        for i, (code, title) in enumerate(lessons)
    ]


def _checks(funnel: list[LessonFunnel], answers: Sequence[Any]) -> list[CheckAccuracy]:
    """Accuracy per check question, in lesson order."""
    counts: dict[tuple[str, str], list[int]] = {}
    for _, lesson, question, correct, _ in answers:
        got = counts.setdefault((lesson, question), [0, 0])
        got[0] += 1
        got[1] += bool(correct)
    order = {line.code: line.position for line in funnel}
    keys = sorted(counts, key=lambda k: (order.get(k[0], len(order) + 1), k))
    return [
        CheckAccuracy(lesson, question, *counts[(lesson, question)]) for lesson, question in keys
    ]


def _universities(
    enrolments: Sequence[Any], active: set[int], answers: Sequence[Any]
) -> list[UniversityLine]:
    """The counts per university, biggest first."""
    lines: dict[str, list[int]] = {}
    where = {e[0]: e[4] or "" for e in enrolments}
    for enrolment_id, _, finished, _, university in enrolments:
        got = lines.setdefault(university or "", [0, 0, 0, 0, 0])
        got[0] += 1
        got[1] += enrolment_id in active
        got[2] += finished is not None
    for enrolment_id, _, _, correct, _ in answers:
        got = lines[where[enrolment_id]]
        got[3] += 1
        got[4] += bool(correct)
    return [
        UniversityLine(uni, *lines[uni]) for uni in sorted(lines, key=lambda u: (-lines[u][0], u))
    ]


async def _latest_scores(
    session: AsyncSession, code: str, wave: str | None, users: list[int]
) -> dict[int, dict[str, float]]:
    """Per learner, the scale scores of their latest submitted attempt of instrument `code`."""
    stmt = (
        select(Attempt.user_id, Attempt.result)
        .join(Campaign, Campaign.id == Attempt.campaign_id)
        .where(
            Campaign.instrument_code == code,
            Attempt.state == "submitted",
            Attempt.user_id.in_(users),
        )
        .order_by(Attempt.submitted_at, Attempt.id)
    )
    if wave is not None:
        stmt = stmt.where(Campaign.wave == wave)
    found: dict[int, dict[str, float]] = {}
    for user_id, result in (await session.execute(stmt)).all():
        scales = (result or {}).get("scales") or {}
        values = {s: v["value"] for s, v in scales.items() if (v or {}).get("value") is not None}
        if values:
            found[user_id] = values  # ordered by time: the latest wins
    return found


async def _prepost(
    session: AsyncSession, pre: str | None, post: str | None, users: list[int]
) -> list[ScaleChange]:
    """The mean pre and post score of every scale, over the learners who took both."""
    if not pre or not post or not users:
        return []
    same = pre == post  # one instrument: its pre and post waves, as the surveys engine links
    before = await _latest_scores(session, pre, "pre" if same else None, users)
    after = await _latest_scores(session, post, "post" if same else None, users)
    instrument = await session.scalar(
        select(Instrument).where(Instrument.code == post).order_by(Instrument.id.desc()).limit(1)
    )
    scales = compiled(instrument).pack.scales if instrument is not None else []
    changes: list[ScaleChange] = []
    for scale in scales:
        pairs = [
            (before[u][scale.code], after[u][scale.code])
            for u in sorted(set(before) & set(after))
            if scale.code in before[u] and scale.code in after[u]
        ]
        if not pairs:
            continue
        changes.append(
            ScaleChange(
                scale.code,
                dict(scale.title),
                len(pairs),
                sum(p for p, _ in pairs) / len(pairs),
                sum(q for _, q in pairs) / len(pairs),
            )
        )
    return changes


# --- the chart --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, in the viewer's language (the handler translates them)."""

    funnel: str = "Completion funnel, % of enrolled"
    opened: str = "opened"
    completed: str = "completed"
    prepost: str = "Before and after the course (mean score)"
    pre: str = "pre"
    post: str = "post"


MAX_ROWS = 40  # a guard: far inside Telegram's photo limits


def render_course_chart(
    stats: CourseStats, language: str = "en", labels: ChartLabels | None = None
) -> bytes:
    """PNG bytes: the completion funnel by lesson and, when there are pairs, pre vs post."""
    words = labels or ChartLabels()
    funnel = stats.funnel[:MAX_ROWS]
    scales = stats.prepost[:MAX_ROWS]
    panels = [p for p in (funnel, scales) if p]
    rows = sum(len(p) for p in panels) or 1
    height = max(2.6, 1.1 + 0.9 * len(panels) + 0.42 * rows)
    title = stats.title.get(language) or stats.title.get("en") or stats.code
    fig, axes = panel_figure(title, [len(p) for p in panels], height)
    series: list[tuple[list[str], list[float], list[float], str, str, str, float]] = []
    if funnel:
        enrolled = stats.enrolled or 1
        series.append(
            (
                [f"{f.position}. {f.title.get(language) or f.code}" for f in funnel],
                [100.0 * f.opened / enrolled for f in funnel],
                [100.0 * f.completed / enrolled for f in funnel],
                words.funnel,
                words.opened,
                words.completed,
                100.0,
            )
        )
    if scales:
        top = max([s.mean_pre for s in scales] + [s.mean_post for s in scales])
        series.append(
            (
                [s.title.get(language) or s.scale for s in scales],
                [s.mean_pre for s in scales],
                [s.mean_post for s in scales],
                words.prepost,
                words.pre,
                words.post,
                max(1.0, math.ceil(top * 1.1)),
            )
        )
    for ax, (names, first, second, heading, first_label, second_label, limit) in zip(
        axes[:, 0], series, strict=False
    ):
        paired_bars(ax, first, second, (first_label, second_label))
        bar_panel(ax, names, limit, heading)
    if not series:
        axes[0, 0].set_axis_off()
    return png(fig)


async def render_course_chart_async(
    stats: CourseStats, language: str = "en", labels: ChartLabels | None = None
) -> bytes:
    """`render_course_chart` in a chart worker process (`chart_pool`), off the loop and the GIL."""
    return await chart_pool.run(render_course_chart, stats, language, labels)
