"""Contest data: the `contest_entries` and `contest_reviews` datasets (codes 8 and 9).

The contest of `tests.contest_study` (entries through the entries' services, reviews as the jury
leaves them). Tried: a Telegram id, a name or a username in a pseudonymous export; a draft
exported as an entry; a withdrawn entry given a score; the late mark lost; scores that are not
the leaderboard's (weighted 0..100, mean over submitted reviews only, competition ranks); a
pending review counted; an identified export by an organizer; an organizer of one university
seeing entries without an author from it; a juror's comment starting with "=" run as a formula;
the SPSS, Parquet and XLSX writers on these tables; an empty contest.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.services import PermissionDenied
from bot.services.exports import Filters, Options, export, export_for_chat, pseudonym
from bot.services.exports.datasets import DATASETS, by_code
from bot.services.exports.request import Request
from models import Contest
from tests import factories
from tests.contest_study import (
    ADMIN,
    ADMINS,
    COMMENT,
    CRITERIA,
    FIVE,
    FOUR,
    J1,
    J2,
    J3,
    ONE,
    THREE,
    TWO,
    seed,
)

KEY = "contest-data-key"
SECRETS = tuple(
    text
    for telegram_id in (ONE, TWO, THREE, FOUR, J1, J2, J3)
    for text in (str(telegram_id), f"Name{telegram_id}", f"u{telegram_id}", f"Juror{telegram_id}")
)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


async def _export(settings, dataset, fmt, folder, filters=None, identified=False, language="en"):
    folder.mkdir(parents=True, exist_ok=True)
    return await export(
        settings.database_url,
        dataset,
        fmt,
        filters or Filters(),
        Options(KEY, language, identified),
        folder,
        stem=dataset,
    )


def test_the_contest_datasets_have_their_own_codes():
    """Codes 8 and 9 after the events'; the earlier ones keep theirs; a request carries them."""
    assert by_code("8") is DATASETS["contest_entries"]
    assert by_code("9") is DATASETS["contest_reviews"]
    assert [by_code(code).name for code in "01234567"] == [
        "answers",
        "wide",
        "scores",
        "swot",
        "course_progress",
        "course_checks",
        "events",
        "attendance",
    ]
    for name, code in (("contest_entries", "8"), ("contest_reviews", "9")):
        assert set(DATASETS[name].description) == {"kk", "ru", "en"}
        assert Request.decode(f"{code}.0.0.0.0.1.0").dataset_name == name
        assert Request.from_compact(f"{code}.0.0.0.1.0").dataset_name == name


