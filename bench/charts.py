"""CPU per results chart: `charts.render_scales` as a student's Submit draws it.

Renders the chart of the default pre survey (content/dlt_pre.yaml: nine scales, their titles
in one language, a 1..5 axis) in this process, N times after a warm-up, each time with other
scores, and prints the CPU milliseconds per chart (time.process_time), median and least, for
the single version and for the before/now pairs, with the size of the PNG.

Two cases: "same survey" is a lecture hall, every chart of the same survey and language; in
"new title" every chart has a title of its own, so nothing drawn for an earlier chart can be
reused (the first chart of a survey in a worker, or a chart that cannot use a cached frame).
Small and quick: no bot process, no worker pool.

    .venv/bin/python bench/charts.py --runs 30 --language kk
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.services.charts import ScaleBar, render_scales  # noqa: E402

PACK = ROOT / "content" / "dlt_pre.yaml"


def pre_survey(language: str) -> tuple[str, list[str]]:
    """The default pre survey's title and scale titles in `language`."""
    pack = yaml.safe_load(PACK.read_text(encoding="utf-8"))
    return pack["title"][language], [s["title"][language] for s in pack["scales"]]


def scores(rng: random.Random, labels: list[str], paired: bool) -> list[ScaleBar]:
    """A student's result: means of three 1..5 answers, with the pre wave's when `paired`."""

    def mean() -> float:
        return sum(rng.randint(1, 5) for _ in range(3)) / 3

    return [ScaleBar(label, mean(), mean() if paired else None) for label in labels]


def measure(
    title: str, labels: list[str], paired: bool, runs: int, language: str, new_title: bool
) -> tuple[float, float, int]:
    """Median and least CPU ms a chart over `runs` (after 3 warm-ups), and the last PNG's size."""
    rng = random.Random(1)
    times = []
    png = b""
    for run in range(runs + 3):
        bars = scores(rng, labels, paired)
        name = f"{title} {run}" if new_title else title
        start = time.process_time()
        png = render_scales(
            name,
            bars,
            maximum=5.0,
            previous_label="Курс басы",
            current_label="Курс соңы",
            language=language,
        )
        if run >= 3:
            times.append((time.process_time() - start) * 1000)
    return statistics.median(times), min(times), len(png)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--language", choices=["kk", "ru", "en"], default="kk")
    args = parser.parse_args()

    title, labels = pre_survey(args.language)
    for new_title in (False, True):
        for paired in (False, True):
            median, least, size = measure(
                title, labels, paired, args.runs, args.language, new_title
            )
            case = "new title" if new_title else "same survey"
            kind = "paired" if paired else "single"
            print(
                f"{case:11s} {kind} ({len(labels)} bars): {median:6.1f} ms CPU a chart"
                f" (median; least {least:.1f}), PNG {size / 1000:.0f} kB"
            )


if __name__ == "__main__":
    main()
