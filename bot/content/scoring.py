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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.content.engine import Compiled, Item
from bot.content.schema import Level


@dataclass(frozen=True)
class ScaleScore:
    """One scale's score and level."""

    code: str
    value: float | None  # None: no item of the scale was answered
    items: int  # how many items counted
    level: str | None


@dataclass(frozen=True)
class Result:
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


def score(compiled: Compiled, answers: Mapping[str, Any]) -> Result:
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
        value = sum(values) if scale.method == "sum" else sum(values) / len(values)
        value = round(value, 4)
        scales[scale.code] = ScaleScore(
            scale.code, value, len(values), level_for(scale.levels, value)
        )
    if not is_test:
        return Result(scales=scales)
    scored = [i for i in shown if i.kind in ("single", "multiple")]
    points = round(sum(item_value(i, applicable.get(i.code), True) or 0.0 for i in scored), 4)
    maximum = round(sum(max_value(i) for i in scored), 4)
    percent = round(100 * points / maximum, 2) if maximum else 0.0
    return Result(
        scales=scales,
        points=points,
        max_points=maximum,
        percent=percent,
        level=level_for(pack.levels, percent),
    )
