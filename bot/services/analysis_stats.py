"""Research analysis, the statistics layer: pandas DataFrames in, pandas DataFrames out.

Nothing here touches the database or Telegram; the caller builds a `StudyData` from the
export and gets a `Report` back (tables plus notes), which `write_workbook` saves as XLSX.

Rule of this module: no hand-written statistics. Every test statistic, p-value, confidence
interval, reliability coefficient and factor solution comes from scipy.stats, pingouin or
factor_analyzer; the code here only selects rows (complete cases, pairs, groups), checks that a
statistic is defined for them (enough cases, some variance) and arranges the results. Where a
statistic is undefined the value is NaN and the row's `note` says why, instead of letting the
library emit a warning and return inf or NaN silently.

Conventions of the tables: snake_case column names, one row per variable (or pair, group,
item), NaN for "not computed", and a `note` column where a row can be left uncomputed.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bot.services.analysis_codebook import codebook

# `group` (the study group, as `analysis_rankings.canonical_groups` spells it) may be absent.
KEY_COLUMNS = ("participant", "wave", "university", "country", "group")

# Minimum cases for a statistic to be worth computing (below these the libraries either fail
# or return a value that means nothing: alpha and r on 2 cases, a test on 1 pair).
MIN_ALPHA_CASES = 3
MIN_CORRELATION_CASES = 3
MIN_PAIRS = 2
MIN_GROUP_SIZE = 2
# Kelley's classic share for the upper and lower groups of the discrimination index.
UPPER_LOWER_SHARE = 0.27
# Differences closer than this count as equal for the rank test: scale scores are means of
# items, so "the same" pre and post score can differ in the last bits of a float, which would
# otherwise turn ties and zero differences into tiny distinct ranks.
RANK_DECIMALS = 9
# Relative tolerance under which a column counts as constant (no variance).
CONSTANT_RTOL = 1e-12


@functools.cache
def _pingouin() -> ModuleType:
    """pingouin, imported on first use.

    It takes seconds to import (it pulls in statsmodels and scikit-learn), which the bot
    should not pay at start-up for an occasional analysis.
    """
    return importlib.import_module("pingouin")


@functools.cache
def _factor_analyzer() -> ModuleType:
    """factor_analyzer.factor_analyzer, imported on first use and made to run on sklearn 1.6+.

    Imported lazily for the same reason as pingouin. factor_analyzer 0.5.1 (the latest
    release) calls `check_array(..., force_all_finite=...)` in `FactorAnalyzer.fit`;
    scikit-learn renamed that argument to `ensure_all_finite` in 1.6 and removed the old name
    in 1.8, where `fit` raises TypeError. The shim renames the argument, and only inside
    factor_analyzer's own module namespace: scikit-learn itself and every other caller of
    `check_array` are untouched. It is installed only when scikit-learn knows the new name and
    nobody replaced the function yet, so a fixed factor_analyzer release, or an older
    scikit-learn, makes it a no-op.
    """
    module: Any = importlib.import_module("factor_analyzer.factor_analyzer")
    original = importlib.import_module("sklearn.utils").check_array
    parameters = inspect.signature(original).parameters
    if "ensure_all_finite" in parameters and module.check_array is original:

        def check_array(*args: Any, **kwargs: Any) -> Any:
            if "force_all_finite" in kwargs:
                kwargs["ensure_all_finite"] = kwargs.pop("force_all_finite")
            return original(*args, **kwargs)

        module.check_array = check_array
    return module


@dataclass(frozen=True)
class StudyData:
    """The data of one analysis, as the export layer hands it over.

    `items` and `scales` have one row per (participant, wave) with the key columns
    `participant`, `wave`, `university`, `country` and optionally `group` (the study group),
    then one float column per item (the scored value: the Likert point, already reversed for
    reverse-scored items, or the test points earned) or per scale score. NaN means missing.
    """

    items: pd.DataFrame
    scales: pd.DataFrame
    # Item column -> scale code; items without a scale are absent.
    item_scale: dict[str, str]
    # Tests only: the maximum points of each item (empty for surveys).
    item_max: dict[str, float]
    is_test: bool
    # Both set when a pre/post comparison is asked for.
    pre_wave: str | None = None
    post_wave: str | None = None


@dataclass(frozen=True)
class Report:
    """All tables of an analysis, in workbook order, and the notes that explain them."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --- descriptive statistics ---------------------------------------------------------------


DESCRIBE_COLUMNS = ["variable", "n", "mean", "sd", "median", "min", "max", "missing"]
DISTRIBUTION_COLUMNS = ["variable", "value", "count", "percent"]


def value_columns(frame: pd.DataFrame) -> list[str]:
    """The data columns of an items or scales frame: everything but the key columns."""
    return [str(c) for c in frame.columns if c not in KEY_COLUMNS]


