"""Personal-results charts: scale scores (optionally before/after a wave) rendered as PNG bytes.

Rendering uses matplotlib's object-oriented API only (`Figure` + `FigureCanvasAgg`), never
`pyplot`: pyplot keeps global state (current figure, figure manager registry) that is not
thread-safe, and a chart may be drawn in a thread (`CHART_WORKERS=0`). A `Figure` built this
way belongs to nobody, so it is freed as soon as it goes out of scope; no `close()`
bookkeeping is needed. The bot draws its charts through `chart_pool`, in worker processes.

Nothing here reads or changes `matplotlib.rcParams`: every font and colour is passed
explicitly, so another module tweaking the global style cannot break Cyrillic rendering or
change the charts students see.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FuncFormatter

from bot.i18n import DECIMAL_COMMA, format_number
from bot.services import chart_pool

# DejaVu Sans ships inside matplotlib and covers Cyrillic including the Kazakh letters
# ә ғ қ ң ө ұ ү һ і, plus "→" used in the value labels; naming it avoids depending on
# whatever fonts the host happens to have installed.
FONT_FAMILY = "DejaVu Sans"
DPI = 120
# 8.5 in at 120 dpi = 1020 px: wide enough for Telegram's photo viewer without downscaling.
WIDTH_IN = 8.5
LABEL_WRAP = 28
LABEL_MAX_LINES = 3
TITLE_WRAP = 60
# A guard, not a design target (charts are meant for about 12 scales): it keeps the image far
# inside Telegram's photo limits (width + height <= 10000 px) and the PNG small.
MAX_BARS = 30

CURRENT_COLOR = "#2F6DB5"
PREVIOUS_COLOR = "#B9C3CE"
TEXT_COLOR = "#1F2328"
GRID_COLOR = "#E3E6EA"

_FONT = FontProperties(family=FONT_FAMILY, size=10)
_TITLE_FONT = FontProperties(family=FONT_FAMILY, size=13, weight="bold")
_VALUE_FONT = FontProperties(family=FONT_FAMILY, size=9)


@dataclass(frozen=True, slots=True)
class ScaleBar:
    """One scale of a student's result."""

    label: str
    value: float
    # The pre-wave score, when there is one; the chart then shows a before/now pair.
    previous: float | None = None


def render_scales(
    title: str,
    bars: list[ScaleBar],
    *,
    maximum: float | None = None,
    minimum: float = 0.0,
    previous_label: str = "before",
    current_label: str = "now",
    language: str = "en",
) -> bytes:
    """PNG bytes of a horizontal bar chart of the scales.

    With `previous` values the bars come in before/now pairs. The x-axis runs from `minimum`
    to `maximum` (default: 1.1 x the largest score, or `minimum + 1` when that is not above
    `minimum`). Scores outside the axis are drawn clipped to it, but their labels show the
    true numbers, with one decimal written as `language` writes it. Raises ValueError for no
    bars, more than `MAX_BARS`, non-finite numbers or an empty axis range.
    """
    if not bars:
        raise ValueError("no bars to render")
    if len(bars) > MAX_BARS:
        raise ValueError(f"{len(bars)} bars; at most {MAX_BARS} fit a readable chart")
    numbers = [b.value for b in bars] + [b.previous for b in bars if b.previous is not None]
    if not all(math.isfinite(n) for n in (*numbers, minimum)):
        raise ValueError("scores and the axis minimum must be finite numbers")
    if maximum is None:
        maximum = max(numbers) * 1.1
        if maximum <= minimum:
            maximum = minimum + 1.0
    elif not math.isfinite(maximum) or maximum <= minimum:
        raise ValueError(f"axis maximum {maximum} must be finite and above minimum {minimum}")

    paired = any(b.previous is not None for b in bars)
    labels = [_wrap(b.label, LABEL_WRAP, LABEL_MAX_LINES) for b in bars]
    title_text = _wrap(title, TITLE_WRAP, 2)
    label_lines = max(label.count("\n") + 1 for label in labels)
    title_lines = title_text.count("\n") + 1 if title_text else 0

    # Every row gets the same height, enough for the tallest wrapped label and for the bars;
    # the fixed part holds the title, the legend and the x-axis.
    row_in = max(0.62 if paired else 0.42, 0.19 * label_lines + 0.14)
    fixed_in = 0.75 + 0.28 * title_lines + (0.35 if paired else 0.0)
    height_in = max(2.2, fixed_in + row_in * len(bars))

    # The constrained layout makes room for labels of any width; its default padding (3 pt)
    # would let them touch the image edge.
    layout = ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.1)
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white", layout=layout)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_facecolor("white")

    def span(score: float) -> float:
        # Bars start at `minimum`; clamping keeps out-of-range scores inside the frame.
        return min(max(score, minimum), maximum) - minimum

    rows = range(len(bars))
    thickness = 0.36 if paired else 0.6
    offset = 0.19 if paired else 0.0
    current = ax.barh(
        [i + offset for i in rows],
        [span(b.value) for b in bars],
        height=thickness,
        left=minimum,
        color=CURRENT_COLOR,
        label=current_label,
        zorder=2,
    )
    handles = [current]
    if paired:
        # Bars without a previous score keep an empty slot, so every "now" bar stays in line.
        before = [
            (i, b.previous) for i, b in zip(rows, bars, strict=True) if b.previous is not None
        ]
        previous = ax.barh(
            [i - offset for i, _ in before],
            [span(score) for _, score in before],
            height=thickness,
            left=minimum,
            color=PREVIOUS_COLOR,
            label=previous_label,
            zorder=2,
        )
        handles = [previous, current]

    for i, bar in enumerate(bars):
        text = _number(bar.value, language)
        end = span(bar.value)
        # A lone "now" bar is labelled on its own line; a pair between its two bars.
        y = i + offset
        if bar.previous is not None:
            text = f"{_number(bar.previous, language)} → {text}"
            end = max(end, span(bar.previous))
            y = i
        # Offset in points, not data units, so the gap looks the same on every scale range;
        # the text may run past the axis end, which the constrained layout makes room for.
        ax.annotate(
            text,
            xy=(minimum + end, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            color=TEXT_COLOR,
            fontproperties=_VALUE_FONT,
            annotation_clip=False,
            parse_math=False,
        )

    ax.set_xlim(minimum, maximum)
    ax.set_ylim(len(bars) - 0.5, -0.5)  # inverted: the first scale reads first, at the top
    # parse_math=False everywhere: a "$" in a scale title must not be read as TeX markup.
    ax.set_yticks(list(rows), labels, fontproperties=_FONT, color=TEXT_COLOR, parse_math=False)
    ax.tick_params(axis="y", length=0, pad=6)
    ax.tick_params(axis="x", labelsize=9, labelcolor=TEXT_COLOR, labelfontfamily=FONT_FAMILY)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _tick(x, language)))
    ax.xaxis.grid(True, color=GRID_COLOR, linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    if title_text:
        fig.suptitle(title_text, fontproperties=_TITLE_FONT, color=TEXT_COLOR, parse_math=False)
    if paired:
        # Anchored to the axes, not the figure: the constrained layout then stacks it under
        # the title instead of letting the two overlap.
        legend = ax.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncols=2,
            frameon=False,
            prop=_FONT,
        )
        for entry in legend.get_texts():
            entry.set_parse_math(False)

    return png(fig)


