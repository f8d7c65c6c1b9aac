"""What a contributor gives a resource, read and checked; the bank's enums and limits.

Pure functions, no database: the kinds, levels and states of a resource, the licenses, the
file types a resource may be (by extension, else by MIME type) and the 20 MB a bot can
download, titles and descriptions typed with `[kk]`/`[ru]`/`[en]` sections, the languages of a
resource (ISO 639-1 codes), links. Each refusal is an `InvalidInput` whose key (`bank.*`) says
what is wrong, with an example or the list of what is allowed.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from bot.config import LANGUAGES
from bot.services import InvalidInput
from bot.services.broadcast_content import split_languages
from bot.services.event_times import check_url
from bot.services.roles import Role
from bot.text import clean_block, clean_line, is_blank

CONTRIBUTORS = (Role.ADMIN, Role.ORGANIZER, Role.COACH)
MODERATORS = (Role.ADMIN, Role.ORGANIZER)
STUDENTS_CONTRIBUTE = "bank.students_contribute"  # the AppSetting key

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
AUTHORS_MAX = 500  # the column
COMMENT_MAX = 1000
DISCIPLINE_NAME_MAX = 120
FILE_MAX_BYTES = 20 * 1024 * 1024  # a bot cannot download more through the Bot API
FILE_NAME_MAX = 256
PER_PAGE_MAX = 50
LICENSES: tuple[str, ...] = (
    "CC BY",
    "CC BY-SA",
    "CC BY-NC",
    "CC BY-NC-SA",
    "CC0",
    "all rights reserved",
)
# The file types a resource may be: documents, slides, sheets, e-books, archives (software,
# H5P packages, datasets), media and plain data.
FILE_TYPES: frozenset[str] = frozenset(
    [
        "pdf",
        "doc",
        "docx",
        "odt",
        "rtf",
        "txt",
        "md",
        "ppt",
        "pptx",
        "odp",
        "xls",
        "xlsx",
        "ods",
        "csv",
        "json",
        "xml",
        "epub",
        "djvu",
        "zip",
        "7z",
        "rar",
        "h5p",
        "imscc",
        "mp4",
        "webm",
        "mov",
        "mp3",
        "ogg",
        "m4a",
        "png",
        "jpg",
        "jpeg",
        "svg",
        "ipynb",
        "sav",
    ]
)
# When a file comes without a usable name, its MIME type names its type.
_MIME_TYPES: dict[str, str] = {
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/epub+zip": "epub",
    "application/zip": "zip",
    "text/plain": "txt",
    "text/csv": "csv",
    "application/json": "json",
    "video/mp4": "mp4",
    "audio/mpeg": "mp3",
    "image/png": "png",
    "image/jpeg": "jpg",
}
CODE_ALPHABET = string.ascii_lowercase + string.digits


class Kind(StrEnum):
    """What sort of resource it is."""

    TEXTBOOK = "textbook"
    METHOD = "method"  # methodological material
    LESSON_PLAN = "lesson_plan"
    VIDEO = "video"  # a video lesson
    PRESENTATION = "presentation"
    TEST = "test"
    SOFTWARE = "software"  # software or a platform
    DATASET = "dataset"
    OTHER = "other"


class Level(StrEnum):
    """Whom it is for."""

    BACHELOR = "bachelor"
    MASTER = "master"
    SCHOOL = "school"  # school practice


class State(StrEnum):
    """Life of a resource."""

    DRAFT = "draft"
    PENDING = "pending"  # submitted, waiting for a moderator
    CHANGES = "changes"  # a moderator asked for changes: the contributor edits and resubmits
    APPROVED = "approved"
    REJECTED = "rejected"


# The contribution conversation's steps, in order; "file" takes a file and/or a link.
STEPS: tuple[str, ...] = (
    "title",
    "description",
    "discipline",
    "kind",
    "languages",
    "level",
    "license",
    "authors",
    "university",
    "file",
    "preview",
)
FIELDS: frozenset[str] = frozenset(
    {
        "title",
        "description",
        "discipline",
        "kind",
        "languages",
        "level",
        "license",
        "authors",
        "university",
        "file",
        "url",
        "step",
    }
)
OPTIONAL: frozenset[str] = frozenset({"description", "authors", "university", "file", "url"})
EDITABLE = (State.DRAFT.value, State.CHANGES.value)

# The label of each value as people read it (written out: tests/test_i18n.py finds the keys).
KIND_LABELS: dict[Kind, str] = {
    Kind.TEXTBOOK: "bank.kind_textbook",
    Kind.METHOD: "bank.kind_method",
    Kind.LESSON_PLAN: "bank.kind_lesson_plan",
    Kind.VIDEO: "bank.kind_video",
    Kind.PRESENTATION: "bank.kind_presentation",
    Kind.TEST: "bank.kind_test",
    Kind.SOFTWARE: "bank.kind_software",
    Kind.DATASET: "bank.kind_dataset",
    Kind.OTHER: "bank.kind_other",
}
LEVEL_LABELS: dict[Level, str] = {
    Level.BACHELOR: "bank.level_bachelor",
    Level.MASTER: "bank.level_master",
    Level.SCHOOL: "bank.level_school",
}
STATE_LABELS: dict[State, str] = {
    State.DRAFT: "bank.state_draft",
    State.PENDING: "bank.state_pending",
    State.CHANGES: "bank.state_changes",
    State.APPROVED: "bank.state_approved",
    State.REJECTED: "bank.state_rejected",
}
# What a required field missing says (the license has its own message, with the list).
MISSING: dict[str, str] = {
    "title": "bank.missing_title",
    "discipline": "bank.missing_discipline",
    "kind": "bank.missing_kind",
    "languages": "bank.missing_languages",
    "level": "bank.missing_level",
    "license": "bank.license_required",
    "file": "bank.missing_file",
}
# What the contributor hears of each decision.
DECISION_NOTICES: dict[State, str] = {
    State.APPROVED: "bank.notice_approved",
    State.CHANGES: "bank.notice_changes",
    State.REJECTED: "bank.notice_rejected",
}


@dataclass(frozen=True)
class FileInfo:
    """A file as Telegram describes it: kept by its `file_id`, never downloaded."""

    file_id: str
    file_unique_id: str | None
    name: str | None
    mime_type: str | None
    size: int | None


@dataclass(frozen=True)
class ResourceView:
    """A resource as people see it, with its numbers and the viewer's own use and rating."""

    id: int
    code: str
    state: State
    step: str | None
    title: dict[str, str]  # language (or "*": every language) -> plain text
    description: dict[str, str]
    discipline_id: int | None
    discipline_name: dict[str, str] | None
    kind: Kind | None
    languages: tuple[str, ...]
    level: Level | None
    license: str | None
    authors: str | None
    university_id: int | None
    university_name: dict[str, str] | None
    contributor_id: int | None
    file_name: str | None
    mime_type: str | None
    file_size: int | None
    has_file: bool
    url: str | None
    submitted_at: datetime | None
    approved_at: datetime | None
    moderation_comment: str | None
    uses: int
    ratings: int
    rating_mean: float | None
    my_rating: int | None
    used_by_me: bool
    file_id: str | None = None  # for sending it (open_resource); None elsewhere
    contributor_name: str | None = None  # shown to moderators
    my_comment: str | None = None

    def title_in(self, language: str) -> str:
        """The title in `language` (else in another one given)."""
        return pick(self.title, language)

    def description_in(self, language: str) -> str:
        """The description in `language` (else in another one given; "" if none)."""
        return pick(self.description, language)


