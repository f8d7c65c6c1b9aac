"""A deep link opened before onboarding is complete is kept and followed afterwards.

Through the emulator: a newcomer opens `?start=c-dlt_course`, goes through onboarding with a
restart in the middle and ends enrolled with the pre-test offered; a second link replaces the
first; a link to a course that does not exist is said so after onboarding and enrols nothing;
an unknown prefix is refused at once and kept for nothing; an invite still acts at once.
"""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from bot.keyboards import LANGUAGE_LABELS
from bot.services import users as user_service
from bot.services.roles import Role
from models import Enrolment, Invite
from tests.conftest import ADMIN_ID
from tests.flows.helpers import UNIVERSITY_EN, onboard

COURSE = "dlt_course"
TITLE = "Digital learning technologies"


def _visible(text: str) -> str:
    """A translated HTML text as the person reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def _enrolments(harness) -> list[str]:
    async with harness.app.bot_data.db() as session:
        return list(await session.scalars(select(Enrolment.course_code)))


async def _pending(harness, telegram_id: int) -> str | None:
    profile = await user_service.get_profile(harness.app.bot_data.db, telegram_id, frozenset())
    return profile.pending_start


async def test_a_course_link_opened_first_enrols_after_onboarding_across_a_restart(harness, i18n):
    """Tried: /start c-dlt_course from a newcomer: the welcome, the link is said to be kept
    and the language is asked (nothing enrolled yet); language, a restart, consent, university
    and group; right after "registration complete" and the menu the bot says it opens the link,
    enrols (10 lessons) and offers the pre-test; the link is cleared, and a later /start does
    not follow it again.
    """
    t = i18n.translator("en")
    newcomer = harness.user(5101, "Dana", "en")
    await newcomer.send(f"/start c-{COURSE}")
    assert _visible(t("start.welcome", name="Dana")) in newcomer.texts
    assert _visible(t("start.link_kept")) in newcomer.texts
    assert "English" in " ".join(newcomer.last_buttons)  # the language step is asked
    assert await _enrolments(harness) == []
    assert await _pending(harness, 5101) == f"c-{COURSE}"
    await newcomer.tap(LANGUAGE_LABELS["en"])
    await harness.restart()  # mid-onboarding: the link is in the database, not in memory
    await newcomer.tap(t.plain("onboarding.consent_yes"))
    await newcomer.tap(UNIVERSITY_EN)
    assert await _enrolments(harness) == []
    before = len(newcomer.texts)
    await newcomer.send("Pedagogy, PO-21")
    after = newcomer.texts[before:]
    done = after.index(_visible(t("onboarding.done")))
    followed = after.index(_visible(t("start.link_followed")))
    enrolled = after.index(_visible(t("course.enrolled", course=TITLE, lessons=10)))
    assert done < followed < enrolled
    assert _visible(t("course.pre_test_offer")) in after[enrolled:]
    assert await _enrolments(harness) == [COURSE]
    assert await _pending(harness, 5101) is None
    await newcomer.send("/start")
    assert _visible(t("start.welcome_back", name="Dana")) in newcomer.texts
    assert newcomer.texts.count(_visible(t("start.link_followed"))) == 1
    assert await _enrolments(harness) == [COURSE]


async def test_a_second_link_replaces_the_first(harness, i18n):
    """Tried: /start c-no_such_course, then /start c-dlt_course before finishing: only the
    second is followed after onboarding (enrolled, no "course not found")."""
    t = i18n.translator("en")
    newcomer = harness.user(5102, "Erlan", "en")
    await newcomer.send("/start c-no_such_course")
    await newcomer.tap(LANGUAGE_LABELS["en"])
    await newcomer.send(f"/start c-{COURSE}")
    assert await _pending(harness, 5102) == f"c-{COURSE}"
    assert newcomer.last_text == _visible(t("onboarding.consent"))  # onboarding goes on
    await newcomer.tap(t.plain("onboarding.consent_yes"))
    await newcomer.tap(UNIVERSITY_EN)
    await newcomer.send("G-1")
    assert _visible(t("course.not_found")) not in newcomer.texts
    assert await _enrolments(harness) == [COURSE]


async def test_a_bad_link_is_said_so_after_onboarding_and_enrols_nothing(harness, i18n):
    """Tried: a course code that does not exist, kept through onboarding: after the last step
    the bot says it opens the link and then that the course is not found; nothing enrolled."""
    t = i18n.translator("en")
    newcomer = harness.user(5103, "Farida", "en")
    await newcomer.send("/start c-no_such_course")
    assert _visible(t("start.link_kept")) in newcomer.texts
    await newcomer.tap(LANGUAGE_LABELS["en"])
    await newcomer.tap(t.plain("onboarding.consent_yes"))
    await newcomer.tap(UNIVERSITY_EN)
    await newcomer.send("G-1")
    texts = newcomer.texts
    assert texts.index(_visible(t("start.link_followed"))) < texts.index(
        _visible(t("course.not_found"))
    )
    assert await _enrolments(harness) == []
    assert await _pending(harness, 5103) is None


async def test_an_unknown_prefix_is_refused_at_once_and_not_kept(harness, i18n):
    """Tried: /start zz-abc and a payload no Telegram link can carry (over 64 characters):
    "invalid link" at once, onboarding goes on, nothing kept, and after onboarding nothing is
    followed."""
    t = i18n.translator("en")
    newcomer = harness.user(5104, "Gulnar", "en")
    await newcomer.send("/start zz-abc")
    assert _visible(t("invites.unknown")) in newcomer.texts
    assert _visible(t("start.link_kept")) not in newcomer.texts
    assert "English" in " ".join(newcomer.last_buttons)
    await newcomer.send("/start c-" + "x" * 70)
    assert newcomer.texts.count(_visible(t("invites.unknown"))) == 2
    assert await _pending(harness, 5104) is None
    await onboard(newcomer, i18n)
    assert _visible(t("start.link_followed")) not in newcomer.texts


async def test_an_invite_still_acts_during_onboarding_and_a_course_link_waits(harness, i18n):
    """Tried: a newcomer opens a course link, then a student invite of another university: the
    invite grants its university at once (onboarding then skips that step), the course link is
    still kept and followed after the group."""
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await admin.send("/invite")
    await admin.tap(t.plain("roles.student"))
    await admin.tap("Tashkent State Pedagogical University named after Nizami")
    await admin.tap("1")
    async with harness.app.bot_data.db() as session:
        code = await session.scalar(select(Invite.code).order_by(Invite.id.desc()))
        assert await session.scalar(select(func.count(Invite.id))) == 1
    newcomer = harness.user(5105, "Hasan", "en")
    await newcomer.send(f"/start c-{COURSE}")
    await newcomer.send(f"/start i-{code}")
    assert any(t.plain("roles.student") in x for x in newcomer.texts)  # granted at once
    profile = await user_service.get_profile(harness.app.bot_data.db, 5105, frozenset())
    assert profile.has(Role.STUDENT) and profile.university is not None
    assert profile.pending_start == f"c-{COURSE}"
    await newcomer.tap(LANGUAGE_LABELS["en"])
    await newcomer.tap(t.plain("onboarding.consent_yes"))
    await newcomer.send("G-2")  # no university step: the invite set it
    assert _visible(t("start.link_followed")) in newcomer.texts
    assert await _enrolments(harness) == [COURSE]


async def test_an_onboarded_person_opening_a_link_gets_its_screen_last(harness, i18n):
    """Tried: a registered student opens ?start=c-dlt_course: the course's own screen (enrolled,
    the pre-test offered) is the last thing in the chat, with no greeting and main menu after
    it pushing it up; a plain /start still greets and shows the menu."""
    t = i18n.translator("en")
    student = harness.user(5105, "Mira", "en")
    await onboard(student, i18n)
    before = len(student.texts)
    await student.send(f"/start c-{COURSE}")
    after = student.texts[before:]
    assert _visible(t("course.enrolled", course=TITLE, lessons=10)) in after
    assert _visible(t("start.welcome_back", name="Mira")) not in after
    assert _visible(t("course.pre_test_offer")) in after
    menu = _visible(t("menu.title"))
    assert not [text for text in after if menu in text]  # no main menu pushing it up
    before = len(student.texts)
    await student.send("/start")
    assert _visible(t("start.welcome_back", name="Mira")) in student.texts[before:]
    assert [text for text in student.texts[before:] if menu in text]
