"""Research exports: the registered datasets (`datasets`) in CSV, XLSX, Parquet or SPSS.

Exports are pseudonymous: the participant is a keyed hash, never a Telegram id, name or
username. An identified export (adds those three) is for admins only and, like every export,
is recorded in `export_log`.

An export runs in a worker thread with its own database connection (a synchronous SQLite
connection, or for other databases an async engine on the thread's own event loop), so the bot
keeps answering everyone while a large file is written. Rows are read in chunks and appended
to the file: the dataset is never held in memory twice.
"""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import make_url, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

from bot.db import Sessionmaker
from bot.services import InvalidInput, PermissionDenied
from bot.services.exports import writers
from bot.services.exports.common import Filters, Options, pseudonym
from bot.services.exports.datasets import DATASETS, Dataset
from bot.services.exports.spec import codebook_json
from bot.services.roles import Role, require
from models import ExportLog, University, User, UserRole

__all__ = [
    "DATASETS",
    "FORMATS",
    "Dataset",
    "Filters",
    "Options",
    "Written",
    "export",
    "export_for_chat",
    "pseudonym",
]

T = TypeVar("T")
FORMATS = writers.FORMATS
ZIP_OVER = 45 * 1024 * 1024  # bots upload at most 50 MB: files past this are zipped
PART_SIZE = 48 * 1024 * 1024  # ... and archives past it are split into numbered parts
SUFFIX = {"csv": ".csv", "xlsx": ".xlsx", "parquet": ".parquet", "sav": ".sav"}


@dataclass
class Written:
    """What an export wrote."""

    files: list[Path]  # the data files (XLSX: one workbook)
    codebook: Path
    rows: int
    tables: dict[str, int] = field(default_factory=dict)  # rows per table