async def test_one_row_per_entry_with_authors_files_and_the_leaderboards_scores(
    db, settings, tmp_path
):
    """Submitted and withdrawn entries (no draft), pseudonymous authors owner first, their
    universities, the late mark, the files, the criterion means, the score and rank."""
    seeded = await seed(db)
    written = await _export(settings, "contest_entries", "csv", tmp_path)
    assert written.rows == 3
    out = tmp_path / "contest_entries.csv"
    text = out.read_text(encoding="utf-8-sig")
    for secret in SECRETS:
        assert secret not in text
    assert "Never finished" not in text  # the draft
    rows = {r["entry_code"]: r for r in _read(out)}
    one, two, three = (rows[seeded.codes[e]] for e in (seeded.one, seeded.two, seeded.three))
    unis = seeded.universities
    ids = seeded.user_ids
    assert one["contest"] == "dlt_platform_contest" and one["entry_state"] == "submitted"
    assert one["authors"] == f"{pseudonym(KEY, ids[ONE])};{pseudonym(KEY, ids[THREE])}"
    assert one["authors_n"] == "2"
    assert one["universities"] == f"{unis[0].code};{unis[4].code}"
    assert one["title"] == "Platform A" and one["link"] == "https://example.org/platform-a"
    assert one["files"] == "slides.pdf;demo.mp4" and one["files_n"] == "2"
    assert one["files_bytes"] == "3000" and one["late"] == "0"
    assert one["submitted_at"] == "2027-04-14 18:59:00"
    assert (one["reviews_n"], one["reviews_pending"]) == ("2", "0")
    assert float(one["score"]) == pytest.approx(75.0)
    assert float(one["score_pedagogical_value"]) == pytest.approx(7.5)
    assert one["rank"] == "2" and one["results_released"] == "0" and one["score_z"] == ""
    assert two["late"] == "1" and two["authors"] == pseudonym(KEY, ids[TWO])
    assert (two["reviews_n"], two["reviews_pending"], two["rank"]) == ("1", "1", "1")
    assert float(two["score"]) == pytest.approx(80.0)  # the pending review is not counted
    assert float(two["score_usability"]) == pytest.approx(8.0)
    assert three["entry_state"] == "withdrawn" and three["withdrawn_at"]
    assert (three["score"], three["rank"], three["reviews_n"]) == ("", "", "0")
    book = json.loads(written.codebook.read_text(encoding="utf-8"))
    (table,) = book["tables"]
    variables = {v["name"]: v for v in table["variables"]}
    assert {f"score_{c}" for c in CRITERIA} <= set(variables)
    assert variables["score"]["type"] == "float" and variables["rank"]["measure"] == "ordinal"
    assert "telegram_id" not in str(list(variables))
    assert set(variables["late"]["value_labels"]) == {"0", "1"}
    assert all(set(v["label"]) == {"kk", "ru", "en"} for v in variables.values())
    assert "Pedagogical" in variables["score_pedagogical_value"]["label"]["en"]


async def test_one_row_per_review_and_criterion_with_pseudonymous_jurors(db, settings, tmp_path):
    """Four allocated reviews times five criteria; the juror's code is their participant code;
    the weighted score on submitted reviews only; a pending review's saved score kept; the
    comment kept (free text) and made inert for spreadsheets."""
    seeded = await seed(db)
    written = await _export(settings, "contest_reviews", "csv", tmp_path)
    assert written.rows == 20
    out = tmp_path / "contest_reviews.csv"
    text = out.read_text(encoding="utf-8-sig")
    for secret in SECRETS:
        assert secret not in text
    rows = _read(out)
    ids = seeded.user_ids
    assert [r["criterion"] for r in rows[:5]] == list(CRITERIA)
    first = [r for r in rows if r["juror"] == pseudonym(KEY, ids[J1])]
    assert len(first) == 10  # J1 reviewed both entries
    strong = [r for r in first if r["entry_code"] == seeded.codes[seeded.one]]
    assert {r["score"] for r in strong} == {"10.0"} and {r["max"] for r in strong} == {"10"}
    assert {float(r["review_score"]) for r in strong} == {100.0}
    assert strong[0]["comment"] == "'" + COMMENT  # inert in a spreadsheet
    assert strong[0]["juror_university"] == seeded.universities[2].code
    assert strong[0]["review_state"] == "submitted" and strong[0]["submitted_at"]
    assert float(strong[0]["weight"]) == 30.0 and strong[0]["criterion_title"]
    pending = [r for r in rows if r["juror"] == pseudonym(KEY, ids[J3])]
    assert {r["review_state"] for r in pending} == {"pending"}
    assert [r["score"] for r in pending] == ["4.0", "", "", "", ""]
    assert {r["review_score"] for r in pending} == {""}
    assert seeded.codes[seeded.three] not in text  # withdrawn before any review
    book = json.loads(written.codebook.read_text(encoding="utf-8"))
    (table,) = book["tables"]
    variables = {v["name"]: v for v in table["variables"]}
    assert "pedagogical_value" in variables["criterion"]["value_labels"]
    assert "juror_telegram_id" not in variables


