"""Rankings of universities with their uncertainty, and groups by competence profile (issue 17,
items 2 and 3): every figure compared with a direct computation by the library on the same data
(scipy's t interval, pingouin's Games-Howell, scikit-learn's scaler, k-means and silhouette),
and the honest parts checked by hand: ties share a rank, overlapping intervals give a range,
small groups are not ranked, groups are numbered lowest profile first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from bot.services import analysis_groups as ag
from bot.services import analysis_rankings as rk
from bot.services.analysis_stats import run_all
from tests.services.test_analysis_stats import make_survey


def _frame(groups: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"participant": f"{g}{i}", "wave": "pre", "university": g, "country": "KZ", "A": v}
        for g, values in groups.items()
        for i, v in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_the_ranking_matches_scipys_interval_and_shows_ties_and_overlaps() -> None:
    """Tried: U1 clearly highest, U2 and U3 with equal means (a tie), U4 overlapping U2/U3, U5
    with 3 scores (not ranked, named in the note)."""
    frame = _frame(
        {
            "U1": [9.0, 9.5, 10.0, 9.2, 9.8, 9.6],
            "U2": [5.0, 6.0, 7.0, 5.5, 6.5],
            "U3": [6.0, 6.0, 5.0, 7.0, 6.0],
            "U4": [5.0, 5.5, 6.5, 4.5, 5.5, 6.0],
            "U5": [1.0, 2.0, 1.5],
        }
    )
    table = rk.rank_groups(frame, "university", ["A"]).set_index("group")
    assert list(table.index) == ["U1", "U2", "U3", "U4"]
    assert "U5 (n=3)" in table.loc["U1", "note"]
    for group in table.index:
        values = frame.loc[frame["university"] == group, "A"].to_numpy()
        low, high = stats.t.interval(
            0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values)
        )
        assert table.loc[group, "n"] == len(values)
        assert table.loc[group, "mean"] == pytest.approx(values.mean())
        assert table.loc[group, "sd"] == pytest.approx(values.std(ddof=1))
        assert (table.loc[group, "ci_low"], table.loc[group, "ci_high"]) == pytest.approx(
            (low, high)
        )
    # U2 and U3 share rank 2; U4 comes 4th; U1 is certainly first.
    assert table["rank"].to_dict() == {"U1": 1, "U2": 2, "U3": 2, "U4": 4}
    assert (table.loc["U1", "rank_best"], table.loc["U1", "rank_worst"]) == (1, 1)
    # The three overlapping groups can take any of ranks 2 to 4.
    for group in ("U2", "U3", "U4"):
        assert (table.loc[group, "rank_best"], table.loc[group, "rank_worst"]) == (2, 4)


def test_pairwise_is_pingouins_games_howell() -> None:
    """Tried: the survey fixture's post wave, universities U1-U3, scales A and B."""
    survey = make_survey()
    post = survey.scales[survey.scales["wave"] == "post"]
    table = rk.pairwise(post, "university", ["A", "B"])
    for scale in ("A", "B"):
        direct = pg.pairwise_gameshowell(
            data=post[["university", scale]].dropna(), dv=scale, between="university"
        )
        got = table[table["scale"] == scale]
        assert got["a"].tolist() == direct["A"].tolist()
        assert got["p_adjusted"].to_numpy() == pytest.approx(direct["pval"].to_numpy())
        assert got["diff"].to_numpy() == pytest.approx(direct["diff"].to_numpy())
    # U3 is higher on A by design: its comparisons with U1 and U2 are significant.
    a = table[table["scale"] == "A"]
    with_u3 = a[(a["a"] == "U3") | (a["b"] == "U3")]
    assert (with_u3["p_adjusted"] < 0.05).all()


def test_the_gain_ranking_uses_post_minus_pre_per_participant() -> None:
    """Tried: the fixture (10 drop out before the post wave): the gains are over the 190 pairs,
    and each university's mean gain is the mean of its participants' differences."""
    survey = make_survey()
    gained = rk.gains(survey.scales, "pre", "post")
    assert len(gained) == 190
    pre = survey.scales[survey.scales["wave"] == "pre"].set_index("participant")
    post = survey.scales[survey.scales["wave"] == "post"].set_index("participant")
    direct = (post["A"] - pre.loc[post.index, "A"]).rename("gain")
    table = rk.rank_groups(gained, "university", ["A"]).set_index("group")
    for university, mean in direct.groupby(pre.loc[post.index, "university"]).mean().items():
        assert table.loc[university, "mean"] == pytest.approx(mean)


