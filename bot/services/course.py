"""The online course as a learner takes it: courses, enrolment, lessons step by step, checks.

A course version is read from its stored definition (`Course.definition`, the validated pack as
data) into `CourseInfo`: its lessons flattened in course order (module, lesson, steps, check).
An enrolment points at the version the learner enrolled in, so their progress always refers to
the lessons they were shown.

The learner's way through a lesson, every step a button press, each a transaction:

- `open_lesson` shows step 0 of any lesson up to the next unlocked one (`lesson_index`);
  reopening an earlier lesson is allowed and starts it again from its first step;
- `next_step` shows the step its button names, and only that one: the stored `step` is the
  next step to show, so a Next button from an older message (a stale step) is refused;
- past the last step comes the lesson's check, if it has one (`check_answer`: the first
  answer counts, a second is refused), then the lesson is complete: completing the lesson at
  `lesson_index` unlocks the next one. After the last lesson the post-test is offered; once it
  is submitted (or when there is none) the course is finished.

Pacing (scheduled lessons at the learner's hour), the lesson duty and the nudges are in
`bot.services.course_pacing`; certificates in `bot.services.certificates`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound
from models import (
    Attempt,
    CheckAnswer,
    Course,
    Enrolment,
    Instrument,
    LessonProgress,
    User,
    utcnow,
)

MESSAGE_MAX = 4096  # Telegram's limit for one text message
BAR_WIDTH = 10
SUBMITTED = "submitted"  # an attempt's state once submitted (bot.services.surveys)

Texts = Mapping[str, str]  # language -> text


class Pace(StrEnum):
    """How lessons come: when the learner asks (Next), or one a day at their hour."""

    SELF = "self"
    SCHEDULED = "scheduled"


class StepKind(StrEnum):
    """The kinds of lesson steps a pack may have."""

    TEXT = "text"
    PHOTO = "photo"
    DOCUMENT = "document"
    VIDEO = "video"
    LINK = "link"


class CheckKind(StrEnum):
    """A check question takes one option or several."""

    SINGLE = "single"
    MULTIPLE = "multiple"


class OfferKind(StrEnum):
    """What the learner is offered next."""

    PRE_TEST = "pre_test"  # the course's pre-test, not yet submitted
    LESSON = "lesson"  # the lesson at `lesson`
    POST_TEST = "post_test"  # every lesson done, the post-test not yet submitted
    FINISHED = "finished"  # the course is finished (a certificate can be issued)


def pick(texts: Texts | None, language: str, default: str = "en") -> str:
    """The text in `language`, else in `default`, else English, else any."""
    if not texts:
        return ""
    for lang in (language, default, "en"):
        if texts.get(lang):
            return texts[lang]
    return next(iter(texts.values()), "")


# --- splitting long texts -----------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _pack(pieces: list[str], limit: int, joiner: str) -> list[str]:
    """Join consecutive pieces with `joiner` while they fit in `limit` (pieces already fit)."""
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{joiner}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _fit(piece: str, limit: int, level: int) -> list[str]:
    """Split one piece into parts of at most `limit`: sentences, then words, then characters."""
    if len(piece) <= limit:
        return [piece]
    if level == 0:
        parts, joiner = _SENTENCE_END.split(piece), " "
    elif level == 1:
        parts, joiner = piece.split(), " "
    else:
        return [piece[i : i + limit] for i in range(0, len(piece), limit)]
    if len(parts) <= 1:
        return _fit(piece, limit, level + 1)
    fitted = [part for p in parts for part in _fit(p, limit, level + 1)]
    return _pack(fitted, limit, joiner)


def split_text(text: str, limit: int = MESSAGE_MAX) -> list[str]:
    """`text` as messages of at most `limit` characters, split at paragraph boundaries.

    Paragraphs (separated by blank lines) are kept whole and joined while they fit; a paragraph
    longer than `limit` is split at sentence ends, then between words, then anywhere.
    """
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    fitted = [part for p in paragraphs for part in _fit(p, limit, 0)]
    return _pack(fitted, limit, "\n\n")


# --- a course version as data ---------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of a lesson: a text, a media file or URL with its caption, or a link."""

    kind: StepKind
    text: Texts  # the body (text), the caption (media, may be empty) or the link's text
    file: Path | None = None  # a media file, resolved in the pack's folder
    url: str | None = None
    path: str | None = None  # the media file as the pack names it (relative to its folder)

    def parts(self, language: str, default: str = "en") -> list[str]:
        """The messages a text step is sent as (one per <= 4096 characters); else its text."""
        text = pick(self.text, language, default)
        return split_text(text) if self.kind is StepKind.TEXT else [text] if text else []


