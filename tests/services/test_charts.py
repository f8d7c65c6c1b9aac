"""Result charts: valid PNGs of sane size, Kazakh/Russian text without missing glyphs, pairs."""

from __future__ import annotations

import logging
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO

import matplotlib
import numpy as np
import pytest
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.image import imread

from bot.services import chart_pool, charts
from bot.services.charts import ScaleBar, render_scales, render_scales_async

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
KAZAKH_BARS = [
    ScaleBar("Кәсіби мотивация", 3.7, 3.1),
    ScaleBar("Өзін-өзі реттеу және жауапкершілік сезімі, ұйымдастырушылық", 4.2, 3.9),
    ScaleBar("Қарым-қатынас дағдылары", 2.8, 3.0),
    ScaleBar("Шығармашылық, һәм ғылыми ізденіс", 4.9, None),
]
RUSSIAN_BARS = [
    ScaleBar("Эмоциональное выгорание", 1.6),
    ScaleBar("Профессиональная идентичность и ценностные ориентации", 3.4),
    ScaleBar("Ёмкость рабочей памяти — щит, ъ, ы, э, ю, я", 2.2),
]


@pytest.fixture(autouse=True)
def _no_cached_frames():
    """Every test draws its frames anew: no test passes on pixels an earlier one drew."""
    charts._frames.clear()
    yield
    charts._frames.clear()


def _decode(png: bytes) -> np.ndarray:
    """The image as an (height, width, channels) float array."""
    return imread(BytesIO(png), format="png")


def _assert_png(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_SIGNATURE)
    assert 2_000 < len(png) < 300_000
    image = _decode(png)
    height, width = image.shape[:2]
    assert 900 <= width <= 1200
    assert 200 <= height <= 2_000
    return image


def _has_color(image: np.ndarray, hex_color: str) -> bool:
    """Whether some pixels have exactly this colour (bar interiors are flat, not antialiased)."""
    rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    close = np.all(np.abs(image[..., :3] - rgb) < 1.5 / 255, axis=-1)
    return int(close.sum()) > 100


def _render_capturing(caplog: pytest.LogCaptureFixture, *args, **kwargs):
    """Render, returning the PNG and every warning or matplotlib log message it raised."""
    caplog.clear()
    with (
        caplog.at_level(logging.WARNING, logger="matplotlib"),
        warnings.catch_warnings(record=True) as caught,
    ):
        # "always": a glyph warning already shown by an earlier test must be recorded again.
        warnings.simplefilter("always")
        png = render_scales(*args, **kwargs)
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    return png, messages


def _glyph_problems(messages: list[str]) -> list[str]:
    return [m for m in messages if "glyph" in m.lower() or "findfont" in m.lower()]


def test_bundled_font_has_every_kazakh_letter_and_the_arrow():
    path = findfont(FontProperties(family=charts.FONT_FAMILY), fallback_to_default=False)
    font = get_font(path)
    missing = [ch for ch in KAZAKH_LETTERS + "→…ЁёЪъ" if font.get_char_index(ord(ch)) == 0]
    assert missing == []


def test_kazakh_labels_with_previous_values_render_without_glyph_warnings(caplog):
    png, messages = _render_capturing(
        caplog,
        "Сіздің нәтижелеріңіз: толқын 1 → толқын 2",
        KAZAKH_BARS,
        maximum=5,
        minimum=1,
        previous_label="Бұрын",
        current_label="Қазір",
    )
    assert _glyph_problems(messages) == []
    image = _assert_png(png)
    assert _has_color(image, charts.CURRENT_COLOR)
    assert _has_color(image, charts.PREVIOUS_COLOR)


def test_russian_labels_without_previous_values_render_without_glyph_warnings(caplog):
    png, messages = _render_capturing(caplog, "Ваши результаты", RUSSIAN_BARS, maximum=5)
    assert _glyph_problems(messages) == []
    image = _assert_png(png)
    assert _has_color(image, charts.CURRENT_COLOR)
    # No "before" bars and no legend swatch without previous values.
    assert not _has_color(image, charts.PREVIOUS_COLOR)