def test_groups_are_kmeans_on_standardised_scores_chosen_by_silhouette() -> None:
    """Tried: three well separated profiles (low-low, high-low, high-high) of 20 each with
    noise; the chosen k is 3 with the best silhouette, as scikit-learn computes it directly;
    group 1 is the lowest profile; sizes per university add up; the post wave moves the low
    group up and the moves table counts it."""
    rng = np.random.default_rng(3)
    centres = [(1.0, 1.0), (4.0, 1.5), (4.5, 4.5)]
    rows = []
    for g, (a, b) in enumerate(centres):
        for i in range(20):
            rows.append(
                {
                    "participant": f"p{g}{i}",
                    "wave": "pre",
                    "university": ["U1", "U2"][i % 2],
                    "country": "KZ",
                    "A": a + rng.normal(scale=0.3),
                    "B": b + rng.normal(scale=0.3),
                }
            )
    pre = pd.DataFrame(rows)
    post = pre.copy()
    post["wave"] = "post"
    low = post["participant"].str.startswith("p0")
    post.loc[low, ["A", "B"]] = post.loc[low, ["A", "B"]].to_numpy() + np.array(
        [3.0, 0.5]
    )  # to group 2
    scales = pd.concat([pre, post], ignore_index=True)

    grouping = ag.group_profiles(scales, ["A", "B"], base_wave="pre", post_wave="post")
    z = StandardScaler().fit_transform(pre[["A", "B"]].to_numpy())
    direct = {
        k: silhouette_score(
            z, KMeans(n_clusters=k, n_init=ag.STARTS, random_state=ag.SEED).fit(z).labels_
        )
        for k in range(2, 7)
    }
    silhouettes = grouping.silhouettes.set_index("k")["silhouette"].to_dict()
    assert silhouettes == pytest.approx(direct)
    assert (
        grouping.silhouettes.set_index("k")["chosen"].idxmax() == 3 == max(direct, key=direct.get)
    )
    profiles = grouping.profiles.set_index("group")
    assert profiles["n"].tolist() == [20, 20, 20]
    assert profiles.loc[1, "A"] == pytest.approx(
        pre.loc[pre["participant"].str[1] == "0", "A"].mean()
    )
    assert profiles.loc[1, "A_z"] < profiles.loc[3, "A_z"]
    counts = grouping.by_university.set_index("group")
    assert counts.to_numpy().sum() == 60 and counts.loc[1, "U1"] == 10
    moves = grouping.moves.set_index("group")
    assert moves.loc[1, "after_2"] == 20  # the low group moved to the middle profile
    assert moves.loc[3, "after_3"] == 20


def test_groups_not_run_say_why() -> None:
    """Tried: 5 complete profiles, one scale only, identical profiles."""
    few = _frame({"U1": [1.0, 2.0, 3.0, 4.0, 5.0]})
    few["B"] = few["A"]
    assert "it needs at least 10" in ag.group_profiles(few, ["A", "B"]).note
    assert "at least two scales" in ag.group_profiles(few, ["A"]).note
    flat = _frame({"U1": [2.0] * 12})
    flat["B"] = 3.0
    assert "do not vary" in ag.group_profiles(flat, ["A", "B"]).note


def test_run_all_carries_the_rankings_and_groups() -> None:
    """The survey fixture through run_all: the ranking tables per wave equal the functions' own
    output, and U3 (higher on A by design) is ranked first on A in both waves."""
    survey = make_survey()
    tables = run_all(survey).tables
    ranking = tables["ranking_university"]
    for wave in ("pre", "post"):
        part = ranking[(ranking["wave"] == wave) & (ranking["scale"] == "A")]
        assert part.iloc[0]["group"] == "U3" and part.iloc[0]["rank"] == 1
        direct = rk.rank_groups(
            survey.scales[survey.scales["wave"] == wave], "university", ["A", "B"]
        )
        got = ranking[ranking["wave"] == wave].drop(columns="wave").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, direct, check_dtype=False)
    assert not tables["gain_ranking_university"].empty
    assert tables["groups"]["n"].sum() == 200


