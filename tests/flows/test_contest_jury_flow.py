"""The contest's jury and results in chat, through the emulator: jurors join by the invite link,
review blind with the score buttons, revise until the jury deadline; organizers follow the jury,
give the reviews still missing to jurors who joined late, read the leaderboard and release the
results; authors read their feedback and take their certificate.

The entries are written through the entries' own services (their files uploaded to the emulator
first, so the jurors receive real files back); the full conversation of an entrant is in
tests/flows/test_contest_full_flow.py. Time moves the way the duties see it: the contest's
stored windows are moved into the past and the duties run with `harness.run_jobs()`.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select, update

from bot.callbacks import ContestRelease, ReviewOpen, ReviewScore, ReviewSubmit
from bot.keyboards import LANGUAGE_LABELS
from bot.services import contest as contests
from bot.services import contest_entries as entries
from bot.services.contest_entries import NewFile
from bot.services.universities import list_universities
from models import Contest, ContestCertificate, ContestEntry, Juror, Review, User, utcnow
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import UNIVERSITY_EN

ADMINS = frozenset({ADMIN_ID})
CODE = "dlt_platform_contest"
CONTEST_EN = "The most effective digital educational platform"
ORGANIZER = 6100
AUTHORS = ("Aigerim", "Daniyar", "Saule")  # names no juror may read
CRITERIA_EN = (
    "Pedagogical value",
    "Usability",
    "Interactivity and collaboration",
    "Accessibility",
    "Originality",
)


def _visible(text: str) -> str:
    """A translated HTML text as the person reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def text_of(user, message_id: int) -> str:
    """What one of the bot's messages says now (a card is edited in place)."""
    return next(m.text or "" for m in user.messages if m.message_id == message_id)


async def open_contest(harness):
    """The default contest, open since 10 days, closing tomorrow, the jury for 10 days more."""
    db = harness.app.bot_data.db
    await factories.admin(db, ADMIN_ID, ADMINS)
    contest = await contests.by_code(db, CODE)
    now = utcnow()
    return await contests.set_windows(
        db,
        ADMIN_ID,
        ADMINS,
        contest.id,
        opens_at=now - timedelta(days=10),
        deadline_at=now + timedelta(days=1),
        late_until=None,
        jury_deadline_at=now + timedelta(days=11),
    )


async def author(harness, telegram_id: int, name: str, university: int):
    """An onboarded student in the emulator and the database."""
    user = harness.user(telegram_id, name, "en")
    await factories.student(
        harness.app.bot_data.db, telegram_id, university=university, first_name=name
    )
    return user


async def uploaded(user, name: str, content: bytes, mime: str) -> NewFile:
    """A file the person sent to the bot (kept by the emulator), as an entry stores it."""
    sent = await user.upload(name, content, mime)
    document = sent["message"]["document"]
    return NewFile(
        document["file_id"],
        document["file_name"],
        document["mime_type"],
        document["file_size"],
        document["file_unique_id"],
    )


async def entry(harness, contest_id, owner, title: str, *coauthors) -> str:
    """An entry written and submitted through the entries' services, with two real files."""
    db = harness.app.bot_data.db
    draft = await entries.start(db, owner.user_id, contest_id)
    await entries.set_title(db, owner.user_id, draft.id, title)
    await entries.set_description(
        db, owner.user_id, draft.id, f"{title}: interactive lessons for rural schools."
    )
    await entries.set_link(db, owner.user_id, draft.id, "https://example.org/platform")
    for name in ("slides.pdf", "guide.pdf"):
        new = await uploaded(owner, name, b"%PDF-1.4 " + name.encode(), "application/pdf")
        await entries.add_file(db, owner.user_id, draft.id, new)
    await entries.files_done(db, owner.user_id, draft.id)
    for coauthor in coauthors:
        await entries.join(db, coauthor.user_id, draft.team_code)
    receipt = await entries.submit(db, owner.user_id, draft.id)
    return receipt.code


async def close_submissions(harness, contest_id: int) -> None:
    """The deadline passes: the windows move into the past; the allocation duty runs."""
    now = utcnow()
    async with harness.app.bot_data.db.begin() as session:
        await session.execute(
            update(Contest)
            .where(Contest.id == contest_id)
            .values(deadline_at=now - timedelta(minutes=1))
        )
    await harness.run_jobs()


