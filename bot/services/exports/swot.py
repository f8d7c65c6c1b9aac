"""SWOT lists grouped by quadrant and university, one row per point a participant wrote.

A SWOT instrument is any instrument with text questions coded `strengths`, `weaknesses`,
`opportunities` and `threats`. Participants are asked to write each point on its own line,
so every non-empty line (less a leading bullet or number) is one entry.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from bot.services.exports import common as c
from bot.services.exports.spec import Labels, Table
from models import Answer, Attempt, Campaign, Instrument, University

QUADRANTS: dict[str, Labels] = {
    "strengths": {"kk": "Күшті жақтар (S)", "ru": "Сильные стороны (S)", "en": "Strengths (S)"},
    "weaknesses": {"kk": "Әлсіз жақтар (W)", "ru": "Слабые стороны (W)", "en": "Weaknesses (W)"},
    "opportunities": {
        "kk": "Мүмкіндіктер (O)",
        "ru": "Возможности (O)",
        "en": "Opportunities (O)",
    },
    "threats": {"kk": "Қатерлер (T)", "ru": "Угрозы (T)", "en": "Threats (T)"},
}
_BULLET = re.compile(r"^\s*(?:[-*•·–—]+|\d{1,3}[.)])\s*")


def entries(text: str) -> list[str]:
    """The points of one answer: its non-empty lines without bullets or numbering."""
    points = (_BULLET.sub("", line).strip() for line in text.splitlines())
    return [p for p in points if p]


def _answers(session: Session, filters: c.Filters, opts: c.Options) -> list[list[Any]]:
    stmt = c.joined(
        *c.person_select(),
        Instrument.code,
        Campaign.id,
        Campaign.wave,
        Answer.item_code,
        Answer.value,
        Answer.answered_at,
    ).join(Answer, Answer.attempt_id == Attempt.id)
    stmt = c.attempt_filter(stmt, session, filters).where(
        Answer.item_code.in_(QUADRANTS), Answer.value.is_not(None)
    )
    order = list(QUADRANTS)
    codes: dict[int, str] = {}
    found: list[list[Any]] = []
    for row in session.execute(stmt.order_by(University.code, Answer.id)):
        person = c.person_values(opts, codes, *row[:7])
        instrument, campaign, wave, quadrant, value, answered = row[7:]
        if not isinstance(value, str):
            continue
        for number, point in enumerate(entries(value), 1):
            found.append(
                [
                    order.index(quadrant),
                    quadrant,
                    *person,
                    instrument,
                    campaign,
                    wave,
                    number,
                    point,
                    c.utc_text(answered),
                ]
            )
    return found


def tables(session: Session, filters: c.Filters, opts: c.Options) -> list[Table]:
    """The SWOT entries, and how many there are per university and quadrant."""
    language = opts.label_language
    quadrant = c._v(
        "quadrant",
        "SWOT quadrant",
        "Квадрант SWOT",
        "SWOT квадранты",
        values=dict(QUADRANTS),
    )
    title = c._v(
        "quadrant_title",
        f"Quadrant in {language}",
        f"Квадрант ({language})",
        f"Квадрант ({language})",
    )
    found = _answers(session, filters, opts)
    # The row holds [order, quadrant, person..., ...]: university is person's third from last.
    uni_at = 2 + len(c.person_columns(opts.identified)) - 3
    found.sort(key=lambda r: (str(r[uni_at]), r[0]))  # by university, then S, W, O, T
    for r in found:  # in place: [order, quadrant, ...] -> [quadrant, its title, ...]
        r[0] = r[1]
        r[1] = c.label_of(QUADRANTS[r[1]], language)
    rows = found
    entries_table = Table(
        "swot",
        {
            "kk": "SWOT: квадрант пен университет бойынша",
            "ru": "SWOT по квадрантам и вузам",
            "en": "SWOT by quadrant and university",
        },
        [
            quadrant,
            title,
            *c.person_columns(opts.identified),
            c.INSTRUMENT,
            c.CAMPAIGN,
            c.WAVE,
            c._v(
                "entry",
                "Point number within the answer",
                "Номер пункта в ответе",
                "Жауаптағы тармақ нөмірі",
                kind="integer",
            ),
            c._v(
                "text",
                "The point as written",
                "Пункт, как написан",
                "Жазылған тармақ",
                free_text=True,
            ),
            c._v(
                "answered_at",
                "Answered (UTC)",
                "Время ответа (UTC)",
                "Жауап уақыты (UTC)",
                kind="datetime",
            ),
        ],
        lambda: iter([rows] if rows else []),
    )
    counts = Counter((r[uni_at], r[0]) for r in found)
    writers: dict[tuple[Any, str], set[str]] = {}
    for r in found:
        writers.setdefault((r[uni_at], r[0]), set()).add(r[2])
    summary_rows = [
        [uni, q, c.label_of(QUADRANTS[q], language), counts[(uni, q)], len(writers[(uni, q)])]
        for uni, q in sorted(counts, key=lambda k: (str(k[0]), list(QUADRANTS).index(k[1])))
    ]
    summary = Table(
        "swot_summary",
        {"kk": "SWOT: саны", "ru": "SWOT: количество", "en": "SWOT: counts"},
        [
            c.UNIVERSITY,
            quadrant,
            title,
            c._v(
                "entries",
                "Points written",
                "Пунктов",
                "Тармақтар",
                kind="integer",
                measure="scale",
            ),
            c._v(
                "participants",
                "Participants who wrote",
                "Участников",
                "Қатысушылар",
                kind="integer",
                measure="scale",
            ),
        ],
        lambda: iter([summary_rows] if summary_rows else []),
    )
    return [entries_table, summary]
