"""Several replicas on one PostgreSQL database: no update, duty item or answer done twice.

Two applications (two `Harness`es: each its own `Application`, engine, connection pools and
update guard, as two processes have) share one database and one emulator:

- the same update delivered to both at once is handled by one of them (`bot.replicas`);
- two updates of one person handled by the two at once take turns (`pg_advisory_xact_lock`),
  so the survey's progress stays consistent;
- eight people onboarding with every update delivered to both at once see the chat of one
  delivery;
- timed duties passing on both at once (campaign steps, 200 event reminders) do each item
  once (`bot.services.due.run_due`, `FOR UPDATE SKIP LOCKED`).

SQLite's side (a redelivery after a restart) is in tests/flows/test_redelivery_flow.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from telegram import Chat, Message, Update, User

from bot.db import Sessionmaker, create_engine, make_sessionmaker
from bot.i18n import I18n
from bot.ratelimit import VirtualClock
from bot.replicas import UpdateGuard
from bot.sandbox.emulator import Emulator
from bot.sandbox.harness import Harness
from bot.sandbox.users import SimulatedUser
from bot.services import campaigns, event_reminders
from bot.services import content as content_service
from bot.services import event_registrations as registrations
from models import Answer, Campaign, Delivery, EventReminder, HandledUpdate
from models import User as AppUser
from tests import factories
from tests.flows.helpers import onboard
from tests.flows.test_surveys_recovery_flow import _all_types_up_to_views
from tests.services.test_events import I18N, NOW, START, ZONE, coach, scheduled, students

EXAMPLE = Path(__file__).resolve().parents[1] / "content" / "example_pack.yaml"
ADMINS = frozenset({1})


@pytest.fixture(scope="session")
def i18n() -> I18n:
    """The catalogs, for button labels (as in tests/flows)."""
    return I18n("kk")


@pytest.fixture
async def replicas(pg_settings) -> AsyncIterator[tuple[Harness, Harness]]:
    """Two applications on one database and one emulator; neither may raise."""
    clock = VirtualClock()
    emulator = Emulator(clock=clock.now)
    async with (
        Harness(pg_settings, emulator=emulator, clock=clock) as first,
        Harness(pg_settings, emulator=emulator, clock=clock) as second,
    ):
        yield first, second
        assert not first.errors, first.errors
        assert not second.errors, second.errors


def _skipped(*harnesses: Harness) -> int:
    return sum(h.app.bot_data.update_guard.skipped for h in harnesses)


async def _stored(db: Sessionmaker, item: str) -> list[object]:
    async with db() as session:
        return list(await session.scalars(select(Answer.value).where(Answer.item_code == item)))


def _button(message, label: str) -> str:
    for row in message.reply_markup["inline_keyboard"]:
        for button in row:
            if button["text"] == label:
                return button["callback_data"]
    raise AssertionError(f"no button {label!r}")


async def test_the_same_update_on_two_replicas_is_handled_once(replicas, i18n):
    """Tried: a student at the matrix statement "They are hard"; the same tap on "2", then at
    the number question the same typed "12", each delivered to both replicas at once. One
    answer stored each time, the next question shown once each time, one delivery skipped each
    time; the handled updates are recorded."""
    first, second = replicas
    student, _t = await _all_types_up_to_views(first, i18n, 741)
    emulator = first.emulator
    tap = emulator.post_callback(
        student.user_id,
        student.last_message.message_id,
        _button(student.last_message, "2"),
        enqueue=False,
    )
    calls = emulator.stats.calls
    sends, edits = calls["sendMessage"], calls["editMessageText"]
    await asyncio.gather(first.deliver(tap), second.deliver(tap))
    assert _skipped(first, second) == 1
    assert await _stored(first.app.bot_data.db, "views_2") == [2]
    # The answer edits the survey's page into the next question once (survey pages).
    assert (calls["sendMessage"], calls["editMessageText"]) == (sends, edits + 1)
    assert "Hours online per week" in student.last_text

    typed = emulator.post_message(student.user_id, "12", enqueue=False)
    await asyncio.gather(second.deliver(typed), first.deliver(typed))
    assert _skipped(first, second) == 2
    assert await _stored(first.app.bot_data.db, "hours") == [12]
    assert await _stored(first.app.bot_data.db, "since") == []
    assert [m.text for m in student.messages].count(student.last_text) == 1
    assert "Since when" in student.last_text
    async with first.app.bot_data.db() as session:
        recorded = set(await session.scalars(select(HandledUpdate.update_id)))
    assert {tap["update_id"], typed["update_id"]} <= recorded


async def test_two_updates_of_one_person_on_two_replicas_take_turns(replicas, i18n):
    """Tried: at the number question the student sends "12" and "13" at once, one to each
    replica. They are handled one after the other: one of them answers the number question,
    the other reaches the date question after it (and is refused there, not a date); the
    number question is answered exactly once and the survey moved one step."""
    first, second = replicas
    student, _t = await _all_types_up_to_views(first, i18n, 742)
    await student.tap("2")
    assert "Hours online per week" in student.last_text
    twelve = first.emulator.post_message(student.user_id, "12", enqueue=False)
    thirteen = first.emulator.post_message(student.user_id, "13", enqueue=False)
    await asyncio.gather(first.deliver(twelve), second.deliver(thirteen))
    assert _skipped(first, second) == 0
    hours = await _stored(first.app.bot_data.db, "hours")
    assert len(hours) == 1 and hours[0] in (12, 13)
    assert await _stored(first.app.bot_data.db, "since") == []
    assert sum("Since when" in (m.text or "") for m in student.messages) == 1
    assert "could not read that date" in student.last_text


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"u{user_id}", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, date=None, chat=chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def _advisory_waiters(db: Sessionmaker) -> int:
    async with db() as session:
        return int(
            await session.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )
            or 0
        )


@pytest.fixture
async def guards(pg_settings) -> AsyncIterator[tuple[Sessionmaker, UpdateGuard, UpdateGuard]]:
    """Two replicas' update guards, each on an engine of its own."""
    engines = [create_engine(pg_settings.database_url) for _ in range(2)]
    dbs = [make_sessionmaker(engine) for engine in engines]
    made = [UpdateGuard(db, engine, 4) for db, engine in zip(dbs, engines, strict=True)]
    yield dbs[0], made[0], made[1]
    for guard in made:
        await guard.dispose()
    for engine in engines:
        await engine.dispose()