def test_warning_capture_does_see_a_missing_glyph(caplog):
    # The control for the two tests above: DejaVu Sans has no CJK, so this must be reported.
    _, messages = _render_capturing(caplog, "Control", [ScaleBar("漢字", 1.0)])
    assert _glyph_problems(messages)


def test_one_bar_and_twelve_bars_fit_the_size_bounds_and_height_grows():
    one = _assert_png(render_scales("Нәтиже", [ScaleBar("Мотивация", 3.0)], maximum=5))
    twelve_bars = [ScaleBar(f"Шкала {i}: кәсіби құзыреттілік", i / 3, i / 4) for i in range(12)]
    twelve = _assert_png(render_scales("Нәтижелер", twelve_bars, maximum=5))
    assert one.shape[1] == twelve.shape[1]  # same width, so photos line up in the chat
    assert twelve.shape[0] > 3 * one.shape[0]


def test_paired_bars_take_more_room_than_single_ones():
    single = [ScaleBar(f"Шкала {i}", 3.0) for i in range(6)]
    paired = [ScaleBar(f"Шкала {i}", 3.0, 2.0) for i in range(6)]
    assert (
        _decode(render_scales("T", paired)).shape[0] > _decode(render_scales("T", single)).shape[0]
    )


def test_long_labels_wrap_into_taller_rows():
    short = [ScaleBar("Қысқа", 2.0)] * 5
    long = [ScaleBar("Өте ұзын шкала атауы, ол бірнеше жолға бөлінуі керек", 2.0)] * 5
    assert _decode(render_scales("T", long)).shape[0] > _decode(render_scales("T", short)).shape[0]
    assert charts._wrap(long[0].label, 28, 3).count("\n") == 1
    assert all(len(line) <= 28 for line in charts._wrap(long[0].label, 28, 3).splitlines())
    assert charts._wrap("сөз " * 40, 28, 3).endswith("…")


@pytest.mark.parametrize(
    ("bars", "minimum", "maximum"),
    [
        ([ScaleBar("Нөл", 0.0), ScaleBar("Тағы нөл", 0.0, 0.0)], 0.0, None),  # axis 0..1
        ([ScaleBar("Минимум", 1.0, 1.0), ScaleBar("Ең төмен", 1.0)], 1.0, 5.0),
        ([ScaleBar("Минимум", 1.0)], 1.0, None),  # axis 1..2
        ([ScaleBar("Төменнен тыс", -2.0, 7.0)], 0.0, 5.0),  # clipped on both sides
    ],
)
def test_values_at_or_beyond_the_axis_ends_render(bars, minimum, maximum):
    _assert_png(render_scales("Шеткі мәндер", bars, minimum=minimum, maximum=maximum))


def test_value_labels_show_numbers_and_pairs():
    assert charts._number(3.66) == "3.7"
    assert charts._number(-0.01) == "0.0"
    assert charts._number(12) == "12.0"


def test_dollar_signs_are_text_not_tex():
    # With math parsing on, "$x^$" is invalid TeX and the render would raise.
    _assert_png(render_scales("$x^$ title", [ScaleBar("cost $x^$ and $", 2.0, 1.0)]))


def test_global_style_changes_do_not_change_the_chart():
    expected = render_scales("Нәтижелер", KAZAKH_BARS, maximum=5)
    style = {
        "font.family": "serif",
        "font.size": 20,
        "figure.facecolor": "black",
        "axes.facecolor": "black",
        "savefig.facecolor": "black",
        "savefig.dpi": 50,
        "figure.dpi": 50,
        "text.parse_math": True,
    }
    charts._frames.clear()  # drawn anew under the style, not taken from the cache
    with matplotlib.rc_context(style):
        assert render_scales("Нәтижелер", KAZAKH_BARS, maximum=5) == expected


