"""Contest aggregation: weighted review scores, entry means, z-scores, the ICC and its CI, ranks.

Every expected number below was worked out by hand (the arithmetic is in the docstrings), and
the ICC is also checked against pingouin on a complete design, where pingouin applies.
"""

from __future__ import annotations

import pandas as pd
import pingouin as pg
import pytest

from bot.services.contest_scoring import (
    NO_VARIANCE,
    NOT_ENOUGH,
    Criterion,
    ReviewScore,
    aggregate,
    competition_ranks,
    criteria_of,
    icc_oneway,
    in_range,
    review_score,
    standardise,
)

# pingouin 0.7's `anova` (inside intraclass_corr) calls DataFrame.dropna(inplace=True),
# deprecated in pandas 3: a library's warning, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.dropna")

RUBRIC = [Criterion("pedagogy", 2, 10), Criterion("usability", 1, 5), Criterion("access", 1, 20)]


def test_weighted_review_score() -> None:
    """pedagogy 5/10 (weight 2), usability 5/5 (1), access 0/20 (1):
    100 * (2 * 0.5 + 1 * 1 + 1 * 0) / 4 = 50; all maxima give 100, all zeros 0."""
    assert review_score({"pedagogy": 5, "usability": 5, "access": 0}, RUBRIC) == 50
    assert review_score({"pedagogy": 10, "usability": 5, "access": 20}, RUBRIC) == 100
    assert review_score({"pedagogy": 0, "usability": 0, "access": 0}, RUBRIC) == 0
    # 100 * (2 * 0.7 + 1 * 0.4 + 1 * 0.75) / 4 = 63.75
    assert review_score({"pedagogy": 7, "usability": 2, "access": 15}, RUBRIC) == pytest.approx(
        63.75
    )


def test_review_score_refuses_missing_and_out_of_range() -> None:
    """A criterion without a score, a score above the maximum, a negative one, NaN: refused."""
    with pytest.raises(ValueError, match="usability"):
        review_score({"pedagogy": 5, "access": 0}, RUBRIC)
    with pytest.raises(ValueError, match="pedagogy"):
        review_score({"pedagogy": 11, "usability": 5, "access": 0}, RUBRIC)
    with pytest.raises(ValueError, match="access"):
        review_score({"pedagogy": 1, "usability": 5, "access": -1}, RUBRIC)
    with pytest.raises(ValueError):
        review_score({"pedagogy": float("nan"), "usability": 5, "access": 0}, RUBRIC)
    with pytest.raises(ValueError):
        review_score({}, [])
    assert in_range(RUBRIC[0], 0) and in_range(RUBRIC[0], 10) and not in_range(RUBRIC[0], 10.5)


def test_criteria_of_a_definition() -> None:
    """The rubric is read from the stored definition, titles ignored, numbers as floats."""
    definition = {
        "criteria": [
            {"code": "a", "title": {"en": "A"}, "weight": 3, "max": 10},
            {"code": "b", "title": {"en": "B"}, "weight": 1, "max": 5},
        ]
    }
    assert criteria_of(definition) == [Criterion("a", 3.0, 10.0), Criterion("b", 1.0, 5.0)]
    assert criteria_of({}) == []


def test_competition_ranks_with_ties() -> None:
    """90, 80, 80, 70 rank 1, 2, 2, 4; no score stays unranked; floats equal to 9 decimals tie."""
    assert competition_ranks([80, 90, None, 80, 70]) == [2, 1, None, 2, 4]
    assert competition_ranks([0.1 + 0.2, 0.3, 0.2]) == [1, 1, 3]
    assert competition_ranks([]) == []
    assert competition_ranks([5, 5, 5]) == [1, 1, 1]