@dataclass(frozen=True)
class Option:
    """An option of a check question."""

    code: str
    text: Texts
    correct: bool


@dataclass(frozen=True)
class Check:
    """A lesson's check question."""

    code: str
    kind: CheckKind
    question: Texts
    options: tuple[Option, ...]
    explanation: Texts

    @property
    def correct_codes(self) -> frozenset[str]:
        """The codes of the correct options."""
        return frozenset(o.code for o in self.options if o.correct)


@dataclass(frozen=True)
class Lesson:
    """A lesson in course order, with its module."""

    position: int  # 0-based over the whole course
    code: str
    title: Texts
    module_code: str
    module_title: Texts
    steps: tuple[Step, ...]
    check: Check | None


@dataclass(frozen=True)
class CourseInfo:
    """One version of a course, read from its stored definition."""

    id: int
    code: str
    version: int
    title: Texts
    description: Texts | None
    pre_test: str | None
    post_test: str | None
    lessons: tuple[Lesson, ...]


def _texts(value: Any) -> dict[str, str]:
    """A {language: text} mapping from stored data (missing: empty)."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str) and v}


def _step(data: Mapping[str, Any], folder: Path | None) -> Step:
    """One step from stored data; a `file:` resolves in the pack's folder."""
    kind = StepKind(data["type"])
    if kind is StepKind.TEXT:
        return Step(kind, _texts(data.get("text")))
    if kind is StepKind.LINK:
        return Step(kind, _texts(data.get("text")), url=data.get("url"))
    file = data.get("file")
    return Step(
        kind,
        _texts(data.get("caption")),
        file=(folder / file if folder is not None else Path(file)) if file else None,
        url=data.get("url"),
        path=str(file) if file else None,
    )


def _check(data: Mapping[str, Any] | None) -> Check | None:
    """A check question from stored data."""
    if not data:
        return None
    return Check(
        code=data["code"],
        kind=CheckKind(data.get("kind", "single")),
        question=_texts(data.get("question")),
        options=tuple(
            Option(o["code"], _texts(o.get("text")), bool(o.get("correct")))
            for o in data.get("options", [])
        ),
        explanation=_texts(data.get("explanation")),
    )


def pack_folder(source: str) -> Path | None:
    """The folder media files resolve in: the pack file's folder (None for a chat upload)."""
    if not source or "/" not in source.replace("\\", "/"):
        return None
    return Path(source).parent


def lessons_of(definition: Mapping[str, Any], folder: Path | None = None) -> tuple[Lesson, ...]:
    """The lessons of a course definition, flattened in course order."""
    lessons: list[Lesson] = []
    for module in definition.get("modules", []):
        for lesson in module.get("lessons", []):
            lessons.append(
                Lesson(
                    position=len(lessons),
                    code=lesson["code"],
                    title=_texts(lesson.get("title")),
                    module_code=module["code"],
                    module_title=_texts(module.get("title")),
                    steps=tuple(_step(s, folder) for s in lesson.get("steps", [])),
                    check=_check(lesson.get("check")),
                )
            )
    return tuple(lessons)


def course_info(course: Course) -> CourseInfo:
    """The course version as domain data."""
    definition = course.definition
    return CourseInfo(
        id=course.id,
        code=course.code,
        version=course.version,
        title=dict(course.title),
        description=_texts(definition.get("description")) or None,
        pre_test=course.pre_test,
        post_test=course.post_test,
        lessons=lessons_of(definition, pack_folder(course.source)),
    )


@dataclass(frozen=True)
class CourseSummary:
    """A course on offer: its latest version."""

    id: int
    code: str
    version: int
    title: Texts
    lessons: int


async def latest_course(session: AsyncSession, code: str) -> Course | None:
    """The latest version of the course `code`."""
    return await session.scalar(
        select(Course).where(Course.code == code).order_by(Course.version.desc()).limit(1)
    )


async def list_courses(db: Sessionmaker) -> list[CourseSummary]:
    """The courses on offer, the latest version of each code, by code."""
    async with db() as session:
        latest = (
            select(Course.code, func.max(Course.version).label("version"))
            .group_by(Course.code)
            .subquery()
        )
        courses = (
            await session.scalars(
                select(Course)
                .join(
                    latest, (Course.code == latest.c.code) & (Course.version == latest.c.version)
                )
                .order_by(Course.code)
            )
        ).all()
        return [
            CourseSummary(c.id, c.code, c.version, dict(c.title), len(lessons_of(c.definition)))
            for c in courses
        ]


