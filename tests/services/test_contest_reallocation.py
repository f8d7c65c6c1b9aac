"""The re-allocation (bot/services/contest_jury.py `allocate_missing`, contest_allocation.py
`top_up`): jurors who join after the allocation take the reviews entries still lack, under the
same rules, so a contest whose jury was empty or too small at the close is not stuck."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.services import InvalidInput, NotFound, PermissionDenied
from bot.services import contest_jury as jury
from bot.services.contest_allocation import (
    ENTRY_SHORT,
    NO_JURORS,
    TOO_FEW_JURORS,
    EntryToAllocate,
    Issue,
    JurorToAllocate,
    top_up,
)
from models import Contest, ContestEntry, Delivery, Juror, Review, User
from tests import factories
from tests.services.test_contest_jury import (
    ADMINS,
    AFTER_CLOSE,
    I18N,
    JURY_DEADLINE,
    ORGANIZER,
    ZONE,
    allocate,
    authors,
    jurors,
    open_contest,
    submitted_entry,
)


async def _missing(db, contest_id: int) -> int:
    return (await jury.progress(db, ORGANIZER, ADMINS, contest_id)).missing


async def _pairs(db) -> list[tuple[int, int | None]]:
    """(entry id, the juror's university) of every review."""
    async with db() as session:
        return list(
            (
                await session.execute(
                    select(Review.entry_id, User.university_id)
                    .join(Juror, Juror.id == Review.juror_id)
                    .join(User, User.id == Juror.user_id)
                    .order_by(Review.id)
                )
            ).all()
        )


async def test_an_empty_jury_at_the_close_is_not_stuck(db):
    """Tried: 2 entries (universities 0 and 1) close with nobody on the jury: allocated with
    'no jurors', 6 reviews missing. Two jurors (universities 0 and 2) join afterwards (told it was
    after the allocation). A student cannot re-allocate; an organizer does: the juror of 2 gets
    both entries, the juror of 0 only the entry of 1 (conflict), each told their new share with
    the queue button; 3 still missing, the note names the entry of 0. Again: nothing added, no
    broadcast. A third juror (university 3) joins: the rest is given out, note cleared, none
    missing."""
    contest = await open_contest(db)
    people = await authors(db, 2, [0, 1])
    first = await submitted_entry(db, contest.id, people[0])
    await submitted_entry(db, contest.id, people[1])
    [done] = await allocate(db)
    assert done.reviews == 0 and Issue(NO_JURORS, {"entries": 2}) in done.issues
    await factories.organizer(db, ORGANIZER, ADMINS)
    assert await _missing(db, contest.id) == 6
    late = await jurors(db, contest, [0, 2])
    assert contest.jury_code is not None
    joined = await jury.join(db, late[0], contest.jury_code)
    assert joined.after_allocation
    with pytest.raises(PermissionDenied):
        await jury.allocate_missing(db, people[0], ADMINS, contest.id, I18N, ZONE, now=AFTER_CLOSE)
    given = await jury.allocate_missing(
        db, ORGANIZER, ADMINS, contest.id, I18N, ZONE, now=AFTER_CLOSE
    )
    assert (given.reviews, given.jurors) == (3, 2)
    assert given.broadcast_id is not None
    pairs = await _pairs(db)
    assert len(pairs) == 3 and (first, pairs[0][1]) in pairs
    async with db() as session:
        first_authors_uni = await session.scalar(
            select(User.university_id).where(User.telegram_id == people[0])
        )
        deliveries = (
            await session.scalars(
                select(Delivery).where(Delivery.broadcast_id == given.broadcast_id)
            )
        ).all()
        stored = await session.get(Contest, contest.id)
        code_of_first = await session.scalar(
            select(ContestEntry.code).where(ContestEntry.id == first)
        )
    assert all(university != first_authors_uni for entry, university in pairs if entry == first)
    assert sorted(d.chat_id for d in deliveries) == sorted(late)
    texts = sorted(d.payload["text"] for d in deliveries if d.payload)
    assert any("2 more" in text for text in texts) and any("1 more" in text for text in texts)
    assert all(d.payload and d.payload["buttons"] for d in deliveries)
    assert stored is not None
    issues = jury.allocation_issues(stored.allocation_note)
    assert Issue(TOO_FEW_JURORS, {"jurors": 2, "needed": 3}) in issues
    assert (
        Issue(ENTRY_SHORT, {"entry": code_of_first, "available": 1, "needed": 3, "conflicts": 1})
        in issues
    )
    assert await _missing(db, contest.id) == 3
    again = await jury.allocate_missing(
        db, ORGANIZER, ADMINS, contest.id, I18N, ZONE, now=AFTER_CLOSE
    )
    assert (again.reviews, again.broadcast_id) == (0, None)
    await jurors(db, contest, [3], first=7_300_000_900)
    await jurors(db, contest, [4], first=7_300_000_950)
    rest = await jury.allocate_missing(
        db, ORGANIZER, ADMINS, contest.id, I18N, ZONE, now=AFTER_CLOSE
    )
    assert rest.reviews == 3 and rest.issues == ()
    async with db() as session:
        stored = await session.get(Contest, contest.id)
        total = await session.scalar(select(func.count(Review.id)))
    assert stored is not None and stored.allocation_note is None
    assert total == 6 and await _missing(db, contest.id) == 0


async def test_reallocation_only_while_the_jury_is_open(db):
    """Tried: before the allocation (not allocated), a contest that does not exist, and after
    the jury deadline (closed): each refused with its message, nothing written."""
    contest = await open_contest(db)
    await factories.organizer(db, ORGANIZER, ADMINS)
    [author] = await authors(db, 1, [0])
    await submitted_entry(db, contest.id, author)
    with pytest.raises(InvalidInput) as early:
        await jury.allocate_missing(db, ORGANIZER, ADMINS, contest.id, I18N, ZONE)
    assert early.value.key == "contest.not_allocated"
    with pytest.raises(NotFound):
        await jury.allocate_missing(db, ORGANIZER, ADMINS, 10**9, I18N, ZONE)
    await allocate(db)
    await jurors(db, contest, [2])
    with pytest.raises(InvalidInput) as late:
        await jury.allocate_missing(
            db, ORGANIZER, ADMINS, contest.id, I18N, ZONE, now=JURY_DEADLINE + timedelta(1)
        )
    assert late.value.key == "contest.jury_closed"
    async with db() as session:
        assert await session.scalar(select(func.count(Review.id))) == 0


def test_top_up_keeps_what_was_given_and_fills_the_least_loaded_first():
    """Tried (pure): 3 entries, k = 2; entry 1 has jurors 10 and 11, entry 2 has 10, entry 3
    none; jurors 10, 11 (loaded) and 12, 13 (new; 13 from the university of entry 3): entry 2
    gets one new juror, entry 3 two; 13 never gets entry 3; the loads even out; the same seed
    gives the same result; nothing is short."""
    entries = [
        EntryToAllocate(1, "E1", frozenset({100})),
        EntryToAllocate(2, "E2", frozenset({101})),
        EntryToAllocate(3, "E3", frozenset({103})),
    ]
    people = [
        JurorToAllocate(10, 200),
        JurorToAllocate(11, 201),
        JurorToAllocate(12, 202),
        JurorToAllocate(13, 103),
    ]
    reviewing = {1: frozenset({10, 11}), 2: frozenset({10})}
    topped = top_up(entries, people, 2, reviewing, seed=5)
    assert len(topped.pairs) == 3
    assert not {(1, 10), (1, 11), (2, 10)} & set(topped.pairs)
    assert (3, 13) not in topped.pairs
    assert sum(1 for entry, _ in topped.pairs if entry == 3) == 2
    assert sum(1 for entry, _ in topped.pairs if entry == 2) == 1
    assert max(topped.loads.values()) - min(topped.loads.values()) <= 1
    assert topped.issues == ()
    assert top_up(entries, people, 2, reviewing, seed=5) == topped
    with pytest.raises(ValueError):
        top_up(entries, people, 0, reviewing)
