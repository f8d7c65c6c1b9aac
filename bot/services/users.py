"""Users: registration on first contact, onboarding steps, profile changes, data deletion.

Onboarding progress is never kept in memory: `Profile.next_step` derives it from the stored
columns, so a user whose bot restarted mid-way continues at the step they reached. A deep link
opened before onboarding is complete is kept on the user row too (`remember_start`) and taken
once, when the last step is done (`take_pending_start`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LANGUAGES
from bot.db import Sessionmaker, engine_of
from bot.services import InvalidInput, NotFound
from bot.services.roles import Role, roles_from, roles_of
from bot.services.universities import UniversityView, get_active, view
from bot.text import clean_line, is_blank
from models import University, User, UserRole, utcnow

GROUP_MAX = 100
# What Telegram allows in a `/start` parameter: at most 64 of these characters.
START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Step(StrEnum):
    """Onboarding steps, in order."""

    LANGUAGE = "language"
    CONSENT = "consent"
    UNIVERSITY = "university"
    GROUP = "group"


class Awaiting(StrEnum):
    """Free-text or choice inputs the bot may be waiting for outside onboarding."""

    GROUP = "group"
    UNIVERSITY = "university"
    UNIVERSITY_NAME = "university_name"


@dataclass(frozen=True, slots=True)
class Profile:
    """What handlers need to know about the person behind an update."""

    id: int
    telegram_id: int
    first_name: str
    language: str | None
    telegram_language: str | None
    consent: bool | None
    university: UniversityView | None
    group_name: str | None
    awaiting: str | None
    onboarded: bool
    reachable: bool
    roles: frozenset[Role] = field(default_factory=frozenset)
    # A `/start` payload opened before onboarding was complete, still to follow.
    pending_start: str | None = None

    @property
    def next_step(self) -> Step | None:
        """The onboarding step still to do, or None when onboarding is complete."""
        if self.language is None:
            return Step.LANGUAGE
        if self.consent is None:
            return Step.CONSENT
        if self.university is None:
            return Step.UNIVERSITY
        if not self.group_name:
            return Step.GROUP
        return None

    def has(self, *roles: Role) -> bool:
        """True when the user holds any of `roles`."""
        return bool(self.roles.intersection(roles))


async def _profile(session: AsyncSession, user: User, admin_ids: frozenset[int]) -> Profile:
    return _profile_of(user, await roles_of(session, user, admin_ids))


def _profile_of(user: User, roles: set[Role]) -> Profile:
    university = view(user.university) if user.university is not None else None
    return _profile_from(user, university, roles)


def _profile_from(person: Any, university: UniversityView | None, roles: set[Role]) -> Profile:
    """The profile from anything with `User`'s column attributes (an ORM `User`, a row)."""
    return Profile(
        id=person.id,
        telegram_id=person.telegram_id,
        first_name=person.first_name,
        language=person.language,
        telegram_language=person.telegram_language,
        consent=person.consent,
        university=university,
        group_name=person.group_name,
        awaiting=person.awaiting,
        onboarded=person.onboarded_at is not None,
        reachable=person.reachable,
        roles=frozenset(roles),
        pending_start=person.pending_start,
    )


async def _load(session: AsyncSession, telegram_id: int) -> User:
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise NotFound("errors.user_not_found")
    return user


