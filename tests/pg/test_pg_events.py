"""The event reminder duty on PostgreSQL: two replicas passing at once send each reminder once.

Each due reminder row is taken `FOR UPDATE SKIP LOCKED` (`bot.services.due`), so passes of the
reminder duty on two replicas at the same moment share the rows: every person's reminder is
queued exactly once. Places are counted under a lock on the event, so registrations racing for
the last places never overfill it. SQLite has one writer, so only here is that tried for real.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.db import Sessionmaker, create_engine, make_sessionmaker
from bot.services import event_registrations as registrations
from bot.services import event_reminders as duty
from bot.services import events as ev
from bot.services.events import RegState
from models import Delivery, EventReminder
from tests.services.test_events import I18N, NOW, START, ZONE, coach, scheduled, students

FIRST = 6_200_000_000
PEOPLE = 12


@pytest.fixture
async def replica(pg_settings) -> AsyncIterator[Sessionmaker]:
    """A second replica's session factory (lock waits bounded, never hanging the test)."""
    engine = create_engine(
        pg_settings.database_url, connect_args={"server_settings": {"lock_timeout": "5s"}}
    )
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_two_replicas_send_each_reminder_once(db, replica):
    """Tried: twelve people registered; at the 10-minute reminder's time four passes at once,
    two per replica: twelve reminders queued in all, one per person, each row sent once; a
    further pass on either replica queues nothing."""
    await coach(db)
    await students(db, PEOPLE, first=FIRST)
    event = await scheduled(db, reminder_offsets=(10,))
    for n in range(PEOPLE):
        await registrations.register(db, FIRST + n, event.id, now=NOW)
    at = START - timedelta(minutes=10)
    passes = await asyncio.gather(
        *(
            duty.send_due_reminders(factory, I18N, ZONE, now=at)
            for factory in (db, replica, db, replica)
        )
    )
    sent = [r for one in passes for r in one.reminded if r.sent]
    assert len(sent) == PEOPLE
    assert len({r.reminder_id for r in sent}) == PEOPLE
    again = await duty.send_due_reminders(replica, I18N, ZONE, now=at)
    assert again.reminded == []
    async with db() as session:
        chats = (
            await session.scalars(select(Delivery.chat_id).where(Delivery.payload.is_not(None)))
        ).all()
        assert sorted(chats) == [FIRST + n for n in range(PEOPLE)]
        unsent = await session.scalar(
            select(func.count()).select_from(EventReminder).where(EventReminder.sent_at.is_(None))
        )
        assert unsent == 0


async def test_racing_registrations_never_overfill(db, replica):
    """Tried: five places, twelve people registering at once from two replicas: five get a
    place, seven wait, in distinct waiting-list places."""
    await coach(db)
    await students(db, PEOPLE, first=FIRST)
    event = await scheduled(db, capacity=5)
    results = await asyncio.gather(
        *(
            registrations.register(db if n % 2 else replica, FIRST + n, event.id, now=NOW)
            for n in range(PEOPLE)
        )
    )
    states = [r.state for r in results]
    assert states.count(RegState.REGISTERED) == 5
    assert states.count(RegState.WAITING) == PEOPLE - 5
    assert sorted(r.position for r in results if r.position) == list(range(1, PEOPLE - 4))
    view = await ev.get(db, event.id)
    assert (view.registered, view.waiting) == (5, PEOPLE - 5)
