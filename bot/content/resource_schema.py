"""The schema of a resource pack (`kind: resources`): disciplines and ready-made resources.

A pack is one YAML file, validated like the other packs (every text people read in kk, ru and
en, every stored thing a stable code), loaded by `bot.services.content`:

- `code`, `version`;
- `disciplines`: the list contributors choose from, each `code` (at most 40: `a-z`, `0-9`,
  `_`) and `name` (kk/ru/en, at most 120 characters);
- `resources`: each `code` (at most 16, the `?start=r-<code>` deep link), `title` (kk/ru/en, at
  most 200), `description` (kk/ru/en, at most 2000), `discipline` (a code of this pack's
  disciplines or one loaded before), `kind`, `languages` (ISO 639-1 codes of the resource
  itself), `level`, `license` (one of the bank's licenses), `authors` (optional, at most 500)
  and `url` (http or https). A pack gives links, never files: a file needs Telegram's
  `file_id`, which exists only once someone has sent the file to the bot.

Codes are unique within a pack. Loaded resources are approved at once (the pack is the
organizers' own), belong to no university (they count in no university's contribution) and
keep their uses and ratings when a later version of the pack changes their texts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from bot.content.course_schema import CourseText
from bot.content.schema import MAX_VERSION, Strict
from bot.services import InvalidInput
from bot.services.resource_fields import (
    AUTHORS_MAX,
    DESCRIPTION_MAX,
    DISCIPLINE_NAME_MAX,
    LICENSES,
    TITLE_MAX,
    Kind,
    Level,
    check_link,
)

DisciplineCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
ResourceCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]{1,15}$")]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
RESOURCES_MAX = 500


class DisciplineName(CourseText):
    """A discipline's name (a button label in the contributor's list)."""

    LIMIT = DISCIPLINE_NAME_MAX
    WHAT = "a discipline name"


class ResourceTitle(CourseText):
    """A resource's title."""

    LIMIT = TITLE_MAX
    WHAT = "a resource title"


class ResourceDescription(CourseText):
    """A resource's description."""

    LIMIT = DESCRIPTION_MAX
    WHAT = "a resource description"


class DisciplineEntry(Strict):
    """One discipline of the list."""

    code: DisciplineCode
    name: DisciplineName


class ResourceEntry(Strict):
    """One ready-made resource: a link with its metadata."""

    code: ResourceCode
    title: ResourceTitle
    description: ResourceDescription
    discipline: DisciplineCode
    kind: Kind
    languages: list[LanguageCode] = Field(min_length=1, max_length=6)
    level: Level
    license: Literal[LICENSES]  # type: ignore[valid-type]
    authors: str | None = Field(default=None, max_length=AUTHORS_MAX)
    url: str

    @field_validator("url")
    @classmethod
    def _link(cls, url: str) -> str:
        """An http(s) link with a host, no spaces, at most 500 characters."""
        try:
            return check_link(url)
        except InvalidInput:
            raise ValueError(f"{url[:60]!r} is not an http(s) link with a host") from None


class ResourcePack(Strict):
    """The bank's disciplines and ready-made resources."""

    kind: Literal["resources"]
    code: DisciplineCode
    version: int = Field(ge=1)
    disciplines: list[DisciplineEntry] = Field(default_factory=list)
    resources: list[ResourceEntry] = Field(default_factory=list, max_length=RESOURCES_MAX)

    @field_validator("version")
    @classmethod
    def _fits_the_database(cls, version: int) -> int:
        """The version must fit the database's integer column."""
        if version > MAX_VERSION:
            raise ValueError(
                f"at most {MAX_VERSION}, the largest whole number the database stores here"
            )
        return version

    @model_validator(mode="after")
    def _unique_codes(self) -> ResourcePack:
        """A code names one discipline and one resource: each once in the pack."""
        for what, codes in (
            ("discipline", [d.code for d in self.disciplines]),
            ("resource", [r.code for r in self.resources]),
        ):
            repeated = sorted({c for c in codes if codes.count(c) > 1})
            if repeated:
                raise ValueError(f"{what} code {', '.join(map(repr, repeated))} is used twice")
        return self
