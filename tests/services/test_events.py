"""Events on a real database: drafting, publishing, places and the waiting list, notices,
check-in, feedback and recordings (bot/services/events.py), through tests/factories.py."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.i18n import I18n
from bot.services import events as ev
from bot.services.events import EventState, Kind, RegState
from bot.services.roles import Role
from models import Delivery
from tests import factories
from tests.conftest import ADMIN_ID

ADMINS = frozenset({ADMIN_ID})
COACH = 7_100_000_001
STUDENT = 7_100_000_100
ZONE = factories.ZONE
NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 10:00 in Almaty
START = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # 3 December, 15:00 in Almaty
I18N = I18n("kk")


async def coach(db, telegram_id=COACH, **kwargs):
    """A consortium-wide coach."""
    return await factories.staff(db, telegram_id, Role.COACH, ADMINS, **kwargs)


async def scheduled(db, *, capacity=None, start=START, offsets=None, actor=COACH, **fields):
    """A published webinar by `actor` at `start` (3 December, 15:00 Almaty) for everyone."""
    draft = await ev.create_draft(db, actor, ADMINS, Kind.WEBINAR)
    values = {
        "title": "[kk] Вебинар\n[ru] Вебинар\n[en] Webinar",
        "description": "About digital platforms",
        "starts_at": start,
        "duration_minutes": 90,
        "join_url": "https://zoom.us/j/123",
        "capacity": capacity,
        **fields,
    }
    if offsets is not None:
        values["reminder_offsets"] = offsets
    await ev.update_draft(db, actor, ADMINS, draft.id, now=NOW, **values)
    view, _announcement = await ev.publish(
        db, actor, ADMINS, draft.id, i18n=I18N, zone=ZONE, now=NOW
    )
    return view


async def deliveries(db, broadcast_id):
    """(chat id, text, buttons) of every delivery of a broadcast, in order."""
    async with db() as session:
        rows = (
            await session.scalars(
                select(Delivery).where(Delivery.broadcast_id == broadcast_id).order_by(Delivery.id)
            )
        ).all()
        return [
            (d.chat_id, (d.payload or {}).get("text"), (d.payload or {}).get("buttons"))
            for d in rows
        ]


async def test_publish_announces_and_places_fill_then_the_waiting_list_moves_up(db):
    """Tried: a coaching session with 2 places; three students register (the third waits,
    place 1); the first gives the place back: the waiting one moves up and is told (a delivery
    with its own text in the outbox)."""
    await coach(db)
    for n in range(3):
        await factories.student(db, STUDENT + n)
    event = await scheduled(db, capacity=2)
    assert event.state is EventState.PUBLISHED
    mine = [await ev.register(db, STUDENT + n, event.id, now=NOW) for n in range(3)]
    assert [m.state for m in mine] == [RegState.REGISTERED, RegState.REGISTERED, RegState.WAITING]
    assert mine[2].position == 1
    left, broadcast_id = await ev.unregister(db, STUDENT, event.id, i18n=I18N, zone=ZONE, now=NOW)
    assert left.state is None
    assert broadcast_id is not None
    told = await deliveries(db, broadcast_id)
    assert [chat for chat, _, _ in told] == [STUDENT + 2]
    assert "Webinar" in told[0][1]
    moved = await ev.my_event(db, STUDENT + 2, event.id, now=NOW)
    assert moved.state is RegState.REGISTERED
