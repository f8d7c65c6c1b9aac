"""Roles and the checks every privileged action makes against the database."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.services import PermissionDenied
from models import User, UserRole


class Role(StrEnum):
    """What a person may do; `student` is everyone's and needs no row."""

    ADMIN = "admin"
    ORGANIZER = "organizer"
    COACH = "coach"
    JUROR = "juror"
    STUDENT = "student"


# Which roles an inviter may hand out through an invite link.
GRANTABLE: dict[Role, tuple[Role, ...]] = {
    Role.ADMIN: (Role.ORGANIZER, Role.COACH, Role.JUROR, Role.STUDENT),
    Role.ORGANIZER: (Role.COACH, Role.JUROR, Role.STUDENT),
}


async def roles_of(session: AsyncSession, user: User, admin_ids: frozenset[int]) -> set[Role]:
    """Every role `user` holds, including admin from `ADMIN_IDS` and the implicit student."""
    rows = await session.scalars(select(UserRole.role).where(UserRole.user_id == user.id))
    return roles_from(rows, user.telegram_id, admin_ids)


def roles_from(
    stored: Iterable[str | None], telegram_id: int, admin_ids: frozenset[int]
) -> set[Role]:
    """A person's roles from their stored `user_role.role` values (a query of the caller's)."""
    roles = {Role(r) for r in stored if r is not None and r in Role.__members__.values()}
    roles.add(Role.STUDENT)
    if telegram_id in admin_ids:
        roles.add(Role.ADMIN)
    return roles


async def require(
    session: AsyncSession, telegram_id: int, admin_ids: frozenset[int], *allowed: Role
) -> tuple[User, set[Role]]:
    """Load the user and check they hold one of `allowed`, else raise `PermissionDenied`."""
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise PermissionDenied("errors.not_allowed")
    roles = await roles_of(session, user, admin_ids)
    if not roles.intersection(allowed):
        raise PermissionDenied("errors.not_allowed")
    return user, roles


async def grant(
    session: AsyncSession,
    user: User,
    role: Role,
    *,
    university_id: int | None = None,
    granted_by_id: int | None = None,
) -> None:
    """Give `role` to `user` inside the caller's transaction; granting twice updates scope."""
    if role is Role.STUDENT:
        return
    existing = await session.scalar(
        select(UserRole).where(UserRole.user_id == user.id, UserRole.role == role.value)
    )
    if existing is None:
        session.add(
            UserRole(
                user_id=user.id,
                role=role.value,
                university_id=university_id,
                granted_by_id=granted_by_id,
            )
        )
    else:
        existing.university_id = university_id
        existing.granted_by_id = granted_by_id


async def ensure_role(
    db: Sessionmaker, telegram_id: int, role: Role, *, first_name: str = ""
) -> None:
    """Make sure the user exists and holds `role` (sandbox identities, admin tooling)."""
    async with db.begin() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        if user is None:
            user = User(telegram_id=telegram_id, first_name=first_name)
            session.add(user)
            await session.flush()
        await grant(session, user, role)
