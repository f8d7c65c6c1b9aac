"""Loading content packs into the database: all or nothing, versioned, never rewriting.

A pack is loaded only when every pack of the batch is valid. Loading the same content again
changes nothing; loading changed content under the same code adds the next version, so
answers given to the earlier version keep pointing at what was shown to them.

Course packs (`kind: course`) load the same way, as `Course` rows: a changed course is the next
version (ours, counted per code), the same content is not loaded again, and the instruments a
course names as pre- and post-test must be loaded already or come in the same batch.

Contest packs (`kind: contest`) are stored once per code (`Contest`: entries and reviews point
at it), so a changed contest is updated in place, and only as far as what already happened
allows (`_contest_errors`): its pack version must grow; once it has entries its entry fields
(title, description, link, files, authors) stay as they are; once its entries are allocated to
jurors its rubric and review rules stay; once results are released, whether authors see their
feedback stays. Titles, rules and windows may always change (a deadline moved, a typo fixed).
Windows a pack leaves out keep what an organizer set in chat.

Resource packs (`kind: resources`) give the resource bank's disciplines and ready-made
resources (links). Each is stored once by its code and updated in place by a later version of
the pack (which must have a higher version), so uses and ratings stay with it; a resource the
pack no longer lists stays in the bank. The pack's version and checksum are kept in
`app_setting` under `pack:resources:<code>`. Loaded resources are approved at once, belong to
no university, and the person who loaded the pack (none at first start) is their contributor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.engine import compile_pack
from bot.content.schema import Pack
from bot.content.validate import (
    ContentError,
    Report,
    check_path,
    check_text,
    course_reference_errors,
    pack_files,
)
from bot.db import PROJECT_ROOT, Sessionmaker
from bot.services.contest import ContestState, new_code
from bot.services.resource_fields import State as ResourceState
from bot.services.roles import Role, require
from models import (
    AppSetting,
    Contest,
    ContestEntry,
    Course,
    Discipline,
    Instrument,
    Resource,
    utcnow,
)

logger = logging.getLogger(__name__)

CONTENT_DIR = PROJECT_ROOT / "content"
UPLOAD_MAX_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Loaded:
    """What loading one pack did."""

    code: str
    version: int
    status: str  # "created" (first version), "new_version", or "unchanged"
    source: str
    kind: str = "instrument"  # or "course", "contest"


@dataclass(frozen=True, slots=True)
class LoadOutcome:
    """The reports of a batch and, if all were valid, what was loaded."""

    reports: list[Report]
    loaded: list[Loaded]

    @property
    def ok(self) -> bool:
        """True when every pack was valid (and so the batch was loaded)."""
        return all(report.ok for report in self.reports) and bool(self.reports)

    @property
    def errors(self) -> list[ContentError]:
        """Every error of every pack."""
        return [error for report in self.reports for error in report.errors]


async def _store(session: AsyncSession, report: Report, loaded_by_id: int | None) -> Loaded:
    pack = report.pack
    assert pack is not None and report.checksum is not None
    latest = await session.scalar(
        select(Instrument)
        .where(Instrument.code == pack.code)
        .order_by(Instrument.version.desc())
        .limit(1)
    )
    if latest is not None and latest.checksum == report.checksum:
        return Loaded(pack.code, latest.version, "unchanged", report.file)
    version = (latest.version + 1) if latest is not None else 1
    session.add(
        Instrument(
            code=pack.code,
            version=version,
            pack_version=pack.version,
            kind=pack.kind,
            title=pack.title.model_dump(),
            pair_role=pack.pair.role if pack.pair else None,
            pair_with=pack.pair.with_ if pack.pair else None,
            definition=pack.model_dump(mode="json", by_alias=True, exclude_none=True),
            checksum=report.checksum,
            source=report.file[-200:],
            loaded_by_id=loaded_by_id,
        )
    )
    await session.flush()
    return Loaded(pack.code, version, "created" if latest is None else "new_version", report.file)


async def _store_course(session: AsyncSession, report: Report, loaded_by_id: int | None) -> Loaded:
    """Store a course pack as its next version, or nothing when the latest has its checksum."""
    course = report.course
    assert course is not None and report.checksum is not None
    latest = await session.scalar(
        select(Course).where(Course.code == course.code).order_by(Course.version.desc()).limit(1)
    )
    if latest is not None and latest.checksum == report.checksum:
        return Loaded(course.code, latest.version, "unchanged", report.file, "course")
    version = (latest.version + 1) if latest is not None else 1
    session.add(
        Course(
            code=course.code,
            version=version,
            pack_version=course.version,
            title=course.title.model_dump(),
            pre_test=course.pre_test,
            post_test=course.post_test,
            definition=course.model_dump(mode="json", exclude_none=True),
            checksum=report.checksum,
            source=report.file[-200:],
            loaded_by_id=loaded_by_id,
        )
    )
    await session.flush()
    status = "created" if latest is None else "new_version"
    return Loaded(course.code, version, status, report.file, "course")


# What a changed contest may no longer change, and from when (see the module's docstring).
_LOCKED_BY_ENTRIES = ("entry",)
_LOCKED_BY_ALLOCATION = (
    "criteria",
    "reviews_per_entry",
    "blind",
    "exclude_conflicts",
    "standardise",
)
_LOCKED_BY_RELEASE = ("show_feedback",)


async def _store_contest(
    session: AsyncSession, report: Report, loaded_by_id: int | None
) -> Loaded:
    """Store a contest pack: a new contest, or the changed one updated in place."""
    pack = report.contest
    assert pack is not None and report.checksum is not None
    contest = await session.scalar(select(Contest).where(Contest.code == pack.code))
    if contest is not None and contest.checksum == report.checksum:
        return Loaded(pack.code, contest.pack_version, "unchanged", report.file, "contest")
    status = "created" if contest is None else "new_version"
    if contest is None:
        contest = Contest(
            code=pack.code,
            jury_code=new_code(10),
            created_by_id=loaded_by_id,
            state=ContestState.DRAFT.value,
        )
        session.add(contest)
    contest.pack_version = pack.version
    contest.title = pack.title.model_dump()
    contest.definition = pack.model_dump(mode="json", exclude_none=True)
    contest.checksum = report.checksum
    contest.source = report.file[-200:]
    contest.max_authors = pack.entry.max_authors
    contest.reviews_per_entry = pack.reviews_per_entry
    contest.blind = pack.blind
    contest.exclude_conflicts = pack.exclude_conflicts
    contest.standardise = pack.standardise
    contest.show_feedback = pack.show_feedback
    windows = pack.windows
    if windows is not None:
        contest.opens_at = windows.opens.astimezone(UTC)
        contest.deadline_at = windows.deadline.astimezone(UTC)
        contest.late_until = windows.late_until.astimezone(UTC) if windows.late_until else None
        contest.jury_deadline_at = windows.jury_deadline.astimezone(UTC)
        if contest.state == ContestState.DRAFT.value:
            contest.state = ContestState.OPEN.value
    await session.flush()
    return Loaded(pack.code, pack.version, status, report.file, "contest")


async def _contest_errors(session: AsyncSession, reports: list[Report]) -> list[ContentError]:
    """What a changed contest may not change any more, and a code given twice in a batch."""
    errors: list[ContentError] = []
    seen: set[str] = set()
    for report in reports:
        pack = report.contest
        if pack is None:
            continue
        if pack.code in seen:
            errors.append(
                ContentError(report.file, "code", f"contest {pack.code!r} is given twice")
            )
        seen.add(pack.code)
        contest = await session.scalar(select(Contest).where(Contest.code == pack.code))
        if contest is None or contest.checksum == report.checksum:
            continue
        if pack.version <= contest.pack_version:
            errors.append(
                ContentError(
                    report.file,
                    "version",
                    f"contest {pack.code!r} is loaded at version {contest.pack_version}; "
                    "a changed pack needs a higher version",
                )
            )
        before: dict[str, Any] = dict(contest.definition or {})
        after = pack.model_dump(mode="json", exclude_none=True)
        entries = await session.scalar(
            select(func.count(ContestEntry.id)).where(ContestEntry.contest_id == contest.id)
        )
        locks = [
            (bool(entries), _LOCKED_BY_ENTRIES, f"it has {entries} entries"),
            (
                contest.allocated_at is not None,
                _LOCKED_BY_ALLOCATION,
                "its entries are allocated to jurors",
            ),
            (contest.released_at is not None, _LOCKED_BY_RELEASE, "its results are released"),
        ]
        for locked, keys, why in locks:
            if not locked:
                continue
            for key in keys:
                if before.get(key) != after.get(key):
                    errors.append(
                        ContentError(
                            report.file,
                            key,
                            f"cannot change: {why} (a different contest needs a new code)",
                        )
                    )
    return errors


def _pack_key(code: str) -> str:
    return f"pack:resources:{code}"


async def _store_resources(
    session: AsyncSession, report: Report, loaded_by_id: int | None
) -> Loaded:
    """Store a resource pack: disciplines and resources created, or updated in place."""
    bank = report.resources
    assert bank is not None and report.checksum is not None
    setting = await session.get(AppSetting, _pack_key(bank.code))
    if setting is not None and (setting.value or {}).get("checksum") == report.checksum:
        return Loaded(bank.code, bank.version, "unchanged", report.file, "resources")
    now = utcnow()
    disciplines: dict[str, int] = {}
    for entry in bank.disciplines:
        row = await session.scalar(select(Discipline).where(Discipline.code == entry.code))
        if row is None:
            row = Discipline(code=entry.code, proposed_by_id=loaded_by_id)
            session.add(row)
        row.name = entry.name.model_dump()
        row.approved = True
        await session.flush()
        disciplines[entry.code] = row.id
    for item in bank.resources:
        discipline_id = disciplines.get(item.discipline) or await session.scalar(
            select(Discipline.id).where(Discipline.code == item.discipline)
        )
        resource = await session.scalar(select(Resource).where(Resource.code == item.code))
        if resource is None:
            resource = Resource(
                code=item.code,
                state=ResourceState.APPROVED.value,
                contributor_id=loaded_by_id,
                university_id=None,
                submitted_at=now,
                approved_at=now,
                extra={"pack": bank.code},
            )
            session.add(resource)
        resource.title = item.title.model_dump()
        resource.description = item.description.model_dump()
        resource.discipline_id = discipline_id
        resource.kind = item.kind.value
        resource.languages = list(item.languages)
        resource.level = item.level.value
        resource.license = item.license
        resource.authors = item.authors
        resource.url = item.url
    value = {"version": bank.version, "checksum": report.checksum}
    if setting is None:
        session.add(AppSetting(key=_pack_key(bank.code), value=value, updated_by_id=loaded_by_id))
    else:
        setting.value = value
        setting.updated_by_id = loaded_by_id
    await session.flush()
    status = "created" if setting is None else "new_version"
    return Loaded(bank.code, bank.version, status, report.file, "resources")


async def _resource_errors(session: AsyncSession, reports: list[Report]) -> list[ContentError]:
    """What a resource pack may not do at loading.

    A changed pack needs a higher version; its resource codes must be free or its own; a
    discipline it names must be in it or loaded.
    """
    errors: list[ContentError] = []
    for report in reports:
        bank = report.resources
        if bank is None:
            continue
        setting = await session.get(AppSetting, _pack_key(bank.code))
        stored = dict(setting.value or {}) if setting is not None else {}
        changed = stored and stored.get("checksum") != report.checksum
        if changed and bank.version <= int(stored.get("version") or 0):
            errors.append(
                ContentError(
                    report.file,
                    "version",
                    f"resources {bank.code!r} are loaded at version {stored.get('version')}; "
                    "a changed pack needs a higher version",
                )
            )
        given = {d.code for d in bank.disciplines}
        for n, item in enumerate(bank.resources):
            if item.discipline not in given and not await session.scalar(
                select(Discipline.id).where(Discipline.code == item.discipline)
            ):
                errors.append(
                    ContentError(
                        report.file,
                        f"resources[{n}].discipline",
                        f"no discipline {item.discipline!r} is given or loaded",
                    )
                )
            other = await session.scalar(select(Resource).where(Resource.code == item.code))
            if other is not None and (other.extra or {}).get("pack") != bank.code:
                errors.append(
                    ContentError(
                        report.file,
                        f"resources[{n}].code",
                        f"{item.code!r} is the code of a resource contributed in chat",
                    )
                )
    return errors


async def _course_errors(session: AsyncSession, reports: list[Report]) -> list[ContentError]:
    """A course's pre- and post-test must be an instrument loaded already or in this batch."""
    if not any(report.course is not None for report in reports):
        return []
    batch = {r.pack.code for r in reports if r.pack}
    known = set((await session.scalars(select(Instrument.code).distinct())).all())
    return course_reference_errors(reports, batch | known)