async def test_one_persons_updates_wait_across_replicas_and_other_people_do_not(guards):
    """Tried: replica A handles an update of person 10 and holds it open; replica B gets a
    later update of person 10 and one of person 20. Person 20's runs at once; person 10's
    waits on the advisory lock (seen in pg_locks) and starts only after A's has ended."""
    db, a, b = guards
    order: list[str] = []
    release = asyncio.Event()

    async def held() -> None:
        order.append("a10 start")
        await release.wait()
        order.append("a10 end")

    async def note(name: str) -> None:
        order.append(name)

    first = asyncio.create_task(a.run(_update(1, 10), held()))
    while "a10 start" not in order:
        await asyncio.sleep(0)
        if first.done():
            first.result()
    waiting = asyncio.create_task(b.run(_update(2, 10), note("b10")))
    for _ in range(500):  # each look is a query: no timer involved
        if await _advisory_waiters(db):
            break
    assert await _advisory_waiters(db) == 1
    assert await b.run(_update(3, 20), note("b20"))
    assert order == ["a10 start", "b20"]
    release.set()
    assert await first and await waiting
    assert order == ["a10 start", "b20", "a10 end", "b10"]
    # Redelivered to either replica afterwards: nothing runs.
    assert not await a.run(_update(2, 10), note("again"))
    assert not await b.run(_update(1, 10), note("again"))
    assert "again" not in order


async def test_a_replica_dying_mid_update_leaves_it_to_the_redelivery(guards):
    """Tried: replica A's handling fails half-way (its transaction rolls back, as a killed
    process's connection does); the same update redelivered to replica B is handled."""
    _db, a, b = guards
    ran: list[str] = []

    async def dies() -> None:
        raise ConnectionError("killed")

    async def note() -> None:
        ran.append("b")

    with pytest.raises(ConnectionError):
        await a.run(_update(7, 30), dies())
    assert await b.run(_update(7, 30), note())
    assert ran == ["b"]


