"""A contest's entries with their files, as one ZIP: "download all submissions" (issue 13).

THE LAYOUT. One folder per entry code (`K7QX2M4P/`) holding that entry's files under the names
their authors sent (made safe for every system: no path separators or characters Windows
refuses, the same name twice becomes `name (2).ext`), an empty folder for an entry without
files, and `manifest.csv` at the top: one row per file (and one per entry without files) with
the entry's code, title, submission time, late mark and link, the file's position, name, path
in the ZIP, type and size, and its status: `ok`, `failed` with the reason, or `none` (the entry
has no files). The manifest names no person: the `contest_entries` dataset, joined on the entry
code, has the (pseudonymous) authors.

THE FILES come from Telegram: an entry keeps its files as `file_id`s, and the caller passes a
`Fetch` that downloads one to a path through the Bot API (getFile, at most 20 MB per file; see
`bot.downloads`). The services never talk to Telegram themselves. A file that cannot be
downloaded (too big, forgotten by Telegram, a network failure past the retries) is listed in
the manifest with the reason and the rest goes on. Without a bot token nothing can be
downloaded: the command line says so rather than writing an archive of failures.

MEMORY. Each file is downloaded to a temporary file, added to the archive on disk, and removed;
the archive is never held in memory. Past Telegram's 50 MB upload limit it is cut into numbered
parts exactly as the other large exports are (`bot.services.exports.split`).

WHO. Organizers and admins (`exports.exporter_scope`): an organizer held to universities gets
the entries with an author from them. Every bundle is recorded in `export_log` (dataset
`contest_bundle`, format `zip`, the contest's code among the filters).
"""

from __future__ import annotations

import asyncio
import csv
import re
import unicodedata
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.contest_schema import FILE_MAX_MB
from bot.db import Sessionmaker
from bot.services import NotFound
from bot.services.contest import ContestView, view
from bot.services.contest_entries import EntryState
from bot.services.exports import exporter_scope, split
from bot.services.exports.common import utc_text
from models import Contest, ContestEntry, EntryAuthor, EntryFile, ExportLog, University, User

DATASET = "contest_bundle"  # in export_log
MAX_BYTES = FILE_MAX_MB * 1024 * 1024  # the Bot API lets a bot download up to 20 MB
NAME_MAX = 120  # characters of a file's name in the archive
MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = (
    "entry_code",
    "title",
    "submitted_at",
    "late",
    "link",
    "file",
    "file_name",
    "path",
    "mime_type",
    "size_bytes",
    "status",
    "reason",
)
OK, FAILED, NONE = "ok", "failed", "none"
# Already compressed: stored as they are (deflating them again costs time and saves nothing).
_STORED = frozenset(
    {
        *("zip", "7z", "rar", "gz", "bz2", "xz"),
        *("mp4", "mov", "avi", "mkv", "webm", "mp3", "m4a", "ogg"),
        *("jpg", "jpeg", "png", "gif", "webp", "heic"),
        *("docx", "pptx", "xlsx", "odt", "odp", "ods", "epub"),
    }
)
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{n}" for n in range(1, 10)]
    + [f"lpt{n}" for n in range(1, 10)]
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class FetchFailed(Exception):
    """A file could not be downloaded; the message is the reason put in the manifest."""


# Download the file with this Telegram file_id to this path; FetchFailed(reason) when it cannot.
Fetch = Callable[[str, Path], Awaitable[None]]
# Files done so far (downloaded or failed) of the total.
Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class ContestChoice:
    """A contest offered for the entries ZIP: how many submitted entries the asker may take."""

    id: int
    code: str
    title: dict[str, str]
    entries: int


@dataclass
class Bundle:
    """What a bundle wrote: the archive (or its parts) and what went into it."""

    contest: ContestView
    parts: list[Path]
    entries: int = 0
    files: int = 0
    fetched: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # entry, name, reason

    @property
    def failed(self) -> int:
        """Files listed in the manifest as failed."""
        return len(self.failures)


@dataclass(frozen=True)
class _File:
    """A file to put in the archive."""

    position: int
    file_id: str
    name: str
    mime_type: str | None
    size: int | None


@dataclass(frozen=True)
class _Entry:
    """An entry with its files, as the archive needs it."""

    code: str
    title: str
    submitted_at: str | None
    late: bool
    link: str
    files: tuple[_File, ...]