async def _pair_errors(session: AsyncSession, reports: list[Report]) -> list[ContentError]:
    """A pair partner must be in this batch or already loaded."""
    batch = {r.pack.code for r in reports if r.pack}
    known = set((await session.scalars(select(Instrument.code).distinct())).all())
    errors = []
    for report in reports:
        pack = report.pack
        if pack and pack.pair and pack.pair.with_ not in batch | known:
            errors.append(
                ContentError(
                    report.file,
                    "pair.with",
                    f"no instrument {pack.pair.with_!r} is loaded or given",
                )
            )
    return errors


def _kinds(pack: Pack) -> dict[str, str]:
    """Item code -> the kind of answer it stores (matrix statements are Likert items)."""
    return {item.code: item.kind for item in compile_pack(pack).items if item.stores_answer}


def _stored_kinds(definition: dict[str, Any]) -> dict[str, str]:
    """`_kinds` of a stored definition; one that no longer validates constrains nothing."""
    try:
        return _kinds(Pack.model_validate(definition))
    except ValidationError:
        return {}


async def _kind_errors(session: AsyncSession, reports: list[Report]) -> list[ContentError]:
    """An item code keeps its kind of answer across versions and across a pre/post pair.

    Otherwise answers stored under one code would mean different things in different
    versions, and the wide export and the analysis could not put them in one column. Checked
    against what is loaded and against the other packs of the same batch, in both directions
    of a pair (either half may be the one that declares it).
    """
    batch = {r.pack.code: r.pack for r in reports if r.pack is not None}
    errors = []
    for report in reports:
        pack = report.pack
        assert pack is not None
        related = {pack.code} | ({pack.pair.with_} if pack.pair else set())
        related |= {p.code for p in batch.values() if p.pair and p.pair.with_ == pack.code}
        earlier = await session.scalars(
            select(Instrument)
            .where(Instrument.code.in_(related) | (Instrument.pair_with == pack.code))
            .order_by(Instrument.id)
        )
        known: dict[str, tuple[str, str]] = {}
        for instrument in earlier:
            for code, kind in _stored_kinds(instrument.definition).items():
                known.setdefault(code, (kind, f"{instrument.code} version {instrument.version}"))
        for other in sorted(related - {pack.code}):
            if other in batch:
                for code, kind in _kinds(batch[other]).items():
                    known.setdefault(code, (kind, f"{other} (loaded with it)"))
        for code, kind in _kinds(pack).items():
            before = known.get(code)
            if before is not None and before[0] != kind:
                errors.append(
                    ContentError(
                        report.file,
                        f"questions.{code}",
                        f"{code!r} is a {before[0]} question in {before[1]}; a question that "
                        "changes its type needs a new code",
                    )
                )
    return errors