async def render_scales_async(
    title: str,
    bars: list[ScaleBar],
    *,
    maximum: float | None = None,
    minimum: float = 0.0,
    previous_label: str = "before",
    current_label: str = "now",
    language: str = "en",
) -> bytes:
    """`render_scales` in a chart worker process (`chart_pool`), off the loop and the GIL."""
    # A copy, so a caller that reuses its list while the chart is drawn cannot change it.
    return await chart_pool.run(
        render_scales,
        title,
        list(bars),
        maximum=maximum,
        minimum=minimum,
        previous_label=previous_label,
        current_label=current_label,
        language=language,
    )


def _wrap(text: str, width: int, max_lines: int) -> str:
    """`text` on lines of at most `width` characters, cut with "…" after `max_lines`."""
    lines = textwrap.wrap(" ".join(text.split()), width, max_lines=max_lines, placeholder=" …")
    return "\n".join(lines)


def _number(value: float, language: str = "en") -> str:
    """A score as shown on the chart: one decimal, never "-0.0", as `language` writes it."""
    return format_number(value, language)


def _tick(value: float, language: str) -> str:
    """An axis tick: as short as it can be ("2", "2.5"), with the language's decimal mark."""
    text = f"{value:g}"
    return text.replace(".", ",") if language in DECIMAL_COMMA else text


# --- bar panels: the figures of /course_stats and /event_stats ---------------------------------

PANEL_LABEL_FONT = FontProperties(family=FONT_FAMILY, size=9)
PANEL_TITLE_FONT = FontProperties(family=FONT_FAMILY, size=11, weight="bold")


def two_lines(text: str, width: int = 32) -> str:
    """`text` on at most two lines of `width` characters."""
    return _wrap(text, width, 2)


def panel_figure(title: str, ratios: Sequence[int], height: float) -> tuple[Figure, Any]:
    """A figure titled `title` with one panel a row, `ratios` their heights; (figure, axes).

    No ratios gives one empty panel; `axes[i, 0]` is the i-th panel.
    """
    fig = Figure(
        figsize=(WIDTH_IN, height),
        dpi=DPI,
        facecolor="white",
        layout=ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.1),
    )
    FigureCanvasAgg(fig)
    fig.suptitle(
        two_lines(title, 60), fontproperties=_TITLE_FONT, color=TEXT_COLOR, parse_math=False
    )
    axes = fig.subplots(max(len(ratios), 1), 1, squeeze=False, height_ratios=list(ratios) or [1])
    return fig, axes


def bar_panel(
    ax: Any,
    names: list[str],
    limit: float,
    heading: str,
    *,
    integer: bool = False,
) -> None:
    """Names on the y axis (top first), a grid on the x axis up to `limit`, the panel's title.

    `integer`: whole numbers only on the x axis (counts of people).
    """
    ax.set_xlim(0, limit)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_yticks(
        list(range(len(names))),
        [two_lines(n) for n in names],
        fontproperties=PANEL_LABEL_FONT,
        color=TEXT_COLOR,
        parse_math=False,
    )
    if integer:
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(axis="y", length=0, pad=6)
    ax.tick_params(axis="x", labelsize=9, labelcolor=TEXT_COLOR, labelfontfamily=FONT_FAMILY)
    ax.xaxis.grid(True, color=GRID_COLOR, linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(heading, fontproperties=PANEL_TITLE_FONT, color=TEXT_COLOR, parse_math=False)


def paired_bars(
    ax: Any, first: Sequence[float], second: Sequence[float], labels: tuple[str, str]
) -> None:
    """Two bars a row (`first` pale above, `second` in colour below) with their legend."""
    places = range(len(first))
    ax.barh([i - 0.19 for i in places], list(first), height=0.36, color=PREVIOUS_COLOR, zorder=2)
    ax.barh([i + 0.19 for i in places], list(second), height=0.36, color=CURRENT_COLOR, zorder=2)
    legend = ax.legend(list(labels), loc="lower right", frameon=False, prop=PANEL_LABEL_FONT)
    for entry in legend.get_texts():
        entry.set_parse_math(False)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (no software stamp, so the same chart gives the same bytes)."""
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()