async def get_course(db: Sessionmaker, course_id: int) -> CourseInfo:
    """One course version by id.

    Raises:
        NotFound: `course.not_found`.
    """
    async with db() as session:
        course = await session.get(Course, course_id)
        if course is None:
            raise NotFound("course.not_found")
        return course_info(course)


# --- enrolment and where the learner is ---------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """What to offer the learner next: a test (by instrument code), a lesson, or nothing."""

    kind: OfferKind
    instrument: str | None = None
    lesson: int | None = None


@dataclass(frozen=True)
class EnrolmentView:
    """An enrolment as the learner's screens need it."""

    id: int
    course_id: int
    course_code: str
    title: Texts
    pace: Pace
    hour: int
    minute: int
    weekdays: int
    timezone: str | None
    lesson_index: int
    lessons: int
    next_due_at: datetime | None
    paused: bool
    nudges: bool
    finished_at: datetime | None


@dataclass(frozen=True)
class Enrolled:
    """The result of enrolling: the enrolment, whether it is new, and what to offer."""

    enrolment: EnrolmentView
    created: bool
    offer: Offer


async def learner(session: AsyncSession, telegram_id: int) -> User:
    """The onboarded user behind `telegram_id`.

    Raises:
        NotFound: `errors.user_not_found` (unknown), `course.not_onboarded`.
    """
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise NotFound("errors.user_not_found")
    if user.onboarded_at is None:
        raise NotFound("course.not_onboarded")
    return user


async def own_enrolment(
    session: AsyncSession, telegram_id: int, enrolment_id: int, *, lock: bool = False
) -> tuple[User, Enrolment, Course]:
    """The learner's enrolment `enrolment_id` and its course (ids from buttons are re-checked).

    Raises:
        NotFound: `course.not_enrolled` for someone else's or a missing enrolment.
    """
    user = await learner(session, telegram_id)
    stmt = select(Enrolment).where(Enrolment.id == enrolment_id, Enrolment.user_id == user.id)
    enrolment = await session.scalar(stmt.with_for_update() if lock else stmt)
    if enrolment is None:
        raise NotFound("course.not_enrolled")
    course = await session.get(Course, enrolment.course_id)
    assert course is not None  # RESTRICT keeps the version while enrolments point at it
    return user, enrolment, course


def enrolment_view(enrolment: Enrolment, course: Course, lessons: int) -> EnrolmentView:
    """The enrolment as domain data."""
    return EnrolmentView(
        id=enrolment.id,
        course_id=course.id,
        course_code=course.code,
        title=dict(course.title),
        pace=Pace(enrolment.pace),
        hour=enrolment.hour,
        minute=enrolment.minute,
        weekdays=enrolment.weekdays,
        timezone=enrolment.timezone,
        lesson_index=enrolment.lesson_index,
        lessons=lessons,
        next_due_at=enrolment.next_due_at,
        paused=enrolment.paused_at is not None,
        nudges=enrolment.nudges,
        finished_at=enrolment.finished_at,
    )


async def submitted(session: AsyncSession, user_id: int, instrument_code: str) -> bool:
    """True when the user has submitted an attempt of any version of the instrument."""
    found = await session.scalar(
        select(Attempt.id)
        .join(Instrument, Instrument.id == Attempt.instrument_id)
        .where(
            Attempt.user_id == user_id,
            Instrument.code == instrument_code,
            Attempt.state == SUBMITTED,
        )
        .limit(1)
    )
    return found is not None


async def settle_offer(
    session: AsyncSession, enrolment: Enrolment, course: Course, now: datetime
) -> Offer:
    """What comes next for the enrolment; marks it finished when everything is done.

    The pre-test is offered before the first lesson is opened; after the last lesson, the
    post-test, and once it is submitted (or if there is none) the course is finished: the
    enrolment gets `finished_at` and nothing more is scheduled.
    """
    if enrolment.finished_at is not None:
        return Offer(OfferKind.FINISHED)
    total = len(lessons_of(course.definition))
    if enrolment.lesson_index >= total:
        if course.post_test and not await submitted(session, enrolment.user_id, course.post_test):
            enrolment.next_due_at = None
            return Offer(OfferKind.POST_TEST, instrument=course.post_test)
        enrolment.finished_at = now
        enrolment.next_due_at = None
        return Offer(OfferKind.FINISHED)
    if enrolment.lesson_index == 0 and course.pre_test:
        started = await session.scalar(
            select(LessonProgress.id).where(
                LessonProgress.enrolment_id == enrolment.id, LessonProgress.opened_at.is_not(None)
            )
        )
        if started is None and not await submitted(session, enrolment.user_id, course.pre_test):
            return Offer(OfferKind.PRE_TEST, instrument=course.pre_test)
    return Offer(OfferKind.LESSON, lesson=enrolment.lesson_index)


