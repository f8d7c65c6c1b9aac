"""Contest entries: a draft saved at every step, preview, submit, edit, withdraw, teams (issue 13).

An entry is one row per contest and owner (`ContestEntry`), created as a draft by `start` and
saved at every step of its conversation: the title, the description, the link, the files, then
the preview. `step` holds the field the bot asks for next, so a restart or an interruption
resumes exactly there (`EntryView.step`). Each field is validated when it is given, with a
clear refusal that leaves the draft as it was:

- the title: one line, not empty, at most the contest's `title_max` characters;
- the description: a block of text up to `description_max`; skipped only when optional;
- the link: an http(s) address with a host (a bare `host.tld/...` gets `https://`), at most
  500 characters; skipped only when optional; not asked when the contest has none;
- the files: Telegram `file_id`s with name, type and size. The type is the name's extension
  (else the MIME type's), one of the contest's `types`; the size at most `max_mb` (20 MB at
  most: a bot cannot download more); at most `max_count` files, and the same file once.
  `files_done` goes on to the preview when at least `min_count` are there.

THE STEP RULE: the first time through, each saved field moves the draft to the next field
(`title → description → link → files → preview`, leaving out what the contest does not ask).
From the preview, `edit(field)` asks that one field again (stored as `edit_<field>`) and
saving it goes back to the preview; so does a submitted entry being edited.

`submit` turns a complete draft into an entry with its receipt (the entry code, the time, and
"late" when it came after the deadline and before the late cut-off); submitting again gives the
same receipt. Rights and windows (`bot.services.contest`, THE WINDOWS RULE): only the owner
changes, submits or withdraws the entry (a forged button naming someone else's entry is
refused with `contest.not_yours`); a draft is written and submitted while the contest accepts
entries (open or late); a submitted entry is edited or withdrawn only until the deadline; after
that every change is refused with `contest.closed`. A withdrawn entry taken up again with
`start` is a draft again, with everything it held.

Teams: when the contest allows more than one author, co-authors join with the entry's team code
(`join`): a wrong code, a full team ("used up"), a person already an author of this or another
entry of the contest, or a contest no longer accepting are each refused with their own key.
One person is an author of one entry per contest. The owner removes a co-author, a co-author
leaves (`remove_author`).

The draft reminder (`remind_drafts`, the `contest-drafts` duty): once per contest, in the
`REMIND_BEFORE` (24 hours) before the deadline, each owner of a draft still not submitted gets
a personal message with a Continue button; `Contest.drafts_reminded_at` marks it done in the
same commit, so it goes once, and not at all when the bot was down through that whole day.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import EntryResume
from bot.db import Sessionmaker
from bot.i18n import I18n
from bot.services import InvalidInput, NotFound, PermissionDenied, audiences
from bot.services.broadcasts import open_personal_in, queue_personal
from bot.services.contest import ContestView, LinkRule, Phase, new_code, view
from bot.services.due import BATCH, DueRows, run_due
from bot.services.event_times import show_when
from bot.text import clean_block, clean_line, is_blank
from models import Contest, ContestEntry, EntryAuthor, EntryFile, University, User, utcnow

REMIND_BEFORE = timedelta(hours=24)
# The personal broadcast's audience: the contest's people (`bot.services.audiences`), ref: its id.
AUDIENCE = audiences.Audience.CONTEST.value
LINK_MAX = 500  # contest_entry.link
FILE_NAME_MAX = 256  # contest_entry_file.name
MIME_MAX = 128
FILE_ID_MAX = 256
CODE_LENGTH = 8
_EDIT = "edit_"
_TEAM_CODE = re.compile(r"[A-Z0-9]{4,16}")
_HOST = re.compile(r"^[^\s/]+\.[^\s/]+")


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


FIELDS = (Step.TITLE, Step.DESCRIPTION, Step.LINK, Step.FILES)


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
    step: Step | None  # the field asked next (PREVIEW: none), None once withdrawn
    editing: bool  # the field is asked again from the preview (saving returns there)
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


@dataclass(frozen=True)
class NewFile:
    """A file as Telegram describes it (a document, or a photo named by the handler)."""

    file_id: str
    name: str
    mime_type: str | None
    size: int | None
    file_unique_id: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What submitting gives back: the entry code, when, and whether it came late."""

    code: str
    submitted_at: datetime
    late: bool
    entry: EntryView
    contest: ContestView


