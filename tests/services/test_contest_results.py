"""A contest's results on a real database (bot/services/contest_results.py): the leaderboard with
ties and agreement, the release announced to participants and jurors, authors' own feedback,
participation and winner's certificates found by /verify (chat and CLI)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.__main__ import verify_certificate
from bot.callbacks import ContestMyResults
from bot.services import InvalidInput, NotFound, PermissionDenied, certificates
from bot.services import contest_jury as jury
from bot.services import contest_results as results
from bot.services.contest_results import ChartLabels, Kind
from handlers.certificates import verified_text
from models import Broadcast, Contest, Delivery
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
    review_ids,
    submitted_entry,
)

PNG = b"\x89PNG\r\n\x1a\n"
NOW = AFTER_CLOSE + timedelta(days=1)
# What each juror gives every criterion of each entry: A 90, B 80, C 80 (a tie), D 50/60/70.
PLAN = {"A": (9, 9, 9), "B": (8, 8, 8), "C": (8, 8, 8), "D": (5, 6, 7)}


async def judged(db, *, complete: bool = True, standardise: bool = False, feedback: bool = True):
    """Four entries A-D (authors from universities 0 and 1; A a team of two), three jurors from
    2, 3 and 4 who each review all four (3 reviews per entry), scored as PLAN says, with a
    comment each; with `complete` False, juror 3 leaves D pending."""
    contest = await open_contest(db)
    if standardise or not feedback:
        async with db.begin() as session:
            await session.execute(
                update(Contest).values(standardise=standardise, show_feedback=feedback)
            )
    people = await authors(db, 5, [0, 1])
    entry = {
        "A": await submitted_entry(db, contest.id, people[0], people[4], title="Alpha"),
        "B": await submitted_entry(db, contest.id, people[1], title="Beta"),
        "C": await submitted_entry(db, contest.id, people[2], title="Gamma"),
        "D": await submitted_entry(db, contest.id, people[3], title="Delta"),
    }
    judges = await jurors(db, contest, [2, 3, 4])
    await allocate(db)
    await factories.organizer(db, ORGANIZER, ADMINS)
    names = {v: k for k, v in entry.items()}
    for j, judge in enumerate(judges):
        for review_id in await review_ids(db, judge):
            screen = await jury.open_review(db, judge, review_id, now=NOW)
            letter = names[screen.entry_id]
            if letter == "D" and j == 2 and not complete:
                continue
            for criterion in range(5):
                await jury.set_score(db, judge, review_id, criterion, PLAN[letter][j], now=NOW)
            await jury.set_comment(db, judge, review_id, f"Comment {j} on {letter}", now=NOW)
            await jury.submit_review(db, judge, review_id, now=NOW)
    return contest, entry, people, judges


async def test_the_leaderboard_ranks_ties_as_ties(db):
    """Tried: a student (refused); the organizer before the allocation (not allocated); after
    the reviews: A 90 first, B and C 80 both second, D 60 fourth; criterion means; ICC with its
    CI; the top three are winners; the chart is a PNG."""
    contest = await open_contest(db)
    await factories.organizer(db, ORGANIZER, ADMINS)
    with pytest.raises(InvalidInput) as early:
        await results.leaderboard(db, ORGANIZER, ADMINS, contest.id)
    assert early.value.key == "contest.not_allocated"
    contest, entry, people, _judges = await judged(db)
    with pytest.raises(PermissionDenied):
        await results.leaderboard(db, people[0], ADMINS, contest.id)
    board = await results.leaderboard(db, ORGANIZER, ADMINS, contest.id)
    ranks = {row.entry_id: row.rank for row in board.rows}
    assert [ranks[entry[x]] for x in "ABCD"] == [1, 2, 2, 4]
    means = {row.entry_id: row.mean for row in board.rows}
    assert means[entry["A"]] == pytest.approx(90)
    assert means[entry["D"]] == pytest.approx(60)
    row_d = next(r for r in board.rows if r.entry_id == entry["D"])
    assert row_d.criteria["usability"] == pytest.approx(6) and row_d.reviews == 3
    row_a = board.rows[0]
    assert row_a.entry_id == entry["A"] and row_a.authors == ("Author0", "Author4")
    assert len(row_a.universities) == 1  # both authors of A are from university 0
    assert {r.entry_id for r in board.winners} == {entry[x] for x in "ABC"}
    assert (board.submitted, board.pending, board.released) == (12, 0, False)
    assert board.agreement.icc is not None and board.agreement.entries == 4
    assert board.agreement.ci_low is not None and board.agreement.ci_low < board.agreement.icc
    chart = results.render_leaderboard_chart(board, ChartLabels("Ranking", "Score, 0-100"))
    assert chart is not None and chart.startswith(PNG)


async def test_standardised_ranking_and_a_pending_board(db):
    """Tried: a contest that standardises, with one review still pending: the board says 1
    pending, ranks by mean z-score (A still first), shows the raw means too, and draws the
    chart on the z scale."""
    contest, entry, _people, _judges = await judged(db, complete=False, standardise=True)
    board = await results.leaderboard(db, ORGANIZER, ADMINS, contest.id)
    assert board.standardise and board.pending == 1 and board.submitted == 11
    first = board.rows[0]
    assert first.entry_id == entry["A"] and first.standardised is not None
    assert first.mean == pytest.approx(90)
    chart = await results.render_leaderboard_chart_async(board, ChartLabels("R", "z"), "ru")
    assert chart is not None and chart.startswith(PNG)


async def test_release_announces_the_winners_to_participants_and_jurors(db):
    """Tried: a student and a co-author are participants, a bystander is not: the release
    announces A, B and C (not D) with a My results button to the 5 authors and 3 jurors in their
    languages, marks the contest released, freezes the reviews (a juror's change is refused),
    and a second release is refused."""
    contest, _entry, people, judges = await judged(db)
    await factories.student(db, 7_300_000_999)  # in no audience of the contest
    released = await results.release(db, ORGANIZER, ADMINS, contest.id, I18N, now=NOW)
    async with db() as session:
        broadcast = await session.get(Broadcast, released.broadcast_id)
        chats = set(
            (
                await session.scalars(
                    select(Delivery.chat_id).where(Delivery.broadcast_id == released.broadcast_id)
                )
            ).all()
        )
        stored = await session.get(Contest, contest.id)
    assert chats == set(people) | set(judges)
    assert broadcast is not None
    text = broadcast.texts["en"]
    assert "Alpha" in text and "Beta" in text and "Gamma" in text and "Delta" not in text
    assert "1. <b>Alpha</b> — Author0, Author4 (90.0 of 100)" in text
    assert "80,0" in broadcast.texts["ru"]
    assert broadcast.buttons[0]["data"] == ContestMyResults(contest.id).pack()
    assert stored is not None and stored.released_at == NOW and stored.state == "released"
    assert stored.results_broadcast_id == released.broadcast_id
    assert released.board.released
    [review_id, *_] = await review_ids(db, judges[0])
    with pytest.raises(InvalidInput) as frozen:
        await jury.set_score(db, judges[0], review_id, 0, 1, now=NOW)
    assert frozen.value.key == "contest.jury_closed"
    with pytest.raises(InvalidInput) as again:
        await results.release(db, ORGANIZER, ADMINS, contest.id, I18N, now=NOW)
    assert again.value.key == "contest.already_released"
    with pytest.raises(PermissionDenied):
        await results.release(db, people[0], ADMINS, contest.id, I18N, now=NOW)


async def test_release_waits_for_pending_reviews_until_the_jury_deadline(db):
    """Tried: releasing with one review pending before the jury deadline (refused, counting 1);
    at the deadline the same release goes through (the missing review is simply not counted)."""
    contest, entry, _people, _judges = await judged(db, complete=False)
    with pytest.raises(InvalidInput) as pending:
        await results.release(db, ORGANIZER, ADMINS, contest.id, I18N, now=NOW)
    assert pending.value.key == "contest.release_pending"
    assert pending.value.values == {"count": 1}
    released = await results.release(db, ORGANIZER, ADMINS, contest.id, I18N, now=JURY_DEADLINE)
    row_d = next(r for r in released.board.rows if r.entry_id == entry["D"])
    assert row_d.reviews == 2 and row_d.mean == pytest.approx(55)


async def test_authors_read_their_own_results_and_feedback(db):
    """Tried: an author before the release (not released); after it, the author of C sees rank
    2 of 4, 80, and three numbered reviews with scores and comments, no juror named; a co-author
    sees the team's entry; a juror without an entry has none; with feedback switched off the
    reviews are not shown."""
    contest, _entry, people, judges = await judged(db)
    with pytest.raises(InvalidInput) as early:
        await results.my_results(db, people[2], contest.id)
    assert early.value.key == "contest.not_released"
    await results.release(db, ORGANIZER, ADMINS, contest.id, I18N, now=NOW)
    mine = await results.my_results(db, people[2], contest.id)
    assert (mine.rank, mine.ranked, mine.winner, mine.title) == (2, 4, True, "Gamma")
    assert mine.mean == pytest.approx(80)
    assert [f.number for f in mine.feedback] == [1, 2, 3]
    assert {f.comment for f in mine.feedback} == {f"Comment {j} on C" for j in range(3)}
    assert all(f.weighted == pytest.approx(80) for f in mine.feedback)
    assert mine.feedback[0].scores["originality"] == 8
    team = await results.my_results(db, people[4], contest.id)
    assert team.title == "Alpha" and team.rank == 1
    with pytest.raises(NotFound) as none:
        await results.my_results(db, judges[0], contest.id)
    assert none.value.key == "contest.no_entry"
    assert [c.id for c in await results.released_for(db, people[2])] == [contest.id]
    assert await results.released_for(db, judges[0]) == []


async def test_no_feedback_when_the_contest_hides_it(db):
    """Tried: show_feedback off: the author sees rank and score, no reviews."""
    contest, _entry, people, _judges = await judged(db, feedback=False)
    await results.release(db, ORGANIZER, ADMINS, contest.id, I18N, now=NOW)
    mine = await results.my_results(db, people[0], contest.id)
    assert mine.rank == 1 and mine.feedback == ()


async def test_certificates_of_winners_and_participants_are_verified(db, settings, capsys):
    """Tried: before the release (refused); a bad name (refused); the author of A takes a
    winner's certificate (place 1), D's author a participation one; taking it again gives the
    same code; /verify finds both (contest, award, name) in chat and in the CLI; the PDF is drawn
    in Kazakh."""
    contest, _entry, people, _judges = await judged(db)
    with pytest.raises(InvalidInput) as early:
        await results.issue_certificate(db, people[0], contest.id, "Aru Bek")
    assert early.value.key == "contest.not_released"
    await results.release(db, ORGANIZER, ADMINS, contest.id, I18N, now=NOW)
    with pytest.raises(InvalidInput) as bad:
        await results.issue_certificate(db, people[0], contest.id, "x")
    assert bad.value.key == "course.bad_name"
    winner = await results.issue_certificate(db, people[0], contest.id, "  Aru   Bek ")
    assert winner.created and winner.certificate.kind == Kind.WINNER
    assert winner.certificate.rank == 1 and winner.certificate.name == "Aru Bek"
    again = await results.issue_certificate(db, people[0], contest.id, "Other Name")
    assert not again.created and again.certificate.code == winner.certificate.code
    participant = await results.issue_certificate(db, people[3], contest.id, "Dana Sar")
    assert participant.certificate.kind == Kind.PARTICIPATION
    assert participant.certificate.rank is None
    mine = await results.my_results(db, people[0], contest.id)
    assert mine.certificate is not None and mine.certificate.code == winner.certificate.code

    found = await certificates.verify(db, winner.certificate.code.lower())
    assert found is not None and found.kind == "winner" and found.rank == 1
    assert found.course_code == contest.code and found.name == "Aru Bek"
    assert found.university is not None
    t = I18N.translator("en")
    said = verified_text(t, found, found.code, ZONE)
    assert "Contest: The most effective digital educational platform" in said
    assert "winner, place 1" in said and "Aru Bek" in said
    other = await certificates.verify(db, participant.certificate.code)
    assert other is not None
    assert "participant" in verified_text(t, other, other.code, ZONE)

    assert await verify_certificate(settings, winner.certificate.code) == 0
    printed = capsys.readouterr().out
    assert f"contest: The most effective digital educational platform ({contest.code})" in printed
    assert "award: winner, place 1" in printed

    pdf = certificates.render_pdf(found, I18N.translator("kk"), ZONE)
    assert pdf.startswith(b"%PDF")
    assert certificates.render_pdf(other, I18N.translator("ru"), ZONE).startswith(b"%PDF")
