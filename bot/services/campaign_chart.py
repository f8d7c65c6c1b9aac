"""The chart of a campaign as it runs: responses per day, and completion by university.

Drawn like the other charts (object-oriented matplotlib, fonts and colours passed explicitly,
bytes that depend only on the inputs). Top: the bars are the submissions of each day, the lines
the running totals of people who started and who submitted. Bottom: each university's share of
its participants who submitted, with "submitted of participants" written at the bar's end.
"""

from __future__ import annotations

from collections.abc import Mapping

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine

from bot.services.analysis_charts import _png, _wrap
from bot.services.campaign_progress import Progress
from bot.services.charts import (
    CURRENT_COLOR,
    DPI,
    FONT_FAMILY,
    GRID_COLOR,
    PREVIOUS_COLOR,
    TEXT_COLOR,
    WIDTH_IN,
)

MAX_UNIVERSITIES = 30


def progress_chart(progress: Progress, labels: Mapping[str, str], language: str) -> bytes:
    """PNG bytes of a campaign's progress.

    `labels`: title, per_day, started, submitted, completion, in the reader's language.
    """
    font = FontProperties(family=FONT_FAMILY, size=9)
    title_font = FontProperties(family=FONT_FAMILY, size=13, weight="bold")
    universities = progress.by_university[:MAX_UNIVERSITIES]
    height = 4.2 + 0.35 * max(len(universities), 1)
    layout = ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.12)
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, facecolor="white", layout=layout)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(
        2, 1, gridspec_kw={"height_ratios": [3, max(len(universities), 1) * 0.35 + 0.6]}
    )
    x = list(range(len(progress.days)))
    top.bar(
        x,
        [d.submitted for d in progress.days],
        color=CURRENT_COLOR,
        alpha=0.35,
        label=labels["per_day"],
    )
    top.plot(
        x,
        [d.started_total for d in progress.days],
        color=PREVIOUS_COLOR,
        linewidth=2,
        label=labels["started"],
    )
    top.plot(
        x,
        [d.submitted_total for d in progress.days],
        color=CURRENT_COLOR,
        linewidth=2,
        label=labels["submitted"],
    )
    step = max(1, len(x) // 10)
    top.set_xticks(
        x[::step],
        labels=[d.day.strftime("%d.%m") for d in progress.days][::step],
        fontproperties=font,
        color=TEXT_COLOR,
    )
    top.grid(axis="y", color=GRID_COLOR)
    top.set_axisbelow(True)
    top.legend(prop=font, frameon=False, loc="upper left")
    for side in ("top", "right"):
        top.spines[side].set_visible(False)
        bottom.spines[side].set_visible(False)
    names = [u.university.get(language) or u.university["en"] for u in universities]
    rates = [u.rate for u in universities]
    y = list(range(len(universities)))[::-1]
    bottom.barh(y, rates, color=CURRENT_COLOR)
    for yi, university in zip(y, universities, strict=True):
        bottom.text(
            min(university.rate, 100) + 1,
            yi,
            f"{university.submitted} / {university.audience}",
            va="center",
            fontproperties=font,
            color=TEXT_COLOR,
        )
    bottom.set_xlim(0, 115)
    bottom.set_yticks(
        y, labels=[_wrap(n, 34, 1) for n in names], fontproperties=font, color=TEXT_COLOR
    )
    bottom.set_xlabel(labels["completion"], fontproperties=font, color=TEXT_COLOR)
    bottom.grid(axis="x", color=GRID_COLOR)
    bottom.set_axisbelow(True)
    fig.suptitle(
        _wrap(labels["title"], 70, 2),
        fontproperties=title_font,
        color=TEXT_COLOR,
        parse_math=False,
    )
    return _png(fig)
