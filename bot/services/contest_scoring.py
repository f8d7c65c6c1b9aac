"""A contest's aggregation: weighted review scores, entry means, z-scores, agreement, ranks. Pure.

Nothing here touches the database; `bot.services.contest_results` reads the submitted reviews
and calls `aggregate`.

THE SCALE. A review's weighted score is

    score = 100 * sum_c(w_c * s_c / max_c) / sum_c(w_c)

over the contest's criteria c (weight w_c > 0, maximum max_c > 0, the juror's score s_c in
0..max_c): each criterion counts as the share of its maximum, weighted; so 0 is the lowest and
100 the highest possible, whatever the criteria's maxima. An entry's mean is the plain mean of
its reviews' weighted scores (0..100).

STANDARDISED (when the contest asks for it): each juror's weighted scores become z-scores over
that juror's own submitted reviews, z = (score - juror's mean) / juror's standard deviation
(sample, ddof = 1), and an entry's standardised score is the mean of its reviews' z-scores; the
ranking then uses it, so a strict and a lenient juror weigh the same. A juror with fewer than 2
reviews, or who gave every entry the same score, has no spread to divide by: their reviews count
as z = 0 (average) and they are named in `Scoring.unstandardised`.

AGREEMENT. The allocation is an incomplete design: each entry is reviewed by k of the J jurors,
a different set per entry, so jurors are not crossed with entries and the two-way models
(ICC2/ICC3, and pingouin's `intraclass_corr`, which needs every juror on every entry) do not
apply. The right model is the one-way random one (Shrout and Fleiss's case 1): reviews nested in
entries. We report ICC(1,k), the reliability of an entry's mean over its k reviews (which is the
score that ranks it), with ICC(1), one juror's reliability, next to it. Both come from the
one-way ANOVA of the scores the ranking uses (z-scores when standardised) by entry, computed by
`scipy.stats.f_oneway` on the entries with at least 2 reviews:

    F = MSB / MSW,  ICC(1,k) = 1 - 1/F,  ICC(1) = (F - 1) / (F + k0 - 1)

with k0 = (N - sum n_i^2 / N) / (n - 1) the average group size corrected for unequal sizes (k when
every entry has k reviews). The 95 % CI is the F-based one of McGraw and Wong (1996), the same
as pingouin's for ICC1k: F_L = F / F_{0.975}(df1, df2), F_U = F * F_{0.975}(df2, df1), CI =
(1 - 1/F_L, 1 - 1/F_U), df1 = n - 1, df2 = N - n. On a complete design it equals pingouin's
ICC1k (the tests check it). An ICC below 0 is reported as it is (the jurors agree less than
chance). It is None, with the reason as a translation key, when fewer than 2 entries have 2
reviews, or when there is no variance within entries (identical scores) or between them.

RANKS. Competition ranking: equal scores share a rank and the next rank skips (1, 2, 2, 4);
scores equal to 9 decimals count as equal (a mean of floats can differ in the last bits). An
entry without a submitted review has no score and no rank.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

# Scores equal to this many decimals count as a tie.
TIE_DECIMALS = 9
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Criterion:
    """A criterion of the rubric: its code, weight (> 0) and maximum score (> 0)."""

    code: str
    weight: float
    max: float


def criteria_of(definition: Mapping[str, object]) -> list[Criterion]:
    """The rubric of a contest's stored definition (`criteria: [{code, weight, max, ...}]`)."""
    raw = definition.get("criteria") or []
    assert isinstance(raw, list)
    return [Criterion(str(c["code"]), float(c["weight"]), float(c["max"])) for c in raw]


def in_range(criterion: Criterion, value: float) -> bool:
    """True when `value` is a score the criterion allows (0..max, a finite number)."""
    return math.isfinite(value) and 0 <= value <= criterion.max


def review_score(scores: Mapping[str, float], criteria: Sequence[Criterion]) -> float:
    """The weighted score of one review, 0..100 (see the module's scale).

    Raises:
        ValueError: a criterion without a score or with one out of range, or no criteria.
    """
    total_weight = sum(c.weight for c in criteria)
    if not criteria or total_weight <= 0:
        raise ValueError("no criteria with a weight")
    weighted = 0.0
    for criterion in criteria:
        if criterion.code not in scores:
            raise ValueError(f"no score for {criterion.code}")
        value = float(scores[criterion.code])
        if not in_range(criterion, value):
            raise ValueError(f"{criterion.code}: {value} not in 0..{criterion.max}")
        weighted += criterion.weight * value / criterion.max
    return 100 * weighted / total_weight


@dataclass(frozen=True)
class ReviewScore:
    """One submitted review's weighted score (0..100) with its entry and juror."""

    entry: int
    juror: int
    score: float


@dataclass(frozen=True)
class EntryScore:
    """An entry's aggregate: reviews, mean (0..100), mean z-score, the ranking score and rank."""

    entry: int
    reviews: int
    mean: float | None
    standardised: float | None  # None unless the contest standardises
    score: float | None  # what ranks it: `standardised` if standardising, else `mean`
    rank: int | None


@dataclass(frozen=True)
class Agreement:
    """Inter-rater agreement: ICC(1,k) with its 95 % CI, ICC(1), and what it was computed on.

    `note` is None when computed, else a translation key saying why not.
    """

    icc: float | None  # ICC(1,k): reliability of an entry's mean over its reviews
    ci_low: float | None
    ci_high: float | None
    icc_single: float | None  # ICC(1): one juror's reliability
    entries: int  # entries with >= 2 reviews it was computed on
    reviews: int
    k: float | None  # k0, the (corrected) average reviews per entry
    f: float | None
    note: str | None = None