async def jury_deadline_passes(harness, contest_id: int) -> None:
    async with harness.app.bot_data.db.begin() as session:
        await session.execute(
            update(Contest)
            .where(Contest.id == contest_id)
            .values(jury_deadline_at=utcnow() - timedelta(minutes=1))
        )


async def registered_juror(harness, telegram_id: int, name: str, university: int, code: str):
    """Someone registered already who opens the jury invite link."""
    user = harness.user(telegram_id, name, "en")
    await factories.student(
        harness.app.bot_data.db, telegram_id, university=university, first_name=name
    )
    await user.send(f"/start j-{code}")
    return user


async def review_ids(harness, telegram_id: int) -> dict[str, int]:
    """Entry code -> review id of a juror's reviews."""
    async with harness.app.bot_data.db() as session:
        rows = (
            await session.execute(
                select(ContestEntry.code, Review.id)
                .join(Review, Review.entry_id == ContestEntry.id)
                .join(Juror, Juror.id == Review.juror_id)
                .join(User, User.id == Juror.user_id)
                .where(User.telegram_id == telegram_id)
            )
        ).all()
    return dict(rows)


async def university_names(harness, indexes) -> list[str]:
    """Every name (kk, ru, en) of some universities."""
    found = await list_universities(harness.app.bot_data.db)
    return [name for index in indexes for name in found[index].names.values()]


async def review_through_chat(juror, t, code: str, value: int, comment: str | None) -> None:
    """From the queue: open the entry, score every criterion `value`, comment or skip, submit."""
    await juror.tap(code)
    for _ in CRITERIA_EN:
        await juror.tap(str(value))
    assert _visible(t("contest.card_ask_comment")) in juror.last_text
    if comment is None:
        await juror.tap(t.plain("contest.card_skip_comment"))
    else:
        await juror.send(comment)
    await juror.tap(t.plain("contest.card_submit"))


