"""What every dataset shares: filters, the participant's code, and the attempt-level columns."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.services.exports.spec import Labels, Variable
from models import Attempt, Campaign, Instrument, University, User


def pseudonym(key: str, user_id: int) -> str:
    """The participant's research code: a keyed hash of their internal id.

    Without the key nobody can go back to the person; deleting one's data and registering
    again gives a new code, so a deletion also breaks the link to earlier answers.
    """
    digest = hmac.new(key.encode(), f"user:{user_id}".encode(), hashlib.sha256).hexdigest()
    return "P" + digest[:15]


@dataclass(frozen=True)
class Filters:
    """Which attempts (and so which answers) an export covers."""

    campaign_id: int | None = None
    wave: str | None = None
    university: str | None = None  # university code
    country: str | None = None
    instrument: str | None = None  # instrument code; its pre/post partner is included
    since: date | None = None  # attempts started on or after this day (UTC)
    until: date | None = None  # ... and on or before this day
    # Set by the service, never by the user: the universities an organizer is held to.
    scope: tuple[str, ...] | None = None

    def describe(self) -> dict[str, Any]:
        """The filters as plain data for the codebook and the audit log."""
        return {
            k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
            for k, v in vars(self).items()
        }


@dataclass(frozen=True)
class Options:
    """How an export is written."""

    key: str  # PSEUDONYM_KEY
    label_language: str = "en"
    identified: bool = False  # admins only: adds Telegram id, name and username


def options(settings: Settings, label_language: str, identified: bool = False) -> Options:
    """Export options from the settings."""
    return Options(settings.pseudonym_key.get_secret_value(), label_language, identified)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day` (stored times are UTC)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def period_filter(stmt: Select[Any], filters: Filters, when: Any) -> Select[Any]:
    """Narrow a statement to the filters' period, on the UTC time `when` (whole days)."""
    if filters.since is not None:
        stmt = stmt.where(when >= day_start(filters.since))
    if filters.until is not None:
        stmt = stmt.where(when < day_start(filters.until + timedelta(days=1)))
    return stmt


def place_filter(stmt: Select[Any], filters: Filters, university: Any) -> Select[Any]:
    """Narrow a statement to the filters' university, country and scope, on `university`.

    `university` is the University entity (or an alias of it) the statement joins.
    """
    if filters.university is not None:
        stmt = stmt.where(university.code == filters.university)
    if filters.scope is not None:
        stmt = stmt.where(university.code.in_(filters.scope))  # (): nothing at all
    if filters.country is not None:
        stmt = stmt.where(university.country == filters.country)
    return stmt


def utc_text(value: datetime | str | None) -> str | None:
    """A stored time as `YYYY-MM-DD HH:MM:SS` in UTC, the form every export writes.

    SQLite hands back its stored text (already UTC, `YYYY-MM-DD HH:MM:SS.ffffff`), which is
    cut rather than parsed: a million answers would otherwise spend seconds in datetime
    parsing. Other databases give aware datetimes.
    """
    if value is None or isinstance(value, str):
        return value[:19] if value else None
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def instrument_codes(session: Session, code: str) -> list[str]:
    """The instrument and its declared pre/post partner (either may name the other)."""
    partners = session.execute(
        select(Instrument.code, Instrument.pair_with).where(
            (Instrument.code == code) | (Instrument.pair_with == code)
        )
    ).all()
    codes = {code}
    for own, other in partners:
        codes.add(own)
        if own == code and other:
            codes.add(other)
    return sorted(codes)


def attempt_filter(stmt: Select[Any], session: Session, filters: Filters) -> Select[Any]:
    """Narrow a statement that joins Attempt, Campaign, User and University to the filters."""
    if filters.campaign_id is not None:
        stmt = stmt.where(Campaign.id == filters.campaign_id)
    if filters.wave is not None:
        stmt = stmt.where(Campaign.wave == filters.wave)
    if filters.university is not None:
        stmt = stmt.where(University.code == filters.university)
    if filters.scope is not None:
        stmt = stmt.where(University.code.in_(filters.scope))  # (): nothing at all
    if filters.country is not None:
        stmt = stmt.where(University.country == filters.country)
    if filters.instrument is not None:
        codes = instrument_codes(session, filters.instrument)
        stmt = stmt.where(Campaign.instrument_code.in_(codes))
    if filters.since is not None:
        stmt = stmt.where(Attempt.started_at >= day_start(filters.since))
    if filters.until is not None:
        stmt = stmt.where(Attempt.started_at < day_start(filters.until + timedelta(days=1)))
    return stmt


