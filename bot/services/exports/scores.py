"""Scale scores and levels: one row per submitted attempt and scale (tests add their total)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.services.exports import common as c
from bot.services.exports.spec import Chunks, Table
from bot.services.surveys import compiled
from models import Attempt, Campaign, Instrument

CHUNK = 5000
TOTAL = "total"


def table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """Scores of the submitted attempts matching `filters`, as stored when they were scored."""
    language = opts.label_language
    variables = [
        *c.attempt_columns(opts.identified, c.SUBMITTED_AT),
        c._v(
            "scale",
            "Scale code ('total': a test's total)",
            "Код шкалы ('total': итог теста)",
            "Шкала коды ('total': тест қорытындысы)",
        ),
        c._v(
            "scale_title",
            f"Scale title in {language}",
            f"Название шкалы ({language})",
            f"Шкала атауы ({language})",
        ),
        c._v(
            "method",
            "How the score is computed: mean, sum, or points (test total)",
            "Как вычислен балл: mean, sum или points (итог теста)",
            "Ұпай қалай есептелді: mean, sum немесе points (тест қорытындысы)",
        ),
        c._v(
            "items",
            "Items that counted",
            "Учтено вопросов",
            "Есептелген сұрақтар",
            kind="integer",
            measure="scale",
        ),
        c._v(
            "score",
            "Score",
            "Балл",
            "Ұпай",
            kind="float",
            measure="scale",
            derived="mean or sum of the answered items of the scale (reverse-scored Likert "
            "items as points + 1 - value; skipped and hidden items count for nothing); a "
            "test's total: points earned; at full precision, not rounded",
        ),
        c._v(
            "max_score",
            "Maximum (test total only)",
            "Максимум (только итог теста)",
            "Ең көбі (тек тест қорытындысы)",
            kind="float",
            measure="scale",
        ),
        c._v(
            "percent",
            "Percent of maximum (test total only)",
            "Процент от максимума",
            "Ең көптен пайызы",
            kind="float",
            measure="scale",
            derived="100 * score / max_score, not rounded",
        ),
        c._v("level", "Level code", "Код уровня", "Деңгей коды"),
        c._v(
            "level_label", f"Level in {language}", f"Уровень ({language})", f"Деңгей ({language})"
        ),
    ]

    def rows() -> Chunks:
        stmt = c.joined(
            *c.person_select(),
            Instrument.id,
            Campaign.id,
            Campaign.wave,
            Attempt.id,
            Attempt.submitted_at,
            Attempt.result,
        ).where(Attempt.state == "submitted")
        stmt = c.attempt_filter(stmt, session, filters).order_by(Attempt.id)
        codes: dict[int, str] = {}
        instruments: dict[int, Instrument] = {}
        chunk: list[list[Any]] = []
        for row in session.execute(stmt.execution_options(yield_per=CHUNK)):
            person = c.person_values(opts, codes, *row[:7])
            iid, cid, wave, aid, submitted, result = row[7:]
            instrument = instruments.get(iid) or instruments.setdefault(
                iid, session.get_one(Instrument, iid)
            )
            pack = compiled(instrument).pack
            head = [
                *person,
                instrument.code,
                instrument.version,
                cid,
                wave,
                aid,
                c.utc_text(submitted),
            ]
            stored = (result or {}).get("scales") or {}
            for scale in pack.scales:
                got = stored.get(scale.code) or {}
                level = next((lv for lv in scale.levels if lv.code == got.get("level")), None)
                chunk.append(
                    [
                        *head,
                        scale.code,
                        scale.title.get(language),
                        scale.method,
                        got.get("items"),
                        got.get("value"),
                        None,
                        None,
                        got.get("level"),
                        level.label.get(language) if level else None,
                    ]
                )
            if pack.kind == "test" and result:
                level = next((lv for lv in pack.levels if lv.code == result.get("level")), None)
                chunk.append(
                    [
                        *head,
                        TOTAL,
                        pack.title.get(language),
                        "points",
                        None,
                        result.get("points"),
                        result.get("max_points"),
                        result.get("percent"),
                        result.get("level"),
                        level.label.get(language) if level else None,
                    ]
                )
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    return Table(
        "scores",
        {
            "kk": "Шкала ұпайлары мен деңгейлер",
            "ru": "Баллы по шкалам и уровни",
            "en": "Scale scores and levels",
        },
        variables,
        rows,
    )
