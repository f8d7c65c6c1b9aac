"""The organizers' contest setup: a working copy of a contest's definition, edited in chat.

`/contest_setup` (organizers and admins) edits a copy of a contest pack (`ContestSetup`), never
the contest itself: the default contest loaded from `content/contests/`, any other one, or a
new one. Every typed value and button is checked on its own and saved into the copy at once, so
a restart or /cancel loses nothing; Save then puts the whole copy through the same checks as a
pack file (`bot.content.validate.check_data`, `bot.content.contest_schema`) and the same loader
(`bot.services.content.load_reports`), which stores it on the contest as its next pack version
and refuses what the contest's history has locked. A refusal names the pack path and the
schema's reason.

What is typed, and how it is read (each refusal an `InvalidInput` with its own key):

- the code (a new contest only): `a-z`, digits and `_`, 2 to 40, not taken;
- the title and the rules: text with optional `[kk]`/`[ru]`/`[en]` sections; the languages
  named are replaced and the others kept, so long rules can come one language per message;
  text without sections is the same in every language;
- the four dates (`bot.services.times.read_day_time`: `2027-04-15 23:59`, `15.04.2027 23:59`,
  `15.04 23:59`) in the bot's zone, kept with their UTC offset as the pack keeps them; their
  order is checked at Save by the schema (and shown in the overview before);
- the file types (`pdf, docx, pptx`; `-` for no files), the file count (`5`, or `1-5` for at
  least one), the team size (1 to 10 authors), the reviews per entry (1 to 10);
- a criterion, added in four steps kept in the copy (`_criterion`): its code, its title (one
  text per language, or one for all), its weight (> 0, relative), its maximum score (1..100).

THE LOCKS (the loader's, `bot.services.content`, explained before anything is typed): once a
contest has entries its entry fields (link, files, team size) stay; once its entries are
allocated to jurors its criteria and review rules stay; once its results are released whether
authors see feedback stays. Titles, rules and dates may always change.

Two organizers editing one contest each have their own copy; a save over a version saved
since the copy was taken is refused (`contest.setup_stale`) rather than undoing the other's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.contest_schema import (
    AUTHORS_MAX,
    CONTEST_CODE_PATTERN,
    CONTEST_TITLE_MAX,
    CRITERIA_MAX,
    CRITERION_MAX_SCORE,
    CRITERION_TITLE_MAX,
    ENTRY_TITLE_MAX,
    EXTENSION_PATTERN,
    FILE_MAX_MB,
    FILES_MAX,
    REVIEWS_MAX,
    Windows,
)
from bot.content.course_schema import MESSAGE_MAX, paragraphs
from bot.content.schema import CODE_PATTERN
from bot.content.validate import ContentError, check_data
from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound, PermissionDenied
from bot.services.content import load_reports
from bot.services.contest import MANAGERS, ContestView, LinkRule, view
from bot.services.roles import require
from bot.services.times import read_day_time
from bot.text import clean_block, clean_line, visible
from models import Contest, ContestEntry, ContestSetup, User, utcnow

LANGUAGES = ("kk", "ru", "en")
PENDING = "_criterion"  # a criterion being added, step by step
TIME_EXAMPLE = "15.04.2027 23:59"
TYPES_MAX = 30
WEIGHT_MAX = 1000
_SECTION = re.compile(r"^\[(kk|ru|en)\][ \t]*\n?", re.MULTILINE)
_NONE = frozenset({"-", "—", "0", "no", "none", "нет", "жоқ"})
_RANGE = re.compile(r"(\d{1,2})\s*[-–—]\s*(\d{1,2})")
_SEPARATORS = re.compile(r"[\s,;]+")


class Field(StrEnum):
    """A typed value of the definition (the awaited step of the wizard)."""

    CODE = "code"
    TITLE = "title"
    RULES = "rules"
    OPENS = "opens"
    DEADLINE = "deadline"
    LATE = "late"
    JURY = "jury"
    TYPES = "types"
    FILES = "files"
    TEAM = "team"
    REVIEWS = "reviews"
    CRITERION_CODE = "criterion_code"
    CRITERION_TITLE = "criterion_title"
    CRITERION_WEIGHT = "criterion_weight"
    CRITERION_MAX = "criterion_max"


class Switch(StrEnum):
    """A review rule that is on or off (the pack's key)."""

    BLIND = "blind"
    CONFLICTS = "exclude_conflicts"
    STANDARDISE = "standardise"
    FEEDBACK = "show_feedback"


# The pack's window keys, by the field that sets them.
WINDOW_KEYS: dict[Field, str] = {
    Field.OPENS: "opens",
    Field.DEADLINE: "deadline",
    Field.LATE: "late_until",
    Field.JURY: "jury_deadline",
}
_ENTRY_FIELDS = frozenset({Field.TYPES, Field.FILES, Field.TEAM})
_RUBRIC_FIELDS = frozenset(
    {
        Field.REVIEWS,
        Field.CRITERION_CODE,
        Field.CRITERION_TITLE,
        Field.CRITERION_WEIGHT,
        Field.CRITERION_MAX,
    }
)


@dataclass(frozen=True)
class Locks:
    """What the contest's history has fixed (THE LOCKS)."""

    entries: int  # entries made (drafts included): entry fields fixed
    allocated: bool  # criteria and review rules fixed
    released: bool  # whether authors see feedback fixed

    def check_entry_fields(self) -> None:
        """Raises `contest.setup_locked_entries` (count) once entries exist."""
        if self.entries:
            raise InvalidInput("contest.setup_locked_entries", count=self.entries)

    def check_rubric(self) -> None:
        """Raises `contest.setup_locked_allocated` once entries are allocated."""
        if self.allocated:
            raise InvalidInput("contest.setup_locked_allocated")

    def check_feedback(self) -> None:
        """Raises `contest.setup_locked_released` once results are released."""
        if self.released:
            raise InvalidInput("contest.setup_locked_released")


NO_LOCKS = Locks(0, False, False)


@dataclass(frozen=True)
class SetupView:
    """A working copy as the wizard shows it."""

    id: int
    contest_id: int | None  # None: a new contest
    base_version: int | None
    definition: dict[str, Any]
    locks: Locks
    changed: bool  # differs from the stored contest (a new one: always)
    jury_code: str | None

    @property
    def code(self) -> str | None:
        """The contest's code (None until a new contest has one)."""
        code = self.definition.get("code")
        return str(code) if code else None

    def text(self, key: str, language: str) -> str:
        """The title or rules in `language` ("" when not given yet)."""
        return str(dict(self.definition.get(key) or {}).get(language) or "")

    def languages(self, key: str) -> tuple[str, ...]:
        """The languages the title or rules are given in."""
        texts = dict(self.definition.get(key) or {})
        return tuple(lang for lang in LANGUAGES if texts.get(lang))

    def moment(self, field: Field) -> datetime | None:
        """A window's time (aware), or None when not set."""
        raw = dict(self.definition.get("windows") or {}).get(WINDOW_KEYS[field])
        return datetime.fromisoformat(raw) if raw else None

    @property
    def windows_problem(self) -> str | None:
        """The schema's reason the dates are refused (out of order), or None."""
        windows = dict(self.definition.get("windows") or {})
        if not all(windows.get(k) for k in ("opens", "deadline", "jury_deadline")):
            return None
        try:
            Windows.model_validate(windows)
        except ValidationError as exc:
            return _reason(exc)
        return None

    @property
    def entry(self) -> dict[str, Any]:
        """The entry fields."""
        return dict(self.definition.get("entry") or {})

    @property
    def link(self) -> LinkRule:
        """Whether entries carry a link."""
        return LinkRule(self.entry.get("link", LinkRule.OPTIONAL.value))

    @property
    def files(self) -> dict[str, Any] | None:
        """The files rule (types, max_count, min_count, max_mb), or None: no files."""
        files = self.entry.get("files")
        return dict(files) if files else None

    @property
    def max_authors(self) -> int:
        """Authors an entry may have, the owner included."""
        return int(self.entry.get("max_authors", 1))

    @property
    def criteria(self) -> list[dict[str, Any]]:
        """The rubric: each {code, title, weight, max}."""
        return [dict(c) for c in self.definition.get("criteria") or ()]

    @property
    def pending(self) -> dict[str, Any] | None:
        """The criterion being added (its code, and what was given since), or None."""
        pending = self.definition.get(PENDING)
        return dict(pending) if pending else None

    def switch(self, switch: Switch) -> bool:
        """Whether a review rule is on."""
        default = switch is not Switch.STANDARDISE
        return bool(self.definition.get(switch.value, default))

    @property
    def reviews_per_entry(self) -> int:
        """Reviews each entry gets."""
        return int(self.definition.get("reviews_per_entry", 3))


@dataclass(frozen=True)
class Saved:
    """What Save did: the contest as stored, and "created", "new_version" or "unchanged"."""

    contest: ContestView
    status: str


class SetupRefused(InvalidInput):
    """Save refused the definition: each problem with its pack path and the schema's reason."""

    def __init__(self, errors: list[ContentError]):
        """Keep the problems; the key introduces them."""
        super().__init__("contest.setup_refused", count=len(errors))
        self.errors = errors


# --- reading the copy -------------------------------------------------------------------------


def _reason(exc: ValidationError) -> str:
    """The schema's first reason, as a pack report words it."""
    error = exc.errors()[0]
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


def _iso(moment: datetime | None, zone: tzinfo) -> str | None:
    """A stored UTC moment as the pack keeps it: in the bot's zone, with its offset."""
    return moment.astimezone(zone).isoformat() if moment is not None else None


def from_contest(contest: Contest, zone: tzinfo) -> dict[str, Any]:
    """The stored contest as a pack to edit: its definition, its windows as now set."""
    definition: dict[str, Any] = dict(contest.definition or {})
    definition["kind"] = "contest"
    definition["code"] = contest.code
    definition["version"] = contest.pack_version
    definition["title"] = dict(contest.title or {})
    if contest.opens_at and contest.deadline_at and contest.jury_deadline_at:
        windows = {
            "opens": _iso(contest.opens_at, zone),
            "deadline": _iso(contest.deadline_at, zone),
            "jury_deadline": _iso(contest.jury_deadline_at, zone),
        }
        if contest.late_until is not None:
            windows["late_until"] = _iso(contest.late_until, zone)
        definition["windows"] = windows
    else:
        definition.pop("windows", None)
    return definition


def _new_definition() -> dict[str, Any]:
    """A new contest before anything is typed: the pack's defaults, no criteria yet."""
    return {
        "kind": "contest",
        "version": 1,
        "title": {},
        "rules": {},
        "entry": {
            "title": {"max_length": ENTRY_TITLE_MAX},
            "description": {"required": True, "max_length": 2000},
            "link": LinkRule.OPTIONAL.value,
            "files": {
                "types": ["pdf", "docx", "pptx"],
                "max_count": 3,
                "min_count": 0,
                "max_mb": FILE_MAX_MB,
            },
            "max_authors": 1,
        },
        "criteria": [],
        "reviews_per_entry": 3,
        "blind": True,
        "exclude_conflicts": True,
        "standardise": False,
        "show_feedback": True,
    }


def _pack(definition: dict[str, Any]) -> dict[str, Any]:
    """The copy as a pack: without what the wizard keeps for itself."""
    return {k: v for k, v in definition.items() if not k.startswith("_")}


def _comparable(definition: dict[str, Any]) -> dict[str, Any]:
    """What tells a changed copy from the stored contest: the pack, the version left out.

    Windows are compared as moments: the same time written with another offset is the same.
    """
    pack = _pack(definition)
    pack.pop("version", None)
    windows = pack.get("windows")
    if windows:
        pack["windows"] = {
            k: datetime.fromisoformat(v).astimezone(UTC).isoformat() for k, v in windows.items()
        }
    return pack


async def _locks(session: AsyncSession, contest: Contest | None) -> Locks:
    if contest is None:
        return NO_LOCKS
    entries = await session.scalar(
        select(func.count(ContestEntry.id)).where(ContestEntry.contest_id == contest.id)
    )
    return Locks(
        int(entries or 0), contest.allocated_at is not None, contest.released_at is not None
    )


async def _view(session: AsyncSession, row: ContestSetup, zone: tzinfo) -> SetupView:
    contest = await session.get(Contest, row.contest_id) if row.contest_id else None
    changed = contest is None or _comparable(row.definition) != _comparable(
        from_contest(contest, zone)
    )
    return SetupView(
        id=row.id,
        contest_id=row.contest_id,
        base_version=row.base_version,
        definition=dict(row.definition),
        locks=await _locks(session, contest),
        changed=changed,
        jury_code=contest.jury_code if contest is not None else None,
    )


async def _manager(session: AsyncSession, telegram_id: int, admin_ids: frozenset[int]) -> User:
    user, _ = await require(session, telegram_id, admin_ids, *MANAGERS)
    return user


async def _own(
    session: AsyncSession, telegram_id: int, admin_ids: frozenset[int], setup_id: int
) -> ContestSetup:
    """The copy, if it is this organizer's (locked for the change).

    Raises:
        PermissionDenied: not an organizer or admin; `contest.setup_not_yours`.
        NotFound: `contest.setup_gone` (saved or discarded meanwhile).
    """
    user = await _manager(session, telegram_id, admin_ids)
    row = await session.scalar(
        select(ContestSetup).where(ContestSetup.id == setup_id).with_for_update()
    )
    if row is None:
        raise NotFound("contest.setup_gone")
    if row.user_id != user.id:
        raise PermissionDenied("contest.setup_not_yours")
    return row


# --- opening ----------------------------------------------------------------------------------


async def drafts(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int]
) -> dict[int | None, int]:
    """The organizer's copies: contest id (None: the new contest) -> copy id."""
    async with db() as session:
        user = await _manager(session, telegram_id, admin_ids)
        rows = (
            await session.execute(
                select(ContestSetup.contest_id, ContestSetup.id).where(
                    ContestSetup.user_id == user.id
                )
            )
        ).all()
        return {contest_id: setup_id for contest_id, setup_id in rows}  # noqa: C416 - typed rows