async def enrol(db: Sessionmaker, telegram_id: int, course_code: str) -> Enrolled:
    """Enrol the learner in the latest version of `course_code`; enrolling twice is harmless.

    Open to every onboarded user, of every university. Enrolling again returns the same
    enrolment with `created=False`.

    Raises:
        NotFound: `course.not_found`, `course.not_onboarded`, `errors.user_not_found`.
    """
    now = utcnow()
    async with db.begin() as session:
        user = await learner(session, telegram_id)
        enrolment = await session.scalar(
            select(Enrolment).where(
                Enrolment.user_id == user.id, Enrolment.course_code == course_code
            )
        )
        created = enrolment is None
        if enrolment is None:
            course = await latest_course(session, course_code)
            if course is None:
                raise NotFound("course.not_found")
            enrolment = Enrolment(
                user_id=user.id,
                course_code=course.code,
                course_id=course.id,
                pace=Pace.SELF.value,
                hour=9,
                minute=0,
                weekdays=0b0011111,
                lesson_index=0,
                nudges=True,
                last_active_at=now,
            )
            session.add(enrolment)
            await session.flush()
        else:
            course = await session.get(Course, enrolment.course_id)
            assert course is not None
        offer = await settle_offer(session, enrolment, course, now)
        view = enrolment_view(enrolment, course, len(lessons_of(course.definition)))
        return Enrolled(view, created, offer)


async def my_enrolments(db: Sessionmaker, telegram_id: int) -> list[EnrolmentView]:
    """The learner's enrolments, oldest first."""
    async with db() as session:
        user = await learner(session, telegram_id)
        rows = (
            await session.execute(
                select(Enrolment, Course)
                .join(Course, Course.id == Enrolment.course_id)
                .where(Enrolment.user_id == user.id)
                .order_by(Enrolment.id)
            )
        ).all()
        return [enrolment_view(e, c, len(lessons_of(c.definition))) for e, c in rows]


async def offer_next(db: Sessionmaker, telegram_id: int, enrolment_id: int) -> Offer:
    """What to offer now (after a test was submitted, say); finishes the course when done."""
    async with db.begin() as session:
        _user, enrolment, course = await own_enrolment(session, telegram_id, enrolment_id)
        return await settle_offer(session, enrolment, course, utcnow())


# --- lessons, step by step -------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """A check answered: right or wrong, what was chosen, and the explanation."""

    lesson: int
    question_code: str
    chosen: tuple[str, ...]
    correct: bool
    correct_options: tuple[str, ...]
    explanation: Texts


@dataclass(frozen=True)
class LessonScreen:
    """What to show in a lesson now.

    - `step` set: show that step (`step_index`); the Next button asks for `step_index + 1`;
    - `check` set: ask the lesson's check question (every step was shown);
    - `completed`: the lesson is done; `offer` says what comes next.
    `answered` carries the first answer when the check was answered before (a reopened lesson).
    """

    enrolment_id: int
    lesson: Lesson
    lessons: int
    step_index: int
    step: Step | None = None
    check: Check | None = None
    completed: bool = False
    answered: CheckResult | None = None
    offer: Offer | None = None
    course_code: str = ""  # set with a step: its media are kept per course (`course_media`)

    @property
    def last_step(self) -> bool:
        """True when the step shown is the lesson's last one."""
        return self.step is not None and self.step_index == len(self.lesson.steps) - 1


async def _progress(session: AsyncSession, enrolment: Enrolment, lesson: Lesson) -> LessonProgress:
    """The progress row of the lesson, created on first need."""
    progress = await session.scalar(
        select(LessonProgress).where(
            LessonProgress.enrolment_id == enrolment.id, LessonProgress.lesson_code == lesson.code
        )
    )
    if progress is None:
        progress = LessonProgress(
            enrolment_id=enrolment.id, lesson_code=lesson.code, position=lesson.position, step=0
        )
        session.add(progress)
    return progress


