"""Rankings of universities and study groups with their uncertainty, and groups by competence
profile (issue 17, items 2 and 3): every figure compared with a direct computation by the
library on the same data (scipy's t interval, pingouin's Games-Howell, scikit-learn's scaler,
k-means and silhouette), and the honest parts checked by hand: ties share a rank, overlapping
intervals give a range, small groups are not ranked (study groups not even named), groups are
numbered lowest profile first; typed study-group names grouped by the stated normalisation."""

from __future__ import annotations

import dataclasses

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


# --- study groups -----------------------------------------------------------------------------


def _grouped(groups: dict[tuple[str, str], list[float]], wave: str = "pre") -> pd.DataFrame:
    """A scales frame of scale A: each (university, study group) with its scores."""
    rows = [
        {
            "participant": f"{u}-{g}-{i}",
            "wave": wave,
            "university": u,
            "country": "KZ",
            "group": g,
            "A": v,
        }
        for (u, g), values in groups.items()
        for i, v in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_typed_group_names_are_one_group_under_the_stated_normalisation() -> None:
    """Tried: case, spaces at the ends and inside, spaces around the dash, a non-breaking
    hyphen, an en dash, a minus sign, a zero-width space, NFKC (full-width digits); and what
    stays apart: no dash at all, another number, nothing typed."""
    same = [
        "ПИ-21",
        " пи-21 ",
        "пи - 21",
        "Пи\u201121",
        "ПИ\u201321",
        "ПИ\u221221",
        "ПИ\u200b-21",
        "ПИ-\uff12\uff11",
        "ПИ-21\n",
    ]
    assert {rk.group_key(name) for name in same} == {"пи-21"}
    assert rk.group_key("ПИ 21  б") == "пи 21 б"
    assert rk.group_key("ПИ21") != rk.group_key("ПИ-21") != rk.group_key("ПИ-22")
    assert rk.group_key(None) is None and rk.group_key("  ") is None
    assert rk.group_key(float("nan")) is None


def test_a_group_is_shown_as_most_of_its_participants_typed_it() -> None:
    """Tried: in U1 three people typed "ПИ-21" and two " пи-21 " (one of them in two waves,
    counted once): shown "ПИ-21"; the same name in U2 is another group with its own spelling;
    a tie goes to the alphabetically first spelling; no group typed stays None."""
    frame = pd.DataFrame(
        [
            ("a", "U1", "ПИ-21"),
            ("b", "U1", "ПИ-21"),
            ("c", "U1", "ПИ-21"),
            ("d", "U1", " пи-21 "),
            ("d", "U1", " пи-21 "),  # the same person in a second wave
            ("e", "U1", "пи  -21"),
            ("f", "U2", "пи-21"),
            ("g", "U2", "Пи-21"),
            ("h", "U2", None),
        ],
        columns=["participant", "university", "group"],
    )
    shown = rk.canonical_groups(frame).tolist()
    assert shown[:7] == ["ПИ-21"] * 5 + ["ПИ-21", "Пи-21"]
    assert shown[7] == "Пи-21" and shown[8] is None  # "Пи-21" < "пи-21"
    empty = frame.assign(group=None)
    assert rk.canonical_groups(empty).isna().all()


def test_study_groups_are_ranked_within_their_university_as_scipy_computes() -> None:
    """Tried: U1 with groups "ПИ-21" (6 scores), "ПИ-22" (5) and "ИЯ-11" (3: below the minimum,
    counted but not named), U2 with its own "ПИ-21" (5 scores) and "МА-1" (5 scores): each
    university ranks its own groups; every mean, sd and interval is scipy's on that subset."""
    frame = _grouped(
        {
            ("U1", "ПИ-21"): [4.0, 4.5, 5.0, 4.2, 4.8, 4.6],
            ("U1", "ПИ-22"): [2.0, 3.0, 2.5, 2.2, 2.8],
            ("U1", "ИЯ-11"): [1.0, 5.0, 3.0],
            ("U2", "ПИ-21"): [1.0, 2.0, 1.5, 1.2, 1.8],
            ("U2", "МА-1"): [3.0, 3.5, 2.5, 3.2, 2.8],
        }
    )
    table = rk.rank_within(frame, ["A"])
    assert list(table.columns) == rk.STUDY_RANKING_COLUMNS
    keys = list(zip(table["university"], table["group"], strict=True))
    assert keys == [("U1", "ПИ-21"), ("U1", "ПИ-22"), ("U2", "МА-1"), ("U2", "ПИ-21")]
    for row in table.itertuples():
        part = frame[(frame["university"] == row.university) & (frame["group"] == row.group)]
        values = part["A"].to_numpy()
        low, high = stats.t.interval(
            0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values)
        )
        assert row.n == len(values) and row.mean == pytest.approx(values.mean())
        assert row.sd == pytest.approx(values.std(ddof=1))
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high))
    # Ranks restart in each university; separated intervals make the ranks certain.
    assert table["rank"].tolist() == [1, 2, 1, 2]
    assert table["rank_worst"].tolist() == [1, 2, 1, 2]
    u1 = table[table["university"] == "U1"]
    assert u1["note"].iloc[0] == (
        "not ranked (fewer than 5 scores): 1 group(s) with 3 score(s) in all, not named"
    )
    assert not table.astype(str).apply(lambda c: c.str.contains("ИЯ-11")).any().any()


