"""Results as a participant reads them: one decimal, the scale's range, the change since pre.

Tried: a scale mean of 4/3 was shown as "1.3333 → 2.3333 (+1.00)" with no range, in every
language alike; a Kazakh or Russian reader writes a decimal comma.
"""

from __future__ import annotations

import yaml

from bot.services import content as content_service
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard

ADMINS = frozenset({ADMIN_ID})
TITLE = {"kk": "Бірлесу", "ru": "Сотрудничество", "en": "Teamwork"}
SCALE = {"kk": "Кооперация", "ru": "Кооперация", "en": "Cooperation"}
LEVELS = [
    {"code": "low", "min": 1, "max": 3, "label": {"kk": "Төмен", "ru": "Низкий", "en": "Low"}},
    {"code": "high", "min": 3, "max": 5, "label": {"kk": "Жоғары", "ru": "Высокий", "en": "High"}},
]
PACK = {
    "code": "teamwork",
    "version": 1,
    "kind": "survey",
    "title": TITLE,
    "likert_scales": {
        "agree5": {
            "points": 5,
            "low": {"kk": "Келіспеймін", "ru": "Не согласен", "en": "Disagree"},
            "high": {"kk": "Келісемін", "ru": "Согласен", "en": "Agree"},
        }
    },
    "scales": [{"code": "coop", "title": SCALE, "method": "mean", "levels": LEVELS}],
    "questions": [
        {
            "type": "matrix",
            "code": "m",
            "text": {"kk": "Топта", "ru": "В группе", "en": "In a group"},
            "likert": "agree5",
            "items": [
                {
                    "code": f"c{n}",
                    "text": {"kk": f"к{n}", "ru": f"р{n}", "en": f"e{n}"},
                    "scale": "coop",
                }
                for n in (1, 2, 3)
            ],
        }
    ],
}
UNIVERSITY = {"kk": "Тараз", "ru": "Тараз", "en": "Taraz"}
# (language, the result card's line after pre, the change line after post)
EXPECTED = (
    ("en", "Cooperation: 1.3 of 5 — Low", "Cooperation: 1.3 → 2.3 of 5 (+1.0)"),
    ("ru", "Кооперация: 1,3 из 5 — Низкий", "Кооперация: 1,3 → 2,3 из 5 (+1,0)"),
    ("kk", "Кооперация: 5 балдан 1,3 — Төмен", "Кооперация: 1,3 → 2,3 (5 балдан, +1,0)"),
)


async def _take(user, i18n, language: str, points: tuple[int, ...]) -> str:
    """Open the only open survey, tap `points`, submit; the result card's text."""
    await user.send("/surveys")
    await user.tap(TITLE[language])
    for point in points:
        await user.tap(str(point))
    await user.tap(i18n.translator(language).plain("surveys.submit"))
    return next(m.content for m in reversed(user.messages) if not m.photo)


async def test_the_result_card_reads_one_decimal_of_the_scale_maximum(harness, i18n, tmp_path):
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    (tmp_path / "teamwork.yaml").write_text(yaml.safe_dump(PACK, allow_unicode=True), "utf-8")
    assert (await content_service.load_path(db, tmp_path / "teamwork.yaml")).ok
    pre = await factories.campaign(db, ADMIN_ID, ADMINS, "teamwork", "pre")
    students = []
    for n, (language, card, _) in enumerate(EXPECTED):
        student = harness.user(830 + n, "S", language)
        await onboard(student, i18n, language=language, university=UNIVERSITY[language])
        result = await _take(student, i18n, language, (1, 1, 2))  # a mean of 4/3
        assert card in result, result
        students.append(student)
    await factories.close_campaign(db, ADMIN_ID, ADMINS, pre)
    await factories.campaign(db, ADMIN_ID, ADMINS, "teamwork", "post")
    for student, (language, _, change) in zip(students, EXPECTED, strict=True):
        result = await _take(student, i18n, language, (2, 2, 3))  # 7/3: one point more
        assert change in result, result
        await student.send("/my_results")
        assert change in student.last_text, student.last_text