async def open_contest(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int], contest_id: int, zone: tzinfo
) -> SetupView:
    """My copy of a contest: the one I have, else a new copy of the stored contest.

    Raises:
        PermissionDenied: not an organizer or admin.
        NotFound: `contest.not_found`.
    """
    async with db.begin() as session:
        user = await _manager(session, telegram_id, admin_ids)
        contest = await session.get(Contest, contest_id)
        if contest is None:
            raise NotFound("contest.not_found")
        row = await session.scalar(
            select(ContestSetup).where(
                ContestSetup.user_id == user.id, ContestSetup.contest_id == contest_id
            )
        )
        if row is None:
            row = ContestSetup(
                user_id=user.id,
                contest_id=contest_id,
                base_version=contest.pack_version,
                definition=from_contest(contest, zone),
            )
            session.add(row)
            await session.flush()
        return await _view(session, row, zone)


async def open_new(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int], zone: tzinfo
) -> SetupView:
    """My new contest being set up: the one I started, else a fresh one with the defaults.

    Raises:
        PermissionDenied: not an organizer or admin.
    """
    async with db.begin() as session:
        user = await _manager(session, telegram_id, admin_ids)
        row = await session.scalar(
            select(ContestSetup)
            .where(ContestSetup.user_id == user.id, ContestSetup.contest_id.is_(None))
            .order_by(ContestSetup.id)
            .limit(1)
        )
        if row is None:
            row = ContestSetup(user_id=user.id, contest_id=None, definition=_new_definition())
            session.add(row)
            await session.flush()
        return await _view(session, row, zone)