NOT_ENOUGH = "contest.icc_not_enough"  # fewer than 2 entries with 2 reviews
NO_VARIANCE = "contest.icc_no_variance"  # identical scores within or between entries


@dataclass(frozen=True)
class Scoring:
    """The whole aggregation: entries in rank order (unranked last), agreement, z-scores used."""

    entries: tuple[EntryScore, ...]
    agreement: Agreement
    standardise: bool
    unstandardised: tuple[int, ...] = ()  # jurors whose reviews counted as z = 0


def competition_ranks(scores: Sequence[float | None]) -> list[int | None]:
    """Competition ranks of `scores`, highest first (1, 2, 2, 4); None stays unranked."""
    ranked = sorted((round(s, TIE_DECIMALS), i) for i, s in enumerate(scores) if s is not None)
    ranked.reverse()
    ranks: list[int | None] = [None] * len(scores)
    previous: float | None = None
    rank = 0
    for position, (value, index) in enumerate(ranked, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[index] = rank
    return ranks


def standardise(reviews: Sequence[ReviewScore]) -> tuple[list[float], tuple[int, ...]]:
    """Each review's z-score over its juror's reviews; and the jurors that had no spread."""
    by_juror: dict[int, list[float]] = defaultdict(list)
    for review in reviews:
        by_juror[review.juror].append(review.score)
    spread: dict[int, tuple[float, float]] = {}
    flat: list[int] = []
    for juror, values in by_juror.items():
        if len(values) >= 2:
            mean = sum(values) / len(values)
            sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
            if sd > 1e-12 * max(1.0, abs(mean)):
                spread[juror] = (mean, sd)
                continue
        flat.append(juror)
    z = [
        (r.score - spread[r.juror][0]) / spread[r.juror][1] if r.juror in spread else 0.0
        for r in reviews
    ]
    return z, tuple(sorted(flat))


def icc_oneway(groups: Sequence[Sequence[float]]) -> Agreement:
    """ICC(1,k) and ICC(1) with the 95 % CI from a one-way ANOVA of the groups (entries).

    Groups with fewer than 2 values are left out (they say nothing about agreement).
    """
    used = [list(g) for g in groups if len(g) >= 2]
    n = len(used)
    total = sum(len(g) for g in used)
    if n < 2:
        return Agreement(None, None, None, None, n, total, None, None, NOT_ENOUGH)
    k0 = (total - sum(len(g) ** 2 for g in used) / total) / (n - 1)
    grand = sum(sum(g) for g in used) / total
    within = sum(sum((v - sum(g) / len(g)) ** 2 for v in g) for g in used)
    between = sum(len(g) * (sum(g) / len(g) - grand) ** 2 for g in used)
    scale = max(1.0, sum(v * v for g in used for v in g) / total)
    if within <= 1e-12 * scale or between <= 1e-12 * scale:
        # f_oneway would warn and return inf or nan: no variance to compare.
        return Agreement(None, None, None, None, n, total, k0, None, NO_VARIANCE)
    f_value = float(stats.f_oneway(*used).statistic)
    df1, df2 = n - 1, total - n
    quantile = 1 - (1 - CONFIDENCE) / 2
    f_low = f_value / float(stats.f.ppf(quantile, df1, df2))
    f_high = f_value * float(stats.f.ppf(quantile, df2, df1))
    return Agreement(
        icc=1 - 1 / f_value,
        ci_low=1 - 1 / f_low,
        ci_high=1 - 1 / f_high,
        icc_single=(f_value - 1) / (f_value + k0 - 1),
        entries=n,
        reviews=total,
        k=k0,
        f=f_value,
    )


def aggregate(
    entries: Sequence[int], reviews: Sequence[ReviewScore], *, standardise_scores: bool
) -> Scoring:
    """Entry means (and mean z-scores), agreement and competition ranks.

    `entries` are every submitted entry's id (an entry without reviews is listed unranked);
    `reviews` the submitted reviews' weighted scores. Reviews of entries not listed are ignored.
    """
    listed = set(entries)
    reviews = [r for r in reviews if r.entry in listed]
    flat: tuple[int, ...] = ()
    z: list[float] = []
    if standardise_scores:
        z, flat = standardise(reviews)
    raw: dict[int, list[float]] = defaultdict(list)
    used: dict[int, list[float]] = defaultdict(list)
    for index, review in enumerate(reviews):
        raw[review.entry].append(review.score)
        used[review.entry].append(z[index] if standardise_scores else review.score)

    def mean(values: list[float]) -> float | None:
        """The mean, None for no values."""
        return sum(values) / len(values) if values else None

    means = [mean(raw[e]) for e in entries]
    zs = [mean(used[e]) if standardise_scores else None for e in entries]
    ranking = zs if standardise_scores else means
    ranks = competition_ranks(ranking)
    rows = [
        EntryScore(e, len(raw[e]), means[i], zs[i], ranking[i], ranks[i])
        for i, e in enumerate(entries)
    ]
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.entry))
    agreement = icc_oneway([used[e] for e in entries])
    return Scoring(tuple(rows), agreement, standardise_scores, flat)
