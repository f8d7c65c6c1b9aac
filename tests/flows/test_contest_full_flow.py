"""The whole contest of issue 13 in one conversation, through the emulator: a team submits with
files and edits its entry, the deadline passes, the jurors review blind, the organizer releases
the results, the authors read their feedback, and the organizer downloads the entries ZIP and
the entries CSV.

Every step is what a person does in chat (/contest, the team link, the jury invite link, /jury,
/contest_results, /export); only the windows are set through the service, and the clock moves
the way the duties see it: the contest's stored deadline is moved into the past and the duties
run with `harness.run_jobs()`. Nothing waits for a real timer.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from datetime import timedelta

from sqlalchemy import select, update

from bot.services import contest as contests
from bot.services.universities import list_universities
from models import Contest, ContestEntry, utcnow
from tests import factories
from tests.conftest import ADMIN_ID

ADMINS = frozenset({ADMIN_ID})
CODE = "dlt_platform_contest"
CONTEST_EN = "The most effective digital educational platform"
SLIDES = b"%PDF-1.4 the team's slides " * 20
PHOTO = b"\x89PNG\r\n\x1a\n" + b"0" * 64
GUIDE = b"%PDF-1.4 the solo guide"
TEAM = ("Aruzhan", "Bekzat")  # the team's owner (university 1) and co-author (university 2)
SOLO = "Dariga"  # a solo author (university 1)
JURORS = ("Alma", "Berik", "Dina")  # universities 0, 3 and 4: no conflict with any author


def _visible(text: str) -> str:
    """A translated HTML text as the person reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def _person(harness, telegram_id: int, name: str, university: int, language: str = "en"):
    user = harness.user(telegram_id, name, language)
    await factories.student(
        harness.app.bot_data.db,
        telegram_id,
        university=university,
        first_name=name,
        language=language,
    )
    return user


async def _entry_of(harness, title_part: str) -> ContestEntry:
    async with harness.app.bot_data.db() as session:
        found = await session.scalar(
            select(ContestEntry).where(ContestEntry.title.contains(title_part))
        )
        assert found is not None
        return found


async def _download(harness, document) -> bytes:
    file = await harness.app.bot.get_file(document["file_id"])
    return bytes(await file.download_as_bytearray())


async def _submit(user, t, title: str, description: str, link: str, files) -> None:
    """/contest → Submit an entry → every step → the preview → Submit."""
    await user.send("/contest")
    await user.tap(t.plain("contest.start_button"))
    await user.send(title)
    await user.send(description)
    await user.send(link)
    for name, content, mime in files:
        if mime == "photo":
            await user.upload_photo(content)
        else:
            await user.upload(name, content, mime)
    await user.tap(t.plain("contest.files_done_button"))
    await user.tap(t.plain("contest.submit_button"))


async def _review(juror, t, code: str, value: int, comment: str) -> None:
    """Open an entry from the queue, score every criterion `value`, comment, submit."""
    await juror.tap(code)
    for _ in range(5):
        await juror.tap(str(value))
    await juror.send(comment)
    await juror.tap(t.plain("contest.card_submit"))


