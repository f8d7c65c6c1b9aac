"""Double taps, stale buttons, edited messages, group chats, blocking: nothing breaks or flips."""

from __future__ import annotations

import itertools
import time

from sqlalchemy import func, select

from bot.keyboards import LANGUAGE_LABELS
from bot.services import users as user_service
from bot.services.roles import Role, ensure_role
from bot.services.universities import list_universities
from models import User
from tests.conftest import ADMIN_ID
from tests.flows.helpers import UNIVERSITY_EN, onboard

_ids = itertools.count(10_000_000)


def _chat(user_id: int, kind: str = "private") -> dict:
    if kind == "private":
        return {"id": user_id, "type": "private", "first_name": f"U{user_id}"}
    return {"id": -1001234, "type": "supergroup", "title": "Teachers"}


def _edited(user_id: int, message_id: int, text: str) -> dict:
    return {
        "update_id": next(_ids),
        "edited_message": {
            "message_id": message_id,
            "date": int(time.time()) - 60,
            "edit_date": int(time.time()),
            "chat": _chat(user_id),
            "from": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"},
            "text": text,
        },
    }


async def _profile(harness, telegram_id):
    return await user_service.get_profile(harness.app.bot_data.db, telegram_id, frozenset())


async def test_double_tap_on_consent_and_language_is_harmless(harness, i18n):
    t = i18n.translator("en")
    user = harness.user(501, "Ayan", "en")
    await user.send("/start")
    language_message = user.last_message.message_id
    await user.tap_data("lang:en", language_message)
    await user.tap_data("lang:en", language_message)  # the second tap of a double tap
    consent_message = user.last_message.message_id
    await user.tap_data("cons:y", consent_message)
    await user.tap_data("cons:n", consent_message)  # a late press of the other button
    assert user.last_toast == t.plain("errors.stale_button")
    assert (await _profile(harness, 501)).consent is True
    assert t("errors.internal") not in user.texts


async def test_a_stale_withdraw_button_never_gives_consent_back(harness, i18n):
    t = i18n.translator("en")
    user = harness.user(502, "Bota", "en")
    await onboard(user, i18n)
    await user.send("/profile")
    old_profile = user.last_message.message_id
    await user.tap(t.plain("profile.withdraw_consent"))
    assert (await _profile(harness, 502)).consent is False
    # Pressing the same old "withdraw" again must not flip consent back on.
    await user.tap(t.plain("profile.withdraw_consent"), message_id=old_profile)
    assert (await _profile(harness, 502)).consent is False


async def test_edited_messages_are_not_taken_as_answers(harness, i18n):
    user = harness.user(503, "Chingiz", "en")
    await user.send("/start")
    await user.tap("English")
    await user.tap(i18n.translator("en").plain("onboarding.consent_yes"))
    await user.tap(UNIVERSITY_EN)
    # The bot now waits for the group; editing the old /start message must not answer it.
    await harness.deliver(_edited(503, 1, "Edited into a group name"))
    assert (await _profile(harness, 503)).group_name is None


async def test_people_writing_in_a_group_are_not_registered(harness):
    update = {
        "update_id": next(_ids),
        "message": {
            "message_id": 7,
            "date": int(time.time()),
            "chat": _chat(0, "group"),
            "from": {"id": 504, "is_bot": False, "first_name": "Stranger"},
            "text": "hello everyone",
        },
    }
    await harness.deliver(update)
    async with harness.app.bot_data.db() as session:
        stranger = select(func.count(User.id)).where(User.telegram_id == 504)
        assert await session.scalar(stranger) == 0


async def test_blocking_the_bot_is_recorded_and_writing_again_undoes_it(harness, i18n):
    user = harness.user(505, "Dana", "en")
    await onboard(user, i18n)
    member = {"id": 505, "is_bot": False, "first_name": "Dana"}
    bot_user = harness.emulator.bot_user
    await harness.deliver({
        "update_id": next(_ids),
        "my_chat_member": {
            "chat": _chat(505),
            "from": member,
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": bot_user},
            "new_chat_member": {"status": "kicked", "user": bot_user, "until_date": 0},
        },
    })
    assert (await _profile(harness, 505)).reachable is False
    await user.send("/help")
    assert (await _profile(harness, 505)).reachable is True


async def test_a_stale_hide_button_does_not_show_the_university_again(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await admin.send("/universities")
    first_list = admin.last_message.message_id
    label = t.plain("universities.hide", name="Shadrinsk State Pedagogical University")
    await admin.tap(label)
    await admin.tap(label, message_id=first_list)  # the old list's button, pressed again
    db = harness.app.bot_data.db
    assert "shadrinsk" not in {u.code for u in await list_universities(db)}


async def test_coaches_and_jurors_are_refused_privileged_commands(harness, i18n):
    t = i18n.translator("en")
    for telegram_id, role in ((506, Role.COACH), (507, Role.JUROR)):
        user = harness.user(telegram_id, "Staff", "en")
        await onboard(user, i18n)
        await ensure_role(harness.app.bot_data.db, telegram_id, role)
        for command in ("/invite", "/universities"):
            await user.send(command)
            assert user.last_text == t("errors.not_allowed"), (role, command)
    juror = harness.user(507, "Staff", "en")
    await juror.send("/broadcast")
    assert juror.last_text == t("errors.not_allowed")


async def test_profile_buttons_from_before_a_deletion_wait_for_registration(harness, i18n):
    t = i18n.translator("en")
    user = harness.user(508, "Erzhan", "en")
    await onboard(user, i18n)
    await user.send("/profile")
    old_profile = user.last_message.message_id
    await user.send("/delete_my_data")
    await user.tap(t.plain("delete.confirm"))
    await user.send("/start")
    await user.tap(t.plain("profile.change_group"), message_id=old_profile)
    assert user.last_toast == t.plain("errors.stale_button")
    assert (await _profile(harness, 508)).group_name is None
    await user.tap(LANGUAGE_LABELS["en"])
