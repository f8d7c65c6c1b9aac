"""Scores and levels: per scale (sum or mean of its items) and, for tests, overall.

Item values:
- Likert: the point, reversed (`points + 1 - value`) for reverse-scored items;
- single choice in a test: the question's points (or the option's own) when a correct option
  is chosen, else 0; in a survey, the option's `value` if it has one;
- multiple choice in a test: partial credit, as Moodle's multi-answer questions give it:
  `points * max(0, (correct ticked - wrong ticked) / correct options)`;
- number: the number.
Skipped items and items hidden by a condition count for nothing, not as zero. Levels are
bands `[min, max)`, the last one including its `max`.

Scores are kept at full precision (sums with `math.fsum`, never rounded): they are stored,
exported and analysed as they are, and only rounded where a person reads them. A level is
chosen on the score rounded to `LEVEL_DECIMALS`, so binary floating point (0.7 + 0.1 + 0.1 +
0.1 held as 0.99999999999999989) cannot drop a score on a band's edge into the band below.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.content.engine import Compiled, Item
from bot.content.schema import Level, Scale

# Far below any difference a level table draws, far above floating-point noise.
LEVEL_DECIMALS = 9


@dataclass(frozen=True)
class ScaleScore:
    """One scale's score and level."""

    code: str
    value: float | None  # None: no item of the scale was answered
    items: int  # how many items counted
    level: str | None


@dataclass(frozen=True)
class ScoreResult:
    """Everything computed from one finished attempt."""

    scales: dict[str, ScaleScore] = field(default_factory=dict)
    points: float | None = None  # tests only
    max_points: float | None = None
    percent: float | None = None
    level: str | None = None  # overall level (tests)


def level_for(levels: list[Level], value: float | None) -> str | None:
    """The level whose band holds `value`."""
    if value is None or not levels:
        return None
    value = round(value, LEVEL_DECIMALS)
    ordered = sorted(levels, key=lambda level: level.min)
    for level in ordered:
        if level.min <= value < level.max:
            return level.code
    last = ordered[-1]
    return last.code if value == last.max else None


def item_value(item: Item, answer: Any, is_test: bool) -> float | None:
    """The numeric contribution of one answer to its scale (None: it does not count)."""
    if answer is None:
        return None
    if item.kind == "likert" and item.likert is not None:
        return float(item.likert.points + 1 - answer if item.reverse else answer)
    if item.kind == "number":
        return float(answer)
    if item.kind == "single":
        option = item.option(answer)
        if option is None:
            return None
        if is_test:
            return (
                (option.points if option.points is not None else item.points)
                if (option.correct)
                else 0.0
            )
        return option.value
    if item.kind == "multiple":
        if not is_test:
            return None
        correct = {o.code for o in item.options if o.correct}
        chosen = set(answer)
        credit = (len(chosen & correct) - len(chosen - correct)) / len(correct)
        return item.points * max(0.0, credit)
    return None


def max_value(item: Item) -> float:
    """The most an item can contribute in a test."""
    if item.kind == "single":
        return max(
            (o.points if o.points is not None else item.points) for o in item.options if o.correct
        )
    return item.points


def item_maximum(item: Item, is_test: bool) -> float | None:
    """The most one answer to `item` adds to its scale (None: it adds nothing, or is unbounded)."""
    if item.kind == "likert" and item.likert is not None:
        return float(item.likert.points)
    if item.kind == "number":
        return item.maximum
    if is_test and item.kind in ("single", "multiple"):
        return max_value(item)
    if item.kind == "single":
        values = [o.value for o in item.options if o.value is not None]
        return max(values) if values else None
    return None


def scale_maximum(compiled: Compiled, scale: Scale) -> float | None:
    """The highest score `scale` can reach (the "5" of "3.7 of 5"); None when unbounded.

    A mean reaches at most its largest item maximum, a sum the sum of them all.
    """
    is_test = compiled.pack.kind == "test"
    counted = [i for i in compiled.items if i.scale == scale.code]
    if any(i.kind == "number" and i.maximum is None for i in counted):
        return None  # a typed number without an upper bound
    maxima = [m for i in counted if (m := item_maximum(i, is_test)) is not None]
    if not maxima:
        return None
    return math.fsum(maxima) if scale.method == "sum" else max(maxima)


def score(compiled: Compiled, answers: Mapping[str, Any]) -> ScoreResult:
    """Score a finished attempt."""
    pack = compiled.pack
    is_test = pack.kind == "test"
    applicable = compiled.applicable(answers)
    shown = [i for i in compiled.items if i.stores_answer and compiled.visible(i, applicable)]
    scales: dict[str, ScaleScore] = {}
    for scale in pack.scales:
        values = [
            v
            for item in shown
            if item.scale == scale.code
            and (v := item_value(item, applicable.get(item.code), is_test)) is not None
        ]
        if not values:
            scales[scale.code] = ScaleScore(scale.code, None, 0, None)
            continue
        total = math.fsum(values)
        value = total if scale.method == "sum" else total / len(values)
        scales[scale.code] = ScaleScore(
            scale.code, value, len(values), level_for(scale.levels, value)
        )
    if not is_test:
        return ScoreResult(scales=scales)
    scored = [i for i in shown if i.kind in ("single", "multiple")]
    points = math.fsum(item_value(i, applicable.get(i.code), True) or 0.0 for i in scored)
    maximum = math.fsum(max_value(i) for i in scored)
    percent = 100 * points / maximum if maximum else 0.0
    return ScoreResult(
        scales=scales,
        points=points,
        max_points=maximum,
        percent=percent,
        level=level_for(pack.levels, percent),
    )