@dataclass(frozen=True)
class MyEntry:
    """An entry of mine, with its contest and whether I own it."""

    contest: ContestView
    entry: EntryView
    owner: bool


@dataclass(frozen=True)
class DraftsReminded:
    """One contest's draft reminder: how many owners were told, in which broadcast."""

    contest_id: int
    reminded: int
    broadcast_id: int | None


# --- reading ----------------------------------------------------------------------------------


def _steps(contest: ContestView) -> tuple[Step, ...]:
    """The fields this contest asks for, in order."""
    steps = [Step.TITLE, Step.DESCRIPTION]
    if contest.link is not LinkRule.OFF:
        steps.append(Step.LINK)
    if contest.files.max_count > 0:
        steps.append(Step.FILES)
    return tuple(steps)


def _missing(contest: ContestView, entry: ContestEntry, files: int) -> tuple[Step, ...]:
    """The fields still needed before the entry can be submitted."""
    missing: list[Step] = []
    if not entry.title:
        missing.append(Step.TITLE)
    if contest.description_required and not entry.description:
        missing.append(Step.DESCRIPTION)
    if contest.link is LinkRule.REQUIRED and not entry.link:
        missing.append(Step.LINK)
    if contest.files.max_count > 0 and files < contest.files.min_count:
        missing.append(Step.FILES)
    return tuple(missing)


def _read_step(stored: str | None) -> tuple[Step | None, bool]:
    """The stored step as (field, editing)."""
    if stored is None:
        return None, False
    editing = stored.startswith(_EDIT)
    try:
        return Step(stored.removeprefix(_EDIT)), editing
    except ValueError:  # pragma: no cover - only this module writes it
        return Step.PREVIEW, False


async def _files(session: AsyncSession, entry_id: int) -> list[EntryFile]:
    return list(
        (
            await session.scalars(
                select(EntryFile)
                .where(EntryFile.entry_id == entry_id)
                .order_by(EntryFile.position, EntryFile.id)
            )
        ).all()
    )


async def _authors(session: AsyncSession, entry_id: int) -> list[AuthorView]:
    rows = (
        await session.execute(
            select(EntryAuthor, User, University)
            .join(User, User.id == EntryAuthor.user_id)
            .outerjoin(University, University.id == User.university_id)
            .where(EntryAuthor.entry_id == entry_id)
            .order_by(EntryAuthor.owner.desc(), EntryAuthor.joined_at, EntryAuthor.id)
        )
    ).all()
    return [
        AuthorView(
            user_id=user.id,
            telegram_id=user.telegram_id,
            name=user.first_name,
            university_id=user.university_id,
            university=(
                {"kk": uni.name_kk, "ru": uni.name_ru, "en": uni.name_en}
                if uni is not None
                else None
            ),
            owner=author.owner,
            joined_at=author.joined_at,
        )
        for author, user, uni in rows
    ]


async def entry_view(
    session: AsyncSession, entry: ContestEntry, contest: ContestView | None = None
) -> EntryView:
    """The view of a stored entry, read in the caller's session."""
    if contest is None:
        row = await session.get(Contest, entry.contest_id)
        assert row is not None
        contest = view(row)
    files = await _files(session, entry.id)
    step, editing = _read_step(entry.step)
    return EntryView(
        id=entry.id,
        contest_id=entry.contest_id,
        contest_code=contest.code,
        code=entry.code,
        team_code=entry.team_code,
        state=EntryState(entry.state),
        step=step,
        editing=editing,
        title=entry.title,
        description=entry.description,
        link=entry.link,
        files=tuple(
            FileView(f.id, f.file_id, f.file_unique_id, f.name, f.mime_type, f.size, f.position)
            for f in files
        ),
        authors=tuple(await _authors(session, entry.id)),
        submitted_at=entry.submitted_at,
        late=entry.late,
        withdrawn_at=entry.withdrawn_at,
        updated_at=entry.updated_at,
        missing=_missing(contest, entry, len(files)),
    )


async def _user(session: AsyncSession, telegram_id: int) -> User:
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise PermissionDenied("errors.not_allowed")
    return user


async def _contest(session: AsyncSession, contest_id: int) -> ContestView:
    row = await session.get(Contest, contest_id)
    if row is None:
        raise NotFound("contest.not_found")
    return view(row)


