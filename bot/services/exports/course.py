"""The course's datasets: lesson progress (one row per learner and lesson) and check answers.

`course_progress` lists every lesson of the course version a learner is enrolled in, reached
or not, so a completion funnel can be read straight off it: a lesson never delivered has empty
times. `course_checks` has one row per answer to a lesson's check question (the first answer
counts, as the course stores it). Both are pseudonymous like every dataset: the participant is
the keyed hash of `common.pseudonym`, never a Telegram id, name or username (identified exports,
for admins only, add those three as the other datasets do).

Filters: university, country and the organizer's scope apply as everywhere; the period applies
to the enrolment's start (progress) or to the answer's time (checks). Campaign, wave and
instrument filters belong to survey attempts and are ignored here (the codebook says so).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.services.exports import common as c
from bot.services.exports.spec import Chunks, Labels, Table, Variable
from models import CheckAnswer, Course, Enrolment, LessonProgress, University, User

CHUNK = 5000
NOTE = (
    "Campaign, wave and instrument filters apply to survey attempts and are ignored here; the "
    "period filter applies to {what}."
)
STATUSES: dict[str, Labels] = {
    "not_reached": {"kk": "жетпеді", "ru": "не дошёл", "en": "not reached"},
    "delivered": {"kk": "жеткізілді", "ru": "доставлен", "en": "delivered"},
    "opened": {"kk": "ашылды", "ru": "открыт", "en": "opened"},
    "completed": {"kk": "аяқталды", "ru": "завершён", "en": "completed"},
}
CORRECT: dict[Any, Labels] = {
    0: {"kk": "қате", "ru": "неверно", "en": "wrong"},
    1: {"kk": "дұрыс", "ru": "верно", "en": "correct"},
}


def lessons_of(definition: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """The lessons of a stored course definition in course order: (module, lesson, title)."""
    found: list[tuple[str, str, dict[str, str]]] = []
    for module in definition.get("modules") or []:
        for lesson in module.get("lessons") or []:
            found.append((module.get("code", ""), lesson["code"], dict(lesson.get("title") or {})))
    return found


def course_filter(stmt: Select[Any], filters: c.Filters, when: Any) -> Select[Any]:
    """Narrow a statement joining User and University to the filters (period on `when`)."""
    return c.period_filter(c.place_filter(stmt, filters, University), filters, when)


def _enrolments(*columns: Any) -> Select[Any]:
    """SELECT `columns` FROM enrolment with its course version, user and university."""
    return (
        select(*columns)
        .select_from(Enrolment)
        .join(Course, Course.id == Enrolment.course_id)
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(University, University.id == User.university_id)
    )


COURSE = c._v("course", "Course code", "Код курса", "Курс коды")
COURSE_VERSION = c._v(
    "course_version",
    "Course version the learner is enrolled in",
    "Версия курса, на которую записан участник",
    "Қатысушы жазылған курс нұсқасы",
    kind="integer",
    measure="ordinal",
)
LESSON = c._v("lesson", "Lesson code", "Код урока", "Сабақ коды")
POSITION = c._v(
    "lesson_position",
    "Lesson's place in the course (1 = first)",
    "Место урока в курсе (1 = первый)",
    "Сабақтың курстағы орны (1 = бірінші)",
    kind="integer",
    measure="ordinal",
    derived="order of the lesson in the course version's modules; a lesson no longer in that "
    "version keeps its stored place",
)


def _time(name: str, en: str, ru: str, kk: str) -> Variable:
    return c._v(name, en, ru, kk, kind="datetime")


def progress_table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """One row per enrolled learner and lesson of their course version, reached or not."""
    language = opts.label_language
    variables = [
        *c.person_columns(opts.identified),
        COURSE,
        COURSE_VERSION,
        _time("enrolled_at", "Enrolled (UTC)", "Запись на курс (UTC)", "Курсқа жазылды (UTC)"),
        c._v(
            "pace",
            "Pace: self (Next button) or scheduled",
            "Темп: self (кнопка Далее) или scheduled (по расписанию)",
            "Қарқын: self (Келесі батырмасы) немесе scheduled (кесте бойынша)",
        ),
        c._v("module", "Module code", "Код модуля", "Модуль коды"),
        LESSON,
        POSITION,
        c._v(
            "lesson_title",
            f"Lesson title in {language}",
            f"Название урока ({language})",
            f"Сабақ атауы ({language})",
        ),
        c._v(
            "status",
            "How far the learner got in the lesson",
            "Докуда участник дошёл в уроке",
            "Қатысушы сабақта қай жерге жетті",
            values=dict(STATUSES),
            derived="completed if completed_at, else opened if opened_at, else delivered if "
            "delivered_at, else not_reached",
        ),
        _time("delivered_at", "Delivered (UTC)", "Доставлен (UTC)", "Жеткізілді (UTC)"),
        _time("opened_at", "Opened (UTC)", "Открыт (UTC)", "Ашылды (UTC)"),
        _time("completed_at", "Completed (UTC)", "Завершён (UTC)", "Аяқталды (UTC)"),
        _time(
            "course_finished_at",
            "Finished the whole course (UTC)",
            "Закончил весь курс (UTC)",
            "Бүкіл курсты аяқтады (UTC)",
        ),
    ]

    def rows() -> Chunks:
        stmt = _enrolments(
            *c.person_select(),
            Enrolment.id,
            Enrolment.course_code,
            Course.id,
            Course.version,
            Enrolment.created_at,
            Enrolment.pace,
            Enrolment.finished_at,
        )
        stmt = course_filter(stmt, filters, Enrolment.created_at).order_by(Enrolment.id)
        learners = session.execute(stmt).all()
        definitions: dict[int, list[tuple[str, str, dict[str, str]]]] = {}
        codes: dict[int, str] = {}
        chunk: list[list[Any]] = []
        for start in range(0, len(learners), 500):
            batch = learners[start : start + 500]
            progress: dict[int, dict[str, Any]] = {row[7]: {} for row in batch}
            for p in session.scalars(
                select(LessonProgress).where(LessonProgress.enrolment_id.in_(progress))
            ):
                progress[p.enrolment_id][p.lesson_code] = p
            for row in batch:
                person = c.person_values(opts, codes, *row[:7])
                enrolment_id, code, course_id, version, enrolled, pace, finished = row[7:]
                lessons = definitions.get(course_id)
                if lessons is None:
                    course = session.get_one(Course, course_id)
                    lessons = definitions[course_id] = lessons_of(course.definition)
                seen = progress[enrolment_id]
                listed = {lesson for _, lesson, _ in lessons}
                extra = [p for code_, p in seen.items() if code_ not in listed]
                entries = [
                    (module, lesson, c.label_of(title, language), i + 1, seen.get(lesson))
                    for i, (module, lesson, title) in enumerate(lessons)
                ] + [
                    ("", p.lesson_code, "", p.position + 1, p)
                    for p in sorted(extra, key=lambda p: p.position)
                ]
                head = [*person, code, version, c.utc_text(enrolled), pace]
                for module, lesson, title, position, p in entries:
                    times = [p.delivered_at, p.opened_at, p.completed_at] if p else [None] * 3
                    chunk.append(
                        [
                            *head,
                            module,
                            lesson,
                            position,
                            title,
                            _status(*times),
                            *(c.utc_text(t) for t in times),
                            c.utc_text(finished),
                        ]
                    )
                if len(chunk) >= CHUNK:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    return Table(
        "course_progress",
        {
            "kk": "Курс: қатысушы мен сабақ бойынша үлгерім",
            "ru": "Курс: прогресс по участникам и урокам",
            "en": "Course: progress by learner and lesson",
        },
        variables,
        rows,
        notes=[NOTE.format(what="the day the learner enrolled")],
    )


def _status(delivered: Any, opened: Any, completed: Any) -> str:
    """How far a learner got in a lesson, from its three times."""
    if completed is not None:
        return "completed"
    if opened is not None:
        return "opened"
    return "delivered" if delivered is not None else "not_reached"


def checks_table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """One row per answer to a lesson's check question."""
    variables = [
        *c.person_columns(opts.identified),
        COURSE,
        COURSE_VERSION,
        LESSON,
        POSITION,
        c._v("question", "Check question code", "Код вопроса", "Сұрақ коды"),
        c._v(
            "options",
            "Option codes chosen, separated by ';'",
            "Выбранные коды вариантов через ';'",
            "Таңдалған нұсқа кодтары, ';' арқылы",
        ),
        c._v(
            "correct",
            "Answer correct (1) or not (0)",
            "Ответ верный (1) или нет (0)",
            "Жауап дұрыс (1) немесе жоқ (0)",
            kind="integer",
            values=dict(CORRECT),
        ),
        _time("answered_at", "Answered (UTC)", "Время ответа (UTC)", "Жауап уақыты (UTC)"),
    ]

    def rows() -> Chunks:
        stmt = _enrolments(
            *c.person_select(),
            Enrolment.course_code,
            Course.id,
            Course.version,
            CheckAnswer.lesson_code,
            CheckAnswer.question_code,
            CheckAnswer.options,
            CheckAnswer.correct,
            CheckAnswer.answered_at,
        ).join(CheckAnswer, CheckAnswer.enrolment_id == Enrolment.id)
        stmt = course_filter(stmt, filters, CheckAnswer.answered_at).order_by(CheckAnswer.id)
        positions: dict[int, dict[str, int]] = {}
        codes: dict[int, str] = {}
        chunk: list[list[Any]] = []
        for row in session.execute(stmt.execution_options(yield_per=CHUNK)):
            person = c.person_values(opts, codes, *row[:7])
            code, course_id, version, lesson, question, chosen, correct, answered = row[7:]
            places = positions.get(course_id)
            if places is None:
                course = session.get_one(Course, course_id)
                places = positions[course_id] = {
                    lesson_code: i + 1
                    for i, (_, lesson_code, _) in enumerate(lessons_of(course.definition))
                }
            chunk.append(
                [
                    *person,
                    code,
                    version,
                    lesson,
                    places.get(lesson),
                    question,
                    ";".join(str(o) for o in chosen or []),
                    1 if correct else 0,
                    c.utc_text(answered),
                ]
            )
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    return Table(
        "course_checks",
        {
            "kk": "Курс: тексеру сұрақтарының жауаптары",
            "ru": "Курс: ответы на проверочные вопросы",
            "en": "Course: answers to the check questions",
        },
        variables,
        rows,
        notes=[NOTE.format(what="the time of the answer")],
    )