async def _answer_of(
    session: AsyncSession, enrolment: Enrolment, lesson: Lesson
) -> CheckResult | None:
    """The first answer to the lesson's check, if any."""
    if lesson.check is None:
        return None
    answer = await session.scalar(
        select(CheckAnswer).where(
            CheckAnswer.enrolment_id == enrolment.id, CheckAnswer.lesson_code == lesson.code
        )
    )
    return None if answer is None else _result(lesson, lesson.check, answer)


def _result(lesson: Lesson, check: Check, answer: CheckAnswer) -> CheckResult:
    """A stored answer as a result."""
    return CheckResult(
        lesson=lesson.position,
        question_code=answer.question_code,
        chosen=tuple(answer.options),
        correct=answer.correct,
        correct_options=tuple(o.code for o in check.options if o.correct),
        explanation=dict(check.explanation),
    )


def _lesson(course: Course, position: int) -> tuple[Lesson, int]:
    """The lesson at `position` and the number of lessons.

    Raises:
        NotFound: `course.no_such_lesson`.
    """
    lessons = lessons_of(course.definition, pack_folder(course.source))
    if not 0 <= position < len(lessons):
        raise NotFound("course.no_such_lesson")
    return lessons[position], len(lessons)


async def _complete(
    session: AsyncSession,
    enrolment: Enrolment,
    course: Course,
    lesson: Lesson,
    progress: LessonProgress,
    now: datetime,
) -> Offer:
    """Mark the lesson complete; completing the current one unlocks the next."""
    if progress.completed_at is None:
        progress.completed_at = now
    if lesson.position == enrolment.lesson_index:
        enrolment.lesson_index += 1
    return await settle_offer(session, enrolment, course, now)


async def open_lesson(
    db: Sessionmaker, telegram_id: int, enrolment_id: int, position: int
) -> LessonScreen:
    """Open a lesson at its first step: any lesson up to the next unlocked one.

    Raises:
        NotFound: `course.not_enrolled`, `course.no_such_lesson`.
        InvalidInput: `course.locked` (a lesson after the next unlocked one).
    """
    now = utcnow()
    async with db.begin() as session:
        _user, enrolment, course = await own_enrolment(
            session, telegram_id, enrolment_id, lock=True
        )
        lesson, total = _lesson(course, position)
        if position > enrolment.lesson_index:
            raise InvalidInput("course.locked")
        progress = await _progress(session, enrolment, lesson)
        progress.step = 1
        if progress.opened_at is None:
            progress.opened_at = now
        enrolment.last_active_at = now
        answered = await _answer_of(session, enrolment, lesson)
        return LessonScreen(
            enrolment.id,
            lesson,
            total,
            0,
            step=lesson.steps[0],
            answered=answered,
            course_code=course.code,
        )


async def next_step(
    db: Sessionmaker, telegram_id: int, enrolment_id: int, position: int, step: int
) -> LessonScreen:
    """Show step `step` of an open lesson; past the last step, its check or its completion.

    Raises:
        NotFound: `course.not_enrolled`, `course.no_such_lesson`.
        InvalidInput: `course.stale_step` (a button from an older message: not the next step).
    """
    now = utcnow()
    async with db.begin() as session:
        _user, enrolment, course = await own_enrolment(
            session, telegram_id, enrolment_id, lock=True
        )
        lesson, total = _lesson(course, position)
        progress = await session.scalar(
            select(LessonProgress).where(
                LessonProgress.enrolment_id == enrolment.id,
                LessonProgress.lesson_code == lesson.code,
            )
        )
        if progress is None or progress.opened_at is None or step != progress.step:
            raise InvalidInput("course.stale_step")
        enrolment.last_active_at = now
        answered = await _answer_of(session, enrolment, lesson)
        if step < len(lesson.steps):
            progress.step = step + 1
            return LessonScreen(
                enrolment.id,
                lesson,
                total,
                step,
                step=lesson.steps[step],
                answered=answered,
                course_code=course.code,
            )
        if lesson.check is not None and answered is None:
            return LessonScreen(enrolment.id, lesson, total, step, check=lesson.check)
        progress.step = step + 1  # the Next that completed the lesson is now stale too
        offer = await _complete(session, enrolment, course, lesson, progress, now)
        return LessonScreen(
            enrolment.id, lesson, total, step, completed=True, answered=answered, offer=offer
        )


