"""Telegram delivers an update again (a crash before it was confirmed, a timed-out webhook):
the bot handles each update once, on SQLite as on PostgreSQL (tests/pg/test_pg_replicas.py).

The survey's number question is the sharpest case: a typed "12" handled twice would answer
the question after it too, and no button state would catch it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, text
from telegram import Chat, Message, Update, User

from bot.db import create_engine, make_sessionmaker
from bot.replicas import UpdateGuard
from bot.services import handled_updates
from models import Answer, HandledUpdate, utcnow
from tests.flows.test_surveys_recovery_flow import _all_types_up_to_views, _answers


async def _at_hours(harness, i18n, user_id: int):
    student, t = await _all_types_up_to_views(harness, i18n, user_id)
    await student.tap("2")
    assert "Hours online per week" in student.last_text
    return student, t


async def test_a_typed_answer_delivered_again_after_a_restart_is_answered_once(harness, i18n):
    """Tried: "12" answers the number question; the bot restarts (it had not confirmed the
    update) and gets the same update again: nothing is stored, nothing is sent, and "Since
    when" is still the question."""
    student, _t = await _at_hours(harness, i18n, 731)
    update = await student.send("12")
    assert (await _answers(harness))["hours"] == 12
    assert "Since when" in student.last_text
    sent = len(student.messages)
    await harness.restart()
    await harness.deliver(update)
    assert len(student.messages) == sent
    assert "since" not in await _answers(harness)
    assert harness.app.bot_data.update_guard.skipped == 1
    # The next update is a new one: handled as usual.
    await student.send("/cancel")
    assert len(student.messages) > sent


async def test_a_button_tap_delivered_twice_is_handled_once(harness, i18n):
    """Tried: the same tap on "2" handed over twice in a row, in one process."""
    student, _t = await _all_types_up_to_views(harness, i18n, 732)
    tap = await student.tap("2")
    sent, toasts = len(student.messages), len(student.toasts)
    await harness.deliver(tap)
    assert (len(student.messages), len(student.toasts)) == (sent, toasts)
    async with harness.app.bot_data.db() as session:
        stored = await session.scalar(
            select(func.count()).select_from(Answer).where(Answer.item_code == "views_2")
        )
    assert stored == 1


async def test_old_records_are_pruned_and_recent_ones_kept(db):
    """Tried: records 49 and 47 hours old; the prune keeps only the 47-hour one, and a
    second prune right after deletes nothing (two replicas may both run it)."""
    now = utcnow()
    async with db.begin() as session:
        session.add(HandledUpdate(update_id=1, handled_at=now - timedelta(hours=49)))
        session.add(HandledUpdate(update_id=2, handled_at=now - timedelta(hours=47)))
    assert await handled_updates.prune(db, now=now) == 1
    assert await handled_updates.prune(db, now=now) == 0
    assert await handled_updates.seen(db, 2)
    assert not await handled_updates.seen(db, 1)


async def test_without_its_record_an_update_is_still_handled(settings, caplog):
    """Tried: the handled-update table cannot be read (here: dropped); the update is handled
    anyway (its handlers then meet the database as they can), and the failure is logged."""
    engine = create_engine(settings.database_url)
    db = make_sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE handled_update"))
    guard = UpdateGuard(db, engine, 4)
    ran: list[int] = []

    async def handle() -> None:
        ran.append(1)

    user = User(5, "u5", is_bot=False)
    message = Message(1, date=None, chat=Chat(5, Chat.PRIVATE), from_user=user, text="x")  # type: ignore[arg-type]
    assert await guard.run(Update(99, message=message), handle())
    assert ran == [1]
    assert "update 99: could not check it" in caplog.text
    await guard.dispose()
    await engine.dispose()


async def test_on_sqlite_the_check_is_in_memory_and_survives_a_restart(settings, monkeypatch):
    """Tried: three updates through a guard, counting the SQL each runs; then a new guard
    (a restart) with the memory limited to two ids. The first update reads the recent records
    once; after that an update costs one statement (its record) and none to check; the new
    guard skips the two most recent ids and, past its memory, would handle the oldest again."""
    from sqlalchemy import event

    import bot.replicas as replicas

    engine = create_engine(settings.database_url)
    db = make_sessionmaker(engine)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    ran: list[int] = []

    async def handle(n: int) -> None:
        ran.append(n)

    def update(n: int) -> Update:
        user = User(5, "u5", is_bot=False)
        chat = Chat(5, Chat.PRIVATE)
        message = Message(n, date=None, chat=chat, from_user=user, text="x")  # type: ignore[arg-type]
        return Update(n, message=message)

    guard = UpdateGuard(db, engine, 4)
    for n in (101, 102, 103):
        statements.clear()
        assert await guard.run(update(n), handle(n))
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == (1 if n == 101 else 0), statements
    assert not await guard.run(update(102), handle(0))  # again, in the same process
    await guard.dispose()  # the bot's shutdown: the records still pending are written
    monkeypatch.setattr(replicas, "REMEMBERED", 2)
    restarted = UpdateGuard(db, engine, 4)
    assert not await restarted.run(update(103), handle(0))
    assert not await restarted.run(update(102), handle(0))
    assert ran == [101, 102, 103]
    assert restarted.skipped == 2
    assert await restarted.run(update(101), handle(101))  # older than the memory reaches
    assert ran == [101, 102, 103, 101]
    await engine.dispose()


async def test_on_sqlite_updates_finishing_together_share_one_record_transaction(settings):
    """Tried: 20 updates of 20 people handled at once through one guard. Each is recorded
    (all 20 ids are in the table once the guard is disposed, as at shutdown), in fewer
    INSERTs than updates: the ids finishing while a record is written go in the next one."""
    from sqlalchemy import event

    engine = create_engine(settings.database_url)
    db = make_sessionmaker(engine)
    inserts: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO HANDLED_UPDATE"):
            inserts.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    guard = UpdateGuard(db, engine, 32)

    async def handle() -> None:
        await asyncio.sleep(0)  # a real handler awaits something

    def update(n: int) -> Update:
        user = User(n, f"u{n}", is_bot=False)
        message = Message(n, date=None, chat=Chat(n, Chat.PRIVATE), from_user=user, text="x")  # type: ignore[arg-type]
        return Update(1000 + n, message=message)

    handled = await asyncio.gather(*(guard.run(update(n), handle()) for n in range(20)))
    assert all(handled)
    await guard.dispose()
    assert 1 <= len(inserts) < 20
    assert await handled_updates.recent(db, 100) == [1000 + n for n in range(20)]
    await engine.dispose()
