"""The lesson duty on PostgreSQL: two replicas passing at once deliver each lesson once.

Each due enrolment is taken `FOR UPDATE SKIP LOCKED` (`bot.services.due`), so passes of the
lesson duty on two replicas at the same moment share the learners: every learner's lesson is
queued exactly once. SQLite has one writer, so only here is that tried for real.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.config import LANGUAGES
from bot.db import Sessionmaker, create_engine, make_sessionmaker
from bot.i18n import I18n
from bot.services import course as svc
from bot.services import course_pacing as pacing
from bot.services.course import Pace
from models import Broadcast, Delivery, LessonProgress
from tests import factories
from tests.services.test_course import add_course, definition

FIRST = 6_100_000_000
LEARNERS = 12
ZONE = factories.ZONE
MONDAY = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # 08:00 in Almaty
AT_SLOT = datetime(2026, 12, 7, 4, 0, 30, tzinfo=UTC)
T = {language: I18n("kk").translator(language) for language in LANGUAGES}


@pytest.fixture
async def replica(pg_settings) -> AsyncIterator[Sessionmaker]:
    """A second replica's session factory (lock waits bounded, never hanging the test)."""
    engine = create_engine(
        pg_settings.database_url, connect_args={"server_settings": {"lock_timeout": "5s"}}
    )
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_two_replicas_deliver_each_due_lesson_once(db, replica):
    """Tried: twelve learners scheduled at 09:00; four passes at once, two per replica, at
    09:00:30: twelve lessons queued in all, one per learner (in at most one personal broadcast
    per pass), then nothing more."""
    await add_course(db, definition("paced", 3))
    for n in range(LEARNERS):
        await factories.student(db, FIRST + n)
        enrolment = (await svc.enrol(db, FIRST + n, "paced")).enrolment.id
        await pacing.set_schedule(db, FIRST + n, enrolment, ZONE, hour=9, minute=0, now=MONDAY)
        await pacing.set_pace(db, FIRST + n, enrolment, Pace.SCHEDULED, ZONE, now=MONDAY)
    passes = await asyncio.gather(
        *(
            pacing.deliver_due_lessons(factory, T, "kk", ZONE, now=AT_SLOT)
            for factory in (db, replica, db, replica)
        )
    )
    delivered = [d for one in passes for d in one]
    assert len(delivered) == LEARNERS
    assert len({d.enrolment_id for d in delivered}) == LEARNERS
    assert await pacing.deliver_due_lessons(replica, T, "kk", ZONE, now=AT_SLOT) == []
    async with db() as session:
        # One personal broadcast per pass and course (four passes), one delivery per learner.
        assert await session.scalar(select(func.count()).select_from(Broadcast)) <= 4
        chats = (await session.scalars(select(Delivery.chat_id))).all()
        assert sorted(chats) == [FIRST + n for n in range(LEARNERS)]
        progress = (await session.scalars(select(LessonProgress.delivered_at))).all()
        assert progress == [AT_SLOT] * LEARNERS
