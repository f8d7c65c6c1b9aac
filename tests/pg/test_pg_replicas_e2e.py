"""Two `python -m bot` replicas in webhook mode on one PostgreSQL database, one killed mid-way.

The issue's "How it is checked" (16): the emulator (bot.sandbox.webhook) delivers every update
to the two replicas in turn, as a load balancer would, and delivers a fifth of them to both at
once on purpose (seeded). Twenty people take the default pre survey (dlt_pre) and then lesson 1
of the default course, while a broadcast, the survey's invitation and an event reminder go out
through the outbox. When every outbox message has arrived and the people are well into the
survey, replica A is killed with SIGKILL: its updates in flight are retried on replica B (A's
target stays in the rotation for a few refused connections, until the test takes it out as a
load balancer's health check would), which finishes the work. Afterwards, counted in the
database and at the emulator:

- every person has one submitted attempt, every answer item once, one check answer of lesson 1;
- every person received the broadcast, the invitation and the reminder exactly once.

The kill waits for the outbox to be done on purpose: a SIGKILL in the middle of a send leaves
that one delivery unconfirmed, which is never sent again (at most once: bot.services.broadcasts
`adopt_orphans`, tried in tests/pg/test_pg_outbox.py); this test is about the updates.

A person whose answer replica A had stored but not yet drawn when it died has their press
delivered again to B, which finds the step moved on and draws the live page as stored ("That
button belongs to an earlier step. Here is where you are now."; handlers/surveys.py
`_bring_back`). A person left with a page that changed nothing and no such notice would be
stuck (`Person.stuck`): they would open the survey again from its invitation, counted in
`resumed`, which must stay 0.

Marked `e2e` (it runs real processes) and, being in tests/pg, `pg`. Nothing waits on the
clock: each person acts once the emulator saw their previous update answered (`wait_idle`),
every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.db import create_engine, make_sessionmaker
from bot.i18n import I18n
from bot.sandbox.emulator import Emulator, MessageRecord
from bot.sandbox.faults import Limits
from bot.sandbox.server import EmulatorServer
from bot.sandbox.users import SimulatedUser
from bot.services import broadcasts as broadcast_service
from bot.services import course as course_service
from bot.services import event_authoring as authoring
from bot.services import event_registrations as registrations
from bot.services.broadcast_content import build_content
from bot.services.events import Kind
from bot.services.roles import Role
from models import utcnow
from tests import factories
from tests.e2e.process import BotProcess, bot_env
from tests.e2e.test_webhook_process import free_port

pytestmark = [pytest.mark.e2e]

ADMIN = 900001
ADMINS = frozenset({ADMIN})
COACH = 900002
PEOPLE = int(os.environ.get("E2E_PEOPLE", "20"))
FIRST = 810_000
SECRET = "replicas-e2e-secret_0123456789"
HOOK_URL = "https://bot.example.org/telegram/webhook"
BROADCAST = "Tomorrow the library opens at nine."
EVENT = "[kk] Вебинар\n[ru] Вебинар\n[en] Replica webinar"
COURSE = "dlt_course"
T = I18n("kk").translator("en")
SHOWN_AGAIN = T.plain("surveys.shown_again")
# Replies that leave the survey's page as it is.
NOTICES = frozenset(
    T.plain(key) for key in ("surveys.use_buttons", "errors.stale_button", "surveys.not_a_number")
)


def _visible(value: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", value))


async def _seed(url: str) -> None:
    engine = create_engine(url)
    db = make_sessionmaker(engine)
    await factories.admin(db, ADMIN, ADMINS)
    for n in range(PEOPLE):
        await factories.student(
            db, FIRST + n, ADMINS, language="en", first_name="P", telegram_language="en"
        )
    # The survey's invitation goes out at the campaign duty's first pass.
    await factories.campaign(db, ADMIN, ADMINS, "dlt_pre", "pre")
    # A broadcast to everyone, confirmed: both replicas resume it at their start.
    broadcast = await broadcast_service.create_draft(db, ADMIN, ADMINS)
    await broadcast_service.set_audience(db, ADMIN, ADMINS, broadcast, "all", None)
    content = build_content("text", BROADCAST, None, None)
    await broadcast_service.set_content(db, ADMIN, ADMINS, broadcast, content)
    await broadcast_service.confirm(db, ADMIN, ADMINS, broadcast, default_language="en")
    # A webinar in half an hour with a reminder an hour before: missed, so due at once.
    await factories.staff(db, COACH, Role.COACH, ADMINS)
    now = utcnow()
    draft = await authoring.create_draft(db, COACH, ADMINS, Kind.WEBINAR)
    await authoring.update_draft(
        db,
        COACH,
        ADMINS,
        draft.id,
        now=now,
        title=EVENT,
        description="[kk] Сипаттама\n[ru] Описание\n[en] About",
        starts_at=now + timedelta(minutes=30),
        duration_minutes=60,
        join_url="https://zoom.us/j/123",
        reminder_offsets=[60],
    )
    event, _announcement = await authoring.publish(
        db, COACH, ADMINS, draft.id, i18n=I18n("kk"), zone=factories.ZONE, now=now
    )
    for n in range(PEOPLE):
        await registrations.register(db, FIRST + n, event.id, now=now)
    await engine.dispose()


class Person:
    """One simulated person whose updates go through the emulator's webhook delivery."""

    def __init__(self, emulator: Emulator, server: EmulatorServer, user_id: int) -> None:
        self.user = SimulatedUser(emulator, user_id, "P", "en")
        self.emulator = emulator
        self.server = server
        self.actions = 0
        self.resumed = 0
        self.stuck = False

    async def settle(self) -> None:
        """Wait until every update of this person was answered 200 (handled by a replica)."""
        await self.server.webhook.wait_idle(self.user.user_id, timeout=60)

    async def wait_for(self, check, what: str, timeout: float = 60) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check():
            remaining = deadline - loop.time()
            seen = self.emulator.activity(self.user.user_id)
            if remaining <= 0:
                raise AssertionError(f"{self.user.user_id}: no {what}; last: {self.page_text()}")
            try:
                await self.emulator.wait_activity(self.user.user_id, seen, timeout=remaining)
            except TimeoutError:
                if not check():
                    raise AssertionError(f"{self.user.user_id}: no {what}") from None

    def page(self) -> MessageRecord | None:
        """The bot's latest message that is neither from the outbox nor a short notice."""
        for message in reversed(self.user.messages):
            content = message.content or ""
            if BROADCAST in content or "Replica webinar" in content or content in NOTICES:
                continue
            return message
        return None

    def _state(self) -> tuple[int, int] | None:
        page = self.page()
        return (page.message_id, page.edited) if page is not None else None

    def page_text(self) -> str:
        page = self.page()
        return repr(page.content if page else None)

    async def tap(self, label: str, message: MessageRecord) -> None:
        self.actions += 1
        before = self._state()
        await self.user.tap(label, message_id=message.message_id)
        await self.settle()
        # Every answer edits the page or adds one; a page redrawn as it was (the update
        # delivered again after its edit was done) says so.
        self.stuck = self._state() == before and self.user.toasts[-1:] != [SHOWN_AGAIN]

    async def send(self, words: str) -> None:
        self.actions += 1
        before = self._state()
        await self.user.send(words)
        await self.settle()
        self.stuck = self._state() == before

    async def take_the_survey(self) -> None:
        """Answer every screen: first option, a ticked box, 4 on scales, 5 when typed."""
        labels = {
            name: T.plain(f"surveys.{name}")
            for name in ("start_button", "continue", "done", "skip", "submit")
        }

        def invitation() -> MessageRecord | None:
            return next(
                (m for m in self.user.messages if labels["start_button"] in m.buttons), None
            )

        await self.wait_for(lambda: invitation() is not None, "invitation")
        invited = invitation()
        assert invited is not None
        await self.tap(labels["start_button"], invited)
        for _ in range(200):
            page = self.page()
            assert page is not None
            buttons = page.buttons
            if self.stuck:
                # The press or the typed answer changed nothing: like a person, open the
                # survey again from its invitation, which shows where it stands.
                self.resumed += 1
                assert self.resumed <= 10, f"{self.user.user_id}: stuck at {self.page_text()}"
                await self.tap(labels["start_button"], invited)
                continue
            if labels["submit"] in buttons:
                await self.tap(labels["submit"], page)
                return
            if labels["continue"] in buttons:
                await self.tap(labels["continue"], page)
            elif any(b.startswith("☐") for b in buttons) and not any(
                b.startswith("☑") for b in buttons
            ):
                await self.tap(next(b for b in buttons if b.startswith("☐")), page)
            elif labels["done"] in buttons:
                await self.tap(labels["done"], page)
            elif "4" in buttons:
                await self.tap("4", page)
            elif buttons and buttons[0] != labels["skip"] and not buttons[0].startswith("◀"):
                await self.tap(buttons[0], page)
            else:
                await self.send("5")
        trail = [
            (m.message_id, m.edited, (m.content or "")[:60], m.buttons)
            for m in self.user.messages[-12:]
        ]
        raise AssertionError(
            f"{self.user.user_id}: the survey did not end: {trail} {self.user.toasts[-3:]}"
        )

    def latest_with(self, *labels: str) -> MessageRecord | None:
        """The bot's latest message with a button of one of `labels`."""
        for message in reversed(self.user.messages):
            if any(label in message.buttons for label in labels):
                return message
        return None

    async def take_lesson_one(self, right: str) -> None:
        """Enrol by the course's link, open lesson 1, go step by step, answer its check.

        The steps are found by their buttons: the survey's result, coming after its submit,
        may land in between.
        """
        await self.send(f"/start c-{COURSE}")
        opener = T.plain("course.open_number_button", number=1)
        offer = self.latest_with(opener)
        assert offer is not None, f"{self.user.user_id}: no lesson offered: {self.page_text()}"
        await self.tap(opener, offer)
        step = T.plain("course.next")
        for _ in range(20):
            page = self.latest_with(step, right)
            assert page is not None, f"{self.user.user_id} in the lesson: {self.page_text()}"
            if right in page.buttons:
                await self.tap(right, page)
                return
            await self.tap(step, page)
        raise AssertionError(f"{self.user.user_id}: lesson 1 did not end: {self.page_text()}")


