"""Charts of the rankings and the groups: a dot plot with CIs, and the groups' mean profiles.

Same rules as `bot.services.analysis_charts` (object-oriented matplotlib, fonts
and colours passed explicitly, bytes that depend only on the inputs).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from bot.services.analysis_charts import (
    _FONT,
    _LEGEND_FONT,
    _TITLE_FONT,
    GROUP_COLORS,
    MAX_SERIES,
    TITLE_WRAP,
    _empty_chart,
    _number,
    _png,
    _wrap,
)
from bot.services.charts import CURRENT_COLOR, DPI, GRID_COLOR, TEXT_COLOR, WIDTH_IN

MAX_GROUPS_SHOWN = 40


def ranking_chart(rows: pd.DataFrame, title: str, *, empty_text: str = "no data") -> bytes:
    """A dot per group at its mean with its confidence interval, best first.

    `rows`: one scale's rows of an `analysis_rankings.rank_groups` table. Each group is labelled
    "group (n) · rank r" or, when the intervals allow a range, "rank a–b", so no rank is shown
    without its uncertainty. Raises ValueError beyond `MAX_GROUPS_SHOWN` groups.
    """
    rows = rows.dropna(subset=["mean"]) if len(rows) else rows
    if rows is None or rows.empty:
        return _empty_chart(title, empty_text)
    if len(rows) > MAX_GROUPS_SHOWN:
        raise ValueError(f"{len(rows)} groups; at most {MAX_GROUPS_SHOWN} fit a readable chart")
    rows = rows.sort_values(["rank", "group"], kind="stable")
    labels = []
    for row in rows.itertuples():
        best, worst = int(row.rank_best), int(row.rank_worst)
        rank = f"{best}" if best == worst else f"{best}–{worst}"
        labels.append(f"{row.group} (n = {int(row.n)}) · {rank}")
    height = 1.2 + 0.38 * len(rows)
    layout = ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.1)
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, facecolor="white", layout=layout)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    means = rows["mean"].to_numpy(dtype=float)
    low = rows["ci_low"].to_numpy(dtype=float)
    high = rows["ci_high"].to_numpy(dtype=float)
    low = np.where(np.isnan(low), means, low)
    high = np.where(np.isnan(high), means, high)
    ax.hlines(y, low, high, color=CURRENT_COLOR, linewidth=2)
    ax.plot(means, y, "o", color=CURRENT_COLOR, markersize=6)
    for yi, mean in zip(y, means, strict=True):
        ax.annotate(
            _number(float(mean)),
            (float(mean), float(yi)),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontproperties=_LEGEND_FONT,
            color=TEXT_COLOR,
        )
    ax.set_yticks(y, labels=labels, fontproperties=_FONT, color=TEXT_COLOR)
    ax.grid(axis="x", color=GRID_COLOR)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for label in ax.get_xticklabels():
        label.set_fontproperties(_FONT)
    fig.suptitle(
        _wrap(title, TITLE_WRAP, 2), fontproperties=_TITLE_FONT, color=TEXT_COLOR, parse_math=False
    )
    return _png(fig)


def profile_chart(
    profiles: pd.DataFrame,
    scales: list[str],
    titles: Mapping[str, str],
    title: str,
    *,
    empty_text: str = "no data",
) -> bytes:
    """Each group's mean standardised score per scale (lines), from `analysis_groups` profiles.

    The legend gives each group's size; 0 is the average of everyone grouped.
    """
    if profiles.empty or not scales:
        return _empty_chart(title, empty_text)
    if len(profiles) > MAX_SERIES:
        raise ValueError(f"{len(profiles)} groups; at most {MAX_SERIES} fit a readable chart")
    layout = ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.1)
    fig = Figure(figsize=(WIDTH_IN, 4.5), dpi=DPI, facecolor="white", layout=layout)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.arange(len(scales))
    for i, row in enumerate(profiles.itertuples()):
        values = [float(getattr(row, f"{s}_z")) for s in scales]
        ax.plot(
            x,
            values,
            "o-",
            color=GROUP_COLORS[i % len(GROUP_COLORS)],
            label=f"{row.group} (n = {int(row.n)})",
        )
    ax.axhline(0, color=GRID_COLOR, linewidth=1)
    ax.set_xticks(
        x,
        labels=[_wrap(titles.get(s, s), 18, 3) for s in scales],
        fontproperties=_FONT,
        color=TEXT_COLOR,
    )
    ax.grid(axis="y", color=GRID_COLOR)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(prop=_LEGEND_FONT, frameon=False)
    fig.suptitle(
        _wrap(title, TITLE_WRAP, 2), fontproperties=_TITLE_FONT, color=TEXT_COLOR, parse_math=False
    )
    return _png(fig)


def over_time_chart(
    rows: pd.DataFrame, title: str, *, all_label: str = "all", empty_text: str = "no data"
) -> bytes:
    """One scale's mean per wave, a line per university and a thicker one for everyone.

    `rows`: that scale's rows of an `analysis_rankings.over_time` table, waves in the order
    they opened.

    Raises ValueError beyond `MAX_SERIES` universities.
    """
    rows = rows.dropna(subset=["mean"]) if len(rows) else rows
    if rows is None or rows.empty:
        return _empty_chart(title, empty_text)
    waves = list(dict.fromkeys(rows["wave"]))
    universities = [u for u in dict.fromkeys(rows["university"]) if u != "all"]
    if len(universities) > MAX_SERIES:
        raise ValueError(f"{len(universities)} universities; at most {MAX_SERIES} fit")
    layout = ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.1)
    fig = Figure(figsize=(WIDTH_IN, 4.5), dpi=DPI, facecolor="white", layout=layout)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = {wave: i for i, wave in enumerate(waves)}
    series = [("all", all_label, "#222222", 3.0)] + [
        (u, str(u), GROUP_COLORS[i % len(GROUP_COLORS)], 1.6) for i, u in enumerate(universities)
    ]
    for key, label, colour, width in series:
        part = rows[rows["university"] == key]
        ax.plot(
            [x[w] for w in part["wave"]],
            part["mean"].to_numpy(dtype=float),
            "o-",
            color=colour,
            linewidth=width,
            label=label,
        )
    ax.set_xticks(
        list(x.values()), labels=[str(w) for w in waves], fontproperties=_FONT, color=TEXT_COLOR
    )
    ax.grid(axis="y", color=GRID_COLOR)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(prop=_LEGEND_FONT, frameon=False, loc="best")
    fig.suptitle(
        _wrap(title, TITLE_WRAP, 2), fontproperties=_TITLE_FONT, color=TEXT_COLOR, parse_math=False
    )
    return _png(fig)
