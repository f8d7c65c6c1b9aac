"""The contest as people see it: its rules, its rubric and where its windows stand (issue 13).

A contest comes from a contest pack (`bot.content.contest_schema`, loaded by
`bot.services.content`) and is stored once per code (`Contest`): the validated definition as
data, its windows and switches as columns. `ContestView` is what every other contest module
reads: the title and rules per language, the entry fields, the criteria with their weights and
maxima, the review rules, the timed duties' marks.

THE WINDOWS RULE (`ContestView.phase(now)`), every time in UTC:

- no windows yet (a pack without them, before an organizer sets them): `DRAFT`, nothing
  accepted;
- before `opens_at`: `NOT_YET`;
- from `opens_at` until `deadline_at` (excluded): `OPEN`, entries submitted on time;
- from `deadline_at` until `late_until` (excluded), when a late cut-off is set: `LATE`, a
  draft may still be finished and submitted and is marked late; submitted entries can no
  longer be edited or withdrawn;
- after that: `CLOSED` (the jury's part: allocation, reviews until `jury_deadline_at`).

Submitted entries are edited or withdrawn only while `OPEN` (`editable`); drafts are
written and submitted while `OPEN` or `LATE` (`accepting`).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select

from bot.content.contest_schema import FILE_MAX_MB
from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound
from bot.services.roles import Role, require
from models import Contest, utcnow

MANAGERS = (Role.ADMIN, Role.ORGANIZER)
MB = 1024 * 1024
_CODE_ALPHABET = string.ascii_uppercase.replace("O", "").replace("I", "") + "23456789"


class ContestState(StrEnum):
    """Where a contest stands as a whole (the column); the windows are `Phase`."""

    DRAFT = "draft"  # no windows yet
    OPEN = "open"  # windows set: see `Phase`
    JUDGING = "judging"  # entries allocated to jurors
    RELEASED = "released"  # results released


class Phase(StrEnum):
    """Where the submission windows stand at a moment (THE WINDOWS RULE above)."""

    DRAFT = "draft"
    NOT_YET = "not_yet"
    OPEN = "open"
    LATE = "late"
    CLOSED = "closed"


class LinkRule(StrEnum):
    """Whether an entry's link is asked for."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    OFF = "off"


@dataclass(frozen=True)
class Criterion:
    """One criterion of the rubric: scored 0..max, weighted by `weight`."""

    code: str
    title: dict[str, str]
    weight: float
    max: int
    description: dict[str, str] | None = None

    def title_in(self, language: str) -> str:
        """The title in `language` (else English)."""
        return pick(self.title, language)


@dataclass(frozen=True)
class FileRule:
    """Which files an entry may carry."""

    types: tuple[str, ...]  # lower-case extensions without the dot; () when no files
    max_count: int  # 0: entries carry no files
    min_count: int
    max_bytes: int

    @property
    def max_mb(self) -> int:
        """The size limit in megabytes."""
        return self.max_bytes // MB


@dataclass(frozen=True)
class ContestView:
    """A contest: texts, windows, entry fields, rubric and review rules, the duties' marks."""

    id: int
    code: str
    pack_version: int
    title: dict[str, str]  # language -> text
    rules: dict[str, str]
    state: ContestState
    opens_at: datetime | None  # UTC
    deadline_at: datetime | None
    late_until: datetime | None  # None: no late entries
    jury_deadline_at: datetime | None
    title_max: int
    description_required: bool
    description_max: int
    link: LinkRule
    files: FileRule
    max_authors: int  # the owner included
    criteria: tuple[Criterion, ...]
    reviews_per_entry: int
    blind: bool
    exclude_conflicts: bool
    standardise: bool
    show_feedback: bool
    jury_code: str | None
    created_by_id: int | None
    drafts_reminded_at: datetime | None
    allocated_at: datetime | None
    allocation_note: str | None
    jurors_reminded_at: datetime | None
    released_at: datetime | None

    def title_in(self, language: str) -> str:
        """The title in `language` (else English)."""
        return pick(self.title, language)

    def rules_in(self, language: str) -> str:
        """The rules in `language` (else English)."""
        return pick(self.rules, language)

    @property
    def closes_at(self) -> datetime | None:
        """When submissions close: the late cut-off when there is one, else the deadline."""
        return self.late_until or self.deadline_at

    @property
    def team(self) -> bool:
        """Whether entries may have co-authors."""
        return self.max_authors > 1

    def phase(self, now: datetime | None = None) -> Phase:
        """Where the windows stand at `now` (THE WINDOWS RULE)."""
        return phase_of(self.opens_at, self.deadline_at, self.late_until, now or utcnow())

    def accepting(self, now: datetime | None = None) -> bool:
        """Drafts may be written and submitted (on time or late)."""
        return self.phase(now) in (Phase.OPEN, Phase.LATE)

    def editable(self, now: datetime | None = None) -> bool:
        """Submitted entries may be edited or withdrawn: before the deadline."""
        return self.phase(now) is Phase.OPEN

    def criterion(self, code: str) -> Criterion | None:
        """The criterion with this code, or None."""
        return next((c for c in self.criteria if c.code == code), None)


def pick(texts: Mapping[str, str] | None, language: str) -> str:
    """The text in `language`, else English, else any."""
    if not texts:
        return ""
    for lang in (language, "en"):
        if texts.get(lang):
            return texts[lang]
    return next(iter(texts.values()), "")


def phase_of(
    opens_at: datetime | None,
    deadline_at: datetime | None,
    late_until: datetime | None,
    now: datetime,
) -> Phase:
    """THE WINDOWS RULE, on the bare times."""
    if opens_at is None or deadline_at is None:
        return Phase.DRAFT
    if now < opens_at:
        return Phase.NOT_YET
    if now < deadline_at:
        return Phase.OPEN
    if late_until is not None and now < late_until:
        return Phase.LATE
    return Phase.CLOSED


