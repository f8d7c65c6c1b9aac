"""What a campaign tells its audience and its organizers: invitations and completion rates."""

from __future__ import annotations

from pathlib import Path

from bot.services import content as content_service
from bot.services.roles import Role, ensure_role
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import UNIVERSITY_EN, onboard

PACKS = Path(__file__).resolve().parents[1] / "content"
ADMINS = frozenset({ADMIN_ID})


async def _drain(harness):
    """Run due campaign steps and wait for the messages they queued."""
    await harness.run_jobs()


async def test_an_invitation_without_a_closing_date_says_so_plainly(harness, i18n):
    """A campaign published with "No closing date".

    Tried: reading its invitation. Before the fix it said "It closes: —."; now it says the
    survey has no closing date, in the student's language.
    """
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    assert (await content_service.load_path(db, PACKS / "all_types_pack.yaml")).ok
    students = {"en": harness.user(870, "S", "en"), "ru": harness.user(871, "С", "ru")}
    for language, student in students.items():
        university = "Тараз" if language == "ru" else UNIVERSITY_EN
        await onboard(student, i18n, language=language, university=university)
    await admin.send("/publish")
    await admin.tap("All types")
    await admin.tap(t.plain("campaigns.wave_pre"))
    await admin.tap(t.plain("broadcasts.audience_all"))
    await admin.tap(t.plain("campaigns.no_close"))
    await admin.tap(t.plain("campaigns.publish"))
    await _drain(harness)
    english = students["en"].last_text
    assert english == "📋 All types is open for you, with no closing date."
    assert "—" not in students["ru"].last_text and "Без срока закрытия" in students["ru"].last_text


async def _take(db, telegram_id: int, campaign: int) -> None:
    """Answer every question with its first option, point 3, or a skip, and submit."""
    await factories.attempt(db, telegram_id, campaign, factories.first_options(point=3, number=5))


async def test_completion_counts_the_participants_not_the_staff(harness, i18n):
    """A campaign for everyone, whose audience holds the admin, a coach and an organizer.

    Tried: both students submit, and the coach (trying the survey out) too. Before the fix
    /campaigns counted every onboarded person ("3 of 5 (60%)"); the denominator is the
    campaign's audience of participants, so it now reads 2 of 2 (100%).
    """
    t = i18n.translator("en")
    db = harness.app.bot_data.db
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    assert (await content_service.load_path(db, PACKS / "all_types_pack.yaml")).ok
    for telegram_id, role in ((880, Role.COACH), (881, Role.ORGANIZER)):
        await onboard(harness.user(telegram_id, "Staff", "en"), i18n)
        await ensure_role(db, telegram_id, role)
    for telegram_id in (882, 883):
        await onboard(harness.user(telegram_id, "Student", "en"), i18n)
    campaign = await factories.campaign(db, ADMIN_ID, ADMINS, "all_types", "pre")
    for telegram_id in (880, 882, 883):
        await _take(db, telegram_id, campaign)
    await admin.send("/campaigns")
    assert "submitted 2 of 2 (100%), started 2" in admin.last_text
    assert f"{UNIVERSITY_EN}: 2 of 2 (100%)" in admin.last_text
    assert t("campaigns.list_title").replace("<b>", "").replace("</b>", "") in admin.last_text