@pytest.mark.parametrize(
    ("bars", "kwargs"),
    [
        ([], {}),
        ([ScaleBar("x", 1.0)] * (charts.MAX_BARS + 1), {}),
        ([ScaleBar("x", float("nan"))], {}),
        ([ScaleBar("x", 1.0, float("inf"))], {}),
        ([ScaleBar("x", 1.0)], {"minimum": 5.0, "maximum": 5.0}),
        ([ScaleBar("x", 1.0)], {"maximum": float("nan")}),
    ],
)
def test_invalid_input_is_refused(bars, kwargs):
    with pytest.raises(ValueError):
        render_scales("T", bars, **kwargs)


def test_renders_in_parallel_threads_match_sequential_ones():
    inputs = [[ScaleBar(f"Шкала {i}", float(j), float(i)) for j in range(i + 1)] for i in range(6)]
    sequential = [render_scales(f"№{i}", bars, maximum=6) for i, bars in enumerate(inputs)]
    with ThreadPoolExecutor(6) as pool:
        parallel = list(
            pool.map(lambda i: render_scales(f"№{i}", inputs[i], maximum=6), range(len(inputs)))
        )
    assert parallel == sequential


async def test_async_variant_renders_the_same_png_in_a_worker_thread(monkeypatch):
    # CHART_WORKERS=0: in a thread, where a spy can watch (worker processes are tried with
    # real charts in test_chart_pool.py).
    chart_pool.configure(0)
    threads: list[int] = []
    original = charts.render_scales

    def spy(*args, **kwargs):
        threads.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(charts, "render_scales", spy)
    kwargs = {"maximum": 5.0, "minimum": 1.0, "previous_label": "Было", "current_label": "Стало"}
    png = await render_scales_async("Нәтижелер", KAZAKH_BARS, **kwargs)
    assert png == original("Нәтижелер", KAZAKH_BARS, **kwargs)
    assert threads and threads[0] != threading.get_ident()
    _assert_png(png)


def test_numbers_on_the_chart_are_written_as_the_language_writes_them():
    """A decimal comma in Kazakh and Russian ("3,7"), a point in English, one decimal.

    Tried: the chart labelled a Kazakh student's bars "3.7", unlike the result card.
    """
    assert charts._number(3.66, "kk") == "3,7" and charts._number(3.66, "ru") == "3,7"
    assert charts._number(3.66, "en") == "3.7" and charts._number(-0.01, "ru") == "0,0"
    assert charts._tick(2.5, "ru") == "2,5" and charts._tick(3.0, "kk") == "3"
    bars = [ScaleBar("Мотивация", 3.66, 2.33)]
    english = render_scales("T", bars, maximum=5)
    assert render_scales("T", bars, maximum=5, language="en") == english
    assert render_scales("T", bars, maximum=5, language="ru") != english


# --- layout: nothing clipped, sizes sensible, the cached frame draws what a whole draw does ----

# The widest label the wrapping lets through: three lines of 28 of the widest Cyrillic letter.
WIDEST_LABEL = "Щ" * 200
WIDE_CASES = {
    # Labels of the widest kind, values in range: drawn on a cached frame.
    "wide labels, cached frame": (
        [ScaleBar(WIDEST_LABEL, 4.96, 0.04), ScaleBar("Ш" * 28, 5.0, 5.0)],
        {"maximum": 5.0, "language": "ru"},
    ),
    # Value labels far wider than a score in range leaves room for: a figure of their own,
    # the widest scale labels too, so both margins are tight.
    "wide labels, wide values": (
        [
            ScaleBar(WIDEST_LABEL, 123456789.0, 987654321.0),
            ScaleBar("Өте ұзын шкала атауы, ол бірнеше жолға бөлінуі керек", 2.0),
            ScaleBar("Ш" * 28, 3.3, -98765.4),
        ],
        {"maximum": 5.0, "language": "kk"},
    ),
    # The axis fitted to the scores, values long and at its end.
    "no maximum": (
        [ScaleBar("Motivation", 1234567.8, 1234567.8), ScaleBar("x", 0.5)],
        {"language": "en"},
    ),
    # A one-letter label: the first x tick label, centred on the axis' start, sets the margin;
    # long tick labels ("-100000") at both ends.
    "tiny label, long ticks": (
        [ScaleBar("x", -100000.0), ScaleBar("y", 100000.0)],
        {"minimum": -100000.0, "maximum": 100000.0},
    ),
    # Three-line labels in the first and last of many rows, no title.
    "many rows, no title": (
        [ScaleBar(f"{i} " + "Ш" * 80, float(i % 6), None) for i in range(charts.MAX_BARS)],
        {"maximum": 5.0, "title": ""},
    ),
}


