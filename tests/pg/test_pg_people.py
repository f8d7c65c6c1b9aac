"""Onboarding and taking a survey on PostgreSQL: what SQLite would not catch.

Telegram ids past 32 bits (ids are growing beyond 2**31: a 32-bit integer column overflows on
PostgreSQL, never on SQLite), Kazakh and Russian text, every JSON answer shape read back as
written, and times that stay UTC while the server's own time zone is Asia/Almaty.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.services import content as content_service
from bot.services import surveys, users
from bot.services.universities import list_universities
from bot.services.users import Step
from models import Answer, Attempt, User
from tests import factories

EXAMPLE = Path(__file__).resolve().parents[1] / "content" / "example_pack.yaml"
ADMIN = 8_100_000_001
ADMINS = frozenset({ADMIN})
BIG = 7_912_345_678  # > 2**32 as well


async def _onboard(db, telegram_id, name, language):
    return await factories.student(
        db,
        telegram_id,
        ADMINS,
        language=language,
        group="ПО-21 Информатика",
        first_name=name,
        telegram_language="kk",
    )


async def test_onboarding_a_user_with_a_64_bit_telegram_id(db):
    profile = await users.seen(
        db,
        BIG,
        first_name="Әйгерім Қожахметова",
        username="aigerim",
        telegram_language="kk",
        admin_ids=ADMINS,
    )
    assert profile.telegram_id == BIG and profile.next_step is Step.LANGUAGE
    await users.set_language(db, BIG, "kk", ADMINS)
    await users.set_consent(db, BIG, True, ADMINS)
    unis = await list_universities(db)
    await users.set_university(db, BIG, unis[1].id, ADMINS)
    profile = await users.set_group(db, BIG, "ПО-21 Информатика", ADMINS)
    assert profile.next_step is None and profile.onboarded
    assert await users.get_profile(db, BIG, ADMINS) == profile  # read back, nothing in memory
    assert profile.first_name == "Әйгерім Қожахметова"
    assert profile.university is not None and profile.university.id == unis[1].id
    async with db() as session:
        user = await session.scalar(select(User).where(User.telegram_id == BIG))
    assert user.onboarded_at.tzinfo is not None
    assert abs(user.onboarded_at - datetime.now(UTC)) < timedelta(minutes=5)
    await users.mark_unreachable(db, BIG)
    assert not (await users.get_profile(db, BIG, ADMINS)).reachable
    assert await users.delete_user(db, BIG)
    async with db() as session:
        assert await session.scalar(select(func.count(User.id))) == 0


async def test_a_campaign_answered_in_two_languages_stores_one_data_set(db):
    await _onboard(db, ADMIN, "Admin", "en")
    assert (await content_service.load_path(db, EXAMPLE)).ok
    campaign = await factories.campaign(db, ADMIN, ADMINS, "example_test", "pre")
    attempts = {}
    for telegram_id, language in ((BIG, "kk"), (BIG + 1, "ru")):
        await _onboard(db, telegram_id, f"Студент {language}", language)
        assert [c.id for c in await surveys.open_campaigns(db, telegram_id)] == [campaign]
        screen = await surveys.start(db, telegram_id, campaign, language)
        screen = await surveys.pass_info(db, telegram_id, screen.attempt_id, screen.index)
        screen = await surveys.answer(db, telegram_id, screen.attempt_id, screen.index, "a")
        screen = await surveys.tick(db, telegram_id, screen.attempt_id, screen.index, 0, on=True)
        screen = await surveys.answer(
            db, telegram_id, screen.attempt_id, screen.index, ("moodle", "canvas")
        )
        if language == "kk":
            screen = await surveys.answer(db, telegram_id, screen.attempt_id, screen.index, 7)
        else:
            screen = await surveys.skip(db, telegram_id, screen.attempt_id, screen.index)
        assert screen.kind == "review"
        done = await surveys.submit(db, telegram_id, screen.attempt_id)
        assert done.kind == "done"
        attempts[language] = (screen.attempt_id, done.result)
    assert attempts["kk"][1].points == 3.0 and attempts["kk"][1].level == "high"
    async with db() as session:
        stored = {
            language: dict(
                (
                    await session.execute(
                        select(Answer.item_code, Answer.value).where(
                            Answer.attempt_id == attempt_id
                        )
                    )
                ).all()
            )
            for language, (attempt_id, _) in attempts.items()
        }
        attempt = await session.get(Attempt, attempts["kk"][0])
        times = (await session.scalars(select(Answer.answered_at))).all()
    # The same codes whatever the language; JSON strings, lists, numbers and null round-trip.
    assert stored["kk"] == {"q1": "a", "q2": ["moodle", "canvas"], "q3": 7}
    assert stored["ru"] == {"q1": "a", "q2": ["moodle", "canvas"], "q3": None}
    assert attempt.state == "submitted" and attempt.result["percent"] == 100.0
    assert attempt.started_at <= attempt.submitted_at
    now = datetime.now(UTC)
    assert all(
        t.utcoffset() == timedelta(0) and abs(t - now) < timedelta(minutes=5) for t in times
    )
    assert await surveys.unfinished(db, BIG) == []