async def get(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int], setup_id: int, zone: tzinfo
) -> SetupView:
    """My copy with this id.

    Raises:
        PermissionDenied: not an organizer or admin, `contest.setup_not_yours`.
        NotFound: `contest.setup_gone`.
    """
    async with db.begin() as session:
        row = await _own(session, telegram_id, admin_ids, setup_id)
        return await _view(session, row, zone)


def check_open(view: SetupView, field: Field) -> None:
    """Refuse, before asking, a value the contest's history has locked (THE LOCKS).

    Raises:
        InvalidInput: the lock's key; `contest.setup_code_fixed` for a saved contest's code.
    """
    if field is Field.CODE and view.contest_id is not None:
        raise InvalidInput("contest.setup_code_fixed")
    if field in _ENTRY_FIELDS:
        view.locks.check_entry_fields()
    if field in _RUBRIC_FIELDS:
        view.locks.check_rubric()
        if field is Field.CRITERION_CODE and len(view.criteria) >= CRITERIA_MAX:
            raise InvalidInput("contest.setup_criteria_full", max=CRITERIA_MAX)


# --- reading what is typed ----------------------------------------------------------------------


def split_sections(text: str) -> dict[str, str]:
    """`[kk] … [ru] … [en] …` sections as language -> text; unmarked text under "*".

    Raises:
        InvalidInput: `contest.setup_unmarked` (text both outside and inside sections).
    """
    marks = list(_SECTION.finditer(text))
    if not marks:
        return {"*": text}
    lead = clean_block(text[: marks[0].start()])
    if lead:
        raise InvalidInput("contest.setup_unmarked")
    found: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        found[mark.group(1)] = text[mark.end() : end]
    return found