@dataclass(frozen=True)
class Page:
    """One page of a listing."""

    items: list[ResourceView]
    total: int
    page: int  # from 0
    pages: int


@dataclass(frozen=True)
class DisciplineView:
    """A discipline of the list (or a proposed one, `approved` False)."""

    id: int
    code: str
    name: dict[str, str]
    approved: bool

    def name_in(self, language: str) -> str:
        """The name in `language` (else in another one given)."""
        return pick(self.name, language)


@dataclass(frozen=True)
class Notified:
    """A resource after an operation that told people, and the broadcast to start (or None)."""

    resource: ResourceView
    broadcast_id: int | None


# --- texts ------------------------------------------------------------------------------------


def pick(texts: Mapping[str, str] | None, language: str) -> str:
    """The text in `language`, else the unmarked one, else English, else any; "" if none."""
    if not texts:
        return ""
    for key in (language, "*", "en"):
        if texts.get(key):
            return texts[key]
    return next(iter(texts.values()), "")


def parse_texts(value: str | Mapping[str, str], *, line: bool, limit: int) -> dict[str, str]:
    """A title or description typed with optional `[kk]`/`[ru]`/`[en]` sections, checked.

    Text without sections is for every language (key "*"); a mapping language -> text is
    checked the same way.

    Raises:
        InvalidInput: `bank.empty_text`, `bank.unmarked_text` (text outside the sections next
            to sections), `bank.text_too_long` (with the section and the limit).
    """
    raw = split_languages(value or "") if isinstance(value, str) else dict(value)
    texts: dict[str, str] = {}
    for language, body in raw.items():
        if language not in (*LANGUAGES, "*"):
            continue
        cleaned = clean_line(body) if line else clean_block(body)
        if cleaned and not is_blank(cleaned):
            texts[language] = cleaned
    if not texts:
        raise InvalidInput("bank.empty_text")
    if "*" in texts and len(texts) > 1:
        raise InvalidInput("bank.unmarked_text")
    for language, body in texts.items():
        if len(body) > limit:
            section = "" if language == "*" else f"[{language}] "
            raise InvalidInput(
                "bank.text_too_long", limit=limit, length=len(body), section=section
            )
    return texts


