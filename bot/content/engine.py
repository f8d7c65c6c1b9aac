"""How an instrument is taken: the items in order, which are shown, and what an answer is.

A pack is compiled into a flat list of `Item`s: questions in order, matrices expanded item by
item (each keeps the matrix's stem, Likert scale and condition), information screens kept as
items that store nothing. Everything here is pure: given the answers so far, it says which item
comes next, what the progress is, and whether a typed answer is acceptable (and, if not, the
i18n key of the message that says what was expected).

Answer values, as stored and as conditions see them: single choice, the option code; multiple
choice, a tuple of option codes in the pack's order; Likert, the point (1..5 or 1..7); number,
an int or float; text, the text; date, `YYYY-MM-DD`; a skipped optional question, None.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot import text as typed
from bot.content import conditions
from bot.content.schema import (
    ChoiceQuestion,
    DateQuestion,
    InfoScreen,
    LikertQuestion,
    LikertScale,
    MatrixQuestion,
    NumberQuestion,
    Option,
    Pack,
    RankingQuestion,
    Text,
    TextQuestion,
)

SKIPPED = None


class AnswerError(ValueError):
    """An answer that does not fit the item; `key` and `values` say so in the user's language."""

    def __init__(self, key: str, **values: object):
        """Store the i18n key and its values."""
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Item:
    """One screen of the instrument."""

    code: str
    kind: str  # info, single, multiple, ranking, likert, number, text, date
    text: Text
    stem: Text | None = None  # a matrix's common stem
    options: tuple[Option, ...] = ()
    likert: LikertScale | None = None
    required: bool = True
    condition: conditions.Condition | None = None
    scale: str | None = None
    reverse: bool = False
    points: float = 1.0
    shuffle: bool = False
    integer: bool = True
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 1000

    @property
    def stores_answer(self) -> bool:
        """Information screens store nothing."""
        return self.kind != "info"

    def option(self, code: str) -> Option | None:
        """The option with this code."""
        return next((o for o in self.options if o.code == code), None)

    def option_order(self, seed: str) -> list[Option]:
        """Options as shown: shuffled the same way every time for one attempt, if asked."""
        options = list(self.options)
        if self.shuffle:
            random.Random(f"{seed}:{self.code}").shuffle(options)
        return options


