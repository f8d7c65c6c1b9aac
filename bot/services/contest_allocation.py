"""Allocating a contest's entries to its jurors: pure, deterministic given a seed.

Nothing here touches the database; `bot.services.contest_jury` reads the entries (with the
universities of their authors) and the jurors (with theirs), calls `allocate`, and stores the
pairs as pending reviews and the issues as the contest's allocation note.

The rules, in order of precedence:

1. **Conflicts excluded** (when the contest asks for it): a juror never reviews an entry with an
   author from the juror's own university. A juror without a university has no conflict. An
   author who also sits on the jury never reviews their own entry, whatever the rule.
2. **Each entry gets `k` reviews** by `k` different jurors; when fewer than `k` jurors are free
   of conflicts for it, it gets as many as there are, and the shortfall is reported.
3. **Loads balanced**: among all allocations that satisfy 1 and 2, one whose loads are as even
   as possible: the largest load is as small as it can be and the smallest as large as it can
   be (max - min <= 1 whenever the conflicts allow it). When they do not, the jurors held down
   or pushed up by conflicts are reported with the reason.

How: a greedy pass gives each entry (the most constrained first) its reviewers among the least
loaded eligible jurors; then, while some juror with load L can hand one review down a chain to a
juror with load <= L - 2 (X gives entry e to Y when Y is eligible for e and does not review it
yet; a breadth-first search finds the shortest chain), the chain is applied. Each step lowers
the sum of squared loads, so it ends; and the load vectors of these allocations are the bases
of a polymatroid (the juror side of a bipartite b-matching with fixed entry demands), where a
base with no such improving exchange is decreasingly minimal (Frank and Murota, 2022), hence
both min-max and max-min at once. Ties are broken by a `random.Random(seed)`, so the same
input and seed always give the same allocation.

Issues are `Issue(key, values)`: the key is a translation key (`contest.alloc_*`), the values
what it names, so the organizers read them in their language and `describe` spells them in
English for a log.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EntryToAllocate:
    """An entry: its id, code (named in issues), authors' universities, authors on the jury.

    An author on the jury never reviews the entry, whatever the conflict rule.
    """

    id: int
    code: str
    universities: frozenset[int] = frozenset()
    authors_on_jury: frozenset[int] = frozenset()  # juror ids


@dataclass(frozen=True)
class JurorToAllocate:
    """A juror: their id, their university (None: none, so no conflict) and a label for issues."""

    id: int
    university: int | None = None
    label: str = ""


@dataclass(frozen=True)
class Issue:
    """A constraint that could not be met: a translation key and the values it names."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The issue as stored in the contest's allocation note."""
        return {"key": self.key, "values": dict(self.values)}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Issue:
        """An issue read back from the allocation note."""
        return Issue(str(data["key"]), dict(data.get("values") or {}))


# The issues' keys (each in the locales, with these values).
NO_JURORS = "contest.alloc_no_jurors"  # entries
TOO_FEW_JURORS = "contest.alloc_too_few_jurors"  # jurors, needed
ENTRY_SHORT = "contest.alloc_entry_short"  # entry, available, needed, conflicts
UNBALANCED = "contest.alloc_unbalanced"  # low, high
JUROR_LIMITED = "contest.alloc_juror_limited"  # juror, load, eligible
JUROR_NEEDED = "contest.alloc_juror_needed"  # juror, load, needed

_ENGLISH = {
    NO_JURORS: "no jurors: {entries} entries cannot be reviewed",
    TOO_FEW_JURORS: "only {jurors} jurors for {needed} reviews per entry",
    ENTRY_SHORT: (
        "entry {entry}: only {available} conflict-free jurors for {needed} reviews "
        "({conflicts} excluded for a conflict)"
    ),
    UNBALANCED: "loads cannot be balanced: from {low} to {high} reviews per juror",
    JUROR_LIMITED: "juror {juror}: {load} reviews, only {eligible} entries without a conflict",
    JUROR_NEEDED: "juror {juror}: {load} reviews, the only conflict-free choice for {needed}",
}


def describe(issue: Issue) -> str:
    """The issue in English (for logs and tests)."""
    return _ENGLISH[issue.key].format(**issue.values)


@dataclass(frozen=True)
class Allocation:
    """The allocation: (entry id, juror id) pairs, each juror's load, and what was not met."""

    pairs: tuple[tuple[int, int], ...]
    loads: Mapping[int, int]
    issues: tuple[Issue, ...]

    def jurors_of(self, entry_id: int) -> list[int]:
        """The jurors reviewing one entry."""
        return [juror for entry, juror in self.pairs if entry == entry_id]

    def entries_of(self, juror_id: int) -> list[int]:
        """The entries one juror reviews."""
        return [entry for entry, juror in self.pairs if juror == juror_id]