async def _entry(session: AsyncSession, entry_id: int) -> ContestEntry:
    """The entry, locked for the change (`FOR UPDATE`)."""
    entry = await session.scalar(
        select(ContestEntry).where(ContestEntry.id == entry_id).with_for_update()
    )
    if entry is None:
        raise NotFound("contest.entry_not_found")
    return entry


async def _is_author(session: AsyncSession, entry_id: int, user_id: int) -> bool:
    found = await session.scalar(
        select(EntryAuthor.id).where(
            EntryAuthor.entry_id == entry_id, EntryAuthor.user_id == user_id
        )
    )
    return found is not None


async def _other_entry(
    session: AsyncSession, contest_id: int, user_id: int, except_entry: int | None
) -> ContestEntry | None:
    """An entry of the contest, not withdrawn and not `except_entry`, the user is an author of."""
    stmt = (
        select(ContestEntry)
        .join(EntryAuthor, EntryAuthor.entry_id == ContestEntry.id)
        .where(
            ContestEntry.contest_id == contest_id,
            ContestEntry.state != EntryState.WITHDRAWN.value,
            EntryAuthor.user_id == user_id,
        )
    )
    if except_entry is not None:
        stmt = stmt.where(ContestEntry.id != except_entry)
    return await session.scalar(stmt.limit(1))


def _check_open(contest: ContestView, entry: ContestEntry | None, now: datetime) -> None:
    """THE WINDOWS RULE for a change: drafts while accepting, submitted ones while open.

    Raises:
        InvalidInput: `contest.not_open_yet` before the opening, `contest.closed` after.
    """
    phase = contest.phase(now)
    if phase in (Phase.DRAFT, Phase.NOT_YET):
        raise InvalidInput("contest.not_open_yet")
    submitted = entry is not None and entry.state == EntryState.SUBMITTED.value
    if phase is Phase.CLOSED or (submitted and phase is not Phase.OPEN):
        raise InvalidInput("contest.closed")


async def _owned(
    session: AsyncSession, telegram_id: int, entry_id: int, now: datetime
) -> tuple[ContestEntry, ContestView, User]:
    """The entry if the person owns it and it may change now (not withdrawn).

    Raises:
        NotFound: `contest.entry_not_found`.
        PermissionDenied: `contest.not_yours` (a forged button), `errors.not_allowed`.
        InvalidInput: `contest.closed`, `contest.not_open_yet`, `contest.withdrawn`.
    """
    user = await _user(session, telegram_id)
    entry = await _entry(session, entry_id)
    if entry.owner_id != user.id:
        raise PermissionDenied("contest.not_yours")
    contest = await _contest(session, entry.contest_id)
    if entry.state == EntryState.WITHDRAWN.value:
        raise InvalidInput("contest.withdrawn")
    _check_open(contest, entry, now)
    return entry, contest, user


def _after(contest: ContestView, entry: ContestEntry, saved: Step) -> str:
    """THE STEP RULE: where the conversation goes once `saved` is saved."""
    _, editing = _read_step(entry.step)
    if editing or entry.state == EntryState.SUBMITTED.value:
        return Step.PREVIEW.value
    steps = _steps(contest)
    later = steps[steps.index(saved) + 1 :] if saved in steps else ()
    return (later[0] if later else Step.PREVIEW).value


def _asking(entry: ContestEntry, field: Step) -> None:
    """Refuse a field given when the conversation is not at it (a stale button or message).

    A submitted entry takes a field only when it is being edited.

    Raises:
        InvalidInput: `contest.not_this_step`.
    """
    step, _ = _read_step(entry.step)
    if step is not field:
        raise InvalidInput("contest.not_this_step")


# --- the conversation -------------------------------------------------------------------------


