"""Contest entries: a draft saved at every step, preview, submit, edit, withdraw, teams (issue 13).

(The functions follow; this commit fixes the views other modules read.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EntryState(StrEnum):
    """Life of an entry."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class Step(StrEnum):
    """The conversation's next field (stored in `ContestEntry.step`)."""

    TITLE = "title"
    DESCRIPTION = "description"
    LINK = "link"
    FILES = "files"
    PREVIEW = "preview"


@dataclass(frozen=True)
class FileView:
    """A file of an entry: Telegram's file_id with its name, type and size."""

    id: int
    file_id: str
    file_unique_id: str | None
    name: str
    mime_type: str | None
    size: int | None
    position: int


@dataclass(frozen=True)
class AuthorView:
    """An author of an entry (the owner first, then co-authors in the order they joined)."""

    user_id: int
    telegram_id: int
    name: str
    university_id: int | None
    university: dict[str, str] | None  # language -> name
    owner: bool
    joined_at: datetime | None


@dataclass(frozen=True)
class EntryView:
    """An entry as its authors (and, unless blind, organizers and jurors) see it."""

    id: int
    contest_id: int
    contest_code: str
    code: str  # the receipt's entry code
    team_code: str  # what co-authors join with
    state: EntryState
    step: Step | None
    title: str | None
    description: str | None
    link: str | None
    files: tuple[FileView, ...]
    authors: tuple[AuthorView, ...]
    submitted_at: datetime | None
    late: bool
    withdrawn_at: datetime | None
    updated_at: datetime | None
    missing: tuple[Step, ...]  # fields still needed before it can be submitted

    @property
    def owner_id(self) -> int | None:
        """The owner's user id."""
        return next((a.user_id for a in self.authors if a.owner), None)

    @property
    def university_ids(self) -> frozenset[int]:
        """The universities of its authors (the conflict-of-interest set)."""
        return frozenset(a.university_id for a in self.authors if a.university_id is not None)