async def _right_answer(url: str) -> str:
    engine = create_engine(url)
    db = make_sessionmaker(engine)
    summary = next(c for c in await course_service.list_courses(db) if c.code == COURSE)
    course = await course_service.get_course(db, summary.id)
    await engine.dispose()
    lesson = course.lessons[0]
    assert lesson.check is not None
    return next(o.text["en"] for o in lesson.check.options if o.correct)


async def test_two_replicas_with_duplicates_and_a_sigkill_do_everything_once(
    pg_url: str, tmp_path: Path
):
    await _seed(pg_url)
    right = await _right_answer(pg_url)
    emulator = Emulator(
        limits=Limits(global_per_second=30, per_chat_per_second=1, per_chat_burst=4)
    )
    ports = [free_port(), free_port()]
    targets = tuple(f"http://127.0.0.1:{port}/telegram/webhook" for port in ports)
    async with EmulatorServer(
        emulator, webhook_targets=targets, duplicate_rate=0.2, seed=16
    ) as server:
        assert server.url is not None
        replicas = []
        for n, port in enumerate(ports):
            workdir = tmp_path / f"replica-{n}"
            workdir.mkdir()
            env = bot_env(
                tmp_path / "unused.db",
                server.url,
                emulator.token,
                DATABASE_URL=pg_url,
                BOT_MODE="webhook",
                WEBHOOK_URL=HOOK_URL,
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_LISTEN=f"127.0.0.1:{port}",
                TIMEZONE="Asia/Almaty",
            )
            replicas.append(BotProcess(env, workdir))
        emulator.add_user(ADMIN, "Admin")
        emulator.add_user(COACH, "Coach")
        people = [Person(emulator, server, FIRST + n) for n in range(PEOPLE)]
        for replica in replicas:
            await replica.start()
        first, second = replicas

        def outbox_done() -> bool:
            return all(
                any(BROADCAST in (m.content or "") for m in p.user.messages)
                and any("Replica webinar" in (m.content or "") for m in p.user.messages)
                for p in people
            )

        killed = asyncio.Event()

        async def kill_in_the_middle() -> None:
            # Once the outbox is done and the people are well into the survey, replica A dies.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 90
            while not (outbox_done() and sum(p.actions for p in people) >= PEOPLE * 15):
                assert loop.time() < deadline, "the run never reached its middle"
                # Woken by every update a person sends and every delivery that ends.
                await emulator.wait_updates(deadline - loop.time())
            await first.kill()
            killed.set()
            # Its updates in flight and the next ones sent its way fail and are retried on
            # the survivor; after a few failures the load balancer's health check would take
            # it out of the rotation: so does the test.
            deadline = loop.time() + 30
            while server.webhook.stats.failures["connection"] < 3:
                assert loop.time() < deadline, "no delivery to the killed replica failed"
                await emulator.wait_updates(deadline - loop.time())
            server.webhook.remove_target(targets[0])

        async def one(person: Person) -> None:
            await person.take_the_survey()
            await person.take_lesson_one(right)

        try:
            await emulator.wait_webhook(timeout=60)
            killer = asyncio.create_task(kill_in_the_middle())
            await asyncio.gather(*(one(p) for p in people))
            await killer
            assert killed.is_set()
            await server.webhook.wait_idle(timeout=30)
            # The survivor did the rest and stops cleanly.
            assert second.proc is not None and second.proc.returncode is None
            assert await second.stop() == 0, second.log()
        except BaseException:
            for replica in replicas:
                print(replica.log()[-5000:])
            raise
        finally:
            for replica in replicas:
                await replica.stop()
        stats = server.webhook.stats
        print("webhook delivery:", stats.as_dict(), "resumed:", sum(p.resumed for p in people))
        # No update ended in the error handler ("something went wrong"): a press delivered
        # again after its process died is answered once (bot.replies.toast).
        for replica in replicas:
            log = replica.log()
            assert "ERROR bot.errors" not in log, log[log.find("ERROR bot.errors") :][:4000]
        assert sum(p.resumed for p in people) == 0, "a person was left on a page out of date"
        assert stats.duplicates > 0 and stats.failures["connection"] > 0, stats
        assert len(stats.by_target) == 2

    for person in people:
        chat = person.user.messages
        contents = [m.content or "" for m in chat]
        assert sum(BROADCAST in c for c in contents) == 1, person.user.user_id
        assert sum("Replica webinar" in c for c in contents) == 1, contents
        invitations = [m for m in chat if T.plain("surveys.start_button") in m.buttons]
        assert len(invitations) <= 1, person.user.user_id

    engine = create_engine(pg_url)
    async with engine.connect() as conn:
        per_person = dict(
            (
                await conn.execute(
                    text(
                        "SELECT u.telegram_id, count(*) FROM attempt t"
                        " JOIN app_user u ON u.id = t.user_id WHERE t.state = 'submitted'"
                        " GROUP BY u.telegram_id"
                    )
                )
            ).all()
        )
        twice = (
            await conn.execute(
                text(
                    "SELECT attempt_id, item_code, count(*) FROM answer"
                    " GROUP BY attempt_id, item_code HAVING count(*) > 1"
                )
            )
        ).all()
        items = (
            await conn.execute(
                text(
                    "SELECT u.telegram_id, count(a.id) FROM answer a"
                    " JOIN attempt t ON t.id = a.attempt_id JOIN app_user u ON u.id = t.user_id"
                    " GROUP BY u.telegram_id"
                )
            )
        ).all()
        checks = dict(
            (
                await conn.execute(
                    text(
                        "SELECT u.telegram_id, count(c.id) FROM check_answer c"
                        " JOIN enrolment e ON e.id = c.enrolment_id"
                        " JOIN app_user u ON u.id = e.user_id GROUP BY u.telegram_id"
                    )
                )
            ).all()
        )
    await engine.dispose()
    assert checks == {FIRST + n: 1 for n in range(PEOPLE)}
    assert per_person == {FIRST + n: 1 for n in range(PEOPLE)}
    assert twice == []
    assert len({count for _id, count in items}) == 1, items  # the same items for everyone