def test_entry_means_and_ranking() -> None:
    """Entry 1 reviewed 80 and 90 (mean 85), entry 2 60 and 70 (65), entry 3 65 (one review),
    entry 4 none: ranks 1, 2, 2 (65 = 65) and entry 4 unranked, listed last."""
    reviews = [
        ReviewScore(1, 10, 80),
        ReviewScore(1, 11, 90),
        ReviewScore(2, 10, 60),
        ReviewScore(2, 12, 70),
        ReviewScore(3, 11, 65),
        ReviewScore(99, 11, 100),  # an entry not listed (withdrawn): ignored
    ]
    scoring = aggregate([1, 2, 3, 4], reviews, standardise_scores=False)
    rows = {r.entry: r for r in scoring.entries}
    assert rows[1].mean == 85 and rows[1].reviews == 2 and rows[1].rank == 1
    assert rows[2].mean == 65 and rows[2].rank == 2
    assert rows[3].mean == 65 and rows[3].rank == 2
    assert rows[4].mean is None and rows[4].rank is None and rows[4].reviews == 0
    assert rows[1].standardised is None and rows[1].score == rows[1].mean
    assert [r.entry for r in scoring.entries] == [1, 2, 3, 4]
    assert not scoring.standardise


def test_z_standardisation_evens_out_strict_and_lenient_jurors() -> None:
    """A lenient juror gives entries 1 and 2 90 and 80 (mean 85, sd 7.07); a strict one gives
    entries 3 and 4 50 and 30 (mean 40, sd 14.14). Raw means rank 1, 2, 3, 4; z-scores are
    +0.707, -0.707, +0.707, -0.707, so 1 and 3 tie first and 2 and 4 tie third."""
    reviews = [
        ReviewScore(1, 10, 90),
        ReviewScore(2, 10, 80),
        ReviewScore(3, 20, 50),
        ReviewScore(4, 20, 30),
    ]
    raw = aggregate([1, 2, 3, 4], reviews, standardise_scores=False)
    assert [r.rank for r in raw.entries] == [1, 2, 3, 4]
    z = aggregate([1, 2, 3, 4], reviews, standardise_scores=True)
    rows = {r.entry: r for r in z.entries}
    half = 0.5**0.5
    assert rows[1].standardised == pytest.approx(half)
    assert rows[2].standardised == pytest.approx(-half)
    assert rows[3].standardised == pytest.approx(half)
    assert rows[4].standardised == pytest.approx(-half)
    assert rows[3].mean == 50  # the raw mean is still shown
    assert [rows[e].rank for e in (1, 2, 3, 4)] == [1, 3, 1, 3]
    assert z.standardise and z.unstandardised == ()


def test_jurors_without_spread_count_as_average() -> None:
    """A juror with one review, and one who gave every entry 70, cannot be standardised:
    their reviews count as z = 0 and they are named."""
    reviews = [
        ReviewScore(1, 10, 90),
        ReviewScore(2, 10, 50),
        ReviewScore(1, 11, 70),
        ReviewScore(2, 11, 70),
        ReviewScore(3, 12, 10),
    ]
    z, flat = standardise(reviews)
    assert flat == (11, 12)
    assert z[2:] == [0.0, 0.0, 0.0]
    assert z[0] == pytest.approx(2**-0.5) and z[1] == pytest.approx(-(2**-0.5))


def test_icc_against_a_hand_computation() -> None:
    """Three entries reviewed twice: (80, 90), (50, 60), (70, 70). Means 85, 55, 70, grand mean 70.
    SSB = 2 * (15^2 + 15^2 + 0^2) = 900, df 2, MSB = 450; SSW = 50 + 50 + 0 = 100, df 3,
    MSW = 100/3; F = 13.5. ICC(1,k) = 1 - 1/F = 25/27; ICC(1) = (F - 1)/(F + 1) = 25/29.
    CI from the F table: F_0.975(2, 3) = 16.0441, F_0.975(3, 2) = 39.1655;
    F_L = 13.5/16.0441 = 0.84143, lower = 1 - 1/F_L = -0.18845;
    F_U = 13.5 * 39.1655 = 528.73, upper = 1 - 1/F_U = 0.998109."""
    agreement = icc_oneway([[80, 90], [50, 60], [70, 70]])
    assert agreement.f == pytest.approx(13.5)
    assert agreement.icc == pytest.approx(25 / 27)
    assert agreement.icc_single == pytest.approx(25 / 29)
    assert agreement.ci_low == pytest.approx(-0.18845, abs=1e-4)
    assert agreement.ci_high == pytest.approx(0.998109, abs=1e-5)
    assert agreement.entries == 3 and agreement.reviews == 6 and agreement.k == 2
    assert agreement.note is None


