"""/event_stats in chat: a coach sees their event's figures, the chart and the registrant list.

The events and registrations are inserted as `tests/services/test_event_data.py` does (as the
events' services leave them); the coach who scheduled the webinar and the others are made
through the factories, and everything else happens in chat through the emulator.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from bot.callbacks import EventStatsList, EventStatsPick
from models import ExportLog
from tests import factories
from tests.conftest import ADMIN_ID
from tests.services.test_event_data import ADMINS, COMMENT, seed

COACH = 7101


async def _download(harness, document: dict) -> bytes:
    file = await harness.app.bot.get_file(document["file_id"])
    return bytes(await file.download_as_bytearray())


async def test_a_coach_sees_their_event_and_takes_the_list(harness, i18n):
    """Tried: the coach who scheduled one event sends /event_stats in Russian: it opens at once
    (the only one they may see) with registered 3 of 3 places, waiting 1, reminded 4 (7 sent),
    attended 2, no-shows 1, feedback 4,0 of 5 (n = 2), the comment, both universities, and a
    chart; the list button sends a CSV naming the five registrants, recorded in the export log
    as identified; `/event_stats sem1` (another university's seminar) is refused as not theirs,
    `/event_stats nope` is not found; a forged pick of an unknown event is answered clearly."""
    db = harness.app.bot_data.db
    t = i18n.translator("ru")
    await factories.coach(db, COACH, ADMINS, university=0, language="ru")
    seeded = await seed(db, owner=COACH)
    coach = harness.user(COACH, "Coach", "ru")

    await coach.send("/event_stats")
    text = next(x for x in coach.texts if x.startswith("📊"))
    assert "Event web1 ru" in text
    assert "Зарегистрировались: 3 / 3 мест · в листе ожидания: 1 · отменили: 1" in text
    assert "Получили напоминание: 4 чел. (всего напоминаний: 7)" in text
    assert "Пришли: 2 · не пришли: 1" in text
    assert "Оценка: 4,0 из 5 (n = 2)" in text
    assert COMMENT in text
    universities = text.split("По университетам")[1].split("Комментарии")[0].splitlines()[1:]
    assert [line for line in universities if line.startswith("•")] == [
        f"• {seeded.universities[0].code}: 2 / 0 / 1 / 1, 5,0 из 5 (n = 1)",
        f"• {seeded.universities[4].code}: 1 / 1 / 1 / 0, 3,0 из 5 (n = 1)",
    ]
    assert coach.messages[-1].photo
    (figures,) = [m for m in coach.messages if (m.text or "").startswith("📊")]
    assert coach.buttons_of(figures) == [t.plain("event_stats.list_button")]

    await coach.tap(t.plain("event_stats.list_button"))
    document = coach.last_message.document
    assert document["file_name"] == "ortaq-registrants-web1.csv"
    rows = list(
        csv.DictReader(io.StringIO((await _download(harness, document)).decode("utf-8-sig")))
    )
    assert [r["telegram_id"] for r in rows] == [
        "111111111",
        "222222222",
        "333333333",
        "444444444",
        "555555555",
    ]
    async with db() as session:
        (logged,) = (await session.scalars(select(ExportLog))).all()
    assert (logged.actor_telegram_id, logged.dataset, logged.identified) == (
        COACH,
        "registrants",
        True,
    )

    await coach.send("/event_stats sem1")
    assert coach.last_text == t("event_stats.not_yours")
    await coach.send("/event_stats nope")
    assert coach.last_text == t("event_stats.not_found")
    await coach.tap_data(EventStatsPick(999999).pack(), coach.last_message.message_id)
    assert coach.last_text == t("event_stats.not_found")
    await coach.tap_data(EventStatsList(seeded.seminar).pack(), coach.last_message.message_id)
    assert coach.last_toast == t.plain("event_stats.not_yours")
    async with db() as session:
        assert len((await session.scalars(select(ExportLog))).all()) == 1  # nothing more


async def test_an_admin_picks_among_events_and_a_student_is_refused(harness, i18n):
    """Tried: an admin with three events (the draft not offered) picks the seminar, which is
    ahead: no-shows not counted yet, no feedback; a student's /event_stats, a student's pick
    and list buttons are refused."""
    db = harness.app.bot_data.db
    seeded = await seed(db)
    await factories.admin(db, ADMIN_ID, frozenset({ADMIN_ID}))
    en = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await admin.send("/event_stats")
    assert admin.last_text == en("event_stats.choose")
    assert len(admin.last_buttons) == 3 and not any("drf1" in b for b in admin.last_buttons)
    (seminar,) = [b for b in admin.last_buttons if "Event sem1" in b]
    await admin.tap(seminar)
    text = next(x for x in admin.texts if x.startswith("📊 Event sem1"))
    assert "Registered: 1 · waiting: 0 · cancelled: 0" in text
    assert en("event_stats.attended_so_far", attended=0) in text
    assert en("event_stats.no_feedback") in text

    student = harness.user(111111111, "Student", "kk")
    kk = i18n.translator("kk")
    await student.send("/event_stats")
    assert student.last_text == kk("errors.not_allowed")
    for button in (EventStatsPick(seeded.webinar), EventStatsList(seeded.webinar)):
        await student.tap_data(button.pack(), student.last_message.message_id)
        assert student.last_toast == kk.plain("errors.not_allowed")