async def test_a_juror_joins_by_link_reviews_blind_and_revises_until_the_deadline(harness, i18n):
    """Tried: a newcomer opens the jury invite link, is onboarded first and then joined; two
    registered people join the same way. Two entries (a team from universities 1 and 2, a solo
    author from 2) are allocated at the close (each juror told, with My reviews). The newcomer
    opens an entry: title, description, link and both files, blind; a forged score of 11 is
    refused; two criteria scored, then a restart: /jury reopens the review at the third criterion
    with the first two kept; the rest scored, a comment, the preview (80.0 of 100), submitted
    (1 left); revised (Usability 7 -> 5: 76.0, still submitted); another juror's review by a
    forged button refused; submitting an unscored review refused with what is missing; after the
    jury deadline a change is refused and the review reads as closed. No message to any juror
    names an author or an author's university."""
    t = i18n.translator("en")
    contest = await open_contest(harness)
    assert contest.jury_code is not None
    first = await author(harness, 6301, AUTHORS[0], 1)
    second = await author(harness, 6302, AUTHORS[1], 2)
    third = await author(harness, 6303, AUTHORS[2], 2)
    team_code = await entry(harness, contest.id, first, "EduGarden", second)
    solo_code = await entry(harness, contest.id, third, "MathQuest")
    # A newcomer opens the invite link: onboarding first, then the jury.
    newcomer = harness.user(6201, "Bolat", "en")
    await newcomer.send(f"/start j-{contest.jury_code}")
    assert _visible(t("start.link_kept")) in newcomer.texts
    await newcomer.tap(LANGUAGE_LABELS["en"])
    await newcomer.tap(t.plain("onboarding.consent_yes"))
    await newcomer.tap(UNIVERSITY_EN)
    await newcomer.send("Pedagogy, PO-21")
    joined = t("contest.jury_joined", contest=CONTEST_EN, closes="", deadline="")
    assert any(text.startswith(_visible(joined).split("When")[0]) for text in newcomer.texts)
    other = await registered_juror(harness, 6202, "Gulnar", 3, contest.jury_code)
    await registered_juror(harness, 6203, "Yerlan", 4, contest.jury_code)
    assert "You joined the jury" in other.last_text
    # The juror's menu entry and /help paragraph.
    await other.send("/menu")
    assert t.plain("menu.jury") in other.last_buttons
    await other.send("/help")
    assert "/jury — the entries allocated to you" in other.last_text
    assert "/contest_jury" not in other.last_text  # the organizers' paragraph is theirs
    # The close: each juror is told their share.
    await close_submissions(harness, contest.id)
    assert any("2 for you to review" in text for text in newcomer.texts)
    await newcomer.tap(t.plain("contest.jury_open_button"))
    assert "2 pending, 0 submitted" in newcomer.last_text
    reviews = await review_ids(harness, 6201)
    assert set(reviews) == {team_code, solo_code}
    # The entry, blind, with its files.
    before = len(newcomer.messages)
    await newcomer.tap(team_code)
    shown = newcomer.messages[before:]
    assert "EduGarden" in (shown[0].text or "") and "rural schools" in (shown[0].text or "")
    assert "https://example.org/platform" in (shown[0].text or "")
    assert _visible(t("contest.review_blind")) in (shown[0].text or "")
    assert [m.document["file_name"] for m in shown if m.document] == ["slides.pdf", "guide.pdf"]
    assert f"{CRITERIA_EN[0]} (30%)" in newcomer.last_text
    assert [str(v) for v in range(11)] == newcomer.last_buttons[:11]
    card = newcomer.last_message.message_id
    # A forged score out of range.
    await newcomer.tap_data(ReviewScore(reviews[team_code], 0, 11).pack(), card)
    assert newcomer.last_text == _visible(t("contest.score_range", max=10))
    await newcomer.tap("8", message_id=card)
    await newcomer.tap("7", message_id=card)
    # A restart mid-review: the scores are in the review's row.
    await harness.restart()
    await newcomer.send("/jury")
    assert f"{team_code} · EduGarden (2/5)" in " ".join(newcomer.last_buttons)
    await newcomer.tap(team_code)
    assert "8 of 10" in newcomer.last_text and "7 of 10" in newcomer.last_text
    assert _visible(t("contest.card_ask", criterion=CRITERIA_EN[2], max=10)) in newcomer.last_text
    for value in ("9", "6", "10"):
        await newcomer.tap(value)
    assert _visible(t("contest.card_ask_comment")) in newcomer.last_text
    await newcomer.send("Clear structure; add more group tasks.")
    assert "Weighted score: 80.0 of 100" in newcomer.last_text
    await newcomer.tap(t.plain("contest.card_submit"))
    assert newcomer.last_text == _visible(
        t("contest.review_submitted_more", code=team_code, count=1)
    )
    # Revised while the jury is open: it stays submitted, changed in place.
    card = newcomer.messages[-2].message_id  # the preview, above the submitted message
    await newcomer.tap(t.plain("contest.card_change", criterion=CRITERIA_EN[1]))
    assert _visible(t("contest.card_ask", criterion=CRITERIA_EN[1], max=10)) in text_of(
        newcomer, card
    )
    await newcomer.tap("5")
    assert "Weighted score: 76.0 of 100" in text_of(newcomer, card)
    assert "✅ submitted" in text_of(newcomer, card)
    async with harness.app.bot_data.db() as session:
        stored = await session.get(Review, reviews[team_code])
        assert stored is not None and stored.state == "submitted"
        assert stored.scores["usability"] == 5 and stored.comment.startswith("Clear structure")
    # Someone else's review, by a forged button: refused.
    theirs = await review_ids(harness, 6202)
    await newcomer.tap_data(ReviewOpen(theirs[solo_code]).pack(), card)
    assert newcomer.last_text == _visible(t("contest.review_not_found"))
    # Submitting with nothing scored: refused with what is missing.
    await other.tap_data(ReviewSubmit(theirs[solo_code]).pack(), other.last_message.message_id)
    assert other.last_text == _visible(t("contest.review_incomplete", count=5))
    # The jury deadline passes: nothing changes any more.
    await jury_deadline_passes(harness, contest.id)
    await newcomer.tap(t.plain("contest.card_change", criterion=CRITERIA_EN[4]))
    assert newcomer.last_text == _visible(t("contest.jury_closed"))
    await newcomer.send("/jury")
    assert _visible(t("contest.jury_queue_closed")) in newcomer.last_text
    await newcomer.tap(team_code)
    assert _visible(t("contest.card_closed")) in newcomer.last_text
    assert "0" not in newcomer.last_buttons
    # Blind: no author's name or university in anything the jurors received.
    hidden = [*AUTHORS, *await university_names(harness, [1, 2])]
    for juror in (newcomer, other):
        for text in juror.texts:
            for secret in hidden:
                assert secret not in text, f"{secret!r} shown to a juror: {text!r}"


