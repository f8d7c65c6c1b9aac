"""Contest entries on a real database (bot/services/contest_entries.py): the draft saved at every
step and resumed, each field refused with its reason and nothing lost, preview and submit with a
receipt, the windows (open, late, closed), edit and withdraw, forged buttons, teams joining with
a code, and the draft reminder sent once before the deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.callbacks import EntryResume
from bot.content.validate import check_data
from bot.i18n import I18n
from bot.services import InvalidInput, NotFound, PermissionDenied, ServiceError
from bot.services import contest as contests
from bot.services import contest_entries as ce
from bot.services.content import load_reports
from bot.services.contest import Phase
from bot.services.contest_entries import EntryState, NewFile, Step
from models import Broadcast, Contest, Delivery
from tests import factories

NOW = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
OPENS = NOW - timedelta(days=10)
DEADLINE = NOW + timedelta(days=5)
LATE_UNTIL = DEADLINE + timedelta(days=1)
JURY = LATE_UNTIL + timedelta(days=10)
OWNER = 7_300_000_001
ALICE = 7_300_000_002
BOB = 7_300_000_003
CAROL = 7_300_000_004
STRANGER = 7_300_000_009
MB = 1024 * 1024
I18N = I18n("kk")
ZONE = factories.ZONE


def _t(text: str) -> dict[str, str]:
    return {"kk": f"{text} (kk)", "ru": f"{text} (ru)", "en": text}


def _iso(moment: datetime) -> str:
    return moment.astimezone(ZONE).isoformat()


def pack(code: str = "spring_contest", **changes) -> dict:
    """A contest: link required, 1 to 2 PDF/PPTX files of 20 MB, teams of 3, late day."""
    data = {
        "kind": "contest",
        "code": code,
        "version": 1,
        "title": _t("Spring contest"),
        "rules": _t("Rules.\n\nMore rules."),
        "windows": {
            "opens": _iso(OPENS),
            "deadline": _iso(DEADLINE),
            "late_until": _iso(LATE_UNTIL),
            "jury_deadline": _iso(JURY),
        },
        "entry": {
            "title": {"max_length": 60},
            "description": {"required": True, "max_length": 200},
            "link": "required",
            "files": {"types": ["pdf", "pptx", "jpg"], "max_count": 2, "min_count": 1},
            "max_authors": 3,
        },
        "criteria": [
            {"code": "value", "title": _t("Value"), "weight": 2, "max": 10},
            {"code": "design", "title": _t("Design"), "weight": 1, "max": 5},
        ],
    }
    data.update(changes)
    return data


async def load(db, data: dict) -> contests.ContestView:
    """Load a contest pack as the CLI would; its view."""
    report = check_data(data, f"{data['code']}.yaml")
    outcome = await load_reports(db, [report])
    assert outcome.ok, [str(e) for e in outcome.errors]
    return await contests.by_code(db, data["code"])


async def people(db, *ids: int, university: int = 0) -> None:
    for telegram_id in ids:
        await factories.student(db, telegram_id, university=university)


def pdf(n: int = 1, size: int = MB) -> NewFile:
    return NewFile(f"FILE{n}", f"slides{n}.pdf", "application/pdf", size, f"U{n}")


async def complete(db, contest_id: int, who: int = OWNER) -> ce.EntryView:
    """A draft with every field, at the preview."""
    entry = await ce.start(db, who, contest_id, now=NOW)
    await ce.set_title(db, who, entry.id, "My platform", now=NOW)
    await ce.set_description(db, who, entry.id, "It helps learners.", now=NOW)
    await ce.set_link(db, who, entry.id, "https://example.org/p", now=NOW)
    await ce.add_file(db, who, entry.id, pdf(who % 1000), now=NOW)
    return await ce.files_done(db, who, entry.id, now=NOW)


async def refused(call, key: str) -> ServiceError:
    """`call` raises a ServiceError with `key`."""
    with pytest.raises(ServiceError) as caught:
        await call
    assert caught.value.key == key, caught.value.key
    return caught.value


async def test_the_draft_is_saved_at_every_step_and_resumed(db):
    """Start, each field in turn (the step moves), a 'restart' (start again) resumes at the
    stored step with everything kept; the preview misses nothing; submit gives a receipt with
    the entry code, on time; submitting again gives the same receipt."""
    contest = await load(db, pack())
    assert contest.phase(NOW) is Phase.OPEN and contest.accepting(NOW)
    await people(db, OWNER)
    entry = await ce.start(db, OWNER, contest.id, now=NOW)
    assert (entry.state, entry.step, entry.editing) == (EntryState.DRAFT, Step.TITLE, False)
    assert entry.missing == (Step.TITLE, Step.DESCRIPTION, Step.LINK, Step.FILES)
    assert [a.telegram_id for a in entry.authors] == [OWNER] and entry.authors[0].owner
    entry = await ce.set_title(db, OWNER, entry.id, "  My   platform \n", now=NOW)
    assert (entry.title, entry.step) == ("My platform", Step.DESCRIPTION)
    again = await ce.start(db, OWNER, contest.id, now=NOW)  # the bot restarted meanwhile
    assert (again.id, again.step, again.title) == (entry.id, Step.DESCRIPTION, "My platform")
    entry = await ce.set_description(db, OWNER, entry.id, "Line one.\nLine two.", now=NOW)
    assert (entry.description, entry.step) == ("Line one.\nLine two.", Step.LINK)
    entry = await ce.set_link(db, OWNER, entry.id, "example.org/platform", now=NOW)
    assert (entry.link, entry.step) == ("https://example.org/platform", Step.FILES)
    entry = await ce.add_file(db, OWNER, entry.id, pdf(), now=NOW)
    assert entry.step is Step.FILES and [f.name for f in entry.files] == ["slides1.pdf"]
    assert (entry.files[0].file_id, entry.files[0].size) == ("FILE1", MB)
    entry = await ce.files_done(db, OWNER, entry.id, now=NOW)
    assert (entry.step, entry.missing) == (Step.PREVIEW, ())
    receipt = await ce.submit(db, OWNER, entry.id, now=NOW)
    assert receipt.code == entry.code and receipt.submitted_at == NOW and not receipt.late
    assert receipt.entry.state is EntryState.SUBMITTED
    later = await ce.submit(db, OWNER, entry.id, now=NOW + timedelta(hours=1))
    assert (later.code, later.submitted_at) == (receipt.code, NOW)
    assert [e.id for e in await ce.entries_of(db, contest.id)] == [entry.id]


async def test_each_bad_field_is_refused_with_its_reason_and_nothing_is_lost(db):
    """An empty or too long title, a blank or too long description, links that are not http(s)
    addresses with a host, a skipped required link, a wrong type, an oversized file, a third
    file, the same file twice, finishing without the required file: each its own key, and the
    draft stays exactly as it was."""
    contest = await load(db, pack())
    await people(db, OWNER)
    entry = await ce.start(db, OWNER, contest.id, now=NOW)
    await refused(ce.set_title(db, OWNER, entry.id, " \u200b ", now=NOW), "contest.title_empty")
    error = await refused(
        ce.set_title(db, OWNER, entry.id, "x" * 61, now=NOW), "contest.title_too_long"
    )
    assert error.values == {"max": 60, "length": 61}
    await ce.set_title(db, OWNER, entry.id, "Title", now=NOW)
    await refused(
        ce.set_description(db, OWNER, entry.id, "\n\n", now=NOW), "contest.description_empty"
    )
    await refused(
        ce.set_description(db, OWNER, entry.id, None, now=NOW), "contest.description_empty"
    )
    await refused(
        ce.set_description(db, OWNER, entry.id, "y" * 201, now=NOW), "contest.description_too_long"
    )
    await ce.set_description(db, OWNER, entry.id, "About it.", now=NOW)
    for bad in (
        "not a link",
        "ftp://example.org",
        "https://localhost/x",
        "https://",
        "javascript:alert(1)",
    ):
        await refused(ce.set_link(db, OWNER, entry.id, bad, now=NOW), "contest.link_invalid")
    await refused(
        ce.set_link(db, OWNER, entry.id, "https://e.org/" + "a" * 500, now=NOW),
        "contest.link_too_long",
    )
    await refused(ce.set_link(db, OWNER, entry.id, None, now=NOW), "contest.link_required")
    await ce.set_link(db, OWNER, entry.id, "http://example.org", now=NOW)
    error = await refused(
        ce.add_file(db, OWNER, entry.id, NewFile("F", "run.exe", None, 10), now=NOW),
        "contest.file_type",
    )
    assert error.values == {"name": "run.exe", "types": "pdf, pptx, jpg"}
    error = await refused(
        ce.add_file(db, OWNER, entry.id, pdf(1, size=20 * MB + 1), now=NOW),
        "contest.file_too_large",
    )
    assert error.values == {"name": "slides1.pdf", "max": 20}
    await refused(ce.files_done(db, OWNER, entry.id, now=NOW), "contest.files_needed")
    await ce.add_file(db, OWNER, entry.id, pdf(1, size=20 * MB), now=NOW)  # exactly 20 MB
    await refused(ce.add_file(db, OWNER, entry.id, pdf(1), now=NOW), "contest.file_twice")
    # A photo has no name: its MIME type says what it is; .jpeg is a jpg.
    await ce.add_file(db, OWNER, entry.id, NewFile("P", "photo", "image/jpeg", 5000), now=NOW)
    await refused(ce.add_file(db, OWNER, entry.id, pdf(3), now=NOW), "contest.too_many_files")
    kept = await ce.get_entry(db, OWNER, entry.id)
    assert (kept.title, kept.description, kept.link) == (
        "Title",
        "About it.",
        "http://example.org",
    )
    assert [f.file_id for f in kept.files] == ["FILE1", "P"] and kept.step is Step.FILES


async def test_a_field_given_out_of_turn_is_refused(db):
    """A stale button or message (the description while the title is asked; a file at the
    preview) is refused with contest.not_this_step; nothing changes."""
    contest = await load(db, pack())
    await people(db, OWNER)
    entry = await ce.start(db, OWNER, contest.id, now=NOW)
    await refused(
        ce.set_description(db, OWNER, entry.id, "Early", now=NOW), "contest.not_this_step"
    )
    entry = await complete(db, contest.id)
    await refused(ce.add_file(db, OWNER, entry.id, pdf(7), now=NOW), "contest.not_this_step")
    await refused(ce.set_title(db, OWNER, entry.id, "Other", now=NOW), "contest.not_this_step")
    assert (await ce.get_entry(db, OWNER, entry.id)).title == "My platform"


async def test_someone_elses_entry_is_refused_through_a_forged_button(db):
    """Another person naming my entry's id (every change, submit, withdraw, reading it) is
    refused with contest.not_yours; an id that does not exist with contest.entry_not_found."""
    contest = await load(db, pack())
    await people(db, OWNER, STRANGER)
    entry = await complete(db, contest.id)
    for call in (
        ce.set_title(db, STRANGER, entry.id, "Mine now", now=NOW),
        ce.edit(db, STRANGER, entry.id, Step.TITLE, now=NOW),
        ce.add_file(db, STRANGER, entry.id, pdf(5), now=NOW),
        ce.remove_file(db, STRANGER, entry.id, entry.files[0].id, now=NOW),
        ce.submit(db, STRANGER, entry.id, now=NOW),
        ce.withdraw(db, STRANGER, entry.id, now=NOW),
        ce.get_entry(db, STRANGER, entry.id),
    ):
        with pytest.raises(PermissionDenied) as caught:
            await call
        assert caught.value.key == "contest.not_yours"
    with pytest.raises(NotFound):
        await ce.set_title(db, OWNER, 999_999, "x", now=NOW)
    other = await complete(db, contest.id, STRANGER)
    await refused(
        ce.remove_file(db, OWNER, entry.id, other.files[0].id, now=NOW), "contest.file_not_found"
    )
    shown = await ce.get_entry(db, OWNER, entry.id)
    assert (shown.title, shown.state, len(shown.files)) == ("My platform", EntryState.DRAFT, 1)


async def test_edits_from_the_preview_return_to_it_until_the_deadline(db):
    """From the preview a field is asked again and saving it returns to the preview, for a draft
    and for a submitted entry (which stays submitted); a submitted entry keeps its required
    file. After the deadline a submitted entry can no longer be edited or withdrawn:
    contest.closed, and it is unchanged."""
    contest = await load(db, pack())
    await people(db, OWNER)
    entry = await complete(db, contest.id)
    entry = await ce.edit(db, OWNER, entry.id, Step.LINK, now=NOW)
    assert (entry.step, entry.editing) == (Step.LINK, True)
    entry = await ce.set_link(db, OWNER, entry.id, "https://example.org/v2", now=NOW)
    assert (entry.step, entry.editing, entry.link) == (
        Step.PREVIEW,
        False,
        "https://example.org/v2",
    )
    await ce.submit(db, OWNER, entry.id, now=NOW)
    entry = await ce.edit(db, OWNER, entry.id, Step.TITLE, now=NOW)
    entry = await ce.set_title(db, OWNER, entry.id, "Better title", now=NOW)
    assert (entry.state, entry.step, entry.title) == (
        EntryState.SUBMITTED,
        Step.PREVIEW,
        "Better title",
    )
    entry = await ce.edit(db, OWNER, entry.id, Step.FILES, now=NOW)
    await refused(
        ce.remove_file(db, OWNER, entry.id, entry.files[0].id, now=NOW), "contest.files_needed"
    )
    await ce.add_file(db, OWNER, entry.id, pdf(2), now=NOW)
    entry = await ce.remove_file(db, OWNER, entry.id, entry.files[0].id, now=NOW)
    entry = await ce.back_to_preview(db, OWNER, entry.id, now=NOW)
    assert [f.file_id for f in entry.files] == ["FILE2"] and entry.step is Step.PREVIEW
    after = DEADLINE + timedelta(minutes=1)  # the late window: new drafts only
    await refused(ce.edit(db, OWNER, entry.id, Step.TITLE, now=after), "contest.closed")
    await refused(ce.withdraw(db, OWNER, entry.id, now=after), "contest.closed")
    await refused(ce.withdraw(db, OWNER, entry.id, now=JURY), "contest.closed")
    shown = await ce.get_entry(db, OWNER, entry.id)
    assert (shown.state, shown.title) == (EntryState.SUBMITTED, "Better title")


async def test_late_entries_are_marked_and_nothing_is_accepted_after_the_cut_off(db):
    """A draft submitted after the deadline and before the late cut-off is accepted and marked
    late; after the cut-off a draft cannot be submitted or written and nobody can start one
    (contest.closed), though its owner still sees it; before the opening nothing starts
    (contest.not_open_yet), nor in a contest without windows."""
    contest = await load(db, pack())
    await people(db, OWNER, ALICE, BOB)
    late = await complete(db, contest.id, OWNER)
    in_late_window = DEADLINE + timedelta(hours=2)
    assert contest.phase(in_late_window) is Phase.LATE
    receipt = await ce.submit(db, OWNER, late.id, now=in_late_window)
    assert receipt.late and receipt.submitted_at == in_late_window
    draft = await complete(db, contest.id, ALICE)
    closed = LATE_UNTIL + timedelta(seconds=1)
    assert contest.phase(closed) is Phase.CLOSED and not contest.accepting(closed)
    await refused(ce.submit(db, ALICE, draft.id, now=closed), "contest.closed")
    await refused(ce.edit(db, ALICE, draft.id, Step.TITLE, now=closed), "contest.closed")
    await refused(ce.start(db, BOB, contest.id, now=closed), "contest.closed")
    resumed = await ce.start(db, ALICE, contest.id, now=closed)
    assert (resumed.id, resumed.state) == (draft.id, EntryState.DRAFT)
    await refused(
        ce.start(db, BOB, contest.id, now=OPENS - timedelta(seconds=1)), "contest.not_open_yet"
    )
    default = await contests.by_code(db, "dlt_platform_contest")  # shipped without windows
    assert default.phase(NOW) is Phase.DRAFT
    await refused(ce.start(db, BOB, default.id, now=NOW), "contest.not_open_yet")
    assert [c.code for c in await contests.list_open(db, NOW)] == ["spring_contest"]
    assert await contests.list_open(db, closed) == []


async def test_a_withdrawn_entry_can_be_taken_up_again(db):
    """Withdrawing keeps the content; the withdrawn entry takes no changes (contest.withdrawn)
    and is no participant; start makes it a draft again at the preview, not submitted."""
    contest = await load(db, pack())
    await people(db, OWNER)
    entry = await complete(db, contest.id)
    await ce.submit(db, OWNER, entry.id, now=NOW)
    gone = await ce.withdraw(db, OWNER, entry.id, now=NOW)
    assert (gone.state, gone.withdrawn_at, gone.step) == (EntryState.WITHDRAWN, NOW, None)
    assert await ce.entries_of(db, contest.id) == []
    await refused(ce.set_title(db, OWNER, entry.id, "x", now=NOW), "contest.withdrawn")
    await refused(ce.submit(db, OWNER, entry.id, now=NOW), "contest.withdrawn")
    back = await ce.start(db, OWNER, contest.id, now=NOW)
    assert (back.id, back.state, back.step, back.title) == (
        entry.id,
        EntryState.DRAFT,
        Step.PREVIEW,
        "My platform",
    )
    assert back.submitted_at is None


async def test_co_authors_join_with_the_team_code(db):
    """Co-authors of other universities join with the team code (typed in lower case with a
    space); the same person again, a fourth author (used up), a wrong code, an author of
    another entry, a single-author contest: each refused with its key. The owner removes a
    co-author, a co-author leaves, the owner cannot be removed, a stranger removes nobody.
    My entries lists the entry for owner and co-authors; the authors' universities form the
    conflict set."""
    contest = await load(db, pack())
    await people(db, OWNER, university=0)
    await people(db, ALICE, university=1)
    await people(db, BOB, CAROL, STRANGER, university=2)
    entry = await complete(db, contest.id)
    typed = f" {entry.team_code[:4].lower()} {entry.team_code[4:].lower()}"
    joined = await ce.join(db, ALICE, typed, now=NOW)
    assert [a.telegram_id for a in joined.authors] == [OWNER, ALICE]
    assert len(joined.university_ids) == 2
    await refused(ce.join(db, ALICE, entry.team_code, now=NOW), "contest.team_already")
    await refused(ce.join(db, BOB, "NOSUCH22", now=NOW), "contest.team_code_wrong")
    await refused(ce.join(db, BOB, "!!", now=NOW), "contest.team_code_wrong")
    await ce.join(db, BOB, entry.team_code, now=NOW)
    error = await refused(ce.join(db, CAROL, entry.team_code, now=NOW), "contest.team_full")
    assert error.values == {"max": 3}
    await refused(ce.start(db, ALICE, contest.id, now=NOW), "contest.author_elsewhere")
    own = await complete(db, contest.id, CAROL)
    await ce.remove_author(db, OWNER, entry.id, await _user_id(db, BOB), now=NOW)
    error = await refused(ce.join(db, CAROL, entry.team_code, now=NOW), "contest.author_elsewhere")
    assert error.values == {"code": own.code}
    with pytest.raises(PermissionDenied):
        await ce.remove_author(db, STRANGER, entry.id, await _user_id(db, ALICE), now=NOW)
    await refused(
        ce.remove_author(db, ALICE, entry.id, await _user_id(db, OWNER), now=NOW),
        "contest.not_yours",
    )
    await refused(
        ce.remove_author(db, OWNER, entry.id, await _user_id(db, OWNER), now=NOW),
        "contest.owner_stays",
    )
    mine = await ce.my_entries(db, ALICE)
    assert [(m.entry.id, m.owner) for m in mine] == [(entry.id, False)]
    left = await ce.remove_author(db, ALICE, entry.id, await _user_id(db, ALICE), now=NOW)
    assert [a.telegram_id for a in left.authors] == [OWNER]
    assert await ce.my_entries(db, ALICE) == []
    await ce.submit(db, OWNER, entry.id, now=NOW)
    await refused(ce.join(db, ALICE, entry.team_code, now=DEADLINE), "contest.closed")
    solo = await load(db, pack("solo_contest", entry={"link": "off", "max_authors": 1}))
    alone = await ce.start(db, STRANGER, solo.id, now=NOW)
    await refused(ce.join(db, ALICE, alone.team_code, now=NOW), "contest.team_not_allowed")


async def _user_id(db, telegram_id: int) -> int:
    from models import User

    async with db() as session:
        return (
            await session.scalars(select(User.id).where(User.telegram_id == telegram_id))
        ).one()


async def test_fields_a_contest_does_not_ask_are_skipped(db):
    """A contest without files and with an optional description and no link: title, then the
    description (skippable), then the preview; a link or a file is refused as out of turn."""
    solo = pack(
        "lean_contest", entry={"description": {"required": False}, "link": "off", "max_authors": 1}
    )
    contest = await load(db, solo)
    assert contest.files.max_count == 0 and not contest.team
    await people(db, OWNER)
    entry = await ce.start(db, OWNER, contest.id, now=NOW)
    entry = await ce.set_title(db, OWNER, entry.id, "Lean", now=NOW)
    entry = await ce.set_description(db, OWNER, entry.id, None, now=NOW)
    assert (entry.step, entry.description, entry.missing) == (Step.PREVIEW, None, ())
    await refused(
        ce.set_link(db, OWNER, entry.id, "https://e.org", now=NOW), "contest.not_this_step"
    )
    await refused(ce.edit(db, OWNER, entry.id, Step.FILES, now=NOW), "contest.not_this_step")
    assert (await ce.submit(db, OWNER, entry.id, now=NOW)).code == entry.code


async def test_the_draft_reminder_goes_once_in_the_day_before_the_deadline(db):
    """Two drafts and a submitted entry: 25 hours before the deadline nothing is due; 23 hours
    before, each draft owner gets one message in their language with a Continue button naming
    their entry, and the contest is marked; another pass sends nothing. A contest whose
    deadline passed while the bot was down is never reminded."""
    contest = await load(db, pack())
    await people(db, OWNER, ALICE, BOB)
    async with db.begin() as session:  # Alice reads Russian
        from models import User

        user = (await session.scalars(select(User).where(User.telegram_id == ALICE))).one()
        user.language = "ru"
    done = await complete(db, contest.id, OWNER)
    await ce.submit(db, OWNER, done.id, now=NOW)
    alice = await ce.start(db, ALICE, contest.id, now=NOW)
    bob = await complete(db, contest.id, BOB)
    assert await ce.remind_drafts(db, I18N, ZONE, now=DEADLINE - timedelta(hours=25)) == []
    at = DEADLINE - timedelta(hours=23)
    (reminded,) = await ce.remind_drafts(db, I18N, ZONE, now=at)
    assert (reminded.contest_id, reminded.reminded) == (contest.id, 2)
    async with db() as session:
        deliveries = (
            await session.scalars(
                select(Delivery)
                .where(Delivery.broadcast_id == reminded.broadcast_id)
                .order_by(Delivery.chat_id)
            )
        ).all()
        broadcast = await session.get(Broadcast, reminded.broadcast_id)
        stored = await session.get(Contest, contest.id)
    assert broadcast is not None and broadcast.audience_ref == str(contest.id)
    assert stored is not None and stored.drafts_reminded_at == at
    assert [d.chat_id for d in deliveries] == [ALICE, BOB]
    texts = [d.payload["text"] for d in deliveries]
    assert "Spring contest (ru)" in texts[0] and "черновик" in texts[0]
    assert "Spring contest" in texts[1] and "still a draft" in texts[1]
    buttons = [d.payload["buttons"][0]["data"] for d in deliveries]
    assert buttons == [EntryResume(alice.id).pack(), EntryResume(bob.id).pack()]
    assert await ce.remind_drafts(db, I18N, ZONE, now=at + timedelta(minutes=5)) == []
    other = await load(db, pack("missed_contest"))
    await people(db, CAROL)
    await ce.start(db, CAROL, other.id, now=NOW)
    assert await ce.remind_drafts(db, I18N, ZONE, now=DEADLINE + timedelta(minutes=1)) == []


async def test_windows_are_set_by_organizers_in_order(db):
    """An organizer opens the shipped contest by setting its windows (state draft -> open);
    times out of order are refused (contest.windows_order); a student may not set them."""
    from bot.services.roles import Role
    from tests.conftest import ADMIN_ID

    admins = frozenset({ADMIN_ID})
    await factories.staff(db, 7_300_000_050, Role.ORGANIZER, admins)
    await people(db, STRANGER)
    default = await contests.by_code(db, "dlt_platform_contest")
    with pytest.raises(InvalidInput) as caught:
        await contests.set_windows(
            db,
            7_300_000_050,
            admins,
            default.id,
            opens_at=NOW,
            deadline_at=NOW,
            late_until=None,
            jury_deadline_at=JURY,
        )
    assert caught.value.key == "contest.windows_order"
    with pytest.raises(PermissionDenied):
        await contests.set_windows(
            db,
            STRANGER,
            admins,
            default.id,
            opens_at=OPENS,
            deadline_at=DEADLINE,
            late_until=None,
            jury_deadline_at=JURY,
        )
    opened = await contests.set_windows(
        db,
        7_300_000_050,
        admins,
        default.id,
        opens_at=OPENS,
        deadline_at=DEADLINE,
        late_until=None,
        jury_deadline_at=JURY,
    )
    assert opened.state is contests.ContestState.OPEN and opened.phase(NOW) is Phase.OPEN
    assert opened.phase(DEADLINE) is Phase.CLOSED  # no late window