async def test_identities_only_for_admins(db, settings, tmp_path):
    """Identified (admins only): the authors' and jurors' Telegram ids, names and usernames in
    the authors' order; an organizer asking for it is refused before anything is written."""
    seeded = await seed(db)
    await _export(settings, "contest_entries", "csv", tmp_path / "e", identified=True)
    rows = {r["entry_code"]: r for r in _read(tmp_path / "e" / "contest_entries.csv")}
    one = rows[seeded.codes[seeded.one]]
    assert one["author_telegram_ids"] == f"{ONE};{THREE}"
    assert one["author_names"] == f"Name{ONE};Name{THREE}"
    assert one["author_usernames"] == f"u{ONE};u{THREE}"
    await _export(settings, "contest_reviews", "csv", tmp_path / "r", identified=True)
    reviews = _read(tmp_path / "r" / "contest_reviews.csv")
    assert {r["juror_telegram_id"] for r in reviews} == {str(J1), str(J2), str(J3)}
    assert {r["juror_first_name"] for r in reviews} >= {f"Juror{J1}"}
    await factories.organizer(db, 743_000_001, ADMINS)
    for dataset in ("contest_entries", "contest_reviews"):
        with pytest.raises(PermissionDenied) as refused:
            await export_for_chat(
                db,
                settings.database_url,
                743_000_001,
                ADMINS,
                dataset,
                "csv",
                Filters(),
                Options(KEY, "en", identified=True),
                tmp_path / "o",
            )
        assert refused.value.key == "exports.identified_admins_only"
    files, written = await export_for_chat(
        db,
        settings.database_url,
        ADMIN,
        ADMINS,
        "contest_entries",
        "csv",
        Filters(),
        Options(KEY, "en", identified=True),
        tmp_path,
    )
    assert written.rows == 3 and files


async def test_the_contest_datasets_in_xlsx_parquet_and_spss(db, settings, tmp_path):
    """Both tables open in every format with their types: Parquet floats and UTC times, SPSS
    labels in Russian with the late mark's value labels, XLSX a sheet and the codebook."""
    import openpyxl
    import pandas as pd
    import pyreadstat

    await seed(db)
    for dataset, rows in (("contest_entries", 3), ("contest_reviews", 20)):
        parquet = await _export(settings, dataset, "parquet", tmp_path / f"{dataset}-pq")
        frame = pd.read_parquet(parquet.files[0])
        assert len(frame) == rows and parquet.codebook.exists()
        assert "UTC" in str(frame["submitted_at"].dtype)
        sav = await _export(settings, dataset, "sav", tmp_path / f"{dataset}-sav", language="ru")
        data, meta = pyreadstat.read_sav(str(sav.files[0]))
        assert len(data) == rows
        assert meta.column_names_to_labels["contest"] == "Код конкурса"
        xlsx = await _export(settings, dataset, "xlsx", tmp_path / f"{dataset}-x")
        book = openpyxl.load_workbook(xlsx.files[0], read_only=True)
        assert book.sheetnames == [dataset, "codebook"]
        assert book[dataset].max_row == rows + 1
        book.close()
    frame = pd.read_parquet(tmp_path / "contest_entries-pq" / "contest_entries.parquet")
    assert sorted(frame["score"].dropna()) == pytest.approx([75.0, 80.0])
    data, meta = pyreadstat.read_sav(str(tmp_path / "contest_entries-sav" / "contest_entries.sav"))
    assert meta.variable_value_labels["late"][1.0] == "да"
    assert sorted(data["rank"].dropna()) == [1.0, 2.0]