async def start(
    db: Sessionmaker, telegram_id: int, contest_id: int, *, now: datetime | None = None
) -> EntryView:
    """My entry in the contest: the one I have (a withdrawn one is a draft again), or a new draft.

    Raises:
        NotFound: `contest.not_found`.
        InvalidInput: `contest.not_open_yet`, `contest.closed` (no entry to resume while
            closed), `contest.author_elsewhere` (a co-author of another entry).
    """
    now = now or utcnow()
    async with db.begin() as session:
        user = await _user(session, telegram_id)
        contest = await _contest(session, contest_id)
        entry = await session.scalar(
            select(ContestEntry)
            .where(ContestEntry.contest_id == contest_id, ContestEntry.owner_id == user.id)
            .with_for_update()
        )
        if entry is not None and entry.state != EntryState.WITHDRAWN.value:
            return await entry_view(session, entry, contest)  # resume, whatever the window
        _check_open(contest, None, now)
        elsewhere = await _other_entry(session, contest_id, user.id, None)
        if elsewhere is not None:
            raise InvalidInput("contest.author_elsewhere", code=elsewhere.code)
        if entry is not None:  # withdrawn: a draft again, with everything it held
            entry.state = EntryState.DRAFT.value
            entry.withdrawn_at = None
            entry.submitted_at = None
            entry.late = False
            files = len(await _files(session, entry.id))
            missing = _missing(contest, entry, files)
            entry.step = (missing[0] if missing else Step.PREVIEW).value
        else:
            entry = ContestEntry(
                contest_id=contest_id,
                owner_id=user.id,
                code=new_code(CODE_LENGTH),
                team_code=new_code(CODE_LENGTH),
                state=EntryState.DRAFT.value,
                step=Step.TITLE.value,
            )
            session.add(entry)
            await session.flush()
            session.add(EntryAuthor(entry_id=entry.id, user_id=user.id, owner=True, joined_at=now))
        await session.flush()
        return await entry_view(session, entry, contest)


async def set_title(
    db: Sessionmaker, telegram_id: int, entry_id: int, text: str, *, now: datetime | None = None
) -> EntryView:
    """Save the title (one line).

    Raises:
        InvalidInput: `contest.title_empty`, `contest.title_too_long` (max, length), and the
            refusals of `_owned` and `_asking`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        entry, contest, _ = await _owned(session, telegram_id, entry_id, now)
        _asking(entry, Step.TITLE)
        title = clean_line(text)
        if not title or is_blank(title):
            raise InvalidInput("contest.title_empty")
        if len(title) > contest.title_max:
            raise InvalidInput("contest.title_too_long", max=contest.title_max, length=len(title))
        entry.title = title
        entry.step = _after(contest, entry, Step.TITLE)
        await session.flush()
        return await entry_view(session, entry, contest)


async def set_description(
    db: Sessionmaker,
    telegram_id: int,
    entry_id: int,
    text: str | None,
    *,
    now: datetime | None = None,
) -> EntryView:
    """Save the description; None skips it when the contest makes it optional.

    Raises:
        InvalidInput: `contest.description_empty` (required, or blank text),
            `contest.description_too_long` (max, length), and the refusals of `_owned`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        entry, contest, _ = await _owned(session, telegram_id, entry_id, now)
        _asking(entry, Step.DESCRIPTION)
        if text is None:
            if contest.description_required:
                raise InvalidInput("contest.description_empty")
            entry.description = None
        else:
            description = clean_block(text)
            if not description or is_blank(description):
                raise InvalidInput("contest.description_empty")
            if len(description) > contest.description_max:
                raise InvalidInput(
                    "contest.description_too_long",
                    max=contest.description_max,
                    length=len(description),
                )
            entry.description = description
        entry.step = _after(contest, entry, Step.DESCRIPTION)
        await session.flush()
        return await entry_view(session, entry, contest)


def check_link(text: str) -> str:
    """A typed link as stored: http(s), a host with a dot, no spaces, at most 500 characters.

    A bare `host.tld/...` gets `https://` in front.

    Raises:
        InvalidInput: `contest.link_invalid`, `contest.link_too_long` (max).
    """
    url = clean_line(text)
    if not url or any(ch.isspace() for ch in url):
        raise InvalidInput("contest.link_invalid")
    if "://" not in url and _HOST.match(url):
        url = f"https://{url}"
    if len(url) > LINK_MAX:
        raise InvalidInput("contest.link_too_long", max=LINK_MAX)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # a malformed port or IPv6 literal
        raise InvalidInput("contest.link_invalid") from None
    if parts.scheme not in ("http", "https") or "." not in host.strip("."):
        raise InvalidInput("contest.link_invalid")
    return url


