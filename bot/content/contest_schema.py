"""The schema of a contest pack (`kind: contest`): rules, windows, entry fields, the rubric.

A contest is one YAML file, validated like the other packs: every text people see in kk, ru
and en, everything stored a stable code. The parts:

- `code`, `version`, `title` (at most 150 characters), `rules` (paragraphs separated by blank
  lines, each at most one Telegram message, 4096 characters);
- `windows` (optional: organizers may set them later): `opens`, `deadline`, an optional
  `late_until` (entries submitted after the deadline and before it are accepted and marked
  late) and `jury_deadline`. Every time carries its UTC offset (`2027-03-31T23:59:00+05:00`):
  a time without one would mean different moments on different servers. In order:
  opens < deadline <= late_until < jury_deadline;
- `entry`: the title (always asked, at most `title_max` <= 200 characters), the description
  (`required`, `max_length` <= 4000), the link (`required`, `optional` or `off`), the files
  (`types`: file extensions, `max_count`, `min_count`, `max_mb` at most 20 because a bot
  cannot download a larger file) and `max_authors` (the owner included; more than one makes a
  team entry that co-authors join with the entry's team code);
- `criteria`: 1 to 12, each `code`, `title` (a button label: at most 64), an optional
  `description` for jurors, `weight` (> 0; weights are relative, they need not sum to 1 or
  100) and `max` (the top score, a whole number from 1 to 100; jurors score 0..max);
- `reviews_per_entry` (1..10), `blind` (default true: jurors see no names or universities),
  `exclude_conflicts` (default true: no juror reviews an entry with an author from their own
  university), `standardise` (default false: each juror's scores turned into z-scores before
  averaging), `show_feedback` (default true: authors see their scores and jurors' comments
  once results are released).

Checks across the pack (unique criterion codes, the order of the windows) are here too, as
model validators, since they need nothing outside the file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from bot.content.course_schema import BodyText, CourseText
from bot.content.schema import MAX_VERSION, Code, Strict

CONTEST_CODE_PATTERN = r"^[a-z0-9_]{2,40}$"
ContestCode = Annotated[str, Field(pattern=CONTEST_CODE_PATTERN)]
EXTENSION_PATTERN = r"^[a-z0-9]{1,10}$"
Extension = Annotated[str, Field(pattern=EXTENSION_PATTERN)]
CONTEST_TITLE_MAX = 150
ENTRY_TITLE_MAX = 200  # the column's size (contest_entry.title)
DESCRIPTION_LIMIT = 4000  # a description is shown in one message with the entry's card
FILE_MAX_MB = 20  # a bot cannot download a file larger than 20 MB through the Bot API
FILES_MAX = 20
AUTHORS_MAX = 10
CRITERIA_MAX = 12
CRITERION_MAX_SCORE = 100
REVIEWS_MAX = 10
CRITERION_TITLE_MAX = 64  # a button label
CRITERION_DESCRIPTION_MAX = 1024


class ContestTitle(CourseText):
    """A contest's title."""

    LIMIT = CONTEST_TITLE_MAX
    WHAT = "a contest title"


class CriterionTitle(CourseText):
    """A criterion's title: shown on the juror's score buttons' message and in results."""

    LIMIT = CRITERION_TITLE_MAX
    WHAT = "a criterion title (a button label)"


class CriterionDescription(CourseText):
    """What jurors look for under a criterion."""

    LIMIT = CRITERION_DESCRIPTION_MAX
    WHAT = "a criterion description"


