"""The schema of an instrument content pack (a survey or a scored test), as pydantic models.

A pack is one YAML file. Everything a user sees is given in kk, ru and en; everything stored
is a stable code (instrument, question, option, scale, level), so answers given in any
language land in one data set. Field-level rules live here; rules that look across the pack
(order of conditions, duplicate codes, level tables) live in `bot.content.validate`.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CODE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
# A pack's version is stored in an INTEGER column (`instruments.pack_version`): 4 bytes on
# PostgreSQL. A larger number used to pass here and fail at insert ("something went wrong").
MAX_VERSION = 2**31 - 1
Code = Annotated[str, Field(pattern=CODE_PATTERN)]


class Strict(BaseModel):
    """A model that refuses unknown keys, so a typo in a pack is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A user-visible text in every interface language."""

    kk: str = Field(min_length=1)
    ru: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        """The text in `language` (falls back to English)."""
        return getattr(self, language, None) or self.en


class Option(Strict):
    """One answer option; `code` is what is stored."""

    code: Code
    text: Text
    correct: bool = False
    points: float | None = None  # overrides the question's points for this option
    value: float | None = None  # numeric value for analysis (e.g. an ordinal position)


class LikertScale(Strict):
    """A rating scale of 5 or 7 points with labelled ends."""

    points: Literal[5, 7]
    low: Text
    high: Text


class Level(Strict):
    """One band of a level table: scores from `min` (inclusive) to `max`."""

    code: Code
    label: Text
    min: float
    max: float


class Scale(Strict):
    """A score computed from the items that name it: their sum or their mean."""

    code: Code
    title: Text
    method: Literal["sum", "mean"] = "mean"
    levels: list[Level] = Field(default_factory=list)


class QuestionBase(Strict):
    """What every question has."""

    code: Code
    text: Text
    required: bool = True
    show_if: str | None = None
    scale: Code | None = None  # the scoring scale this item counts towards
    reverse: bool = False  # reverse-scored item (Likert)


class ChoiceQuestion(QuestionBase):
    """Pick one option (`single`) or several (`multiple`, toggled, then Done)."""

    type: Literal["single", "multiple"]
    options: list[Option] = Field(min_length=2, max_length=12)
    shuffle: bool | None = None  # None: the instrument's setting
    points: float = 1.0  # for tests: points of a fully correct answer


class RankingQuestion(QuestionBase):
    """Order 3 to 10 options by preference: tapped from the most to the least preferred."""

    type: Literal["ranking"]
    options: list[Option] = Field(min_length=3, max_length=10)
    shuffle: bool | None = None  # None: the instrument's setting (the order they are offered)


class LikertQuestion(QuestionBase):
    """A rating on a Likert scale, given inline or by the name of one of `likert_scales`."""

    type: Literal["likert"]
    likert: LikertScale | Code


class MatrixItem(Strict):
    """One statement of a matrix, asked as its own Likert question."""

    code: Code
    text: Text
    scale: Code | None = None
    reverse: bool = False


class MatrixQuestion(Strict):
    """Items sharing one Likert scale: written once, asked item by item."""

    type: Literal["matrix"]
    code: Code
    text: Text  # the common stem, shown above each item
    likert: LikertScale | Code
    items: list[MatrixItem] = Field(min_length=1)
    required: bool = True
    show_if: str | None = None


class NumberQuestion(QuestionBase):
    """A number: integer or decimal, within bounds."""

    type: Literal["number"]
    integer: bool = True
    # Finite only: `.inf`/`.nan` bounds would refuse every answer or none.
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _some_answer_fits(self) -> NumberQuestion:
        """Bounds no answer can meet would load a question no one can ever answer."""
        low, high = self.min, self.max
        if low is None or high is None:
            return self
        if low > high:
            raise ValueError(f"min ({low:g}) is above max ({high:g}): no answer would be accepted")
        if self.integer and math.ceil(low) > math.floor(high):
            raise ValueError(
                f"no whole number lies between min ({low:g}) and max ({high:g}): "
                "no answer would be accepted"
            )
        return self


class TextQuestion(QuestionBase):
    """Free text, up to `max_length` characters."""

    type: Literal["text"]
    max_length: int = Field(default=1000, ge=1, le=4000)


class DateQuestion(QuestionBase):
    """A date, typed as YYYY-MM-DD or DD.MM.YYYY."""

    type: Literal["date"]


class InfoScreen(Strict):
    """Text to read, with a Continue button; stores nothing."""

    type: Literal["info"]
    code: Code
    text: Text
    show_if: str | None = None


Question = Annotated[
    ChoiceQuestion
    | RankingQuestion
    | LikertQuestion
    | MatrixQuestion
    | NumberQuestion
    | TextQuestion
    | DateQuestion
    | InfoScreen,
    Field(discriminator="type"),
]


class Pair(Strict):
    """Declares the instrument one half of a pre/post pair."""

    role: Literal["pre", "post"]
    with_: Code = Field(alias="with")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Settings(Strict):
    """How the instrument is taken."""

    shuffle_options: bool = False
    time_limit_minutes: int | None = Field(default=None, ge=1, le=600)
    attempts: int | None = Field(default=None, ge=1, le=100)  # None: unlimited
    show_results: Literal["immediately", "on_close", "never"] = "immediately"
    protect_content: bool | None = None  # None: True for tests, False for surveys
    # Whose answers a campaign's completion counts: students (staff who try it are left out),
    # staff (teachers and staff: coaches, organizers, jurors, admins), or everyone invited.
    respondents: Literal["students", "staff", "everyone"] = "students"


class Pack(Strict):
    """One instrument: a survey or a scored test."""

    code: Code
    version: int = Field(ge=1)
    kind: Literal["survey", "test"]
    title: Text
    description: Text | None = None
    pair: Pair | None = None
    settings: Settings = Field(default_factory=Settings)
    likert_scales: dict[Code, LikertScale] = Field(default_factory=dict)
    scales: list[Scale] = Field(default_factory=list)
    levels: list[Level] = Field(default_factory=list)  # overall level table
    questions: list[Question] = Field(min_length=1)

    @field_validator("version")
    @classmethod
    def _fits_the_database(cls, version: int) -> int:
        """The version must fit the database's integer column (see MAX_VERSION)."""
        if version > MAX_VERSION:
            raise ValueError(
                f"at most {MAX_VERSION}, the largest whole number the database stores here"
            )
        return version

    @field_validator("questions")
    @classmethod
    def _not_only_info(cls, questions: list[Question]) -> list[Question]:
        if all(isinstance(q, InfoScreen) for q in questions):
            raise ValueError("an instrument needs at least one question that is answered")
        return questions
