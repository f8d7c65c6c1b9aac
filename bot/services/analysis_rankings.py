"""Rankings of universities, countries and study groups, with their uncertainty (issue 17, item 2).

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

Study groups (`User.group_name`, typed freely at onboarding) are ranked within their
university: a name like "ПИ-21" is only unique there, so the key is (university, group), and
each university's groups get their own ranks. Typed names are grouped by `group_key` (Unicode
NFKC, case folded, format characters dropped, every dash read as "-" with no space around it,
runs of spaces as one), and shown in the spelling most of the group's participants typed
(`canonical_groups`). A group below `MIN_RANKED` is counted in the note but not named: a name
typed by one or two people may be a typo or something personal rather than a group. Pairwise
comparisons of study groups run within a university with at most `MAX_PAIRWISE_GROUPS` ranked
groups (see `pairwise_within`).
"""

from __future__ import annotations

import functools
import importlib
import unicodedata
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bot.services.analysis_stats import KEY_COLUMNS

MIN_RANKED = 5  # scores a group needs to be ranked
CONFIDENCE = 0.95
# Beyond this many ranked study groups in one university, no pairwise comparisons (see
# `pairwise_within`).
MAX_PAIRWISE_GROUPS = 10

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
    name_left_out: bool = True,
) -> pd.DataFrame:
    """The groups of column `by` ranked by their mean of each column, with CIs and rank ranges.

    Groups below `min_n` scores are named in the note, or only counted when `name_left_out`
    is False (study groups: see the module docstring).
    """
    parts: list[pd.DataFrame] = []
    for column in columns:
        rows: list[dict[str, Any]] = []
        left_out: list[tuple[Any, int]] = []
        for group, part in frame.dropna(subset=[by]).groupby(by, sort=True):
            values = pd.to_numeric(part[column], errors="coerce").dropna()
            if values.empty:
                continue
            if len(values) < min_n:
                left_out.append((group, len(values)))
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
        note = _left_out_note(left_out, min_n, name_left_out)
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


def _left_out_note(left_out: list[tuple[Any, int]], min_n: int, named: bool) -> str:
    if not left_out:
        return ""
    head = f"not ranked (fewer than {min_n} scores): "
    if named:
        return head + ", ".join(f"{group} (n={n})" for group, n in left_out)
    scores = sum(n for _, n in left_out)
    return head + f"{len(left_out)} group(s) with {scores} score(s) in all, not named"


# --- study groups ----------------------------------------------------------------------------

STUDY_RANKING_COLUMNS = ["university", *RANKING_COLUMNS]
STUDY_PAIRWISE_COLUMNS = ["university", *PAIRWISE_COLUMNS, "note"]


def group_key(name: Any) -> str | None:
    """The form under which typed study-group names count as one group (None: no group).

    Unicode NFKC, case folded, format characters (zero-width space, bidi marks) dropped, every
    dash and the minus sign read as "-" with no space around it, runs of whitespace as one
    space, trimmed: " пи - 21 ", "ПИ-21" and "ПИ‑21" (a non-breaking hyphen) are one group.
    Nothing else is merged ("ПИ21" and "ПИ-21" stay apart; Latin look-alikes stay Latin).
    """
    if not isinstance(name, str):
        return None
    chars: list[str] = []
    for char in unicodedata.normalize("NFKC", name).casefold():
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        if category == "Pd" or char == "\u2212":
            chars.append("-")
        else:
            chars.append(" " if char.isspace() else char)
    text = " ".join("".join(chars).split()).replace(" -", "-").replace("- ", "-")
    return text or None