async def set_link(
    db: Sessionmaker,
    telegram_id: int,
    entry_id: int,
    text: str | None,
    *,
    now: datetime | None = None,
) -> EntryView:
    """Save the link; None skips it when the contest makes it optional.

    Raises:
        InvalidInput: `contest.link_required`, `contest.link_invalid`, `contest.link_too_long`,
            `contest.not_this_step` (also when the contest asks for no link), and the
            refusals of `_owned`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        entry, contest, _ = await _owned(session, telegram_id, entry_id, now)
        _asking(entry, Step.LINK)
        if contest.link is LinkRule.OFF:
            raise InvalidInput("contest.not_this_step")
        if text is None:
            if contest.link is LinkRule.REQUIRED:
                raise InvalidInput("contest.link_required")
            entry.link = None
        else:
            entry.link = check_link(text)
        entry.step = _after(contest, entry, Step.LINK)
        await session.flush()
        return await entry_view(session, entry, contest)


# Other spellings of an extension a contest lists: `photo.jpeg` is a jpg.
_SAME_TYPE = {"jpeg": "jpg", "jpe": "jpg", "tif": "tiff", "htm": "html", "mpeg4": "mp4"}


def file_type(name: str, mime_type: str | None) -> str:
    """A file's type as the contest lists them: its name's extension, else its MIME type's."""
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    if not suffix and mime_type:
        suffix = (mimetypes.guess_extension(mime_type, strict=False) or "").lower().lstrip(".")
    return _SAME_TYPE.get(suffix, suffix)


async def add_file(
    db: Sessionmaker,
    telegram_id: int,
    entry_id: int,
    file: NewFile,
    *,
    now: datetime | None = None,
) -> EntryView:
    """Attach a file (its type, size and the count checked); the conversation stays at files.

    Raises:
        InvalidInput: `contest.file_type` (name, types), `contest.file_too_large` (name, size,
            max), `contest.too_many_files` (max), `contest.file_twice` (name),
            `contest.not_this_step` (also when the contest takes no files), and the refusals
            of `_owned`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        entry, contest, _ = await _owned(session, telegram_id, entry_id, now)
        _asking(entry, Step.FILES)
        rule = contest.files
        if rule.max_count == 0:
            raise InvalidInput("contest.not_this_step")
        if not file.file_id or len(file.file_id) > FILE_ID_MAX:
            raise InvalidInput("contest.not_this_step")  # not a file Telegram gave
        name = clean_line(file.name)[-FILE_NAME_MAX:] or "file"
        kind = file_type(name, file.mime_type)
        if kind not in {_SAME_TYPE.get(t, t) for t in rule.types}:
            raise InvalidInput("contest.file_type", name=name, types=", ".join(rule.types))
        if file.size is not None and file.size > rule.max_bytes:
            raise InvalidInput("contest.file_too_large", name=name, max=rule.max_mb)
        present = await _files(session, entry.id)
        if len(present) >= rule.max_count:
            raise InvalidInput("contest.too_many_files", max=rule.max_count)
        if any(
            (file.file_unique_id and f.file_unique_id == file.file_unique_id)
            or f.file_id == file.file_id
            for f in present
        ):
            raise InvalidInput("contest.file_twice", name=name)
        session.add(
            EntryFile(
                entry_id=entry.id,
                file_id=file.file_id,
                file_unique_id=(file.file_unique_id or None) and file.file_unique_id[:128],
                name=name,
                mime_type=(file.mime_type or None) and file.mime_type[:MIME_MAX],
                size=file.size,
                position=max((f.position for f in present), default=-1) + 1,
            )
        )
        entry.updated_at = now
        await session.flush()
        return await entry_view(session, entry, contest)


async def remove_file(
    db: Sessionmaker, telegram_id: int, entry_id: int, file_id: int, *, now: datetime | None = None
) -> EntryView:
    """Remove one file (by its row id); a submitted entry keeps at least `min_count`.

    Raises:
        NotFound: `contest.file_not_found` (not a file of this entry).
        InvalidInput: `contest.files_needed` (min) for a submitted entry, and the refusals
            of `_owned`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        entry, contest, _ = await _owned(session, telegram_id, entry_id, now)
        row = await session.get(EntryFile, file_id)
        if row is None or row.entry_id != entry.id:
            raise NotFound("contest.file_not_found")
        present = await _files(session, entry.id)
        if (
            entry.state == EntryState.SUBMITTED.value
            and len(present) - 1 < contest.files.min_count
        ):
            raise InvalidInput("contest.files_needed", min=contest.files.min_count)
        await session.delete(row)
        entry.updated_at = now
        await session.flush()
        return await entry_view(session, entry, contest)


