"""A contest's results (issue 13): the leaderboard, the release, authors' feedback, certificates.

THE SCORES come from the submitted reviews only, through `bot.services.contest_scoring`: each
review's weighted score on 0..100, an entry's mean over its reviews, the mean of per-juror
z-scores when the contest standardises (then that ranks), ICC(1,k) with its 95 % CI as the
jury's agreement, competition ranks with ties as ties. Nothing is stored: the release freezes
the reviews (no juror may change one once `released_at` is set), so the ranking read after it
never moves.

THE LEADERBOARD is for organizers and admins, at any time after the allocation (provisional
until the release: it says how many reviews are still pending), with a chart.

THE RELEASE (organizers and admins): once, after the allocation; before the jury deadline only
when no review is pending (after it, a review never submitted is simply missing). It marks the
contest released and announces the winners (the entries ranked 1 to `WINNER_PLACES`, ties
included) in one system broadcast to the contest's participants and jurors (the `contest`
audience), each in their language, with a button to their own results; the caller starts it.

AUTHORS, once released, see their entry's rank among the ranked entries, its score, and, when
the contest shows feedback, every submitted review's scores per criterion and comment (jurors
numbered, never named). Each author may take a certificate: a winner's (with the place) for the
entries ranked 1 to `WINNER_PLACES`, otherwise a participation certificate; printed with the
name they confirm, verifiable with `/verify` like the course's (`bot.services.certificates`).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import ContestMyResults
from bot.config import LANGUAGES
from bot.db import Sessionmaker
from bot.i18n import I18n
from bot.services import InvalidInput, NotFound, chart_pool
from bot.services.audiences import Audience
from bot.services.broadcast_content import Button
from bot.services.broadcasts import create_system
from bot.services.certificates import (
    CertificateView,
    Issued,
    clean_name,
    contest_view,
    free_code,
)
from bot.services.charts import ScaleBar, render_scales
from bot.services.contest import MANAGERS, ContestState, ContestView, view
from bot.services.contest_entries import EntryState
from bot.services.contest_jury import ReviewState, jury_open, scoring_criteria
from bot.services.contest_scoring import (
    Agreement,
    ReviewScore,
    Scoring,
    aggregate,
    review_score,
)
from bot.services.roles import require
from models import (
    Contest,
    ContestCertificate,
    ContestEntry,
    EntryAuthor,
    Juror,
    Review,
    User,
    utcnow,
)

logger = logging.getLogger(__name__)

WINNER_PLACES = 3  # ranks 1..3 (ties included) are winners
CHART_ENTRIES = 20  # the chart shows the top 20


class Kind:
    """A contest certificate's kind."""

    PARTICIPATION = "participation"
    WINNER = "winner"


# --- the scores --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    """What the scores are computed from: the submitted entries and reviews of one contest."""

    entries: list[ContestEntry]
    reviews: list[Review]
    pending: int


async def _read(session: AsyncSession, contest: Contest) -> _Read:
    """The contest's submitted entries and submitted reviews, and how many reviews are pending."""
    entries = list(
        (
            await session.scalars(
                select(ContestEntry)
                .where(
                    ContestEntry.contest_id == contest.id,
                    ContestEntry.state == EntryState.SUBMITTED.value,
                )
                .order_by(ContestEntry.id)
            )
        ).all()
    )
    reviews = list(
        (
            await session.scalars(
                select(Review)
                .where(
                    Review.contest_id == contest.id,
                    Review.state == ReviewState.SUBMITTED.value,
                )
                .order_by(Review.id)
            )
        ).all()
    )
    pending = await session.scalar(
        select(func.count(Review.id)).where(
            Review.contest_id == contest.id, Review.state == ReviewState.PENDING.value
        )
    )
    return _Read(entries, reviews, int(pending or 0))