def joined(*columns: Any) -> Select[Any]:
    """SELECT `columns` FROM attempt with its campaign, instrument, user and university."""
    return (
        select(*columns)
        .select_from(Attempt)
        .join(Campaign, Campaign.id == Attempt.campaign_id)
        .join(Instrument, Instrument.id == Attempt.instrument_id)
        .join(User, User.id == Attempt.user_id)
        .outerjoin(University, University.id == User.university_id)
    )


def _v(name: str, en: str, ru: str, kk: str, **kw: Any) -> Variable:
    return Variable(name, {"kk": kk, "ru": ru, "en": en}, **kw)


PARTICIPANT = _v(
    "participant",
    "Participant code (keyed hash; no Telegram id, name or username)",
    "Код участника (хеш с ключом; без Telegram id, имени и username)",
    "Қатысушы коды (кілтпен хэш; Telegram id, аты мен username жоқ)",
    derived="'P' + the first 15 hex digits of HMAC-SHA256(PSEUDONYM_KEY, 'user:' + internal id)",
)
IDENTITY = [
    _v("telegram_id", "Telegram user id", "Telegram id пользователя", "Telegram пайдаланушы id-і"),
    _v(
        "first_name",
        "First name in Telegram",
        "Имя в Telegram",
        "Telegram-дағы аты",
        free_text=True,
    ),
    _v(
        "username",
        "Telegram username",
        "Имя пользователя в Telegram",
        "Telegram username",
        free_text=True,
    ),
]
UNIVERSITY = _v("university", "University code", "Код университета", "Университет коды")
COUNTRY = _v("country", "Country (ISO 3166-1 alpha-2)", "Страна (ISO 3166-1)", "Ел (ISO 3166-1)")
LANGUAGE = _v(
    "language",
    "Interface language (kk, ru, en)",
    "Язык интерфейса (kk, ru, en)",
    "Интерфейс тілі (kk, ru, en)",
)
INSTRUMENT = _v("instrument", "Instrument code", "Код инструмента", "Құрал коды")
VERSION = _v(
    "instrument_version",
    "Instrument version answered",
    "Версия инструмента",
    "Құрал нұсқасы",
    kind="integer",
    measure="ordinal",
)
CAMPAIGN = _v("campaign", "Campaign id", "Номер кампании", "Науқан нөмірі", kind="integer")
WAVE = _v("wave", "Wave (pre, post, ...)", "Волна (pre, post, ...)", "Толқын (pre, post, ...)")
ATTEMPT = _v("attempt", "Attempt id", "Номер попытки", "Әрекет нөмірі", kind="integer")
STATE = _v(
    "attempt_state",
    "Attempt state: in_progress, submitted, expired, closed",
    "Состояние попытки: in_progress, submitted, expired, closed",
    "Әрекет күйі: in_progress, submitted, expired, closed",
)
STARTED = _v("started_at", "Started (UTC)", "Начата (UTC)", "Басталды (UTC)", kind="datetime")
SUBMITTED_AT = _v(
    "submitted_at", "Submitted (UTC)", "Отправлена (UTC)", "Жіберілді (UTC)", kind="datetime"
)


def attempt_columns(identified: bool, *last: Variable) -> list[Variable]:
    """The person's columns, then the instrument, version, campaign, wave and attempt."""
    return [*person_columns(identified), INSTRUMENT, VERSION, CAMPAIGN, WAVE, ATTEMPT, *last]


def person_columns(identified: bool) -> list[Variable]:
    """The participant's code, their Telegram identity (identified exports only) and place."""
    return [PARTICIPANT, *(IDENTITY if identified else []), UNIVERSITY, COUNTRY, LANGUAGE]


def person_values(
    opts: Options,
    codes: dict[int, str],
    user_id: int,
    telegram_id: int,
    first_name: str | None,
    username: str | None,
    university: str | None,
    country: str | None,
    language: str | None,
) -> list[Any]:
    """The values of `person_columns` for one row (pseudonyms cached per export)."""
    code = codes.get(user_id)
    if code is None:
        code = codes[user_id] = pseudonym(opts.key, user_id)
    identity = [telegram_id, first_name or "", username or ""] if opts.identified else []
    return [code, *identity, university or "", country or "", language or ""]


def person_select() -> tuple[Any, ...]:
    """The columns `person_values` needs, after the user id."""
    return (
        User.id,
        User.telegram_id,
        User.first_name,
        User.username,
        University.code,
        University.country,
        User.language,
    )


def text_labels(text: Any) -> Labels:
    """A pack `Text` as a language -> text dict."""
    return {"kk": text.kk, "ru": text.ru, "en": text.en}


def label_of(labels: Labels, language: str) -> str:
    """One language of a label dict."""
    return labels.get(language) or labels.get("en", "")