def read_texts(
    text: str, *, line: bool, limit: int, every: bool = False, paragraph_limit: int | None = None
) -> dict[str, str]:
    """Typed text for some or all languages, each cleaned and checked.

    `every`: all three languages needed at once (or one text for all).

    Raises:
        InvalidInput: `contest.setup_text_empty`, `contest.setup_text_too_long` (section,
            length, max), `contest.setup_paragraph_too_long` (section, number, max),
            `contest.setup_missing_language` (languages), `contest.setup_unmarked`.
    """
    sections = split_sections(text or "")
    texts: dict[str, str] = {}
    for language, body in sections.items():
        cleaned = clean_line(body) if line else clean_block(body)
        section = "" if language == "*" else f"[{language}] "
        if not cleaned:
            raise InvalidInput("contest.setup_text_empty", section=section)
        if len(cleaned) > limit:
            raise InvalidInput(
                "contest.setup_text_too_long", section=section, length=len(cleaned), max=limit
            )
        if paragraph_limit is not None:
            for number, part in enumerate(paragraphs(cleaned), 1):
                if len(part) > paragraph_limit:
                    raise InvalidInput(
                        "contest.setup_paragraph_too_long",
                        section=section,
                        number=number,
                        max=paragraph_limit,
                    )
        for lang in LANGUAGES if language == "*" else (language,):
            texts[lang] = cleaned
    missing = [lang for lang in LANGUAGES if lang not in texts]
    if every and missing:
        raise InvalidInput("contest.setup_missing_language", languages=", ".join(missing))
    return texts


