"""A course's local media: uploaded once, then sent by Telegram file_id; missing files reported.

A photo, document or video step given by `file:` lives in the pack's folder. The first learner
who reaches it gets it uploaded; the file_id Telegram returns is kept in `course_media` with the
sha256 of the content it came from, so every later learner (after a restart too) gets the file by
file_id, and content that changed on disk is uploaded again. A file_id Telegram refuses is
forgotten (`forget`) and the file uploaded again.

A file gone at send time is reported to the organizers (every organizer and admin: courses are
consortium-wide) once per course and file, in each one's language, through the outbox: the row
records when it went missing and that the report was queued, in the same commit as the report,
so two learners at once or a restart send no second report. When the file is back the marks are
cleared, so a later disappearance is reported again.

Nothing here calls Telegram: the handler sends what `prepare` returns and hands the file_id back.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.services.audiences import Audience, members
from bot.services.broadcasts import create_system
from bot.services.course import Lesson, latest_course, pick
from bot.services.roles import Role
from models import CourseMedia, User, UserRole, utcnow

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


class Translate(Protocol):
    """A translator: the HTML text of a key in one language."""

    def __call__(self, key: str, /, **values: object) -> str:
        """The text of `key` with `values` substituted."""
        ...


@dataclass(frozen=True)
class LocalMedia:
    """A local media file of a course, and how to send it now.

    `file_id` set: send by it (uploaded before from the same content). Else `content` set:
    upload it, then hand the file_id to `remember`. Neither: the file is missing.
    """

    course_code: str
    path: str  # as the pack names it, relative to its folder
    kind: str  # photo, document or video
    file: Path
    key: str | None = None  # sha256 of the content
    file_id: str | None = None
    content: bytes | None = None

    @property
    def missing(self) -> bool:
        """The file could not be read."""
        return self.file_id is None and self.content is None


@functools.lru_cache(maxsize=512)
def _sha256(path: str, size: int, mtime_ns: int) -> str | None:
    """The sha256 of the file as it is at (`size`, `mtime_ns`): hashed once per version."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _key_of(file: Path) -> str | None:
    """The content key of `file`, or None when it is missing (runs in a worker thread)."""
    try:
        status = file.stat()
    except OSError:
        return None
    if not file.is_file():
        return None
    return _sha256(str(file), status.st_size, status.st_mtime_ns)


def _read(file: Path) -> bytes | None:
    """The file's bytes, or None when it is missing (runs in a worker thread)."""
    try:
        return file.read_bytes()
    except OSError:
        return None


def _row_of(course_code: str, path: str) -> Select[Any]:
    """The row of one course file."""
    return select(CourseMedia).where(
        CourseMedia.course_code == course_code, CourseMedia.path == path
    )


async def _retrying(db: Sessionmaker, work: Callable[[AsyncSession], Any]) -> Any:
    """Run `work` in one transaction; once more when a concurrent first insert won the race."""
    try:
        async with db.begin() as session:
            return await work(session)
    except IntegrityError:
        # Two learners reached a new file at once: the other's row exists now.
        async with db.begin() as session:
            return await work(session)


async def prepare(
    db: Sessionmaker,
    course_code: str,
    path: str,
    file: Path,
    kind: str,
    *,
    reuse: bool = True,
) -> LocalMedia:
    """How to send the course file `path` (at `file`) as a `kind` step now.

    A stored file_id of the same content and kind is reused (unless `reuse` is False: it was
    just refused); otherwise the content is read for an upload. A file found again after it was
    missing clears the missing marks, so a later disappearance is reported again.
    """
    media = LocalMedia(course_code, path, kind, file)
    key = await asyncio.to_thread(_key_of, file)
    if key is None:
        return media
    async with db.begin() as session:
        row = await session.scalar(_row_of(course_code, path))
        if row is not None and (row.missing_since is not None or row.reported_at is not None):
            row.missing_since = None
            row.reported_at = None
        same = row is not None and row.content_key == key and row.kind == kind
        if reuse and same and row.file_id:
            return LocalMedia(course_code, path, kind, file, key, file_id=row.file_id)
    content = await asyncio.to_thread(_read, file)
    return LocalMedia(course_code, path, kind, file, key, content=content)


