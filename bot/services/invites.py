"""Invite deep links: `t.me/<bot>?start=i-<code>` grants a role and a university.

Codes are random (72 bits from `secrets`), so they cannot be guessed; the payload stays far
below Telegram's 64-character limit and uses only `A-Za-z0-9_-`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound, PermissionDenied, ServiceError
from bot.services.roles import GRANTABLE, Role, grant, require
from bot.services.universities import UniversityView, get_active, view
from models import Invite, InviteUse, User, UserRole, utcnow

PAYLOAD_PREFIX = "i-"
PAYLOAD_RE = re.compile(r"^i-([A-Za-z0-9_-]{8,40})$")
# Offered to the inviter as buttons; None means unlimited.
USES_CHOICES: tuple[int | None, ...] = (1, 10, 50, 500, None)
DEFAULT_VALIDITY = timedelta(days=30)


class InviteRefused(ServiceError):
    """The invite cannot be used: unknown, expired, revoked, used up or used already."""


@dataclass(frozen=True, slots=True)
class InviteView:
    """A created or redeemed invite."""

    code: str
    role: Role
    university: UniversityView | None
    max_uses: int | None
    uses: int

    @property
    def payload(self) -> str:
        """The `/start` payload carrying this invite."""
        return f"{PAYLOAD_PREFIX}{self.code}"


def uses_code(max_uses: int | None) -> str:
    """The short code of a number of uses in callback data ("0": unlimited)."""
    return str(max_uses or 0)


def parse_uses(code: str) -> int | None:
    """The number of uses a button's code stands for (None: unlimited).

    Raises:
        InvalidInput: a code of no offered choice (forged: "-1" or a huge number must not
            fall back to unlimited).
    """
    for choice in USES_CHOICES:
        if code == uses_code(choice):
            return choice
    raise InvalidInput("invites.bad_uses")


def grantable_by(roles: set[Role] | frozenset[Role]) -> tuple[Role, ...]:
    """The roles a holder of `roles` may hand out, most powerful inviter first."""
    for inviter in (Role.ADMIN, Role.ORGANIZER):
        if inviter in roles:
            return GRANTABLE[inviter]
    return ()


async def create_invite(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    role: Role,
    university_id: int | None,
    max_uses: int | None,
) -> InviteView:
    """Create an invite; the actor's right to grant `role` is checked here, not in the button.

    Raises:
        PermissionDenied: the actor may not grant this role (or not for that university).
        InvalidInput: a uses count that is not offered, or a student invite with no university.
    """
    if max_uses not in USES_CHOICES:
        raise InvalidInput("invites.bad_uses")
    async with db.begin() as session:
        actor, roles = await require(session, actor_id, admin_ids, Role.ADMIN, Role.ORGANIZER)
        if role not in grantable_by(roles):
            raise PermissionDenied("errors.not_allowed")
        university = None
        if university_id is not None:
            university = await get_active(session, university_id)
        elif role is Role.STUDENT:
            raise InvalidInput("invites.student_needs_university")
        if Role.ADMIN not in roles:
            # An organizer scoped to a university invites only into that university.
            scope = await _organizer_scope(session, actor)
            if scope is not None and university_id != scope:
                raise PermissionDenied("invites.other_university")
        invite = Invite(
            code=secrets.token_urlsafe(9),
            role=role.value,
            university_id=university_id,
            max_uses=max_uses,
            created_by_id=actor.id,
            expires_at=utcnow() + DEFAULT_VALIDITY,
        )
        session.add(invite)
        await session.flush()
        return InviteView(
            code=invite.code,
            role=role,
            university=view(university) if university else None,
            max_uses=max_uses,
            uses=0,
        )


async def _organizer_scope(session: AsyncSession, actor: User) -> int | None:
    return await session.scalar(
        select(UserRole.university_id).where(
            UserRole.user_id == actor.id, UserRole.role == Role.ORGANIZER.value
        )
    )


def parse_payload(payload: str) -> str | None:
    """The invite code in a `/start` payload, or None if the payload is not an invite."""
    match = PAYLOAD_RE.match(payload)
    return match.group(1) if match else None


async def redeem(db: Sessionmaker, telegram_id: int, payload: str) -> InviteView:
    """Use an invite: grant its role and university to the user, once per user.

    Raises:
        InviteRefused: with the reason as its key.
    """
    code = parse_payload(payload)
    if code is None:
        raise InviteRefused("invites.unknown")
    async with db.begin() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        if user is None:
            raise NotFound("errors.user_not_found")
        # Lock the invite row on PostgreSQL so two users cannot both take its last use.
        invite = await session.scalar(select(Invite).where(Invite.code == code).with_for_update())
        if invite is None:
            raise InviteRefused("invites.unknown")
        if invite.revoked_at is not None:
            raise InviteRefused("invites.revoked")
        if invite.expires_at is not None and invite.expires_at <= utcnow():
            raise InviteRefused("invites.expired")
        already = await session.scalar(
            select(InviteUse.id).where(
                InviteUse.invite_id == invite.id, InviteUse.user_id == user.id
            )
        )
        if already is not None:
            raise InviteRefused("invites.already_used")
        if invite.max_uses is not None and invite.uses >= invite.max_uses:
            raise InviteRefused("invites.used_up")
        invite.uses += 1
        session.add(InviteUse(invite_id=invite.id, user_id=user.id, used_at=utcnow()))
        role = Role(invite.role)
        university = None
        if invite.university_id is not None:
            university = await get_active(session, invite.university_id)
            if role is Role.STUDENT or user.university_id is None:
                user.university_id = university.id
        await grant(
            session,
            user,
            role,
            university_id=invite.university_id,
            granted_by_id=invite.created_by_id,
        )
        return InviteView(
            code=invite.code,
            role=role,
            university=view(university) if university else None,
            max_uses=invite.max_uses,
            uses=invite.uses,
        )
