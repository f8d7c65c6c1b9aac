"""Small steps shared by flow tests."""

from __future__ import annotations

from bot.i18n import I18n
from bot.keyboards import LANGUAGE_LABELS
from bot.sandbox.users import SimulatedUser

UNIVERSITY_EN = "M.Kh. Dulaty Taraz Regional University"


async def onboard(
    user: SimulatedUser,
    i18n: I18n,
    language: str = "en",
    university: str | None = UNIVERSITY_EN,
    group: str = "Pedagogy, PO-21",
) -> None:
    """Take `user` through the whole onboarding."""
    t = i18n.translator(language)
    await user.send("/start")
    await user.tap(LANGUAGE_LABELS[language])
    await user.tap(t.plain("onboarding.consent_yes"))
    if university is not None:  # None: an invite link already set it
        await user.tap(university)
    await user.send(group)
    assert t.plain("menu.title").replace("<b>", "").replace("</b>", "") in user.last_text