def canonical_groups(frame: pd.DataFrame) -> pd.Series:
    """Each row's study group as shown: the spelling most of its group's participants typed.

    `frame` has `participant`, `university` and `group` (as typed). Rows whose names share a
    `group_key` within one university get one spelling: the one typed by most participants
    (spaces collapsed), the alphabetically first among equals. None where no group was typed.
    """
    keys = frame["group"].map(group_key)
    spelled = frame["group"].map(lambda v: " ".join(v.split()) if isinstance(v, str) else None)
    universities = frame["university"].fillna("").astype(str)
    people = pd.DataFrame(
        {
            "participant": frame["participant"],
            "university": universities,
            "key": keys,
            "spelled": spelled,
        }
    ).dropna(subset=["key"])
    if people.empty:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    people = people.drop_duplicates(["participant", "university", "key", "spelled"])
    counts = people.groupby(["university", "key", "spelled"]).size().rename("n").reset_index()
    counts = counts.sort_values(
        ["university", "key", "n", "spelled"], ascending=[True, True, False, True]
    )
    shown = counts.drop_duplicates(["university", "key"]).set_index(["university", "key"])
    lookup = shown["spelled"].to_dict()
    return pd.Series(
        [lookup.get((u, k)) for u, k in zip(universities, keys, strict=True)],
        index=frame.index,
        dtype=object,
    )


def rank_within(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    within: str = "university",
    by: str = "group",
    min_n: int = MIN_RANKED,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """`rank_groups` of the `by` groups inside each `within` group, which comes first.

    Rows without either are left out (a group name means nothing without its university).
    Groups below `min_n` scores are counted in the note, not named.
    """
    parts: list[pd.DataFrame] = []
    if by in frame.columns and within in frame.columns:
        for outer, part in frame.dropna(subset=[within, by]).groupby(within, sort=True):
            table = rank_groups(
                part, by, columns, min_n=min_n, confidence=confidence, name_left_out=False
            )
            if not table.empty:
                table.insert(0, within, outer)
                parts.append(table)
    if not parts:
        return pd.DataFrame(columns=[within, *RANKING_COLUMNS])
    return pd.concat(parts, ignore_index=True)


def pairwise_within(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    within: str = "university",
    by: str = "group",
    min_n: int = MIN_RANKED,
    max_groups: int = MAX_PAIRWISE_GROUPS,
) -> pd.DataFrame:
    """Games–Howell comparisons of the ranked `by` groups inside each `within` group.

    Not run (a row with the reason in `note`) where more than `max_groups` groups are ranked:
    the k (k - 1) / 2 pairs, 55 and more, make a table nobody reads, and Games–Howell holding
    the familywise error at 5 % over all of them leaves each comparison too little power to
    show anything; the ranking's rank ranges say more there.
    """
    parts: list[pd.DataFrame] = []
    if by in frame.columns and within in frame.columns:
        for outer, part in frame.dropna(subset=[within, by]).groupby(within, sort=True):
            for column in columns:
                sizes = part.dropna(subset=[column]).groupby(by)[column].count()
                ranked = int((sizes >= min_n).sum())
                if ranked < 2:
                    continue
                if ranked > max_groups:
                    note = (
                        f"not run: {ranked} groups ranked, more than {max_groups} "
                        f"({ranked * (ranked - 1) // 2} pairs); see the rank ranges instead"
                    )
                    parts.append(pd.DataFrame([{within: outer, "scale": column, "note": note}]))
                    continue
                table = pairwise(part, by, [column], min_n=min_n)
                if not table.empty:
                    table.insert(0, within, outer)
                    table["note"] = ""
                    parts.append(table)
    if not parts:
        return pd.DataFrame(columns=[within, *PAIRWISE_COLUMNS, "note"])
    return pd.concat(parts, ignore_index=True).reindex(columns=[within, *PAIRWISE_COLUMNS, "note"])


def gains(scales: pd.DataFrame, pre_wave: str, post_wave: str) -> pd.DataFrame:
    """Per participant with both waves: post - pre of every scale, with the pre wave's groups."""
    key = ["participant"]
    value = [c for c in scales.columns if c not in KEY_COLUMNS]
    pre = scales[scales["wave"] == pre_wave].drop_duplicates("participant", keep="last")
    post = scales[scales["wave"] == post_wave].drop_duplicates("participant", keep="last")
    both = pre.merge(post, on=key, suffixes=("_pre", "_post"))
    groups = [c for c in KEY_COLUMNS[2:] if c in scales.columns]
    out = pd.DataFrame(
        {"participant": both["participant"]} | {c: both[f"{c}_pre"] for c in groups}
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
    columns = [c for c in scales.columns if c not in KEY_COLUMNS]
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
