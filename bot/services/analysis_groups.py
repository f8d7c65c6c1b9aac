"""Grouping students by their competence profile (issue 17, item 3).

The profile is a participant's scale scores. The participants of the base wave (the pre wave
when there is one, else every row) with every scale present are standardised (scikit-learn's
`StandardScaler`: each scale to mean 0, SD 1, so a scale scored 1–5 and a percentage weigh the
same) and grouped by k-means (`KMeans`, 20 starts, a fixed seed, so the same data give the same
groups). The number of groups is the k from 2 to `MAX_GROUPS` with the highest mean silhouette
(`silhouette_score`); all of them are reported so the choice can be checked.

Groups are numbered by their mean standardised score, lowest first (group 1 is the profile
furthest below the average), so the numbering means something and does not depend on the
random start. Each group is described by its size, its share, and its mean raw and standardised
score per scale; its size per university; and, when there is a post wave, where the base
wave's members stand afterwards: the post scores go through the same scaler and the same
centroids (`predict`), so a move from group 1 to group 3 is a move in the same space.

Not run (with the reason in the note) below `MIN_CASES` complete profiles, with fewer than two
scales, or when the profiles do not vary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MIN_CASES = 10
MAX_GROUPS = 6
SEED = 20261202
STARTS = 20

SILHOUETTE_COLUMNS = ["k", "silhouette", "chosen"]


@dataclass
class Grouping:
    """The tables of a grouping, and what to say about it."""

    profiles: pd.DataFrame  # group, n, share, then <scale> and <scale>_z means
    by_university: pd.DataFrame  # group x university counts
    moves: pd.DataFrame  # base group x post group counts (empty without a post wave)
    silhouettes: pd.DataFrame  # k, silhouette, chosen
    members: pd.DataFrame = field(default_factory=pd.DataFrame)  # participant, group
    note: str = ""


def _empty(note: str) -> Grouping:
    return Grouping(
        profiles=pd.DataFrame(columns=["group", "n", "share"]),
        by_university=pd.DataFrame(columns=["group"]),
        moves=pd.DataFrame(columns=["group"]),
        silhouettes=pd.DataFrame(columns=SILHOUETTE_COLUMNS),
        note=note,
    )


def group_profiles(
    scales: pd.DataFrame,
    columns: Sequence[str],
    *,
    base_wave: str | None = None,
    post_wave: str | None = None,
    max_groups: int = MAX_GROUPS,
    seed: int = SEED,
) -> Grouping:
    """Group the base wave's participants by their profile over `columns` (module docstring)."""
    from sklearn.cluster import KMeans  # noqa: PLC0415 - heavy, on first use
    from sklearn.metrics import silhouette_score  # noqa: PLC0415
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

    columns = list(columns)
    if len(columns) < 2:
        return _empty("Grouping not run: it needs at least two scales.")
    base = scales if base_wave is None else scales[scales["wave"] == base_wave]
    base = base.dropna(subset=columns)
    if len(base) < MIN_CASES:
        return _empty(
            f"Grouping not run: {len(base)} complete profiles, it needs at least {MIN_CASES}."
        )
    values = base[columns].to_numpy(dtype=float)
    if np.allclose(values, values[0]):
        return _empty("Grouping not run: the profiles do not vary.")
    scaler = StandardScaler().fit(values)
    z = scaler.transform(values)
    distinct = len(np.unique(np.round(z, 9), axis=0))
    tried: list[dict[str, Any]] = []
    models: dict[int, Any] = {}
    for k in range(2, min(max_groups, len(base) - 1, distinct - 1) + 1):
        model = KMeans(n_clusters=k, n_init=STARTS, random_state=seed).fit(z)
        tried.append({"k": k, "silhouette": float(silhouette_score(z, model.labels_))})
        models[k] = model
    if not tried:
        return _empty("Grouping not run: too few distinct profiles for two groups.")
    best = max(tried, key=lambda row: (row["silhouette"], -row["k"]))["k"]
    for tried_row in tried:
        tried_row["chosen"] = tried_row["k"] == best
    model = models[best]
    # Number the groups by their centroid's mean standardised score, lowest first.
    order = np.argsort(model.cluster_centers_.mean(axis=1), kind="stable")
    number = {int(label): position + 1 for position, label in enumerate(order)}
    labels = np.array([number[int(label)] for label in model.labels_])

    members = pd.DataFrame({"participant": base["participant"].to_numpy(), "group": labels})
    rows = []
    for group in range(1, best + 1):
        mask = labels == group
        row: dict[str, Any] = {"group": group, "n": int(mask.sum()), "share": mask.mean()}
        for i, column in enumerate(columns):
            row[column] = float(values[mask, i].mean())
        for i, column in enumerate(columns):
            row[f"{column}_z"] = float(z[mask, i].mean())
        rows.append(row)
    profiles = pd.DataFrame(rows)
    universities = base["university"].fillna("—").to_numpy()
    by_university = (
        pd.crosstab(pd.Series(labels, name="group"), pd.Series(universities, name="university"))
        .reset_index()
        .rename_axis(columns=None)
    )
    moves = pd.DataFrame(columns=["group"])
    note = (
        f"Grouping: k-means on standardised scale scores of {len(base)} complete profiles"
        + (f" (wave '{base_wave}')" if base_wave else "")
        + f"; {best} groups chosen by the highest mean silhouette "
        + f"({max(r['silhouette'] for r in tried):.3f}); group 1 has the lowest mean profile."
    )
    if post_wave is not None:
        post = scales[scales["wave"] == post_wave].dropna(subset=columns)
        post = post[post["participant"].isin(set(members["participant"]))]
        if not post.empty:
            after = model.predict(scaler.transform(post[columns].to_numpy(dtype=float)))
            moved = pd.DataFrame(
                {
                    "participant": post["participant"].to_numpy(),
                    "after": [number[int(label)] for label in after],
                }
            ).merge(members, on="participant")
            moves = (
                pd.crosstab(moved["group"], moved["after"])
                .add_prefix("after_")
                .reset_index()
                .rename_axis(columns=None)
            )
            note += (
                f" Moves: {len(moved)} participants placed again from their '{post_wave}' "
                "scores with the same scaler and centroids."
            )
    return Grouping(
        profiles=profiles,
        by_university=by_university,
        moves=moves,
        silhouettes=pd.DataFrame(tried, columns=SILHOUETTE_COLUMNS),
        members=members,
        note=note,
    )