def _scoring(contest: ContestView, read: _Read) -> Scoring:
    """The aggregation of the submitted reviews (one not fitting the rubric is left out)."""
    criteria = scoring_criteria(contest)
    scored: list[ReviewScore] = []
    for review in read.reviews:
        try:
            value = review_score(dict(review.scores or {}), criteria)
        except ValueError:  # a review submitted under another rubric: cannot be counted
            logger.warning(
                "contest %s: review %s does not fit the rubric", contest.code, review.id
            )
            continue
        scored.append(ReviewScore(review.entry_id, review.juror_id, value))
    return aggregate([e.id for e in read.entries], scored, standardise_scores=contest.standardise)


def _criterion_means(
    contest: ContestView, reviews: Sequence[Review]
) -> dict[int, dict[str, float]]:
    """Per entry, the mean score of each criterion (on its own 0..max scale)."""
    sums: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for review in reviews:
        for criterion in contest.criteria:
            value = (review.scores or {}).get(criterion.code)
            if value is not None:
                sums[review.entry_id][criterion.code].append(float(value))
    return {
        entry: {code: sum(v) / len(v) for code, v in by_code.items()}
        for entry, by_code in sums.items()
    }


# --- the leaderboard -------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaderRow:
    """One entry on the leaderboard."""

    rank: int | None  # None: no submitted review
    entry_id: int
    code: str
    title: str | None
    authors: tuple[str, ...]
    universities: tuple[dict[str, str], ...]  # distinct, names by language
    late: bool
    reviews: int
    mean: float | None  # 0..100
    standardised: float | None  # the mean z-score, when the contest standardises
    criteria: Mapping[str, float]  # criterion code -> mean score (0..max)

    @property
    def winner(self) -> bool:
        """Ranked 1 to WINNER_PLACES."""
        return self.rank is not None and self.rank <= WINNER_PLACES


@dataclass(frozen=True)
class Leaderboard:
    """The ranking with the jury's agreement; provisional while reviews are pending."""

    contest: ContestView
    rows: tuple[LeaderRow, ...]
    agreement: Agreement
    standardise: bool
    unstandardised: tuple[str, ...]  # jurors whose reviews counted as average (no spread)
    submitted: int  # reviews counted
    pending: int  # reviews not submitted yet
    released: bool

    @property
    def winners(self) -> tuple[LeaderRow, ...]:
        """The entries ranked 1 to WINNER_PLACES."""
        return tuple(row for row in self.rows if row.winner)


async def _authors(session: AsyncSession, entry_ids: Sequence[int]) -> dict[int, list[User]]:
    """The authors of each entry, the owner first."""
    rows = (
        await session.execute(
            select(EntryAuthor.entry_id, User)
            .join(User, User.id == EntryAuthor.user_id)
            .where(EntryAuthor.entry_id.in_(list(entry_ids) or [-1]))
            .order_by(EntryAuthor.entry_id, EntryAuthor.owner.desc(), EntryAuthor.id)
        )
    ).all()
    found: dict[int, list[User]] = defaultdict(list)
    for entry_id, user in rows:
        found[entry_id].append(user)
    return found


def _universities(users: Sequence[User]) -> tuple[dict[str, str], ...]:
    """The distinct universities of some users, names by language."""
    seen: dict[int, dict[str, str]] = {}
    for user in users:
        university = user.university
        if university is not None and university.id not in seen:
            seen[university.id] = {
                "kk": university.name_kk,
                "ru": university.name_ru,
                "en": university.name_en,
            }
    return tuple(seen.values())