async def test_late_jurors_take_the_missing_reviews_and_the_results_are_released(harness, i18n):
    """Tried: three entries close with nobody on the jury: the organizer's report and
    /contest_jury say so (9 reviews missing, the invite link). Three people join after the
    allocation (told so); the organizer gives out the missing reviews (each juror told) and the
    jurors review through the buttons (two entries tie at 70.0, one has 30.0). A student's forged
    Release is refused. The leaderboard: ties as ties (1= twice, then 3), 'of 100' with one
    decimal, the agreement with its CI and reading, and the chart; Release asks, then announces
    the winners to authors and jurors. An author opens My results: place 3 of 3, 30.0 of 100,
    the mean per criterion, each juror's scores and comment, no juror named. A winner takes the
    winner's diploma (name typed, shown back, confirmed; the PDF), and /verify finds it."""
    t = i18n.translator("en")
    contest = await open_contest(harness)
    assert contest.jury_code is not None
    db = harness.app.bot_data.db
    organizer = harness.user(ORGANIZER, "Olga", "en")
    await factories.organizer(db, ORGANIZER, ADMINS, first_name="Olga")
    first = await author(harness, 6401, AUTHORS[0], 1)
    second = await author(harness, 6402, AUTHORS[1], 2)
    third = await author(harness, 6403, AUTHORS[2], 1)
    codes = [
        await entry(harness, contest.id, first, "EduGarden"),
        await entry(harness, contest.id, second, "MathQuest"),
        await entry(harness, contest.id, third, "ChemLab"),
    ]
    await close_submissions(harness, contest.id)
    assert any("there are no jurors" in text for text in organizer.texts)
    await organizer.send("/contest_jury")
    assert _visible(t("contest.progress_no_jurors")) in organizer.last_text
    assert _visible(t("contest.progress_missing", count=9)) in organizer.last_text
    assert f"start=j-{contest.jury_code}" in organizer.last_text
    names = ("Alma", "Berik", "Dina")
    jurors = [
        await registered_juror(harness, 6501 + n, name, n + 3 if n else 0, contest.jury_code)
        for n, name in enumerate(names)
    ]
    assert "already allocated" in jurors[0].last_text
    await organizer.tap(t.plain("contest.reallocate_button"))
    assert _visible(t("contest.reallocated", reviews=9, jurors=3)) in organizer.texts
    assert "✅" not in organizer.last_text and "0 of 3 submitted" in organizer.last_text
    await harness.app.bot_data.broadcaster.idle()
    scores = {codes[0]: (8, 6, 7), codes[1]: (7, 7, 7), codes[2]: (3, 4, 2)}
    for n, juror in enumerate(jurors):
        assert any("3 more entries" in text for text in juror.texts)
        await juror.tap(t.plain("contest.jury_open_button"))
        for code in codes:
            comment = f"Comment {n + 1} on {code}" if n != 1 else None
            await review_through_chat(juror, t, code, scores[code][n], comment)
        assert juror.last_text.startswith("✅") and "last one" in juror.last_text
    # A student cannot release.
    await first.tap_data(ContestRelease(contest.id, True).pack(), first.last_message.message_id)
    assert first.last_toast == t.plain("errors.not_allowed")
    # The organizers' /help paragraph and menu entry; the leaderboard from the panel.
    await organizer.send("/help")
    assert "/contest_jury — the jury's progress per juror" in organizer.last_text
    await organizer.send("/menu")
    await organizer.tap(t.plain("menu.contest_results"))
    assert organizer.last_text.startswith(f"🏆 {CONTEST_EN}")
    await organizer.tap(t.plain("contest.board_button"))
    board = next(text for text in reversed(organizer.texts) if "Leaderboard of" in text)
    assert "Every allocated review is in" in board
    assert f"1= {codes[0]} «EduGarden» — 70.0 of 100 (3 reviews)" in board
    assert f"1= {codes[1]} «MathQuest» — 70.0 of 100 (3 reviews)" in board
    assert f"3. {codes[2]} «ChemLab» — 30.0 of 100 (3 reviews)" in board
    assert "ICC(1,k) = " in board and "95% CI" in board and "Reading: " in board
    assert organizer.last_message.photo  # the chart
    # Release.
    await organizer.tap(t.plain("contest.release_button"))
    assert _visible(t("contest.release_ask", contest=CONTEST_EN)) in organizer.last_text
    await organizer.tap(t.plain("contest.release_confirm"))
    assert "are released" in organizer.last_text
    await harness.app.bot_data.broadcaster.idle()
    for person in (first, second, third, *jurors):
        assert any(text.startswith(f"🏆 Results of «{CONTEST_EN}»") for text in person.texts)
    assert t.plain("contest.results_button") in third.last_buttons
    announced = third.last_text
    assert "1. EduGarden — Aigerim (70.0 of 100)" in announced
    assert "1. MathQuest — Daniyar (70.0 of 100)" in announced
    assert "3. ChemLab — Saule (30.0 of 100)" in announced  # places 1 to 3 win
    # An author's own results.
    await third.tap(t.plain("contest.results_button"))
    mine = third.last_text
    assert "Place 3 of 3" in mine and "Score: 30.0 of 100" in mine
    assert f"{CRITERIA_EN[0]}: 3.0 of 10" in mine
    assert "Juror 1: " in mine and "Juror 3: " in mine and f"Comment 3 on {codes[2]}" in mine
    for name in names:
        assert name not in mine
    # A winner's diploma, and /verify.
    await first.send("/contest_results")
    assert "a winner" in first.last_text
    await first.tap(t.plain("contest.cert_button_winner"))
    assert first.last_text == _visible(t("certificates.ask_name", min=2, max=120))
    await first.send("  Aigerim   Nurlanovna ")
    assert first.last_text.endswith("Aigerim Nurlanovna")
    await first.tap(t.plain("certificates.confirm"))
    assert first.last_message.document["file_name"].startswith("certificate-")
    async with db() as session:
        issued = await session.scalar(select(ContestCertificate))
    assert issued is not None and issued.kind == "winner" and issued.rank == 1
    await second.send(f"/verify {issued.code}")
    assert "Aigerim Nurlanovna" in second.last_text and "winner, place 1" in second.last_text
    # After the release a juror can no longer change a review.
    await jurors[0].send("/jury")
    assert _visible(t("contest.jury_queue_closed")) in jurors[0].last_text


