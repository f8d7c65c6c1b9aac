"""The collaborative-environment survey (issue 17, item 6): the shipped pack is complete in
kk/ru/en, has its five scales of four agree5 items with the four formation levels, and scores
a university's respondent into the level the bands say, the band edges included."""

from __future__ import annotations

from pathlib import Path

from bot.content.engine import compile_pack
from bot.content.scoring import score
from bot.content.validate import check_path

PACK = Path(__file__).resolve().parents[2] / "content" / "collab_readiness.yaml"
SCALES = ["shared_content", "joint_courses", "mobility", "networking", "resource_bank"]


def _compiled():
    (report,) = check_path(PACK)
    assert report.ok, [str(e) for e in report.errors]
    assert report.pack is not None
    return compile_pack(report.pack)


def test_the_pack_is_complete_in_three_languages_with_five_scales() -> None:
    compiled = _compiled()
    pack = compiled.pack
    assert [s.code for s in pack.scales] == SCALES
    for text in [pack.title, pack.description, *(s.title for s in pack.scales)]:
        assert text is not None and {"kk", "ru", "en"} <= set(text.model_dump(exclude_none=True))
    for scale in SCALES:
        items = [i for i in compiled.items if i.scale == scale]
        assert len(items) == 4, scale
    for item in compiled.items:
        assert all(item.text.get(language) for language in ("kk", "ru", "en")), item.code
    assert [level.code for level in pack.scales[0].levels] == [
        "initial",
        "developing",
        "established",
        "advanced",
    ]


def test_a_respondent_is_scored_into_the_formation_levels() -> None:
    """Tried: all 1s (initial), a 2.5 mean (the developing band's lower edge), all 4s
    (established), all 5s (advanced: the top band includes its maximum)."""
    compiled = _compiled()
    by_scale = {s: [i.code for i in compiled.items if i.scale == s] for s in SCALES}
    answers = {"position": "teacher"}
    for value, scale in zip((1, None, 4, 5, 4), SCALES, strict=True):
        for code in by_scale[scale]:
            answers[code] = value
    for code, value in zip(by_scale["joint_courses"], (2, 3, 2, 3), strict=True):
        answers[code] = value
    result = score(compiled, answers)
    levels = {code: s.level for code, s in result.scales.items()}
    assert levels == {
        "shared_content": "initial",
        "joint_courses": "developing",
        "mobility": "established",
        "networking": "advanced",
        "resource_bank": "established",
    }
    assert result.scales["joint_courses"].value == 2.5
