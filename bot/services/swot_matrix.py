"""The SWOT matrix (issue 17, item 5): the points that recur most, in a 2×2 matrix.

From the answers of a SWOT instrument (text questions coded `strengths`, `weaknesses`,
`opportunities`, `threats`; each line of an answer is one point, `exports.swot.entries`),
for the consortium and for each university.

How points are grouped — a simple normalisation, stated so a reader can check it:

1. Unicode NFKC, then case-folded (`Интернет` = `интернет`), `ё` read as `е`;
2. every character that is not a letter or a digit becomes a space (punctuation, quotes,
   dashes, emoji), and runs of spaces become one;
3. a point with nothing left is dropped.

Two points with the same normalised text are the same point; the wording shown is the one
written most often (the earliest of equally frequent ones). Nothing is stemmed or translated:
"slow internet" and "медленный интернет" stay two points, which keeps the grouping honest and
explainable. A point counts once per participant (someone repeating a line counts once).

The matrix lists, per quadrant, the `TOP` points by the number of participants who wrote them
(ties by wording), each with its count and the universities it came from. Tables go into the
analysis workbook; the picture is a 2×2 PNG (S and W on top, O and T below).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

QUADRANTS = ("strengths", "weaknesses", "opportunities", "threats")
TOP = 8
_NOT_WORD = re.compile(r"[^\w]+|_+")


def normalise(point: str) -> str:
    """The grouping key of a point (see the module docstring)."""
    text = unicodedata.normalize("NFKC", point).casefold().replace("ё", "е")
    return " ".join(_NOT_WORD.sub(" ", text).split())


@dataclass(frozen=True)
class Point:
    """One point as written: its quadrant, who wrote it (pseudonymous) and their university."""

    quadrant: str
    participant: str
    university: str | None
    text: str


def _most_written(counts: Counter[str], first: dict[str, int]) -> str:
    """The wording written most often; the earliest of equally frequent ones."""
    return min(counts, key=lambda wording: (-counts[wording], first[wording]))


def matrix(points: Iterable[Point], *, top: int = TOP) -> pd.DataFrame:
    """The recurring points per quadrant: quadrant, rank, point, count, share, universities.

    `count` is the participants who wrote the point; `share` is that over the participants
    with at least one point in the quadrant; `universities` lists each university with its
    count, most first ("dulaty 3, kaznpu 1").
    """
    writers: dict[str, set[str]] = defaultdict(set)
    who: dict[tuple[str, str], set[str]] = defaultdict(set)
    wording: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    first_seen: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    where: dict[tuple[str, str], dict[str, str | None]] = defaultdict(dict)
    for order, point in enumerate(points):
        key = normalise(point.text)
        if not key or point.quadrant not in QUADRANTS:
            continue
        group = (point.quadrant, key)
        writers[point.quadrant].add(point.participant)
        who[group].add(point.participant)
        wording[group][point.text.strip()] += 1
        first_seen[group].setdefault(point.text.strip(), order)
        where[group].setdefault(point.participant, point.university)
    rows = []
    for quadrant in QUADRANTS:
        groups = [g for g in who if g[0] == quadrant]
        shown = {g: _most_written(wording[g], first_seen[g]) for g in groups}
        ranked = sorted(groups, key=lambda g: (-len(who[g]), shown[g].casefold()))
        for rank, group in enumerate(ranked[:top], 1):
            per_university = Counter(u or "—" for u in where[group].values())
            rows.append(
                {
                    "quadrant": quadrant,
                    "rank": rank,
                    "point": shown[group],
                    "count": len(who[group]),
                    "share": len(who[group]) / len(writers[quadrant]),
                    "universities": ", ".join(
                        f"{u} {n}"
                        for u, n in sorted(per_university.items(), key=lambda i: (-i[1], i[0]))
                    ),
                }
            )
    return pd.DataFrame(
        rows, columns=["quadrant", "rank", "point", "count", "share", "universities"]
    )


def by_university(points: list[Point], *, top: int = TOP) -> dict[str, pd.DataFrame]:
    """The matrix of each university (people without one under "—")."""
    grouped: dict[str, list[Point]] = defaultdict(list)
    for point in points:
        grouped[point.university or "—"].append(point)
    return {university: matrix(grouped[university], top=top) for university in sorted(grouped)}


def matrix_image(
    table: pd.DataFrame, title: str, headings: Mapping[str, str], *, empty_text: str = "—"
) -> bytes:
    """The 2×2 matrix as PNG bytes: each quadrant's points with their counts."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - heavy
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.font_manager import FontProperties  # noqa: PLC0415

    from bot.services.analysis_charts import _png, _wrap  # noqa: PLC0415
    from bot.services.charts import DPI, FONT_FAMILY, TEXT_COLOR  # noqa: PLC0415

    colours = {
        "strengths": "#E3F2E1",
        "weaknesses": "#FBE3E1",
        "opportunities": "#E1ECF7",
        "threats": "#FFF1D6",
    }
    fig = Figure(figsize=(11, 8), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    heading_font = FontProperties(family=FONT_FAMILY, size=13, weight="bold")
    point_font = FontProperties(family=FONT_FAMILY, size=10)
    fig.suptitle(
        _wrap(title, 90, 2),
        fontproperties=FontProperties(family=FONT_FAMILY, size=14, weight="bold"),
        color=TEXT_COLOR,
        parse_math=False,
    )
    for i, quadrant in enumerate(QUADRANTS):
        ax = fig.add_axes((0.02 + 0.49 * (i % 2), 0.48 - 0.46 * (i // 2), 0.47, 0.42))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor(colours[quadrant])
        ax.text(
            0.03,
            0.95,
            headings.get(quadrant, quadrant),
            va="top",
            fontproperties=heading_font,
            color=TEXT_COLOR,
            transform=ax.transAxes,
            parse_math=False,
        )
        rows = table[table["quadrant"] == quadrant]
        lines = [
            f"{int(row['count'])} × {_wrap(str(row['point']), 60, 1)}"
            for _, row in rows.iterrows()
        ] or [empty_text]
        ax.text(
            0.03,
            0.82,
            "\n".join(lines),
            va="top",
            fontproperties=point_font,
            color=TEXT_COLOR,
            transform=ax.transAxes,
            linespacing=1.5,
            parse_math=False,
        )
    return _png(fig)
