"""The SWOT matrix (issue 17, item 5): the normalisation as documented, counts per participant,
the top points per quadrant with their universities, per university, the 2x2 picture, and the
whole path from answers given through the surveys service to the analysis workbook."""

from __future__ import annotations

import pandas as pd
import pytest

from bot.services import analysis, surveys
from bot.services import swot_matrix as sm
from bot.services.exports import Filters
from bot.services.swot_matrix import Point
from tests import factories
from tests.services.test_analysis_codebook import assert_labelled

ADMINS = frozenset({1})
KEY = "swot-test-key"


def test_normalisation_is_what_the_docs_say() -> None:
    """Tried: case, ё, punctuation, quotes, dashes, emoji, full-width letters, extra spaces."""
    assert sm.normalise("  Медленный  Интернет! ") == "медленный интернет"
    assert sm.normalise("ЕДИНАЯ база, «ресурсов»") == sm.normalise("единая  база ресурсов")
    assert sm.normalise("Всё ещё") == "все еще"
    assert sm.normalise("Ｓｌｏｗ internet 🙁") == "slow internet"
    assert sm.normalise("Жылдам — интернет...") == "жылдам интернет"
    assert sm.normalise("!!! ...") == ""
    # Nothing stemmed or translated: these stay apart.
    assert sm.normalise("slow internet") != sm.normalise("медленный интернет")


def test_the_matrix_counts_participants_and_names_universities() -> None:
    """Tried: one point written in three wordings by three people of two universities, a person
    repeating a point (counts once), an empty point, a quadrant nobody wrote in, and `top`."""
    points = [
        Point("weaknesses", "P1", "dulaty", "Slow internet"),
        Point("weaknesses", "P1", "dulaty", "slow internet!"),  # the same person again
        Point("weaknesses", "P2", "dulaty", "Slow internet"),
        Point("weaknesses", "P3", "kaznpu", "SLOW  internet"),
        Point("weaknesses", "P3", "kaznpu", "No joint timetable"),
        Point("strengths", "P1", "dulaty", "Shared courses"),
        Point("strengths", "P4", None, "..."),  # nothing left after normalising
    ]
    table = sm.matrix(points)
    weak = table[table["quadrant"] == "weaknesses"].set_index("rank")
    assert weak.loc[1, "point"] == "Slow internet"  # the wording written most often
    assert weak.loc[1, "count"] == 3
    assert weak.loc[1, "share"] == pytest.approx(1.0)  # all three who wrote a weakness
    assert weak.loc[1, "universities"] == "dulaty 2, kaznpu 1"
    assert weak.loc[2, "point"] == "No joint timetable" and weak.loc[2, "count"] == 1
    strengths = table[table["quadrant"] == "strengths"]
    assert strengths["point"].tolist() == ["Shared courses"]
    assert strengths["share"].tolist() == [1.0]  # P4's empty point does not count as writing
    assert table[table["quadrant"].isin(["opportunities", "threats"])].empty
    assert len(sm.matrix(points, top=1).query("quadrant == 'weaknesses'")) == 1

    parts = sm.by_university(points)
    assert list(parts) == ["dulaty", "kaznpu", "—"]
    assert parts["kaznpu"].set_index("point").loc["SLOW  internet", "count"] == 1

    png = sm.matrix_image(table, "SWOT", {q: q.title() for q in sm.QUADRANTS})
    assert png.startswith(b"\x89PNG") and png == sm.matrix_image(
        table, "SWOT", {q: q.title() for q in sm.QUADRANTS}
    )  # the same inputs, the same bytes


async def _answer_swot(db, campaign, telegram_id, strengths, weaknesses) -> None:
    screen = await surveys.start(db, telegram_id, campaign, "en")
    screen = await surveys.pass_info(db, telegram_id, screen.attempt_id, screen.index)
    screen = await surveys.answer(db, telegram_id, screen.attempt_id, screen.index, strengths)
    screen = await surveys.answer(db, telegram_id, screen.attempt_id, screen.index, weaknesses)
    screen = await surveys.skip(db, telegram_id, screen.attempt_id, screen.index)
    screen = await surveys.skip(db, telegram_id, screen.attempt_id, screen.index)
    while screen.kind != "review":
        screen = await surveys.skip(db, telegram_id, screen.attempt_id, screen.index)
    await surveys.submit(db, telegram_id, screen.attempt_id)


async def test_the_analysis_of_the_swot_survey_writes_the_matrix(db, settings, tmp_path) -> None:
    """Three students of two universities answer the shipped SWOT survey through the surveys
    service; the analysis workbook holds the consortium's matrix and each university's, the
    picture is attached, each university's picture is written beside it, and the note says how
    points were grouped."""
    await factories.student(db, 1, ADMINS, university=0)
    campaign = await factories.campaign(db, 1, ADMINS, "swot_collaboration", "main")
    answers = {
        901: (0, "- Shared courses\n- Friendly staff", "Slow internet"),
        902: (0, "shared courses!", "slow  internet\nNo joint timetable"),
        903: (3, "Open data", "Slow Internet"),
    }
    for telegram_id, (university, strengths, weaknesses) in answers.items():
        await factories.student(db, telegram_id, ADMINS, university=university)
        await _answer_swot(db, campaign, telegram_id, strengths, weaknesses)
    outcome = await analysis.analyse(
        settings.database_url, "swot_collaboration", Filters(), KEY, "en", tmp_path
    )
    assert [p.name for p in outcome.charts] == ["swot_matrix.png"]
    sheets = pd.read_excel(outcome.workbook, sheet_name=None)
    whole = sheets["swot_matrix"]
    weak = whole[whole["quadrant"] == "weaknesses"].set_index("rank")
    assert weak.loc[1, "count"] == 3 and weak.loc[1, "point"] == "Slow internet"
    strong = whole[whole["quadrant"] == "strengths"].set_index("rank")
    assert strong.loc[1, "count"] == 2 and strong.loc[1, "point"] == "Shared courses"
    per = sheets["swot_matrix_by_university"]
    assert per["university"].nunique() == 2
    assert len(list(tmp_path.glob("swot_matrix_*.png"))) == 2
    assert any("NFKC" in note for note in sheets["notes"]["note"])
    assert_labelled(pd.read_excel(outcome.workbook, sheet_name=None, keep_default_na=False))