async def _board(session: AsyncSession, contest: Contest) -> Leaderboard:
    """The leaderboard of a contest, read in the caller's session."""
    shown = view(contest)
    read = await _read(session, contest)
    scoring = _scoring(shown, read)
    by_id = {e.id: e for e in read.entries}
    authors = await _authors(session, list(by_id))
    criteria = _criterion_means(shown, read.reviews)
    rows = tuple(
        LeaderRow(
            rank=score.rank,
            entry_id=score.entry,
            code=by_id[score.entry].code,
            title=by_id[score.entry].title,
            authors=tuple(u.first_name for u in authors.get(score.entry, [])),
            universities=_universities(authors.get(score.entry, [])),
            late=by_id[score.entry].late,
            reviews=score.reviews,
            mean=score.mean,
            standardised=score.standardised,
            criteria=criteria.get(score.entry, {}),
        )
        for score in scoring.entries
    )
    flat: tuple[str, ...] = ()
    if scoring.unstandardised:
        names = (
            await session.execute(
                select(Juror.id, User.first_name)
                .join(User, User.id == Juror.user_id)
                .where(Juror.id.in_(scoring.unstandardised))
            )
        ).all()
        flat = tuple(name for _, name in sorted(names))
    return Leaderboard(
        contest=shown,
        rows=rows,
        agreement=scoring.agreement,
        standardise=scoring.standardise,
        unstandardised=flat,
        submitted=len(read.reviews),
        pending=read.pending,
        released=contest.released_at is not None,
    )


async def _managed(
    session: AsyncSession,
    telegram_id: int,
    admin_ids: frozenset[int],
    contest_id: int,
    *,
    lock: bool = False,
) -> Contest:
    """The contest (locked with `lock`), for an organizer or admin.

    Raises:
        PermissionDenied: not an organizer or admin.
        NotFound: `contest.not_found`.
    """
    await require(session, telegram_id, admin_ids, *MANAGERS)
    contest = await session.get(Contest, contest_id, with_for_update=lock)
    if contest is None:
        raise NotFound("contest.not_found")
    return contest


async def leaderboard(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int], contest_id: int
) -> Leaderboard:
    """The ranking so far; organizers and admins only, once the entries are allocated.

    Raises:
        PermissionDenied: not an organizer or admin.
        NotFound: `contest.not_found`.
        InvalidInput: `contest.not_allocated`.
    """
    async with db() as session:
        contest = await _managed(session, telegram_id, admin_ids, contest_id)
        if contest.allocated_at is None:
            raise InvalidInput("contest.not_allocated")
        return await _board(session, contest)


@dataclass(frozen=True)
class ChartLabels:
    """The chart's texts in the reader's language."""

    title: str
    score: str  # the bars' meaning: "score, 0-100" or "mean z-score"


def render_leaderboard_chart(
    board: Leaderboard, labels: ChartLabels, language: str = "en"
) -> bytes | None:
    """PNG bytes of the top entries' scores (mean 0..100, or mean z when standardised).

    None when no entry has a score yet. CPU work: see `render_leaderboard_chart_async`.
    """
    ranked = [row for row in board.rows if row.rank is not None][:CHART_ENTRIES]
    if not ranked:
        return None
    bars = []
    for row in ranked:
        value = row.standardised if board.standardise else row.mean
        assert value is not None
        title = (row.title or "").strip()
        bars.append(ScaleBar(f"{row.rank}. {row.code} {title}".strip(), value))
    if board.standardise:
        values = [b.value for b in bars]
        minimum = math.floor(min(values)) - 0.5
        maximum = math.ceil(max(values)) + 0.5
    else:
        minimum, maximum = 0.0, 100.0
    return render_scales(
        f"{labels.title}\n{labels.score}",
        bars,
        minimum=minimum,
        maximum=maximum,
        language=language,
    )


async def render_leaderboard_chart_async(
    board: Leaderboard, labels: ChartLabels, language: str = "en"
) -> bytes | None:
    """`render_leaderboard_chart` in a chart worker process (`chart_pool`)."""
    return await chart_pool.run(render_leaderboard_chart, board, labels, language)


# --- the release -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Released:
    """The results released: the board, and the announcement's broadcast (to start)."""

    board: Leaderboard
    broadcast_id: int