async def test_a_criterion_scored_up_to_20_is_typed(harness, i18n):
    """Tried: the first criterion's maximum raised to 20: the card asks for the score typed (no
    buttons); 'twelve', 25 and -3 are refused with the range and the bot keeps waiting; 18 is
    taken and the next criterion comes with its buttons; /cancel in the middle of a typed score
    and a restart lose nothing: opening the review again asks the same criterion."""
    t = i18n.translator("en")
    contest = await open_contest(harness)
    assert contest.jury_code is not None
    async with harness.app.bot_data.db.begin() as session:
        stored = await session.get(Contest, contest.id)
        assert stored is not None
        definition = dict(stored.definition)
        criteria = [dict(c) for c in definition["criteria"]]
        criteria[0]["max"] = 20
        stored.definition = {**definition, "criteria": criteria}
    owner = await author(harness, 6601, AUTHORS[0], 1)
    code = await entry(harness, contest.id, owner, "EduGarden")
    juror = await registered_juror(harness, 6701, "Alma", 0, contest.jury_code)
    await close_submissions(harness, contest.id)
    await juror.tap(t.plain("contest.jury_open_button"))
    await juror.tap(code)
    asked = _visible(t("contest.card_ask_typed", criterion=CRITERIA_EN[0], max=20))
    assert asked in juror.last_text
    assert juror.last_buttons == [t.plain("contest.card_back")]
    for wrong in ("twelve", "25", "-3"):
        await juror.send(wrong)
        assert juror.last_text == _visible(t("contest.score_range", max=20))
    await juror.send("/cancel")
    await harness.restart()
    await juror.send("/jury")
    await juror.tap(code)
    assert asked in juror.last_text
    await juror.send("18")
    assert "18 of 20" in juror.last_text
    assert _visible(t("contest.card_ask", criterion=CRITERIA_EN[1], max=10)) in juror.last_text
    assert "10" in juror.last_buttons