async def files_done(
    db: Sessionmaker, telegram_id: int, entry_id: int, *, now: datetime | None = None
) -> EntryView:
    """No more files: on to the preview, once at least `min_count` are attached.

    Raises:
        InvalidInput: `contest.files_needed` (min), `contest.not_this_step`, and the refusals
            of `_owned`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        entry, contest, _ = await _owned(session, telegram_id, entry_id, now)
        _asking(entry, Step.FILES)
        if len(await _files(session, entry.id)) < contest.files.min_count:
            raise InvalidInput("contest.files_needed", min=contest.files.min_count)
        entry.step = _after(contest, entry, Step.FILES)
        await session.flush()
        return await entry_view(session, entry, contest)


async def edit(
    db: Sessionmaker, telegram_id: int, entry_id: int, field: Step, *, now: datetime | None = None
) -> EntryView:
    """Ask one field again (from the preview of a draft, or of a submitted entry).

    Raises:
        InvalidInput: `contest.not_this_step` (a field this contest does not ask, or the
            preview), and the refusals of `_owned`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        entry, contest, _ = await _owned(session, telegram_id, entry_id, now)
        if field not in _steps(contest):
            raise InvalidInput("contest.not_this_step")
        entry.step = f"{_EDIT}{field.value}"
        await session.flush()
        return await entry_view(session, entry, contest)


async def back_to_preview(
    db: Sessionmaker, telegram_id: int, entry_id: int, *, now: datetime | None = None
) -> EntryView:
    """Leave a field being edited as it was and show the preview again.

    Only while editing (the first time through, every field is asked in turn).

    Raises:
        InvalidInput: `contest.not_this_step`, and the refusals of `_owned`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        entry, contest, _ = await _owned(session, telegram_id, entry_id, now)
        step, editing = _read_step(entry.step)
        if not editing and step is not Step.PREVIEW:
            raise InvalidInput("contest.not_this_step")
        if step is Step.FILES and len(await _files(session, entry.id)) < contest.files.min_count:
            raise InvalidInput("contest.files_needed", min=contest.files.min_count)
        entry.step = Step.PREVIEW.value
        await session.flush()
        return await entry_view(session, entry, contest)


async def get_entry(db: Sessionmaker, telegram_id: int, entry_id: int) -> EntryView:
    """An entry I am an author of (its preview), whatever the window.

    Raises:
        NotFound: `contest.entry_not_found`.
        PermissionDenied: `contest.not_yours`.
    """
    async with db() as session:
        user = await _user(session, telegram_id)
        entry = await session.get(ContestEntry, entry_id)
        if entry is None:
            raise NotFound("contest.entry_not_found")
        if not await _is_author(session, entry.id, user.id):
            raise PermissionDenied("contest.not_yours")
        return await entry_view(session, entry)


async def entry_in(db: Sessionmaker, telegram_id: int, contest_id: int) -> EntryView | None:
    """My entry in a contest (owned, or co-authored and not withdrawn), or None."""
    async with db() as session:
        user = await _user(session, telegram_id)
        contest = await _contest(session, contest_id)
        entry = await session.scalar(
            select(ContestEntry).where(
                ContestEntry.contest_id == contest_id, ContestEntry.owner_id == user.id
            )
        )
        if entry is None:
            entry = await _other_entry(session, contest_id, user.id, None)
        return None if entry is None else await entry_view(session, entry, contest)


async def submit(
    db: Sessionmaker, telegram_id: int, entry_id: int, *, now: datetime | None = None
) -> Receipt:
    """Submit a complete draft: the receipt (submitting again gives the same receipt).

    Raises:
        InvalidInput: `contest.incomplete` (step: the first missing field), and the refusals
            of `_owned` (`contest.closed` after the submissions close).
    """
    now = now or utcnow()
    async with db.begin() as session:
        user = await _user(session, telegram_id)
        entry = await _entry(session, entry_id)
        if entry.owner_id != user.id:
            raise PermissionDenied("contest.not_yours")
        contest = await _contest(session, entry.contest_id)
        if entry.state == EntryState.SUBMITTED.value:
            assert entry.submitted_at is not None
            shown = await entry_view(session, entry, contest)
            return Receipt(entry.code, entry.submitted_at, entry.late, shown, contest)
        if entry.state == EntryState.WITHDRAWN.value:
            raise InvalidInput("contest.withdrawn")
        _check_open(contest, entry, now)
        missing = _missing(contest, entry, len(await _files(session, entry.id)))
        if missing:
            raise InvalidInput("contest.incomplete", step=missing[0].value)
        entry.state = EntryState.SUBMITTED.value
        entry.submitted_at = now
        entry.late = contest.phase(now) is Phase.LATE
        entry.step = Step.PREVIEW.value
        await session.flush()
        shown = await entry_view(session, entry, contest)
        return Receipt(entry.code, now, entry.late, shown, contest)


async def withdraw(
    db: Sessionmaker, telegram_id: int, entry_id: int, *, now: datetime | None = None
) -> EntryView:
    """Withdraw my entry (a submitted one until the deadline, a draft while accepting).

    Its content is kept: `start` takes it up again as a draft while the contest accepts.

    Raises:
        The refusals of `_owned` (`contest.closed`, `contest.withdrawn`, `contest.not_yours`).
    """
    now = now or utcnow()
    async with db.begin() as session:
        entry, contest, _ = await _owned(session, telegram_id, entry_id, now)
        entry.state = EntryState.WITHDRAWN.value
        entry.withdrawn_at = now
        entry.step = None
        await session.flush()
        return await entry_view(session, entry, contest)


# --- teams ------------------------------------------------------------------------------------


def normal_team_code(text: str) -> str:
    """A typed team code as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in clean_line(text).upper() if ch not in " -")