def _texts(value: Any) -> dict[str, str]:
    """A stored {kk, ru, en} mapping as a plain dict (empty when absent)."""
    return {str(k): str(v) for k, v in dict(value or {}).items()}


def view(contest: Contest) -> ContestView:
    """The view of a stored contest (its definition read back as validated data)."""
    definition: dict[str, Any] = dict(contest.definition or {})
    entry: dict[str, Any] = dict(definition.get("entry") or {})
    files: dict[str, Any] | None = entry.get("files")
    title_field = dict(entry.get("title") or {})
    description = dict(entry.get("description") or {})
    rule = (
        FileRule(
            types=tuple(str(t) for t in files.get("types", ())),
            max_count=int(files.get("max_count", 0)),
            min_count=int(files.get("min_count", 0)),
            max_bytes=int(files.get("max_mb", FILE_MAX_MB)) * MB,
        )
        if files
        else FileRule((), 0, 0, FILE_MAX_MB * MB)
    )
    criteria = tuple(
        Criterion(
            code=str(c["code"]),
            title=_texts(c.get("title")),
            weight=float(c["weight"]),
            max=int(c["max"]),
            description=_texts(c["description"]) if c.get("description") else None,
        )
        for c in definition.get("criteria", ())
    )
    return ContestView(
        id=contest.id,
        code=contest.code,
        pack_version=contest.pack_version,
        title=_texts(contest.title),
        rules=_texts(definition.get("rules")),
        state=ContestState(contest.state),
        opens_at=contest.opens_at,
        deadline_at=contest.deadline_at,
        late_until=contest.late_until,
        jury_deadline_at=contest.jury_deadline_at,
        title_max=int(title_field.get("max_length", 200)),
        description_required=bool(description.get("required", True)),
        description_max=int(description.get("max_length", 2000)),
        link=LinkRule(entry.get("link", LinkRule.OPTIONAL.value)),
        files=rule,
        max_authors=contest.max_authors,
        criteria=criteria,
        reviews_per_entry=contest.reviews_per_entry,
        blind=contest.blind,
        exclude_conflicts=contest.exclude_conflicts,
        standardise=contest.standardise,
        show_feedback=contest.show_feedback,
        jury_code=contest.jury_code,
        created_by_id=contest.created_by_id,
        drafts_reminded_at=contest.drafts_reminded_at,
        allocated_at=contest.allocated_at,
        allocation_note=contest.allocation_note,
        jurors_reminded_at=contest.jurors_reminded_at,
        released_at=contest.released_at,
    )


def new_code(length: int = 8) -> str:
    """A random code people can read aloud (no O/0, I/1)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


async def get(db: Sessionmaker, contest_id: int) -> ContestView:
    """The contest with this id.

    Raises:
        NotFound: `contest.not_found`.
    """
    async with db() as session:
        contest = await session.get(Contest, contest_id)
        if contest is None:
            raise NotFound("contest.not_found")
        return view(contest)


async def by_code(db: Sessionmaker, code: str) -> ContestView:
    """The contest with this code.

    Raises:
        NotFound: `contest.not_found`.
    """
    async with db() as session:
        contest = await session.scalar(select(Contest).where(Contest.code == code))
        if contest is None:
            raise NotFound("contest.not_found")
        return view(contest)


async def list_open(db: Sessionmaker, now: datetime | None = None) -> list[ContestView]:
    """The contests accepting entries at `now` (on time or late), the nearest deadline first."""
    now = now or utcnow()
    async with db() as session:
        rows = (
            await session.scalars(
                select(Contest)
                .where(
                    Contest.opens_at.is_not(None),
                    Contest.opens_at <= now,
                    or_(
                        Contest.deadline_at > now,
                        Contest.late_until > now,
                    ),
                )
                .order_by(Contest.deadline_at, Contest.id)
            )
        ).all()
        return [view(row) for row in rows]


async def list_all(db: Sessionmaker) -> list[ContestView]:
    """Every contest, the newest first (organizers' list)."""
    async with db() as session:
        rows = (await session.scalars(select(Contest).order_by(Contest.id.desc()))).all()
        return [view(row) for row in rows]


async def set_windows(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    contest_id: int,
    *,
    opens_at: datetime,
    deadline_at: datetime,
    late_until: datetime | None,
    jury_deadline_at: datetime,
) -> ContestView:
    """Set (or move) a contest's windows; organizers and admins only. Times in UTC.

    The order is the pack's: opens < deadline <= late cut-off < jury deadline. Moving the
    deadline later lets the draft reminder go again only if it has not gone yet.

    Raises:
        PermissionDenied: not an organizer or admin.
        NotFound: `contest.not_found`.
        InvalidInput: `contest.windows_order` for times out of order.
    """
    closes = late_until or deadline_at
    if not (
        opens_at < deadline_at
        and (late_until is None or deadline_at <= late_until)
        and closes < jury_deadline_at
    ):
        raise InvalidInput("contest.windows_order")
    async with db.begin() as session:
        await require(session, actor_id, admin_ids, *MANAGERS)
        contest = await session.get(Contest, contest_id, with_for_update=True)
        if contest is None:
            raise NotFound("contest.not_found")
        contest.opens_at = opens_at
        contest.deadline_at = deadline_at
        contest.late_until = late_until
        contest.jury_deadline_at = jury_deadline_at
        if contest.state == ContestState.DRAFT.value:
            contest.state = ContestState.OPEN.value
        await session.flush()
        return view(contest)
