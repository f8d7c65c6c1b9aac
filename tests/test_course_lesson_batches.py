"""The lesson duty takes every due learner in one pass, a batch at a time.

Thousands of learners share a 9:00 slot; a pass used to take one batch and leave the rest for
the next pass 30 seconds later, so deliveries crawled far below the gateway's 30 messages/s.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import update

from bot.i18n import I18n
from bot.jobs import course as course_jobs
from bot.sandbox.harness import Harness
from bot.services import course as svc
from bot.services import course_pacing as pacing
from bot.services.course import Pace
from models import Enrolment, utcnow
from tests import factories
from tests.services.test_course import add_course, definition

LEARNERS = [5201, 5202, 5203, 5204, 5205]


async def test_one_pass_delivers_every_due_learner_batch_after_batch(settings, monkeypatch):
    """Tried: five learners due at the same minute with a batch of two; one pass of the duties
    sends each their lesson once (three batches: 2, 2, 1), and a second pass sends nothing."""
    monkeypatch.setattr(course_jobs, "LESSON_BATCH", 2)
    async with Harness(settings) as harness:
        assert harness.app is not None
        db = harness.app.bot_data.db
        await add_course(db, definition("batched", 2))
        users = [harness.user(telegram_id, f"L{telegram_id}") for telegram_id in LEARNERS]
        for telegram_id in LEARNERS:
            await factories.student(db, telegram_id)
            enrolment = (await svc.enrol(db, telegram_id, "batched")).enrolment.id
            await pacing.set_pace(db, telegram_id, enrolment, Pace.SCHEDULED, settings.tz)
        async with db.begin() as session:
            await session.execute(
                update(Enrolment).values(next_due_at=utcnow() - timedelta(seconds=5))
            )
        await harness.run_jobs()
        assert [sum("Lesson 0" in text for text in user.texts) for user in users] == [1] * 5
        await harness.run_jobs()
        assert [sum("Lesson 0" in text for text in user.texts) for user in users] == [1] * 5
        assert not harness.errors


@pytest.mark.parametrize("batch", [1, 3])
async def test_deliver_due_lessons_takes_at_most_a_batch(db, batch):
    """Tried: three learners due, a pass with `batch` 1 and 3: it settles that many at most."""
    await add_course(db, definition("batched", 2))
    for telegram_id in LEARNERS[:3]:
        await factories.student(db, telegram_id)
        enrolment = (await svc.enrol(db, telegram_id, "batched")).enrolment.id
        await pacing.set_pace(db, telegram_id, enrolment, Pace.SCHEDULED, UTC)
    async with db.begin() as session:
        await session.execute(
            update(Enrolment).values(next_due_at=utcnow() - timedelta(seconds=5))
        )
    translators = {"en": I18n("kk").translator("en")}
    done = await pacing.deliver_due_lessons(db, translators, "en", UTC, batch=batch)
    assert len(done) == batch
