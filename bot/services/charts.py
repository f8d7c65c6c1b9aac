"""Personal-results charts: scale scores (optionally before/after a wave) rendered as PNG bytes.

Rendering uses matplotlib's object-oriented API only (`Figure` + `FigureCanvasAgg`), never
`pyplot`: pyplot keeps global state (current figure, figure manager registry) that is not
thread-safe, and a chart may be drawn in a thread (`CHART_WORKERS=0`). A `Figure` built this
way belongs to nobody, so it is freed as soon as it goes out of scope; no `close()`
bookkeeping is needed. The bot draws its charts through `chart_pool`, in worker processes.

A results chart is cheap to draw: laid out by measuring its texts once (no layout engine),
encoded without Pillow's filter search, and drawn on a cached frame (`_frame_for`): a lecture
hall's students get the same title, labels and axis, drawn once per process; each chart
only adds its bars and values (about 25 ms of CPU instead of 150-200 ms).

Nothing here reads or changes `matplotlib.rcParams`: every font and colour is passed
explicitly, so another module tweaking the global style cannot break Cyrillic rendering or
change the charts students see.
"""

from __future__ import annotations

import math
import struct
import textwrap
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

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
_TICK_FONT = FontProperties(family=FONT_FAMILY, size=9)

# The results chart's layout (`_Chart._lay_out`): texts keep PAD_IN from the image's edges (as the
# constrained layout's padding did); the rest are the gaps between the pieces.
PAD_IN = 0.1
TITLE_GAP_IN = 0.2
LEGEND_GAP_PT = 5.0
VALUE_OFFSET_PT = 4.0
Y_TICK_PAD_PT = 6.0
X_TICK_LENGTH_PT = 3.5
X_TICK_PAD_PT = 3.5
MIN_AXES_FRACTION = 0.1

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_COMPRESS_LEVEL = 3


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

    A chart with a given `maximum` is drawn on a cached frame (`_frame_for`): the title, the
    labels, the legend and the axis are drawn once per survey, language and axis; each
    student's chart only adds its bars and values to a copy of those pixels. The bytes are
    the same as when the whole figure is drawn (`scales_figure`).
    """
    frame = _Frame.of(title, bars, maximum, minimum, previous_label, current_label, language)
    if maximum is not None:
        chart = _frame_for(frame)
        with chart.lock:
            if chart.fits(chart.fill(bars)):
                return chart.blit_png()
    # An axis fitted to this student's scores, or value labels wider than the frame leaves
    # room for: a figure of its own.
    return png(_Chart(frame, bars).fig)


def scales_figure(
    title: str,
    bars: list[ScaleBar],
    *,
    maximum: float | None = None,
    minimum: float = 0.0,
    previous_label: str = "before",
    current_label: str = "now",
    language: str = "en",
) -> Figure:
    """The figure `render_scales` draws, laid out, not drawn yet (same arguments, same errors)."""
    frame = _Frame.of(title, bars, maximum, minimum, previous_label, current_label, language)
    return _Chart(frame, bars).fig


@dataclass(frozen=True, slots=True)
class _Frame:
    """What a results chart shows apart from the scores: the key of a cached frame."""

    title: str  # on one line; `_Chart` wraps it to the width it has
    labels: tuple[str, ...]  # wrapped
    paired: bool
    minimum: float
    maximum: float
    previous_label: str
    current_label: str
    language: str

    @classmethod
    def of(
        cls,
        title: str,
        bars: list[ScaleBar],
        maximum: float | None,
        minimum: float,
        previous_label: str,
        current_label: str,
        language: str,
    ) -> _Frame:
        """The frame of `render_scales`' arguments; ValueError for what cannot be drawn."""
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
        return cls(
            title=" ".join(title.split()),
            labels=tuple(_wrap(b.label, LABEL_WRAP, LABEL_MAX_LINES) for b in bars),
            paired=any(b.previous is not None for b in bars),
            minimum=float(minimum),
            maximum=float(maximum),
            previous_label=previous_label,
            current_label=current_label,
            language=language,
        )

    def span(self, score: float) -> float:
        """The length of a bar: bars start at `minimum`, out-of-range scores stop at an end."""
        return min(max(score, self.minimum), self.maximum) - self.minimum


