"""Rankings of universities and countries, with their uncertainty (issue 17, item 2).

Pure pandas in, pandas out, like `analysis_stats`, and under the same rule: no hand-written
statistics. A group's mean and its confidence interval come from scipy.stats (the t interval
of the mean, `stats.t.interval` with the standard error `stats.sem`); the pairwise comparisons
are pingouin's Games–Howell test (`pairwise_gameshowell`: unequal variances and unequal group
sizes, the familywise error controlled by the studentized range, no extra correction needed).

No rank without uncertainty. Each group gets three ranks, all "1 = highest mean":

- `rank`: the competition rank of its mean (equal means share a rank: 1, 2, 2, 4);
- `rank_best` / `rank_worst`: the ranks its confidence interval allows. A group is certainly
  above this one when the other's lower bound is above this one's upper bound (the intervals
  do not overlap); `rank_best` = 1 + those certainly above, `rank_worst` = 1 + the groups
  not certainly below (the others whose upper bound reaches this one's lower bound). Two groups
  whose intervals overlap can swap, and the range says so.

Groups with fewer than `MIN_RANKED` scores are left out of the ranking and named in the note
(a mean of three people is no basis for a rank). The gain ranking uses, per participant, post
minus pre over the participants with both waves, and ranks the groups by their mean gain.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

MIN_RANKED = 5  # scores a group needs to be ranked
CONFIDENCE = 0.95

RANKING_COLUMNS = [
    "scale",
    "group",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "rank",
    "rank_best",
    "rank_worst",
    "note",
]
PAIRWISE_COLUMNS = [
    "scale",
    "a",
    "b",
    "mean_a",
    "mean_b",
    "diff",
    "se",
    "t",
    "df",
    "p_adjusted",
    "hedges_g",
]


@functools.cache
def _pingouin() -> ModuleType:
    """pingouin, imported on first use (it takes seconds)."""
    return importlib.import_module("pingouin")


def mean_interval(values: pd.Series, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The t confidence interval of the mean (NaN, NaN below 2 values or without variance)."""
    data = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if len(data) < 2 or np.allclose(data, data[0]):
        return (np.nan, np.nan)
    low, high = stats.t.interval(
        confidence, len(data) - 1, loc=float(data.mean()), scale=float(stats.sem(data))
    )
    return float(low), float(high)


def _ranks(table: pd.DataFrame) -> pd.DataFrame:
    """Add rank, rank_best and rank_worst to the rows of one scale (see the module docstring)."""
    table = table.copy()
    table["rank"] = table["mean"].rank(method="min", ascending=False).astype(int)
    lows = table["ci_low"].to_numpy(dtype=float)
    highs = table["ci_high"].to_numpy(dtype=float)
    means = table["mean"].to_numpy(dtype=float)
    # Without an interval (no variance) a group's interval is its mean: still honest.
    lows = np.where(np.isnan(lows), means, lows)
    highs = np.where(np.isnan(highs), means, highs)
    best, worst = [], []
    for i in range(len(table)):
        others = [j for j in range(len(table)) if j != i]
        above = sum(lows[j] > highs[i] for j in others)
        not_below = sum(highs[j] >= lows[i] for j in others)
        best.append(1 + above)
        worst.append(1 + not_below)
    table["rank_best"] = best
    table["rank_worst"] = worst
    return table