async def load_reports(
    db: Sessionmaker, reports: list[Report], loaded_by_id: int | None = None
) -> LoadOutcome:
    """Load a batch of checked packs in one transaction, or nothing if any has an error."""
    if not reports or not all(report.ok for report in reports):
        return LoadOutcome(reports, [])
    instruments = [report for report in reports if report.pack is not None]
    async with db.begin() as session:
        errors = (
            await _pair_errors(session, instruments)
            + await _kind_errors(session, instruments)
            + await _course_errors(session, reports)
            + await _contest_errors(session, reports)
            + await _resource_errors(session, reports)
        )
        if errors:
            for error in errors:
                report = next(r for r in reports if r.file == error.file)
                report.errors.append(error)
                report.pack = report.course = report.contest = None
                report.resources = None
            return LoadOutcome(reports, [])
        loaded = [await _STORE[report.kind](session, report, loaded_by_id) for report in reports]
    for item in loaded:
        logger.info("content %s v%s: %s (%s)", item.code, item.version, item.status, item.source)
    return LoadOutcome(reports, loaded)


_STORE: dict[str, Callable[[AsyncSession, Report, int | None], Awaitable[Loaded]]] = {
    "instrument": _store,
    "course": _store_course,
    "contest": _store_contest,
    "resources": _store_resources,
}