def _write(
    session: Session,
    dataset: str,
    fmt: str,
    filters: Filters,
    opts: Options,
    folder: Path,
    stem: str,
    progress: writers.Progress,
) -> Written:
    entry = DATASETS[dataset]
    tables = entry.build(session, filters, opts)
    meta = {
        "dataset": dataset,
        "description": entry.description,
        "format": fmt,
        "filters": filters.describe(),
        "labels_language": opts.label_language,
        "identified": opts.identified,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    files: list[Path] = []
    counts: dict[str, int] = {}
    done = 0

    def step(offset: int) -> writers.Progress:
        return lambda n: progress(offset + n)

    if fmt == "xlsx":
        out = folder / f"{stem}.xlsx"
        done = writers.write_xlsx(tables, out, opts.label_language, progress)
        files.append(out)
    else:
        for table in tables:
            name = stem if len(tables) == 1 else f"{stem}-{table.name}"
            out = folder / f"{name}{SUFFIX[fmt]}"
            if fmt == "csv":
                n = writers.write_csv(table, out, step(done))
            elif fmt == "parquet":
                n = writers.write_parquet(table, out, step(done))
            else:
                n = writers.write_sav(table, out, opts.label_language, step(done))
            counts[table.name] = n
            done += n
            files.append(out)
    codebook = folder / f"{stem}.codebook.json"
    codebook.write_text(codebook_json(tables, meta), encoding="utf-8")
    return Written(files, codebook, done, counts)


def in_thread(url: str, work: Callable[[Session], T]) -> T:
    """Run `work` with a session of its own, on this (worker) thread.

    A large export allocates a row tuple per answer, and the garbage collector's default
    threshold rescans them over and over; relaxing it is a process-wide decision, so it is the
    runner's (`bot.jobs.background.relaxed_gc`, around the job or the command), not this one's.
    """
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        # pysqlite reads the same file directly; WAL lets it read while the bot writes.
        engine = create_sync_engine(parsed.set(drivername="sqlite"))
        try:
            with Session(engine) as session:
                return work(session)
        finally:
            engine.dispose()

    async def run() -> T:
        engine = create_async_engine(parsed)
        try:
            async with engine.connect() as connection:

                def run_work(sync: Any) -> T:
                    with Session(bind=sync) as session:
                        return work(session)

                return await connection.run_sync(run_work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def export(
    url: str,
    dataset: str,
    fmt: str,
    filters: Filters,
    opts: Options,
    folder: Path,
    stem: str | None = None,
    progress: writers.Progress | None = None,
) -> Written:
    """Write a dataset to `folder` in a worker thread; `progress` gets the rows written so far.

    Raises:
        InvalidInput: an unknown dataset or format.
    """
    if dataset not in DATASETS or fmt not in FORMATS:
        raise InvalidInput("exports.unknown")
    name = stem or f"ortaq-{dataset}"

    def work(session: Session) -> Written:
        return _write(session, dataset, fmt, filters, opts, folder, name, progress or _quiet)

    return await asyncio.to_thread(in_thread, url, work)


def _quiet(_rows: int) -> None:
    return None


async def record(
    db: Sessionmaker,
    actor: User | None,
    via: str,
    dataset: str,
    fmt: str,
    filters: Filters,
    identified: bool,
    rows: int,
) -> None:
    """Write the export to the audit log."""
    async with db.begin() as session:
        session.add(
            ExportLog(
                actor_id=actor.id if actor else None,
                actor_telegram_id=actor.telegram_id if actor else None,
                via=via,
                dataset=dataset,
                format=fmt,
                filters=filters.describe(),
                identified=identified,
                rows=rows,
            )
        )


async def exporter_scope(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], identified: bool = False
) -> tuple[User, tuple[str, ...] | None]:
    """Check the actor may export; returns them and the universities they are held to.

    Only organizer roles count (a coach role elsewhere widens nothing). An organizer role
    without a university is consortium-wide; otherwise the organizer is held to the
    universities of their roles, and to nothing at all if those no longer exist.

    Raises:
        PermissionDenied: not an organizer or admin, or an identified export by a non-admin.
    """
    async with db() as session:
        user, roles = await require(session, actor_id, admin_ids, Role.ADMIN, Role.ORGANIZER)
        if identified and Role.ADMIN not in roles:
            raise PermissionDenied("exports.identified_admins_only")
        if Role.ADMIN in roles:
            return user, None
        scopes = set(
            await session.scalars(
                select(UserRole.university_id).where(
                    UserRole.user_id == user.id, UserRole.role == Role.ORGANIZER.value
                )
            )
        )
        if None in scopes:
            return user, None
        codes = await session.scalars(select(University.code).where(University.id.in_(scopes)))
        return user, tuple(sorted(codes))


def package(written: Written, fmt: str) -> list[Path]:
    """The files to send in chat, each under Telegram's 50 MB upload limit.

    One small file is sent as is (with its codebook unless it is a workbook, which carries
    the codebook as a sheet); anything else is zipped with the codebook, and an archive still
    too big is cut into numbered parts (`.zip.001`, ...) that 7-Zip opens directly and
    `cat name.zip.0* > name.zip` joins.
    """
    data = written.files
    if len(data) == 1 and data[0].stat().st_size <= ZIP_OVER:
        return data if fmt == "xlsx" else [data[0], written.codebook]
    archive = data[0].with_name(written.codebook.name.replace(".codebook.json", ".zip"))
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in [*data, written.codebook]:
            bundle.write(path, path.name)
    return split(archive)


def split(archive: Path) -> list[Path]:
    """`archive` as is when it fits in one upload, else cut into numbered parts.

    Parts of `PART_SIZE` (`name.zip.001`, `name.zip.002`, ...) that 7-Zip opens directly and
    `cat name.zip.0* > name.zip` joins; the whole archive is removed once cut. Also used by
    the contest's entries ZIP (`bot.services.contest_bundle`).
    """
    if archive.stat().st_size <= PART_SIZE:
        return [archive]
    parts: list[Path] = []
    with archive.open("rb") as source:
        while chunk := source.read(PART_SIZE):
            part = archive.with_name(f"{archive.name}.{len(parts) + 1:03d}")
            part.write_bytes(chunk)
            parts.append(part)
    archive.unlink()
    return parts


async def export_for_chat(
    db: Sessionmaker,
    url: str,
    actor_id: int,
    admin_ids: frozenset[int],
    dataset: str,
    fmt: str,
    filters: Filters,
    opts: Options,
    folder: Path,
    progress: writers.Progress | None = None,
) -> tuple[list[Path], Written]:
    """An export asked for in chat: scoped organizers get their university's rows only.

    Returns:
        The files to send (see `package`; none when no row matched) and what was written.
    """
    actor, scope = await exporter_scope(db, actor_id, admin_ids, opts.identified)
    filters = replace(filters, scope=scope)
    written = await export(url, dataset, fmt, filters, opts, folder, progress=progress)
    await record(db, actor, "chat", dataset, fmt, filters, opts.identified, written.rows)
    if not written.rows:
        return [], written
    return await asyncio.to_thread(package, written, fmt), written  # zipping takes a while


def url_of(db: Sessionmaker) -> str:
    """The database URL behind a session factory (password included, for the worker)."""
    engine: Any = db.kw["bind"]
    return str(engine.url.render_as_string(hide_password=False))
