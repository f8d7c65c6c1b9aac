"""Allocating entries to jurors: k reviews each, no conflicts, balanced loads, issues named."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.services.contest_allocation import (
    ENTRY_SHORT,
    JUROR_LIMITED,
    JUROR_NEEDED,
    NO_JURORS,
    TOO_FEW_JURORS,
    UNBALANCED,
    EntryToAllocate,
    Issue,
    JurorToAllocate,
    allocate,
    conflict,
    describe,
    may_review,
)


def entries(n: int, universities: dict[int, set[int]] | None = None) -> list[EntryToAllocate]:
    universities = universities or {}
    return [EntryToAllocate(i, f"E{i}", frozenset(universities.get(i, set()))) for i in range(n)]


def jurors(universities: list[int | None]) -> list[JurorToAllocate]:
    return [JurorToAllocate(100 + i, u, f"J{i}") for i, u in enumerate(universities)]


def check_valid(allocation, entry_list, juror_list, k, exclude=True) -> None:
    """Every pair conflict-free, no juror twice on an entry, loads as counted, k reviews or all
    the conflict-free jurors there are."""
    by_id = {j.id: j for j in juror_list}
    assert len(set(allocation.pairs)) == len(allocation.pairs)
    for entry in entry_list:
        reviewers = allocation.jurors_of(entry.id)
        free = [j for j in juror_list if may_review(entry, j, exclude)]
        assert len(reviewers) == min(k, len(free))
        if exclude:
            assert not any(conflict(entry, by_id[j]) for j in reviewers)
    for juror in juror_list:
        assert allocation.loads[juror.id] == len(allocation.entries_of(juror.id))


def test_balanced_without_conflicts() -> None:
    """10 entries x 3 reviews over 4 jurors (30 reviews): loads 7 or 8, nothing reported."""
    entry_list, juror_list = entries(10), jurors([None, None, None, None])
    allocation = allocate(entry_list, juror_list, 3, seed=1)
    check_valid(allocation, entry_list, juror_list, 3)
    assert sorted(allocation.loads.values()) == [7, 7, 8, 8]
    assert allocation.issues == ()


def test_conflicts_excluded_and_still_balanced() -> None:
    """Authors from universities 1 and 2, jurors from 1, 2, 3 and none: no juror reviews an entry
    with an author from their university, and loads stay within 1 of each other."""
    unis = {i: {1 + i % 2} for i in range(12)}  # even entries from 1, odd from 2
    unis[0] = {1, 2}  # a team from both
    entry_list = entries(12, unis)
    juror_list = jurors([1, 2, 3, None, 1, 2])
    allocation = allocate(entry_list, juror_list, 2, seed=5)
    check_valid(allocation, entry_list, juror_list, 2)
    assert max(allocation.loads.values()) - min(allocation.loads.values()) <= 1
    assert allocation.issues == ()


def test_conflicts_can_be_switched_off() -> None:
    """exclude_conflicts=False: a juror may review an entry from their own university."""
    entry_list = entries(2, {0: {1}, 1: {1}})
    juror_list = jurors([1, 1])
    allocation = allocate(entry_list, juror_list, 2, exclude_conflicts=False)
    assert len(allocation.pairs) == 4
    assert allocation.issues == ()
    strict = allocate(entry_list, juror_list, 2)
    assert strict.pairs == ()


def test_deterministic_given_a_seed() -> None:
    """The same input and seed give the same pairs; another seed may differ but stays valid."""
    entry_list = entries(15, {i: {i % 3} for i in range(15)})
    juror_list = jurors([0, 1, 2, None, 0, 1, 2])
    first = allocate(entry_list, juror_list, 3, seed=42)
    assert allocate(entry_list, juror_list, 3, seed=42) == first
    other = allocate(entry_list, juror_list, 3, seed=43)
    check_valid(other, entry_list, juror_list, 3)
    assert max(other.loads.values()) - min(other.loads.values()) <= 1


def test_entry_with_too_few_conflict_free_jurors() -> None:
    """Entry E0 has authors from universities 1 and 2; of 3 jurors only the one from 3 is free:
    E0 gets 1 review and the note says 'only 1 conflict-free juror for 3 reviews'."""
    entry_list = entries(3, {0: {1, 2}})
    juror_list = jurors([1, 2, 3])
    allocation = allocate(entry_list, juror_list, 3, seed=0)
    check_valid(allocation, entry_list, juror_list, 3)
    assert allocation.jurors_of(0) == [102]
    assert Issue(ENTRY_SHORT, {"entry": "E0", "available": 1, "needed": 3, "conflicts": 2}) in (
        allocation.issues
    )
    assert describe(allocation.issues[0]) == (
        "entry E0: only 1 conflict-free jurors for 3 reviews (2 excluded for a conflict)"
    )


def test_fewer_jurors_than_reviews() -> None:
    """k = 3 with 2 jurors: every entry gets both, said once (not once per entry)."""
    entry_list, juror_list = entries(4), jurors([None, None])
    allocation = allocate(entry_list, juror_list, 3)
    check_valid(allocation, entry_list, juror_list, 3)
    assert allocation.issues == (Issue(TOO_FEW_JURORS, {"jurors": 2, "needed": 3}),)


def test_no_jurors() -> None:
    """Entries but no jurors: nothing allocated, and the note says so."""
    allocation = allocate(entries(5), [], 2)
    assert allocation.pairs == ()
    assert allocation.issues == (Issue(NO_JURORS, {"entries": 5}),)


def test_no_entries() -> None:
    """Nothing submitted: nothing allocated, nothing to report, loads all 0."""
    allocation = allocate([], jurors([1, None]), 2)
    assert allocation.pairs == () and allocation.issues == ()
    assert allocation.loads == {100: 0, 101: 0}


def test_bad_arguments() -> None:
    """k = 0 and duplicate ids are programming errors."""
    with pytest.raises(ValueError):
        allocate(entries(1), jurors([None]), 0)
    with pytest.raises(ValueError):
        allocate(entries(1) * 2, jurors([None]), 1)


def test_unbalanced_by_conflicts_is_explained() -> None:
    """Every entry is from university 1 but one; the juror from 1 can only review that one, while
    the other two review all 6: loads 1..6, with the limited juror and the reason named."""
    entry_list = entries(6, {i: {1} for i in range(5)})
    juror_list = jurors([1, 2, 3])
    allocation = allocate(entry_list, juror_list, 2, seed=3)
    check_valid(allocation, entry_list, juror_list, 2)
    assert allocation.loads == {100: 1, 101: 5, 102: 6} or allocation.loads == {
        100: 1,
        101: 6,
        102: 5,
    }
    keys = [issue.key for issue in allocation.issues]
    assert UNBALANCED in keys
    limited = [i for i in allocation.issues if i.key == JUROR_LIMITED]
    assert limited == [Issue(JUROR_LIMITED, {"juror": "J0", "load": 1, "eligible": 1})]
    needed = [i for i in allocation.issues if i.key == JUROR_NEEDED]
    assert {i.values["juror"] for i in needed} == {"J1", "J2"}
    assert all(i.values["needed"] == 5 for i in needed)


def test_issue_round_trips_through_json() -> None:
    """The note stores issues as JSON; reading them back gives the same issue."""
    issue = Issue(ENTRY_SHORT, {"entry": "E1", "available": 1, "needed": 3, "conflicts": 2})
    assert Issue.from_json(issue.as_json()) == issue


def _best(entry_list, juror_list, k):
    """By brute force: the smallest possible largest load and the largest possible smallest."""
    options = []
    for entry in entry_list:
        free = [j.id for j in juror_list if not conflict(entry, j)]
        options.append(list(itertools.combinations(free, min(k, len(free)))))
    best_max, best_min = None, None
    for choice in itertools.product(*options):
        loads = dict.fromkeys((j.id for j in juror_list), 0)
        for group in choice:
            for juror_id in group:
                loads[juror_id] += 1
        high, low = max(loads.values()), min(loads.values())
        best_max = high if best_max is None else min(best_max, high)
        best_min = low if best_min is None else max(best_min, low)
    return best_max, best_min


@pytest.mark.parametrize("case", range(60))
def test_loads_as_even_as_conflicts_allow(case: int) -> None:
    """Random small contests checked against every possible allocation: the largest load is the
    smallest possible and the smallest load the largest possible, at once."""
    rng = random.Random(case)
    n_entries, n_jurors, k = rng.randint(1, 5), rng.randint(2, 4), rng.randint(1, 3)
    unis = {i: set(rng.sample(range(3), rng.randint(0, 2))) for i in range(n_entries)}
    entry_list = entries(n_entries, unis)
    juror_list = jurors([rng.choice([0, 1, 2, None]) for _ in range(n_jurors)])
    allocation = allocate(entry_list, juror_list, k, seed=case)
    check_valid(allocation, entry_list, juror_list, k)
    best_max, best_min = _best(entry_list, juror_list, k)
    assert max(allocation.loads.values()) == best_max
    assert min(allocation.loads.values()) == best_min
    if best_max - best_min > 1:
        assert any(issue.key == UNBALANCED for issue in allocation.issues)
    else:
        assert all(issue.key != UNBALANCED for issue in allocation.issues)


def test_a_large_contest_is_balanced() -> None:
    """300 entries from 20 universities, 25 jurors from 10 of them and 5 without, 3 reviews:
    900 reviews, loads 36, no conflict, nothing reported."""
    rng = random.Random(9)
    entry_list = entries(300, {i: {rng.randrange(20)} for i in range(300)})
    juror_list = jurors([i % 10 for i in range(20)] + [None] * 5)
    allocation = allocate(entry_list, juror_list, 3, seed=1)
    check_valid(allocation, entry_list, juror_list, 3)
    assert set(allocation.loads.values()) == {36}
    assert allocation.issues == ()


def test_an_author_on_the_jury_never_reviews_their_entry() -> None:
    """Juror J0 is an author of E0 (no university to conflict on): even with conflicts switched
    off, E0 goes to the other jurors, and with 2 jurors for 2 reviews E0 is reported short."""
    entry_list = [EntryToAllocate(0, "E0", frozenset(), frozenset({100})), *entries(3)[1:]]
    juror_list = jurors([None, None, None])
    for exclude in (True, False):
        allocation = allocate(entry_list, juror_list, 2, exclude_conflicts=exclude)
        assert 100 not in allocation.jurors_of(0)
        assert len(allocation.jurors_of(0)) == 2
    short = allocate(entry_list, juror_list[:2], 2)
    assert short.jurors_of(0) == [101]
    assert Issue(ENTRY_SHORT, {"entry": "E0", "available": 1, "needed": 2, "conflicts": 1}) in (
        short.issues
    )