async def join(
    db: Sessionmaker, telegram_id: int, team_code: str, *, now: datetime | None = None
) -> EntryView:
    """Join an entry as a co-author with its team code.

    Raises:
        InvalidInput: `contest.team_code_wrong` (no such entry, or withdrawn),
            `contest.team_not_allowed` (single-author contest), `contest.team_already`
            (already an author of it), `contest.author_elsewhere` (code: an author of another
            entry of the contest), `contest.team_full` (max: used up), `contest.closed`,
            `contest.not_open_yet`.
    """
    now = now or utcnow()
    code = normal_team_code(team_code)
    if not _TEAM_CODE.fullmatch(code):
        raise InvalidInput("contest.team_code_wrong")
    async with db.begin() as session:
        user = await _user(session, telegram_id)
        entry = await session.scalar(
            select(ContestEntry).where(ContestEntry.team_code == code).with_for_update()
        )
        if entry is None or entry.state == EntryState.WITHDRAWN.value:
            raise InvalidInput("contest.team_code_wrong")
        contest = await _contest(session, entry.contest_id)
        if not contest.team:
            raise InvalidInput("contest.team_not_allowed")
        if await _is_author(session, entry.id, user.id):
            raise InvalidInput("contest.team_already", code=entry.code)
        _check_open(contest, entry, now)
        elsewhere = await _other_entry(session, contest.id, user.id, entry.id)
        if elsewhere is not None:
            raise InvalidInput("contest.author_elsewhere", code=elsewhere.code)
        authors = await session.scalar(
            select(func.count(EntryAuthor.id)).where(EntryAuthor.entry_id == entry.id)
        )
        if (authors or 0) >= contest.max_authors:
            raise InvalidInput("contest.team_full", max=contest.max_authors)
        session.add(EntryAuthor(entry_id=entry.id, user_id=user.id, owner=False, joined_at=now))
        entry.updated_at = now
        await session.flush()
        return await entry_view(session, entry, contest)


