"""Onboarding, profile, /cancel and /delete_my_data through the emulator with simulated users."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.keyboards import LANGUAGE_LABELS
from bot.sandbox.harness import Harness
from bot.services import users as user_service
from models import User
from tests.conftest import ADMIN_ID
from tests.flows.helpers import UNIVERSITY_EN, onboard

UNIVERSITY = {
    "kk": "М.Х. Дулати атындағы Тараз өңірлік университеті",
    "ru": "Таразский региональный университет имени М.Х. Дулати",
    "en": UNIVERSITY_EN,
}


def _strip(html: str) -> str:
    for tag in ("<b>", "</b>", "<i>", "</i>", "<code>", "</code>"):
        html = html.replace(tag, "")
    return html


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_onboarding_in_each_language(harness: Harness, i18n, language):
    t = i18n.translator(language)
    telegram_code = {"kk": "kk", "ru": "ru-RU", "en": "en-US"}[language]
    aru = harness.user(101, "Aru", telegram_code)
    await aru.send("/start")
    # The language question is asked in all three languages, Telegram's one preselected.
    assert all(
        i18n.translator(x).plain("onboarding.choose_language") in aru.last_text
        for x in ("kk", "ru", "en")
    )
    assert "✓ " + LANGUAGE_LABELS[language] in aru.last_buttons
    await aru.tap(LANGUAGE_LABELS[language])
    assert _strip(t("onboarding.consent")).split("\n")[0] in aru.last_text
    await aru.tap(t.plain("onboarding.consent_yes"))
    assert aru.last_text == t("onboarding.choose_university")
    assert any(UNIVERSITY[language] in b for b in aru.last_buttons)
    await aru.tap(UNIVERSITY[language])
    assert aru.last_text == _strip(t("onboarding.ask_group"))
    await aru.send("Pedagogy, PO-21")
    assert _strip(t("onboarding.done")) in aru.texts
    assert t.plain("menu.profile") in aru.last_buttons
    profile = await user_service.get_profile(harness.app.bot_data.db, 101, frozenset())
    assert profile.language == language and profile.consent is True
    assert profile.university.code == "dulaty" and profile.group_name == "Pedagogy, PO-21"
    assert profile.onboarded


async def test_declining_consent_is_recorded_and_onboarding_goes_on(harness, i18n):
    t = i18n.translator("en")
    bek = harness.user(102, "Bek", "en")
    await bek.send("/start")
    await bek.tap("English")
    await bek.tap(t.plain("onboarding.consent_no"))
    assert t("onboarding.choose_university") == bek.last_text
    assert any(t.plain("onboarding.consent_declined").split(":")[0] in x for x in bek.texts)
    profile = await user_service.get_profile(harness.app.bot_data.db, 102, frozenset())
    assert profile.consent is False
    # Consent can be given later from the profile.
    await bek.tap(UNIVERSITY_EN)
    await bek.send("Math, M-11")
    await bek.send("/profile")
    await bek.tap(t.plain("profile.give_consent"))
    profile = await user_service.get_profile(harness.app.bot_data.db, 102, frozenset())
    assert profile.consent is True


async def test_text_where_a_button_is_expected_keeps_the_step(harness, i18n):
    t = i18n.translator("en")
    cem = harness.user(103, "Cem", "en")
    await cem.send("/start")
    await cem.send("English please")  # language step
    assert _strip(t("errors.use_buttons")) in cem.texts
    assert "English" in " ".join(cem.last_buttons)
    await cem.tap("English")
    await cem.send("yes")  # consent step
    assert cem.texts[-2] == t("errors.use_buttons")
    consent_buttons = [t.plain("onboarding.consent_yes"), t.plain("onboarding.consent_no")]
    assert cem.last_buttons == consent_buttons
    await cem.tap(t.plain("onboarding.consent_yes"))
    await cem.send("Dulaty")  # university step
    assert cem.last_text == t("onboarding.choose_university")
    profile = await user_service.get_profile(harness.app.bot_data.db, 103, frozenset())
    assert profile.language == "en" and profile.consent is True and profile.university is None


async def test_bad_group_and_bad_buttons_get_clear_messages(harness, i18n):
    t = i18n.translator("en")
    dina = harness.user(104, "Dina", "en")
    await dina.send("/start")
    await dina.tap("English")
    await dina.tap(t.plain("onboarding.consent_yes"))
    # A forged university id and a garbage button are refused; the step stays.
    message_id = dina.last_message.message_id
    await dina.tap_data("uni:999999", message_id)
    assert dina.last_toast == t.plain("errors.university_not_found")
    await dina.tap_data("zzz:1", message_id)
    assert dina.last_toast == t.plain("errors.stale_button")
    await dina.tap(UNIVERSITY_EN)
    await dina.send("   ")
    assert dina.last_text == _strip(t("onboarding.group_empty"))
    await dina.send("x" * 150)
    assert dina.last_text == t("onboarding.group_too_long", limit=100, length=150)
    await dina.send("Biology, B-2")
    assert t.plain("menu.profile") in dina.last_buttons
    # The university buttons from before are stale now that onboarding is over.
    await dina.tap_data("uni:2", message_id)
    assert dina.last_toast == t.plain("errors.stale_button")
    profile = await user_service.get_profile(harness.app.bot_data.db, 104, frozenset())
    assert profile.university.code == "dulaty"


async def test_restart_mid_onboarding_continues_where_it_stopped(harness, i18n):
    t = i18n.translator("ru")
    erlan = harness.user(105, "Erlan", "ru")
    await erlan.send("/start")
    await erlan.tap(LANGUAGE_LABELS["ru"])
    await erlan.tap(t.plain("onboarding.consent_yes"))
    await harness.restart()
    await erlan.send("/start")
    assert erlan.last_text == t("onboarding.choose_university")
    await erlan.tap(UNIVERSITY["ru"])
    await erlan.send("ФМ-21")
    assert _strip(t("onboarding.done")) in erlan.texts


async def test_profile_changes_and_cancel_keeps_saved_data(harness, i18n):
    t = i18n.translator("en")
    farida = harness.user(106, "Farida", "en")
    await onboard(farida, i18n)
    await farida.send("/profile")
    assert "Pedagogy, PO-21" in farida.last_text
    await farida.tap(t.plain("profile.change_group"))
    await farida.send("/cancel")
    assert farida.last_text == t("cancel.done")
    await farida.send("History, H-1")  # no longer awaited: not saved as the group
    assert farida.last_text == _strip(t("errors.not_understood"))
    await farida.send("/profile")
    assert "Pedagogy, PO-21" in farida.last_text
    await farida.tap(t.plain("profile.change_group"))
    await farida.send("History, H-1")
    assert "History, H-1" in farida.last_text  # the profile is shown again
    await farida.tap(t.plain("profile.change_university"))
    await farida.tap("Shadrinsk State Pedagogical University")
    assert "Russia" in farida.last_text
    await farida.tap(t.plain("profile.change_language"))
    await farida.tap(LANGUAGE_LABELS["kk"])
    kk = i18n.translator("kk")
    assert kk.plain("profile.change_group") in farida.last_buttons


async def test_language_command_switches_at_any_time(harness, i18n):
    gulnar = harness.user(107, "Gulnar", "en")
    await onboard(gulnar, i18n)
    await gulnar.send("/language")
    await gulnar.tap(LANGUAGE_LABELS["ru"])
    await gulnar.send("/help")
    assert _strip(i18n.translator("ru")("help.intro"))[:30] in gulnar.last_text


async def test_delete_my_data_asks_then_removes_everything(harness, i18n):
    t = i18n.translator("en")
    hana = harness.user(108, "Hana", "en")
    await onboard(hana, i18n)
    await hana.send("/delete_my_data")
    await hana.tap(t.plain("delete.keep"))
    assert hana.last_text == t("delete.kept")
    await hana.send("/delete_my_data")
    await hana.tap(t.plain("delete.confirm"))
    assert hana.last_text == t("delete.done")
    async with harness.app.bot_data.db() as session:
        count = await session.scalar(select(func.count(User.id)).where(User.telegram_id == 108))
    assert count == 0
    # Starting again begins a new registration.
    await hana.send("/start")
    assert "English" in " ".join(hana.last_buttons)


async def test_unknown_command_and_unexpected_file(harness, i18n):
    t = i18n.translator("en")
    ivan = harness.user(109, "Ivan", "en")
    await onboard(ivan, i18n)
    await ivan.send("/frobnicate")
    assert ivan.last_text == t("errors.unknown_command")
    await ivan.upload("notes.txt", b"hello")
    assert ivan.last_text == t("errors.unexpected_message")


async def test_command_menus_are_set_per_language(harness, i18n):
    emulator = harness.emulator
    for language in ("kk", "ru", "en"):
        menu = emulator.commands("default", language)
        assert menu[0]["command"] == "start"
        assert menu[0]["description"] == i18n.translator(language).plain("commands.start")
    fallback = emulator.commands("default", "")
    assert fallback[0]["description"] == i18n.translator("kk").plain("commands.start")


async def test_admin_is_alerted_and_user_told_when_a_handler_fails(harness, i18n):
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    jan = harness.user(110, "Jan", "en")
    await jan.send("/start")
    # A reply is tried four times (once, then three retries on 5xx): all four fail.
    harness.emulator.faults.add("sendMessage", kind="server_error", times=4)
    await jan.tap("English")
    harness.errors.clear()  # this failure is the point of the test
    t = i18n.translator("en")
    assert jan.last_text == t("errors.internal")
    assert "⚠️ update" in admin.last_text and "user 110" in admin.last_text
    assert harness.emulator.token not in admin.last_text
    # What was saved before the failure is kept.
    profile = await user_service.get_profile(harness.app.bot_data.db, 110, frozenset())
    assert profile.language == "en"


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_invisible_or_control_characters_as_a_group(harness, i18n, language):
    """Only zero-width characters were accepted as a faculty/group, and a NUL in it ended in
    "something went wrong" on PostgreSQL. Now the first is refused in the user's language
    with the step kept, and the NUL is dropped."""
    t = i18n.translator(language)
    university = {"kk": "Тараз", "ru": "Тараз", "en": UNIVERSITY_EN}[language]
    eva = harness.user(105, "Eva", language)
    await eva.send("/start")
    await eva.tap(LANGUAGE_LABELS[language])
    await eva.tap(t.plain("onboarding.consent_yes"))
    await eva.tap(next(b for b in eva.last_buttons if university in b))
    await eva.send("\u200b\u200c\u2060\ufeff")
    assert eva.last_text == _strip(t("onboarding.group_empty"))
    db = harness.app.bot_data.db
    profile = await user_service.get_profile(db, 105, frozenset())
    assert profile.group_name is None and profile.next_step is user_service.Step.GROUP
    await eva.send("Biology\x00, B-2")
    assert t.plain("menu.profile") in eva.last_buttons
    assert (await user_service.get_profile(db, 105, frozenset())).group_name == "Biology, B-2"
