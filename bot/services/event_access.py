"""Who manages an event: the one rule the events and the audience of its registrants share.

Admins manage every event, its creator theirs, organizers their university's (every event
when consortium-wide). It lives apart from `bot.services.events` because
`bot.services.audiences` needs it (only whoever manages an event may write to its registrants)
and the events service imports the audiences.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.roles import Role
from models import Event, User
from models import UserRole as UserRoleRow


async def organizer_scopes(session: AsyncSession, user: User) -> list[int | None]:
    """The universities the person is an organizer of (None: the whole consortium)."""
    return list(
        (
            await session.scalars(
                select(UserRoleRow.university_id).where(
                    UserRoleRow.user_id == user.id, UserRoleRow.role == Role.ORGANIZER.value
                )
            )
        ).all()
    )


def manages(user: User, roles: set[Role], organizer_of: list[int | None], event: Event) -> bool:
    """Whether the person manages the event (`organizer_of`: their `organizer_scopes`)."""
    if Role.ADMIN in roles or event.created_by_id == user.id:
        return True
    return any(scope is None or scope == event.university_id for scope in organizer_of)


async def may_manage(session: AsyncSession, user: User, roles: set[Role], event: Event) -> bool:
    """Whether the person manages the event, their organizer roles read from the database."""
    return manages(user, roles, await organizer_scopes(session, user), event)


async def managed_condition(
    session: AsyncSession, user: User, roles: set[Role]
) -> ColumnElement[bool] | None:
    """The same rule as a condition on `Event` for listing (None: every event)."""
    if Role.ADMIN in roles:
        return None
    scopes = await organizer_scopes(session, user)
    if None in scopes:
        return None
    own = Event.created_by_id == user.id
    universities = sorted(scope for scope in scopes if scope is not None)
    return or_(own, Event.university_id.in_(universities)) if universities else own
