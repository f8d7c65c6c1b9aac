"""Invite links: creation rights, redemption rules, counted and single uses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.services import InvalidInput, PermissionDenied, users
from bot.services import invites as svc
from bot.services.invites import InviteRefused
from bot.services.roles import Role, ensure_role
from bot.services.universities import list_universities
from models import Invite, utcnow
from tests import factories

ADMIN = 1
ADMINS = frozenset({ADMIN})


async def _user(db, telegram_id):
    return await factories.person(db, telegram_id, ADMINS, first_name=f"u{telegram_id}")


async def test_admin_creates_coach_invite_and_it_grants_role_and_university(db):
    await _user(db, ADMIN)
    uni = (await list_universities(db))[1]
    invite = await svc.create_invite(db, ADMIN, ADMINS, Role.COACH, uni.id, 1)
    assert len(invite.payload) <= 64
    assert all(c.isalnum() or c in "_-" for c in invite.payload)
    await _user(db, 50)
    used = await svc.redeem(db, 50, invite.payload)
    assert used.role is Role.COACH and used.uses == 1
    profile = await users.get_profile(db, 50, ADMINS)
    assert profile.has(Role.COACH) and profile.university and profile.university.id == uni.id
    # Single use: the next person is refused, and the first cannot use it twice either.
    await _user(db, 51)
    with pytest.raises(InviteRefused) as exc:
        await svc.redeem(db, 51, invite.payload)
    assert exc.value.key == "invites.used_up"
    with pytest.raises(InviteRefused) as exc:
        await svc.redeem(db, 50, invite.payload)
    assert exc.value.key == "invites.already_used"


async def test_counted_invite_allows_exactly_n_people(db):
    await _user(db, ADMIN)
    uni = (await list_universities(db))[0]
    invite = await svc.create_invite(db, ADMIN, ADMINS, Role.STUDENT, uni.id, 10)
    for i in range(10):
        await _user(db, 100 + i)
        await svc.redeem(db, 100 + i, invite.payload)
    await _user(db, 200)
    with pytest.raises(InviteRefused, match="used_up"):
        await svc.redeem(db, 200, invite.payload)


async def test_forged_expired_and_revoked_codes_are_refused(db):
    await _user(db, ADMIN)
    await _user(db, 60)
    for payload in ("i-doesnotexist", "hello", "i-" + "x" * 70, "i-bad$chars!"):
        with pytest.raises(InviteRefused, match="unknown"):
            await svc.redeem(db, 60, payload)
    invite = await svc.create_invite(db, ADMIN, ADMINS, Role.JUROR, None, None)
    async with db.begin() as session:
        await session.execute(update(Invite).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(InviteRefused, match="expired"):
        await svc.redeem(db, 60, invite.payload)
    async with db.begin() as session:
        await session.execute(update(Invite).values(expires_at=None, revoked_at=utcnow()))
    with pytest.raises(InviteRefused, match="revoked"):
        await svc.redeem(db, 60, invite.payload)


async def test_only_admins_and_organizers_invite_and_only_what_they_may_grant(db):
    await _user(db, 70)
    with pytest.raises(PermissionDenied):
        await svc.create_invite(db, 70, ADMINS, Role.STUDENT, 1, 1)
    await ensure_role(db, 71, Role.COACH)
    with pytest.raises(PermissionDenied):
        await svc.create_invite(db, 71, ADMINS, Role.JUROR, None, 1)
    await ensure_role(db, 72, Role.ORGANIZER)
    with pytest.raises(PermissionDenied):
        await svc.create_invite(db, 72, ADMINS, Role.ORGANIZER, None, 1)
    invite = await svc.create_invite(db, 72, ADMINS, Role.JUROR, None, 1)
    assert invite.role is Role.JUROR
    await _user(db, ADMIN)
    with pytest.raises(InvalidInput):
        await svc.create_invite(db, ADMIN, ADMINS, Role.STUDENT, None, 1)
    with pytest.raises(InvalidInput):
        await svc.create_invite(db, ADMIN, ADMINS, Role.COACH, None, 7)


async def test_university_scoped_organizer_invites_only_into_their_university(db):
    await _user(db, ADMIN)
    unis = await list_universities(db)
    invite = await svc.create_invite(db, ADMIN, ADMINS, Role.ORGANIZER, unis[0].id, 1)
    await _user(db, 80)
    await svc.redeem(db, 80, invite.payload)
    with pytest.raises(PermissionDenied, match="other_university"):
        await svc.create_invite(db, 80, ADMINS, Role.STUDENT, unis[1].id, 10)
    ok = await svc.create_invite(db, 80, ADMINS, Role.STUDENT, unis[0].id, 10)
    async with db() as session:
        assert await session.scalar(select(Invite.university_id).where(Invite.code == ok.code))