async def remember(db: Sessionmaker, media: LocalMedia, file_id: str) -> None:
    """Keep the file_id Telegram returned for the upload of `media`'s content."""

    async def work(session: AsyncSession) -> None:
        """Create or update the file's row."""
        row = await session.scalar(_row_of(media.course_code, media.path))
        if row is None:
            row = CourseMedia(course_code=media.course_code, path=media.path, kind=media.kind)
            session.add(row)
        row.kind = media.kind
        row.content_key = media.key
        row.file_id = file_id
        row.missing_since = None
        row.reported_at = None

    await _retrying(db, work)


async def forget(db: Sessionmaker, media: LocalMedia) -> None:
    """Drop the file_id Telegram refused (unless another learner already replaced it)."""
    if media.file_id is None:
        return
    async with db.begin() as session:
        await session.execute(
            update(CourseMedia)
            .where(
                CourseMedia.course_code == media.course_code,
                CourseMedia.path == media.path,
                CourseMedia.file_id == media.file_id,
            )
            .values(file_id=None, content_key=None)
        )


def _organizers(admin_ids: frozenset[int]) -> Callable[[Select[Any]], Select[Any]]:
    """Narrow an audience to every organizer and admin (role rows and `ADMIN_IDS`)."""

    def narrow(stmt: Select[Any]) -> Select[Any]:
        """Organizers and admins only."""
        holders = select(UserRole.user_id).where(
            UserRole.role.in_((Role.ORGANIZER.value, Role.ADMIN.value))
        )
        who: ColumnElement[bool] = User.id.in_(holders)
        if admin_ids:
            who = or_(who, User.telegram_id.in_(admin_ids))
        return stmt.where(who)

    return narrow


async def report_missing(
    db: Sessionmaker,
    media: LocalMedia,
    lesson: Lesson,
    translators: Mapping[str, Translate],
    *,
    default_language: str,
    admin_ids: frozenset[int],
) -> int | None:
    """Tell the organizers once that `media`'s file is missing: the broadcast to start, or None.

    None when it was reported already (since it went missing) or there is no organizer or admin
    to tell yet (then a later learner's step reports it). The mark and the queued report are one
    commit, so concurrent learners and restarts report it once.
    """
    narrow = _organizers(admin_ids)
    now = utcnow()

    async def work(session: AsyncSession) -> int | None:
        """Mark the file missing, claim the report, queue it."""
        row = await session.scalar(_row_of(media.course_code, media.path))
        if row is None:
            row = CourseMedia(
                course_code=media.course_code, path=media.path, kind=media.kind, missing_since=now
            )
            session.add(row)
            await session.flush()
        elif row.missing_since is None:
            row.missing_since = now
        if row.reported_at is not None:
            return None
        audience = narrow(members(Audience.ALL.value, None)).subquery()
        if not await session.scalar(select(func.count()).select_from(audience)):
            logger.warning(
                "course media file missing, no organizer to tell: %s/%s (%s)",
                media.course_code,
                media.path,
                media.file,
            )
            return None
        claimed = await session.execute(
            update(CourseMedia)
            .where(CourseMedia.id == row.id, CourseMedia.reported_at.is_(None))
            .values(reported_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None  # another learner's step reported it first
        course = await latest_course(session, media.course_code)
        title = course.title if course is not None else {}
        texts = {
            language: t(
                "course.media_missing_report",
                course=pick(title, language) or media.course_code,
                number=lesson.position + 1,
                lesson=pick(lesson.title, language),
                path=media.path,
            )
            for language, t in translators.items()
        }
        logger.warning(
            "course media file missing at send time, organizers told: %s/%s (%s)",
            media.course_code,
            media.path,
            media.file,
        )
        return await create_system(
            db,
            created_by_id=None,
            audience_kind=Audience.ALL.value,
            audience_ref=None,
            texts=texts,
            default_language=default_language,
            narrow=narrow,
            session=session,
        )

    result: int | None = await _retrying(db, work)
    return result