# Run for every update, so built once (building a statement costs as much as running it) and
# read as plain columns: loading a `User` with its joined `University` as ORM objects cost
# more than the statement.
_PERSON_AND_ROLES = (
    select(
        User.id,
        User.telegram_id,
        User.first_name,
        User.username,
        User.telegram_language,
        User.language,
        User.consent,
        User.group_name,
        User.awaiting,
        User.onboarded_at,
        User.reachable,
        User.pending_start,
        University.id.label("university_id"),
        University.code.label("university_code"),
        University.country.label("university_country"),
        University.name_en.label("university_name_en"),
        University.name_ru.label("university_name_ru"),
        University.name_kk.label("university_name_kk"),
        University.active.label("university_active"),
        UserRole.role,
    )
    .outerjoin(University, University.id == User.university_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(User.telegram_id == bindparam("telegram_id"))
)


def _profile_of_row(row: Any, roles: set[Role]) -> Profile:
    """The profile from a row of `_PERSON_AND_ROLES` (what `_profile_of` reads off a `User`)."""
    university = None
    if row.university_id is not None:
        university = UniversityView(
            id=row.university_id,
            code=row.university_code,
            country=row.university_country,
            names={
                "en": row.university_name_en,
                "ru": row.university_name_ru,
                "kk": row.university_name_kk,
            },
            active=row.university_active,
        )
    return _profile_from(row, university, roles)


async def seen(
    db: Sessionmaker,
    telegram_id: int,
    *,
    first_name: str,
    username: str | None,
    telegram_language: str | None,
    admin_ids: frozenset[int],
) -> Profile:
    """Register the user on first contact, refresh what Telegram tells us, return the profile.

    Called for every update, so the common case is one read without a write transaction; it
    writes only for a new user, a changed name or language, or a user who had blocked the bot
    writing again (reachable again).
    """
    # Stored as given by Telegram, minus what PostgreSQL would refuse (a NUL) or SQLite keep.
    first_name = clean_line(first_name)[:128]

    async with engine_of(db).connect() as connection:
        # The person and their roles in one statement: this runs for every update.
        rows = (await connection.execute(_PERSON_AND_ROLES, {"telegram_id": telegram_id})).all()
    if rows:
        row = rows[0]
        unchanged = (
            row.first_name == first_name
            and row.username == username
            and (not telegram_language or row.telegram_language == telegram_language)
            and row.reachable
        )
        if unchanged:
            roles = roles_from((r.role for r in rows), telegram_id, admin_ids)
            return _profile_of_row(row, roles)
    async with db.begin() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        if user is None:
            user = User(
                telegram_id=telegram_id,
                first_name=first_name,
                username=username,
                telegram_language=telegram_language,
            )
            session.add(user)
            await session.flush()
            await session.refresh(user, ["university"])
        else:
            user.first_name = first_name
            user.username = username
            if telegram_language:
                user.telegram_language = telegram_language
            user.reachable = True
        return await _profile(session, user, admin_ids)


async def get_profile(db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int]) -> Profile:
    """The stored profile, or `NotFound`."""
    async with db() as session:
        return await _profile(session, await _load(session, telegram_id), admin_ids)


def _finish_if_complete(user: User) -> None:
    if (
        user.onboarded_at is None
        and user.language
        and user.consent is not None
        and user.university_id
        and user.group_name
    ):
        user.onboarded_at = utcnow()


async def set_language(
    db: Sessionmaker, telegram_id: int, language: str, admin_ids: frozenset[int]
) -> Profile:
    """Set the interface and content language."""
    if language not in LANGUAGES:
        raise InvalidInput("errors.unknown_language")
    async with db.begin() as session:
        user = await _load(session, telegram_id)
        user.language = language
        _finish_if_complete(user)
        return await _profile(session, user, admin_ids)


async def set_consent(
    db: Sessionmaker, telegram_id: int, consent: bool, admin_ids: frozenset[int]
) -> Profile:
    """Record consent to research use of answers (True) or its refusal or withdrawal."""
    async with db.begin() as session:
        user = await _load(session, telegram_id)
        user.consent = consent
        user.consent_at = utcnow()
        _finish_if_complete(user)
        return await _profile(session, user, admin_ids)


async def set_university(
    db: Sessionmaker, telegram_id: int, university_id: int, admin_ids: frozenset[int]
) -> Profile:
    """Set the user's university (an active one) and stop waiting for that choice."""
    async with db.begin() as session:
        user = await _load(session, telegram_id)
        university = await get_active(session, university_id)
        user.university_id = university.id
        user.university = university
        if user.awaiting == Awaiting.UNIVERSITY:
            user.awaiting = None
        _finish_if_complete(user)
        return await _profile(session, user, admin_ids)


