"""The contest for entrants through the emulator: /contest, the submission conversation, the
receipt, edits and withdrawal, teams, restarts, and the deadline passing.

The default contest (`content/contests/dlt_platform_contest.yaml`: a link required, 1 to 5
files of pdf, docx, pptx, mp4, zip, png or jpg, teams of up to 3) is loaded in every test
database; an organizer sets its windows in /contest_setup. The deadline "passes" the way the
services see it: the contest's stored windows are moved into the past, as the clock would have
moved; no test waits.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.callbacks import EntryEdit, EntryField, EntrySubmit, EntryWithdraw
from bot.services.event_times import show_when
from models import Contest, ContestEntry, EntryAuthor, EntryFile
from tests import factories
from tests.conftest import ADMIN_ID

ADMINS = frozenset({ADMIN_ID})
ZONE = ZoneInfo("Asia/Almaty")  # the tests' TIMEZONE
CODE = "dlt_platform_contest"
TITLE_EN = "The most effective digital educational platform"
ENTRY_TITLE = "Qazaq Math Lab"
DESCRIPTION = "Interactive algebra exercises for grades 7-9, with instant feedback in Kazakh."
LINK = "https://mathlab.example.kz"
PDF = b"%PDF-1.4 presentation"
MB = 1024 * 1024


def _visible(text: str) -> str:
    """A translated HTML text as the person reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _typed(moment: datetime) -> str:
    """A moment as an organizer types it, in the bot's zone."""
    return moment.astimezone(ZONE).strftime("%d.%m.%Y %H:%M")


async def _contest(harness) -> Contest:
    async with harness.app.bot_data.db() as session:
        contest = await session.scalar(select(Contest).where(Contest.code == CODE))
        assert contest is not None
        return contest


async def _entry(harness, owner_telegram_id: int) -> ContestEntry:
    async with harness.app.bot_data.db() as session:
        entries = (await session.scalars(select(ContestEntry))).all()
        for entry in entries:
            owner = await session.scalar(
                select(EntryAuthor).where(EntryAuthor.entry_id == entry.id, EntryAuthor.owner)
            )
            assert owner is not None
            from models import User

            user = await session.get(User, owner.user_id)
            if user is not None and user.telegram_id == owner_telegram_id:
                return entry
    raise AssertionError("no entry of that owner")


async def _organizer_sets_windows(harness, t, *, late: bool = True) -> tuple[datetime, ...]:
    """An organizer opens the default contest in /contest_setup and sets its four dates."""
    organizer = harness.user(4001, "Org", "en")
    await factories.organizer(harness.app.bot_data.db, 4001, ADMINS, first_name="Org")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    opens, deadline = now - timedelta(hours=1), now + timedelta(days=7)
    late_until, jury = deadline + timedelta(days=2), deadline + timedelta(days=20)
    await organizer.send("/contest_setup")
    await organizer.tap(TITLE_EN)
    await organizer.tap(t.plain("contest.setup_dates_button"))
    await organizer.tap(t.plain("contest.setup_opens_button"))
    await organizer.send(_typed(opens))
    await organizer.tap(t.plain("contest.setup_deadline_button"))
    await organizer.send(_typed(deadline))
    if late:
        await organizer.tap(t.plain("contest.setup_late_button"))
        await organizer.send(_typed(late_until))
    await organizer.tap(t.plain("contest.setup_jury_button"))
    await organizer.send(_typed(jury))
    await organizer.tap(t.plain("contest.setup_save_button"))
    contest = await _contest(harness)
    assert contest.deadline_at == deadline
    return opens, deadline, late_until, jury


async def _move_deadline(harness, *, after_deadline: bool, closed: bool = False) -> None:
    """The clock moves on: the deadline has passed (and, with `closed`, the late cut-off)."""
    now = datetime.now(UTC)
    async with harness.app.bot_data.db.begin() as session:
        contest = await session.scalar(select(Contest).where(Contest.code == CODE))
        assert contest is not None
        if after_deadline:
            contest.opens_at = now - timedelta(days=8)
            contest.deadline_at = now - timedelta(hours=1)
            contest.late_until = None if closed else now + timedelta(days=1)
            contest.jury_deadline_at = now + timedelta(days=10)