async def remove_author(
    db: Sessionmaker,
    telegram_id: int,
    entry_id: int,
    user_id: int,
    *,
    now: datetime | None = None,
) -> EntryView:
    """The owner removes a co-author, or a co-author leaves (`user_id` their own id).

    Raises:
        PermissionDenied: `contest.not_yours` (neither the owner nor that co-author).
        InvalidInput: `contest.owner_stays` (the owner cannot be removed),
            `contest.closed`.
        NotFound: `contest.entry_not_found`, `contest.author_not_found`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        user = await _user(session, telegram_id)
        entry = await _entry(session, entry_id)
        if user.id not in (entry.owner_id, user_id):
            raise PermissionDenied("contest.not_yours")
        if not await _is_author(session, entry.id, user.id):
            raise PermissionDenied("contest.not_yours")
        contest = await _contest(session, entry.contest_id)
        if entry.state == EntryState.WITHDRAWN.value:
            raise InvalidInput("contest.withdrawn")
        _check_open(contest, entry, now)
        author = await session.scalar(
            select(EntryAuthor).where(
                EntryAuthor.entry_id == entry.id, EntryAuthor.user_id == user_id
            )
        )
        if author is None:
            raise NotFound("contest.author_not_found")
        if author.owner:
            raise InvalidInput("contest.owner_stays")
        await session.delete(author)
        entry.updated_at = now
        await session.flush()
        return await entry_view(session, entry, contest)


async def my_entries(db: Sessionmaker, telegram_id: int) -> list[MyEntry]:
    """Every entry I am an author of, withdrawn ones included, the newest contest first."""
    async with db() as session:
        user = await _user(session, telegram_id)
        rows = (
            await session.execute(
                select(ContestEntry, Contest, EntryAuthor.owner)
                .join(EntryAuthor, EntryAuthor.entry_id == ContestEntry.id)
                .join(Contest, Contest.id == ContestEntry.contest_id)
                .where(EntryAuthor.user_id == user.id)
                .order_by(Contest.id.desc(), ContestEntry.id)
            )
        ).all()
        found: list[MyEntry] = []
        for entry, row, owner in rows:
            contest = view(row)
            found.append(MyEntry(contest, await entry_view(session, entry, contest), bool(owner)))
        return found


async def entries_of(
    db: Sessionmaker, contest_id: int, *, states: Sequence[EntryState] = (EntryState.SUBMITTED,)
) -> list[EntryView]:
    """The entries of a contest in these states, in the order they were submitted (created)."""
    async with db() as session:
        contest = await _contest(session, contest_id)
        rows = (
            await session.scalars(
                select(ContestEntry)
                .where(
                    ContestEntry.contest_id == contest_id,
                    ContestEntry.state.in_([s.value for s in states]),
                )
                .order_by(ContestEntry.submitted_at, ContestEntry.id)
            )
        ).all()
        return [await entry_view(session, entry, contest) for entry in rows]


# --- the draft reminder -------------------------------------------------------------------------


def drafts_due(now: datetime) -> ColumnElement[bool]:
    """Contests whose deadline is less than `REMIND_BEFORE` away, drafts not reminded yet."""
    return and_(
        Contest.drafts_reminded_at.is_(None),
        Contest.opens_at.is_not(None),
        Contest.opens_at <= now,
        Contest.deadline_at.is_not(None),
        Contest.deadline_at > now,
        Contest.deadline_at <= now + REMIND_BEFORE,
    )


async def remind_drafts(
    db: Sessionmaker,
    i18n: I18n,
    zone: tzinfo,
    *,
    now: datetime | None = None,
    batch: int = BATCH,
) -> list[DraftsReminded]:
    """Remind the owners of unfinished drafts, once per contest, before the deadline.

    Each due contest is taken once (`run_due`): every owner of a draft gets their message with
    a Continue button in one personal broadcast, queued in the commit that marks the contest
    reminded. The caller starts the broadcasts.

    Args:
        db: the session factory.
        i18n: the catalogs, to write each owner's message in their language.
        zone: the bot's TIMEZONE, to show the deadline.
        now: the time of the pass (tests move it).
        batch: contests taken at most.
    """

    async def settle(session: AsyncSession, contest: Contest, at: datetime) -> DraftsReminded:
        """Queue one reminder per draft owner and mark the contest reminded."""
        contest.drafts_reminded_at = at
        owners = (
            await session.execute(
                select(ContestEntry, User)
                .join(User, User.id == ContestEntry.owner_id)
                .where(
                    ContestEntry.contest_id == contest.id,
                    ContestEntry.state == EntryState.DRAFT.value,
                )
                .order_by(ContestEntry.id)
            )
        ).all()
        if not owners:
            return DraftsReminded(contest.id, 0, None)
        shown = view(contest)
        broadcast_id = await open_personal_in(
            session,
            audience_kind=AUDIENCE,
            audience_ref=str(contest.id),
        )
        for entry, user in owners:
            language = user.language or i18n.default_language
            t = i18n.translator(language)
            assert contest.deadline_at is not None
            await queue_personal(
                session,
                broadcast_id,
                user,
                text=t(
                    "contest.draft_reminder",
                    contest=shown.title_in(language),
                    deadline=show_when(contest.deadline_at, zone, language),
                ),
                buttons=((t.plain("contest.continue_button"), EntryResume(entry.id).pack()),),
                default_language=i18n.default_language,
            )
        return DraftsReminded(contest.id, len(owners), broadcast_id)

    return await run_due(
        db, DueRows(Contest, drafts_due, settle), now=now or utcnow(), batch=batch
    )