async def test_a_contest_from_the_entries_to_the_results_and_the_downloads(harness, i18n):
    """Tried, end to end: the windows are set (open for a week); a team owner submits through
    /contest with a PDF and a photo, shares the team link and a co-author of another university
    joins with it; the owner edits the submitted title; a solo author submits too. Three jurors
    join with the invite link from /contest_jury. The deadline passes: the owner can no longer
    edit ('closed'), the allocation gives each juror both entries and tells them. The jurors
    review blind (no author's name or university in anything they receive, the files sent
    again) with the score buttons and a comment. The organizer reads the leaderboard (the team
    first, 80.0 of 100; the solo entry 50.0), releases the results, and the authors and jurors
    are told; the owner and the co-author read their place, score and the jurors' comments (no
    juror named). The organizer downloads the entries CSV (pseudonymous authors, the rank and
    final score) and the entries ZIP (a folder per entry code with its files and manifest.csv).
    """
    t = i18n.translator("en")
    db = harness.app.bot_data.db
    await factories.admin(db, ADMIN_ID, ADMINS)
    organizer = harness.user(8001, "Olga", "en")
    await factories.organizer(db, 8001, ADMINS, first_name="Olga")
    contest = await contests.by_code(db, CODE)
    now = utcnow()
    await contests.set_windows(
        db,
        8001,
        ADMINS,
        contest.id,
        opens_at=now - timedelta(hours=1),
        deadline_at=now + timedelta(days=7),
        late_until=None,
        jury_deadline_at=now + timedelta(days=21),
    )

    # A team submits with files; a co-author of another university joins with the team link.
    owner = await _person(harness, 8101, TEAM[0], 1)
    coauthor = await _person(harness, 8102, TEAM[1], 2, language="ru")
    await _submit(
        owner,
        t,
        "Qazaq Math Lab",
        "Interactive algebra exercises for grades 7-9, with instant feedback.",
        "https://mathlab.example.kz",
        [("slides.pdf", SLIDES, "application/pdf"), ("photo.jpg", PHOTO, "photo")],
    )
    team = await _entry_of(harness, "Qazaq Math Lab")
    assert team.state == "submitted" and team.code in owner.last_text
    link = next(
        word
        for text in owner.texts
        for word in text.split()
        if f"start=t-{team.team_code}" in word
    )
    await coauthor.open_link(link)
    assert any(team.code in text for text in coauthor.texts)
    # The owner edits the submitted entry's title.
    await owner.send("/contest")
    await owner.tap(t.plain("contest.my_entry_button"))
    await owner.tap(t.plain("contest.edit_title_button"))
    await owner.send("Qazaq Math Lab 2.0")
    assert "Qazaq Math Lab 2.0" in owner.last_text
    solo = await _person(harness, 8103, SOLO, 1)
    await _submit(
        solo,
        t,
        "ChemQuest",
        "Virtual chemistry experiments for schools without a laboratory.",
        "https://chemquest.example.kz",
        [("guide.pdf", GUIDE, "application/pdf")],
    )
    single = await _entry_of(harness, "ChemQuest")
    assert single.state == "submitted"

    # Jurors join with the invite link the organizer finds in /contest_jury.
    await organizer.send("/contest_jury")
    invite = next(w for w in organizer.last_text.split() if "start=j-" in w)
    jurors = []
    for n, (name, university) in enumerate(zip(JURORS, (0, 3, 4), strict=True)):
        juror = await _person(harness, 8201 + n, name, university)
        await juror.open_link(invite)
        assert "You joined the jury" in juror.last_text
        jurors.append(juror)

    # The deadline passes: entries are closed to changes, the allocation tells each juror.
    async with db.begin() as session:
        await session.execute(
            update(Contest)
            .where(Contest.id == contest.id)
            .values(opens_at=now - timedelta(days=8), deadline_at=utcnow() - timedelta(minutes=1))
        )
    await owner.send("/contest")
    await owner.tap(t.plain("contest.my_entry_button"))
    assert t.plain("contest.edit_title_button") not in owner.last_buttons
    await harness.run_jobs()
    for juror in jurors:
        assert any("2 for you to review" in text for text in juror.texts)

    # The jurors review blind.
    values = {team.code: (9, 8, 7), single.code: (5, 4, 6)}
    for n, juror in enumerate(jurors):
        await juror.tap(t.plain("contest.jury_open_button"))
        before = len(juror.messages)
        await juror.tap(team.code)
        files = [m for m in juror.messages[before:] if m.document or m.photo]
        assert len(files) == 2  # the PDF and the photo, sent again
        await _review(juror, t, team.code, values[team.code][n], f"Team: note {n + 1}")
        await juror.tap(t.plain("contest.jury_open_button"))
        await _review(juror, t, single.code, values[single.code][n], f"Solo: note {n + 1}")
    universities = await list_universities(db)
    hidden = [*TEAM, SOLO, *(name for i in (1, 2) for name in universities[i].names.values())]
    for juror in jurors:
        for text in juror.texts:
            for secret in hidden:
                assert secret not in text, f"{secret!r} shown to a juror: {text!r}"

    # The organizer reads the leaderboard and releases the results.
    await organizer.send("/contest_results")
    await organizer.tap(t.plain("contest.board_button"))
    board = next(text for text in reversed(organizer.texts) if "Leaderboard of" in text)
    assert f"1. {team.code} «Qazaq Math Lab 2.0» — 80.0 of 100 (3 reviews)" in board
    assert f"2. {single.code} «ChemQuest» — 50.0 of 100 (3 reviews)" in board
    assert organizer.last_message.photo
    await organizer.tap(t.plain("contest.release_button"))
    await organizer.tap(t.plain("contest.release_confirm"))
    await harness.app.bot_data.broadcaster.idle()
    for person in (owner, coauthor, solo, *jurors):
        assert any(text.startswith("🏆") and "Qazaq Math Lab 2.0" in text for text in person.texts)

    # The authors read their feedback.
    await owner.tap(t.plain("contest.results_button"))
    mine = owner.last_text
    assert "Place 1 of 2" in mine and "Score: 80.0 of 100" in mine
    assert "Team: note 1" in mine and "Team: note 3" in mine and "Solo: note" not in mine
    for name in JURORS:
        assert name not in mine
    ru = i18n.translator("ru")
    await coauthor.tap(ru.plain("contest.results_button"))
    assert "Место 1 из 2" in coauthor.last_text and "80,0 из 100" in coauthor.last_text

    # The organizer downloads the entries CSV and the entries ZIP.
    await organizer.send("/export")
    await organizer.tap(t.plain("exports.field.dataset"))
    await organizer.tap(t.plain("exports.dataset.contest_entries"))
    await organizer.tap(t.plain("exports.field.format"))
    await organizer.tap("CSV")
    await organizer.tap(t.plain("exports.go"))
    (table,) = [
        m.document
        for m in organizer.messages
        if m.document and m.document["file_name"] == "ortaq-contest_entries.csv"
    ]
    rows = {
        r["entry_code"]: r
        for r in csv.DictReader(io.StringIO((await _download(harness, table)).decode("utf-8-sig")))
    }
    assert (rows[team.code]["rank"], rows[single.code]["rank"]) == ("1", "2")
    assert float(rows[team.code]["score"]) == 80.0
    assert TEAM[0] not in str(rows) and "8101" not in str(rows)  # pseudonymous authors
    await organizer.send("/export")
    await organizer.tap(t.plain("exports.field.dataset"))
    await organizer.tap(t.plain("exports.dataset.contest_entries"))
    await organizer.tap(t.plain("exports.bundle.button"))
    await organizer.tap(CONTEST_EN)
    (bundle,) = [
        m.document
        for m in organizer.messages
        if m.document and m.document["file_name"].endswith(".zip")
    ]
    archive = zipfile.ZipFile(io.BytesIO(await _download(harness, bundle)))
    assert archive.read(f"{team.code}/slides.pdf") == SLIDES
    assert archive.read(f"{single.code}/guide.pdf") == GUIDE
    assert {name.split("/")[0] for name in archive.namelist()} == {
        team.code,
        single.code,
        "manifest.csv",
    }
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    assert len(manifest) == 3 and {r["status"] for r in manifest} == {"ok"}