class _Chart:
    """A results chart's figure, laid out; `fill` sets its bars and values to a student's.

    One bar a row (two when paired) and one value label, over the frame.

    Layout without a layout engine (a constrained layout drew the whole figure once more at
    every save, only to find the same margins): the texts are measured once with the
    figure's own renderer, which caches their metrics for the draw, and the axes placed in
    figure fractions so that every text stays `PAD_IN` inside the image. The widest scale
    label sets the left margin; the value labels, which start just past their bar's end and
    may run past the axis, set the axes' width (with room for a label at the axis' end in
    any case, so one frame fits every student's scores in range); the title and the legend
    set the top margin, the x tick labels the bottom one.
    """

    def __init__(self, frame: _Frame, bars: list[ScaleBar] | None = None) -> None:
        self.frame = frame
        self.lock = threading.Lock()
        self._background: Any = None  # the frame's pixels, once `blit_png` drew them
        self._moving: list[Any] = []  # what `blit_png` draws on them, in order
        paired, count = frame.paired, len(frame.labels)
        title = _wrap(frame.title, TITLE_WRAP, 2)
        label_lines = max(label.count("\n") + 1 for label in frame.labels)

        def height_in(title: str) -> float:
            # Every row gets the same height, enough for the tallest wrapped label and for
            # the bars; the fixed part holds the title, the legend and the x-axis.
            title_lines = title.count("\n") + 1 if title else 0
            row_in = max(0.62 if paired else 0.42, 0.19 * label_lines + 0.14)
            fixed_in = 0.75 + 0.28 * title_lines + (0.35 if paired else 0.0)
            # Whole pixels, so the figure fractions of the layout land on whole pixels.
            return round(max(2.2, fixed_in + row_in * count) * DPI) / DPI

        self.fig = fig = Figure(figsize=(WIDTH_IN, height_in(title)), dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(fig)
        self._heading = None
        if title:
            self._heading = fig.suptitle(
                title, fontproperties=_TITLE_FONT, color=TEXT_COLOR, parse_math=False, va="top"
            )
            # Sixty wide letters ("Ж") run past the image's edges: wrapped narrower then.
            fitted = _fit_title(self._heading, frame.title, self.canvas.get_renderer())
            if fitted.count("\n") != title.count("\n"):
                fig.set_size_inches(WIDTH_IN, height_in(fitted))
        self.ax = ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_facecolor("white")

        rows = range(count)
        thickness = 0.36 if paired else 0.6
        self._offset = offset = 0.19 if paired else 0.0
        # Bars of zero length for now (`fill` sets them); a missing "before" bar is hidden,
        # keeping its slot empty so every "now" bar stays in line.
        current = ax.barh(
            [i + offset for i in rows],
            [0.0] * count,
            height=thickness,
            left=frame.minimum,
            color=CURRENT_COLOR,
            label=frame.current_label,
            zorder=2,
        )
        self._current = list(current)
        handles = [current]
        self._previous = []
        if paired:
            previous = ax.barh(
                [i - offset for i in rows],
                [0.0] * count,
                height=thickness,
                left=frame.minimum,
                color=PREVIOUS_COLOR,
                label=frame.previous_label,
                zorder=2,
            )
            self._previous = list(previous)
            handles = [previous, current]
        # Offset in points, not data units, so the gap looks the same on every scale range.
        self._values = [
            ax.annotate(
                "",
                xy=(frame.minimum, i),
                xytext=(VALUE_OFFSET_PT, 0),
                textcoords="offset points",
                va="center",
                ha="left",
                color=TEXT_COLOR,
                fontproperties=_VALUE_FONT,
                annotation_clip=False,
                parse_math=False,
            )
            for i in rows
        ]

        ax.set_xlim(frame.minimum, frame.maximum)
        ax.set_ylim(count - 0.5, -0.5)  # inverted: the first scale reads first, at the top
        # parse_math=False everywhere: a "$" in a scale title must not be read as TeX markup.
        ax.set_yticks(
            list(rows), frame.labels, fontproperties=_FONT, color=TEXT_COLOR, parse_math=False
        )
        ax.tick_params(axis="y", length=0, pad=Y_TICK_PAD_PT)
        # Tick sizes given, not taken from rcParams: the layout counts on them.
        ax.tick_params(
            axis="x",
            length=X_TICK_LENGTH_PT,
            width=0.8,
            pad=X_TICK_PAD_PT,
            labelcolor=TEXT_COLOR,
        )
        ax.xaxis.grid(True, color=GRID_COLOR, linewidth=0.8, zorder=0)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)

        self._legend = None
        if paired:
            # Anchored to the axes, above them; the layout leaves room for it under the title.
            self._legend = ax.legend(
                handles=handles,
                loc="lower center",
                bbox_to_anchor=(0.5, 1.0),
                borderaxespad=LEGEND_GAP_PT / _FONT.get_size_in_points(),
                ncols=2,
                frameon=False,
                prop=_FONT,
            )
            for entry in self._legend.get_texts():
                entry.set_parse_math(False)

        self.renderer = self.canvas.get_renderer()
        self._lay_out(self.fill(bars) if bars is not None else [])

    def fill(self, bars: list[ScaleBar]) -> list[tuple[float, float]]:
        """Set the bars and value labels to `bars` (the frame's rows, in order).

        Returns each value label's (fraction of the axis where it starts, pixels it reaches
        past that point), for `fits`.
        """
        frame = self.frame
        axis = frame.maximum - frame.minimum
        reaches = []
        for i, bar in enumerate(bars):
            end = frame.span(bar.value)
            self._current[i].set_width(end)
            text = _number(bar.value, frame.language)
            # A lone "now" bar is labelled on its own line; a pair between its two bars.
            y = i + self._offset
            if self._previous:
                self._previous[i].set_visible(bar.previous is not None)
                if bar.previous is not None:
                    before = frame.span(bar.previous)
                    self._previous[i].set_width(before)
                    text = f"{_number(bar.previous, frame.language)} → {text}"
                    end = max(end, before)
                    y = i
            label = self._values[i]
            label.set_text(text)
            label.xy = (frame.minimum + end, y)
            reach = VALUE_OFFSET_PT * DPI / 72 + label.get_window_extent(self.renderer).width
            reaches.append((end / axis, reach))
        return reaches

    def fits(self, reaches: list[tuple[float, float]]) -> bool:
        """Whether value labels with these `reaches` (see `fill`) end inside the figure."""
        room = self.fig.bbox.width - PAD_IN * DPI - self._left
        return all(f * self._width + reach <= room + 1e-6 for f, reach in reaches)

    def _lay_out(self, reaches: list[tuple[float, float]]) -> None:
        fig, ax, frame, renderer = self.fig, self.ax, self.frame, self.renderer
        fig_w, fig_h = fig.bbox.width, fig.bbox.height
        px = DPI / 72  # pixels a point
        pad = PAD_IN * DPI

        # Top: the title against the top edge, then a gap, then the legend on the axes.
        top = pad
        if self._heading is not None:
            self._heading.set_y(1.0 - pad / fig_h)
            top += self._heading.get_window_extent(renderer).height + TITLE_GAP_IN * DPI
        if self._legend is not None:
            top += self._legend.get_window_extent(renderer).height + LEGEND_GAP_PT * px
        labels = ax.yaxis.get_majorticklabels()
        left = pad + max(t.get_window_extent(renderer).width for t in labels)
        left += Y_TICK_PAD_PT * px

        # A label at the axis' end, as wide as the widest label of a score in range.
        probe = self._values[0]
        kept = probe.get_text()
        widest = 0.0
        for end in (frame.minimum, frame.maximum):
            text = _number(end, frame.language)
            probe.set_text(f"{text} → {text}" if frame.paired else text)
            widest = max(widest, probe.get_window_extent(renderer).width)
        probe.set_text(kept)
        reaches = [*reaches, (1.0, VALUE_OFFSET_PT * px + widest)]

        def fit_width(left: float, reaches: list[tuple[float, float]]) -> float:
            # Each (fraction of the axis, pixels past that point) must end `pad` inside.
            room = fig_w - pad - left
            width = room
            for fraction, reach in reaches:
                if fraction > 0:
                    width = min(width, (room - reach) / fraction)
            # Absurdly long value labels would squeeze the bars away: they may be cut instead.
            return max(width, MIN_AXES_FRACTION * fig_w)

        width = fit_width(left, reaches)
        # The x ticks an AutoLocator would choose for this width, fixed now so that their
        # labels can be measured: the outer ones are centred on the axes' ends.
        nbins = int(np.clip(width / px // (3 * _TICK_FONT.get_size_in_points()), 1, 9))
        axis = frame.maximum - frame.minimum
        ticks = [
            t
            for t in MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(
                frame.minimum, frame.maximum
            )
            if frame.minimum - 1e-9 * axis <= t <= frame.maximum + 1e-9 * axis
        ]
        ax.set_xticks(ticks, [_tick(t, frame.language) for t in ticks], fontproperties=_TICK_FONT)
        boxes = [t.get_window_extent(renderer) for t in ax.xaxis.get_majorticklabels()]
        tick_h = 0.0
        if boxes:
            left = max(left, pad + boxes[0].width / 2)
            width = fit_width(left, [*reaches, (1.0, boxes[-1].width / 2)])
            tick_h = max(b.height for b in boxes)
        bottom = pad + (X_TICK_LENGTH_PT + X_TICK_PAD_PT) * px + tick_h
        ax.set_position(
            (left / fig_w, bottom / fig_h, width / fig_w, 1.0 - (top + bottom) / fig_h)
        )
        self._width, self._left = width, left

    def blit_png(self) -> bytes:
        """The PNG, drawing only the bars, the axis lines and the values on the frame.

        The frame (everything else) is drawn once, at the first call. The result is the
        same pixels as a whole draw: the bars, spines and values are drawn in the order a
        whole draw would draw them, over exactly what it would have drawn beneath them.
        """
        ax, canvas = self.ax, self.canvas
        if self._background is None:
            moving = [*self._current, *self._previous, ax.spines["left"], ax.spines["bottom"]]
            moving += self._values
            # As the axes draws its children: by zorder, then in the order they were added.
            order = {id(artist): i for i, artist in enumerate(ax.get_children())}
            self._moving = sorted(moving, key=lambda a: (a.get_zorder(), order[id(a)]))
            for artist in moving:
                artist.set_animated(True)  # left out of canvas.draw()
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in self._moving:
            ax.draw_artist(artist)
        return encode_png(np.asarray(canvas.buffer_rgba())[..., :3])


def _fit_title(heading: Text, title: str, renderer: Any) -> str:
    """Wrap `heading` to `title` on lines narrow enough for the image; the text it shows."""
    room = WIDTH_IN * DPI - 2 * PAD_IN * DPI
    chars = TITLE_WRAP
    while chars > 10 and (width := heading.get_window_extent(renderer).width) > room:
        chars = min(chars - 1, int(chars * room / width))
        heading.set_text(_wrap(title, chars, 2))
    return heading.get_text()


# Frames of the last few kinds of chart drawn in this process (a lecture hall submits one
# survey in two or three languages); each holds two images' pixels (about 7 MB for 9 scales).
FRAME_CACHE_SIZE = 4
_frames: OrderedDict[_Frame, _Chart] = OrderedDict()
_frames_lock = threading.Lock()


def _frame_for(frame: _Frame) -> _Chart:
    """The cached chart of `frame`, laid out for any scores in range; made at the first use."""
    with _frames_lock:
        chart = _frames.pop(frame, None)
        if chart is None:
            chart = _Chart(frame)
        _frames[frame] = chart
        while len(_frames) > FRAME_CACHE_SIZE:
            _frames.popitem(last=False)
        return chart


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
    """The figure as PNG bytes, drawn once on a white face at its own dpi (all ours use `DPI`).

    No metadata, so the same chart gives the same bytes. The image is encoded here, not by
    `savefig`: Pillow tries five PNG filters on every row and compresses harder than a chart
    sent once needs; that took a quarter of a chart's CPU.
    """
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(fig)
    fig.set_facecolor("white")  # opaque: every pixel ends up opaque, so no alpha is kept
    canvas.draw()
    return encode_png(np.asarray(canvas.buffer_rgba())[..., :3])


def encode_png(rgb: np.ndarray) -> bytes:
    """An (height, width, 3) uint8 array as an 8-bit RGB PNG: no filter, fast zlib level.

    Charts are flat colour and white: unfiltered rows at level 3 come out about as small as
    Pillow's default (adaptive filters, level 6) at a fifth of its CPU.
    """
    height, width, _ = rgb.shape
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "None" on every row
    rows[:, 1:] = rgb.reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return b"".join(
        (
            PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_COMPRESS_LEVEL)),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