async def test_filters_and_scope_keep_entries_with_an_author_there(db, settings, tmp_path):
    """An organizer held to university 4 gets entry one (its co-author is there) and its
    reviews, with the contest's ranks; an empty scope gives nothing; the period applies to the
    submission (entry two came on the deadline's day, late)."""
    seeded = await seed(db)
    unis = seeded.universities
    scoped = Filters(scope=(unis[4].code,))
    written = await _export(settings, "contest_entries", "csv", tmp_path / "e4", scoped)
    assert written.rows == 1
    (row,) = _read(tmp_path / "e4" / "contest_entries.csv")
    assert row["entry_code"] == seeded.codes[seeded.one] and row["rank"] == "2"
    written = await _export(settings, "contest_reviews", "csv", tmp_path / "r4", scoped)
    assert written.rows == 10
    for dataset in ("contest_entries", "contest_reviews"):
        nothing = await _export(
            settings, dataset, "csv", tmp_path / f"{dataset}-0", Filters(scope=())
        )
        assert nothing.rows == 0
    by_university = Filters(university=unis[0].code)
    written = await _export(settings, "contest_entries", "csv", tmp_path / "u0", by_university)
    assert written.rows == 2  # entries one and two; three's author is of university 1
    on_deadline_day = Filters(since=date(2027, 4, 15))
    written = await _export(settings, "contest_entries", "csv", tmp_path / "p", on_deadline_day)
    assert written.rows == 1


async def test_standardised_contests_rank_by_the_mean_z_score(db, settings, tmp_path):
    """A contest that standardises: score_z filled where a juror has a spread (J1 gave 100 and
    80), 0 for a juror without one; the rank follows score_z; released results say so."""
    seeded = await seed(db)
    async with db.begin() as session:
        await session.execute(
            update(Contest)
            .where(Contest.id == seeded.contest_id)
            .values(standardise=True, released_at=Contest.deadline_at)
        )
    await _export(settings, "contest_entries", "csv", tmp_path)
    rows = {r["entry_code"]: r for r in _read(tmp_path / "contest_entries.csv")}
    one, two = rows[seeded.codes[seeded.one]], rows[seeded.codes[seeded.two]]
    # J1: 100 (one) and 80 (two) -> z = +0.707 and -0.707; J2 has one review: z = 0.
    assert float(one["score_z"]) == pytest.approx(0.7071067811865476 / 2)
    assert float(two["score_z"]) == pytest.approx(-0.7071067811865476)
    assert (one["rank"], two["rank"]) == ("1", "2")
    assert one["results_released"] == "1"


@pytest.mark.parametrize("dataset", ["contest_entries", "contest_reviews"])
async def test_no_entry_yet_exports_no_rows(db, settings, tmp_path, dataset):
    """The default contest loaded, no entry: no rows, no error, even in SPSS."""
    written = await _export(settings, dataset, "sav", tmp_path)
    assert written.rows == 0


async def test_a_student_cannot_export_contest_data(db, settings, tmp_path):
    """A student (author) is refused the dataset in chat."""
    await seed(db)
    with pytest.raises(PermissionDenied):
        await export_for_chat(
            db,
            settings.database_url,
            FIVE,
            ADMINS,
            "contest_entries",
            "csv",
            Filters(),
            Options(KEY, "en"),
            tmp_path,
        )


@pytest.mark.parametrize("standardise", [False, True])
async def test_the_scores_are_the_leaderboards(db, settings, tmp_path, standardise):
    """Each entry's score, mean z-score, rank and criterion means in the export equal the
    organizers' leaderboard (bot.services.contest_results), plain and standardised."""
    from bot.services.contest_results import leaderboard

    seeded = await seed(db)
    async with db.begin() as session:
        await session.execute(
            update(Contest)
            .where(Contest.id == seeded.contest_id)
            .values(standardise=standardise, allocated_at=Contest.deadline_at)
        )
    board = await leaderboard(db, ADMIN, ADMINS, seeded.contest_id)
    await _export(settings, "contest_entries", "csv", tmp_path)
    rows = {r["entry_code"]: r for r in _read(tmp_path / "contest_entries.csv")}
    assert {row.code for row in board.rows} <= set(rows)
    for row in board.rows:
        got = rows[row.code]
        assert got["rank"] == ("" if row.rank is None else str(row.rank))
        assert float(got["score"]) == pytest.approx(row.mean)
        if standardise:
            assert float(got["score_z"]) == pytest.approx(row.standardised)
        for code, mean in row.criteria.items():
            assert float(got[f"score_{code}"]) == pytest.approx(mean)