async def load_path(db: Sessionmaker, path: Path) -> LoadOutcome:
    """Check and load a pack file or a folder of packs."""
    # Reading and parsing files blocks: do it off the event loop.
    return await load_reports(db, await asyncio.to_thread(check_path, path))


async def load_defaults_if_empty(
    db: Sessionmaker, folder: Path = CONTENT_DIR
) -> LoadOutcome | None:
    """At first start, load the packs shipped in `content/`; later starts leave content alone.

    Instruments, courses, contests and the resource bank's pack count apart: only the kinds
    the database has none of yet are loaded (a database from before courses, contests or the
    bank existed gets the shipped ones), and the instruments a course names are looked up
    among those loaded; packs of a kind already present are not re-read into new versions.
    """
    async with db() as session:
        counts = {
            "instrument": await session.scalar(select(func.count(Instrument.id))),
            "course": await session.scalar(select(func.count(Course.id))),
            "contest": await session.scalar(select(func.count(Contest.id))),
            # The bank's pack brings the disciplines: none yet, it was never loaded.
            "resources": await session.scalar(select(func.count(Discipline.id))),
        }
    missing = {kind for kind, count in counts.items() if not count}
    if not missing or not await asyncio.to_thread(folder.is_dir):
        return None
    if not await asyncio.to_thread(pack_files, folder):
        return None
    reports = await asyncio.to_thread(check_path, folder)
    # The missing kinds, and any report that failed (it might have been one of them).
    reports = [r for r in reports if r.kind in missing or not r.ok]
    if not reports:
        return None
    outcome = await load_reports(db, reports)
    if not outcome.ok:
        for error in outcome.errors:
            logger.error("default content: %s", error)
    return outcome