def read_moment(text: str, zone: tzinfo, now: datetime) -> datetime:
    """A typed date and time in the bot's zone, aware in that zone.

    Raises:
        InvalidInput: `contest.setup_bad_time` (example).
    """
    moment = read_day_time(text, zone, now)
    if moment is None:
        raise InvalidInput("contest.setup_bad_time", example=TIME_EXAMPLE)
    return moment


def read_number(text: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`.

    Raises:
        InvalidInput: `contest.setup_bad_number` (low, high).
    """
    typed = visible(text)
    if typed.isascii() and typed.isdigit() and low <= int(typed) <= high:
        return int(typed)
    raise InvalidInput("contest.setup_bad_number", low=low, high=high)


def read_types(text: str) -> list[str] | None:
    """File types as extensions (`pdf, .docx PPTX`), or None for no files (`-`).

    Raises:
        InvalidInput: `contest.setup_bad_types` (bad: what is not an extension; max).
    """
    typed = visible(text).lower()
    if typed in _NONE:
        return None
    types: list[str] = []
    bad: list[str] = []
    for part in _SEPARATORS.split(typed):
        ext = part.lstrip(".").lstrip("*").lstrip(".")
        if not ext:
            continue
        if not re.fullmatch(EXTENSION_PATTERN, ext):
            bad.append(part)
        elif ext not in types:
            types.append(ext)
    if bad or not types or len(types) > TYPES_MAX:
        raise InvalidInput("contest.setup_bad_types", bad=", ".join(bad) or "—", max=TYPES_MAX)
    return types


def read_count(text: str) -> tuple[int, int]:
    """How many files an entry carries: `5` (0 to 5) or `1-5`: (min, max).

    Raises:
        InvalidInput: `contest.setup_bad_count` (max).
    """
    typed = visible(text)
    match = _RANGE.fullmatch(typed)
    if match is not None:
        low, high = int(match[1]), int(match[2])
    elif typed.isascii() and typed.isdigit():
        low, high = 0, int(typed)
    else:
        raise InvalidInput("contest.setup_bad_count", max=FILES_MAX)
    if not (1 <= high <= FILES_MAX and 0 <= low <= high):
        raise InvalidInput("contest.setup_bad_count", max=FILES_MAX)
    return low, high


def read_weight(text: str) -> float | int:
    """A criterion's weight: a number above 0, at most 1000 (`20`, `2.5`, `2,5`).

    Raises:
        InvalidInput: `contest.setup_bad_weight` (max).
    """
    typed = visible(text).replace(",", ".")
    try:
        weight = float(typed)
    except ValueError:
        raise InvalidInput("contest.setup_bad_weight", max=WEIGHT_MAX) from None
    if not (0 < weight <= WEIGHT_MAX) or weight != weight:
        raise InvalidInput("contest.setup_bad_weight", max=WEIGHT_MAX)
    return int(weight) if weight == int(weight) else weight


# --- changing the copy --------------------------------------------------------------------------


async def _change(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    setup_id: int,
    zone: tzinfo,
    change: Any,
) -> SetupView:
    """Apply `change(session, view, definition)` to my copy and save it, in one transaction."""
    async with db.begin() as session:
        row = await _own(session, telegram_id, admin_ids, setup_id)
        before = await _view(session, row, zone)
        definition = dict(row.definition)
        await change(session, before, definition)
        row.definition = definition
        row.updated_at = utcnow()
        await session.flush()
        return await _view(session, row, zone)


async def set_value(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    setup_id: int,
    field: Field,
    text: str,
    *,
    zone: tzinfo,
    now: datetime | None = None,
) -> SetupView:
    """Save one typed value into my copy (checked on its own; see the module's docstring).

    Raises:
        InvalidInput: the value's own refusal, or a lock's (THE LOCKS);
            `contest.setup_no_criterion` for a criterion step with none being added.
        PermissionDenied, NotFound: as `get`.
    """
    moment_now = now or utcnow()

    async def change(session: AsyncSession, view: SetupView, definition: dict[str, Any]) -> None:
        check_open(view, field)
        entry = dict(definition.get("entry") or {})
        if field is Field.CODE:
            code = visible(text).lower()
            if not re.fullmatch(CONTEST_CODE_PATTERN, code):
                raise InvalidInput("contest.setup_bad_code", example="platform_contest_2027")
            taken = await session.scalar(select(Contest.id).where(Contest.code == code))
            if taken is not None:
                raise InvalidInput("contest.setup_code_taken", code=code)
            definition["code"] = code
        elif field is Field.TITLE:
            texts = read_texts(text, line=True, limit=CONTEST_TITLE_MAX)
            definition["title"] = {**dict(definition.get("title") or {}), **texts}
        elif field is Field.RULES:
            texts = read_texts(
                text, line=False, limit=4 * MESSAGE_MAX, paragraph_limit=MESSAGE_MAX
            )
            definition["rules"] = {**dict(definition.get("rules") or {}), **texts}
        elif field in WINDOW_KEYS:
            moment = read_moment(text, zone, moment_now)
            windows = dict(definition.get("windows") or {})
            windows[WINDOW_KEYS[field]] = moment.isoformat()
            definition["windows"] = windows
        elif field is Field.TYPES:
            types = read_types(text)
            if types is None:
                entry.pop("files", None)
            else:
                files = dict(entry.get("files") or {"max_count": 3, "min_count": 0})
                files["types"] = types
                files["max_mb"] = FILE_MAX_MB
                entry["files"] = files
        elif field is Field.FILES:
            if not entry.get("files"):
                raise InvalidInput("contest.setup_no_files")
            low, high = read_count(text)
            entry["files"] = {**dict(entry["files"]), "min_count": low, "max_count": high}
        elif field is Field.TEAM:
            entry["max_authors"] = read_number(text, 1, AUTHORS_MAX)
        elif field is Field.REVIEWS:
            definition["reviews_per_entry"] = read_number(text, 1, REVIEWS_MAX)
        else:
            _criterion_step(definition, field, text)
        definition["entry"] = entry

    return await _change(db, telegram_id, admin_ids, setup_id, zone, change)


def _criterion_step(definition: dict[str, Any], field: Field, text: str) -> None:
    """One step of adding a criterion: code, title, weight, then max (which adds it)."""
    pending = dict(definition.get(PENDING) or {})
    if field is Field.CRITERION_CODE:
        code = visible(text).lower()
        if not re.fullmatch(CODE_PATTERN, code):
            raise InvalidInput("contest.setup_bad_criterion_code", example="usability")
        if any(c.get("code") == code for c in definition.get("criteria") or ()):
            raise InvalidInput("contest.setup_criterion_taken", code=code)
        definition[PENDING] = {"code": code}
        return
    if "code" not in pending:
        raise InvalidInput("contest.setup_no_criterion")
    if field is Field.CRITERION_TITLE:
        pending["title"] = read_texts(text, line=True, limit=CRITERION_TITLE_MAX, every=True)
    elif field is Field.CRITERION_WEIGHT:
        pending["weight"] = read_weight(text)
    else:  # Field.CRITERION_MAX: the last step adds the criterion
        if "title" not in pending or "weight" not in pending:
            raise InvalidInput("contest.setup_no_criterion")
        pending["max"] = read_number(text, 1, CRITERION_MAX_SCORE)
        criteria = list(definition.get("criteria") or ())
        if any(c.get("code") == pending["code"] for c in criteria):
            raise InvalidInput("contest.setup_criterion_taken", code=pending["code"])
        criteria.append(pending)
        definition["criteria"] = criteria
        definition.pop(PENDING, None)
        return
    definition[PENDING] = pending


async def clear(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    setup_id: int,
    field: Field,
    *,
    zone: tzinfo,
) -> SetupView:
    """Clear an optional value: the late cut-off (`LATE`), the files (`TYPES`).

    Raises:
        InvalidInput: a lock's refusal; `contest.setup_not_optional` for anything else.
    """

    async def change(session: AsyncSession, view: SetupView, definition: dict[str, Any]) -> None:
        check_open(view, field)
        if field is Field.LATE:
            windows = dict(definition.get("windows") or {})
            windows.pop("late_until", None)
            definition["windows"] = windows
        elif field is Field.TYPES:
            entry = dict(definition.get("entry") or {})
            entry.pop("files", None)
            definition["entry"] = entry
        else:
            raise InvalidInput("contest.setup_not_optional")

    return await _change(db, telegram_id, admin_ids, setup_id, zone, change)


async def set_link(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    setup_id: int,
    rule: LinkRule,
    *,
    zone: tzinfo,
) -> SetupView:
    """Whether entries carry a link: required, optional or off.

    Raises:
        InvalidInput: `contest.setup_locked_entries` once entries exist.
    """

    async def change(session: AsyncSession, view: SetupView, definition: dict[str, Any]) -> None:
        view.locks.check_entry_fields()
        definition["entry"] = {**dict(definition.get("entry") or {}), "link": rule.value}

    return await _change(db, telegram_id, admin_ids, setup_id, zone, change)


async def toggle(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    setup_id: int,
    switch: Switch,
    *,
    zone: tzinfo,
) -> SetupView:
    """Switch a review rule on or off.

    Raises:
        InvalidInput: `contest.setup_locked_allocated` (blind, conflicts, standardise after
            the allocation), `contest.setup_locked_released` (feedback after the release).
    """

    async def change(session: AsyncSession, view: SetupView, definition: dict[str, Any]) -> None:
        if switch is Switch.FEEDBACK:
            view.locks.check_feedback()
        else:
            view.locks.check_rubric()
        definition[switch.value] = not view.switch(switch)

    return await _change(db, telegram_id, admin_ids, setup_id, zone, change)


async def remove_criterion(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    setup_id: int,
    code: str,
    *,
    zone: tzinfo,
) -> SetupView:
    """Remove a criterion from the rubric (or the one being added).

    Raises:
        InvalidInput: `contest.setup_locked_allocated`; `contest.setup_criterion_gone`.
    """

    async def change(session: AsyncSession, view: SetupView, definition: dict[str, Any]) -> None:
        view.locks.check_rubric()
        criteria = list(definition.get("criteria") or ())
        kept = [c for c in criteria if c.get("code") != code]
        pending = dict(definition.get(PENDING) or {})
        if len(kept) == len(criteria) and pending.get("code") != code:
            raise InvalidInput("contest.setup_criterion_gone")
        definition["criteria"] = kept
        if pending.get("code") == code:
            definition.pop(PENDING, None)

    return await _change(db, telegram_id, admin_ids, setup_id, zone, change)


# --- saving -------------------------------------------------------------------------------------


async def save(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    setup_id: int,
    *,
    zone: tzinfo,
) -> Saved:
    """Check the copy as a pack and store it on the contest (its next version); drop the copy.

    Raises:
        SetupRefused: the schema's or the loader's problems, each with path and reason.
        InvalidInput: `contest.setup_stale` (version: saved by someone else since),
            `contest.setup_no_code` (a new contest without its code yet).
        PermissionDenied, NotFound: as `get`.
    """
    async with db.begin() as session:
        row = await _own(session, telegram_id, admin_ids, setup_id)
        user_id = row.user_id
        contest = await session.get(Contest, row.contest_id) if row.contest_id else None
        pack = _pack(row.definition)
        if contest is not None:
            if contest.pack_version != row.base_version:
                raise InvalidInput("contest.setup_stale", version=contest.pack_version)
            if _comparable(pack) == _comparable(from_contest(contest, zone)):
                await session.delete(row)
                return Saved(view(contest), "unchanged")
            pack["version"] = contest.pack_version + 1
        else:
            if not pack.get("code"):
                raise InvalidInput("contest.setup_no_code")
            if await session.scalar(select(Contest.id).where(Contest.code == pack["code"])):
                raise InvalidInput("contest.setup_code_taken", code=pack["code"])
            pack["version"] = 1
    report = check_data(pack, f"contest {pack.get('code')}")
    if not report.ok:
        raise SetupRefused(report.errors)
    outcome = await load_reports(db, [report], loaded_by_id=user_id)
    if not outcome.ok:
        raise SetupRefused(outcome.errors)
    status = outcome.loaded[0].status if outcome.loaded else "unchanged"
    async with db.begin() as session:
        done = await session.get(ContestSetup, setup_id)
        if done is not None:
            await session.delete(done)
        stored = await session.scalar(select(Contest).where(Contest.code == pack["code"]))
        if stored is None:  # pragma: no cover - just loaded
            raise NotFound("contest.not_found")
        return Saved(view(stored), status)


async def discard(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int], setup_id: int
) -> None:
    """Throw my copy away; the contest stays as stored.

    Raises:
        PermissionDenied, NotFound: as `get`.
    """
    async with db.begin() as session:
        row = await _own(session, telegram_id, admin_ids, setup_id)
        await session.delete(row)
