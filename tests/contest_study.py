"""A small contest seeded through its own services: three entries, a draft, a jury, reviews.

The entries are drafted, given files, joined by a co-author, submitted (one late) and one
withdrawn through `bot.services.contest_entries`; the jurors join with the jury code through
`bot.services.contest_jury`; the reviews are written straight into `contest_review` as the jury's
services leave them (which juror reviews which entry is the test's choice, not the allocation's).

The figures the exports must show, on the default rubric (five criteria, each 0..10):
- entry one (owner ONE of university 0, co-author THREE of university 4; two files): reviewed by
  J1 with 10 everywhere (100) and J2 with 5 everywhere (50): score 75, rank 2;
- entry two (owner TWO of university 0; late; one file): J1 with 8 everywhere (80), J3 pending
  with one criterion saved: score 80, rank 1, one review pending;
- entry three (owner FOUR of university 1): withdrawn, no score;
- a draft of FIVE: never exported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.services import contest as contests
from bot.services import contest_entries as entries
from bot.services import contest_jury as jury
from bot.services.contest_entries import NewFile
from bot.services.universities import list_universities
from models import Juror, Review, User
from tests import factories

ADMIN = 900001  # tests.conftest.ADMIN_ID
ADMINS = frozenset({ADMIN})
CODE = "dlt_platform_contest"
OPENS = datetime(2027, 2, 1, 4, 0, tzinfo=UTC)
DEADLINE = datetime(2027, 4, 15, 18, 59, tzinfo=UTC)
LATE_UNTIL = DEADLINE + timedelta(hours=6)
JURY_DEADLINE = datetime(2027, 5, 15, 18, 59, tzinfo=UTC)
ON_TIME = DEADLINE - timedelta(days=1)
LATE = DEADLINE + timedelta(minutes=30)
ONE, TWO, THREE, FOUR, FIVE = 741_000_001, 741_000_002, 741_000_003, 741_000_004, 741_000_005
J1, J2, J3 = 742_000_001, 742_000_002, 742_000_003
COMMENT = "=SUM(1) strong pedagogy"
CRITERIA = ("pedagogical_value", "usability", "interactivity", "accessibility", "originality")


@dataclass
class Seeded:
    """What `seed` made."""

    contest_id: int = 0
    universities: list = field(default_factory=list)
    one: int = 0  # entry ids
    two: int = 0
    three: int = 0
    codes: dict[int, str] = field(default_factory=dict)  # entry id -> entry code
    user_ids: dict[int, int] = field(default_factory=dict)  # Telegram id -> internal id


def files_for(prefix: str, *names: str) -> list[NewFile]:
    """Files named `names` with made-up Telegram ids (for exports that never download them)."""
    types = {"pdf": "application/pdf", "mp4": "video/mp4", "pptx": "application/vnd.ms-pptx"}
    return [
        NewFile(f"{prefix}{n}", name, types.get(name.rsplit(".", 1)[-1]), 1000 * (n + 1))
        for n, name in enumerate(names)
    ]


def title_of(owner: int) -> str:
    """The title of `owner`'s entry (no Telegram id in it: exports are searched for those)."""
    return f"Platform {'ABCDE'[owner % 10 - 1]}"


async def _entry(
    db, contest_id: int, owner: int, files: list[NewFile], at: datetime, *coauthors: int
) -> tuple[int, str]:
    draft = await entries.start(db, owner, contest_id, now=at)
    title = title_of(owner)
    await entries.set_title(db, owner, draft.id, title, now=at)
    await entries.set_description(db, owner, draft.id, f"What {title} does", now=at)
    slug = title.lower().replace(" ", "-")
    await entries.set_link(db, owner, draft.id, f"https://example.org/{slug}", now=at)
    for file in files:
        await entries.add_file(db, owner, draft.id, file, now=at)
    await entries.files_done(db, owner, draft.id, now=at)
    for coauthor in coauthors:
        await entries.join(db, coauthor, draft.team_code, now=at)
    receipt = await entries.submit(db, owner, draft.id, now=at)
    return draft.id, receipt.code


async def _review(
    db, entry_id: int, juror: int, scores: dict[str, float], comment: str | None, done: bool
) -> None:
    async with db.begin() as session:
        juror_row = await session.scalar(
            select(Juror).join(User, User.id == Juror.user_id).where(User.telegram_id == juror)
        )
        session.add(
            Review(
                contest_id=juror_row.contest_id,
                entry_id=entry_id,
                juror_id=juror_row.id,
                state="submitted" if done else "pending",
                scores=scores,
                comment=comment,
                submitted_at=DEADLINE + timedelta(days=3) if done else None,
            )
        )


async def seed(db, files: dict[int, list[NewFile]] | None = None) -> Seeded:
    """The contest of the module's docstring; `files` replaces an owner's made-up files."""
    files = files or {}
    seeded = Seeded(universities=await list_universities(db))
    await factories.admin(db, ADMIN, ADMINS)
    contest = await contests.by_code(db, CODE)
    await contests.set_windows(
        db,
        ADMIN,
        ADMINS,
        contest.id,
        opens_at=OPENS,
        deadline_at=DEADLINE,
        late_until=LATE_UNTIL,
        jury_deadline_at=JURY_DEADLINE,
    )
    seeded.contest_id = contest.id
    for telegram_id, university in ((ONE, 0), (TWO, 0), (THREE, 4), (FOUR, 1), (FIVE, 0)):
        await factories.student(
            db,
            telegram_id,
            university=university,
            first_name=f"Name{telegram_id}",
            username=f"u{telegram_id}",
        )
    seeded.one, code_one = await _entry(
        db,
        contest.id,
        ONE,
        files.get(ONE, files_for("F1_", "slides.pdf", "demo.mp4")),
        ON_TIME,
        THREE,
    )
    seeded.two, code_two = await _entry(
        db, contest.id, TWO, files.get(TWO, files_for("F2_", "plan.pdf")), LATE
    )
    seeded.three, code_three = await _entry(
        db, contest.id, FOUR, files.get(FOUR, files_for("F4_", "gone.pdf")), ON_TIME
    )
    await entries.withdraw(db, FOUR, seeded.three, now=ON_TIME + timedelta(hours=1))
    draft = await entries.start(db, FIVE, contest.id, now=ON_TIME)
    await entries.set_title(db, FIVE, draft.id, "Never finished", now=ON_TIME)
    seeded.codes = {seeded.one: code_one, seeded.two: code_two, seeded.three: code_three}
    for telegram_id, university in ((J1, 2), (J2, 3), (J3, 1)):
        await factories.student(
            db,
            telegram_id,
            university=university,
            first_name=f"Juror{telegram_id}",
            username=f"j{telegram_id}",
        )
        shown = await contests.get(db, contest.id)
        assert shown.jury_code is not None
        await jury.join(db, telegram_id, shown.jury_code, now=DEADLINE)
    await _review(db, seeded.one, J1, dict.fromkeys(CRITERIA, 10), COMMENT, True)
    await _review(db, seeded.one, J2, dict.fromkeys(CRITERIA, 5), "Solid", True)
    await _review(db, seeded.two, J1, dict.fromkeys(CRITERIA, 8), None, True)
    await _review(db, seeded.two, J3, {"pedagogical_value": 4}, None, False)
    async with db() as session:
        rows = await session.execute(select(User.telegram_id, User.id))
        seeded.user_ids = {row[0]: row[1] for row in rows}
    return seeded
