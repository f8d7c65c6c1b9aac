"""Typed survey answers with invisible or control characters, and dates out of range, in chat."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services import content as content_service
from models import Answer
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard

PACK = Path(__file__).resolve().parents[1] / "content" / "all_types_pack.yaml"
LABELS = {
    "kk": ("Барлық түрлер", "1-курс", "Басқа", "Тараз"),
    "ru": ("Все типы", "1 курс", "Другое", "Тараз"),
    "en": ("All types", "First year", "Other", "M.Kh. Dulaty Taraz Regional University"),
}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_invisible_answers_and_dates_out_of_range_keep_the_question(harness, i18n, language):
    """Tried: an answer of zero-width characters (was stored as an answer), one with a NUL
    (stored as typed: PostgreSQL refuses it), and the date 01.01.0001 (was stored as year 1).
    Each now gets a message in the user's language and the same question stays open."""
    t = i18n.translator(language)
    title, first_year, other, university = LABELS[language]
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    assert (await content_service.load_path(db, PACK)).ok
    await factories.campaign(db, ADMIN_ID, frozenset({ADMIN_ID}), "all_types", "pre")
    aru = harness.user(720, "Aru", language)
    await onboard(aru, i18n, language=language, university=university)
    await aru.send("/surveys")
    await aru.tap(title)
    await aru.tap(t.plain("surveys.continue"))
    await aru.tap(first_year)
    await aru.tap(f"☐ {other}")
    await aru.tap(t.plain("surveys.done"))
    question = aru.last_text
    await aru.send("\u200b\u200c\u2060\ufeff")
    assert aru.last_text == t("surveys.empty_text")
    await aru.send("Pad\x00let")
    assert aru.last_text != question  # the next question
    await aru.tap("4")
    await aru.tap("3")
    await aru.tap("2")
    await aru.send("12")
    for bad in ("01.01.0001", "0001-01-01", "31.12.2101"):
        await aru.send(bad)
        assert aru.last_text == t("surveys.date_out_of_range", low="01.01.1900", high="31.12.2100")
    await aru.send("\u200e01.09.2026")
    async with db() as session:
        stored = dict((await session.execute(select(Answer.item_code, Answer.value))).all())
    assert stored["tools_other"] == "Padlet" and stored["since"] == "2026-09-01"