@pytest.fixture
async def replica(pg_settings) -> AsyncIterator[Sessionmaker]:
    """A second replica's session factory (lock waits bounded, never hanging the test)."""
    engine = create_engine(
        pg_settings.database_url, connect_args={"server_settings": {"lock_timeout": "5s"}}
    )
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_campaign_steps_on_two_replicas_are_taken_once(db, replica):
    """Tried: six campaigns opening now; four passes of the campaign-steps duty at once, two
    per replica: six invitations in all, one per campaign, each audience member invited
    once; a further pass on either replica takes nothing."""
    await factories.admin(db, 1, ADMINS)
    assert (await content_service.load_path(db, EXAMPLE)).ok
    for n in range(5):
        await factories.student(db, 6_300_000_000 + n)
    made = [await factories.campaign(db, 1, ADMINS, "example_test", "pre") for _ in range(6)]
    translators = factories._translators()
    passes = await asyncio.gather(
        *(
            campaigns.due_steps(factory, translators, factories.DEFAULT_LANGUAGE, ZONE)
            for factory in (db, replica, db, replica)
        )
    )
    steps = [step for one in passes for step in one]
    assert sorted(step.campaign_id for step in steps) == sorted(made)
    assert {step.kind for step in steps} == {campaigns.StepKind.INVITE}
    again = await campaigns.due_steps(replica, translators, factories.DEFAULT_LANGUAGE, ZONE)
    assert again == []
    async with db() as session:
        invited = await session.scalar(
            select(func.count()).select_from(Campaign).where(Campaign.invited_at.is_not(None))
        )
        per_person = (
            await session.execute(
                select(Delivery.broadcast_id, Delivery.chat_id, func.count())
                .group_by(Delivery.broadcast_id, Delivery.chat_id)
                .having(func.count() > 1)
            )
        ).all()
    assert invited == 6
    assert per_person == []


async def test_two_hundred_event_reminders_on_two_replicas_each_once(db, replica):
    """Tried: 200 people registered for one event; at the reminder's time four passes at
    once, two per replica, each taking at most 50 rows a pass until none is left: 200
    reminders queued in all, one per person, every row sent."""
    first = 6_400_000_000
    await coach(db)
    await students(db, 200, first=first)
    event = await scheduled(db, reminder_offsets=(10,))
    for n in range(200):
        await registrations.register(db, first + n, event.id, now=NOW)
    at = START - timedelta(minutes=10)
    reminded = []
    while True:
        passes = await asyncio.gather(
            *(
                event_reminders.send_due_reminders(factory, I18N, ZONE, now=at, batch=50)
                for factory in (db, replica, db, replica)
            )
        )
        taken = [r for one in passes for r in one.reminded]
        if not taken:
            break
        reminded += taken
    assert len(reminded) == 200
    assert len({r.reminder_id for r in reminded}) == 200
    async with db() as session:
        chats = (
            await session.scalars(select(Delivery.chat_id).where(Delivery.payload.is_not(None)))
        ).all()
        unsent = await session.scalar(
            select(func.count()).select_from(EventReminder).where(EventReminder.sent_at.is_(None))
        )
    assert sorted(chats) == [first + n for n in range(200)]
    assert unsent == 0


async def test_people_onboarding_with_every_update_sent_to_both_replicas(replicas, i18n):
    """Tried: eight people onboard at once while every one of their updates reaches both
    replicas at the same moment (a load balancer retrying everything). Each person sees
    exactly the chat a person served once sees, and is registered once."""
    first, second = replicas

    async def both(update: dict) -> None:
        await asyncio.gather(first.deliver(update), second.deliver(update))

    reference = first.user(750, "P", "en")
    await onboard(reference, i18n)
    expected = reference.texts
    people = [SimulatedUser(first.emulator, 751 + n, "P", "en", deliver=both) for n in range(8)]
    await asyncio.gather(*(onboard(person, i18n) for person in people))
    for person in people:
        assert person.texts == expected
    # Onboarding is five updates (/start, language, consent, university, group): each was
    # delivered twice and skipped once.
    assert _skipped(first, second) == 8 * 5
    async with first.app.bot_data.db() as session:
        registered = await session.scalar(
            select(func.count()).select_from(AppUser).where(AppUser.telegram_id.between(751, 758))
        )
    assert registered == 8
