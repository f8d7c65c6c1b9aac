"""The contest's jury (issue 13): joining, the allocation, reviews, reminders, progress.

JOINING. A juror joins with the contest's jury code (the invite link `?start=j-<code>` carries
it): a `Juror` row per contest and person, and the `juror` role if they did not hold it. Joining
twice is harmless; after the jury deadline or the release the code is refused. Someone who joins
after the allocation is on the jury but has no reviews in this contest (`Joined.after_allocation`
says so, so the chat can tell them) until an organizer re-allocates.

THE RE-ALLOCATION (`allocate_missing`, organizers and admins, while the jury is open): the
entries still short of `reviews_per_entry` reviews (a jury empty or too small at the close, a
conflict nobody could avoid then) get them from the jurors who may take them under the same
rules (`contest_allocation.top_up`: conflicts excluded, no author on their own entry, the least
loaded first, so those who joined after the allocation), each told their new share; what is
still unmet becomes the allocation note. One commit, under a lock on the contest row.

THE ALLOCATION is a timed duty ("a due row, claimed once, done once", `bot.services.due`): a
contest whose submissions have closed (its late cut-off, or its deadline when it has none) and
which is not allocated yet is taken once. Its submitted entries (with the universities of their
authors) and its jurors (with theirs) go to `contest_allocation.allocate` with the contest's
reviews per entry and conflict rule, seeded with the contest's id (the same contest always gets
the same allocation); one pending `Review` per pair is written, the contest marked allocated
and judging, what could not be met stored as `allocation_note` (a JSON list of issues, each a
translation key and its values; read back with `allocation_issues`), each juror told how many
entries they have and until when (their own message in their language, in one personal
broadcast per contest), and the organizers and admins sent a report naming every unmet
constraint and why. All of it one commit.

REVIEWS. A juror sees their queue (pending first) and opens a review: the entry's title,
description, link, files (Telegram file_ids, to send again) and whether it was late; its
authors' names and universities only when the contest is not blind. They score each criterion
(0..max, from buttons), write a comment, and submit; a review is submitted only with every
criterion scored. Until the jury deadline (and while the results are not released) they may
revise: a score or comment changed on a submitted review changes it in place (it stays complete,
so it stays submitted). Refused, each with its message: a review that is not the presser's
(`contest.review_not_found`, also for a forged button), a criterion that does not exist, a score
out of range, anything after the jury deadline (`contest.jury_closed`).

REMINDERS. Once per contest (`Contest.jurors_reminded_at`), `JURY_REMINDER_BEFORE` before the
jury deadline, each juror with pending reviews is reminded how many are left.

PROGRESS. Organizers and admins see, per juror, the reviews allocated, submitted and pending,
with the allocation's issues and how many reviews the entries still lack (`missing`: what a
re-allocation would give out).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import JuryQueue
from bot.config import LANGUAGES
from bot.db import Sessionmaker
from bot.i18n import I18n
from bot.services import InvalidInput, NotFound, PermissionDenied
from bot.services.audiences import Audience
from bot.services.broadcasts import (
    create_system,
    open_personal,
    open_personal_in,
    queue_personal,
)
from bot.services.contest import MANAGERS, ContestState, ContestView, pick, view
from bot.services.contest_allocation import (
    EntryToAllocate,
    Issue,
    JurorToAllocate,
    allocate,
    top_up,
)
from bot.services.contest_entries import EntryState, FileView
from bot.services.contest_scoring import Criterion, review_score
from bot.services.due import BATCH, DueRows, run_due
from bot.services.roles import Role, grant, require
from bot.services.times import show_local_time
from bot.text import clean_block, visible
from models import (
    Contest,
    ContestEntry,
    EntryAuthor,
    EntryFile,
    Juror,
    Review,
    University,
    User,
    UserRole,
    utcnow,
)

JURY_REMINDER_BEFORE = timedelta(hours=48)
COMMENT_MAX = 2000
NOT_FOUND = "contest.review_not_found"
CLOSED = "contest.jury_closed"


class ReviewState(StrEnum):
    """Life of a review."""

    PENDING = "pending"
    SUBMITTED = "submitted"


# --- who may act ----------------------------------------------------------------------------


def managers(
    admin_ids: frozenset[int], creator_id: int | None = None
) -> Callable[[Select[Any]], Select[Any]]:
    """Narrow an audience to the organizers and admins (and the contest's creator)."""

    def narrow(stmt: Select[Any]) -> Select[Any]:
        """Organizers, admins, the creator."""
        holders = select(UserRole.user_id).where(
            UserRole.role.in_((Role.ORGANIZER.value, Role.ADMIN.value))
        )
        who: ColumnElement[bool] = User.id.in_(holders)
        if admin_ids:
            who = or_(who, User.telegram_id.in_(admin_ids))
        if creator_id is not None:
            who = or_(who, User.id == creator_id)
        return stmt.where(who)

    return narrow


def jury_open(contest: Contest | ContestView, now: datetime) -> bool:
    """Reviews may be written or revised: allocated, before the jury deadline, not released."""
    return (
        contest.allocated_at is not None
        and contest.released_at is None
        and (contest.jury_deadline_at is None or now < contest.jury_deadline_at)
    )


async def _user(session: AsyncSession, telegram_id: int) -> User:
    """The user writing (known to the bot by now)."""
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise PermissionDenied("errors.not_allowed")
    return user


# --- joining --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    """The jury joined: the contest, the juror row, and whether it was new."""

    contest: ContestView
    juror_id: int
    created: bool
    after_allocation: bool  # joined once the entries were allocated: no reviews this time


async def join(
    db: Sessionmaker, telegram_id: int, jury_code: str, *, now: datetime | None = None
) -> Joined:
    """Join the jury of the contest whose jury code this is.

    Raises:
        NotFound: `contest.jury_bad_code`.
        InvalidInput: `contest.jury_closed` (after the jury deadline or the release).
    """
    now = now or utcnow()
    code = visible(jury_code).strip().upper()
    if not code or len(code) > 16:
        raise NotFound("contest.jury_bad_code")
    async with db.begin() as session:
        user = await _user(session, telegram_id)
        contest = await session.scalar(select(Contest).where(Contest.jury_code == code))
        if contest is None:
            raise NotFound("contest.jury_bad_code")
        juror = await session.scalar(
            select(Juror).where(Juror.contest_id == contest.id, Juror.user_id == user.id)
        )
        created = juror is None
        if juror is None:
            if contest.released_at is not None or (
                contest.jury_deadline_at is not None and now >= contest.jury_deadline_at
            ):
                raise InvalidInput(CLOSED)
            juror = Juror(contest_id=contest.id, user_id=user.id, joined_at=now)
            session.add(juror)
            held = await session.scalar(
                select(UserRole.id).where(
                    UserRole.user_id == user.id, UserRole.role == Role.JUROR.value
                )
            )
            if held is None:
                await grant(session, user, Role.JUROR)
            await session.flush()
        return Joined(view(contest), juror.id, created, contest.allocated_at is not None)


async def my_juries(db: Sessionmaker, telegram_id: int) -> list[ContestView]:
    """The contests whose jury the user sits on, the newest first."""
    async with db() as session:
        rows = (
            await session.scalars(
                select(Contest)
                .join(Juror, Juror.contest_id == Contest.id)
                .join(User, User.id == Juror.user_id)
                .where(User.telegram_id == telegram_id)
                .order_by(Contest.id.desc())
            )
        ).all()
        return [view(row) for row in rows]


# --- the allocation duty ---------------------------------------------------------------------


def allocation_issues(note: str | None) -> tuple[Issue, ...]:
    """The issues stored in a contest's allocation note (none for None)."""
    if not note:
        return ()
    return tuple(Issue.from_json(item) for item in json.loads(note))


def allocation_due(now: datetime) -> ColumnElement[bool]:
    """Contests whose submissions have closed and which are not allocated yet."""
    return and_(
        Contest.allocated_at.is_(None),
        Contest.opens_at.is_not(None),
        Contest.deadline_at.is_not(None),
        func.coalesce(Contest.late_until, Contest.deadline_at) <= now,
    )


@dataclass(frozen=True)
class Allocated:
    """One contest allocated: counts, the unmet constraints, and the broadcasts to start."""

    contest_id: int
    entries: int
    jurors: int
    reviews: int
    issues: tuple[Issue, ...]
    broadcast_ids: tuple[int, ...]
    left_for_later: bool = False  # fell due after the pass opened its broadcasts


async def _entries_to_allocate(
    session: AsyncSession, contest_id: int, juror_of_user: Mapping[int, int]
) -> list[EntryToAllocate]:
    """The submitted entries with their authors' universities and authors on the jury."""
    rows = (
        await session.execute(
            select(ContestEntry.id, ContestEntry.code, User.id, User.university_id)
            .join(EntryAuthor, EntryAuthor.entry_id == ContestEntry.id)
            .join(User, User.id == EntryAuthor.user_id)
            .where(
                ContestEntry.contest_id == contest_id,
                ContestEntry.state == EntryState.SUBMITTED.value,
            )
        )
    ).all()
    codes: dict[int, str] = {}
    universities: dict[int, set[int]] = {}
    on_jury: dict[int, set[int]] = {}
    for entry_id, code, user_id, university_id in rows:
        codes[entry_id] = code
        universities.setdefault(entry_id, set())
        on_jury.setdefault(entry_id, set())
        if university_id is not None:
            universities[entry_id].add(university_id)
        if user_id in juror_of_user:
            on_jury[entry_id].add(juror_of_user[user_id])
    # An entry whose authors all left (accounts deleted) is still an entry.
    orphans = (
        await session.execute(
            select(ContestEntry.id, ContestEntry.code).where(
                ContestEntry.contest_id == contest_id,
                ContestEntry.state == EntryState.SUBMITTED.value,
                ContestEntry.id.not_in(list(codes) or [-1]),
            )
        )
    ).all()
    for entry_id, code in orphans:
        codes[entry_id], universities[entry_id], on_jury[entry_id] = code, set(), set()
    return [
        EntryToAllocate(e, codes[e], frozenset(universities[e]), frozenset(on_jury[e]))
        for e in sorted(codes)
    ]


def _report(t: Any, contest: Contest, language: str, allocated: Allocated, zone: tzinfo) -> str:
    """The organizers' report of an allocation, in one language."""
    lines = [
        t(
            "contest.alloc_report",
            contest=pick(contest.title, language),
            entries=allocated.entries,
            reviews=allocated.reviews,
            jurors=allocated.jurors,
            deadline=_when(contest.jury_deadline_at, zone),
        )
    ]
    if allocated.issues:
        lines.append(t("contest.alloc_problems"))
        lines.extend(f"• {t(issue.key, **issue.values)}" for issue in allocated.issues)
    else:
        lines.append(t("contest.alloc_all_met"))
    return "\n".join(lines)


def _when(moment: datetime | None, zone: tzinfo) -> str:
    """A stored moment as people read it, or a dash."""
    return "—" if moment is None else show_local_time(moment, zone)


async def allocate_due(
    db: Sessionmaker,
    i18n: I18n,
    default_zone: tzinfo,
    admin_ids: frozenset[int],
    *,
    now: datetime | None = None,
    batch: int = BATCH,
) -> list[Allocated]:
    """Allocate every contest whose submissions have closed, each exactly once.

    The caller starts the broadcasts named in the result (jurors' messages, the report).
    """
    now = now or utcnow()
    async with db() as session:
        due = list((await session.scalars(select(Contest.id).where(allocation_due(now)))).all())
    opened = {
        contest_id: await open_personal(
            db, audience_kind=Audience.CONTEST_JURY.value, audience_ref=str(contest_id)
        )
        for contest_id in due
    }

    async def settle(session: AsyncSession, contest: Contest, at: datetime) -> Allocated:
        """Allocate, write the reviews, mark the contest, queue the messages."""
        broadcast_id = opened.get(contest.id)
        if broadcast_id is None:  # left due: the next pass opens its broadcast first
            return Allocated(contest.id, 0, 0, 0, (), (), left_for_later=True)
        juror_rows = (
            await session.execute(
                select(Juror, User)
                .join(User, User.id == Juror.user_id)
                .where(Juror.contest_id == contest.id)
                .order_by(Juror.id)
            )
        ).all()
        jurors = [
            JurorToAllocate(j.id, u.university_id, u.first_name or f"#{j.id}")
            for j, u in juror_rows
        ]
        entries = await _entries_to_allocate(
            session, contest.id, {u.id: j.id for j, u in juror_rows}
        )
        allocation = allocate(
            entries,
            jurors,
            contest.reviews_per_entry,
            exclude_conflicts=contest.exclude_conflicts,
            seed=contest.id,
        )
        for entry_id, juror_id in allocation.pairs:
            session.add(
                Review(
                    contest_id=contest.id,
                    entry_id=entry_id,
                    juror_id=juror_id,
                    state=ReviewState.PENDING.value,
                    scores={},
                )
            )
        contest.allocated_at = at
        contest.state = ContestState.JUDGING.value
        contest.allocation_note = (
            json.dumps([i.as_json() for i in allocation.issues], ensure_ascii=False)
            if allocation.issues
            else None
        )
        deadline = _when(contest.jury_deadline_at, default_zone)
        for juror, user in juror_rows:
            load = allocation.loads.get(juror.id, 0)
            language = user.language or i18n.default_language
            t = i18n.translator(language)
            title = pick(contest.title, language)
            await queue_personal(
                session,
                broadcast_id,
                user,
                text=(
                    t("contest.jury_allocated", contest=title, count=load, deadline=deadline)
                    if load
                    else t("contest.jury_nothing_allocated", contest=title)
                ),
                buttons=(
                    ((t.plain("contest.jury_open_button"), JuryQueue(contest.id).pack()),)
                    if load
                    else ()
                ),
                default_language=i18n.default_language,
            )
        allocated = Allocated(
            contest.id,
            len(entries),
            len(jurors),
            len(allocation.pairs),
            allocation.issues,
            (broadcast_id,),
        )
        report_id = await create_system(
            db,
            created_by_id=None,
            audience_kind=Audience.ALL.value,
            audience_ref=None,
            texts={
                language: _report(
                    i18n.translator(language), contest, language, allocated, default_zone
                )
                for language in LANGUAGES
            },
            default_language=i18n.default_language,
            narrow=managers(admin_ids, contest.created_by_id),
            session=session,
        )
        return Allocated(
            allocated.contest_id,
            allocated.entries,
            allocated.jurors,
            allocated.reviews,
            allocated.issues,
            (broadcast_id, report_id),
        )

    return await run_due(db, DueRows(Contest, allocation_due, settle), now=now, batch=batch)


@dataclass(frozen=True)
class Reallocated:
    """The missing reviews given out: how many, to how many jurors, what is still unmet."""

    contest_id: int
    reviews: int  # reviews added
    jurors: int  # jurors who got some
    issues: tuple[Issue, ...]  # still unmet afterwards (the new allocation note)
    broadcast_id: int | None  # the jurors' messages, to start; None when nothing was added


async def _reviewing(session: AsyncSession, contest_id: int) -> dict[int, frozenset[int]]:
    """The jurors each entry of the contest already has (any state)."""
    rows = (
        await session.execute(
            select(Review.entry_id, Review.juror_id).where(Review.contest_id == contest_id)
        )
    ).all()
    found: dict[int, set[int]] = {}
    for entry_id, juror_id in rows:
        found.setdefault(entry_id, set()).add(juror_id)
    return {entry_id: frozenset(jurors) for entry_id, jurors in found.items()}


async def allocate_missing(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    contest_id: int,
    i18n: I18n,
    default_zone: tzinfo,
    *,
    now: datetime | None = None,
) -> Reallocated:
    """Give the entries short of reviews the ones they lack (THE RE-ALLOCATION); organizers.

    The caller starts the broadcast named in the result (each juror's new share).

    Raises:
        PermissionDenied: not an organizer or admin.
        NotFound: `contest.not_found`.
        InvalidInput: `contest.not_allocated`, `contest.already_released`,
            `contest.jury_closed` (after the jury deadline).
    """
    now = now or utcnow()
    async with db.begin() as session:
        await require(session, telegram_id, admin_ids, *MANAGERS)
        contest = await session.get(Contest, contest_id, with_for_update=True)
        if contest is None:
            raise NotFound("contest.not_found")
        if contest.allocated_at is None:
            raise InvalidInput("contest.not_allocated")
        if contest.released_at is not None:
            raise InvalidInput("contest.already_released")
        if not jury_open(contest, now):
            raise InvalidInput(CLOSED)
        juror_rows = (
            await session.execute(
                select(Juror, User)
                .join(User, User.id == Juror.user_id)
                .where(Juror.contest_id == contest.id)
                .order_by(Juror.id)
            )
        ).all()
        jurors = [
            JurorToAllocate(j.id, u.university_id, u.first_name or f"#{j.id}")
            for j, u in juror_rows
        ]
        entries = await _entries_to_allocate(
            session, contest.id, {u.id: j.id for j, u in juror_rows}
        )
        topped = top_up(
            entries,
            jurors,
            contest.reviews_per_entry,
            await _reviewing(session, contest.id),
            exclude_conflicts=contest.exclude_conflicts,
            seed=contest.id,
        )
        added: dict[int, int] = {}
        for entry_id, juror_id in topped.pairs:
            session.add(
                Review(
                    contest_id=contest.id,
                    entry_id=entry_id,
                    juror_id=juror_id,
                    state=ReviewState.PENDING.value,
                    scores={},
                )
            )
            added[juror_id] = added.get(juror_id, 0) + 1
        contest.allocation_note = (
            json.dumps([i.as_json() for i in topped.issues], ensure_ascii=False)
            if topped.issues
            else None
        )
        broadcast_id: int | None = None
        if added:
            broadcast_id = await open_personal_in(
                session, audience_kind=Audience.CONTEST_JURY.value, audience_ref=str(contest.id)
            )
            deadline = _when(contest.jury_deadline_at, default_zone)
            for juror, user in juror_rows:
                if juror.id not in added:
                    continue
                language = user.language or i18n.default_language
                t = i18n.translator(language)
                await queue_personal(
                    session,
                    broadcast_id,
                    user,
                    text=t(
                        "contest.jury_allocated_more",
                        contest=pick(contest.title, language),
                        count=added[juror.id],
                        deadline=deadline,
                    ),
                    buttons=((t.plain("contest.jury_open_button"), JuryQueue(contest.id).pack()),),
                    default_language=i18n.default_language,
                )
        await session.flush()
        return Reallocated(contest.id, len(topped.pairs), len(added), topped.issues, broadcast_id)


# --- reviews --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownAuthor:
    """An author as a juror sees them when the review is not blind."""

    name: str
    university: dict[str, str] | None


@dataclass(frozen=True)
class ReviewScreen:
    """One review as its juror sees it: the entry (blind or not), the scores so far."""

    review_id: int
    contest: ContestView
    entry_id: int
    entry_code: str
    title: str | None
    description: str | None
    link: str | None
    late: bool
    files: tuple[FileView, ...]
    authors: tuple[ShownAuthor, ...]  # () when the contest is blind
    scores: Mapping[str, int]
    comment: str | None
    state: ReviewState
    submitted_at: datetime | None
    open: bool  # may still be scored, commented, submitted

    @property
    def missing(self) -> tuple[str, ...]:
        """The codes of the criteria not scored yet, in the rubric's order."""
        return tuple(c.code for c in self.contest.criteria if c.code not in self.scores)

    @property
    def weighted(self) -> float | None:
        """The weighted score (0..100) once every criterion is scored."""
        if self.missing:
            return None
        return review_score(self.scores, scoring_criteria(self.contest))


def scoring_criteria(contest: ContestView) -> list[Criterion]:
    """The contest's rubric as the scoring module takes it."""
    return [Criterion(c.code, c.weight, c.max) for c in contest.criteria]


def _university_names(university: University | None) -> dict[str, str] | None:
    """A university's names by language."""
    if university is None:
        return None
    return {"kk": university.name_kk, "ru": university.name_ru, "en": university.name_en}


async def _own_review(
    session: AsyncSession, telegram_id: int, review_id: int, *, lock: bool = False
) -> tuple[Review, Contest]:
    """The presser's own review and its contest, else `contest.review_not_found`."""
    stmt = (
        select(Review)
        .join(Juror, Juror.id == Review.juror_id)
        .join(User, User.id == Juror.user_id)
        .where(Review.id == review_id, User.telegram_id == telegram_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=Review)
    review = await session.scalar(stmt)
    contest = await session.get(Contest, review.contest_id) if review is not None else None
    if review is None or contest is None:
        raise NotFound(NOT_FOUND)
    return review, contest


async def _screen(
    session: AsyncSession, review: Review, contest: Contest, now: datetime
) -> ReviewScreen:
    """The review as its juror sees it."""
    entry = await session.get(ContestEntry, review.entry_id)
    assert entry is not None
    files = (
        await session.scalars(
            select(EntryFile)
            .where(EntryFile.entry_id == entry.id)
            .order_by(EntryFile.position, EntryFile.id)
        )
    ).all()
    authors: tuple[ShownAuthor, ...] = ()
    if not contest.blind:
        rows = (
            await session.execute(
                select(User)
                .join(EntryAuthor, EntryAuthor.user_id == User.id)
                .where(EntryAuthor.entry_id == entry.id)
                .order_by(EntryAuthor.owner.desc(), EntryAuthor.id)
            )
        ).all()
        authors = tuple(
            ShownAuthor(user.first_name, _university_names(user.university)) for (user,) in rows
        )
    return ReviewScreen(
        review_id=review.id,
        contest=view(contest),
        entry_id=entry.id,
        entry_code=entry.code,
        title=entry.title,
        description=entry.description,
        link=entry.link,
        late=entry.late,
        files=tuple(
            FileView(f.id, f.file_id, f.file_unique_id, f.name, f.mime_type, f.size, f.position)
            for f in files
        ),
        authors=authors,
        scores={str(k): int(v) for k, v in dict(review.scores or {}).items()},
        comment=review.comment,
        state=ReviewState(review.state),
        submitted_at=review.submitted_at,
        open=jury_open(contest, now),
    )


async def open_review(
    db: Sessionmaker, telegram_id: int, review_id: int, *, now: datetime | None = None
) -> ReviewScreen:
    """The juror's own review (read-only after the jury deadline).

    Raises:
        NotFound: `contest.review_not_found`.
    """
    async with db() as session:
        review, contest = await _own_review(session, telegram_id, review_id)
        return await _screen(session, review, contest, now or utcnow())


async def _change(
    db: Sessionmaker,
    telegram_id: int,
    review_id: int,
    change: Callable[[Review, ContestView, datetime], None],
    now: datetime | None,
) -> ReviewScreen:
    """Apply `change` to the presser's own review while the jury is open; the new screen."""
    now = now or utcnow()
    async with db.begin() as session:
        review, contest = await _own_review(session, telegram_id, review_id, lock=True)
        if not jury_open(contest, now):
            raise InvalidInput(CLOSED)
        change(review, view(contest), now)
        await session.flush()
        return await _screen(session, review, contest, now)


async def set_score(
    db: Sessionmaker,
    telegram_id: int,
    review_id: int,
    criterion: int,
    value: int,
    *,
    now: datetime | None = None,
) -> ReviewScreen:
    """Score the criterion at position `criterion` of the rubric with `value` (0..max).

    Raises:
        NotFound: `contest.review_not_found`.
        InvalidInput: `contest.jury_closed`, `contest.bad_criterion`, `contest.score_range`.
    """

    def change(review: Review, contest: ContestView, _now: datetime) -> None:
        """Store the score (a new dict: the JSON column is not change-tracked)."""
        if not 0 <= criterion < len(contest.criteria):
            raise InvalidInput("contest.bad_criterion")
        rule = contest.criteria[criterion]
        if not 0 <= value <= rule.max:
            raise InvalidInput("contest.score_range", max=rule.max)
        review.scores = {**dict(review.scores or {}), rule.code: value}

    return await _change(db, telegram_id, review_id, change, now)


async def set_comment(
    db: Sessionmaker,
    telegram_id: int,
    review_id: int,
    text: str,
    *,
    now: datetime | None = None,
) -> ReviewScreen:
    """Write the review's comment (cleaned; at most `COMMENT_MAX` characters).

    Raises:
        NotFound: `contest.review_not_found`.
        InvalidInput: `contest.jury_closed`, `contest.comment_empty`, `contest.comment_long`.
    """
    comment = clean_block(text)
    if not comment:
        raise InvalidInput("contest.comment_empty")
    if len(comment) > COMMENT_MAX:
        raise InvalidInput("contest.comment_long", max=COMMENT_MAX, length=len(comment))

    def change(review: Review, _contest: ContestView, _now: datetime) -> None:
        """Store the comment."""
        review.comment = comment

    return await _change(db, telegram_id, review_id, change, now)


async def submit_review(
    db: Sessionmaker, telegram_id: int, review_id: int, *, now: datetime | None = None
) -> ReviewScreen:
    """Submit the review (again after a revision): every criterion must be scored.

    Raises:
        NotFound: `contest.review_not_found`.
        InvalidInput: `contest.jury_closed`, `contest.review_incomplete`.
    """

    def change(review: Review, contest: ContestView, at: datetime) -> None:
        """Mark it submitted, now."""
        scores = dict(review.scores or {})
        missing = [c for c in contest.criteria if c.code not in scores]
        if missing:
            raise InvalidInput("contest.review_incomplete", count=len(missing))
        review.state = ReviewState.SUBMITTED.value
        review.submitted_at = at

    return await _change(db, telegram_id, review_id, change, now)


@dataclass(frozen=True)
class QueueItem:
    """One review in a juror's queue."""

    review_id: int
    entry_code: str
    title: str | None
    state: ReviewState
    scored: int  # criteria scored so far
    submitted_at: datetime | None


@dataclass(frozen=True)
class JurorQueue:
    """A juror's reviews in one contest, pending first."""

    contest: ContestView
    items: tuple[QueueItem, ...]
    open: bool

    @property
    def pending(self) -> int:
        """Reviews not submitted yet."""
        return sum(1 for item in self.items if item.state is ReviewState.PENDING)

    @property
    def submitted(self) -> int:
        """Reviews submitted."""
        return len(self.items) - self.pending


async def my_queue(
    db: Sessionmaker, telegram_id: int, contest_id: int, *, now: datetime | None = None
) -> JurorQueue:
    """The juror's reviews in the contest.

    Raises:
        NotFound: `contest.not_juror` (not on this contest's jury, or no such contest).
    """
    async with db() as session:
        found = (
            await session.execute(
                select(Juror, Contest)
                .join(Contest, Contest.id == Juror.contest_id)
                .join(User, User.id == Juror.user_id)
                .where(Juror.contest_id == contest_id, User.telegram_id == telegram_id)
            )
        ).first()
        if found is None:
            raise NotFound("contest.not_juror")
        juror, contest = found
        rows = (
            await session.execute(
                select(Review, ContestEntry.code, ContestEntry.title)
                .join(ContestEntry, ContestEntry.id == Review.entry_id)
                .where(Review.juror_id == juror.id)
                .order_by(Review.state, ContestEntry.code)
            )
        ).all()
        items = [
            QueueItem(
                review.id,
                code,
                title,
                ReviewState(review.state),
                len(review.scores or {}),
                review.submitted_at,
            )
            for review, code, title in rows
        ]
        items.sort(key=lambda i: (i.state is not ReviewState.PENDING, i.entry_code))
        return JurorQueue(view(contest), tuple(items), jury_open(contest, now or utcnow()))


# --- reminders ------------------------------------------------------------------------------


def reminder_due(before: timedelta) -> Callable[[datetime], ColumnElement[bool]]:
    """Contests to remind the jurors of at `now`: allocated, `before` the jury deadline, once."""

    def is_due(now: datetime) -> ColumnElement[bool]:
        """Allocated, not released, not reminded, the jury deadline within `before`."""
        return and_(
            Contest.jurors_reminded_at.is_(None),
            Contest.allocated_at.is_not(None),
            Contest.released_at.is_(None),
            Contest.jury_deadline_at.is_not(None),
            Contest.jury_deadline_at <= now + before,
            Contest.jury_deadline_at > now,
        )

    return is_due


@dataclass(frozen=True)
class JurorsReminded:
    """One contest's reminder: how many jurors were reminded, the broadcast to start."""

    contest_id: int
    jurors: int
    broadcast_id: int | None
    left_for_later: bool = False


async def remind_jurors(
    db: Sessionmaker,
    i18n: I18n,
    default_zone: tzinfo,
    *,
    now: datetime | None = None,
    before: timedelta = JURY_REMINDER_BEFORE,
    batch: int = BATCH,
) -> list[JurorsReminded]:
    """Remind each juror with pending reviews, once per contest, `before` the jury deadline."""
    now = now or utcnow()
    is_due = reminder_due(before)
    async with db() as session:
        due = list((await session.scalars(select(Contest.id).where(is_due(now)))).all())
    opened = {
        contest_id: await open_personal(
            db, audience_kind=Audience.CONTEST_JURY.value, audience_ref=str(contest_id)
        )
        for contest_id in due
    }

    async def settle(session: AsyncSession, contest: Contest, at: datetime) -> JurorsReminded:
        """Queue a reminder to each juror with pending reviews; mark the contest reminded."""
        broadcast_id = opened.get(contest.id)
        if broadcast_id is None:
            return JurorsReminded(contest.id, 0, None, left_for_later=True)
        pending_of = (
            select(Review.juror_id, func.count(Review.id).label("pending"))
            .where(Review.contest_id == contest.id, Review.state == ReviewState.PENDING.value)
            .group_by(Review.juror_id)
            .subquery()
        )
        rows = (
            await session.execute(
                select(User, pending_of.c.pending)
                .join(Juror, Juror.user_id == User.id)
                .join(pending_of, pending_of.c.juror_id == Juror.id)
                .order_by(User.id)
            )
        ).all()
        deadline = _when(contest.jury_deadline_at, default_zone)
        for user, pending in rows:
            language = user.language or i18n.default_language
            t = i18n.translator(language)
            await queue_personal(
                session,
                broadcast_id,
                user,
                text=t(
                    "contest.jury_reminder",
                    contest=pick(contest.title, language),
                    count=pending,
                    deadline=deadline,
                ),
                buttons=((t.plain("contest.jury_open_button"), JuryQueue(contest.id).pack()),),
                default_language=i18n.default_language,
            )
        contest.jurors_reminded_at = at
        return JurorsReminded(contest.id, len(rows), broadcast_id)

    return await run_due(db, DueRows(Contest, is_due, settle), now=now, batch=batch)


# --- progress -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JurorProgress:
    """One juror's progress: reviews allocated, submitted, pending."""

    juror_id: int
    name: str
    university: dict[str, str] | None
    allocated: int
    submitted: int
    last_submitted_at: datetime | None

    @property
    def pending(self) -> int:
        """Reviews not submitted yet."""
        return self.allocated - self.submitted


@dataclass(frozen=True)
class JuryProgress:
    """The jury's progress in one contest, per juror, with the allocation's issues."""

    contest: ContestView
    jurors: tuple[JurorProgress, ...]
    issues: tuple[Issue, ...]
    missing: int = 0  # reviews the submitted entries still lack (the re-allocation's work)

    @property
    def allocated(self) -> int:
        """Reviews allocated in all."""
        return sum(j.allocated for j in self.jurors)

    @property
    def submitted(self) -> int:
        """Reviews submitted in all."""
        return sum(j.submitted for j in self.jurors)


async def progress(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int], contest_id: int
) -> JuryProgress:
    """Reviews allocated, submitted and pending per juror; organizers and admins only.

    Raises:
        PermissionDenied: not an organizer or admin.
        NotFound: `contest.not_found`.
    """
    async with db() as session:
        await require(session, telegram_id, admin_ids, *MANAGERS)
        contest = await session.get(Contest, contest_id)
        if contest is None:
            raise NotFound("contest.not_found")
        counts = (
            select(
                Review.juror_id,
                func.count(Review.id).label("allocated"),
                func.sum(case((Review.state == ReviewState.SUBMITTED.value, 1), else_=0)).label(
                    "submitted"
                ),
                func.max(Review.submitted_at).label("last"),
            )
            .where(Review.contest_id == contest.id)
            .group_by(Review.juror_id)
            .subquery()
        )
        rows = (
            await session.execute(
                select(
                    Juror,
                    User,
                    func.coalesce(counts.c.allocated, 0),
                    func.coalesce(counts.c.submitted, 0),
                    counts.c.last,
                )
                .join(User, User.id == Juror.user_id)
                .outerjoin(counts, counts.c.juror_id == Juror.id)
                .where(Juror.contest_id == contest.id)
                .order_by(Juror.id)
            )
        ).all()
        jurors = tuple(
            JurorProgress(
                juror.id,
                user.first_name,
                _university_names(user.university),
                int(allocated),
                int(done),
                last,
            )
            for juror, user, allocated, done, last in rows
        )
        missing = 0
        if contest.allocated_at is not None:
            per_entry = (
                await session.execute(
                    select(ContestEntry.id, func.count(Review.id))
                    .outerjoin(Review, Review.entry_id == ContestEntry.id)
                    .where(
                        ContestEntry.contest_id == contest.id,
                        ContestEntry.state == EntryState.SUBMITTED.value,
                    )
                    .group_by(ContestEntry.id)
                )
            ).all()
            missing = sum(max(0, contest.reviews_per_entry - int(n)) for _, n in per_entry)
        return JuryProgress(
            view(contest), jurors, allocation_issues(contest.allocation_note), missing
        )