@dataclass
class Compiled:
    """A pack ready to be taken."""

    pack: Pack
    items: list[Item]
    by_code: dict[str, Item] = field(init=False)

    def __post_init__(self) -> None:
        """Index the items by code."""
        self.by_code = {item.code: item for item in self.items}

    def visible(self, item: Item, answers: Mapping[str, Any]) -> bool:
        """True when the item's condition holds for the answers so far."""
        return item.condition is None or item.condition.evaluate(answers)

    def next_item(self, answers: Mapping[str, Any], passed: set[str]) -> Item | None:
        """The first shown item not yet answered (or, for information, not yet passed)."""
        for item in self.items:
            done = item.code in answers if item.stores_answer else item.code in passed
            if not done and self.visible(item, answers):
                return item
        return None

    def previous_item(
        self, current: str | None, answers: Mapping[str, Any], passed: set[str]
    ) -> Item | None:
        """The shown item before `current` (None: before the end), to go Back to."""
        index = len(self.items) if current is None else self._index(current)
        for item in reversed(self.items[:index]):
            done = item.code in answers if item.stores_answer else item.code in passed
            if done and self.visible(item, answers):
                return item
        return None

    def counted(self, answers: Mapping[str, Any]) -> list[Item]:
        """The answerable items shown, or that may still be shown: what progress counts.

        An item whose condition reads a question not answered yet (and not hidden itself) is
        counted from the start, so the total never grows as answers come in: ticking "Other"
        no longer turns "2 / 7" into "3 / 8"; not ticking it drops the question it would have
        opened, and the total shrinks.
        """
        possible: set[str] = set()
        counted: list[Item] = []
        for item in self.items:
            condition = item.condition
            open_ = condition is not None and any(
                name in possible and name not in answers for name in condition.names
            )
            if open_ or self.visible(item, answers):
                possible.add(item.code)
                if item.stores_answer:
                    counted.append(item)
        return counted

    def progress(self, current: str | None, answers: Mapping[str, Any]) -> tuple[int, int]:
        """(position of `current` among the counted items, how many are counted).

        See `counted`: going forward, the position grows by one and the total never grows.
        """
        codes = [i.code for i in self.counted(answers)]
        position = (
            codes.index(current) + 1
            if current in codes
            else len([c for c in codes if c in answers]) + 1
        )
        return min(position, len(codes)), len(codes)

    def applicable(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The answers to items still shown (a changed answer may hide later ones)."""
        return {
            code: value
            for code, value in answers.items()
            if code in self.by_code and self.visible(self.by_code[code], answers)
        }

    def _index(self, code: str) -> int:
        for index, item in enumerate(self.items):
            if item.code == code:
                return index
        raise KeyError(code)


def _likert(pack: Pack, value: LikertScale | str) -> LikertScale:
    return pack.likert_scales[value] if isinstance(value, str) else value


def compile_pack(pack: Pack) -> Compiled:
    """Flatten a validated pack into the items a user goes through."""
    items: list[Item] = []
    shuffle_default = pack.settings.shuffle_options
    for question in pack.questions:
        condition = conditions.parse(question.show_if) if question.show_if else None
        if isinstance(question, InfoScreen):
            items.append(Item(question.code, "info", question.text, condition=condition))
        elif isinstance(question, MatrixQuestion):
            scale = _likert(pack, question.likert)
            for entry in question.items:
                items.append(
                    Item(
                        entry.code,
                        "likert",
                        entry.text,
                        stem=question.text,
                        likert=scale,
                        required=question.required,
                        condition=condition,
                        scale=entry.scale,
                        reverse=entry.reverse,
                    )
                )
        elif isinstance(question, ChoiceQuestion):
            shuffle = question.shuffle if question.shuffle is not None else shuffle_default
            items.append(
                Item(
                    question.code,
                    question.type,
                    question.text,
                    options=tuple(question.options),
                    required=question.required,
                    condition=condition,
                    scale=question.scale,
                    points=question.points,
                    shuffle=shuffle,
                )
            )
        elif isinstance(question, RankingQuestion):
            shuffle = question.shuffle if question.shuffle is not None else shuffle_default
            items.append(
                Item(
                    question.code,
                    "ranking",
                    question.text,
                    options=tuple(question.options),
                    required=question.required,
                    condition=condition,
                    shuffle=shuffle,
                )
            )
        elif isinstance(question, LikertQuestion):
            items.append(
                Item(
                    question.code,
                    "likert",
                    question.text,
                    likert=_likert(pack, question.likert),
                    required=question.required,
                    condition=condition,
                    scale=question.scale,
                    reverse=question.reverse,
                )
            )
        elif isinstance(question, NumberQuestion):
            items.append(
                Item(
                    question.code,
                    "number",
                    question.text,
                    required=question.required,
                    condition=condition,
                    scale=question.scale,
                    integer=question.integer,
                    minimum=question.min,
                    maximum=question.max,
                )
            )
        elif isinstance(question, TextQuestion):
            items.append(
                Item(
                    question.code,
                    "text",
                    question.text,
                    required=question.required,
                    condition=condition,
                    max_length=question.max_length,
                )
            )
        elif isinstance(question, DateQuestion):
            items.append(
                Item(
                    question.code,
                    "date",
                    question.text,
                    required=question.required,
                    condition=condition,
                )
            )
    return Compiled(pack, items)


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")
# Dates people are asked about (birth, start of studies or work) fall in this range; year 1
# or 9999 is a typing slip, and the message says which range is accepted.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)


def parse_typed(item: Item, text: str) -> Any:
    """The value of a typed answer to a number, text or date item.

    Raises:
        AnswerError: not a number, out of range, a decimal where a whole number is expected,
            empty or too long text (invisible characters alone are empty), a date in no
            accepted format or outside DATE_MIN..DATE_MAX; or a typed answer to an item
            answered with buttons.
    """
    # Control characters are removed from what is stored (PostgreSQL refuses a NUL, SQLite
    # kept it); numbers and dates are read from what the person sees.
    raw = typed.clean_block(text) if item.kind == "text" else typed.visible(text)
    if item.kind == "number":
        compact = raw.replace(" ", "")
        # Fifteen digits keep a float exact; longer numbers are no one's real answer.
        if not _NUMBER.match(compact) or len(compact) > 16:
            raise AnswerError("surveys.not_a_number")
        value = float(compact.replace(",", "."))
        if item.integer and not value.is_integer():
            raise AnswerError("surveys.whole_number")
        low, high = item.minimum, item.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise AnswerError("surveys.out_of_range", low=_fmt(low), high=_fmt(high))
        return int(value) if item.integer else value
    if item.kind == "text":
        if typed.is_blank(raw):
            raise AnswerError("surveys.empty_text")
        if len(raw) > item.max_length:
            raise AnswerError("surveys.text_too_long", limit=item.max_length, length=len(raw))
        return raw
    if item.kind == "date":
        for fmt in _DATE_FORMATS:
            try:
                day = datetime.strptime(raw, fmt).date()  # noqa: DTZ007 - a date: no zone
            except ValueError:
                continue
            if not DATE_MIN <= day <= DATE_MAX:
                raise AnswerError(
                    "surveys.date_out_of_range",
                    low=DATE_MIN.strftime("%d.%m.%Y"),
                    high=DATE_MAX.strftime("%d.%m.%Y"),
                )
            return day.isoformat()
        raise AnswerError("surveys.bad_date", example=date(2026, 9, 1).strftime("%d.%m.%Y"))
    raise AnswerError("surveys.use_buttons")


def _fmt(value: float | None) -> str:
    if value is None:
        return "…"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def choice_value(item: Item, option_code: str) -> str:
    """The value of pressing an option of a single-choice item (validated against the pack)."""
    if item.kind != "single" or item.option(option_code) is None:
        raise AnswerError("errors.stale_button")
    return option_code


def toggle(item: Item, selected: tuple[str, ...], option_code: str) -> tuple[str, ...]:
    """A multiple-choice selection after toggling one option, in the pack's option order."""
    if item.kind != "multiple" or item.option(option_code) is None:
        raise AnswerError("errors.stale_button")
    chosen = set(selected) ^ {option_code}
    return tuple(o.code for o in item.options if o.code in chosen)


def rank_next(item: Item, ranked: tuple[str, ...], option_code: str) -> tuple[str, ...]:
    """A ranking after the next option is tapped: it takes the next place.

    When one option is left, it takes the last place by itself (no choice is left to make).
    """
    if item.kind != "ranking" or item.option(option_code) is None:
        raise AnswerError("errors.stale_button")
    if option_code in ranked:
        return ranked  # a double tap ranks nothing twice
    order = (*ranked, option_code)
    left = [o.code for o in item.options if o.code not in order]
    return (*order, *left) if len(left) == 1 else order


def likert_value(item: Item, point: int) -> int:
    """The value of pressing a point of a Likert item."""
    if item.kind != "likert" or item.likert is None or not 1 <= point <= item.likert.points:
        raise AnswerError("errors.stale_button")
    return point