def _announcement(t: Any, language: str, board: Leaderboard) -> str:
    """The winners' announcement in one language."""
    lines = [t("contest.results_heading", contest=board.contest.title_in(language))]
    for row in board.winners:
        score = row.mean if row.mean is not None else 0.0
        lines.append(
            t(
                "contest.results_line",
                rank=row.rank,
                title=row.title or row.code,
                authors=", ".join(row.authors) or "—",
                score=t.number(score),
            )
        )
    if not board.winners:
        lines.append(t("contest.results_none"))
    lines.append(t("contest.results_footer"))
    return "\n".join(lines)


async def release(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    contest_id: int,
    i18n: I18n,
    *,
    now: datetime | None = None,
) -> Released:
    """Release the results: reviews frozen, winners announced to participants and jurors.

    Raises:
        PermissionDenied: not an organizer or admin.
        NotFound: `contest.not_found`.
        InvalidInput: `contest.not_allocated`, `contest.already_released`,
            `contest.release_pending` (count: reviews pending before the jury deadline).
    """
    now = now or utcnow()
    async with db.begin() as session:
        contest = await _managed(session, telegram_id, admin_ids, contest_id, lock=True)
        if contest.allocated_at is None:
            raise InvalidInput("contest.not_allocated")
        if contest.released_at is not None:
            raise InvalidInput("contest.already_released")
        board = await _board(session, contest)
        if board.pending and jury_open(contest, now):
            raise InvalidInput("contest.release_pending", count=board.pending)
        contest.released_at = now
        contest.state = ContestState.RELEASED.value
        texts = {
            language: _announcement(i18n.translator(language), language, board)
            for language in LANGUAGES
        }
        button = Button(
            label=i18n.all("contest.results_button"), data=ContestMyResults(contest.id).pack()
        )
        broadcast_id = await create_system(
            db,
            created_by_id=None,
            audience_kind=Audience.CONTEST.value,
            audience_ref=str(contest.id),
            texts=texts,
            buttons=(button,),
            default_language=i18n.default_language,
            session=session,
        )
        contest.results_broadcast_id = broadcast_id
        released = view(contest)
        return Released(
            Leaderboard(
                released,
                board.rows,
                board.agreement,
                board.standardise,
                board.unstandardised,
                board.submitted,
                board.pending,
                True,
            ),
            broadcast_id,
        )


# --- authors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feedback:
    """One submitted review as the authors see it: a number, never the juror's name."""

    number: int
    scores: Mapping[str, int]
    weighted: float | None
    comment: str | None


@dataclass(frozen=True)
class MyResult:
    """An author's entry after the release: its rank, score and (when shown) the reviews."""

    contest: ContestView
    entry_id: int
    code: str
    title: str | None
    rank: int | None
    ranked: int  # entries with a rank
    mean: float | None
    standardised: float | None
    winner: bool
    criteria: Mapping[str, float]
    feedback: tuple[Feedback, ...]  # () unless the contest shows feedback
    certificate: CertificateView | None


async def _my_entry(
    session: AsyncSession, telegram_id: int, contest_id: int
) -> tuple[User, Contest, ContestEntry]:
    """The user's submitted entry in a released contest.

    Raises:
        NotFound: `contest.not_found`, `contest.no_entry`.
        InvalidInput: `contest.not_released`.
    """
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    contest = await session.get(Contest, contest_id)
    if user is None or contest is None:
        raise NotFound("contest.not_found")
    if contest.released_at is None:
        raise InvalidInput("contest.not_released")
    entry = await session.scalar(
        select(ContestEntry)
        .join(EntryAuthor, EntryAuthor.entry_id == ContestEntry.id)
        .where(
            ContestEntry.contest_id == contest.id,
            ContestEntry.state == EntryState.SUBMITTED.value,
            EntryAuthor.user_id == user.id,
        )
    )
    if entry is None:
        raise NotFound("contest.no_entry")
    return user, contest, entry


