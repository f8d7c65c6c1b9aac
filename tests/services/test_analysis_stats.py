"""Research-analysis statistics: every number checked against scipy/pingouin/statsmodels called
directly on the same rows, on generated data with known effects, plus the edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo
from scipy import stats
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm

from bot.services import analysis_stats
from bot.services.analysis_charts import by_group_chart, prepost_chart
from bot.services.analysis_stats import (
    KEY_COLUMNS,
    StudyData,
    correlations,
    describe,
    distribution,
    efa,
    group_compare,
    item_analysis,
    prepost,
    reliability,
    run_all,
    write_workbook,
)

# Any warning is a failure: the module checks that a statistic is defined instead of letting
# scipy/pingouin warn and return NaN or inf. One exception, outside our control: pingouin 0.7's
# `anova` calls `DataFrame.dropna(inplace=True)`, deprecated in pandas 3.
pytestmark = pytest.mark.filterwarnings(
    "error", "ignore:The inplace keyword in DataFrame.dropna:DeprecationWarning"
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
A_ITEMS = [f"a{j}" for j in range(4)]
B_ITEMS = [f"b{j}" for j in range(4)]
ITEM_SCALE = dict.fromkeys(A_ITEMS, "A") | dict.fromkeys(B_ITEMS, "B")


def likert(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(values), 1, 5)


def make_survey(seed: int = 7, n: int = 200, missing: float = 0.0) -> StudyData:
    """Two waves of a 2-scale survey. Known effects: scale A rises by about 0.5 from pre to
    post (B does not move), university U3 (country KG) is higher on A, A and B correlate
    (their factors do, r = 0.4), and the items have a clean 2-factor structure. Each university
    has study groups G0-G3 (participant i in G{i % 4})."""
    rng = np.random.default_rng(seed)
    university = rng.choice(["U1", "U2", "U3"], size=n)
    country = np.where(university == "U3", "KG", "KZ")
    f1 = rng.normal(size=n) + np.where(university == "U3", 0.8, 0.0)
    f2 = 0.4 * f1 + rng.normal(size=n)
    item_parts, scale_parts = [], []
    for wave, shift in (("pre", 0.0), ("post", 0.55)):
        keys = {
            "participant": [f"p{i:03d}" for i in range(n)],
            "wave": wave,
            "university": university,
            "country": country,
            # Study groups: four per university, about 17 students each (no effect).
            "group": [f"G{i % 4}" for i in range(n)],
        }
        values = {}
        for item in A_ITEMS:
            values[item] = likert(3 + 0.9 * (f1 + shift) + 0.6 * rng.normal(size=n))
        for item in B_ITEMS:
            values[item] = likert(3 + 0.9 * f2 + 0.6 * rng.normal(size=n))
        items = pd.DataFrame(keys | values)
        if missing:
            for item in A_ITEMS + B_ITEMS:
                items.loc[rng.random(n) < missing, item] = np.nan
        if wave == "post":  # ten participants drop out before the post wave
            items = items.iloc[10:].reset_index(drop=True)
        scales = items[list(KEY_COLUMNS)].copy()
        # A scale score needs every item of the scale.
        scales["A"] = items[A_ITEMS].mean(axis=1).where(items[A_ITEMS].notna().all(axis=1))
        scales["B"] = items[B_ITEMS].mean(axis=1).where(items[B_ITEMS].notna().all(axis=1))
        item_parts.append(items)
        scale_parts.append(scales)
    return StudyData(
        items=pd.concat(item_parts, ignore_index=True),
        scales=pd.concat(scale_parts, ignore_index=True),
        item_scale=dict(ITEM_SCALE),
        item_max={},
        is_test=False,
        pre_wave="pre",
        post_wave="post",
    )


def make_test(seed: int = 3, n: int = 150) -> StudyData:
    """One wave of a test: 0/1 items of rising difficulty driven by one ability, item q5 worth
    2 points, item q6 pure guessing (no discrimination)."""
    rng = np.random.default_rng(seed)
    ability = rng.normal(size=n)
    values = {}
    for j, threshold in enumerate([-1.5, -0.5, 0.0, 0.5, 1.5]):
        chance = 1 / (1 + np.exp(-1.7 * (ability - threshold)))
        values[f"q{j}"] = (rng.random(n) < chance).astype(float)
    values["q5"] = np.clip(np.round(ability + 1 + 0.5 * rng.normal(size=n)), 0, 2)
    values["q6"] = (rng.random(n) < 0.5).astype(float)
    items = pd.DataFrame(
        {
            "participant": [f"s{i}" for i in range(n)],
            "wave": "only",
            "university": rng.choice(["U1", "U2"], size=n),
            "country": "KZ",
            **values,
        }
    )
    items.loc[[3, 10], "q2"] = np.nan  # unanswered
    item_max = {f"q{j}": 1.0 for j in range(7)} | {"q5": 2.0}
    scales = items[[c for c in KEY_COLUMNS if c in items]].copy()  # no study groups
    scales["total"] = items[list(item_max)].sum(axis=1, min_count=len(item_max))
    return StudyData(
        items=items,
        scales=scales,
        item_scale={},
        item_max=item_max,
        is_test=True,
    )


def scale_frame(pre: list[float | None], post: list[float | None]) -> pd.DataFrame:
    """A long scales frame of one scale S: participant i scores pre[i] and post[i] (None: no
    row in that wave)."""
    rows = []
    for wave, values in (("pre", pre), ("post", post)):
        for i, value in enumerate(values):
            if value is not None:
                keys = {"participant": i, "wave": wave, "university": "U", "country": "KZ"}
                rows.append(keys | {"S": value})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def survey() -> StudyData:
    return make_survey(missing=0.03)


# --- descriptives -----------------------------------------------------------------------------


def test_describe_matches_pandas_per_wave(survey: StudyData) -> None:
    table = describe(survey.scales, ["A", "B"], by="wave")
    assert list(table.columns) == [
        "wave",
        "variable",
        "n",
        "mean",
        "sd",
        "median",
        "min",
        "max",
        "missing",
    ]
    assert list(table["wave"]) == ["pre", "pre", "post", "post"]
    for row in table.itertuples():
        values = survey.scales.loc[survey.scales["wave"] == row.wave, row.variable]
        assert row.n == values.count()
        assert row.missing == values.isna().sum()
        assert row.mean == pytest.approx(values.mean())
        assert row.sd == pytest.approx(np.std(values.dropna(), ddof=1))
        assert row.median == pytest.approx(values.median())
        assert (row.min, row.max) == (values.min(), values.max())
    # The known effect shows in the descriptives too.
    means = table.set_index(["wave", "variable"])["mean"]
    assert means["post", "A"] > means["pre", "A"] + 0.3


def test_describe_without_groups_and_with_missing_values() -> None:
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0, np.nan], "y": [np.nan] * 4})
    table = describe(frame, ["x", "y"]).set_index("variable")
    assert table.loc["x", "n"] == 2 and table.loc["x", "missing"] == 2
    assert table.loc["x", "mean"] == 2.0 and table.loc["x", "sd"] == pytest.approx(np.sqrt(2))
    assert table.loc["y", "n"] == 0 and table.loc["y", "missing"] == 4
    assert np.isnan(table.loc["y", "mean"]) and np.isnan(table.loc["y", "sd"])


def test_distribution_counts_and_percents(survey: StudyData) -> None:
    table = distribution(survey.items, ["a0", "b1"], by="wave")
    assert list(table.columns) == ["wave", "variable", "value", "count", "percent"]
    for (wave, item), part in table.groupby(["wave", "variable"]):
        values = survey.items.loc[survey.items["wave"] == wave, item]
        expected = values.value_counts().sort_index()
        assert list(part["value"]) == list(expected.index)
        assert list(part["count"]) == list(expected)
        assert part["percent"].to_numpy() == pytest.approx(
            (values.value_counts(normalize=True).sort_index() * 100).to_numpy()
        )
        assert part["percent"].sum() == pytest.approx(100.0)


# --- reliability --------------------------------------------------------------------------------


def test_reliability_matches_pingouin_on_complete_cases(survey: StudyData) -> None:
    items = survey.items[survey.items["wave"] == "pre"]
    scales, item_total = reliability(items, survey.item_scale)
    assert list(scales["scale"]) == ["A", "B"]
    for scale, columns in (("A", A_ITEMS), ("B", B_ITEMS)):
        row = scales.set_index("scale").loc[scale]
        complete = items[columns].dropna()
        assert row["k"] == 4 and row["n"] == len(complete) < len(items)  # listwise
        alpha, ci = pg.cronbach_alpha(data=complete)
        assert row["alpha"] == pytest.approx(alpha)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(tuple(ci))
        assert row["alpha"] > 0.8  # four items of one factor
        for item in columns:
            line = item_total.set_index("item").loc[item]
            rest = complete.drop(columns=item)
            r = stats.pearsonr(complete[item], rest.sum(axis=1)).statistic
            assert line["item_total_r"] == pytest.approx(r)
            assert line["alpha_if_deleted"] == pytest.approx(pg.cronbach_alpha(data=rest)[0])
            assert line["n"] == len(complete)


def test_reliability_edge_cases() -> None:
    items = pd.DataFrame(
        {
            "participant": range(5),
            "wave": "w",
            "university": "U",
            "country": "KZ",
            "solo": [1.0, 2, 3, 4, 5],
            "p1": [1.0, 2, 3, 4, 5],
            "p2": [2.0, 2, 4, 5, 4],
            "few1": [1.0, 2, np.nan, np.nan, np.nan],
            "few2": [2.0, 3, 4, np.nan, np.nan],
        }
    )
    item_scale = {"solo": "ONE", "p1": "PAIR", "p2": "PAIR", "few1": "FEW", "few2": "FEW"}
    scales, item_total = reliability(items, item_scale)
    scales = scales.set_index("scale")
    assert np.isnan(scales.loc["ONE", "alpha"]) and "one item" in scales.loc["ONE", "note"]
    assert scales.loc["FEW", "n"] == 2 and np.isnan(scales.loc["FEW", "alpha"])
    assert "2 complete cases" in scales.loc["FEW", "note"]
    pair = items[["p1", "p2"]]
    assert scales.loc["PAIR", "alpha"] == pytest.approx(pg.cronbach_alpha(data=pair)[0])
    # With two items, deleting one leaves one: no alpha, but the item-total r is defined.
    lines = item_total[item_total["scale"] == "PAIR"].set_index("item")
    assert lines["alpha_if_deleted"].isna().all()
    assert lines.loc["p1", "item_total_r"] == pytest.approx(
        stats.pearsonr(pair["p1"], pair["p2"]).statistic
    )
    assert "fewer than 2 items remain" in lines.loc["p1", "note"]
    assert item_total.loc[item_total["scale"] == "ONE", "item_total_r"].isna().all()


# --- item analysis (tests) ----------------------------------------------------------------------


def test_item_analysis_matches_direct_computation() -> None:
    data = make_test()
    table = item_analysis(data.items, data.item_max).set_index("item")
    columns = list(data.item_max)
    complete = data.items[columns].dropna()
    total = complete.sum(axis=1)
    for item in columns:
        row = table.loc[item]
        maximum = data.item_max[item]
        assert row["max_points"] == maximum
        assert row["n"] == data.items[item].count()
        assert row["difficulty"] == pytest.approx(data.items[item].mean() / maximum)
        assert row["n_complete"] == len(complete) == len(data.items) - 2
        r = stats.pearsonr(complete[item], total - complete[item]).statistic
        assert row["discrimination"] == pytest.approx(r)
    # Known structure: thresholds rise from q0 to q4, so facility falls; the guessing item
    # discriminates far less than the ability-driven ones.
    difficulty = table.loc[[f"q{j}" for j in range(5)], "difficulty"]
    assert difficulty.is_monotonic_decreasing
    assert table.loc["q6", "discrimination"] < 0.2 < table.loc["q2", "discrimination"]
    assert table.loc["q6", "upper_lower"] < table.loc["q2", "upper_lower"]


def test_upper_lower_index_on_a_known_ranking() -> None:
    # Ten people with totals 0..9 (x is the total's driver); round(0.27 * 10) = 3 per group.
    x = np.arange(10, dtype=float)
    items = pd.DataFrame(
        {
            "participant": range(10),
            "wave": "w",
            "university": "U",
            "country": "KZ",
            "hard": [0, 0, 0, 0, 0, 0, 0, 1, 1, 1.0],  # only the top 3 solve it
            "rest": x,
        }
    )
    table = item_analysis(items, {"hard": 1.0, "rest": 10.0}).set_index("item")
    assert table.loc["hard", "upper_lower"] == pytest.approx(1.0)
    top, bottom = items["rest"].nlargest(3).mean(), items["rest"].nsmallest(3).mean()
    assert table.loc["rest", "upper_lower"] == pytest.approx((top - bottom) / 10)
    assert table.loc["hard", "difficulty"] == pytest.approx(0.3)


# --- pre/post -----------------------------------------------------------------------------------


def test_prepost_matches_scipy_and_pingouin(survey: StudyData) -> None:
    table = prepost(survey.scales, "pre", "post").set_index("scale")
    scales = survey.scales
    for scale in ("A", "B"):
        pre = scales[scales["wave"] == "pre"].set_index("participant")[scale]
        post = scales[scales["wave"] == "post"].set_index("participant")[scale]
        pairs = pd.concat({"pre": pre, "post": post}, axis=1).dropna()
        row = table.loc[scale]
        # Drop-outs and missing scores leave fewer pairs than participants.
        assert row["n_pairs"] == len(pairs) < len(pre) - 10
        diff = pairs["post"] - pairs["pre"]
        assert row["mean_pre"] == pytest.approx(pairs["pre"].mean())
        assert row["mean_post"] == pytest.approx(pairs["post"].mean())
        assert row["mean_diff"] == pytest.approx(diff.mean())
        assert row["sd_diff"] == pytest.approx(np.std(diff, ddof=1))
        t = stats.ttest_rel(pairs["post"], pairs["pre"])
        assert (row["t"], row["df"], row["p_t"]) == pytest.approx((t.statistic, t.df, t.pvalue))
        ci = t.confidence_interval()
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
        assert row["cohen_dz"] == pytest.approx(diff.mean() / np.std(diff, ddof=1))
        w = stats.wilcoxon(pairs["post"], pairs["pre"])
        assert (row["w"], row["p_w"]) == pytest.approx((w.statistic, w.pvalue))
        rbc = pg.wilcoxon(pairs["post"], pairs["pre"])["RBC"].iloc[0]
        assert row["rank_biserial"] == pytest.approx(rbc)
        assert row["note"] == ""
    # The known effect: A rises clearly, B does not.
    a, b = table.loc["A"], table.loc["B"]
    assert a["mean_post"] > a["mean_pre"] and a["mean_diff"] > 0.3
    assert a["p_t"] < 1e-6 and a["p_w"] < 1e-6 and a["ci_low"] > 0 and a["rank_biserial"] > 0.5
    assert b["p_t"] > 0.01 and b["ci_low"] < 0 < b["ci_high"]


def test_prepost_edge_cases() -> None:
    # One pair: participant 0 (1 and 3 have no post row, 2 has no pre score).
    frame = scale_frame(
        [1.0, 2.0, np.nan, 4.0],
        [2.0, None, 3.0, None],
    )
    row = prepost(frame, "pre", "post").iloc[0]
    assert row["n_pairs"] == 1 and row["mean_diff"] == 1.0
    assert np.isnan(row["t"]) and np.isnan(row["w"]) and "1 pairs" in row["note"]

    # Every difference +1: the t-test is undefined, the Wilcoxon test is not.
    equal = scale_frame([1.0, 2.0, 3.5, 4.0, 2.2], [2.0, 3.0, 4.5, 5.0, 3.2])
    row = prepost(equal, "pre", "post").iloc[0]
    assert row["n_pairs"] == 5 and row["mean_diff"] == pytest.approx(1.0)
    assert np.isnan(row["t"]) and np.isnan(row["cohen_dz"]) and np.isnan(row["ci_low"])
    assert "every difference is the same" in row["note"]
    w = stats.wilcoxon([1.0] * 5)
    assert (row["w"], row["p_w"], row["rank_biserial"]) == pytest.approx(
        (w.statistic, w.pvalue, 1.0)
    )

    # Every difference 0: neither test is defined.
    zero = scale_frame([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    row = prepost(zero, "pre", "post").iloc[0]
    assert row["n_pairs"] == 3 and row["mean_diff"] == 0
    assert np.isnan(row["t"]) and np.isnan(row["w"]) and np.isnan(row["rank_biserial"])
    assert "every difference is zero" in row["note"]

    empty = prepost(frame, "pre", "no such wave").iloc[0]
    assert empty["n_pairs"] == 0 and np.isnan(empty["mean_pre"])


def test_prepost_rejects_two_rows_of_one_participant_in_a_wave() -> None:
    frame = scale_frame([1.0, 2.0, 3.0], [2.0, 2.0, 4.0])
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="several rows"):
        prepost(frame, "pre", "post")


# --- group comparison ---------------------------------------------------------------------------


def test_group_compare_matches_scipy_and_statsmodels(survey: StudyData) -> None:
    scales = survey.scales[survey.scales["wave"] == "pre"]
    means, tests = group_compare(scales, "university")
    assert list(means.columns) == ["group", "scale", "n", "mean", "sd"]
    assert list(tests["scale"]) == ["A", "B"]
    for scale in ("A", "B"):
        data = scales[["university", scale]].dropna()
        expected = data.groupby("university")[scale].agg(["count", "mean", "std"])
        got = means[means["scale"] == scale].set_index("group")
        assert list(got.index) == ["U1", "U2", "U3"]
        assert got["n"].tolist() == expected["count"].tolist()
        assert got["mean"].to_numpy() == pytest.approx(expected["mean"].to_numpy())
        assert got["sd"].to_numpy() == pytest.approx(expected["std"].to_numpy())

        row = tests.set_index("scale").loc[scale]
        samples = [part[scale].to_numpy() for _, part in data.groupby("university")]
        f = stats.f_oneway(*samples)
        assert (row["anova_f"], row["anova_p"]) == pytest.approx((f.statistic, f.pvalue))
        assert (row["anova_df1"], row["anova_df2"]) == (2, len(data) - 3)
        fitted = anova_lm(
            ols("y ~ C(g)", data=pd.DataFrame({"y": data[scale], "g": data["university"]})).fit()
        )
        eta = fitted["sum_sq"].iloc[0] / fitted["sum_sq"].sum()
        assert row["eta_sq"] == pytest.approx(eta)
        h = stats.kruskal(*samples)
        assert (row["kruskal_h"], row["kruskal_p"]) == pytest.approx((h.statistic, h.pvalue))
        assert row["groups"] == 3 and row["n"] == len(data) and row["note"] == ""
    # The known effect: U3 is higher on A, and that difference is significant.
    a = means[means["scale"] == "A"].set_index("group")["mean"]
    assert a.idxmax() == "U3"
    assert tests.set_index("scale").loc["A", "anova_p"] < 0.001

    by_country = group_compare(scales, "country")[1].set_index("scale")
    assert by_country.loc["A", "groups"] == 2 and by_country.loc["A", "kruskal_p"] < 0.001


def test_group_compare_edge_cases() -> None:
    frame = pd.DataFrame(
        {
            "participant": range(7),
            "wave": "w",
            "university": ["U1", "U1", "U1", "U2", "U2", "U3", None],
            "country": "KZ",
            "S": [1.0, 2.0, 3.0, 4.0, 6.0, 5.0, 9.0],
            "flat": [2.0] * 7,
            "split": [1.0, 1.0, 1.0, 3.0, 3.0, np.nan, np.nan],
        }
    )
    means, tests = group_compare(frame, "university")
    tests = tests.set_index("scale")
    # U3 has one score: in the means table, left out of the tests; the row without a
    # university is nowhere.
    assert means[means["scale"] == "S"]["group"].tolist() == ["U1", "U2", "U3"]
    s = tests.loc["S"]
    assert s["groups"] == 2 and s["n"] == 5 and "left out" in s["note"] and "U3" in s["note"]
    f = stats.f_oneway([1.0, 2.0, 3.0], [4.0, 6.0])
    assert s["anova_f"] == pytest.approx(f.statistic)
    assert np.isnan(tests.loc["flat", "anova_f"]) and np.isnan(tests.loc["flat", "kruskal_h"])
    assert "do not vary" in tests.loc["flat", "note"]
    # Groups differ but nothing varies within them: ANOVA undefined, Kruskal-Wallis defined.
    split = tests.loc["split"]
    assert np.isnan(split["anova_f"]) and "within groups" in split["note"]
    assert split["kruskal_h"] == pytest.approx(stats.kruskal([1.0, 1, 1], [3.0, 3]).statistic)

    single = frame.assign(university="U1")
    row = group_compare(single, "university")[1].iloc[0]
    assert row["groups"] == 1 and np.isnan(row["anova_f"]) and np.isnan(row["kruskal_p"])
    assert "fewer than 2 groups" in row["note"]


# --- correlations ------------------------------------------------------------------------------


def test_correlations_pairwise_complete(survey: StudyData) -> None:
    scales = survey.scales[survey.scales["wave"] == "pre"].copy()
    scales["C"] = scales["A"] * -1 + 0.1 * np.arange(len(scales)) % 3
    table = correlations(scales)
    assert list(table.columns) == ["x", "y", "n", "r", "p", "rho", "p_rho", "note"]
    assert list(zip(table["x"], table["y"], strict=True)) == [("A", "B"), ("A", "C"), ("B", "C")]
    for row in table.itertuples():
        pair = scales[[row.x, row.y]].dropna()
        assert row.n == len(pair)
        pearson = stats.pearsonr(pair[row.x], pair[row.y])
        spearman = stats.spearmanr(pair[row.x], pair[row.y])
        assert (row.r, row.p) == pytest.approx((pearson.statistic, pearson.pvalue))
        assert (row.rho, row.p_rho) == pytest.approx((spearman.statistic, spearman.pvalue))
    # The known effect: A and B correlate positively.
    ab = table.iloc[0]
    assert ab["r"] > 0.2 and ab["p"] < 0.001


def test_correlations_undefined() -> None:
    frame = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 4.0], "flat": [1.0] * 4, "sparse": [1.0, np.nan, np.nan, 2.0]}
    )
    table = correlations(frame).set_index(["x", "y"])
    assert np.isnan(table.loc[("x", "flat"), "r"])
    assert "does not vary" in table.loc[("x", "flat"), "note"]
    assert table.loc[("x", "sparse"), "n"] == 2 and np.isnan(table.loc[("x", "sparse"), "rho"])


# --- factor analysis ----------------------------------------------------------------------------


def test_efa_finds_the_two_factors(survey: StudyData) -> None:
    items = survey.items[survey.items["wave"] == "pre"]
    summary, loadings, note = efa(items)
    assert summary is not None and loadings is not None
    values = summary.set_index("statistic")["value"]
    complete = items[A_ITEMS + B_ITEMS].dropna()
    assert values["n"] == len(complete) and values["k"] == 8
    kmo_items, kmo_total = calculate_kmo(complete)
    chi2, p = calculate_bartlett_sphericity(complete)
    assert values["kmo"] == pytest.approx(kmo_total) and values["kmo"] > 0.7
    assert (values["bartlett_chi2"], values["bartlett_p"]) == pytest.approx((chi2, p))
    assert values["bartlett_df"] == 28
    eigenvalues = np.sort(np.linalg.eigvalsh(complete.corr().to_numpy()))[::-1]
    got = values[[f"eigenvalue_{i}" for i in range(1, 9)]].to_numpy()
    assert got == pytest.approx(eigenvalues)
    assert values["n_factors"] == 2 and "oblimin" in note
    assert "factor_corr_F1_F2" in values.index

    # Same model fitted directly (through the module's scikit-learn shim, see there).
    fa = analysis_stats._factor_analyzer().FactorAnalyzer
    model = fa(n_factors=2, rotation="oblimin", method="minres").fit(complete)
    assert loadings[["F1", "F2"]].to_numpy() == pytest.approx(model.loadings_)
    assert loadings["communality"].to_numpy() == pytest.approx(model.get_communalities())
    assert loadings["kmo"].to_numpy() == pytest.approx(kmo_items)
    # The structure: every A item loads on one factor, every B item on the other.
    primary = loadings.set_index("item")[["F1", "F2"]].abs().idxmax(axis=1)
    assert primary[A_ITEMS].nunique() == 1 and primary[B_ITEMS].nunique() == 1
    assert primary["a0"] != primary["b0"]
    assert loadings.set_index("item")[["F1", "F2"]].abs().max(axis=1).min() > 0.5


def test_efa_not_run_on_a_small_sample() -> None:
    items = make_survey(seed=1, n=32).items
    items = items[items["wave"] == "pre"]
    assert efa(items) == (
        None,
        None,
        "not run: 32 complete cases, needs at least 50 (5 per item)",
    )
    # Enough for the absolute minimum, not for 6 per item.
    items = make_survey(seed=1, n=45).items
    summary, loadings, note = efa(items[items["wave"] == "pre"], min_n=30, per_item=6)
    assert summary is None and loadings is None
    assert note == "not run: 45 complete cases, needs at least 48 (6 per item)"


def test_efa_drops_items_without_variance_or_answers(survey: StudyData) -> None:
    items = survey.items[survey.items["wave"] == "pre"].copy()
    items["flat"] = 3.0
    items["blank"] = np.nan
    summary, loadings, note = efa(items)
    assert summary is not None and loadings is not None
    assert "dropped (no answers): blank" in note and "dropped (no variance): flat" in note
    assert "flat" not in set(loadings["item"]) and len(loadings) == 8

    two = items[["a0", "a1"]]
    assert efa(two) == (None, None, "not run: 2 items, needs at least 3")


# --- the report and the workbook ----------------------------------------------------------------


def test_run_all_survey_and_workbook(survey: StudyData, tmp_path: Path) -> None:
    report = run_all(survey)
    assert list(report.tables) == [
        "summary",
        "items",
        "scales",
        "distribution",
        "reliability",
        "item_total",
        "prepost",
        "by_university_means",
        "by_university_tests",
        "by_country_means",
        "by_country_tests",
        "correlations",
        "ranking_university",
        "pairwise_university",
        "ranking_country",
        "pairwise_country",
        "ranking_study_group",
        "pairwise_study_group",
        "gain_ranking_university",
        "gain_pairwise_university",
        "gain_ranking_country",
        "gain_pairwise_country",
        "gain_ranking_study_group",
        "gain_pairwise_study_group",
        "groups",
        "groups_silhouette",
        "groups_by_university",
        "group_moves",
        "efa",
        "efa_loadings",
    ]
    tables = report.tables
    assert set(tables["items"]["wave"]) == {"pre", "post"}
    assert tables["scales"]["wave"].tolist()[:2] == ["pre", "pre"]
    pre_items = survey.items[survey.items["wave"] == "pre"]
    pd.testing.assert_frame_equal(
        tables["reliability"], reliability(pre_items, survey.item_scale)[0]
    )
    assert any("pre wave 'pre'" in note for note in report.notes)
    pd.testing.assert_frame_equal(tables["prepost"], prepost(survey.scales, "pre", "post"))
    assert tables["by_university_tests"]["wave"].tolist() == ["pre", "pre", "post", "post"]
    post = survey.scales[survey.scales["wave"] == "post"]
    expected = group_compare(post, "country")[1]
    got = tables["by_country_tests"]
    got = got[got["wave"] == "post"].drop(columns="wave").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    assert tables["efa"].set_index("statistic").loc["n_factors", "value"] == 2

    path = tmp_path / "analysis.xlsx"
    write_workbook(report, path)
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == [*report.tables, "notes", "codebook"]
    back = sheets["prepost"]
    assert back["scale"].tolist() == ["A", "B"]
    assert back["p_t"].to_numpy() == pytest.approx(tables["prepost"]["p_t"].to_numpy())
    assert back["mean_diff"].to_numpy() == pytest.approx(tables["prepost"]["mean_diff"].to_numpy())
    assert sheets["notes"]["note"].tolist() == report.notes
    assert len(sheets["distribution"]) == len(tables["distribution"])


def test_run_all_test_instrument_single_wave(tmp_path: Path) -> None:
    data = make_test()
    report = run_all(data)
    assert "item_analysis" in report.tables and "prepost" not in report.tables
    pd.testing.assert_frame_equal(
        report.tables["item_analysis"], item_analysis(data.items, data.item_max)
    )
    # Tests have no scales of items: reliability is empty, EFA uses all items.
    assert report.tables["reliability"].empty
    assert any("all rows" in note for note in report.notes)
    assert any("Factor analysis (all items" in note for note in report.notes)
    # One university column has two groups; one country: a note instead of a test.
    country = report.tables["by_country_tests"].iloc[0]
    assert np.isnan(country["anova_f"]) and "fewer than 2 groups" in country["note"]
    path = tmp_path / "test.xlsx"
    write_workbook(report, path)
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == [*report.tables, "notes", "codebook"]
    assert sheets["reliability"].empty and "scale" in sheets["reliability"].columns


def test_factor_analyzer_shim_is_installed_once() -> None:
    first = analysis_stats._factor_analyzer()
    patched = first.check_array
    analysis_stats._factor_analyzer.cache_clear()
    assert analysis_stats._factor_analyzer().check_array is patched


# --- charts -------------------------------------------------------------------------------------


def test_charts_render_png(survey: StudyData) -> None:
    titles = {"A": "Кәсіби мотивация", "B": "Өзін-өзі реттеу және жауапкершілік"}
    table = prepost(survey.scales, "pre", "post")
    assert prepost_chart(table, titles, "Pre/post").startswith(PNG_SIGNATURE)
    means, _ = group_compare(survey.scales[survey.scales["wave"] == "pre"], "university")
    assert by_group_chart(means, titles, "By university").startswith(PNG_SIGNATURE)


def test_charts_with_many_groups_and_empty_tables() -> None:
    rng = np.random.default_rng(0)
    means = pd.DataFrame(
        [
            {"group": f"University {g}", "scale": f"S{s}", "n": 10, "mean": rng.uniform(1, 5)}
            for s in range(5)
            for g in range(10)
        ]
    )
    assert by_group_chart(means, {}, "Ten groups").startswith(PNG_SIGNATURE)
    empty_means = pd.DataFrame(columns=["group", "scale", "n", "mean", "sd"])
    empty_prepost = prepost(scale_frame([1.0], [None]), "pre", "post")  # no pairs
    small = by_group_chart(empty_means, {}, "Empty", empty_text="Деректер жоқ")
    assert small.startswith(PNG_SIGNATURE)
    assert prepost_chart(empty_prepost, {}, "Empty", empty_text="no pairs").startswith(
        PNG_SIGNATURE
    )
    assert prepost_chart(pd.DataFrame(), {}, "Empty").startswith(PNG_SIGNATURE)
    mixed = pd.concat([means.assign(wave="pre"), means.assign(wave="post")])
    with pytest.raises(ValueError, match="several waves"):
        by_group_chart(mixed, {}, "Mixed")