async def test_a_team_submits_with_files_edits_and_the_deadline_closes_it(harness, i18n):
    """An organizer sets the windows in /contest_setup; a student opens /contest (rules and
    dates with the zone named), starts an entry and goes through every step: an empty title and
    an invalid link refused with their message while the step keeps waiting; files: a wrong
    type, a file over 20 MB (with why) and a sixth file refused, a photo and a document kept;
    a restart in the middle of the files keeps the draft and its step; /cancel, then /contest
    → Continue resumes at the files; the preview, Submit → the receipt with the entry code;
    the owner shares the team code link; a co-author of another university joins with it, a
    third joins by typing the code, a fourth is told the team is full and a wrong code is
    explained; the owner edits the title of the submitted entry; a forged Edit on someone
    else's entry is refused; the deadline passes: the owner's entry can no longer be changed
    ("closed"), a late draft of another student is submitted and marked late in its receipt,
    and after the late cut-off a draft can no longer be submitted.
    """
    t = i18n.translator("en")
    db = harness.app.bot_data.db
    _opens, deadline, _late_until, _ = await _organizer_sets_windows(harness, t)
    owner = harness.user(4101, "Aru", "en")
    await factories.student(db, 4101, first_name="Aru", university=0)
    await owner.send("/contest")
    card = owner.last_text
    assert TITLE_EN in card and "Asia/Almaty" in card
    assert show_when(deadline, ZONE, "en") in card
    assert "A national online contest for future teachers" in card
    await owner.tap(t.plain("contest.start_button"))
    assert _visible(t("contest.ask_title", max=200)) in owner.last_text
    # The title: empty is refused, the step keeps waiting.
    await owner.send("   ")
    assert owner.last_text == _visible(t("contest.title_empty"))
    await owner.send(ENTRY_TITLE)
    assert _visible(t("contest.step_of", number=2, total=4)) in owner.last_text
    await owner.send(DESCRIPTION)
    assert _visible(t("contest.ask_link")) in owner.last_text
    await owner.send("not a link")
    assert owner.last_text == _visible(t("contest.link_invalid"))
    await owner.send(LINK)
    assert "20 MB" in owner.last_text and "cannot download" in owner.last_text
    # Files: a wrong type, one too large (with why), then a photo and a pdf.
    await owner.upload("notes.txt", b"plain text", "text/plain")
    assert owner.last_text == _visible(
        t("contest.file_type", name="notes.txt", types="pdf, docx, pptx, mp4, zip, png, jpg")
    )
    big = harness.emulator.post_document(4101, "demo.mp4", b"x", "video/mp4", enqueue=False)
    big["message"]["document"]["file_size"] = 21 * MB
    await harness.deliver(big)
    assert _visible(t("contest.file_too_large", name="demo.mp4", max=20)) in owner.texts[-2]
    assert owner.last_text == _visible(t("contest.files_why_limit"))
    await owner.upload_photo(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    assert "(1 of at most 5)" in owner.last_text
    # A restart in the middle: the draft and its step are kept.
    await harness.restart()
    db = harness.app.bot_data.db  # the new process's engine (the old one is disposed)
    await owner.upload("slides.pdf", PDF, "application/pdf")
    assert "«slides.pdf» added (2 of at most 5)" in owner.last_text
    # /cancel, then /contest → Continue: back at the files.
    await owner.send("/cancel")
    await owner.send("/contest")
    await owner.tap(t.plain("contest.continue_button"))
    assert "slides.pdf" in owner.last_text and t.plain("contest.files_done_button") in (
        owner.last_buttons
    )
    for n in range(3):
        await owner.upload(f"extra{n}.pdf", PDF + bytes([n]), "application/pdf")
    await owner.upload("sixth.pdf", PDF + b"6", "application/pdf")
    assert owner.last_text == _visible(t("contest.too_many_files", max=5))
    await owner.tap(t.plain("contest.files_done_button"))
    preview = owner.last_text
    assert ENTRY_TITLE in preview and LINK in preview and "slides.pdf" in preview
    await owner.tap(t.plain("contest.submit_button"))
    entry = await _entry(harness, 4101)
    assert entry.state == "submitted" and not entry.late
    receipt = owner.last_text
    assert entry.code in receipt and "submitted" in receipt
    assert f"start=t-{entry.team_code}" in receipt
    # Co-authors: one by the link (another university), one typing the code; the team is full.
    co1 = harness.user(4102, "Bek", "ru")
    await factories.student(db, 4102, first_name="Bek", university=1, language="ru")
    await co1.send(f"/start t-{entry.team_code}")
    ru = i18n.translator("ru")
    assert any(entry.code in text and "соавтор" in text for text in co1.texts)
    co2 = harness.user(4103, "Dana", "en")
    await factories.student(db, 4103, first_name="Dana", university=0)
    await co2.send("/contest")
    await co2.tap(t.plain("contest.join_button"))
    await co2.send("WRONG123")
    assert co2.last_text == _visible(t("contest.team_code_wrong"))
    await co2.send(entry.team_code.lower())
    assert any(f"entry {entry.code}" in text for text in co2.texts)
    co3 = harness.user(4104, "Erlan", "en")
    await factories.student(db, 4104, first_name="Erlan", university=0)
    await co3.send(f"/start t-{entry.team_code}")
    assert co3.last_text == _visible(t("contest.team_full", max=3))
    async with db() as session:
        authors = (
            await session.scalars(select(EntryAuthor).where(EntryAuthor.entry_id == entry.id))
        ).all()
    assert len(authors) == 3
    # The owner edits the submitted entry's title; a co-author cannot.
    await owner.send("/contest")
    await owner.tap(t.plain("contest.my_entry_button"))
    assert "Bek" in owner.last_text and "Dana" in owner.last_text
    await owner.tap(t.plain("contest.edit_title_button"))
    await owner.send("Qazaq Math Lab 2.0")
    assert "Qazaq Math Lab 2.0" in owner.last_text
    assert ru.plain("contest.edit_title_button") not in co1.last_buttons
    # A forged Edit on the owner's entry, pressed by a co-author: refused.
    await co1.tap_data(EntryEdit(entry.id, EntryField.TITLE).pack(), co1.last_message.message_id)
    assert co1.last_text == _visible(ru("contest.not_yours"))
    # Another student keeps a draft; the deadline passes.
    late = harness.user(4105, "Gul", "en")
    await factories.student(db, 4105, first_name="Gul", university=0)
    await late.send("/contest")
    await late.tap(t.plain("contest.start_button"))
    await late.send("Late platform")
    await late.send("A platform finished at the last minute.")
    await late.send("https://late.example.org")
    await late.upload("late.pdf", PDF + b"late", "application/pdf")
    await late.tap(t.plain("contest.files_done_button"))
    await _move_deadline(harness, after_deadline=True)
    # The owner's Edit and Withdraw: closed.
    await owner.tap_data(EntryWithdraw(entry.id, True).pack(), owner.last_message.message_id)
    assert owner.last_text == _visible(t("contest.closed"))
    await owner.send("/contest")
    assert _visible(t("contest.phase_late", late="")).split("until")[0] in owner.last_text
    await owner.tap(t.plain("contest.my_entry_button"))
    assert _visible(t("contest.entry_closed")) in owner.last_text
    assert t.plain("contest.edit_title_button") not in owner.last_buttons
    # The late draft is submitted and marked late.
    await late.tap(t.plain("contest.submit_button"))
    assert _visible(t("contest.receipt_late")) in late.last_text
    assert (await _entry(harness, 4105)).late
    # After the late cut-off: nothing is accepted; the contest shows closed to its authors.
    third = harness.user(4106, "Nur", "en")
    await factories.student(db, 4106, first_name="Nur", university=0)
    await _move_deadline(harness, after_deadline=True, closed=True)
    await third.send("/contest")
    assert third.last_text == _visible(t("contest.none_open"))
    await owner.send("/contest")
    assert _visible(t("contest.phase_closed")) in owner.last_text
    assert t.plain("contest.start_button") not in owner.last_buttons
    await third.tap_data(EntrySubmit(entry.id).pack(), third.last_message.message_id)
    assert third.last_text == _visible(t("contest.not_yours"))
    async with db() as session:
        files = (
            await session.scalars(select(EntryFile).where(EntryFile.entry_id == entry.id))
        ).all()
    assert len(files) == 5
