"""The events' datasets: one row per event (`events`) and one per person and event (`attendance`).

`events` describes each published or cancelled event (drafts are not events yet): what, when,
hosted by which university, for which audience, how many places and reminders, and its
figures (registered, waiting, reminded, attended, no-shows, feedback). It names no person.
`attendance` has one row per registration (registered, on the waiting list, or cancelled): the
participant, the event, when they registered or joined the waiting list, how many reminders
they were sent, whether they checked in, and their feedback. Both are pseudonymous like every
dataset: the participant is the keyed hash of `common.pseudonym`, never a Telegram id, name or
username (identified exports, for admins only, add those three as the other datasets do).

Filters: in `events`, university, country and the organizer's scope apply to the hosting
university; in `attendance`, to the participant's university (as for the course's datasets).
The period applies to the event's start in both. Campaign, wave and instrument filters belong
to survey attempts and are ignored here (the codebook says so).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from bot.services.exports import common as c
from bot.services.exports.spec import Chunks, Labels, Table, Variable
from models import Event, EventRegistration, EventReminder, University, User

CHUNK = 5000
NOTE = (
    "Campaign, wave and instrument filters apply to survey attempts and are ignored here; the "
    "university and country filters apply to {who}; the period filter applies to the day the "
    "event starts."
)
KINDS: dict[Any, Labels] = {
    "webinar": {"kk": "вебинар", "ru": "вебинар", "en": "webinar"},
    "coaching": {"kk": "коучинг сессиясы", "ru": "коучинг-сессия", "en": "coaching session"},
    "seminar": {"kk": "семинар", "ru": "семинар", "en": "seminar"},
    "conference": {"kk": "конференция", "ru": "конференция", "en": "conference"},
    "presentation": {
        "kk": "онлайн таныстырылым",
        "ru": "онлайн-презентация",
        "en": "presentation",
    },
    "consilium": {
        "kk": "педагогикалық кеңес",
        "ru": "педагогический консилиум",
        "en": "consilium",
    },
}
EVENT_STATES: dict[Any, Labels] = {
    "published": {"kk": "жарияланды", "ru": "опубликовано", "en": "published"},
    "cancelled": {"kk": "болдырылмады", "ru": "отменено", "en": "cancelled"},
}
REGISTRATION_STATES: dict[Any, Labels] = {
    "registered": {"kk": "тіркелді", "ru": "зарегистрирован", "en": "registered"},
    "waiting": {"kk": "күту тізімінде", "ru": "в листе ожидания", "en": "on the waiting list"},
    "cancelled": {"kk": "бас тартты", "ru": "отказался", "en": "cancelled"},
}
YES_NO: dict[Any, Labels] = {
    0: {"kk": "жоқ", "ru": "нет", "en": "no"},
    1: {"kk": "иә", "ru": "да", "en": "yes"},
}
RATINGS: dict[Any, Labels] = {
    1: {"kk": "1 — өте нашар", "ru": "1 — очень плохо", "en": "1 — very poor"},
    2: {"kk": "2", "ru": "2", "en": "2"},
    3: {"kk": "3", "ru": "3", "en": "3"},
    4: {"kk": "4", "ru": "4", "en": "4"},
    5: {"kk": "5 — өте жақсы", "ru": "5 — отлично", "en": "5 — excellent"},
}

EVENT = c._v("event", "Event id", "Номер события", "Іс-шара нөмірі", kind="integer")
EVENT_CODE = c._v(
    "event_code",
    "Event code (the deep link ?start=e-<code>)",
    "Код события (ссылка ?start=e-<код>)",
    "Іс-шара коды (?start=e-<код> сілтемесі)",
)
KIND = c._v(
    "kind",
    "Kind of event",
    "Вид события",
    "Іс-шара түрі",
    values=dict(KINDS),
)
HOST = c._v(
    "host_university",
    "Hosting university code",
    "Код принимающего университета",
    "Өткізуші университет коды",
)
HOST_COUNTRY = c._v(
    "host_country",
    "Hosting university's country (ISO 3166-1 alpha-2)",
    "Страна принимающего университета (ISO 3166-1)",
    "Өткізуші университеттің елі (ISO 3166-1)",
)


def _time(name: str, en: str, ru: str, kk: str) -> Variable:
    return c._v(name, en, ru, kk, kind="datetime")


def _count(name: str, en: str, ru: str, kk: str, derived: str | None = None) -> Variable:
    return c._v(name, en, ru, kk, kind="integer", measure="scale", derived=derived)


STARTS = _time(
    "starts_at", "Event starts (UTC)", "Начало события (UTC)", "Іс-шара басталады (UTC)"
)


def reminders_sent() -> Any:
    """Per registration, how many of its reminders were sent (a subquery)."""
    return (
        select(
            EventReminder.registration_id.label("registration_id"),
            func.count().label("sent"),
        )
        .where(EventReminder.sent_at.is_not(None))
        .group_by(EventReminder.registration_id)
        .subquery()
    )


def _title(title: Any, language: str) -> str:
    """The title in `language`, else the one typed for every language ("*"), else any."""
    texts = dict(title or {})
    for key in (language, "*", "en"):
        if texts.get(key):
            return str(texts[key])
    return str(next(iter(texts.values()), ""))


def _offsets(offsets: Any) -> str:
    """Reminder offsets in minutes, largest first, separated by ';'."""
    return ";".join(str(int(o)) for o in sorted(offsets or [], reverse=True))


def _aware(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite may hand back naive values or text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value[:19])
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def events_table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """One row per published or cancelled event, with its figures."""
    language = opts.label_language
    variables = [
        EVENT,
        EVENT_CODE,
        KIND,
        c._v(
            "event_state",
            "Event state",
            "Состояние события",
            "Іс-шара күйі",
            values=dict(EVENT_STATES),
        ),
        c._v(
            "title",
            f"Event title in {language}",
            f"Название события ({language})",
            f"Іс-шара атауы ({language})",
        ),
        HOST,
        HOST_COUNTRY,
        c._v(
            "audience",
            "Audience: all, university, country, course, ...",
            "Аудитория: all, university, country, course, ...",
            "Аудитория: all, university, country, course, ...",
        ),
        c._v(
            "audience_ref",
            "The audience's reference (university id, country code, course, ...)",
            "Уточнение аудитории (номер вуза, код страны, курс, ...)",
            "Аудиторияның нақтылауы (университет нөмірі, ел коды, курс, ...)",
        ),
        STARTS,
        _time("ends_at", "Event ends (UTC)", "Окончание события (UTC)", "Іс-шара аяқталады (UTC)"),
        _count(
            "duration_minutes", "Duration (minutes)", "Длительность (минуты)", "Ұзақтығы (минут)"
        ),
        c._v(
            "timezone",
            "Time zone the event was scheduled in (IANA name)",
            "Часовой пояс, в котором назначено событие (IANA)",
            "Іс-шара белгіленген уақыт белдеуі (IANA)",
        ),
        _count(
            "capacity",
            "Places (empty: no limit)",
            "Мест (пусто: без ограничения)",
            "Орын саны (бос: шектеусіз)",
        ),
        c._v(
            "reminder_offsets",
            "Reminders, minutes before the start, separated by ';'",
            "Напоминания, минут до начала, через ';'",
            "Еске салғыштар, басталуға дейінгі минут, ';' арқылы",
        ),
        _time("published_at", "Published (UTC)", "Опубликовано (UTC)", "Жарияланды (UTC)"),
        _time("cancelled_at", "Cancelled (UTC)", "Отменено (UTC)", "Болдырылмады (UTC)"),
        _count(
            "registered",
            "People registered (with a place)",
            "Зарегистрировано (с местом)",
            "Тіркелгендер (орны бар)",
        ),
        _count("waiting", "People on the waiting list", "В листе ожидания", "Күту тізімінде"),
        _count(
            "registrations_cancelled",
            "Registrations cancelled",
            "Отменённые регистрации",
            "Бас тартылған тіркелулер",
        ),
        _count(
            "reminded",
            "People sent at least one reminder",
            "Получили хотя бы одно напоминание",
            "Кемінде бір еске салғыш алғандар",
        ),
        _count(
            "reminders_sent",
            "Reminders sent",
            "Отправлено напоминаний",
            "Жіберілген еске салғыштар",
        ),
        _count("attended", "People checked in", "Отметились (пришли)", "Белгіленгендер (келді)"),
        _count(
            "no_shows",
            "Registered but not checked in (empty until the event has ended)",
            "Зарегистрированы, но не отметились (пусто до окончания события)",
            "Тіркелген, бірақ белгіленбегендер (іс-шара аяқталғанша бос)",
            derived="registered and not checked in, for events that have ended and were not "
            "cancelled",
        ),
        _count("feedback_n", "Feedback ratings given", "Получено оценок", "Берілген бағалар"),
        c._v(
            "feedback_mean",
            "Mean feedback rating (1-5)",
            "Средняя оценка (1-5)",
            "Орташа баға (1-5)",
            kind="float",
            measure="scale",
            derived="mean of feedback_rating over the attendees who rated the event",
        ),
        _time(
            "recording_posted_at",
            "Recording link posted (UTC)",
            "Ссылка на запись опубликована (UTC)",
            "Жазба сілтемесі жарияланды (UTC)",
        ),
    ]
    host = aliased(University)

    def rows() -> Chunks:
        now = datetime.now(UTC)
        columns: tuple[Any, ...] = (
            Event.id,
            Event.code,
            Event.kind,
            Event.state,
            Event.title,
            host.code,
            host.country,
            Event.audience_kind,
            Event.audience_ref,
            Event.starts_at,
            Event.ends_at,
            Event.duration_minutes,
            Event.timezone,
            Event.capacity,
            Event.reminder_offsets,
            Event.published_at,
            Event.cancelled_at,
            Event.recording_posted_at,
        )
        stmt: Select[Any] = (
            select(*columns)
            .select_from(Event)
            .outerjoin(host, host.id == Event.university_id)
            .where(Event.state != "draft")
        )
        stmt = c.place_filter(c.period_filter(stmt, filters, Event.starts_at), filters, host)
        events = session.execute(stmt.order_by(Event.starts_at, Event.id)).all()
        chunk: list[list[Any]] = []
        for start in range(0, len(events), 500):
            batch = events[start : start + 500]
            figures = _figures(session, [row[0] for row in batch])
            for row in batch:
                (event_id, code, kind, state, title, uni, country, audience, ref) = row[:9]
                starts, ends, duration, zone, capacity, offsets, published, cancelled = row[9:17]
                recording = row[17]
                got = figures.get(event_id, {})
                end = _aware(ends)
                ended = end is not None and end <= now
                no_shows = got.get("no_shows", 0) if ended and state != "cancelled" else None
                n = got.get("feedback_n", 0)
                chunk.append(
                    [
                        event_id,
                        code,
                        kind,
                        state,
                        _title(title, language),
                        uni or "",
                        country or "",
                        audience,
                        ref or "",
                        c.utc_text(starts),
                        c.utc_text(ends),
                        duration,
                        zone or "",
                        capacity,
                        _offsets(offsets),
                        c.utc_text(published),
                        c.utc_text(cancelled),
                        got.get("registered", 0),
                        got.get("waiting", 0),
                        got.get("cancelled", 0),
                        got.get("reminded", 0),
                        got.get("reminders", 0),
                        got.get("attended", 0),
                        no_shows,
                        n,
                        got.get("rating_sum", 0) / n if n else None,
                        c.utc_text(recording),
                    ]
                )
                if len(chunk) >= CHUNK:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    return Table(
        "events",
        {
            "kk": "Іс-шаралар: әр іс-шараға бір жол, көрсеткіштерімен",
            "ru": "События: одна строка на событие, с показателями",
            "en": "Events: one row per event, with its figures",
        },
        variables,
        rows,
        notes=[NOTE.format(who="the hosting university")],
    )


def _figures(session: Session, event_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per event: registrations by state, reminded, reminders sent, attended, feedback."""
    sent = reminders_sent()
    stmt = (
        select(
            EventRegistration.event_id,
            EventRegistration.state,
            EventRegistration.checked_in_at,
            EventRegistration.feedback_rating,
            sent.c.sent,
        )
        .outerjoin(sent, sent.c.registration_id == EventRegistration.id)
        .where(EventRegistration.event_id.in_(event_ids))
    )
    found: dict[int, dict[str, int]] = {}
    for event_id, state, checked_in, rating, reminders in session.execute(stmt):
        got = found.setdefault(event_id, {})
        got[state] = got.get(state, 0) + 1
        got["reminders"] = got.get("reminders", 0) + (reminders or 0)
        got["reminded"] = got.get("reminded", 0) + bool(reminders)
        got["attended"] = got.get("attended", 0) + (checked_in is not None)
        if state == "registered" and checked_in is None:
            got["no_shows"] = got.get("no_shows", 0) + 1
        if rating is not None:
            got["feedback_n"] = got.get("feedback_n", 0) + 1
            got["rating_sum"] = got.get("rating_sum", 0) + int(rating)
    return found


