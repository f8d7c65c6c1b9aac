"""The broadcast outbox on PostgreSQL, with two replicas (two engines) sharing one broadcast.

`claim_next` selects the next pending delivery `FOR UPDATE SKIP LOCKED`: on PostgreSQL a
delivery that another replica is claiming is skipped, not waited for and never sent twice.
SQLite has neither row locks nor a second writer, so only here is that tried for real. The
same holds for due rows (`bot.services.due`): a scheduled broadcast is started by one replica.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db import Sessionmaker, create_engine, make_sessionmaker
from bot.services import broadcasts as svc
from bot.services import users
from bot.services.broadcast_content import build_content
from bot.services.broadcasts import DeliveryState, State
from bot.services.universities import list_universities
from models import Broadcast, Delivery, User, utcnow
from tests import factories

ADMIN = 1
ADMINS = frozenset({ADMIN})
FIRST = 6_000_000_000  # Telegram ids past 32 bits: chat ids in the outbox too
STUDENTS = 24


async def _student(db, telegram_id, unis):
    await factories.student(
        db,
        telegram_id,
        ADMINS,
        university=unis[telegram_id % len(unis)],
        language=("kk", "ru", "en")[telegram_id % 3],
        group="G-1",
        first_name=f"s{telegram_id}",
    )


@pytest.fixture
async def sending(db) -> int:
    """A confirmed broadcast to STUDENTS students, sending."""
    await users.seen(
        db, ADMIN, first_name="Admin", username=None, telegram_language=None, admin_ids=ADMINS
    )
    unis = await list_universities(db)
    for n in range(STUDENTS):
        await _student(db, FIRST + n, unis)
    broadcast_id = await svc.create_draft(db, ADMIN, ADMINS)
    assert await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "all", None) == STUDENTS
    await svc.set_content(
        db,
        ADMIN,
        ADMINS,
        broadcast_id,
        build_content("text", "[kk] Сәлем\n[ru] Привет\n[en] Hi", None, None),
    )
    view = await svc.confirm(db, ADMIN, ADMINS, broadcast_id, default_language="kk")
    assert view.state is State.SENDING and view.counts == {"pending": STUDENTS}
    return broadcast_id


@pytest.fixture
async def replica(pg_settings) -> AsyncIterator[Sessionmaker]:
    """A second replica's session factory: its own engine and connection pool.

    A lock wait is bounded (lock_timeout): were SKIP LOCKED missing, a claim would fail after
    five seconds instead of hanging the test.
    """
    engine = create_engine(
        pg_settings.database_url, connect_args={"server_settings": {"lock_timeout": "5s"}}
    )
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_two_replicas_share_a_broadcast_and_send_each_delivery_once(db, replica, sending):
    claimed: list[tuple[str, int]] = []

    async def worker(name: str, factory: Sessionmaker) -> None:
        while (task := await svc.claim_next(factory, sending)) is not None:
            claimed.append((name, task.chat_id))
            await svc.record(factory, task.delivery_id, DeliveryState.SENT, message_id=1)

    # Four workers per replica, as the broadcaster runs several: all claim at once.
    await asyncio.gather(
        *(worker(f"a{i}", db) for i in range(4)), *(worker(f"b{i}", replica) for i in range(4))
    )
    chats = Counter(chat for _, chat in claimed)
    assert sorted(chats) == [FIRST + n for n in range(STUDENTS)]
    assert set(chats.values()) == {1}, "a delivery was claimed twice"
    done = await svc.finish_if_done(replica, sending)
    assert done is not None and done.state is State.DONE and done.counts == {"sent": STUDENTS}
    async with db() as session:
        attempts = (await session.scalars(select(Delivery.attempts))).all()
    assert attempts == [1] * STUDENTS


async def test_a_delivery_locked_by_one_replica_is_skipped_by_the_other(db, replica, sending):
    async with db() as session, session.begin():
        # Replica A is in the middle of claiming the first delivery (its row is locked) ...
        locked = await session.scalar(
            select(Delivery)
            .where(Delivery.broadcast_id == sending)
            .order_by(Delivery.id)
            .limit(1)
            .with_for_update()
        )
        # ... replica B does not wait for it: it takes the next one at once.
        task = await svc.claim_next(replica, sending)
        assert task is not None and task.delivery_id != locked.id
        assert task.delivery_id == min(
            d
            for d in (
                await session.scalars(select(Delivery.id).where(Delivery.broadcast_id == sending))
            ).all()
            if d != locked.id
        )
    # Once A's transaction is over (here without claiming), the first one is claimable again.
    again = await svc.claim_next(replica, sending)
    assert again is not None and again.delivery_id == locked.id
    view = await svc.get(db, sending)
    assert view.counts == {"sending": 2, "pending": STUDENTS - 2}


async def _scheduled(db, n: int) -> tuple[list[int], datetime]:
    """`n` broadcasts scheduled for an hour from now; their ids and a time when all are due."""
    at = utcnow() + timedelta(hours=1)
    ids = []
    for _ in range(n):
        broadcast_id = await svc.create_draft(db, ADMIN, ADMINS)
        await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "all", None)
        await svc.set_content(
            db, ADMIN, ADMINS, broadcast_id, build_content("text", "Later", None, None)
        )
        await svc.confirm(db, ADMIN, ADMINS, broadcast_id, default_language="kk", scheduled_at=at)
        ids.append(broadcast_id)
    return ids, at + timedelta(seconds=1)


async def test_two_replicas_start_each_scheduled_broadcast_once(db, replica, sending):
    """The due-row pattern (bot.services.due): passes on two replicas at once share the rows."""
    ids, later = await _scheduled(db, 6)
    passes = await asyncio.gather(
        *(svc.start_due(factory, now=later) for factory in (db, replica, db, replica))
    )
    started = Counter(broadcast_id for one_pass in passes for broadcast_id in one_pass)
    assert sorted(started) == ids and set(started.values()) == {1}
    for broadcast_id in ids:
        assert (await svc.get(replica, broadcast_id)).state is State.SENDING


async def test_a_due_row_taken_by_one_replica_is_skipped_by_the_other(db, replica, sending):
    ids, later = await _scheduled(db, 3)
    async with db() as session, session.begin():
        # Replica A is taking the first scheduled broadcast (its row is locked) ...
        await session.scalar(select(Broadcast).where(Broadcast.id == ids[0]).with_for_update())
        # ... replica B's pass does not wait for it: it takes the others at once.
        assert await svc.start_due(replica, now=later) == ids[1:]
    # A let it go without taking it: it is still due, and the next pass takes it.
    assert await svc.start_due(replica, now=later) == [ids[0]]
    assert await svc.start_due(db, now=later) == []


async def test_a_killed_replicas_broadcast_is_taken_over(db, replica, sending):
    """Tried: replica A claims three deliveries and is killed (nothing recorded). Right away
    replica B's orphans pass takes nothing (A might be alive); ten minutes later A's three
    claims are unconfirmed (never sent again) and B sends the other 21, each once."""
    dead = [await svc.claim_next(db, sending) for _ in range(3)]
    assert all(task is not None for task in dead)
    assert await svc.adopt_orphans(replica) == []
    later = utcnow() + timedelta(minutes=10)
    assert await svc.adopt_orphans(replica, now=later) == [sending]
    sent = []
    while (task := await svc.claim_next(replica, sending)) is not None:
        sent.append(task.chat_id)
        await svc.record(replica, task.delivery_id, DeliveryState.SENT, message_id=1)
    assert len(sent) == len(set(sent)) == STUDENTS - 3
    assert not {task.chat_id for task in dead if task} & set(sent)
    done = await svc.finish_if_done(replica, sending)
    assert done is not None and done.counts == {"sent": STUDENTS - 3, "uncertain": 3}
    assert await svc.adopt_orphans(replica, now=later) == []


async def test_a_personal_broadcast_closed_while_still_queued_into_opens_again(db, replica):
    """Tried: a duty's pass on replica A opened a personal broadcast and queued one lesson;
    replica B sent it and, finding nothing left, closed the broadcast; then A's pass queued a
    second one. Starting it sends the second one too: the broadcast opens again, and closes
    once it is sent."""
    await users.seen(
        db, ADMIN, first_name="Admin", username=None, telegram_language=None, admin_ids=ADMINS
    )
    unis = await list_universities(db)
    for n in range(2):
        await _student(db, FIRST + n, unis)
    broadcast_id = await svc.open_personal(db, audience_kind="all")

    async def queue(telegram_id: int) -> None:
        async with db.begin() as session:
            user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
            await svc.queue_personal(
                session, broadcast_id, user, text=f"Lesson {telegram_id}", default_language="kk"
            )

    await queue(FIRST)
    task = await svc.claim_next(replica, broadcast_id)
    assert task is not None and task.chat_id == FIRST
    await svc.record(replica, task.delivery_id, DeliveryState.SENT, message_id=1)
    closed = await svc.finish_if_done(replica, broadcast_id)
    assert closed is not None and closed.state is State.DONE
    await queue(FIRST + 1)
    task = await svc.claim_next(db, broadcast_id)
    assert task is not None and task.chat_id == FIRST + 1
    assert (await svc.get(db, broadcast_id)).state is State.SENDING
    await svc.record(db, task.delivery_id, DeliveryState.SENT, message_id=2)
    done = await svc.finish_if_done(db, broadcast_id)
    assert done is not None and done.state is State.DONE and done.counts == {"sent": 2}