def _render_case(name: str, **extra):
    bars, kwargs = WIDE_CASES[name]
    kwargs = {"title": "Нәтижелер: " + "Ж" * 200, **kwargs, **extra}
    return bars, kwargs


@pytest.mark.parametrize("name", WIDE_CASES)
def test_no_text_reaches_the_image_edge(name):
    # Clipped text leaves ink on the outermost pixels: a band of 6 px (half the layout's
    # padding) along each edge must be pure white. The same chart twice: the second is drawn
    # on the cached frame (or again on a figure of its own).
    bars, kwargs = _render_case(name)
    for _ in range(2):
        image = _decode(render_scales(bars=bars, **kwargs))[..., :3]
        edges = {
            "left": image[:, :6],
            "right": image[:, -6:],
            "top": image[:6],
            "bottom": image[-6:],
        }
        inked = [side for side, pixels in edges.items() if (pixels < 1.0).any()]
        assert inked == []
        # The control: there is ink close to the edges, the band is not all of the margin.
        columns = np.nonzero((image < 0.9).any(axis=(0, 2)))[0]
        rows = np.nonzero((image < 0.9).any(axis=(1, 2)))[0]
        assert columns[0] < 20 and rows[0] < 20 and rows[-1] > image.shape[0] - 20


@pytest.mark.parametrize("name", WIDE_CASES)
def test_every_artist_is_laid_out_inside_the_padding(name):
    # The same check without pixels: the figure's tight bounding box (every text, tick and
    # bar as matplotlib measures them) keeps 0.1 in (12 px) from each edge of the image.
    bars, kwargs = _render_case(name)
    fig = charts.scales_figure(bars=bars, **kwargs)
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    width, height = fig.get_size_inches()
    pad = 0.1 - 0.5 / charts.DPI  # half a pixel of rounding
    assert box.x0 >= pad and box.y0 >= pad
    assert box.x1 <= width - pad and box.y1 <= height - pad
    # The control: the widest texts are laid out right against the padding.
    assert box.x0 < 0.15 and box.y1 > height - 0.15


def test_value_labels_can_run_past_the_axis_end():
    # What the room on the right is for: a pair at the axis' end is written past it.
    fig = charts.scales_figure("T", [ScaleBar("Мотивация", 5.0, 5.0)], maximum=5.0)
    renderer = fig.canvas.get_renderer()
    axes_end = fig.axes[0].get_window_extent(renderer).x1
    value = fig.axes[0].texts[0]
    assert value.get_text() == "5.0 → 5.0"
    assert value.get_window_extent(renderer).x1 > axes_end + 30