def attendance_table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """One row per person and event: registration, reminders, check-in and feedback."""
    variables = [
        *c.person_columns(opts.identified),
        EVENT,
        EVENT_CODE,
        KIND,
        HOST,
        STARTS,
        c._v(
            "registration_state",
            "Registration: registered, waiting or cancelled",
            "Регистрация: registered, waiting или cancelled",
            "Тіркелу: registered, waiting немесе cancelled",
            values=dict(REGISTRATION_STATES),
        ),
        _time(
            "registered_at",
            "Got a place (UTC)",
            "Получил место (UTC)",
            "Орын алды (UTC)",
        ),
        _time(
            "waiting_since",
            "Joined the waiting list (UTC)",
            "Встал в лист ожидания (UTC)",
            "Күту тізіміне қосылды (UTC)",
        ),
        _time(
            "promoted_at",
            "Moved up from the waiting list (UTC)",
            "Переведён из листа ожидания (UTC)",
            "Күту тізімінен көшірілді (UTC)",
        ),
        _time(
            "cancelled_at",
            "Cancelled the registration (UTC)",
            "Отменил регистрацию (UTC)",
            "Тіркелуден бас тартты (UTC)",
        ),
        _count(
            "reminders_sent",
            "Reminders sent to this person for this event",
            "Напоминаний отправлено этому участнику",
            "Осы қатысушыға жіберілген еске салғыштар",
        ),
        c._v(
            "reminded",
            "Sent at least one reminder (1) or not (0)",
            "Получил хотя бы одно напоминание (1) или нет (0)",
            "Кемінде бір еске салғыш алды (1) немесе жоқ (0)",
            kind="integer",
            values=dict(YES_NO),
            derived="1 if reminders_sent > 0",
        ),
        c._v(
            "checked_in",
            "Checked in (1) or not (0)",
            "Отметился (1) или нет (0)",
            "Белгіленді (1) немесе жоқ (0)",
            kind="integer",
            values=dict(YES_NO),
            derived="1 if checked_in_at is set",
        ),
        _time("checked_in_at", "Checked in (UTC)", "Отметился (UTC)", "Белгіленді (UTC)"),
        c._v(
            "feedback_rating",
            "Feedback rating, 1 (very poor) to 5 (excellent)",
            "Оценка, от 1 (очень плохо) до 5 (отлично)",
            "Баға, 1 (өте нашар) мен 5 (өте жақсы) аралығында",
            kind="integer",
            measure="ordinal",
            values=dict(RATINGS),
        ),
        c._v(
            "feedback_comment",
            "Feedback comment",
            "Комментарий к оценке",
            "Бағаға пікір",
            free_text=True,
        ),
        _time("feedback_at", "Feedback given (UTC)", "Оценка дана (UTC)", "Баға берілді (UTC)"),
        _time(
            "recording_sent_at",
            "Recording link sent (UTC)",
            "Ссылка на запись отправлена (UTC)",
            "Жазба сілтемесі жіберілді (UTC)",
        ),
    ]
    host = aliased(University)

    def rows() -> Chunks:
        sent = reminders_sent()
        stmt: Select[Any] = (
            select(
                *c.person_select(),
                Event.id,
                Event.code,
                Event.kind,
                host.code,
                Event.starts_at,
                EventRegistration.state,
                EventRegistration.registered_at,
                EventRegistration.waiting_since,
                EventRegistration.promoted_at,
                EventRegistration.cancelled_at,
                sent.c.sent,
                EventRegistration.checked_in_at,
                EventRegistration.feedback_rating,
                EventRegistration.feedback_comment,
                EventRegistration.feedback_at,
                EventRegistration.recording_sent_at,
            )
            .select_from(EventRegistration)
            .join(Event, Event.id == EventRegistration.event_id)
            .join(User, User.id == EventRegistration.user_id)
            .outerjoin(University, University.id == User.university_id)
            .outerjoin(host, host.id == Event.university_id)
            .outerjoin(sent, sent.c.registration_id == EventRegistration.id)
            .where(Event.state != "draft")
        )
        stmt = c.place_filter(c.period_filter(stmt, filters, Event.starts_at), filters, University)
        stmt = stmt.order_by(Event.starts_at, Event.id, EventRegistration.id)
        codes: dict[int, str] = {}
        chunk: list[list[Any]] = []
        for row in session.execute(stmt.execution_options(yield_per=CHUNK)):
            person = c.person_values(opts, codes, *row[:7])
            (event_id, code, kind, uni, starts, state, registered, waiting, promoted) = row[7:16]
            cancelled, reminders, checked_in, rating, comment, feedback_at, recording = row[16:]
            chunk.append(
                [
                    *person,
                    event_id,
                    code,
                    kind,
                    uni or "",
                    c.utc_text(starts),
                    state,
                    c.utc_text(registered),
                    c.utc_text(waiting),
                    c.utc_text(promoted),
                    c.utc_text(cancelled),
                    reminders or 0,
                    1 if reminders else 0,
                    0 if checked_in is None else 1,
                    c.utc_text(checked_in),
                    rating,
                    comment or "",
                    c.utc_text(feedback_at),
                    c.utc_text(recording),
                ]
            )
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    return Table(
        "attendance",
        {
            "kk": "Іс-шаралар: қатысушы мен іс-шара бойынша қатысу",
            "ru": "События: участие по участникам и событиям",
            "en": "Events: attendance by participant and event",
        },
        variables,
        rows,
        notes=[NOTE.format(who="the participant's university")],
    )
