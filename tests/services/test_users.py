"""Users service against a real migrated SQLite database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.services import InvalidInput, NotFound
from bot.services import users as svc
from bot.services.roles import Role
from bot.services.universities import list_universities
from bot.services.users import Step
from models import User, UserRole
from tests import factories

ADMINS = frozenset({1})


async def _new(db, telegram_id=42, language=None):
    """Aru's first message to the bot (the step these tests start from)."""
    return await factories.person(
        db, telegram_id, ADMINS, first_name="Aru", username="aru", telegram_language=language
    )


async def test_first_contact_creates_user_and_steps_follow_the_stored_columns(db):
    profile = await _new(db, language="ru-RU")
    assert profile.next_step is Step.LANGUAGE and not profile.onboarded
    profile = await svc.set_language(db, 42, "ru", ADMINS)
    assert profile.next_step is Step.CONSENT
    profile = await svc.set_consent(db, 42, False, ADMINS)
    assert profile.consent is False and profile.next_step is Step.UNIVERSITY
    universities = await list_universities(db)
    profile = await svc.set_university(db, 42, universities[0].id, ADMINS)
    assert profile.next_step is Step.GROUP
    profile = await svc.set_group(db, 42, "  Pedagogy,\n  PO-21 ", ADMINS)
    assert profile.group_name == "Pedagogy, PO-21"
    assert profile.next_step is None and profile.onboarded
    # A new session reads the same progress back: nothing lives only in memory.
    again = await svc.get_profile(db, 42, ADMINS)
    assert again == profile


async def test_seen_is_idempotent_and_marks_reachable_again(db):
    await _new(db)
    await svc.mark_unreachable(db, 42)
    assert not (await svc.get_profile(db, 42, ADMINS)).reachable
    profile = await _new(db)
    assert profile.reachable
    async with db() as session:
        assert await session.scalar(select(func.count(User.id))) == 1


async def test_bad_group_is_refused_and_nothing_is_lost(db):
    await _new(db)
    await svc.set_group(db, 42, "Math, M-1", ADMINS)
    with pytest.raises(InvalidInput) as exc:
        await svc.set_group(db, 42, "   ", ADMINS)
    assert exc.value.key == "onboarding.group_empty"
    with pytest.raises(InvalidInput) as exc:
        await svc.set_group(db, 42, "x" * 101, ADMINS)
    assert exc.value.key == "onboarding.group_too_long" and exc.value.values["limit"] == 100
    assert (await svc.get_profile(db, 42, ADMINS)).group_name == "Math, M-1"


async def test_unknown_or_hidden_university_is_refused(db):
    await _new(db)
    with pytest.raises(NotFound):
        await svc.set_university(db, 42, 999_999, ADMINS)
    with pytest.raises(InvalidInput):
        await svc.set_language(db, 42, "de", ADMINS)


async def test_admin_role_comes_from_admin_ids(db):
    profile = await svc.seen(
        db, 1, first_name="Admin", username=None, telegram_language=None, admin_ids=ADMINS
    )
    assert profile.has(Role.ADMIN) and profile.has(Role.STUDENT)
    assert not (await _new(db)).has(Role.ADMIN)


async def test_delete_user_removes_profile_and_roles(db):
    from bot.services.roles import ensure_role

    await _new(db)
    await ensure_role(db, 42, Role.COACH)
    assert (await svc.get_profile(db, 42, ADMINS)).has(Role.COACH)
    assert await svc.delete_user(db, 42) is True
    assert await svc.delete_user(db, 42) is False
    async with db() as session:
        assert await session.scalar(select(func.count(User.id))) == 0
        assert await session.scalar(select(func.count(UserRole.id))) == 0
    with pytest.raises(NotFound):
        await svc.get_profile(db, 42, ADMINS)


async def test_control_characters_in_names_are_removed_the_same_on_every_database(db):
    """A NUL typed into the faculty/group (and one in a Telegram name) was stored as is on
    SQLite and failed with "something went wrong" on PostgreSQL; now both keep the text
    without it (tests/pg/test_pg_suite_users.py runs this on PostgreSQL)."""
    profile = await svc.seen(
        db, 42, first_name="Aru\x00\x1b", username="aru", telegram_language=None, admin_ids=ADMINS
    )
    assert profile.first_name == "Aru"
    profile = await svc.set_group(db, 42, "Math\x00, M-1\x7f\x85", ADMINS)
    assert profile.group_name == "Math, M-1"
    assert (await svc.get_profile(db, 42, ADMINS)).group_name == "Math, M-1"
    # The same name again is no change: nothing is written for it.
    assert (
        await svc.seen(
            db,
            42,
            first_name="Aru\x00\x1b",
            username="aru",
            telegram_language=None,
            admin_ids=ADMINS,
        )
    ).first_name == "Aru"


@pytest.mark.parametrize("text", ["\u200b", "\u200b\u200c\u200d\u2060\ufeff", " \u200b\n\u3164"])
async def test_a_group_of_invisible_characters_is_empty(db, text):
    """Only zero-width characters used to count as a group name; whitespace alone did not."""
    await _new(db)
    await svc.set_group(db, 42, "Math, M-1", ADMINS)
    with pytest.raises(InvalidInput) as exc:
        await svc.set_group(db, 42, text, ADMINS)
    assert exc.value.key == "onboarding.group_empty"
    assert (await svc.get_profile(db, 42, ADMINS)).group_name == "Math, M-1"


async def test_the_read_of_every_update_gives_the_stored_profile(db):
    """Tried: `seen` with nothing changed (its one read, as plain columns) for a student with a
    university, an organizer and coach and an admin by id, and for someone without a
    university: each profile equals the one read through the ORM (`get_profile`)."""
    from bot.services.roles import grant

    universities = await list_universities(db)
    await factories.student(db, 50, ADMINS, first_name="Aru", username="aru", university=1)
    await factories.student(db, 51, ADMINS, first_name="Bek", username=None)
    async with db.begin() as session:
        user = await session.scalar(select(User).where(User.telegram_id == 51))
        await grant(session, user, Role.ORGANIZER, university_id=universities[0].id)
        await grant(session, user, Role.COACH)
    await factories.person(db, 1, ADMINS, first_name="Admin")
    await _new(db, 52)
    for telegram_id, first_name, username in (
        (50, "Aru", "aru"),
        (51, "Bek", None),
        (1, "Admin", None),
        (52, "Aru", "aru"),
    ):
        stored = await svc.get_profile(db, telegram_id, ADMINS)
        seen = await svc.seen(
            db,
            telegram_id,
            first_name=first_name,
            username=username,
            telegram_language=None,
            admin_ids=ADMINS,
        )
        assert seen == stored
    assert (await svc.get_profile(db, 51, ADMINS)).roles == {
        Role.STUDENT,
        Role.ORGANIZER,
        Role.COACH,
    }
    assert (await svc.get_profile(db, 50, ADMINS)).university == universities[1]