def _aware(value: Any) -> Any:
    """A time with its UTC offset, from YAML's timestamp or an ISO 8601 string."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a date and time like 2027-03-31T23:59:00+05:00"
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{value.isoformat()} has no UTC offset: write it with one, e.g. "
                f"{value.isoformat()}+05:00"
            )
        return value
    raise ValueError(f"{value!r} is not a date and time like 2027-03-31T23:59:00+05:00")


class Windows(Strict):
    """When entries are accepted, marked late, and reviewed."""

    opens: datetime
    deadline: datetime
    late_until: datetime | None = None
    jury_deadline: datetime

    @field_validator("opens", "deadline", "late_until", "jury_deadline", mode="before")
    @classmethod
    def _with_offset(cls, value: Any) -> Any:
        """Only times with their UTC offset."""
        return None if value is None else _aware(value)

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        """In order: opens < deadline <= late_until < jury_deadline."""
        if not self.opens < self.deadline:
            raise ValueError("the deadline must come after the opening")
        closes = self.deadline
        if self.late_until is not None:
            if self.late_until < self.deadline:
                raise ValueError("late_until must not come before the deadline")
            closes = self.late_until
        if not closes < self.jury_deadline:
            raise ValueError(
                "the jury deadline must come after the submissions close "
                "(the deadline, or late_until when given)"
            )
        return self


class TitleField(Strict):
    """The entry's title: always asked."""

    max_length: int = Field(default=ENTRY_TITLE_MAX, ge=10, le=ENTRY_TITLE_MAX)


class DescriptionField(Strict):
    """The entry's description."""

    required: bool = True
    max_length: int = Field(default=2000, ge=50, le=DESCRIPTION_LIMIT)


class FilesField(Strict):
    """The files an entry may carry: their types (extensions), how many, how large."""

    types: list[Extension] = Field(min_length=1, max_length=30)
    max_count: int = Field(default=3, ge=1, le=FILES_MAX)
    min_count: int = Field(default=0, ge=0, le=FILES_MAX)
    max_mb: int = Field(default=FILE_MAX_MB, ge=1, le=FILE_MAX_MB)

    @field_validator("types")
    @classmethod
    def _unique(cls, types: list[str]) -> list[str]:
        """Each extension once."""
        repeated = sorted({t for t in types if types.count(t) > 1})
        if repeated:
            raise ValueError(f"listed twice: {', '.join(repeated)}")
        return types

    @model_validator(mode="after")
    def _counts(self) -> Self:
        """At least as many allowed as required: min_count <= max_count."""
        if self.min_count > self.max_count:
            raise ValueError(f"min_count {self.min_count} is above max_count {self.max_count}")
        return self


class EntryFields(Strict):
    """What an entry consists of, and how many authors it may have."""

    title: TitleField = Field(default_factory=TitleField)
    description: DescriptionField = Field(default_factory=DescriptionField)
    link: Literal["required", "optional", "off"] = "optional"
    files: FilesField | None = None  # None: entries carry no files
    max_authors: int = Field(default=1, ge=1, le=AUTHORS_MAX)


class Criterion(Strict):
    """One criterion of the rubric."""

    code: Code
    title: CriterionTitle
    description: CriterionDescription | None = None
    weight: float = Field(gt=0, le=1000)
    max: int = Field(ge=1, le=CRITERION_MAX_SCORE)


class ContestPack(Strict):
    """One contest."""

    kind: Literal["contest"]
    code: ContestCode
    version: int = Field(ge=1)
    title: ContestTitle
    rules: BodyText
    windows: Windows | None = None
    entry: EntryFields = Field(default_factory=EntryFields)
    criteria: list[Criterion] = Field(min_length=1, max_length=CRITERIA_MAX)
    reviews_per_entry: int = Field(default=3, ge=1, le=REVIEWS_MAX)
    blind: bool = True
    exclude_conflicts: bool = True
    standardise: bool = False
    show_feedback: bool = True

    @field_validator("version")
    @classmethod
    def _fits_the_database(cls, version: int) -> int:
        """The version must fit the database's integer column."""
        if version > MAX_VERSION:
            raise ValueError(
                f"at most {MAX_VERSION}, the largest whole number the database stores here"
            )
        return version

    @field_validator("criteria")
    @classmethod
    def _unique_codes(cls, criteria: list[Criterion]) -> list[Criterion]:
        """A criterion code names one column of scores: each once."""
        codes = [c.code for c in criteria]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"criterion code {', '.join(map(repr, repeated))} is used twice")
        return criteria


def parse_definition(definition: dict[str, Any]) -> ContestPack:
    """A stored `Contest.definition` read back as a `ContestPack`."""
    return ContestPack.model_validate(definition)
