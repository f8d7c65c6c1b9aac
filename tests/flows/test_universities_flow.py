"""Admins manage the universities list in chat."""

from __future__ import annotations

from bot.services.universities import list_universities
from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard


async def test_admin_adds_hides_and_shows_a_university(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await admin.send("/universities")
    assert "Tashkent State Pedagogical University named after Nizami" in admin.last_text
    await admin.tap(t.plain("universities.add"))
    await admin.send("Abai University")  # no country: explained, still waiting
    assert admin.last_text.startswith("I could not read that")
    await admin.send("XYZ | Abai University")
    assert admin.last_text == t("universities.bad_country", value="XYZ")
    await admin.send("KZ | Abai University | Университет Абая | Абай университеті")
    assert t("universities.added", name="Abai University") in admin.texts
    db = harness.app.bot_data.db
    assert "Abai University" in {u.name("en") for u in await list_universities(db)}
    await admin.tap(t.plain("universities.hide", name="Abai University"))
    assert admin.last_toast == t.plain("universities.hidden", name="Abai University")
    assert "Abai University" not in {u.name("en") for u in await list_universities(db)}
    # A student picking a university no longer sees it.
    student = harness.user(400, "Asel", "en")
    await student.send("/start")
    await student.tap("English")
    await student.tap(t.plain("onboarding.consent_yes"))
    assert not any("Abai" in b for b in student.last_buttons)
    await admin.tap(t.plain("universities.show", name="Abai University"))
    assert "Abai University" in {u.name("en") for u in await list_universities(db)}