def safe_name(name: str, taken: set[str]) -> str:
    """`name` as a file name every system accepts, unique (case-insensitively) among `taken`.

    Path separators and characters Windows refuses become `_`, leading dots and spaces go (no
    hidden files, no `..`), reserved device names get a `_`, and a long name keeps its
    extension. The result is added to `taken`.
    """
    text = unicodedata.normalize("NFC", name)
    text = _UNSAFE.sub("_", text).strip().lstrip(". ").rstrip(". ")
    if not text:
        text = "file"
    path = PurePosixPath(text)
    stem, suffix = path.stem, path.suffix if len(path.suffix) <= 12 else ""
    if stem.lower() in _RESERVED:
        stem += "_"
    stem = stem[: NAME_MAX - len(suffix)] or "file"
    candidate, number = stem + suffix, 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem} ({number}){suffix}"
    taken.add(candidate.lower())
    return candidate


def _cell(value: Any) -> Any:
    """A manifest cell: typed text made inert for spreadsheets (a ' before a formula start)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


async def _submitted(
    session: AsyncSession, scope: tuple[str, ...] | None, contest_id: int
) -> list[ContestEntry]:
    """The contest's submitted entries (with an author in `scope` when one is given)."""
    stmt = select(ContestEntry).where(
        ContestEntry.contest_id == contest_id,
        ContestEntry.state == EntryState.SUBMITTED.value,
    )
    if scope is not None:
        stmt = stmt.where(
            exists(
                select(EntryAuthor.id)
                .join(User, User.id == EntryAuthor.user_id)
                .join(University, University.id == User.university_id)
                .where(EntryAuthor.entry_id == ContestEntry.id, University.code.in_(scope))
            )
        )
    stmt = stmt.order_by(ContestEntry.submitted_at, ContestEntry.id)
    return list((await session.scalars(stmt)).all())


async def choices(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int]
) -> list[ContestChoice]:
    """The contests the asker may take the entries ZIP of, with their submitted entries.

    Raises:
        PermissionDenied: not an organizer or admin.
    """
    _, scope = await exporter_scope(db, actor_id, admin_ids)
    async with db() as session:
        found = []
        for contest in (await session.scalars(select(Contest).order_by(Contest.id.desc()))).all():
            entries = await _submitted(session, scope, contest.id)
            found.append(
                ContestChoice(contest.id, contest.code, dict(contest.title), len(entries))
            )
        return found


async def _read(
    db: Sessionmaker, contest_id: int | None, code: str | None, scope: tuple[str, ...] | None
) -> tuple[ContestView, list[_Entry]]:
    """The contest (by id or code) and its submitted entries with their files."""
    async with db() as session:
        if contest_id is not None:
            row = await session.get(Contest, contest_id)
        else:
            row = await session.scalar(select(Contest).where(Contest.code == code))
        if row is None:
            raise NotFound("contest.not_found")
        contest = view(row)
        entries = await _submitted(session, scope, contest.id)
        files: dict[int, list[_File]] = {}
        ids = [e.id for e in entries]
        for start in range(0, len(ids), 500):
            rows = await session.scalars(
                select(EntryFile)
                .where(EntryFile.entry_id.in_(ids[start : start + 500]))
                .order_by(EntryFile.entry_id, EntryFile.position, EntryFile.id)
            )
            for f in rows:
                own = files.setdefault(f.entry_id, [])
                own.append(_File(len(own) + 1, f.file_id, f.name, f.mime_type, f.size))
        return contest, [
            _Entry(
                e.code,
                e.title or "",
                utc_text(e.submitted_at),
                e.late,
                e.link or "",
                tuple(files.get(e.id, [])),
            )
            for e in entries
        ]


def _stored(name: str) -> int:
    """How to put a file in the archive: stored when it is compressed already, else deflated."""
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    return zipfile.ZIP_STORED if suffix in _STORED else zipfile.ZIP_DEFLATED