def test_icc_with_unequal_review_counts() -> None:
    """Groups (10, 20, 30), (40, 50), (70, 80) and a single review (99, left out): N = 7, n = 3,
    k0 = (7 - (9 + 4 + 4)/7)/2 = 16/7. Means 20, 45, 75, grand 300/7; SSW = 200 + 50 + 50 = 300,
    df 4, MSW = 75; SSB = 3*(160/7)^2 + 2*(15/7)^2 + 2*(225/7)^2 = 178500/49 = 25500/7, df 2,
    MSB = 12750/7; F = MSB/MSW = 170/7."""
    agreement = icc_oneway([[10, 20, 30], [40, 50], [70, 80], [99]])
    f_value = 170 / 7
    assert agreement.entries == 3 and agreement.reviews == 7
    assert agreement.k == pytest.approx(16 / 7)
    assert agreement.f == pytest.approx(f_value)
    assert agreement.icc == pytest.approx(1 - 1 / f_value)
    assert agreement.icc_single == pytest.approx((f_value - 1) / (f_value + 16 / 7 - 1))


def test_icc_equals_pingouin_on_a_complete_design() -> None:
    """Four entries each reviewed by the same three jurors: our ICC(1,k) and its CI are
    pingouin's ICC1k (pingouin rounds the CI to 2 decimals)."""
    data = {1: [80, 90, 85], 2: [50, 60, 52], 3: [70, 60, 75], 4: [40, 45, 30]}
    long = pd.DataFrame(
        [(e, j, s) for e, values in data.items() for j, s in enumerate(values)],
        columns=["entry", "juror", "score"],
    )
    table = pg.intraclass_corr(long, targets="entry", raters="juror", ratings="score")
    row = table.set_index("Type").loc["ICC(1,k)"]
    single = table.set_index("Type").loc["ICC(1,1)"]
    agreement = icc_oneway(list(data.values()))
    assert agreement.icc == pytest.approx(row["ICC"])
    assert agreement.icc_single == pytest.approx(single["ICC"])
    assert agreement.f == pytest.approx(row["F"])
    assert agreement.ci_low == pytest.approx(row["CI95"][0], abs=0.005)
    assert agreement.ci_high == pytest.approx(row["CI95"][1], abs=0.005)


def test_icc_undefined_cases() -> None:
    """One entry with 2 reviews is not enough; identical scores everywhere have no variance;
    each is None with the reason, and no warning escapes (warnings are errors)."""
    assert icc_oneway([[1, 2], [3]]).note == NOT_ENOUGH
    assert icc_oneway([]).icc is None
    flat = icc_oneway([[70, 70], [70, 70]])
    assert flat.note == NO_VARIANCE and flat.icc is None
    same_means = icc_oneway([[60, 80], [80, 60]])
    assert same_means.note == NO_VARIANCE


def test_aggregate_reports_agreement_on_the_ranking_scores() -> None:
    """Without standardising, the agreement is the ICC of the raw weighted scores."""
    reviews = [
        ReviewScore(1, 10, 80),
        ReviewScore(1, 11, 90),
        ReviewScore(2, 10, 50),
        ReviewScore(2, 12, 60),
        ReviewScore(3, 11, 70),
        ReviewScore(3, 12, 70),
    ]
    scoring = aggregate([1, 2, 3], reviews, standardise_scores=False)
    assert scoring.agreement.icc == pytest.approx(25 / 27)