def test_the_minimum_is_the_universities_and_a_group_without_university_is_left_out() -> None:
    """Tried: groups of exactly MIN_RANKED and one fewer; a group typed by people without a
    university; the same minimum as rank_groups uses for universities."""
    n = rk.MIN_RANKED
    frame = _grouped({("U1", "A-1"): [1.0 + i for i in range(n)], ("U1", "A-2"): [2.0] * (n - 1)})
    stray = frame.iloc[:n].assign(university=None, participant=lambda f: f["participant"] + "x")
    table = rk.rank_within(pd.concat([frame, stray]), ["A"])
    assert table["group"].tolist() == ["A-1"] and table["n"].tolist() == [n]
    assert f"fewer than {n} scores): 1 group(s) with {n - 1}" in table["note"].iloc[0]
    universities = rk.rank_groups(frame.assign(university=frame["group"]), "university", ["A"])
    assert universities["group"].tolist() == ["A-1"]  # the same rule for universities


def test_study_group_pairwise_is_games_howell_within_each_university() -> None:
    """Tried: U1 with three ranked groups against pingouin on U1's rows; U2 with eleven ranked
    groups (more than MAX_PAIRWISE_GROUPS): not run, and the row says why."""
    rng = np.random.default_rng(11)
    groups = {("U1", f"G{g}"): list(rng.normal(3 + g, 1, size=8)) for g in range(3)}
    groups |= {("U2", f"H{g}"): list(rng.normal(3, 1, size=6)) for g in range(11)}
    groups[("U1", "tiny")] = [1.0, 2.0]
    frame = _grouped(groups)
    table = rk.pairwise_within(frame, ["A"])
    assert list(table.columns) == rk.STUDY_PAIRWISE_COLUMNS
    u1 = table[table["university"] == "U1"]
    ranked = frame[(frame["university"] == "U1") & (frame["group"] != "tiny")]
    direct = pg.pairwise_gameshowell(data=ranked, dv="A", between="group")
    assert list(zip(u1["a"], u1["b"], strict=True)) == list(
        zip(direct["A"], direct["B"], strict=True)
    )
    assert u1["p_adjusted"].to_numpy() == pytest.approx(direct["pval"].to_numpy())
    assert u1["t"].to_numpy() == pytest.approx(direct["T"].to_numpy())
    assert u1["hedges_g"].to_numpy() == pytest.approx(direct["hedges"].to_numpy())
    (u2,) = table[table["university"] == "U2"].itertuples()
    assert (
        u2.note
        == "not run: 11 groups ranked, more than 10 (55 pairs); see the rank ranges instead"
    )
    assert pd.isna(u2.a)


def test_the_gain_ranking_of_study_groups_is_the_mean_of_each_members_gain() -> None:
    """Tried: two groups of U1 over two waves; the gain of each participant is post - pre, the
    group's mean gain and interval are scipy's on those differences."""
    rng = np.random.default_rng(2)
    pre = _grouped(
        {("U1", "a"): list(rng.normal(3, 1, 7)), ("U1", "b"): list(rng.normal(3, 1, 6))}
    )
    post = pre.assign(wave="post", A=pre["A"] + np.where(pre["group"] == "a", 1.0, 0.0) + 0.1)
    post["A"] += rng.normal(0, 0.3, len(post))
    gained = rk.gains(pd.concat([pre, post], ignore_index=True), "pre", "post")
    assert set(gained.columns) == {"participant", "university", "country", "group", "A"}
    table = rk.rank_within(gained, ["A"]).set_index("group")
    for group in ("a", "b"):
        diff = (post["A"] - pre["A"])[pre["group"] == group].to_numpy()
        low, high = stats.t.interval(0.95, len(diff) - 1, loc=diff.mean(), scale=stats.sem(diff))
        assert table.loc[group, "mean"] == pytest.approx(diff.mean())
        assert (table.loc[group, "ci_low"], table.loc[group, "ci_high"]) == pytest.approx(
            (low, high)
        )
    assert table.loc["a", "rank"] == 1


def test_run_all_says_why_no_study_group_was_ranked() -> None:
    """Tried: the survey fixture with every study group cut below the minimum (each student
    a group of their own pair), and with no group column at all: the sheets are empty of
    ranks and the notes say why; with the fixture's groups the sheets equal rank_within."""
    survey = make_survey()
    tables = run_all(survey).tables
    pre = survey.scales[survey.scales["wave"] == "pre"]
    got = tables["ranking_study_group"]
    got = got[got["wave"] == "pre"].drop(columns="wave").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, rk.rank_within(pre, ["A", "B"]), check_dtype=False)
    gain = rk.rank_within(rk.gains(survey.scales, "pre", "post"), ["A", "B"])
    pd.testing.assert_frame_equal(tables["gain_ranking_study_group"], gain, check_dtype=False)
    assert not tables["pairwise_study_group"].empty

    tiny = survey.scales.assign(group=survey.scales["participant"].str[-2:])  # pairs at most
    data = dataclasses.replace(survey, scales=tiny)
    report = run_all(data)
    note = next(n for n in report.notes if n.startswith("Study group rankings not run"))
    assert f"no study group has {rk.MIN_RANKED} scores in one wave" in note
    assert "the largest has 2 participant(s) in a wave" in note
    assert report.tables["ranking_study_group"]["mean"].isna().all()
    assert report.tables["ranking_study_group"]["note"].str.startswith("not ranked").all()
    assert report.tables["pairwise_study_group"].empty

    bare = dataclasses.replace(survey, scales=survey.scales.drop(columns="group"))
    report = run_all(bare)
    note = next(n for n in report.notes if n.startswith("Study group rankings not run"))
    assert "no participant has both a university and a study group" in note
    assert report.tables["ranking_study_group"].empty