def clean_group(text: str) -> str:
    """Validate a faculty/group name: one line, 1 to GROUP_MAX characters, something visible."""
    value = clean_line(text)
    if is_blank(value):
        raise InvalidInput("onboarding.group_empty")
    if len(value) > GROUP_MAX:
        raise InvalidInput("onboarding.group_too_long", limit=GROUP_MAX, length=len(value))
    return value


async def set_group(
    db: Sessionmaker, telegram_id: int, text: str, admin_ids: frozenset[int]
) -> Profile:
    """Set the faculty/group from free text and stop waiting for it."""
    value = clean_group(text)
    async with db.begin() as session:
        user = await _load(session, telegram_id)
        user.group_name = value
        if user.awaiting == Awaiting.GROUP:
            user.awaiting = None
        _finish_if_complete(user)
        return await _profile(session, user, admin_ids)


async def store_awaiting(db: Sessionmaker, telegram_id: int, awaiting: str | None) -> None:
    """`set_awaiting` in one statement, for a caller that keeps its profile up to date itself.

    A survey writes what reached the user after each step answered by typing: an UPDATE,
    without reading the user and their roles again.
    """
    if awaiting is not None and len(awaiting) > 32:
        raise ValueError("awaiting values are at most 32 characters")
    async with db.begin() as session:
        await session.execute(
            sql_update(User).where(User.telegram_id == telegram_id).values(awaiting=awaiting)
        )


async def set_awaiting(
    db: Sessionmaker, telegram_id: int, awaiting: str | None, admin_ids: frozenset[int]
) -> Profile:
    """Remember which input the bot waits for next (None: nothing; `/cancel` uses that).

    `awaiting` is an `Awaiting` value, or a feature's own `<route>:<id>` (at most 32 chars).
    """
    if awaiting is not None and len(awaiting) > 32:
        raise ValueError("awaiting values are at most 32 characters")
    async with db.begin() as session:
        user = await _load(session, telegram_id)
        user.awaiting = awaiting
        return await _profile(session, user, admin_ids)


async def remember_start(
    db: Sessionmaker, telegram_id: int, payload: str, admin_ids: frozenset[int]
) -> Profile:
    """Keep a `/start` payload to follow once onboarding is complete; it replaces one kept.

    Raises:
        InvalidInput: `invites.unknown`, for what no Telegram deep link can carry.
    """
    if not START_PAYLOAD.fullmatch(payload):
        raise InvalidInput("invites.unknown")
    async with db.begin() as session:
        user = await _load(session, telegram_id)
        user.pending_start = payload
        return await _profile(session, user, admin_ids)


async def take_pending_start(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int]
) -> tuple[str | None, Profile]:
    """Take the kept `/start` payload, once, if onboarding is complete; and the profile.

    The payload is cleared in the same transaction, so it is followed at most once (a crash
    right after loses the link rather than following it twice). While onboarding is still
    unfinished nothing is taken.
    """
    async with db.begin() as session:
        user = await _load(session, telegram_id)
        profile = await _profile(session, user, admin_ids)
        payload = user.pending_start
        if payload is None or profile.next_step is not None:
            return None, profile
        user.pending_start = None
        return payload, replace(profile, pending_start=None)


async def delete_user(db: Sessionmaker, telegram_id: int) -> bool:
    """Delete the user and, through foreign-key cascades, every row that belongs to them.

    Returns:
        True if there was something to delete.
    """
    async with db.begin() as session:
        result = await session.execute(delete(User).where(User.telegram_id == telegram_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_unreachable(db: Sessionmaker, telegram_id: int) -> None:
    """Remember that Telegram refused delivery (blocked bot or deleted chat)."""
    async with db.begin() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        if user is not None:
            user.reachable = False


async def admin_chat_ids(db: Sessionmaker, admin_ids: frozenset[int]) -> list[int]:
    """Telegram ids of admins who can be written to (they started the bot)."""
    if not admin_ids:
        return []
    async with db() as session:
        rows = await session.scalars(
            select(User.telegram_id).where(
                User.telegram_id.in_(admin_ids), User.reachable.is_(True)
            )
        )
        return list(rows)
