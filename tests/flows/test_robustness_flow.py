"""Double taps, stale buttons, edited messages, group chats, blocking: nothing breaks or flips."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from sqlalchemy import func, select

from bot.callbacks import ConsentPick
from bot.keyboards import LANGUAGE_LABELS
from bot.services import users as user_service
from bot.services.roles import Role
from bot.services.universities import list_universities
from models import User
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import UNIVERSITY_EN, onboard

ADMINS = frozenset({ADMIN_ID})
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
    await user.tap_data(ConsentPick(True).pack(), consent_message)
    await user.tap_data(ConsentPick(False).pack(), consent_message)  # a late press of the other
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
    await harness.deliver(
        {
            "update_id": next(_ids),
            "my_chat_member": {
                "chat": _chat(505),
                "from": member,
                "date": int(time.time()),
                "old_chat_member": {"status": "member", "user": bot_user},
                "new_chat_member": {"status": "kicked", "user": bot_user, "until_date": 0},
            },
        }
    )
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
        await factories.staff(
            harness.app.bot_data.db, telegram_id, role, ADMINS, onboarded=False, first_name="Staff"
        )
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


async def test_a_long_swot_review_fits_and_can_be_submitted(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await factories.campaign(
        harness.app.bot_data.db, ADMIN_ID, ADMINS, "swot_collaboration", "main"
    )
    user = harness.user(520, "Long", "en")
    await onboard(user, i18n)
    await user.send("/surveys")
    await user.tap("SWOT")
    await user.tap(t.plain("surveys.continue"))
    for letter in "SWOT":
        await user.send(f"<{letter}> & " + "very long point, " * 115)  # ~2,000 characters
    await user.tap(t.plain("surveys.skip"))  # the optional role question
    assert "Check your answers" in user.last_text and len(user.last_text) < 4096
    await user.tap(t.plain("surveys.submit"))
    assert "Thank you" in user.last_text


async def test_crafted_audience_and_option_data_is_refused_politely(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await admin.send("/broadcast")
    anchor = admin.last_message.message_id
    draft = admin.last_message.reply_markup["inline_keyboard"][0][0]["callback_data"].split(":")[2]
    await admin.tap_data(f"bc:a:{draft}:university:abc", anchor)
    assert admin.last_toast == t.plain("broadcasts.unknown_audience")
    await admin.tap_data(f"bc:a:{draft}:university:99999999999999999999", anchor)
    assert admin.last_toast == t.plain("broadcasts.unknown_audience")
    await admin.send("/publish")
    await admin.tap("SWOT")
    cp_draft = admin.last_message.reply_markup["inline_keyboard"][0][0]["callback_data"].split(
        ":"
    )[2]
    await admin.tap_data(f"cp:a:{cp_draft}:university:abc", admin.last_message.message_id)
    assert admin.last_toast == t.plain("broadcasts.unknown_audience")
    await admin.tap_data("s:o:1:999:999", admin.last_message.message_id)
    assert admin.last_toast == t.plain("errors.stale_button")


async def test_a_stale_discard_button_never_cancels_a_sent_broadcast(harness, i18n):
    from bot.services import broadcasts as bsvc

    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await admin.send("/broadcast")
    audience_message = admin.last_message.message_id
    await admin.tap(t.plain("broadcasts.audience_all"))
    await admin.send("News")
    await admin.tap(t.plain("broadcasts.no_buttons"))
    await admin.tap(t.plain("broadcasts.send_now", count=1))
    views = await bsvc.list_recent(harness.app.bot_data.db, ADMIN_ID, frozenset({ADMIN_ID}))
    await harness.app.bot_data.broadcaster.wait(views[0].id)
    await admin.tap_data(f"bc:d:{views[0].id}", audience_message)
    assert admin.last_toast == t.plain("broadcasts.already_confirmed")
    view = await bsvc.get(harness.app.bot_data.db, views[0].id)
    assert view.state.value == "done" and view.counts == {"sent": 1}


PACK = Path(__file__).resolve().parents[1] / "content" / "all_types_pack.yaml"


async def test_a_double_tap_on_a_tick_box_leaves_it_ticked(harness, i18n):
    from bot.services import content as content_service

    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    pack = PACK
    assert (await content_service.load_path(db, pack)).ok
    await factories.campaign(db, ADMIN_ID, ADMINS, "all_types", "pre")
    user = harness.user(530, "Tap", "en")
    await onboard(user, i18n)
    await user.send("/surveys")
    await user.tap("All types")
    await user.tap(t.plain("surveys.continue"))
    await user.tap("First year")
    question = user.last_message
    zoom = next(
        b["callback_data"]
        for row in question.reply_markup["inline_keyboard"]
        for b in row
        if b["text"] == "☐ Zoom"
    )
    await user.tap_data(zoom, question.message_id)
    await user.tap_data(zoom, question.message_id)  # the second tap of a double tap
    assert "☑ Zoom" in user.last_buttons


async def test_an_old_format_consent_button_shows_the_step_again(harness, i18n):
    """Review: consent buttons were `cons:y`/`cons:n` before typed buttons; a student midway
    through onboarding at the upgrade pressed one and got only "no longer active"."""
    t = i18n.translator("en")
    user = harness.user(590, "Old", "en")
    await user.send("/start")
    await user.tap("English")
    consent_message = user.last_message.message_id
    await user.tap_data("cons:y", consent_message)
    assert user.last_toast == t.plain("errors.stale_button")
    assert t.plain("onboarding.consent_yes") in user.last_buttons  # the step, shown again
    await user.tap(t.plain("onboarding.consent_yes"))
    assert t.plain("onboarding.consent_yes") not in user.last_buttons
