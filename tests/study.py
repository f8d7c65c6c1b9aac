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


async def seed_prepost(db, students: int, seed: int = 3) -> pd.DataFrame:
    """Students answering pre and post; returns the generated item values, one row per answer."""
    rng = random.Random(seed)
    unis = await list_universities(db)
    kz = [u for u in unis if u.country == "KZ"]
    chosen = kz[:2] + [u for u in unis if u.country == "RU"][:1]
    await users.seen(db, 1, first_name="Admin", username=None, telegram_language=None,
                     admin_ids=ADMINS)
    generated = []
    async with db.begin() as session:
        packs = {}
        for code in ("dlt_pre", "dlt_post"):
            instrument = (await session.scalars(
                select(Instrument).where(Instrument.code == code))).one()
            campaign = Campaign(instrument_id=instrument.id, instrument_code=code,
                                wave=code.removeprefix("dlt_"), opens_at=utcnow())
            session.add(campaign)
            await session.flush()
            packs[code] = (instrument, campaign, compiled(instrument))
        first_scale = packs["dlt_pre"][2].pack.scales[0].code
        for n in range(students):
            uni = chosen[n % 3]
            user = User(telegram_id=5000 + n, first_name=f"S{n}", language="kk",
                        consent=True, university_id=uni.id)
            session.add(user)
            await session.flush()
            base = {item.code: rng.randint(1, 4) + (1 if n % 3 == 0 else 0)
                    for item in packs["dlt_pre"][2].items if item.kind == "likert"}
            for code, (instrument, campaign, pack) in packs.items():
                answers = {}
                for item in pack.items:
                    if item.kind != "likert" or item.code not in base:
                        continue  # post-only questions stay unanswered
                    value = base[item.code]
                    if code == "dlt_post" and item.scale == first_scale:
                        value = min(5, value + 1)
                    answers[item.code] = value
                    generated.append((n, uni.code, uni.country, campaign.wave, item.code,
                                      item.scale, value))
                attempt = Attempt(campaign_id=campaign.id, user_id=user.id,
                                  instrument_id=instrument.id, language="kk", seed="s",
                                  state="submitted", started_at=utcnow() - timedelta(minutes=5),
                                  submitted_at=utcnow(), passed=[],
                                  result=stored_result(score(pack, answers)))
                session.add(attempt)
                await session.flush()
                session.add_all(Answer(attempt_id=attempt.id, item_code=k, value=v, numeric=v,
                                       answered_at=utcnow()) for k, v in answers.items())
    return pd.DataFrame(generated, columns=["n", "university", "country", "wave", "item",
                                            "scale", "value"])