async def check_answer(
    db: Sessionmaker,
    telegram_id: int,
    enrolment_id: int,
    position: int,
    options: tuple[str, ...] | list[str],
) -> LessonScreen:
    """Answer the lesson's check: the first answer counts and completes the lesson.

    The check is answered once every step was shown. `options`: the codes chosen (one for a
    single-choice question, one or more for a multiple-choice one).

    Raises:
        NotFound: `course.not_enrolled`, `course.no_such_lesson`, `course.no_check`.
        InvalidInput: `course.already_answered`, `course.check_not_yet`, `course.bad_option`,
            `course.choose_one`, `course.choose_some`.
    """
    now = utcnow()
    async with db.begin() as session:
        _user, enrolment, course = await own_enrolment(
            session, telegram_id, enrolment_id, lock=True
        )
        lesson, total = _lesson(course, position)
        check = lesson.check
        if check is None:
            raise NotFound("course.no_check")
        if await _answer_of(session, enrolment, lesson) is not None:
            raise InvalidInput("course.already_answered")
        progress = await session.scalar(
            select(LessonProgress).where(
                LessonProgress.enrolment_id == enrolment.id,
                LessonProgress.lesson_code == lesson.code,
            )
        )
        if progress is None or progress.step < len(lesson.steps):
            raise InvalidInput("course.check_not_yet")
        chosen = tuple(dict.fromkeys(options))
        known = {o.code for o in check.options}
        if not chosen or any(code not in known for code in chosen):
            raise InvalidInput("course.bad_option" if chosen else "course.choose_some")
        if check.kind is CheckKind.SINGLE and len(chosen) != 1:
            raise InvalidInput("course.choose_one")
        answer = CheckAnswer(
            enrolment_id=enrolment.id,
            lesson_code=lesson.code,
            question_code=check.code,
            options=sorted(chosen),
            correct=frozenset(chosen) == check.correct_codes,
            answered_at=now,
        )
        session.add(answer)
        enrolment.last_active_at = now
        progress.step = len(lesson.steps) + 1
        offer = await _complete(session, enrolment, course, lesson, progress, now)
        return LessonScreen(
            enrolment.id,
            lesson,
            total,
            len(lesson.steps),
            completed=True,
            answered=_result(lesson, check, answer),
            offer=offer,
        )


# --- progress for /course -------------------------------------------------------------------


@dataclass(frozen=True)
class LessonLine:
    """A lesson in the progress list."""

    position: int
    title: Texts
    completed: bool
    unlocked: bool


@dataclass(frozen=True)
class ProgressView:
    """Where the learner is in a course (/course)."""

    enrolment: EnrolmentView
    done: int
    total: int
    bar: str
    checks_right: int
    checks_answered: int
    current: Lesson | None  # the next lesson to take (None: all done)
    lessons: tuple[LessonLine, ...]
    offer: Offer


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """A text progress bar: ▰ for done, ▱ for the rest."""
    filled = round(width * done / total) if total else 0
    if done and not filled:
        filled = 1
    if done < total and filled == width:
        filled = width - 1
    return "▰" * filled + "▱" * (width - filled)


async def progress_view(db: Sessionmaker, telegram_id: int, enrolment_id: int) -> ProgressView:
    """The learner's progress in one course: lessons done, a bar, checks right, the current one.

    Raises:
        NotFound: `course.not_enrolled`.
    """
    async with db.begin() as session:
        _user, enrolment, course = await own_enrolment(session, telegram_id, enrolment_id)
        lessons = lessons_of(course.definition, pack_folder(course.source))
        completed = set(
            (
                await session.scalars(
                    select(LessonProgress.lesson_code).where(
                        LessonProgress.enrolment_id == enrolment.id,
                        LessonProgress.completed_at.is_not(None),
                    )
                )
            ).all()
        )
        answers = (
            await session.scalars(
                select(CheckAnswer.correct).where(CheckAnswer.enrolment_id == enrolment.id)
            )
        ).all()
        offer = await settle_offer(session, enrolment, course, utcnow())
        done = sum(1 for lesson in lessons if lesson.code in completed)
        current = (
            lessons[enrolment.lesson_index] if enrolment.lesson_index < len(lessons) else None
        )
        return ProgressView(
            enrolment=enrolment_view(enrolment, course, len(lessons)),
            done=done,
            total=len(lessons),
            bar=progress_bar(done, len(lessons)),
            checks_right=sum(1 for a in answers if a),
            checks_answered=len(answers),
            current=current,
            lessons=tuple(
                LessonLine(
                    lesson.position,
                    lesson.title,
                    lesson.code in completed,
                    lesson.position <= enrolment.lesson_index,
                )
                for lesson in lessons
            ),
            offer=offer,
        )
