"""The contest's jury on a real database (bot/services/contest_jury.py): joining by the jury code,
the allocation duty at the close of submissions, blind reviews scored and revised until the jury
deadline, the jurors' reminder, and the organizers' progress per juror."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.callbacks import JuryQueue
from bot.i18n import I18n
from bot.services import InvalidInput, NotFound, PermissionDenied
from bot.services import contest as contests
from bot.services import contest_entries as entries
from bot.services import contest_jury as jury
from bot.services.contest import ContestState, ContestView
from bot.services.contest_allocation import ENTRY_SHORT, TOO_FEW_JURORS, Issue
from bot.services.contest_entries import NewFile
from bot.services.contest_jury import ReviewState
from bot.services.roles import Role
from bot.services.universities import list_universities
from models import (
    Broadcast,
    Contest,
    ContestEntry,
    Delivery,
    EntryAuthor,
    Juror,
    Review,
    User,
    UserRole,
)
from tests import factories
from tests.conftest import ADMIN_ID

ADMINS = frozenset({ADMIN_ID})
ORGANIZER = 7_300_000_001
STUDENT = 7_300_000_100  # authors from here
JUROR = 7_300_000_500  # jurors from here
I18N = I18n("kk")
ZONE = factories.ZONE
CODE = "dlt_platform_contest"
OPENS = datetime(2027, 2, 1, 4, 0, tzinfo=UTC)
DEADLINE = datetime(2027, 4, 15, 18, 59, tzinfo=UTC)
JURY_DEADLINE = datetime(2027, 5, 15, 18, 59, tzinfo=UTC)
AFTER_CLOSE = DEADLINE + timedelta(minutes=1)
FULL = {  # a complete review of the default rubric (5 criteria, each 0..10)
    0: 8,
    1: 7,
    2: 9,
    3: 6,
    4: 10,
}


async def open_contest(db, *, late_until: datetime | None = None) -> ContestView:
    """The default contest (loaded at first start) with windows an admin set."""
    await factories.admin(db, ADMIN_ID, ADMINS)
    contest = await contests.by_code(db, CODE)
    return await contests.set_windows(
        db,
        ADMIN_ID,
        ADMINS,
        contest.id,
        opens_at=OPENS,
        deadline_at=DEADLINE,
        late_until=late_until,
        jury_deadline_at=JURY_DEADLINE,
    )


async def submitted_entry(
    db,
    contest_id: int,
    owner: int,
    *coauthors: int,
    title: str = "Platform",
    files: int = 1,
    late: bool = False,
) -> int:
    """An entry of `owner` (co-authors joining with its team code) with `files` PDF files,
    written and submitted through the entries' own services (on time, or late when the contest
    has a late cut-off); its id."""
    at = DEADLINE + timedelta(minutes=30) if late else DEADLINE - timedelta(days=1)
    draft = await entries.start(db, owner, contest_id, now=at)
    await entries.set_title(db, owner, draft.id, title, now=at)
    await entries.set_description(db, owner, draft.id, f"What {title} does", now=at)
    await entries.set_link(db, owner, draft.id, "https://example.org/platform", now=at)
    for n in range(files):
        await entries.add_file(
            db,
            owner,
            draft.id,
            NewFile(f"FILE{draft.id}_{n}", f"slides{n}.pdf", "application/pdf", 1000 + n),
            now=at,
        )
    await entries.files_done(db, owner, draft.id, now=at)
    for coauthor in coauthors:
        await entries.join(db, coauthor, draft.team_code, now=at)
    receipt = await entries.submit(db, owner, draft.id, now=at)
    assert receipt.late == late
    return draft.id


async def authors(db, count: int, universities: list[int], first: int = STUDENT) -> list[int]:
    """`count` onboarded students; the n-th from university index universities[n % len]."""
    ids = []
    for n in range(count):
        await factories.student(
            db, first + n, university=universities[n % len(universities)], first_name=f"Author{n}"
        )
        ids.append(first + n)
    return ids


async def jurors(db, contest: ContestView, universities: list[int], first: int = JUROR):
    """Onboarded people from these universities (indexes) who joined the jury with its code."""
    ids = []
    for n, university in enumerate(universities):
        await factories.student(
            db, first + n, university=university, first_name=f"Juror{n}", language="en"
        )
        assert contest.jury_code is not None
        await jury.join(db, first + n, contest.jury_code)
        ids.append(first + n)
    return ids


async def university_of(db, index: int) -> int:
    return (await list_universities(db))[index].id


async def review_ids(db, telegram_id: int) -> list[int]:
    async with db() as session:
        return list(
            (
                await session.scalars(
                    select(Review.id)
                    .join(Juror, Juror.id == Review.juror_id)
                    .join(User, User.id == Juror.user_id)
                    .where(User.telegram_id == telegram_id)
                    .order_by(Review.id)
                )
            ).all()
        )


async def allocate(db, now: datetime = AFTER_CLOSE):
    return await jury.allocate_due(db, I18N, ZONE, ADMINS, now=now)


# --- joining -----------------------------------------------------------------------------------


async def test_join_with_the_jury_code(db):
    """Tried: a wrong code (refused, nobody joins), the right code typed in lower case with spaces
    (joined, the juror role granted), the same code again (no second row), and a code after the
    jury deadline for someone new (refused as closed)."""
    contest = await open_contest(db)
    await factories.student(db, JUROR, first_name="Juror")
    with pytest.raises(NotFound) as wrong:
        await jury.join(db, JUROR, "NOPE1234")
    assert wrong.value.key == "contest.jury_bad_code"
    with pytest.raises(NotFound):
        await jury.join(db, JUROR, "")
    assert contest.jury_code is not None
    joined = await jury.join(db, JUROR, f"  {contest.jury_code.lower()} ")
    assert joined.created and not joined.after_allocation and joined.contest.id == contest.id
    again = await jury.join(db, JUROR, contest.jury_code)
    assert not again.created and again.juror_id == joined.juror_id
    async with db() as session:
        assert await session.scalar(select(func.count(Juror.id))) == 1
        roles = (await session.scalars(select(UserRole.role))).all()
        assert Role.JUROR.value in roles
    assert [c.id for c in await jury.my_juries(db, JUROR)] == [contest.id]
    await factories.student(db, JUROR + 1)
    with pytest.raises(InvalidInput) as closed:
        await jury.join(db, JUROR + 1, contest.jury_code, now=JURY_DEADLINE)
    assert closed.value.key == "contest.jury_closed"


async def test_joining_keeps_a_scoped_juror_role(db):
    """Tried: a juror invited for one university joins a contest's jury: their role keeps its
    university (joining grants the role only to someone without it)."""
    contest = await open_contest(db)
    await factories.juror(db, JUROR, ADMINS, university=1)
    assert contest.jury_code is not None
    await jury.join(db, JUROR, contest.jury_code)
    async with db() as session:
        scope = await session.scalar(
            select(UserRole.university_id).where(UserRole.role == Role.JUROR.value)
        )
    assert scope == await university_of(db, 1)


# --- the allocation -------------------------------------------------------------------------


async def test_allocation_at_the_close_conflict_free_and_balanced(db):
    """Tried: 6 entries from universities 0, 1, 2 (one a team of 0 and 1) and 5 jurors from 0, 1,
    2, 3 and 4; a pass before the deadline allocates nothing; a pass after it gives each entry 3
    reviews by jurors of other universities, loads 3 or 4, marks the contest judging; each juror
    gets their own message with the queue button; the organizers get the report; a second pass
    does nothing."""
    contest = await open_contest(db)
    people = await authors(db, 7, [0, 1, 2])
    entry_ids = [await submitted_entry(db, contest.id, people[n]) for n in range(5)]
    entry_ids.append(await submitted_entry(db, contest.id, people[5], people[6]))  # 2 + 0
    await jurors(db, contest, [0, 1, 2, 3, 4])
    assert await allocate(db, now=DEADLINE - timedelta(minutes=1)) == []
    [done] = await allocate(db)
    assert (done.entries, done.jurors, done.reviews, done.issues) == (6, 5, 18, ())
    assert len(done.broadcast_ids) == 2
    async with db() as session:
        pairs = (
            await session.execute(
                select(Review.entry_id, User.university_id)
                .join(Juror, Juror.id == Review.juror_id)
                .join(User, User.id == Juror.user_id)
            )
        ).all()
        authors_universities = {
            e: set(
                (
                    await session.scalars(
                        select(User.university_id)
                        .join(EntryAuthor, EntryAuthor.user_id == User.id)
                        .where(EntryAuthor.entry_id == e)
                    )
                ).all()
            )
            for e in entry_ids
        }
        loads = (
            await session.scalars(select(func.count(Review.id)).group_by(Review.juror_id))
        ).all()
        stored = await session.get(Contest, contest.id)
        assert stored is not None
        assert stored.state == ContestState.JUDGING.value and stored.allocated_at == AFTER_CLOSE
        assert stored.allocation_note is None
        personal = (
            await session.scalars(
                select(Delivery).where(Delivery.broadcast_id == done.broadcast_ids[0])
            )
        ).all()
        report = await session.get(Broadcast, done.broadcast_ids[1])
        report_to = (
            await session.scalars(
                select(Delivery.chat_id).where(Delivery.broadcast_id == done.broadcast_ids[1])
            )
        ).all()
    assert len(pairs) == 18
    for entry_id, juror_university in pairs:
        assert juror_university not in authors_universities[entry_id]
    assert sorted(loads) == [3, 3, 4, 4, 4]
    assert len(personal) == 5
    for delivery in personal:
        assert delivery.payload is not None
        assert "allocated" in delivery.payload["text"]
        assert delivery.payload["buttons"][0]["data"] == JuryQueue(contest.id).pack()
    assert report is not None and "Every rule was met" in report.texts["en"]
    assert "18" in report.texts["ru"] and "6" in report.texts["kk"]
    assert list(report_to) == [ADMIN_ID]
    assert await allocate(db, now=AFTER_CLOSE + timedelta(hours=1)) == []


async def test_allocation_waits_for_the_late_cut_off(db):
    """Tried: a contest with a late cut-off a day after the deadline: a pass between the two
    allocates nothing (late entries still come), a pass after the cut-off allocates."""
    late_until = DEADLINE + timedelta(days=1)
    contest = await open_contest(db, late_until=late_until)
    [author] = await authors(db, 1, [0])
    await submitted_entry(db, contest.id, author, late=True)
    await jurors(db, contest, [1, 2, 3])
    assert await allocate(db, now=AFTER_CLOSE) == []
    [done] = await allocate(db, now=late_until)
    assert done.reviews == 3


async def test_allocation_names_what_cannot_be_met(db):
    """Tried: 2 jurors (universities 0 and 1) for 3 reviews per entry, and an entry by a team of
    universities 0 and 1: the note says 'only 2 jurors for 3 reviews' and that the team's entry
    has no conflict-free juror at all (0 of 3, 2 excluded); the organizers' report lists both in
    every language; the other entry still gets both jurors."""
    contest = await open_contest(db)
    people = await authors(db, 3, [0, 1, 2])
    solo = await submitted_entry(db, contest.id, people[2])  # university 2
    team = await submitted_entry(db, contest.id, people[0], people[1])  # 0 and 1
    await jurors(db, contest, [0, 1])
    [done] = await allocate(db)
    async with db() as session:
        codes = {
            row.id: row.code
            for row in await session.execute(select(ContestEntry.id, ContestEntry.code))
        }
        stored = await session.get(Contest, contest.id)
        assert stored is not None
        report = await session.get(Broadcast, done.broadcast_ids[1])
    assert done.reviews == 2  # both jurors on the solo entry, nobody on the team's
    assert Issue(TOO_FEW_JURORS, {"jurors": 2, "needed": 3}) in done.issues
    short = Issue(ENTRY_SHORT, {"entry": codes[team], "available": 0, "needed": 3, "conflicts": 2})
    assert short in done.issues
    assert codes[solo] not in json.dumps([i.as_json() for i in done.issues])
    assert jury.allocation_issues(stored.allocation_note) == done.issues
    assert report is not None
    assert f"entry {codes[team]}: only 0 conflict-free jurors for 3 reviews" in report.texts["en"]
    assert codes[team] in report.texts["kk"] and codes[team] in report.texts["ru"]


async def test_an_author_on_the_jury_never_gets_their_own_entry(db):
    """Tried: an author from university 0 also joins the jury, with conflicts switched off and 1
    review per entry: they review the other entry, never their own."""
    contest = await open_contest(db)
    async with db.begin() as session:
        await session.execute(update(Contest).values(exclude_conflicts=False, reviews_per_entry=1))
    people = await authors(db, 2, [0])
    own = await submitted_entry(db, contest.id, people[0])
    other = await submitted_entry(db, contest.id, people[1])
    assert contest.jury_code is not None
    await jury.join(db, people[0], contest.jury_code)
    await jurors(db, contest, [0])
    await allocate(db)
    async with db() as session:
        mine = (
            await session.scalars(
                select(Review.entry_id)
                .join(Juror, Juror.id == Review.juror_id)
                .join(User, User.id == Juror.user_id)
                .where(User.telegram_id == people[0])
            )
        ).all()
    assert list(mine) == [other] and own not in mine


async def test_nothing_to_review_and_a_late_juror(db):
    """Tried: a juror whose every possible entry conflicts gets 'nothing allocated' and no
    button; someone joining after the allocation is told so (after_allocation) and has an empty
    queue."""
    contest = await open_contest(db)
    [author] = await authors(db, 1, [0])
    await submitted_entry(db, contest.id, author)
    [blocked] = await jurors(db, contest, [0])
    [done] = await allocate(db)
    async with db() as session:
        delivery = await session.scalar(
            select(Delivery).where(Delivery.broadcast_id == done.broadcast_ids[0])
        )
    assert delivery is not None and delivery.payload is not None
    assert delivery.payload["buttons"] == []
    assert "no entries" in delivery.payload["text"]
    queue = await jury.my_queue(db, blocked, contest.id, now=AFTER_CLOSE)
    assert queue.items == ()
    await factories.student(db, JUROR + 50, university=3)
    assert contest.jury_code is not None
    late = await jury.join(db, JUROR + 50, contest.jury_code, now=AFTER_CLOSE)
    assert late.after_allocation


# --- reviews -----------------------------------------------------------------------------------


async def reviewed_contest(db, *, blind: bool = True):
    """One entry (a team from university 0) allocated to 3 jurors from 1, 2 and 3."""
    contest = await open_contest(db)
    if not blind:
        async with db.begin() as session:
            await session.execute(update(Contest).values(blind=False))
    people = await authors(db, 2, [0])
    entry_id = await submitted_entry(db, contest.id, people[0], people[1], files=2)
    judges = await jurors(db, contest, [1, 2, 3])
    await allocate(db)
    return contest, entry_id, judges


async def test_a_blind_review_scored_commented_submitted_and_revised(db):
    """Tried: the juror opens their review (no names or universities, both files listed);
    submits with nothing scored (refused: 5 criteria missing); scores every criterion; a score
    above the maximum and a criterion that does not exist (refused, nothing changed); comments;
    submits (weighted score 100 * (30*.8 + 20*.7 + 20*.9 + 15*.6 + 15*1) / 100 = 80); revises a
    score after submitting (stays submitted, the new score counts)."""
    _contest, entry_id, judges = await reviewed_contest(db)
    [review_id] = await review_ids(db, judges[0])
    now = AFTER_CLOSE + timedelta(days=1)
    screen = await jury.open_review(db, judges[0], review_id, now=now)
    assert screen.entry_id == entry_id and screen.authors == () and screen.open
    assert [f.name for f in screen.files] == ["slides0.pdf", "slides1.pdf"]
    assert screen.files[0].file_id.startswith("FILE")
    assert screen.state is ReviewState.PENDING and len(screen.missing) == 5
    with pytest.raises(InvalidInput) as incomplete:
        await jury.submit_review(db, judges[0], review_id, now=now)
    assert incomplete.value.key == "contest.review_incomplete"
    assert incomplete.value.values == {"count": 5}
    for criterion, value in FULL.items():
        screen = await jury.set_score(db, judges[0], review_id, criterion, value, now=now)
    assert screen.missing == ()
    with pytest.raises(InvalidInput) as too_high:
        await jury.set_score(db, judges[0], review_id, 0, 11, now=now)
    assert too_high.value.key == "contest.score_range" and too_high.value.values == {"max": 10}
    with pytest.raises(InvalidInput) as no_such:
        await jury.set_score(db, judges[0], review_id, 5, 1, now=now)
    assert no_such.value.key == "contest.bad_criterion"
    screen = await jury.set_comment(db, judges[0], review_id, "  Clear and useful.  ", now=now)
    assert screen.comment == "Clear and useful."
    assert screen.scores["pedagogical_value"] == 8
    submitted = await jury.submit_review(db, judges[0], review_id, now=now)
    assert submitted.state is ReviewState.SUBMITTED and submitted.submitted_at == now
    assert submitted.weighted == pytest.approx(80)
    revised = await jury.set_score(db, judges[0], review_id, 4, 0, now=now + timedelta(hours=1))
    assert revised.state is ReviewState.SUBMITTED
    assert revised.weighted == pytest.approx(65)  # originality 15 * 1.0 -> 0


async def test_not_blind_shows_the_authors(db):
    """Tried: the same review in a contest that is not blind: both authors with universities."""
    _contest, _entry, judges = await reviewed_contest(db, blind=False)
    [review_id] = await review_ids(db, judges[0])
    screen = await jury.open_review(db, judges[0], review_id, now=AFTER_CLOSE)
    assert [a.name for a in screen.authors] == ["Author0", "Author1"]
    assert screen.authors[0].university is not None


async def test_someone_elses_review_and_bad_comments_are_refused(db):
    """Tried: another juror's review id (as a forged button would carry) for opening, scoring,
    commenting and submitting: not found, nothing changed; an empty comment and one over 2000
    characters: refused with their messages."""
    _contest, _entry, judges = await reviewed_contest(db)
    [theirs] = await review_ids(db, judges[1])
    for attempt in (
        jury.open_review(db, judges[0], theirs),
        jury.set_score(db, judges[0], theirs, 0, 5, now=AFTER_CLOSE),
        jury.set_comment(db, judges[0], theirs, "mine now", now=AFTER_CLOSE),
        jury.submit_review(db, judges[0], theirs, now=AFTER_CLOSE),
        jury.open_review(db, judges[0], 10**9),
    ):
        with pytest.raises(NotFound) as refused:
            await attempt
        assert refused.value.key == "contest.review_not_found"
    [mine] = await review_ids(db, judges[0])
    with pytest.raises(InvalidInput) as empty:
        await jury.set_comment(db, judges[0], mine, " \n ", now=AFTER_CLOSE)
    assert empty.value.key == "contest.comment_empty"
    with pytest.raises(InvalidInput) as long:
        await jury.set_comment(db, judges[0], mine, "x" * 2001, now=AFTER_CLOSE)
    assert long.value.key == "contest.comment_long"
    async with db() as session:
        stored = await session.get(Review, theirs)
        assert stored is not None and stored.scores == {} and stored.comment is None


async def test_nothing_changes_after_the_jury_deadline(db):
    """Tried: scoring, commenting and submitting at the jury deadline: refused as closed; the
    review still opens, read-only (open False)."""
    _contest, _entry, judges = await reviewed_contest(db)
    [review_id] = await review_ids(db, judges[0])
    for attempt in (
        jury.set_score(db, judges[0], review_id, 0, 5, now=JURY_DEADLINE),
        jury.set_comment(db, judges[0], review_id, "late", now=JURY_DEADLINE),
        jury.submit_review(db, judges[0], review_id, now=JURY_DEADLINE),
    ):
        with pytest.raises(InvalidInput) as closed:
            await attempt
        assert closed.value.key == "contest.jury_closed"
    screen = await jury.open_review(db, judges[0], review_id, now=JURY_DEADLINE)
    assert not screen.open and screen.scores == {}


async def test_the_queue_lists_pending_first(db):
    """Tried: a juror with 2 reviews submits one: the queue lists the pending one first, with
    counts; someone not on the jury is refused."""
    contest = await open_contest(db)
    people = await authors(db, 2, [0])
    for person in people:
        await submitted_entry(db, contest.id, person)
    [judge] = await jurors(db, contest, [1])
    await allocate(db)
    first, second = await review_ids(db, judge)
    for criterion, value in FULL.items():
        await jury.set_score(db, judge, first, criterion, value, now=AFTER_CLOSE)
    await jury.submit_review(db, judge, first, now=AFTER_CLOSE)
    queue = await jury.my_queue(db, judge, contest.id, now=AFTER_CLOSE)
    assert [i.review_id for i in queue.items] == [second, first]
    assert (queue.pending, queue.submitted, queue.open) == (1, 1, True)
    assert queue.items[1].scored == 5
    with pytest.raises(NotFound) as not_juror:
        await jury.my_queue(db, people[0], contest.id)
    assert not_juror.value.key == "contest.not_juror"


# --- reminders and progress -----------------------------------------------------------------


async def test_jurors_with_pending_reviews_are_reminded_once(db):
    """Tried: 3 jurors, one finished: a pass 3 days before the jury deadline reminds nobody;
    one 47 hours before reminds the two with pending reviews (with their count and the queue
    button), not the one who finished; a second pass reminds nobody again."""
    contest, _entry, judges = await reviewed_contest(db)
    [done] = await review_ids(db, judges[2])
    for criterion, value in FULL.items():
        await jury.set_score(db, judges[2], done, criterion, value, now=AFTER_CLOSE)
    await jury.submit_review(db, judges[2], done, now=AFTER_CLOSE)
    early = JURY_DEADLINE - timedelta(days=3)
    assert await jury.remind_jurors(db, I18N, ZONE, now=early) == []
    soon = JURY_DEADLINE - timedelta(hours=47)
    [reminded] = await jury.remind_jurors(db, I18N, ZONE, now=soon)
    assert reminded.jurors == 2 and reminded.broadcast_id is not None
    async with db() as session:
        deliveries = (
            await session.scalars(
                select(Delivery).where(Delivery.broadcast_id == reminded.broadcast_id)
            )
        ).all()
    assert sorted(d.chat_id for d in deliveries) == sorted(judges[:2])
    for delivery in deliveries:
        assert delivery.payload is not None and "1" in delivery.payload["text"]
        assert delivery.payload["buttons"][0]["data"] == JuryQueue(contest.id).pack()
    assert await jury.remind_jurors(db, I18N, ZONE, now=soon + timedelta(hours=1)) == []


async def test_progress_per_juror_for_organizers_only(db):
    """Tried: a student asking for the jury's progress (refused); an organizer sees each juror
    with 1 allocated, the finished one with 1 submitted, totals 3 and 1."""
    contest, _entry, judges = await reviewed_contest(db)
    [done] = await review_ids(db, judges[0])
    for criterion, value in FULL.items():
        await jury.set_score(db, judges[0], done, criterion, value, now=AFTER_CLOSE)
    await jury.submit_review(db, judges[0], done, now=AFTER_CLOSE)
    with pytest.raises(PermissionDenied):
        await jury.progress(db, judges[1], ADMINS, contest.id)
    await factories.organizer(db, ORGANIZER, ADMINS)
    seen = await jury.progress(db, ORGANIZER, ADMINS, contest.id)
    assert [(j.name, j.allocated, j.submitted, j.pending) for j in seen.jurors] == [
        ("Juror0", 1, 1, 0),
        ("Juror1", 1, 0, 1),
        ("Juror2", 1, 0, 1),
    ]
    assert seen.jurors[0].last_submitted_at == AFTER_CLOSE
    assert (seen.allocated, seen.submitted, seen.issues) == (3, 1, ())
    with pytest.raises(NotFound):
        await jury.progress(db, ORGANIZER, ADMINS, 10**9)