def parse_languages(value: str | Iterable[str]) -> tuple[str, ...]:
    """The languages of a resource: `kk, ru` or a list; kk, ru, en and other ISO 639-1 codes.

    Raises:
        InvalidInput: `bank.bad_languages`.
    """
    items = re.split(r"[\s,;/]+", value) if isinstance(value, str) else list(value)
    found: list[str] = []
    for item in items:
        code = clean_line(str(item)).lower()
        if not code:
            continue
        if not re.fullmatch(r"[a-z]{2}", code):
            raise InvalidInput("bank.bad_languages", example="kk, ru")
        if code not in found:
            found.append(code)
    if not found or len(found) > 6:
        raise InvalidInput("bank.bad_languages", example="kk, ru")
    return tuple(found)


def file_type(name: str | None, mime_type: str | None) -> str | None:
    """The type of a file: its extension (lower case), else what its MIME type names."""
    if name:
        suffix = PurePosixPath(name).suffix.lower().lstrip(".")
        if suffix:
            return suffix
    if mime_type:
        return _MIME_TYPES.get(mime_type.lower())
    return None


def check_file(info: FileInfo) -> FileInfo:
    """A file as a resource: an allowed type, at most 20 MB.

    Raises:
        InvalidInput: `bank.file_too_big` (with the limit), `bank.bad_file_type` (with the
            types allowed).
    """
    if not info.file_id:
        raise InvalidInput("bank.bad_file_type", types=", ".join(sorted(FILE_TYPES)))
    if info.size is not None and info.size > FILE_MAX_BYTES:
        raise InvalidInput("bank.file_too_big", most=FILE_MAX_BYTES // (1024 * 1024))
    kind = file_type(info.name, info.mime_type)
    if kind not in FILE_TYPES:
        raise InvalidInput("bank.bad_file_type", types=", ".join(sorted(FILE_TYPES)))
    name = clean_line(info.name or "")[:FILE_NAME_MAX] or None
    return FileInfo(info.file_id, info.file_unique_id, name, info.mime_type, info.size)


def check_link(text: str) -> str:
    """A resource's link: http(s), with a host, no spaces, at most 500 characters.

    Raises:
        InvalidInput: `bank.bad_link` (with an example).
    """
    try:
        return check_url(text)
    except InvalidInput:
        raise InvalidInput("bank.bad_link", example="https://openstax.org/subjects") from None


def check_license(text: str) -> str:
    """One of `LICENSES` (case and spacing as typed do not matter).

    Raises:
        InvalidInput: `bank.license_required` (empty), `bank.bad_license` (with the list).
    """
    typed = " ".join(clean_line(text or "").split()).lower()
    if not typed:
        raise InvalidInput("bank.license_required", licenses=", ".join(LICENSES))
    for license_ in LICENSES:
        if typed == license_.lower() or typed == license_.lower().replace(" ", "-"):
            return license_
    raise InvalidInput("bank.bad_license", licenses=", ".join(LICENSES))


def parse_enum(enum: type[Kind] | type[Level], value: object, key: str) -> Any:
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(key) from None
