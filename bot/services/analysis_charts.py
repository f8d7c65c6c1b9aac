"""Research-analysis charts: pre/post means and means by group, rendered as PNG bytes.

They draw tables made by `bot.services.analysis_stats` (`prepost`, `group_compare`) and follow
`bot.services.charts`: matplotlib's object-oriented API only (`Figure` + `FigureCanvasAgg`,
never `pyplot`, so rendering is safe in worker threads), every font and colour passed
explicitly (DejaVu Sans covers Kazakh and Russian letters), nothing read from or written to
`matplotlib.rcParams`, no "Software" tag, so the bytes depend only on the inputs.

Both charts are horizontal grouped bars: one block per scale (labelled with the scale title),
one bar per series (pre/post, or one per group), each bar labelled with its value. An empty
table gives a small chart with the `empty_text` message instead of an error, so a report can
always attach its charts.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine

from bot.services.charts import (
    CURRENT_COLOR,
    DPI,
    FONT_FAMILY,
    GRID_COLOR,
    PREVIOUS_COLOR,
    TEXT_COLOR,
    WIDTH_IN,
)

LABEL_WRAP = 26
LABEL_MAX_LINES = 3
LEGEND_WRAP = 30
TITLE_WRAP = 60
# Guards, not design targets (the charts are meant for about 12 scales and 10 groups): they
# keep the image inside Telegram's photo limits (width + height <= 10000 px).
MAX_SCALES = 30
MAX_SERIES = 20
MAX_BARS = 300

# A qualitative palette (matplotlib's tab10, then the light half of tab20) spelled out, so
# the colours do not depend on rcParams; first ten are the distinct ones.
GROUP_COLORS = (
    "#1F77B4",
    "#FF7F0E",
    "#2CA02C",
    "#D62728",
    "#9467BD",
    "#8C564B",
    "#E377C2",
    "#7F7F7F",
    "#BCBD22",
    "#17BECF",
    "#AEC7E8",
    "#FFBB78",
    "#98DF8A",
    "#FF9896",
    "#C5B0D5",
    "#C49C94",
    "#F7B6D2",
    "#C7C7C7",
    "#DBDB8D",
    "#9EDAE5",
)

_FONT = FontProperties(family=FONT_FAMILY, size=10)
_LEGEND_FONT = FontProperties(family=FONT_FAMILY, size=9)
_TITLE_FONT = FontProperties(family=FONT_FAMILY, size=13, weight="bold")
_VALUE_FONT = FontProperties(family=FONT_FAMILY, size=8)
_EMPTY_FONT = FontProperties(family=FONT_FAMILY, size=11)


@dataclass(frozen=True, slots=True)
class _Series:
    label: str
    color: str
    # One value per row (scale); None leaves that bar out.
    values: list[float | None]


def prepost_chart(
    prepost_table: pd.DataFrame,
    titles: Mapping[str, str],
    title: str,
    *,
    empty_text: str = "no data",
    pre_label: str = "pre",
    post_label: str = "post",
) -> bytes:
    """PNG bytes of mean_pre and mean_post per scale of an `analysis_stats.prepost` table.

    Scales are labelled with `titles[scale]` (the code when missing) and "n = n_pairs"; scales
    without pairs are left out. No scale left gives the `empty_text` chart. Raises ValueError
    for more than `MAX_SCALES` scales.
    """
    rows = prepost_table.dropna(subset=["mean_pre", "mean_post"]) if len(prepost_table) else None
    if rows is None or rows.empty:
        return _empty_chart(title, empty_text)
    labels = [
        f"{titles.get(str(scale), str(scale))} (n = {int(n)})"
        for scale, n in zip(rows["scale"], rows["n_pairs"], strict=True)
    ]
    series = [
        _Series(pre_label, PREVIOUS_COLOR, [float(v) for v in rows["mean_pre"]]),
        _Series(post_label, CURRENT_COLOR, [float(v) for v in rows["mean_post"]]),
    ]
    return _grouped_bars(title, labels, series)


def by_group_chart(
    means_table: pd.DataFrame,
    titles: Mapping[str, str],
    title: str,
    *,
    empty_text: str = "no data",
) -> bytes:
    """PNG bytes of the mean of every scale in every group, from a `group_compare` means table.

    The table has the columns group, scale, n, mean, sd. One block of bars per scale
    (labelled with `titles[scale]`, the code when missing), one coloured bar per group, groups
    in the legend in table order. Pass the rows of a single
    wave: a table whose `wave` column holds several waves raises ValueError, as do more than
    `MAX_SCALES` scales, `MAX_SERIES` groups or `MAX_BARS` bars. No rows with a mean give the
    `empty_text` chart.
    """
    rows = means_table.dropna(subset=["mean"]) if len(means_table) else None
    if rows is None or rows.empty:
        return _empty_chart(title, empty_text)
    if "wave" in rows.columns and rows["wave"].nunique(dropna=False) > 1:
        raise ValueError("the means table holds several waves; pass the rows of one wave")
    scales = list(dict.fromkeys(rows["scale"]))
    groups = list(dict.fromkeys(rows["group"]))
    if len(groups) > MAX_SERIES:
        raise ValueError(f"{len(groups)} groups; at most {MAX_SERIES} fit a readable chart")
    means = {
        (g, s): float(m)
        for g, s, m in zip(rows["group"], rows["scale"], rows["mean"], strict=True)
    }
    series = [
        _Series(
            str(group),
            GROUP_COLORS[i % len(GROUP_COLORS)],
            [means.get((group, scale)) for scale in scales],
        )
        for i, group in enumerate(groups)
    ]
    labels = [titles.get(str(scale), str(scale)) for scale in scales]
    return _grouped_bars(title, labels, series)


def _grouped_bars(title: str, labels: Sequence[str], series: Sequence[_Series]) -> bytes:
    """One block of horizontal bars per label, one bar per series, values written at the ends."""
    if len(labels) > MAX_SCALES:
        raise ValueError(f"{len(labels)} scales; at most {MAX_SCALES} fit a readable chart")
    if len(labels) * len(series) > MAX_BARS:
        raise ValueError(f"{len(labels) * len(series)} bars; at most {MAX_BARS} fit a chart")
    values = [v for s in series for v in s.values if v is not None]
    if not all(math.isfinite(v) for v in values):
        raise ValueError("means must be finite numbers")
    low = min(0.0, *values)
    high = max(0.0, *values)
    if high <= low:
        high = low + 1.0
    # Room on the right for the value labels of the longest bars.
    high += (high - low) * 0.1

    wrapped = [_wrap(label, LABEL_WRAP, LABEL_MAX_LINES) for label in labels]
    title_text = _wrap(title, TITLE_WRAP, 2)
    legend_columns = min(len(series), 3)
    legend_rows = math.ceil(len(series) / legend_columns)
    label_lines = max(label.count("\n") + 1 for label in wrapped)
    title_lines = title_text.count("\n") + 1 if title_text else 0

    # Each block is tall enough for its wrapped label and for its bars (0.17 in per bar keeps
    # the 8 pt value labels apart); the fixed part holds the title, the legend and the x-axis.
    bar_in = 0.17 if len(series) > 2 else 0.24
    block_in = max(0.19 * label_lines + 0.2, bar_in * len(series) + 0.2)
    fixed_in = 0.75 + 0.28 * title_lines + 0.22 * legend_rows
    height_in = max(2.4, fixed_in + block_in * len(labels))

    layout = ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.1)
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white", layout=layout)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_facecolor("white")

    # In data units each block is 1 tall: the bars share 0.8 of it, the rest is the gap.
    thickness = 0.8 / len(series)
    handles = []
    for k, one in enumerate(series):
        offset = -0.4 + thickness * (k + 0.5)
        present = [(i, v) for i, v in enumerate(one.values) if v is not None]
        bars = ax.barh(
            [i + offset for i, _ in present],
            [v for _, v in present],
            height=thickness * 0.92,
            left=0.0,
            color=one.color,
            label=_wrap(one.label, LEGEND_WRAP, 2),
            zorder=2,
        )
        handles.append(bars)
        for i, value in present:
            ax.annotate(
                _number(value),
                xy=(max(value, 0.0), i + offset),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                ha="left",
                color=TEXT_COLOR,
                fontproperties=_VALUE_FONT,
                annotation_clip=False,
                parse_math=False,
            )

    ax.set_xlim(low, high)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # inverted: the first scale reads first, at the top
    ax.set_yticks(
        list(range(len(labels))), wrapped, fontproperties=_FONT, color=TEXT_COLOR, parse_math=False
    )
    ax.tick_params(axis="y", length=0, pad=6)
    ax.tick_params(axis="x", labelsize=9, labelcolor=TEXT_COLOR, labelfontfamily=FONT_FAMILY)
    ax.xaxis.grid(True, color=GRID_COLOR, linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if low < 0:
        ax.axvline(0.0, color=TEXT_COLOR, linewidth=0.8, zorder=1)

    if title_text:
        fig.suptitle(title_text, fontproperties=_TITLE_FONT, color=TEXT_COLOR, parse_math=False)
    # Anchored to the axes so the constrained layout stacks it under the title.
    legend = ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=legend_columns,
        frameon=False,
        prop=_LEGEND_FONT,
    )
    for entry in legend.get_texts():
        entry.set_parse_math(False)
    return _png(fig)


def _empty_chart(title: str, text: str) -> bytes:
    """A small chart with the title and a centred message, for a table without data."""
    layout = ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.1)
    fig = Figure(figsize=(WIDTH_IN, 1.8), dpi=DPI, facecolor="white", layout=layout)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_axis_off()
    title_text = _wrap(title, TITLE_WRAP, 2)
    if title_text:
        fig.suptitle(title_text, fontproperties=_TITLE_FONT, color=TEXT_COLOR, parse_math=False)
    ax.text(
        0.5,
        0.5,
        _wrap(text, TITLE_WRAP, 3),
        ha="center",
        va="center",
        transform=ax.transAxes,
        color=TEXT_COLOR,
        fontproperties=_EMPTY_FONT,
        parse_math=False,
    )
    return _png(fig)


def _png(fig: Figure) -> bytes:
    buffer = BytesIO()
    # Dropping the "Software" tag makes the bytes depend only on the inputs.
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def _wrap(text: str, width: int, max_lines: int) -> str:
    """`text` on lines of at most `width` characters, cut with "…" after `max_lines`."""
    lines = textwrap.wrap(" ".join(text.split()), width, max_lines=max_lines, placeholder=" …")
    return "\n".join(lines)


def _number(value: float) -> str:
    """A mean as shown on the chart: two decimals, and never "-0.00"."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text