def test_over_time_orders_waves_by_opening_and_matches_scipy() -> None:
    """Tried: three waves named out of order ("b" opened before "a"; "z" never opened), two
    universities; each row's mean and t interval as scipy computes them on that subset."""
    rng = np.random.default_rng(5)
    rows = []
    for wave in ("a", "b", "z"):
        for i in range(12):
            rows.append(
                {
                    "participant": f"p{i}",
                    "wave": wave,
                    "university": ["U1", "U2"][i % 2],
                    "country": "KZ",
                    "A": rng.normal(3, 1),
                }
            )
    scales = pd.DataFrame(rows)
    opened = {"a": "2027-02-01T00:00:00Z", "b": "2026-09-01T00:00:00Z"}
    table = rk.over_time(scales, opened)
    assert list(dict.fromkeys(table["wave"])) == ["b", "a", "z"]
    for row in table.itertuples():
        part = scales[scales["wave"] == row.wave]
        if row.university != "all":
            part = part[part["university"] == row.university]
        values = part["A"].to_numpy()
        low, high = stats.t.interval(
            0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values)
        )
        assert row.n == len(values) and row.mean == pytest.approx(values.mean())
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high))
    assert set(table["university"]) == {"all", "U1", "U2"}
    # Opened at the same moment: the ties' order (pre before post), not the names'.
    same = {"post": "2027-01-01T00:00:00Z", "pre": "2027-01-01T00:00:00Z"}
    both = scales.replace({"wave": {"a": "pre", "b": "post"}})
    order = rk.over_time(both[both["wave"] != "z"], same, ties=["pre", "post"])["wave"]
    assert list(dict.fromkeys(order)) == ["pre", "post"]


def test_ranking_questions_mean_ranks_distribution_and_kendalls_w() -> None:
    """Tried: 5 respondents of two universities ranking 4 options; mean ranks by hand, the
    distribution's counts, and W both from scipy's Friedman chi2 and from Kendall's own
    formula W = 12 S / (n^2 (k^3 - k)) with S the squared deviations of the rank sums; a
    university of one respondent says why W is not computed; perfect agreement gives W = 1."""
    orders = {
        "p1": ("U1", ["a", "b", "c", "d"]),
        "p2": ("U1", ["a", "c", "b", "d"]),
        "p3": ("U1", ["b", "a", "c", "d"]),
        "p4": ("U2", ["a", "b", "d", "c"]),
        "p5": ("U1", ["a", "b", "c", "d"]),
    }
    rows = [
        (p, "pre", uni, "tools", option, rank)
        for p, (uni, order) in orders.items()
        for rank, option in enumerate(order, 1)
    ]
    ranks = pd.DataFrame(
        rows, columns=["participant", "wave", "university", "item", "option", "rank"]
    )
    means, distribution, agreement = rk.ranking_questions(ranks)
    by_option = means.set_index("option")["mean_rank"]
    assert by_option.to_dict() == pytest.approx({"a": 1.2, "b": 2.0, "c": 3.0, "d": 3.8})
    assert list(means["option"]) == ["a", "b", "c", "d"]  # most preferred first
    first = distribution[(distribution["option"] == "a") & (distribution["rank"] == 1)]
    assert int(first["count"].iloc[0]) == 4 and float(first["percent"].iloc[0]) == 80.0
    everyone = agreement.set_index("university").loc["all"]
    matrix = np.array([[order.index(o) + 1 for o in "abcd"] for _, order in orders.values()])
    n, k = matrix.shape
    sums = matrix.sum(axis=0)
    s = float(((sums - sums.mean()) ** 2).sum())
    assert everyone["kendall_w"] == pytest.approx(12 * s / (n**2 * (k**3 - k)))
    chi2 = stats.friedmanchisquare(*matrix.T)
    assert everyone["chi2"] == pytest.approx(chi2.statistic)
    assert everyone["p"] == pytest.approx(chi2.pvalue)
    assert "not run" in agreement.set_index("university").loc["U2", "note"]
    same = ranks[ranks["participant"].isin(["p1", "p5"])]
    assert rk.ranking_questions(same)[2].set_index("university").loc["all", "kendall_w"] == 1.0