def rank_groups(
    frame: pd.DataFrame,
    by: str,
    columns: Sequence[str],
    *,
    min_n: int = MIN_RANKED,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """The groups of column `by` ranked by their mean of each column, with CIs and rank ranges."""
    parts: list[pd.DataFrame] = []
    for column in columns:
        rows: list[dict[str, Any]] = []
        left_out: list[str] = []
        for group, part in frame.dropna(subset=[by]).groupby(by, sort=True):
            values = pd.to_numeric(part[column], errors="coerce").dropna()
            if values.empty:
                continue
            if len(values) < min_n:
                left_out.append(f"{group} (n={len(values)})")
                continue
            low, high = mean_interval(values, confidence)
            rows.append(
                {
                    "scale": column,
                    "group": group,
                    "n": len(values),
                    "mean": float(values.mean()),
                    "sd": float(values.std(ddof=1)),
                    "ci_low": low,
                    "ci_high": high,
                    "note": "",
                }
            )
        note = (
            f"not ranked (fewer than {min_n} scores): " + ", ".join(left_out) if left_out else ""
        )
        if rows:
            table = _ranks(pd.DataFrame(rows))
            table = table.sort_values(["rank", "group"], kind="stable")
            if note:
                table.loc[table.index[0], "note"] = note
            parts.append(table)
        elif note:
            parts.append(pd.DataFrame([{"scale": column, "note": note}]))
    if not parts:
        return pd.DataFrame(columns=RANKING_COLUMNS)
    return pd.concat(parts, ignore_index=True).reindex(columns=RANKING_COLUMNS)


def gains(scales: pd.DataFrame, pre_wave: str, post_wave: str) -> pd.DataFrame:
    """Per participant with both waves: post - pre of every scale, with the pre wave's groups."""
    key = ["participant"]
    value = [
        c for c in scales.columns if c not in ("participant", "wave", "university", "country")
    ]
    pre = scales[scales["wave"] == pre_wave].drop_duplicates("participant", keep="last")
    post = scales[scales["wave"] == post_wave].drop_duplicates("participant", keep="last")
    both = pre.merge(post, on=key, suffixes=("_pre", "_post"))
    out = pd.DataFrame(
        {
            "participant": both["participant"],
            "university": both["university_pre"],
            "country": both["country_pre"],
        }
    )
    for column in value:
        out[column] = pd.to_numeric(both[f"{column}_post"], errors="coerce") - pd.to_numeric(
            both[f"{column}_pre"], errors="coerce"
        )
    return out


def pairwise(
    frame: pd.DataFrame, by: str, columns: Sequence[str], *, min_n: int = MIN_RANKED
) -> pd.DataFrame:
    """Games–Howell comparisons of every pair of ranked groups (pingouin.pairwise_gameshowell)."""
    parts: list[pd.DataFrame] = []
    for column in columns:
        long = frame[[by, column]].dropna()
        sizes = long.groupby(by)[column].count()
        kept = sizes[sizes >= min_n].index
        long = long[long[by].isin(kept)]
        if len(kept) < 2 or np.allclose(long[column].to_numpy(dtype=float), long[column].iloc[0]):
            continue
        if any(
            np.allclose(part.to_numpy(dtype=float), part.iloc[0])
            for _, part in long.groupby(by)[column]
        ):
            continue  # a group without variance: the test's standard error is undefined
        result = _pingouin().pairwise_gameshowell(data=long, dv=column, between=by)
        parts.append(
            pd.DataFrame(
                {
                    "scale": column,
                    "a": result["A"],
                    "b": result["B"],
                    "mean_a": result["mean_A"],
                    "mean_b": result["mean_B"],
                    "diff": result["diff"],
                    "se": result["se"],
                    "t": result["T"],
                    "df": result["df"],
                    "p_adjusted": result["pval"],
                    "hedges_g": result["hedges"],
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=PAIRWISE_COLUMNS)
    return pd.concat(parts, ignore_index=True)[PAIRWISE_COLUMNS]


OVER_TIME_COLUMNS = ["wave", "opened", "university", "scale", "n", "mean", "ci_low", "ci_high"]
ALL = "all"  # the row of everyone in a wave


def over_time(
    scales: pd.DataFrame,
    opened: Mapping[Any, Any],
    *,
    ties: Sequence[Any] = (),
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Scale means per wave, in the order the waves opened, for everyone and each university.

    `opened`: wave -> when its first campaign opened (waves without one come last); waves that
    opened at the same time follow `ties` (e.g. pre before post), then their names.
    Each row: n, mean and the t interval of the mean (NaN below 2 scores or without variance).
    """

    def position(wave: Any) -> tuple[bool, Any, int, str]:
        rank = list(ties).index(wave) if wave in ties else len(ties)
        return (opened.get(wave) is None, opened.get(wave) or "", rank, str(wave))

    waves = sorted(scales["wave"].dropna().unique(), key=position)
    columns = [
        c for c in scales.columns if c not in ("participant", "wave", "university", "country")
    ]
    rows: list[dict[str, Any]] = []
    for wave in waves:
        part = scales[scales["wave"] == wave]
        groups = [(ALL, part), *part.dropna(subset=["university"]).groupby("university")]
        for university, group in groups:
            for column in columns:
                values = pd.to_numeric(group[column], errors="coerce").dropna()
                if values.empty:
                    continue
                low, high = mean_interval(values, confidence)
                rows.append(
                    {
                        "wave": wave,
                        "opened": opened.get(wave),
                        "university": university,
                        "scale": column,
                        "n": len(values),
                        "mean": float(values.mean()),
                        "ci_low": low,
                        "ci_high": high,
                    }
                )
    return pd.DataFrame(rows, columns=OVER_TIME_COLUMNS)


# --- ranking questions -----------------------------------------------------------------------

RANK_MEANS_COLUMNS = ["wave", "item", "option", "n", "mean_rank", "sd", "median_rank"]
AGREEMENT_COLUMNS = ["wave", "item", "university", "n", "k", "kendall_w", "chi2", "p", "note"]
MIN_RANKERS = 2


def ranking_questions(ranks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Mean ranks, their distribution, and Kendall's W of the ranking questions.

    `ranks`: one row per (participant, wave, item, option) with `university` and `rank`
    (1 = most preferred), from complete rankings only. Returns the mean rank per option (lowest
    first: the most preferred on average), the distribution (how many put each option at each
    place), and the agreement across respondents — Kendall's W = chi2 / (n (k - 1)) with chi2
    the Friedman statistic of scipy.stats.friedmanchisquare (no ties: every ranking is complete)
    — for everyone and each university with at least `MIN_RANKERS` respondents.
    """
    if ranks.empty:
        return (
            pd.DataFrame(columns=RANK_MEANS_COLUMNS),
            pd.DataFrame(columns=["wave", "item", "option", "rank", "count", "percent"]),
            pd.DataFrame(columns=AGREEMENT_COLUMNS),
        )
    means = (
        ranks.groupby(["wave", "item", "option"], sort=False)["rank"]
        .agg(n="count", mean_rank="mean", sd="std", median_rank="median")
        .reset_index()
        .sort_values(["wave", "item", "mean_rank", "option"], kind="stable")
    )
    counts = ranks.groupby(["wave", "item", "option", "rank"]).size().rename("count").reset_index()
    totals = counts.groupby(["wave", "item", "option"])["count"].transform("sum")
    counts["percent"] = 100 * counts["count"] / totals
    rows: list[dict[str, Any]] = []
    for (wave, item), part in ranks.groupby(["wave", "item"], sort=False):
        groups = [(ALL, part), *part.dropna(subset=["university"]).groupby("university")]
        for university, group in groups:
            matrix = group.pivot_table(index="participant", columns="option", values="rank")
            matrix = matrix.dropna()
            n, k = matrix.shape
            row: dict[str, Any] = {
                "wave": wave,
                "item": item,
                "university": university,
                "n": n,
                "k": k,
                "kendall_w": np.nan,
                "chi2": np.nan,
                "p": np.nan,
                "note": "",
            }
            if n < MIN_RANKERS or k < 3:
                row["note"] = f"not run: {n} complete rankings, needs {MIN_RANKERS}"
            else:
                test = stats.friedmanchisquare(*(matrix[c].to_numpy() for c in matrix.columns))
                row.update(
                    kendall_w=float(test.statistic) / (n * (k - 1)),
                    chi2=float(test.statistic),
                    p=float(test.pvalue),
                )
            rows.append(row)
    return (
        means[RANK_MEANS_COLUMNS].reset_index(drop=True),
        counts,
        pd.DataFrame(rows, columns=AGREEMENT_COLUMNS),
    )