def conflict(entry: EntryToAllocate, juror: JurorToAllocate) -> bool:
    """True when an author of the entry is from the juror's university."""
    return juror.university is not None and juror.university in entry.universities


def may_review(entry: EntryToAllocate, juror: JurorToAllocate, exclude_conflicts: bool) -> bool:
    """True when the juror may review the entry: not its author, and no conflict if excluded."""
    if juror.id in entry.authors_on_jury:
        return False
    return not (exclude_conflicts and conflict(entry, juror))


def allocate(
    entries: Sequence[EntryToAllocate],
    jurors: Sequence[JurorToAllocate],
    k: int,
    *,
    exclude_conflicts: bool = True,
    seed: int = 0,
) -> Allocation:
    """Allocate `k` reviews to each entry among the jurors; see the module's rules.

    Raises:
        ValueError: `k` below 1, or duplicate entry or juror ids.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if len({e.id for e in entries}) != len(entries) or len({j.id for j in jurors}) != len(jurors):
        raise ValueError("duplicate ids")
    rng = random.Random(seed)
    juror_by_id = {j.id: j for j in jurors}
    eligible: dict[int, list[int]] = {
        e.id: [j.id for j in jurors if may_review(e, j, exclude_conflicts)] for e in entries
    }
    need = {e.id: min(k, len(eligible[e.id])) for e in entries}
    loads = dict.fromkeys(juror_by_id, 0)
    assigned: dict[int, set[int]] = {e.id: set() for e in entries}

    # The greedy pass: the most constrained entries first, each to the least loaded jurors.
    shuffled = list(entries)
    rng.shuffle(shuffled)
    order = sorted(shuffled, key=lambda e: len(eligible[e.id]))
    for entry in order:
        candidates = list(eligible[entry.id])
        rng.shuffle(candidates)
        candidates.sort(key=lambda j: loads[j])
        for juror_id in candidates[: need[entry.id]]:
            assigned[entry.id].add(juror_id)
            loads[juror_id] += 1

    _balance(entries, eligible, assigned, loads)

    pairs = tuple(sorted((e, j) for e, js in assigned.items() for j in js))
    issues = _issues(entries, jurors, k, eligible, loads)
    return Allocation(pairs, dict(loads), tuple(issues))


def _balance(
    entries: Sequence[EntryToAllocate],
    eligible: Mapping[int, list[int]],
    assigned: dict[int, set[int]],
    loads: dict[int, int],
) -> None:
    """Apply improving chains until no juror can hand a review down to one 2 or more below."""
    eligible_sets = {e: set(js) for e, js in eligible.items()}
    while True:
        reviews: dict[int, list[int]] = {j: [] for j in loads}  # juror -> their entries
        for entry in entries:
            for juror_id in assigned[entry.id]:
                reviews[juror_id].append(entry.id)
        # X -> Y through entry e: e is X's, not Y's yet, and Y may review it.
        for source in sorted(loads, key=lambda j: (-loads[j], j)):
            path = _chain(source, reviews, eligible_sets, assigned, loads)
            if path is not None:
                for giver, entry_id, taker in path:
                    assigned[entry_id].remove(giver)
                    assigned[entry_id].add(taker)
                loads[source] -= 1
                loads[path[-1][2]] += 1
                break
        else:
            return


def _chain(
    source: int,
    reviews: Mapping[int, list[int]],
    eligible: Mapping[int, set[int]],
    assigned: Mapping[int, set[int]],
    loads: Mapping[int, int],
) -> list[tuple[int, int, int]] | None:
    """The shortest chain of (giver, entry, taker) from `source` to a juror 2 or more below."""
    target_load = loads[source] - 2
    if target_load < 0:
        return None
    came_from: dict[int, tuple[int, int] | None] = {source: None}
    queue = deque([source])
    while queue:
        giver = queue.popleft()
        for entry_id in reviews[giver]:
            for taker in sorted(eligible[entry_id] - assigned[entry_id]):
                if taker in came_from:
                    continue
                came_from[taker] = (giver, entry_id)
                if loads[taker] <= target_load:
                    path: list[tuple[int, int, int]] = []
                    node = taker
                    while (step := came_from[node]) is not None:
                        path.append((step[0], step[1], node))
                        node = step[0]
                    return path[::-1]
                queue.append(taker)
    return None


def _issues(
    entries: Sequence[EntryToAllocate],
    jurors: Sequence[JurorToAllocate],
    k: int,
    eligible: Mapping[int, list[int]],
    loads: Mapping[int, int],
) -> list[Issue]:
    """What could not be met, and why."""
    if not entries:
        return []
    if not jurors:
        return [Issue(NO_JURORS, {"entries": len(entries)})]
    issues: list[Issue] = []
    if len(jurors) < k:
        issues.append(Issue(TOO_FEW_JURORS, {"jurors": len(jurors), "needed": k}))
    cap = min(k, len(jurors))
    for entry in sorted(entries, key=lambda e: e.code):
        available = len(eligible[entry.id])
        if available < cap:
            issues.append(
                Issue(
                    ENTRY_SHORT,
                    {
                        "entry": entry.code,
                        "available": available,
                        "needed": k,
                        "conflicts": len(jurors) - available,
                    },
                )
            )
    low, high = min(loads.values()), max(loads.values())
    if high - low > 1:
        issues.append(Issue(UNBALANCED, {"low": low, "high": high}))
        eligible_count = {j.id: 0 for j in jurors}
        needed_count = {j.id: 0 for j in jurors}
        for entry in entries:
            for juror_id in eligible[entry.id]:
                eligible_count[juror_id] += 1
                if len(eligible[entry.id]) <= k:  # every conflict-free juror reviews it
                    needed_count[juror_id] += 1
        for juror in sorted(jurors, key=lambda j: (loads[j.id], j.id)):
            label = juror.label or str(juror.id)
            if loads[juror.id] < high - 1:
                issues.append(
                    Issue(
                        JUROR_LIMITED,
                        {
                            "juror": label,
                            "load": loads[juror.id],
                            "eligible": eligible_count[juror.id],
                        },
                    )
                )
            elif loads[juror.id] > low + 1 and needed_count[juror.id]:
                issues.append(
                    Issue(
                        JUROR_NEEDED,
                        {
                            "juror": label,
                            "load": loads[juror.id],
                            "needed": needed_count[juror.id],
                        },
                    )
                )
    return issues


def top_up(
    entries: Sequence[EntryToAllocate],
    jurors: Sequence[JurorToAllocate],
    k: int,
    reviewing: Mapping[int, frozenset[int]],
    *,
    exclude_conflicts: bool = True,
    seed: int = 0,
) -> Allocation:
    """Give each entry the reviews it still lacks after an allocation: the re-allocation.

    `reviewing` names the jurors each entry already has (kept as they are). An entry with
    fewer than `k` gets new reviewers among the jurors who may review it (rule 1) and do not
    review it yet, the least loaded first (the existing reviews counted), so jurors who joined
    after the allocation take them; the most constrained entries choose first, ties broken by
    `random.Random(seed)`; then the new reviews are evened out by the same exchange chains as
    `allocate` (the existing ones stay where they are). The pairs returned are the new ones
    only, the loads the totals, and the issues what is still unmet afterwards (no jurors, too
    few, an entry still short).

    Raises:
        ValueError: `k` below 1, or duplicate entry or juror ids.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if len({e.id for e in entries}) != len(entries) or len({j.id for j in jurors}) != len(jurors):
        raise ValueError("duplicate ids")
    rng = random.Random(seed)
    juror_ids = {j.id for j in jurors}
    loads = dict.fromkeys(sorted(juror_ids), 0)
    for entry in entries:
        for juror_id in reviewing.get(entry.id, frozenset()):
            if juror_id in loads:
                loads[juror_id] += 1
    allowed = {
        e.id: [j.id for j in jurors if may_review(e, j, exclude_conflicts)] for e in entries
    }
    free = {
        e.id: [j for j in allowed[e.id] if j not in reviewing.get(e.id, frozenset())]
        for e in entries
    }
    shuffled = list(entries)
    rng.shuffle(shuffled)
    assigned: dict[int, set[int]] = {e.id: set() for e in entries}
    for entry in sorted(shuffled, key=lambda e: len(free[e.id])):
        lacking = k - len(reviewing.get(entry.id, frozenset()))
        if lacking <= 0:
            continue
        candidates = list(free[entry.id])
        rng.shuffle(candidates)
        candidates.sort(key=lambda j: loads[j])
        for juror_id in candidates[:lacking]:
            assigned[entry.id].add(juror_id)
            loads[juror_id] += 1
    # Only the new reviews move (the existing ones are neither in `assigned` nor in `free`).
    _balance(entries, free, assigned, loads)
    pairs = [(e, j) for e, js in assigned.items() for j in js]
    issues: list[Issue] = []
    if entries and not jurors:
        issues.append(Issue(NO_JURORS, {"entries": len(entries)}))
    elif entries:
        if len(jurors) < k:
            issues.append(Issue(TOO_FEW_JURORS, {"jurors": len(jurors), "needed": k}))
        cap = min(k, len(jurors))
        for entry in sorted(entries, key=lambda e: e.code):
            available = len(allowed[entry.id])
            if available < cap:
                issues.append(
                    Issue(
                        ENTRY_SHORT,
                        {
                            "entry": entry.code,
                            "available": available,
                            "needed": k,
                            "conflicts": len(jurors) - available,
                        },
                    )
                )
    return Allocation(tuple(sorted(pairs)), loads, tuple(issues))
