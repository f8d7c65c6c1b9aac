"""/broadcast end to end through the emulator: languages, faults, cancel, restarts, scheduling."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from sqlalchemy import select

from bot.gateway import Gateway, Outgoing, SendResult
from bot.services import broadcasts as svc
from bot.services import users
from bot.services.broadcasts import State
from bot.services.roles import Role, ensure_role
from bot.services.universities import list_universities
from models import Delivery, User, utcnow
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard

LANGS = ("kk", "ru", "en")
TEXT = "[kk]\nСәлем, студенттер!\n[ru]\nПривет, студенты!\n[en]\nHello, students!"
BOLD = ("Сәлем", "Привет", "Hello")
SEEN = {"kk": "Сәлем, студенттер!", "ru": "Привет, студенты!", "en": "Hello, students!"}


async def _students(harness, n, start=2000):
    db = harness.app.bot_data.db
    unis = await list_universities(db)
    ids = []
    for i in range(n):
        telegram_id = start + i
        harness.emulator.add_user(telegram_id, f"S{i}", language_code="en")
        await factories.student(
            db,
            telegram_id,
            university=unis[i % len(unis)],
            language=LANGS[i % 3],
            first_name=f"S{i}",
            telegram_language="en",
        )
        ids.append(telegram_id)
    return ids


async def _send_formatted(harness, sender, text, bold_words):
    """Send text with bold words, as Telegram's apps do: plain text plus entities."""
    update = harness.emulator.post_message(sender.user_id, text, enqueue=False)
    entities = []
    for word in bold_words:
        start = text.index(word)
        offset = len(text[:start].encode("utf-16-le")) // 2
        entities.append(
            {"type": "bold", "offset": offset, "length": len(word.encode("utf-16-le")) // 2}
        )
    update["message"]["entities"] = entities
    await harness.deliver(update)


async def _compose(sender, t, text=TEXT, audience="broadcasts.audience_all", harness=None):
    await sender.send("/broadcast")
    await sender.tap(t.plain(audience))
    if harness is not None:
        await _send_formatted(harness, sender, text, BOLD)
    else:
        await sender.send(text)
    await sender.tap(t.plain("broadcasts.no_buttons"))


async def _latest_id(harness):
    views = await svc.list_recent(harness.app.bot_data.db, ADMIN_ID, frozenset({ADMIN_ID}))
    return views[0].id


def _received(harness, chat_id):
    return list(harness.emulator.bot_messages(chat_id))


async def test_broadcast_reaches_everyone_once_in_their_language(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    students = await _students(harness, 45)
    await _compose(admin, t, harness=harness)
    assert "Recipients: 46" in admin.last_text  # 45 students and the admin
    assert "kk, ru, en" in admin.last_text
    assert "Hello, students!" in admin.texts  # the preview, in the sender's language
    await admin.tap(t.plain("broadcasts.send_now", count=46))
    broadcast_id = await _latest_id(harness)
    await harness.app.bot_data.broadcaster.wait(broadcast_id)
    for i, chat in enumerate(students):
        texts = [m.text for m in _received(harness, chat)]
        assert texts == [SEEN[LANGS[i % 3]]], chat
        assert _received(harness, chat)[0].entities[0]["type"] == "bold"
    assert harness.emulator.stats.too_many_requests == 0
    report = next(m for m in admin.messages if f"Broadcast #{broadcast_id}" in (m.text or ""))
    assert "finished" in report.text and "Sent: 46 of 46" in report.text
    await admin.send("/broadcasts")
    assert f"#{broadcast_id}" in admin.last_text and "sent 46 of 46" in admin.last_text
    # A second tap on the (now removed) Send button is refused, nothing is sent twice.
    sends = harness.emulator.stats.calls["sendMessage"]
    await admin.tap_data(f"bc:go:{broadcast_id}", admin.messages[-3].message_id)
    assert admin.last_toast == t.plain("broadcasts.already_confirmed")
    assert harness.emulator.stats.calls["sendMessage"] == sends


async def test_faults_are_survived_and_reported(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    students = await _students(harness, 30)
    blocked, deleted = students[0], students[1]
    harness.emulator.block(blocked)
    harness.emulator.delete_chat(deleted)
    await _compose(admin, t, text="Plain news")
    # Faults aimed at recipients' chats, so the sender's own replies are not affected.
    faults = harness.emulator.faults
    faults.add("sendMessage", kind="retry_after", retry_after=4, times=1, chat_id=students[5])
    faults.add("sendMessage", kind="server_error", status=500, times=2, chat_id=students[6])
    faults.add("sendMessage", kind="network", times=1, chat_id=students[7])
    faults.add("sendMessage", kind="latency", delay=0.01, times=3, chat_id=students[8])
    began = harness.clock.now()
    await admin.tap(t.plain("broadcasts.send_now", count=31))
    broadcast_id = await _latest_id(harness)
    await harness.app.bot_data.broadcaster.wait(broadcast_id)
    view = await svc.get(harness.app.bot_data.db, broadcast_id)
    assert view.counts == {"sent": 29, "skipped": 2}
    assert harness.clock.now() - began >= 4  # waited exactly as Telegram asked
    assert harness.app.bot_data.gateway.flood_waits == 1
    for chat in students[2:]:
        assert [m.text for m in _received(harness, chat)] == ["Plain news"]
    db = harness.app.bot_data.db
    assert not (await users.get_profile(db, blocked, frozenset())).reachable
    assert not (await users.get_profile(db, deleted, frozenset())).reachable
    # The final report offers the failures as a file.
    await admin.tap(t.plain("broadcasts.failures_file"))
    document = admin.last_message
    assert document.document["file_name"] == f"broadcast-{broadcast_id}-failures.csv"
    file_path = (await harness.app.bot.get_file(document.document["file_id"])).file_path
    content = harness.emulator.download(file_path.rsplit("/", 1)[-1]) or b""
    if not content:
        content = await (
            await harness.app.bot.get_file(document.document["file_id"])
        ).download_as_bytearray()
    lines = bytes(content).decode("utf-8-sig").splitlines()
    assert lines[0] == "telegram_id,first_name,university,state,reason"
    assert {line.split(",")[0] for line in lines[1:]} == {str(blocked), str(deleted)}
    # The next broadcast skips them without calling Telegram.
    calls = harness.emulator.stats.calls["sendMessage"]
    await _compose(admin, t, text="Second news")
    await admin.tap(t.plain("broadcasts.send_now", count=31))
    second = await _latest_id(harness)
    await harness.app.bot_data.broadcaster.wait(second)
    assert (await svc.get(db, second)).counts == {"sent": 29, "skipped": 2}
    assert harness.emulator.stats.calls["sendMessage"] - calls < 29 + 10


async def test_bad_content_and_audiences_get_clear_messages(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await _students(harness, 3)
    await admin.send("/broadcast")
    await admin.tap(t.plain("broadcasts.audience_country"))
    await admin.tap("Uzbekistan")  # students are at KZ universities 0-2 only
    assert admin.last_toast == t.plain("broadcasts.nobody")
    await admin.tap("Kazakhstan")
    sticker = harness.emulator.post_message(ADMIN_ID, "placeholder", enqueue=False)
    message = sticker["message"]
    del message["text"]
    message.pop("entities", None)
    message["sticker"] = {
        "file_id": "CAACAgI",
        "file_unique_id": "AgAD",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    await harness.deliver(sticker)
    assert admin.last_text == t("broadcasts.unsupported")
    await admin.send("x" * 4100)
    assert admin.last_text.startswith("The text has 4100 characters")
    await admin.upload_photo(b"\x89PNG\r\n\x1a\n" + b"0" * 64, caption="c" * 1100)
    assert "caption has 1100 characters" in admin.last_text
    await admin.send("Short and fine")
    await admin.send("Not a button line")
    assert admin.last_text.startswith("I could not read this line")
    await admin.send("Course | https://example.kz/course")
    assert "Recipients: 4" in admin.last_text
    sample = admin.messages[-2]
    assert sample.text == "Short and fine" and sample.buttons == ["Course"]


async def test_documents_with_captions_are_broadcast_by_file_id(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    students = await _students(harness, 4)
    await admin.send("/broadcast")
    await admin.tap(t.plain("broadcasts.audience_all"))
    await admin.upload(
        "timetable.pdf", b"%PDF-1.4 timetable", "application/pdf", caption="Timetable for December"
    )
    await admin.tap(t.plain("broadcasts.no_buttons"))
    await admin.tap(t.plain("broadcasts.send_now", count=5))
    await harness.app.bot_data.broadcaster.wait(await _latest_id(harness))
    for chat in students:
        (message,) = _received(harness, chat)
        assert message.document["file_name"] == "timetable.pdf"
        assert message.caption == "Timetable for December"


async def test_non_senders_and_forged_buttons_are_refused(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await _students(harness, 3)
    await _compose(admin, t, text="Mine")
    await admin.tap(t.plain("broadcasts.send_now", count=4))
    broadcast_id = await _latest_id(harness)
    await harness.app.bot_data.broadcaster.wait(broadcast_id)
    student = harness.user(2000, "S0", "en")  # chose Kazakh
    kk = i18n.translator("kk")
    await student.send("/broadcast")
    assert student.last_text == kk("errors.not_allowed")
    await student.send("/broadcasts")
    assert student.last_text == kk("errors.not_allowed")
    anchor = student.last_message.message_id
    for data in (f"bc:x:{broadcast_id}", f"bc:f:{broadcast_id}", f"bc:go:{broadcast_id}"):
        await student.tap_data(data, anchor)
        assert student.last_toast == kk.plain("errors.not_allowed")
    # A coach pressing Cancel on the admin's broadcast is refused too.
    coach = harness.user(2100, "Coach", "en")
    await onboard(coach, i18n)
    await ensure_role(harness.app.bot_data.db, 2100, Role.COACH)
    await coach.tap_data(f"bc:x:{broadcast_id}", coach.last_message.message_id)
    assert coach.last_toast == t.plain("errors.not_allowed")


class PausingGateway(Gateway):
    """Lets `limit` sends through, then holds the next ones until released."""

    def __init__(self, inner: Gateway, limit: int):
        super().__init__(inner.bot, inner.limiter)
        self.limit = limit
        self.sent = 0
        self.reached = asyncio.Event()
        self.release = asyncio.Event()
        self.after_send = False  # hold after Telegram took the message, before recording

    async def send(self, message: Outgoing, *, holds_slot: bool = False) -> SendResult:
        if self.sent >= self.limit and not self.after_send:
            self.reached.set()
            await self.release.wait()
        result = await super().send(message, holds_slot=holds_slot)
        self.sent += 1
        if self.sent > self.limit and self.after_send:
            self.reached.set()
            await self.release.wait()
        return result


async def _start_paused(harness, i18n, limit, after_send=False):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    students = await _students(harness, 40)
    broadcaster = harness.app.bot_data.broadcaster
    pausing = PausingGateway(broadcaster.gateway, limit)
    pausing.after_send = after_send
    broadcaster.gateway = pausing
    await _compose(admin, t, text="Once only")
    await admin.tap(t.plain("broadcasts.send_now", count=41))
    await pausing.reached.wait()
    return admin, students, pausing


def _copies(harness, chats):
    copies = {chat: sum(m.text == "Once only" for m in _received(harness, chat)) for chat in chats}
    if ADMIN_ID in copies:
        copies[ADMIN_ID] -= 1  # the sender's preview is not a delivery
    return copies


async def test_a_restart_mid_broadcast_resumes_and_nobody_gets_two(harness, i18n):
    admin, students, pausing = await _start_paused(harness, i18n, limit=12)
    stopping = asyncio.create_task(harness.stop())
    await asyncio.sleep(0)  # let stop() begin: no new claims from here on
    pausing.release.set()  # in-flight sends finish and are recorded
    await stopping
    partial = _copies(harness, [*students, ADMIN_ID])
    assert 12 <= sum(partial.values()) < 41
    await harness.start()  # a new application on the same database resumes the outbox
    broadcast_id = await _latest_id(harness)
    await harness.app.bot_data.broadcaster.wait(broadcast_id)
    copies = _copies(harness, [*students, ADMIN_ID])
    assert set(copies.values()) == {1}, copies
    view = await svc.get(harness.app.bot_data.db, broadcast_id)
    assert view.state is State.DONE and view.counts == {"sent": 41}
    report = [m for m in admin.messages if f"Broadcast #{broadcast_id}" in (m.text or "")]
    assert len(report) == 1 and "finished" in report[0].text  # the same message, edited


async def _all_claimed_have_left(harness) -> bool:
    """Every delivery claimed and not recorded ("sending") has reached Telegram."""
    async with harness.app.bot_data.db() as session:
        chats = (
            await session.scalars(select(Delivery.chat_id).where(Delivery.state == "sending"))
        ).all()
    return all(
        any(m.text == "Once only" for m in _received(harness, chat))
        for chat in chats
        if chat != ADMIN_ID
    )


async def test_a_crash_after_telegram_accepted_never_sends_twice(harness, i18n):
    _, students, _ = await _start_paused(harness, i18n, limit=10, after_send=True)
    # A worker may have claimed a delivery and not yet sent it when the others are held:
    # the crash is meant to come after Telegram took every claimed one.
    for _ in range(10_000):
        if await _all_claimed_have_left(harness):
            break
        await asyncio.sleep(0)
    await harness.crash()  # killed between Telegram's answer and the outbox record
    await harness.start()
    broadcast_id = await _latest_id(harness)
    await harness.app.bot_data.broadcaster.wait(broadcast_id)
    copies = _copies(harness, [*students, ADMIN_ID])
    assert max(copies.values()) == 1, "a recipient got the broadcast twice"
    view = await svc.get(harness.app.bot_data.db, broadcast_id)
    uncertain = view.counts.get("uncertain", 0)
    assert 1 <= uncertain <= 16  # at most one in flight per worker
    assert view.counts["sent"] + uncertain == 41
    assert sum(copies.values()) == 41  # the uncertain ones had in fact arrived


async def test_cancel_stops_the_broadcast(harness, i18n):
    t = i18n.translator("en")
    admin, students, pausing = await _start_paused(harness, i18n, limit=5)
    broadcast_id = await _latest_id(harness)
    progress = next(m for m in admin.messages if f"Broadcast #{broadcast_id}" in (m.text or ""))
    await admin.tap(t.plain("broadcasts.cancel"), message_id=progress.message_id)
    assert admin.last_toast == t.plain("broadcasts.cancelled")
    pausing.release.set()
    await harness.app.bot_data.broadcaster.wait(broadcast_id)
    view = await svc.get(harness.app.bot_data.db, broadcast_id)
    assert view.state is State.CANCELLED
    assert 5 <= view.counts["sent"] <= 5 + 16 and view.counts["cancelled"] > 0
    assert sum(_copies(harness, [*students, ADMIN_ID]).values()) == view.counts["sent"]
    edited = next(m for m in admin.messages if m.message_id == progress.message_id)
    assert "was cancelled" in edited.text


async def test_scheduled_broadcast_survives_a_restart(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    students = await _students(harness, 5)
    await admin.send("/broadcast")
    await admin.tap(t.plain("broadcasts.audience_all"))
    await admin.send("Webinar tomorrow")
    await admin.tap(t.plain("broadcasts.no_buttons"))
    await admin.tap(t.plain("broadcasts.schedule"))
    await admin.send("tomorrow at six")
    assert admin.last_text.startswith("I could not read that time")
    await admin.send("2020-01-01 10:00")
    assert admin.last_text == t("broadcasts.time_past")
    local = (utcnow() + timedelta(days=1)).astimezone(harness.settings.tz)
    await admin.send(local.strftime("%Y-%m-%d %H:%M"))
    assert re.search(r"Broadcast #\d+ is scheduled for", admin.last_text)
    broadcast_id = await _latest_id(harness)
    await harness.restart()
    await harness.run_jobs()  # not due yet: the duties leave it alone
    assert all(not _received(harness, chat) for chat in students)
    # Time passes: make it due and run the duties as their timer would.
    db = harness.app.bot_data.db
    from sqlalchemy import update

    from models import Broadcast

    async with db.begin() as session:
        await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(scheduled_at=utcnow() - timedelta(seconds=1))
        )
    await harness.run_jobs()
    for chat in students:
        assert [m.text for m in _received(harness, chat)] == ["Webinar tomorrow"]
    view = await svc.get(db, broadcast_id)
    assert view.state is State.DONE and view.counts == {"sent": 6}
    # Another pass (the timer's next tick, another replica) sends nothing again.
    await harness.run_jobs()
    for chat in students:
        assert len(_received(harness, chat)) == 1
    report = [m for m in admin.messages if f"Broadcast #{broadcast_id}" in (m.text or "")]
    assert report and "finished" in report[-1].text


async def test_many_one_person_messages_go_at_the_gateways_rate(harness):
    """Thirty one-recipient system messages (what a lesson at 09:00 queues per learner).

    Each broadcast used to start sixteen workers, each booking a global send slot before it
    claimed a delivery, so one message used sixteen slots: thirty messages took 16 s of the
    bot's schedule instead of one. Measured on the virtual clock, so nothing waits for real.
    """
    ids = await _students(harness, 30, start=6000)
    db = harness.app.bot_data.db
    broadcaster = harness.app.bot_data.broadcaster
    began = harness.clock.now()
    for telegram_id in ids:
        broadcast_id = await svc.create_system(
            db,
            created_by_id=None,
            audience_kind="all",
            audience_ref=None,
            texts={"kk": "Сабақ", "ru": "Урок", "en": "Lesson"},
            default_language="en",
            narrow=lambda stmt, tid=telegram_id: stmt.where(User.telegram_id == tid),
        )
        broadcaster.start(broadcast_id)
    await broadcaster.idle()
    assert all(len(_received(harness, tid)) == 1 for tid in ids)
    assert harness.clock.now() - began < 3.0  # 30 at 30/s, not 480 slots at 30/s


async def test_a_sender_without_a_chosen_language_reads_the_report_in_their_apps(harness, i18n):
    """Tried: a coach who was given the role but never picked a language (as the sandbox's
    console coach, or someone invited before onboarding) and whose Telegram app is Russian: the
    bot's replies speak Russian, and so must the broadcast's progress report. Before, the report
    fell back to the bot's default language (Kazakh) in the middle of a Russian conversation."""
    db = harness.app.bot_data.db
    await factories.person(db, 4242, telegram_language="ru")
    broadcaster = harness.app.bot_data.broadcaster
    t = await broadcaster._sender_translator(4242)
    assert t.language == "ru"
    assert (
        await broadcaster._sender_translator(4243)
    ).language == harness.settings.default_language