async def write(
    db: Sessionmaker,
    folder: Path,
    fetch: Fetch,
    *,
    contest_id: int | None = None,
    code: str | None = None,
    scope: tuple[str, ...] | None = None,
    progress: Progress | None = None,
) -> Bundle:
    """Write the contest's entries ZIP into `folder` (no rights checked: see `for_chat`).

    `scope`: only the entries with an author from these universities (None: all).

    Raises:
        NotFound: `contest.not_found`.
    """
    contest, entries = await _read(db, contest_id, code, scope)
    archive = folder / f"ortaq-contest-{contest.code}-entries.zip"
    download = folder / ".download"
    bundle = Bundle(contest, [], entries=len(entries))
    total = sum(len(e.files) for e in entries)
    manifest: list[list[Any]] = []
    zip_file = await asyncio.to_thread(zipfile.ZipFile, archive, "w", zipfile.ZIP_DEFLATED)
    try:
        for entry in entries:
            common = [
                entry.code,
                entry.title,
                entry.submitted_at,
                1 if entry.late else 0,
                entry.link,
            ]
            if not entry.files:
                await asyncio.to_thread(zip_file.mkdir, entry.code)
                manifest.append([*common, "", "", "", "", "", NONE, ""])
                continue
            taken: set[str] = set()
            for file in entry.files:
                name = safe_name(file.name, taken)
                path = f"{entry.code}/{name}"
                reason = await _fetch_one(fetch, file, download)
                if reason is None:
                    reason = await asyncio.to_thread(_add, zip_file, download, path, name)
                if reason is None:
                    bundle.fetched += 1
                    status, shown_path = OK, path
                else:
                    bundle.failures.append((entry.code, file.name, reason))
                    status, shown_path = FAILED, ""
                bundle.files += 1
                manifest.append(
                    [
                        *common,
                        file.position,
                        file.name,
                        shown_path,
                        file.mime_type or "",
                        file.size,
                        status,
                        reason or "",
                    ]
                )
                if progress is not None:
                    await progress(bundle.files, total)
        await asyncio.to_thread(_add_manifest, zip_file, folder / MANIFEST, manifest)
    finally:
        await asyncio.to_thread(zip_file.close)
        await asyncio.to_thread(download.unlink, missing_ok=True)
    bundle.parts = await asyncio.to_thread(split, archive)
    return bundle


async def _fetch_one(fetch: Fetch, file: _File, to: Path) -> str | None:
    """Download one file to `to`: None when done, else the reason it could not be."""
    if file.size is not None and file.size > MAX_BYTES:
        return f"over {FILE_MAX_MB} MB: the Bot API does not let a bot download it"
    try:
        await fetch(file.file_id, to)
    except FetchFailed as exc:
        return str(exc) or "download failed"
    return None


def _add(zip_file: zipfile.ZipFile, download: Path, path: str, name: str) -> str | None:
    """Move the downloaded file into the archive at `path`: None, or why it could not be."""
    if not download.exists():
        return "download failed: nothing was written"
    try:
        zip_file.write(download, path, _stored(name))
    finally:
        download.unlink()
    return None


def _add_manifest(zip_file: zipfile.ZipFile, path: Path, rows: list[list[Any]]) -> None:
    """Write the manifest (UTF-8 with a BOM, so Excel shows Kazakh and Russian) and add it."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("\ufeff")
        writer = csv.writer(fh)
        writer.writerow(MANIFEST_COLUMNS)
        writer.writerows([_cell(v) for v in row] for row in rows)
    zip_file.write(path, MANIFEST)
    path.unlink()


async def record(
    db: Sessionmaker,
    actor: User | None,
    via: str,
    bundle: Bundle,
    scope: tuple[str, ...] | None,
) -> None:
    """Write the bundle to the audit log (rows: the files listed)."""
    async with db.begin() as session:
        session.add(
            ExportLog(
                actor_id=actor.id if actor else None,
                actor_telegram_id=actor.telegram_id if actor else None,
                via=via,
                dataset=DATASET,
                format="zip",
                filters={
                    "contest": bundle.contest.code,
                    "scope": list(scope) if scope is not None else None,
                    "failed": bundle.failed,
                },
                identified=False,
                rows=bundle.files,
            )
        )


async def for_chat(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    contest_id: int,
    folder: Path,
    fetch: Fetch,
    progress: Progress | None = None,
) -> Bundle:
    """The entries ZIP asked for in chat, recorded in the audit log.

    Organizers and admins only; an organizer held to universities gets the entries with an
    author from them.

    Raises:
        PermissionDenied: not an organizer or admin.
        NotFound: `contest.not_found`.
    """
    actor, scope = await exporter_scope(db, actor_id, admin_ids)
    bundle = await write(db, folder, fetch, contest_id=contest_id, scope=scope, progress=progress)
    await record(db, actor, "chat", bundle, scope)
    return bundle