def check_upload(data: bytes, filename: str) -> Report:
    """Check a pack sent as a file in chat (no aliases; depth and duplicate keys checked)."""
    if len(data) > UPLOAD_MAX_BYTES:
        return Report(filename, errors=[ContentError(filename, "", "larger than 1 MB")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Report(filename, errors=[ContentError(filename, "", "not UTF-8 text")])
    report = check_text(text, filename, aliases=False)
    logger.info(
        "pack %s checked: %s", filename, "valid" if report.ok else f"{len(report.errors)} error(s)"
    )
    return report


T = TypeVar("T")


async def in_daemon_thread(function: Callable[[], T], name: str) -> T:
    """Run `function` in a daemon thread of its own and wait for its result.

    Not `asyncio.to_thread`: the default executor's threads are joined when the process
    exits, so a check still running at SIGTERM held the exit until it ended (about 25 s for
    a valid, densely written 1 MB pack; minutes for deep nesting before the depth guard). A
    daemon thread is left behind at exit; a pack check only computes and writes nothing, so
    leaving it loses nothing. Cancelling the waiter (the bot stopping) returns at once; the
    thread's result is then dropped.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():  # cancelled while the thread worked
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            outcome: tuple[T | None, BaseException | None] = (function(), None)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiter, which re-raises it
            outcome = (None, exc)
        # A closed loop (the bot stopped while this ran) has no one left to tell.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future


async def load_upload(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], data: bytes, filename: str
) -> LoadOutcome:
    """Check and load a pack an organizer sent in chat (organizers and admins only)."""
    async with db() as session:
        user, _ = await require(session, actor_id, admin_ids, Role.ADMIN, Role.ORGANIZER)
    logger.info("checking pack %s (%d bytes) from %s", filename, len(data), actor_id)
    # Parsing blocks (up to about 25 s for a valid 1 MB pack): off the event loop.
    report = await in_daemon_thread(lambda: check_upload(data, filename), "pack-check")
    return await load_reports(db, [report], loaded_by_id=user.id)


async def latest_versions(db: Sessionmaker) -> list[tuple[str, int, str]]:
    """(code, latest version, kind) of every instrument."""
    async with db() as session:
        rows = await session.execute(
            select(Instrument.code, func.max(Instrument.version), Instrument.kind)
            .group_by(Instrument.code, Instrument.kind)
            .order_by(Instrument.code)
        )
        return [(code, version, kind) for code, version, kind in rows.all()]