async def _certificate(
    session: AsyncSession, contest: Contest, entry: ContestEntry, user: User
) -> CertificateView | None:
    """The author's certificate of the entry, if taken."""
    found = await session.scalar(
        select(ContestCertificate).where(
            ContestCertificate.entry_id == entry.id, ContestCertificate.user_id == user.id
        )
    )
    return None if found is None else contest_view(found, contest.code, dict(contest.title), user)


async def my_results(db: Sessionmaker, telegram_id: int, contest_id: int) -> MyResult:
    """The author's own results once released (the reviews only if the contest shows them).

    Raises:
        NotFound: `contest.not_found`, `contest.no_entry` (no submitted entry of theirs).
        InvalidInput: `contest.not_released`.
    """
    async with db() as session:
        user, contest, entry = await _my_entry(session, telegram_id, contest_id)
        board = await _board(session, contest)
        row = next(r for r in board.rows if r.entry_id == entry.id)
        feedback: tuple[Feedback, ...] = ()
        if contest.show_feedback:
            reviews = (
                await session.scalars(
                    select(Review)
                    .where(
                        Review.entry_id == entry.id,
                        Review.state == ReviewState.SUBMITTED.value,
                    )
                    .order_by(Review.id)
                )
            ).all()
            criteria = scoring_criteria(board.contest)
            items = []
            for number, review in enumerate(reviews, start=1):
                scores = {str(k): int(v) for k, v in dict(review.scores or {}).items()}
                try:
                    weighted: float | None = review_score(scores, criteria)
                except ValueError:
                    weighted = None
                items.append(Feedback(number, scores, weighted, review.comment))
            feedback = tuple(items)
        return MyResult(
            contest=board.contest,
            entry_id=entry.id,
            code=entry.code,
            title=entry.title,
            rank=row.rank,
            ranked=sum(1 for r in board.rows if r.rank is not None),
            mean=row.mean,
            standardised=row.standardised,
            winner=row.winner,
            criteria=row.criteria,
            feedback=feedback,
            certificate=await _certificate(session, contest, entry, user),
        )


async def issue_certificate(
    db: Sessionmaker, telegram_id: int, contest_id: int, name: str
) -> Issued:
    """The author's certificate of their entry, once; issuing again returns the first.

    A winner's certificate (with the place) for an entry ranked 1 to WINNER_PLACES, else a
    participation certificate. `name` is what the author confirmed (cleaned again here).

    Raises:
        NotFound: `contest.not_found`, `contest.no_entry`.
        InvalidInput: `contest.not_released`, `course.bad_name`.
    """
    printed = clean_name(name)
    async with db.begin() as session:
        user, contest, entry = await _my_entry(session, telegram_id, contest_id)
        existing = await _certificate(session, contest, entry, user)
        if existing is not None:
            return Issued(existing, created=False)
        board = await _board(session, contest)
        row = next(r for r in board.rows if r.entry_id == entry.id)
        certificate = ContestCertificate(
            entry_id=entry.id,
            user_id=user.id,
            code=await free_code(session),
            kind=Kind.WINNER if row.winner else Kind.PARTICIPATION,
            rank=row.rank if row.winner else None,
            name=printed,
        )
        session.add(certificate)
        await session.flush()
        return Issued(
            contest_view(certificate, contest.code, dict(contest.title), user), created=True
        )


async def released_for(db: Sessionmaker, telegram_id: int) -> list[ContestView]:
    """The released contests where the user has a submitted entry, the newest first."""
    async with db() as session:
        rows = (
            await session.scalars(
                select(Contest)
                .join(ContestEntry, ContestEntry.contest_id == Contest.id)
                .join(EntryAuthor, EntryAuthor.entry_id == ContestEntry.id)
                .join(User, User.id == EntryAuthor.user_id)
                .where(
                    User.telegram_id == telegram_id,
                    Contest.released_at.is_not(None),
                    ContestEntry.state == EntryState.SUBMITTED.value,
                )
                .order_by(Contest.released_at.desc())
            )
        ).all()
        return [view(row) for row in rows]