def test_image_sizes_stay_sensible():
    # Always 1020 px wide (photos line up in the chat), as tall as the rows need, small files.
    title, labels = (
        "Цифрлық оқыту технологиялары туралы не білемін",
        [
            "Кооперация (бірлесіп әрекет ету)",
            "Коммуникация",
            "Үйлестіру (координация)",
            "Шығармашылық (креативтілік)",
            "Цифрлық контент: іздеу және жасау",
            "Оқытуға арналған цифрлық платформалар",
            "Онлайн бағалау",
            "Цифрлық қауіпсіздік және этика",
            "Онлайн ынтымақтастық",
        ],
    )
    paired = render_scales(
        title, [ScaleBar(x, 3.7, 2.3) for x in labels], maximum=5.0, language="kk"
    )
    single = render_scales(title, [ScaleBar(x, 3.7) for x in labels], maximum=5.0)
    for png, tall in ((paired, (780, 900)), (single, (620, 740))):
        image = _assert_png(png)
        assert image.shape[1] == 1020
        assert tall[0] <= image.shape[0] <= tall[1]
        assert image.shape[2] == 3  # RGB: no alpha channel to carry
        assert len(png) < 120_000
    # The largest chart there can be: MAX_BARS pairs of three-line labels, a two-line title;
    # far inside Telegram's photo limits (width + height <= 10000 px).
    largest = [ScaleBar("Ш" * 80, i / 6, 5 - i / 6) for i in range(charts.MAX_BARS)]
    png = render_scales("Ж" * 200, largest, maximum=5.0)
    height, width = _decode(png).shape[:2]
    assert width == 1020 and height < 3_000
    assert len(png) < 300_000


@pytest.mark.parametrize("title", ["Нәтижелер", "Нәтижелер: " + "Ж" * 200])
def test_title_legend_axes_and_labels_do_not_overlap(title):
    fig = charts.scales_figure(title, KAZAKH_BARS, maximum=5.0, current_label="Қазір")
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    (suptitle,) = fig.texts
    heading = suptitle.get_window_extent(renderer)
    legend = ax.get_legend().get_window_extent(renderer)
    axes = ax.get_window_extent(renderer)
    assert heading.y0 >= legend.y1 + 12  # a gap under the title
    assert legend.y0 >= axes.y1  # the legend above the bars
    # Scale labels left of the axes, x tick labels under it.
    for label in ax.get_yticklabels():
        assert label.get_window_extent(renderer).x1 < axes.x0
    for label in ax.get_xticklabels():
        assert label.get_window_extent(renderer).y1 < axes.y0


@pytest.mark.parametrize("paired", [False, True])
def test_the_cached_frame_draws_the_same_bytes_as_the_whole_figure(paired, monkeypatch):
    # The frame is drawn once and each chart draws only its bars, axis lines and values on a
    # copy: that must give exactly the pixels of drawing the whole figure, for every student
    # (a bar without a previous score among pairs too).
    scores = [(3.7, 2.0), (1.0, 5.0), (4.95, None), (0.0, 0.0), (5.0, 4.96)]
    students = [
        [
            # The first scale always paired, so every student's chart is a paired one.
            ScaleBar(label, value, (previous if i else 2.5) if paired else None)
            for i, label in enumerate(KAZAKH_LABELS)
        ]
        for value, previous in scores
    ]
    kwargs = {"maximum": 5.0, "minimum": 0.0, "language": "kk"}
    kwargs |= {"previous_label": "Бұрын", "current_label": "Қазір"}
    blits = []
    blit_png = charts._Chart.blit_png
    monkeypatch.setattr(charts._Chart, "blit_png", lambda self: blits.append(1) or blit_png(self))
    for bars in students:
        cached = render_scales("Нәтижелер", bars, **kwargs)
        assert cached == charts.png(charts.scales_figure("Нәтижелер", bars, **kwargs))
    # Every student's chart above was drawn on the one cached frame.
    assert len(charts._frames) == 1 and len(blits) == len(students)


def test_only_charts_with_a_given_axis_are_cached_and_only_a_few():
    render_scales("T", [ScaleBar("x", 1.0)])  # axis fitted to the score: nothing to reuse
    assert len(charts._frames) == 0
    for i in range(charts.FRAME_CACHE_SIZE + 3):
        render_scales(f"Survey {i}", [ScaleBar("x", 1.0)], maximum=5.0)
    assert len(charts._frames) == charts.FRAME_CACHE_SIZE


KAZAKH_LABELS = [b.label for b in KAZAKH_BARS]