def describe(frame: pd.DataFrame, columns: Sequence[str], by: str | None = None) -> pd.DataFrame:
    """Per variable: n, mean, sd (ddof=1), median, min, max and the number missing.

    With `by` (e.g. "wave") the table is computed per value of that column (rows whose `by`
    value is missing are left out), which becomes the first column.
    """
    return _per_group(frame, by, lambda part: _describe(part, columns), DESCRIBE_COLUMNS)


def _describe(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    rows = []
    for column in columns:
        values = _numeric(frame[column])
        rows.append(
            {
                "variable": column,
                "n": int(values.count()),
                "mean": values.mean(),
                "sd": values.std(ddof=1),
                "median": values.median(),
                "min": values.min(),
                "max": values.max(),
                "missing": int(values.isna().sum()),
            }
        )
    return pd.DataFrame(rows, columns=DESCRIBE_COLUMNS)


def distribution(
    frame: pd.DataFrame, columns: Sequence[str], by: str | None = None
) -> pd.DataFrame:
    """Long frequency table: count and percent of the non-missing answers per observed value.

    With `by`, computed per value of that column, which becomes the first column.
    """
    return _per_group(frame, by, lambda part: _distribution(part, columns), DISTRIBUTION_COLUMNS)


def _distribution(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    parts = []
    for column in columns:
        counts = _numeric(frame[column]).value_counts(dropna=True).sort_index()
        if counts.empty:
            continue
        parts.append(
            pd.DataFrame(
                {
                    "variable": column,
                    "value": counts.index.to_numpy(dtype=float),
                    "count": counts.to_numpy(dtype=int),
                    "percent": (counts / counts.sum() * 100).to_numpy(dtype=float),
                }
            )
        )
    return _concat(parts, DISTRIBUTION_COLUMNS)


# --- reliability ----------------------------------------------------------------------------


RELIABILITY_COLUMNS = ["scale", "k", "n", "alpha", "ci_low", "ci_high", "note"]
ITEM_TOTAL_COLUMNS = ["scale", "item", "n", "item_total_r", "alpha_if_deleted", "note"]


def reliability(
    items: pd.DataFrame, item_scale: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cronbach's alpha per scale, and the item-total table.

    Scale table: scale, k (items), n (complete cases: rows with every item of the scale),
    alpha with its 95 % CI (pingouin.cronbach_alpha, listwise), note. Alpha is NaN with a note
    for scales with fewer than 2 items, fewer than 3 complete cases or a constant total score.

    Item-total table: per item of those scales, on the same complete cases: the corrected
    item-total correlation `item_total_r` (scipy.stats.pearsonr of the item against the sum of
    the other items of its scale) and `alpha_if_deleted` (pingouin on the remaining items,
    NaN when fewer than 2 remain). Pingouin rounds the CI bounds to 3 decimals.
    """
    scale_rows = []
    item_rows = []
    for scale, columns in _scale_items(items, item_scale).items():
        data = _complete(items, columns)
        k, n = len(columns), len(data)
        alpha = ci_low = ci_high = np.nan
        note = ""
        if k < 2:
            note = "one item: alpha needs at least 2"
        elif n < MIN_ALPHA_CASES:
            note = f"{n} complete cases: alpha needs at least {MIN_ALPHA_CASES}"
        elif _constant(data.sum(axis=1)):
            note = "the total score does not vary: alpha undefined"
        else:
            alpha, (ci_low, ci_high) = _pingouin().cronbach_alpha(data=data, nan_policy="listwise")
        scale_rows.append(
            {
                "scale": scale,
                "k": k,
                "n": n,
                "alpha": float(alpha),
                "ci_low": float(ci_low),
                "ci_high": float(ci_high),
                "note": note,
            }
        )
        for item in columns:
            item_rows.append(_item_total_row(scale, item, data, skipped=note))
    return (
        pd.DataFrame(scale_rows, columns=RELIABILITY_COLUMNS),
        pd.DataFrame(item_rows, columns=ITEM_TOTAL_COLUMNS),
    )


def _item_total_row(scale: str, item: str, data: pd.DataFrame, skipped: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "scale": scale,
        "item": item,
        "n": len(data),
        "item_total_r": np.nan,
        "alpha_if_deleted": np.nan,
        "note": skipped,
    }
    if skipped:
        return row
    rest = data.drop(columns=[item])
    rest_total = rest.sum(axis=1)
    notes = []
    if _constant(data[item]) or _constant(rest_total):
        notes.append("item or rest score does not vary: r undefined")
    else:
        row["item_total_r"] = float(stats.pearsonr(data[item], rest_total).statistic)
    if rest.shape[1] < 2:
        notes.append("fewer than 2 items remain: alpha undefined")
    elif _constant(rest_total):
        notes.append("the remaining total does not vary: alpha undefined")
    else:
        row["alpha_if_deleted"] = float(
            _pingouin().cronbach_alpha(data=rest, nan_policy="listwise")[0]
        )
    row["note"] = "; ".join(notes)
    return row


# --- item analysis (tests) ------------------------------------------------------------------


ITEM_ANALYSIS_COLUMNS = [
    "item",
    "max_points",
    "n",
    "difficulty",
    "n_complete",
    "discrimination",
    "upper_lower",
    "note",
]


def item_analysis(items: pd.DataFrame, item_max: Mapping[str, float]) -> pd.DataFrame:
    """Classical item analysis of a test, over the items in `item_max`.

    - `n`, `difficulty`: the facility index, mean points / max points over the rows that have
      this item (so 1.0 = everybody earned everything).
    - `n_complete`, `discrimination`: on the rows with every test item, the corrected
      point-biserial, i.e. scipy.stats.pearsonr of the item against the total of the other
      items.
    - `upper_lower`: on the same rows ranked by total score, the difficulty in the top 27 %
      minus the difficulty in the bottom 27 % (Kelley); each group has round(0.27 n) rows,
      and rows tied at a group boundary are taken in row order.
    """
    columns = [c for c in item_max if c in items.columns]
    complete = _complete(items, columns)
    n_complete = len(complete)
    total = complete.sum(axis=1)
    ranked = total.sort_values(kind="stable").index
    group_size = round(UPPER_LOWER_SHARE * n_complete)
    lower, upper = ranked[:group_size], ranked[n_complete - group_size :]

    rows = []
    for item in columns:
        maximum = float(item_max[item])
        values = _numeric(items[item]).dropna()
        row: dict[str, Any] = {
            "item": item,
            "max_points": maximum,
            "n": len(values),
            "difficulty": np.nan,
            "n_complete": n_complete,
            "discrimination": np.nan,
            "upper_lower": np.nan,
        }
        notes = []
        if not maximum > 0:
            row["note"] = "max points is not positive: indices undefined"
            rows.append(row)
            continue
        if len(values):
            row["difficulty"] = values.mean() / maximum
        rest_total = total - complete[item]
        if n_complete < MIN_CORRELATION_CASES:
            notes.append(
                f"{n_complete} complete cases: discrimination needs {MIN_CORRELATION_CASES}"
            )
        elif _constant(complete[item]) or _constant(rest_total):
            notes.append("item or rest score does not vary: discrimination undefined")
        else:
            row["discrimination"] = float(stats.pearsonr(complete[item], rest_total).statistic)
        if group_size >= 1:
            row["upper_lower"] = (
                complete.loc[upper, item].mean() - complete.loc[lower, item].mean()
            ) / maximum
        else:
            notes.append("too few complete cases for upper and lower groups")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows, columns=ITEM_ANALYSIS_COLUMNS)


# --- pre/post -------------------------------------------------------------------------------


PREPOST_COLUMNS = [
    "scale",
    "n_pairs",
    "mean_pre",
    "mean_post",
    "mean_diff",
    "sd_diff",
    "t",
    "df",
    "p_t",
    "cohen_dz",
    "ci_low",
    "ci_high",
    "w",
    "p_w",
    "rank_biserial",
    "note",
]


def prepost(scales: pd.DataFrame, pre_wave: str, post_wave: str) -> pd.DataFrame:
    """Paired comparison of every scale between two waves.

    Rows are paired by participant (present in both waves with a score on that scale); the
    difference is post - pre. Per scale: n_pairs, means, mean and sd of the differences, the
    paired t-test (scipy.stats.ttest_rel: t, df, p_t, and the 95 % CI of the mean difference),
    Cohen's d_z = mean_diff / sd_diff, the Wilcoxon signed-rank test (scipy.stats.wilcoxon with
    its default zero handling and method: w, p_w) and the matched-pairs rank-biserial
    correlation (pingouin.wilcoxon's RBC, positive when post > pre).

    The t-test is NaN (with a note) with fewer than 2 pairs or when every difference is the
    same; the Wilcoxon test when fewer than 2 pairs or every difference is zero. Raises
    ValueError when a participant has more than one row in one of the waves.
    """
    pre = _wave_rows(scales, pre_wave)
    post = _wave_rows(scales, post_wave)
    rows = []
    for scale in value_columns(scales):
        pairs = pd.concat(
            {"pre": _numeric(pre[scale]), "post": _numeric(post[scale])}, axis=1, join="inner"
        ).dropna()
        rows.append(_prepost_row(scale, pairs["pre"], pairs["post"]))
    return pd.DataFrame(rows, columns=PREPOST_COLUMNS)


def _prepost_row(scale: str, pre: pd.Series, post: pd.Series) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(PREPOST_COLUMNS, np.nan)
    diff = post - pre
    n = len(diff)
    row.update(
        scale=scale,
        n_pairs=n,
        mean_pre=pre.mean(),
        mean_post=post.mean(),
        mean_diff=diff.mean(),
        sd_diff=diff.std(ddof=1),
        note="",
    )
    if n < MIN_PAIRS:
        row["note"] = f"{n} pairs: the tests need at least {MIN_PAIRS}"
        return row
    notes = []
    if _constant(diff):
        notes.append("every difference is the same: t-test and d_z undefined")
    else:
        result = stats.ttest_rel(post, pre)
        interval = result.confidence_interval(confidence_level=0.95)
        row.update(
            t=float(result.statistic),
            df=float(result.df),
            p_t=float(result.pvalue),
            cohen_dz=row["mean_diff"] / row["sd_diff"],
            ci_low=float(interval.low),
            ci_high=float(interval.high),
        )
    rank_diff = diff.round(RANK_DECIMALS).to_numpy(dtype=float)
    if not np.any(rank_diff):
        notes.append("every difference is zero: Wilcoxon test undefined")
    else:
        wilcoxon = stats.wilcoxon(rank_diff)
        row.update(
            w=float(wilcoxon.statistic),
            p_w=float(wilcoxon.pvalue),
            rank_biserial=float(_pingouin().wilcoxon(rank_diff)["RBC"].iloc[0]),
        )
    row["note"] = "; ".join(notes)
    return row


# --- group comparison -----------------------------------------------------------------------


GROUP_MEANS_COLUMNS = ["group", "scale", "n", "mean", "sd"]
GROUP_TESTS_COLUMNS = [
    "scale",
    "groups",
    "n",
    "anova_f",
    "anova_df1",
    "anova_df2",
    "anova_p",
    "eta_sq",
    "kruskal_h",
    "kruskal_p",
    "note",
]


def group_compare(scales: pd.DataFrame, by: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scale scores compared between the groups of column `by` ("university" or "country").

    Means table: group, scale, n, mean, sd (ddof=1), groups sorted, every group with a score.
    Tests table, per scale, over the groups with at least 2 scores (the others are left out
    and named in the note): one-way ANOVA (pingouin.anova: F, df1, df2, p, eta squared, which
    equals partial eta squared in a one-way design) and the Kruskal-Wallis test
    (scipy.stats.kruskal). NaN with a note when fewer than 2 groups remain or there is no
    variance to test.
    """
    frame = scales.dropna(subset=[by])
    mean_rows = []
    test_rows = []
    for scale in value_columns(scales):
        groups: dict[Any, pd.Series] = {}
        for group, part in frame.groupby(by, sort=True):
            values = _numeric(part[scale]).dropna()
            if values.empty:
                continue
            mean_rows.append(
                {
                    "group": group,
                    "scale": scale,
                    "n": len(values),
                    "mean": values.mean(),
                    "sd": values.std(ddof=1),
                }
            )
            groups[group] = values
        test_rows.append(_group_test_row(scale, by, groups))
    return (
        pd.DataFrame(mean_rows, columns=GROUP_MEANS_COLUMNS),
        pd.DataFrame(test_rows, columns=GROUP_TESTS_COLUMNS),
    )


def _group_test_row(scale: str, by: str, groups: Mapping[Any, pd.Series]) -> dict[str, Any]:
    kept = {g: v for g, v in groups.items() if len(v) >= MIN_GROUP_SIZE}
    left_out = [str(g) for g in groups if g not in kept]
    row: dict[str, Any] = dict.fromkeys(GROUP_TESTS_COLUMNS, np.nan)
    row.update(scale=scale, groups=len(kept), n=sum(len(v) for v in kept.values()))
    notes = []
    if left_out:
        notes.append(f"left out (fewer than {MIN_GROUP_SIZE} scores): " + ", ".join(left_out))
    if len(kept) < 2:
        notes.append(f"fewer than 2 groups with at least {MIN_GROUP_SIZE} scores: no test")
    elif _constant(pd.concat(list(kept.values()))):
        notes.append("the scores do not vary: no test")
    else:
        long = pd.DataFrame(
            {
                by: [g for g, v in kept.items() for _ in range(len(v))],
                "score": np.concatenate([v.to_numpy(dtype=float) for v in kept.values()]),
            }
        )
        if all(_constant(v) for v in kept.values()):
            notes.append("the scores do not vary within groups: ANOVA undefined")
        else:
            anova = _pingouin().anova(data=long, dv="score", between=by, detailed=False).iloc[0]
            row.update(
                anova_f=float(anova["F"]),
                anova_df1=float(anova["ddof1"]),
                anova_df2=float(anova["ddof2"]),
                anova_p=float(anova["p_unc"]),
                eta_sq=float(anova["np2"]),
            )
        kruskal = stats.kruskal(*kept.values())
        row.update(kruskal_h=float(kruskal.statistic), kruskal_p=float(kruskal.pvalue))
    row["note"] = "; ".join(notes)
    return row


# --- correlations ---------------------------------------------------------------------------


CORRELATION_COLUMNS = ["x", "y", "n", "r", "p", "rho", "p_rho", "note"]


def correlations(scales: pd.DataFrame) -> pd.DataFrame:
    """Every pair of scales, on the rows where both are present (pairwise complete).

    Columns x, y, n, Pearson r and p (scipy.stats.pearsonr), Spearman rho and p_rho
    (scipy.stats.spearmanr), note. NaN with a note below 3 cases or when a score is constant.
    """
    rows = []
    for x, y in itertools.combinations(value_columns(scales), 2):
        pair = _complete(scales, [x, y])
        row: dict[str, Any] = dict.fromkeys(CORRELATION_COLUMNS, np.nan)
        row.update(x=x, y=y, n=len(pair), note="")
        if len(pair) < MIN_CORRELATION_CASES:
            row["note"] = f"{len(pair)} cases: needs at least {MIN_CORRELATION_CASES}"
        elif _constant(pair[x]) or _constant(pair[y]):
            row["note"] = "a score does not vary: correlation undefined"
        else:
            pearson = stats.pearsonr(pair[x], pair[y])
            spearman = stats.spearmanr(pair[x], pair[y])
            row.update(
                r=float(pearson.statistic),
                p=float(pearson.pvalue),
                rho=float(spearman.statistic),
                p_rho=float(spearman.pvalue),
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)


# --- exploratory factor analysis ------------------------------------------------------------


EFA_SUMMARY_COLUMNS = ["statistic", "value"]


def efa(
    items: pd.DataFrame, min_n: int = 50, per_item: int = 5
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, str]:
    """Exploratory factor analysis of the item columns (key columns are ignored).

    Uses complete cases only. Items with no answers at all, then items that do not vary
    among the complete cases, are dropped first (the note names them). Runs only with at least
    3 items and max(`min_n`, `per_item` x items) complete cases; otherwise returns
    (None, None, note saying why).

    Returns (summary, loadings, note). Summary rows (statistic, value): n, k, kmo (overall,
    factor_analyzer.calculate_kmo), bartlett_chi2, bartlett_df, bartlett_p
    (calculate_bartlett_sphericity), n_factors (Kaiser: eigenvalues of the correlation matrix
    above 1, at least 1), eigenvalue_1..eigenvalue_k, and for more than one factor the factor
    correlations factor_corr_Fi_Fj. Loadings: item, F1..Fm (FactorAnalyzer, method "minres",
    rotation "oblimin" for more than one factor, else none: the pattern matrix), communality,
    kmo (per item).
    """
    columns = value_columns(items)
    data = items[columns].apply(_numeric)
    notes = []
    empty = [c for c in columns if data[c].isna().all()]
    if empty:
        data = data.drop(columns=empty)
        notes.append("dropped (no answers): " + ", ".join(empty))
    data = data.dropna().reset_index(drop=True)
    flat = [str(c) for c in data.columns if _constant(data[c])]
    if flat and len(data):
        data = data.drop(columns=flat)
        notes.append("dropped (no variance): " + ", ".join(flat))
    n, k = data.shape
    needed = max(min_n, per_item * k)
    if k < 3:
        return None, None, "; ".join([*notes, f"not run: {k} items, needs at least 3"])
    if n < needed:
        reason = f"not run: {n} complete cases, needs at least {needed} ({per_item} per item)"
        return None, None, "; ".join([*notes, reason])
    if np.linalg.matrix_rank(data.corr().to_numpy()) < k:
        reason = "not run: the correlation matrix is singular (some items are exact linear "
        reason += "combinations of others)"
        return None, None, "; ".join([*notes, reason])

    fa = _factor_analyzer()
    kmo_items, kmo_total = fa.calculate_kmo(data)
    chi2, bartlett_p = fa.calculate_bartlett_sphericity(data)
    probe = fa.FactorAnalyzer(n_factors=1, rotation=None, method="minres").fit(data)
    eigenvalues, _ = probe.get_eigenvalues()
    n_factors = max(1, int(np.sum(eigenvalues > 1)))
    rotation = "oblimin" if n_factors > 1 else None
    model = fa.FactorAnalyzer(n_factors=n_factors, rotation=rotation, method="minres").fit(data)

    summary_rows: list[tuple[str, float]] = [
        ("n", n),
        ("k", k),
        ("kmo", float(kmo_total)),
        ("bartlett_chi2", float(chi2)),
        ("bartlett_df", k * (k - 1) / 2),
        ("bartlett_p", float(bartlett_p)),
        ("n_factors", n_factors),
    ]
    summary_rows += [(f"eigenvalue_{i}", float(v)) for i, v in enumerate(eigenvalues, start=1)]
    factors = [f"F{i}" for i in range(1, n_factors + 1)]
    phi = getattr(model, "phi_", None)
    if n_factors > 1 and phi is not None:
        for i, j in itertools.combinations(range(n_factors), 2):
            summary_rows.append((f"factor_corr_{factors[i]}_{factors[j]}", float(phi[i, j])))
    summary = pd.DataFrame(summary_rows, columns=EFA_SUMMARY_COLUMNS)
    summary["value"] = summary["value"].astype(float)

    loadings = pd.DataFrame(model.loadings_, columns=factors)
    loadings.insert(0, "item", list(data.columns))
    loadings["communality"] = model.get_communalities()
    loadings["kmo"] = kmo_items
    notes.append(
        f"{n_factors} factor(s) by the Kaiser criterion, minres"
        + (", oblimin rotation" if rotation else ", no rotation")
    )
    return summary, loadings, "; ".join(notes)


# --- the whole report -----------------------------------------------------------------------


def run_all(data: StudyData) -> Report:
    """Every analysis of a study, as the tables of one workbook plus notes.

    Descriptive statistics and frequencies are per wave; group comparisons and correlations
    too (each wave is a sample of independent participants; pooling waves would count people
    twice), with `wave` as their first column. Reliability, item analysis and factor analysis
    use the pre wave's items when `pre_wave` is set, else all rows. The pre/post table is
    there when both waves are set. Table order: summary, items, scales, distribution,
    reliability, item_total, item_analysis (tests), prepost, by_university_means,
    by_university_tests, by_country_means, by_country_tests, correlations, ranking_university,
    pairwise_university, ranking_country, pairwise_country, ranking_study_group,
    pairwise_study_group, gain_ranking_* and gain_pairwise_* (pre/post), groups,
    groups_silhouette, groups_by_university, group_moves (pre/post), efa, efa_loadings.
    """
    items, scales = data.items, data.scales
    item_columns = value_columns(items)
    waves = _wave_order(data)
    notes: list[str] = []
    tables: dict[str, pd.DataFrame] = {}

    tables["summary"] = _summary(data, waves)
    tables["items"] = describe(items, item_columns, by="wave")
    tables["scales"] = describe(scales, value_columns(scales), by="wave")
    tables["distribution"] = distribution(items, item_columns, by="wave")

    if data.pre_wave is not None:
        base = items[items["wave"] == data.pre_wave]
        notes.append(
            f"Reliability, item analysis and factor analysis: items of the pre wave "
            f"'{data.pre_wave}' ({len(base)} rows)."
        )
    else:
        base = items
        notes.append(
            f"Reliability, item analysis and factor analysis: all rows ({len(base)}, "
            f"{len(waves)} wave(s))"
            + ("; a participant in several waves counts once per wave." if len(waves) > 1 else ".")
        )
    tables["reliability"], tables["item_total"] = reliability(base, data.item_scale)
    if data.is_test:
        tables["item_analysis"] = item_analysis(base, data.item_max)
        notes.append(
            "Item analysis: difficulty over the rows with the item; discrimination and the "
            "upper-lower index over the rows with every test item (n_complete)."
        )

    if data.pre_wave is not None and data.post_wave is not None:
        tables["prepost"] = prepost(scales, data.pre_wave, data.post_wave)
        notes.append(
            f"Pre/post: '{data.pre_wave}' -> '{data.post_wave}', paired by participant; "
            "differences are post - pre."
        )
    elif data.pre_wave is not None or data.post_wave is not None:
        notes.append("Pre/post not run: it needs both a pre and a post wave.")

    for by in ("university", "country"):
        means, tests = _per_wave_pair(scales, waves, lambda part, by=by: group_compare(part, by))
        tables[f"by_{by}_means"] = means
        tables[f"by_{by}_tests"] = tests
    tables["correlations"] = _per_wave(scales, waves, correlations, CORRELATION_COLUMNS)
    notes.append("Group comparisons and correlations are computed per wave.")
    _rankings(data, waves, tables, notes)
    _grouping(data, tables, notes)

    scaled = [c for c in item_columns if c in data.item_scale]
    efa_columns = scaled or item_columns
    summary, loadings, efa_note = efa(base[efa_columns])
    tables["efa"] = summary if summary is not None else pd.DataFrame(columns=EFA_SUMMARY_COLUMNS)
    tables["efa_loadings"] = (
        loadings if loadings is not None else pd.DataFrame(columns=["item", "communality", "kmo"])
    )
    items_used = "items with a scale" if scaled else "all items"
    notes.append(f"Factor analysis ({items_used}, same rows as reliability): {efa_note}")
    return Report(tables=tables, notes=notes)


def _rankings(
    data: StudyData, waves: Sequence[Any], tables: dict[str, pd.DataFrame], notes: list[str]
) -> None:
    """Universities, countries and study groups ranked by mean score per wave and by mean gain.

    Study groups are ranked within their university; gains are post - pre per participant.
    """
    from bot.services import analysis_rankings as rk  # noqa: PLC0415 - with the analysis only

    scales = data.scales
    columns = value_columns(scales)
    for by in ("university", "country"):
        tables[f"ranking_{by}"] = _per_wave(
            scales,
            waves,
            lambda part, by=by: rk.rank_groups(part, by, columns),
            rk.RANKING_COLUMNS,
        )
        tables[f"pairwise_{by}"] = _per_wave(
            scales, waves, lambda part, by=by: rk.pairwise(part, by, columns), rk.PAIRWISE_COLUMNS
        )
    tables["ranking_study_group"] = _per_wave(
        scales, waves, lambda part: rk.rank_within(part, columns), rk.STUDY_RANKING_COLUMNS
    )
    tables["pairwise_study_group"] = _per_wave(
        scales, waves, lambda part: rk.pairwise_within(part, columns), rk.STUDY_PAIRWISE_COLUMNS
    )
    gained = None
    if data.pre_wave is not None and data.post_wave is not None:
        gained = rk.gains(scales, data.pre_wave, data.post_wave)
        for by in ("university", "country"):
            tables[f"gain_ranking_{by}"] = rk.rank_groups(gained, by, columns)
            tables[f"gain_pairwise_{by}"] = rk.pairwise(gained, by, columns)
        tables["gain_ranking_study_group"] = rk.rank_within(gained, columns)
        tables["gain_pairwise_study_group"] = rk.pairwise_within(gained, columns)
    notes.append(
        f"Rankings: groups with at least {rk.MIN_RANKED} scores, by mean (1 = highest), with the "
        f"{rk.CONFIDENCE:.0%} t interval of the mean; rank_best..rank_worst is the range of ranks "
        "the intervals allow (overlapping intervals can swap). Pairwise: Games-Howell "
        "(pingouin), p adjusted for all pairs."
        + (" Gain rankings: post - pre per participant." if data.post_wave else "")
    )
    notes.append(_study_group_note(scales, gained, tables, rk))


def _study_group_note(
    scales: pd.DataFrame, gained: pd.DataFrame | None, tables: dict[str, pd.DataFrame], rk: Any
) -> str:
    """What the study-group rankings did, or why they were not run."""
    ranked = [
        tables[name]
        for name in ("ranking_study_group", "gain_ranking_study_group")
        if name in tables
    ]
    how = (
        "Study groups (as typed at onboarding, grouped by their normalised name) are ranked "
        f"within their university, those with at least {rk.MIN_RANKED} scores (as universities), "
        "the others counted but not named; pairwise Games-Howell within a university with 2 to "
        f"{rk.MAX_PAIRWISE_GROUPS} ranked groups."
    )
    if any(table["mean"].notna().any() for table in ranked):
        return how
    if "group" not in scales.columns:
        typed = pd.DataFrame(columns=["university", "group"])
    else:
        typed = scales.dropna(subset=["university", "group"])
    if typed.empty:
        why = "no participant has both a university and a study group"
    else:
        sizes = typed.groupby(["wave", "university", "group"])["participant"].nunique()
        why = (
            f"no study group has {rk.MIN_RANKED} scores in one wave "
            f"({typed.groupby(['university', 'group']).ngroups} group(s); the largest has "
            f"{int(sizes.max())} participant(s) in a wave); a mean of fewer is no basis for a rank"
        )
    return f"Study group rankings not run: {why}. {how}"


def _grouping(data: StudyData, tables: dict[str, pd.DataFrame], notes: list[str]) -> None:
    """Participants grouped by their profile of scale scores (analysis_groups)."""
    from bot.services.analysis_groups import group_profiles  # noqa: PLC0415 - sklearn: on use

    columns = [c for c in value_columns(data.scales) if c != "total_percent"]
    grouping = group_profiles(
        data.scales, columns, base_wave=data.pre_wave, post_wave=data.post_wave
    )
    tables["groups"] = grouping.profiles
    tables["groups_silhouette"] = grouping.silhouettes
    tables["groups_by_university"] = grouping.by_university
    if data.post_wave is not None:
        tables["group_moves"] = grouping.moves
    notes.append(grouping.note)


def write_workbook(report: Report, path: str | Path) -> None:
    """Save the report as XLSX: one sheet per table, in order, then "notes" and "codebook".

    The codebook (`analysis_codebook`) gives every sheet's title and every column's label in
    kk, ru and en.

    Values are written unrounded; float cells get a display format of 3 decimals (p-values
    keep the General format, so tiny ones show as 1.2E-08 rather than 0.000).
    """
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in report.tables.items():
            sheet = name[:31]  # Excel's limit on sheet names
            table.to_excel(writer, sheet_name=sheet, index=False)
            _format_sheet(writer.sheets[sheet], table)
        notes = pd.DataFrame({"note": list(report.notes)})
        notes.to_excel(writer, sheet_name="notes", index=False)
        writer.sheets["notes"].column_dimensions["A"].width = 120
        book = codebook(report.tables)
        book.to_excel(writer, sheet_name="codebook", index=False)
        sheet = writer.sheets["codebook"]
        sheet.freeze_panes = "C2"
        for letter, width in zip("ABCDE", (26, 20, 60, 60, 60), strict=True):
            sheet.column_dimensions[letter].width = width


# --- helpers --------------------------------------------------------------------------------


def _numeric(values: pd.Series) -> pd.Series:
    """A column as float64 (NaN for missing), whatever dtype the caller built it with."""
    return pd.to_numeric(values, errors="coerce").astype("float64")


def _complete(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The rows with every one of `columns` present, as float64, on a fresh 0..n-1 index."""
    data = frame[list(columns)].apply(_numeric) if len(columns) else frame[[]]
    return data.dropna().reset_index(drop=True)


def _constant(values: pd.Series | np.ndarray) -> bool:
    """True when the values do not vary (up to float noise), or there are none."""
    array = np.asarray(values, dtype=float)
    array = array[~np.isnan(array)]
    if array.size == 0:
        return True
    spread = float(np.ptp(array))
    return spread <= CONSTANT_RTOL * max(1.0, float(np.max(np.abs(array))))


def _scale_items(items: pd.DataFrame, item_scale: Mapping[str, str]) -> dict[str, list[str]]:
    """Scale code -> its item columns present in `items`, scales in order of first item."""
    scales: dict[str, list[str]] = {}
    for column in items.columns:
        if column in item_scale and column not in KEY_COLUMNS:
            scales.setdefault(item_scale[column], []).append(str(column))
    return scales


def _wave_rows(scales: pd.DataFrame, wave: str) -> pd.DataFrame:
    rows = scales[scales["wave"] == wave]
    duplicated = rows["participant"].duplicated()
    if duplicated.any():
        who = ", ".join(str(p) for p in rows.loc[duplicated, "participant"].unique()[:5])
        raise ValueError(f"participants with several rows in wave {wave!r}: {who}")
    return rows.set_index("participant")


def _wave_order(data: StudyData) -> list[Any]:
    """The waves present, pre and post first, the rest in order of appearance."""
    seen = pd.concat([data.items["wave"], data.scales["wave"]]).dropna().unique().tolist()
    first = [w for w in (data.pre_wave, data.post_wave) if w is not None and w in seen]
    return first + [w for w in seen if w not in first]


def _per_group(
    frame: pd.DataFrame,
    by: str | None,
    compute: Any,
    columns: list[str],
) -> pd.DataFrame:
    if by is None:
        result: pd.DataFrame = compute(frame)
        return result
    parts = []
    for key, part in frame.groupby(by, sort=False, dropna=True):
        table = compute(part)
        table.insert(0, by, key)
        parts.append(table)
    return _concat(parts, [by, *columns])


def _per_wave(
    frame: pd.DataFrame, waves: Iterable[Any], compute: Any, columns: list[str]
) -> pd.DataFrame:
    parts = []
    for wave in waves:
        table = compute(frame[frame["wave"] == wave])
        table.insert(0, "wave", wave)
        parts.append(table)
    return _concat(parts, ["wave", *columns])


def _per_wave_pair(
    frame: pd.DataFrame, waves: Iterable[Any], compute: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    firsts, seconds = [], []
    for wave in waves:
        first, second = compute(frame[frame["wave"] == wave])
        first.insert(0, "wave", wave)
        second.insert(0, "wave", wave)
        firsts.append(first)
        seconds.append(second)
    return (
        _concat(firsts, ["wave", *GROUP_MEANS_COLUMNS]),
        _concat(seconds, ["wave", *GROUP_TESTS_COLUMNS]),
    )


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Stack tables; the right empty table when there are none (or all are empty)."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)


def _summary(data: StudyData, waves: Sequence[Any]) -> pd.DataFrame:
    rows: list[tuple[str, Any]] = [
        ("instrument", "test" if data.is_test else "survey"),
        ("participants", int(data.items["participant"].nunique())),
        ("rows", len(data.items)),
        ("waves", ", ".join(str(w) for w in waves)),
        ("pre_wave", data.pre_wave or ""),
        ("post_wave", data.post_wave or ""),
        ("universities", int(data.items["university"].nunique())),
        ("countries", int(data.items["country"].nunique())),
        ("study_groups", _study_groups(data.items)),
        ("items", len(value_columns(data.items))),
        ("scales", len(value_columns(data.scales))),
    ]
    return pd.DataFrame(rows, columns=["statistic", "value"], dtype=object)


def _study_groups(frame: pd.DataFrame) -> int:
    """How many (university, study group) pairs the rows have."""
    if "group" not in frame.columns:
        return 0
    return len(frame.dropna(subset=["university", "group"]).groupby(["university", "group"]))


P_VALUE_COLUMNS = {"p", "p_t", "p_w", "p_rho", "anova_p", "kruskal_p"}
WHOLE_NUMBER_COLUMNS = {
    "n",
    "n_pairs",
    "n_complete",
    "k",
    "groups",
    "df",
    "anova_df1",
    "anova_df2",
}


def _format_sheet(sheet: Any, table: pd.DataFrame) -> None:
    """Freeze the header row, widen the columns to their names, show floats to 3 decimals.

    Whole-number columns get no decimals, p-values keep the General format.
    """
    sheet.freeze_panes = "A2"
    for position, column in enumerate(table.columns, start=1):
        cells = next(sheet.iter_cols(min_col=position, max_col=position))
        letter = cells[0].column_letter
        sheet.column_dimensions[letter].width = max(10, len(str(column)) + 2)
        if column in P_VALUE_COLUMNS or column == "value":
            continue
        if not pd.api.types.is_float_dtype(table[column]):
            continue
        # Counts and degrees of freedom are floats only to hold NaN.
        number_format = "0" if column in WHOLE_NUMBER_COLUMNS else "0.000"
        for cell in cells[1:]:
            cell.number_format = number_format
