"""Seeding a study straight into the database: many participants without a chat each."""

from __future__ import annotations

import random
from datetime import timedelta

import pandas as pd
from sqlalchemy import select

from bot.content.scoring import score
from bot.services import users
from bot.services.surveys import compiled, stored_result
from bot.services.universities import list_universities
from models import Answer, Attempt, Campaign, Instrument, User, utcnow

ADMINS = frozenset({1})


async def seed_prepost(db, students: int, seed: int = 3, groups=None) -> pd.DataFrame:
    """Students answering pre and post; returns the generated item values, one row per answer.

    `groups`: n -> the study group student n typed (none by default).
    """
    rng = random.Random(seed)
    unis = await list_universities(db)
    kz = [u for u in unis if u.country == "KZ"]
    chosen = kz[:2] + [u for u in unis if u.country == "RU"][:1]
    await users.seen(
        db, 1, first_name="Admin", username=None, telegram_language=None, admin_ids=ADMINS
    )
    generated = []
    async with db.begin() as session:
        packs = {}
        for code in ("dlt_pre", "dlt_post"):
            instrument = (
                await session.scalars(select(Instrument).where(Instrument.code == code))
            ).one()
            campaign = Campaign(
                instrument_id=instrument.id,
                instrument_code=code,
                wave=code.removeprefix("dlt_"),
                opens_at=utcnow(),
            )
            session.add(campaign)
            await session.flush()
            packs[code] = (instrument, campaign, compiled(instrument))
        first_scale = packs["dlt_pre"][2].pack.scales[0].code
        for n in range(students):
            uni = chosen[n % 3]
            user = User(
                telegram_id=5000 + n,
                first_name=f"S{n}",
                language="kk",
                consent=True,
                university_id=uni.id,
                group_name=groups(n) if groups else None,
            )
            session.add(user)
            await session.flush()
            base = {
                item.code: rng.randint(1, 4) + (1 if n % 3 == 0 else 0)
                for item in packs["dlt_pre"][2].items
                if item.kind == "likert"
            }
            for code, (instrument, campaign, pack) in packs.items():
                answers = {}
                for item in pack.items:
                    if item.kind != "likert" or item.code not in base:
                        continue  # post-only questions stay unanswered
                    value = base[item.code]
                    if code == "dlt_post" and item.scale == first_scale:
                        value = min(5, value + 1)
                    answers[item.code] = value
                    generated.append(
                        (n, uni.code, uni.country, campaign.wave, item.code, item.scale, value)
                    )
                attempt = Attempt(
                    campaign_id=campaign.id,
                    user_id=user.id,
                    instrument_id=instrument.id,
                    language="kk",
                    seed="s",
                    state="submitted",
                    started_at=utcnow() - timedelta(minutes=5),
                    submitted_at=utcnow(),
                    passed=[],
                    result=stored_result(score(pack, answers)),
                )
                session.add(attempt)
                await session.flush()
                session.add_all(
                    Answer(
                        attempt_id=attempt.id,
                        item_code=k,
                        value=v,
                        numeric=v,
                        answered_at=utcnow(),
                    )
                    for k, v in answers.items()
                )
    return pd.DataFrame(
        generated, columns=["n", "university", "country", "wave", "item", "scale", "value"]
    )


async def seed_test(db, students: int, seed: int = 5) -> pd.DataFrame:
    """Students taking the default competence test once, picking options at random.

    Returns the options each chose per question, and the points earned, worked out here from
    the pack's correct options (single: the question's points when the chosen option is
    correct; multiple: points x max(0, (right ticked - wrong ticked) / right options)).
    """
    rng = random.Random(seed)
    unis = await list_universities(db)
    await users.seen(
        db, 1, first_name="Admin", username=None, telegram_language=None, admin_ids=ADMINS
    )
    rows = []
    async with db.begin() as session:
        instrument = (
            await session.scalars(
                select(Instrument).where(Instrument.code == "digital_competence_test")
            )
        ).one()
        pack = compiled(instrument)
        campaign = Campaign(
            instrument_id=instrument.id,
            instrument_code=instrument.code,
            wave="main",
            opens_at=utcnow(),
        )
        session.add(campaign)
        await session.flush()
        for n in range(students):
            user = User(
                telegram_id=7000 + n,
                first_name=f"T{n}",
                language="ru",
                consent=True,
                university_id=unis[n % 2].id,
            )
            session.add(user)
            await session.flush()
            answers = {}
            for item in pack.items:
                if item.kind == "single":
                    option = rng.choice(item.options)
                    answers[item.code] = option.code
                    earned = item.points if option.correct else 0.0
                elif item.kind == "multiple":
                    ticked = tuple(o.code for o in item.options if rng.random() < 0.5)
                    answers[item.code] = ticked
                    right = {o.code for o in item.options if o.correct}
                    hits = len(set(ticked) & right) - len(set(ticked) - right)
                    earned = item.points * max(0.0, hits / len(right))
                else:
                    continue
                chosen = [answers[item.code]] if item.kind == "single" else answers[item.code]
                rows.append(
                    (
                        n,
                        item.code,
                        earned,
                        item.points
                        if item.kind == "multiple"
                        else max(o.points or item.points for o in item.options if o.correct),
                        tuple(chosen),
                    )
                )
            attempt = Attempt(
                campaign_id=campaign.id,
                user_id=user.id,
                instrument_id=instrument.id,
                language="ru",
                seed="s",
                state="submitted",
                started_at=utcnow() - timedelta(minutes=9),
                submitted_at=utcnow(),
                passed=[],
                result=stored_result(score(pack, answers)),
            )
            session.add(attempt)
            await session.flush()
            session.add_all(
                Answer(
                    attempt_id=attempt.id,
                    item_code=k,
                    value=list(v) if isinstance(v, tuple) else v,
                    answered_at=utcnow(),
                )
                for k, v in answers.items()
            )
    return pd.DataFrame(rows, columns=["n", "item", "points", "max", "chosen"])
