"""The sandbox's demo contest: the default contest opened for entries, a student submits.

Tried on a database with the default content (as the sandbox's first start leaves it), with a
controlled `now`: the console's `open_demo_contest` gives the default contest windows through the
contest service as the organizer identity (open from the current minute for two weeks, the jury
two weeks after); a second start changes nothing; windows an organizer set are never moved; a
first-time student drafts and submits an entry within a minute, on time; a database without the
contest opens nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from bot.sandbox.console import (
    DEMO_CONTEST,
    DEMO_CONTEST_JURY,
    DEMO_CONTEST_OPEN,
    IDENTITIES,
    open_demo_contest,
)
from bot.services import contest as contests
from bot.services import contest_entries as entries
from bot.services.contest import Phase
from bot.services.contest_entries import NewFile
from bot.services.roles import ensure_role
from models import Contest
from tests import factories

NOW = datetime(2031, 5, 4, 10, 7, 42, tzinfo=UTC)
ADMINS: frozenset[int] = frozenset({IDENTITIES["organizer"].user_id})


async def _organizer(db) -> int:
    organizer = IDENTITIES["organizer"]
    await ensure_role(db, organizer.user_id, organizer.role, first_name=organizer.first_name)
    return organizer.user_id


async def test_the_demo_contest_accepts_a_first_entry(db):
    """Opened at 10:07 for two weeks; once only; a student submits on time a minute later."""
    organizer = await _organizer(db)
    opened = await open_demo_contest(db, organizer, ADMINS, now=NOW)
    assert opened is not None and opened.code == DEMO_CONTEST
    start = datetime(2031, 5, 4, 10, 7, tzinfo=UTC)
    assert (opened.opens_at, opened.deadline_at, opened.late_until) == (
        start,
        start + DEMO_CONTEST_OPEN,
        None,
    )
    assert opened.jury_deadline_at == start + DEMO_CONTEST_OPEN + DEMO_CONTEST_JURY
    later = NOW + timedelta(minutes=1)
    assert opened.phase(later) is Phase.OPEN
    assert [c.code for c in await contests.list_open(db, later)] == [DEMO_CONTEST]
    assert await open_demo_contest(db, organizer, ADMINS, now=NOW + timedelta(hours=1)) is None
    shown = await contests.by_code(db, DEMO_CONTEST)
    assert shown.opens_at == start  # the second start moved nothing

    student = IDENTITIES["student"].user_id
    await factories.student(db, student, language="kk")
    draft = await entries.start(db, student, opened.id, now=later)
    await entries.set_title(db, student, draft.id, "Демо платформа", now=later)
    await entries.set_description(db, student, draft.id, "Құм жәшіктегі сынақ жұмысы", now=later)
    await entries.set_link(db, student, draft.id, "https://example.org/demo", now=later)
    await entries.add_file(
        db, student, draft.id, NewFile("FILE1", "demo.pdf", "application/pdf", 2048), now=later
    )
    await entries.files_done(db, student, draft.id, now=later)
    receipt = await entries.submit(db, student, draft.id, now=later)
    assert receipt.code and not receipt.late


async def test_windows_an_organizer_set_are_left_alone(db):
    """An organizer already set the contest's windows (closed long ago): the sandbox leaves them
    as they are; without the contest in the database nothing is opened."""
    organizer = await _organizer(db)
    contest = await contests.by_code(db, DEMO_CONTEST)
    opens = datetime(2030, 1, 10, 4, 0, tzinfo=UTC)
    await contests.set_windows(
        db,
        organizer,
        ADMINS,
        contest.id,
        opens_at=opens,
        deadline_at=opens + timedelta(days=30),
        late_until=None,
        jury_deadline_at=opens + timedelta(days=60),
    )
    assert await open_demo_contest(db, organizer, ADMINS, now=NOW) is None
    kept = await contests.by_code(db, DEMO_CONTEST)
    assert kept.opens_at == opens and kept.phase(NOW) is Phase.CLOSED
    async with db.begin() as session:
        await session.execute(delete(Contest))
    assert await open_demo_contest(db, organizer, ADMINS, now=NOW) is None
