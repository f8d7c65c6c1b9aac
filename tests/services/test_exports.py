"""Research exports: long, wide, scores and SWOT datasets in every format, with a codebook.

Tried: Telegram ids, names and usernames must not appear in a research export; Kazakh and
Russian answers land as the same codes; filters (country, wave, dates); SPSS files read back
with variable labels, value labels, measures and missing codes; Excel's sheet limit; an
identified export by a non-admin is refused and every export is in the audit log.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.services import content as content_service
from bot.services import exports, surveys
from bot.services.exports import Filters, Options, pseudonym
from bot.services.universities import list_universities
from tests import factories

EXAMPLE = Path(__file__).resolve().parents[1] / "content" / "example_pack.yaml"
ADMINS = frozenset({1})
KEY = "export-test-key"


async def _person(db, telegram_id, language, university_index):
    await factories.student(
        db,
        telegram_id,
        ADMINS,
        university=university_index,
        language=language,
        first_name=f"Name{telegram_id}",
        username=f"u{telegram_id}",
    )


async def _take(db, telegram_id, campaign, language):
    await factories.attempt(
        db, telegram_id, campaign, ["a", ("moodle", "canvas"), 7], language=language
    )


async def _export(settings, dataset, fmt, folder, filters=None, language="en", **kw):
    opts = Options(KEY, language, kw.pop("identified", False))
    return await exports.export(
        settings.database_url, dataset, fmt, filters or Filters(), opts, folder, **kw
    )


async def _count(settings, tmp_path, filters, name):
    written = await _export(settings, "answers", "csv", tmp_path, filters, stem=name)
    return written.rows


def _read(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Cyrillic
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


async def test_long_export_is_pseudonymous_and_language_independent(db, settings, tmp_path):
    await _person(db, 1, "en", 0)
    assert (await content_service.load_path(db, EXAMPLE)).ok
    campaign = await factories.campaign(db, 1, ADMINS, "example_test", "pre")
    await _person(db, 111111111, "kk", 0)
    await _person(db, 222222222, "ru", 4)
    await _take(db, 111111111, campaign, "kk")
    await _take(db, 222222222, campaign, "ru")
    written = await _export(settings, "answers", "csv", tmp_path, language="ru", stem="answers")
    out = tmp_path / "answers.csv"
    assert written.files == [out] and written.rows == 6
    rows = _read(out)
    text = out.read_text(encoding="utf-8-sig")
    for secret in ("111111111", "222222222", "Name111111111", "u222222222"):
        assert secret not in text  # no Telegram id, name or username anywhere
    codes = {row["participant"] for row in rows}
    assert len(codes) == 2 and all(c.startswith("P") and len(c) == 16 for c in codes)
    by_person: dict[str, dict[str, str]] = {}
    for row in rows:
        by_person.setdefault(row["participant"], {})[row["item"]] = row["answer_code"]
    first, second = by_person.values()
    assert first == second == {"q1": "a", "q2": "moodle;canvas", "q3": "7"}
    q1 = next(row for row in rows if row["item"] == "q1")
    assert q1["answer_label"] == "Система обучения" and q1["value"] == "1.0"
    assert {row["country"] for row in rows} == {"KZ", "RU"}
    assert {row["wave"] for row in rows} == {"pre"}
    # Filters and a stable code under the same key.
    assert await _count(settings, tmp_path, Filters(country="RU"), "ru") == 3
    assert {row["participant"] for row in _read(tmp_path / "ru.csv")} < codes
    assert await _count(settings, tmp_path, Filters(wave="post"), "none") == 0
    today = datetime.now(UTC).date()
    assert await _count(settings, tmp_path, Filters(since=today, until=today), "today") == 6
    assert await _count(settings, tmp_path, Filters(until=today - timedelta(days=1)), "old") == 0
    assert await _count(settings, tmp_path, Filters(instrument="example_test"), "inst") == 6
    codebook = json.loads(out.with_suffix(".codebook.json").read_text(encoding="utf-8"))
    (table,) = codebook["tables"]
    assert [v["name"] for v in table["variables"]] == list(rows[0])
    assert all(set(v["label"]) == {"kk", "ru", "en"} for v in table["variables"])
    assert codebook["filters"]["wave"] is None and set(codebook["missing_codes"]) == {
        "-1",
        "-2",
        "-3",
    }


def test_pseudonyms_depend_on_the_key():
    assert pseudonym("k1", 5) == pseudonym("k1", 5)
    assert pseudonym("k1", 5) != pseudonym("k2", 5) != pseudonym("k1", 6)


async def test_parquet_and_xlsx_carry_the_same_rows(db, settings, tmp_path):
    import pandas as pd
    from openpyxl import load_workbook

    await _person(db, 1, "en", 0)
    assert (await content_service.load_path(db, EXAMPLE)).ok
    campaign = await factories.campaign(db, 1, ADMINS, "example_test", "pre")
    await _person(db, 333, "kk", 1)
    await _take(db, 333, campaign, "kk")
    csv_rows = tmp_path / "a.csv"
    await _export(settings, "answers", "csv", tmp_path, language="kk", stem="a")
    parquet = tmp_path / "a.parquet"
    assert (
        await _export(settings, "answers", "parquet", tmp_path, None, "kk", stem="a")
    ).rows == 3
    xlsx = tmp_path / "a.xlsx"
    assert (await _export(settings, "answers", "xlsx", tmp_path, None, "kk", stem="a")).rows == 3
    frame = pd.read_parquet(parquet)
    expected = _read(csv_rows)
    assert list(frame.columns) == list(expected[0])
    assert list(frame["item"]) == [row["item"] for row in expected]
    assert frame["value"].dtype == "float64" and frame["attempt"].dtype == "int64"
    assert frame["answer_label"].iloc[0] == "Оқу жүйесі"
    book = load_workbook(xlsx, read_only=True)
    assert book.sheetnames == ["answers", "codebook"]
    sheet_rows = list(book["answers"].iter_rows(values_only=True))
    assert sheet_rows[0][0] == "participant" and len(sheet_rows) == 4
    assert sheet_rows[1][12] == "Оқу жүйесі"


def test_xlsx_goes_on_in_a_new_sheet_past_the_row_limit(tmp_path, monkeypatch):
    from openpyxl import load_workbook

    from bot.services.exports import spec, writers

    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 2)
    rows = [[f"P{i}", i] for i in range(5)]
    table = spec.Table(
        "answers",
        {"en": "t"},
        [spec.Variable("participant", {"en": "p"}), spec.Variable("n", {"en": "n"}, "integer")],
        lambda: iter([rows[:3], rows[3:]]),
    )
    out = tmp_path / "split.xlsx"
    assert writers.write_xlsx([table], out, "en", lambda n: None) == 5
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["answers", "answers_2", "answers_3", "codebook"]
    counts = [len(list(book[name].iter_rows())) - 1 for name in book.sheetnames[:3]]
    assert counts == [2, 2, 1]


async def test_spss_file_reads_back_with_its_labels(db, settings, tmp_path):
    import pyreadstat

    await _person(db, 1, "en", 0)
    assert (await content_service.load_path(db, EXAMPLE)).ok
    campaign = await factories.campaign(db, 1, ADMINS, "example_test", "pre")
    await _person(db, 444, "ru", 2)
    await _take(db, 444, campaign, "ru")
    out = tmp_path / "a.sav"
    assert (await _export(settings, "answers", "sav", tmp_path, None, "ru", stem="a")).rows == 3
    frame, meta = pyreadstat.read_sav(str(out))
    assert list(frame.columns) == list(meta.column_names) and len(frame) == 3
    assert list(frame["answer_code"]) == ["a", "moodle;canvas", "7"]
    assert frame["value"].tolist()[0] == 1.0 and frame["answer_label"].tolist()[0] == (
        "Система обучения"
    )
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["participant"].startswith("Код участника")
    assert meta.variable_measure["value"] == "scale"
    assert meta.variable_measure["item"] == "nominal"
    assert "444" not in set(frame.astype(str).to_numpy().ravel())


async def _example_campaign(db):
    await _person(db, 1, "en", 0)
    assert (await content_service.load_path(db, EXAMPLE)).ok
    return await factories.campaign(db, 1, ADMINS, "example_test", "pre")


async def _half(db, telegram_id, campaign):
    """Answer q1 with the wrong option (which hides q3) and stop before q2."""
    await factories.attempt(db, telegram_id, campaign, ["b"], submit=False)


async def test_wide_has_a_row_per_participant_with_items_scores_and_missing_codes(
    db, settings, tmp_path
):
    import pyreadstat

    campaign = await _example_campaign(db)
    for telegram_id, language in ((501, "kk"), (502, "ru")):
        await _person(db, telegram_id, language, 0)
        await _take(db, telegram_id, campaign, language)
    await _person(db, 503, "en", 1)
    await _half(db, 503, campaign)
    await _person(db, 504, "en", 2)
    screen = await surveys.start(db, 504, campaign, "en")  # got no further than the intro
    await surveys.pass_info(db, 504, screen.attempt_id, screen.index)
    written = await _export(settings, "wide", "csv", tmp_path, Filters(campaign_id=campaign))
    rows = _read(written.files[0])
    assert written.rows == 4 and len(rows) == 4
    done = [r for r in rows if r["attempt_state"] == "submitted"]
    for row in done:  # q1 = option 1 (a), q2 = moodle and canvas, q3 = 7, all correct
        assert (row["q1"], row["q2__moodle"], row["q2__word"], row["q2__canvas"]) == (
            "1",
            "1",
            "0",
            "1",
        )
        assert row["q3"] == "7.0" and row["points"] == "3.0" and row["percent"] == "100.0"
        assert row["level"] == "2" and row["sc_knowledge"] != ""
    half, _ = sorted(
        (r for r in rows if r["attempt_state"] == "in_progress"), key=lambda r: r["q1"] == ""
    )
    assert half["q1"] == "2" and half["q2__moodle"] == "" and half["sc_knowledge"] == ""
    # SPSS keeps why a cell is empty: q3 hidden by q1's condition, q2 not reached.
    sav = await _export(settings, "wide", "sav", tmp_path, Filters(campaign_id=campaign), "ru")
    frame, meta = pyreadstat.read_sav(str(sav.files[0]), user_missing=True)
    unfinished = frame[frame["attempt_state"] == "in_progress"]
    row = unfinished[unfinished["q1"] == 2].iloc[0]
    assert (row["q3"], row["q2__moodle"], row["sc_knowledge"]) == (-2, -3, -3)
    # q3's condition reads q1, which the other one never reached: q3 was not reached either.
    row = unfinished[unfinished["q1"] == -3].iloc[0]
    assert (row["q3"], row["q2__moodle"]) == (-3, -3)
    assert meta.missing_ranges["q3"] == [
        {"lo": -3.0, "hi": -3.0},
        {"lo": -2.0, "hi": -2.0},
        {"lo": -1.0, "hi": -1.0},
    ]
    assert meta.variable_value_labels["q1"][1.0].startswith("Система обучения")
    assert meta.variable_value_labels["level"] == {
        1.0: "Низкий",
        2.0: "Высокий",
        -1.0: "пропущен: необязательный вопрос оставлен без ответа",
        -2.0: "не показан: скрыт условием или отсутствует в этой версии",
        -3.0: "не дошёл: участник не закончил опрос",
    }
    assert meta.variable_measure["q1"] == "nominal" and meta.variable_measure["q3"] == "scale"
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["sc_knowledge"] and labels["participant"].startswith("Код участника")
    plain, _ = pyreadstat.read_sav(str(sav.files[0]))  # SPSS's own reading: codes are missing
    assert plain[plain["attempt_state"] == "in_progress"]["q3"].isna().all()
    book = json.loads(sav.codebook.read_text(encoding="utf-8"))
    q3 = next(v for v in book["tables"][0]["variables"] if v["name"] == "q3")
    assert q3["missing_codes"] == [-3, -2, -1] and q3["label"]["kk"]
    sc = next(v for v in book["tables"][0]["variables"] if v["name"] == "sc_knowledge")
    assert "q1" in sc["derived"] and "q2" in sc["derived"]


async def test_wide_keeps_one_row_per_participant_and_wave(db, settings, tmp_path):
    campaign = await _example_campaign(db)
    await _person(db, 601, "en", 0)
    await _take(db, 601, campaign, "en")
    post = await factories.campaign(db, 1, ADMINS, "example_test", "post")
    await _take(db, 601, post, "en")
    written = await _export(settings, "wide", "csv", tmp_path, Filters(instrument="example_test"))
    rows = _read(written.files[0])
    assert [r["wave"] for r in rows] == ["pre", "post"]  # in the order of their campaigns
    assert len({r["participant"] for r in rows}) == 1


async def test_scores_dataset_has_scales_and_the_test_total(db, settings, tmp_path):
    campaign = await _example_campaign(db)
    await _person(db, 701, "kk", 0)
    await _take(db, 701, campaign, "kk")
    await _person(db, 702, "en", 0)
    await _half(db, 702, campaign)  # not submitted: no scores
    written = await _export(settings, "scores", "parquet", tmp_path, language="kk")
    import pandas as pd

    frame = pd.read_parquet(written.files[0])
    assert list(frame["scale"]) == ["knowledge", "total"]
    total = frame[frame["scale"] == "total"].iloc[0]
    assert (total["score"], total["max_score"], total["percent"]) == (3.0, 3.0, 100.0)
    assert total["level"] == "high" and total["level_label"] == "Жоғары"


async def test_swot_is_grouped_by_university_and_quadrant(db, settings, tmp_path):
    await _person(db, 1, "en", 0)
    campaign = await factories.campaign(db, 1, ADMINS, "swot_collaboration", "pre")
    texts = {
        801: ("- Shared courses\n- Friendly staff", "Slow internet", None),
        802: ("1. Open data", "", "Funding cuts"),
    }
    for telegram_id, (strengths, weaknesses, threats) in texts.items():
        await _person(db, telegram_id, "en", 0 if telegram_id == 801 else 3)
        screen = await surveys.start(db, telegram_id, campaign, "en")
        screen = await surveys.pass_info(db, telegram_id, screen.attempt_id, screen.index)
        screen = await surveys.answer(db, telegram_id, screen.attempt_id, screen.index, strengths)
        screen = await surveys.answer(
            db, telegram_id, screen.attempt_id, screen.index, weaknesses or "-"
        )
        screen = await surveys.skip(db, telegram_id, screen.attempt_id, screen.index)
        if threats:
            await surveys.answer(db, telegram_id, screen.attempt_id, screen.index, threats)
    written = await _export(settings, "swot", "xlsx", tmp_path)
    from openpyxl import load_workbook

    book = load_workbook(written.files[0], read_only=True)
    assert book.sheetnames == ["swot", "swot_summary", "codebook"]
    rows = list(book["swot"].iter_rows(values_only=True))
    header = rows[0]
    entries = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    got = [(e["university"], e["quadrant"], e["text"]) for e in entries]
    unis = sorted({e["university"] for e in entries})
    assert got == sorted(
        got, key=lambda g: (g[0], ["strengths", "weaknesses", "threats"].index(g[1]))
    )
    assert {g[2] for g in got} == {
        "Shared courses",
        "Friendly staff",
        "Slow internet",
        "Open data",
        "Funding cuts",
    }
    assert len(unis) == 2 and entries[0]["quadrant_title"] == "Strengths (S)"
    summary = list(book["swot_summary"].iter_rows(values_only=True))
    assert sum(r[3] for r in summary[1:]) == 5


async def test_identified_export_is_for_admins_and_every_export_is_audited(db, settings, tmp_path):
    from sqlalchemy import select

    from bot.services import PermissionDenied, invites
    from bot.services.roles import Role
    from models import ExportLog

    campaign = await _example_campaign(db)
    await _person(db, 901, "en", 0)
    await _take(db, 901, campaign, "en")
    await _person(db, 903, "en", 4)  # at another university
    await _take(db, 903, campaign, "en")
    url = settings.database_url
    identified = Options(KEY, "en", identified=True)
    files, written = await exports.export_for_chat(
        db, url, 1, ADMINS, "answers", "csv", Filters(), identified, tmp_path
    )
    text = files[0].read_text(encoding="utf-8-sig")
    assert "901" in text and "Name901" in text and written.rows == 6
    # An organizer is refused the identified export, and gets the pseudonymous one.
    unis = await list_universities(db)
    link = await invites.create_invite(db, 1, ADMINS, Role.ORGANIZER, unis[0].id, 1)
    await _person(db, 902, "en", 0)
    await invites.redeem(db, 902, link.payload)
    with pytest.raises(PermissionDenied, match="identified_admins_only"):
        await exports.export_for_chat(
            db, url, 902, ADMINS, "answers", "csv", Filters(), identified, tmp_path / "x"
        )
    assert not (tmp_path / "x").exists()  # nothing written

    async def organizer_rows(folder: str, filters: Filters) -> list[dict[str, str]]:
        (tmp_path / folder).mkdir()
        files, _ = await exports.export_for_chat(
            db, url, 902, ADMINS, "answers", "csv", filters, Options(KEY), tmp_path / folder
        )
        if not files:  # nothing matched: nothing to send
            return []
        assert "Name901" not in files[0].read_text(encoding="utf-8-sig")
        return _read(files[0])

    rows = await organizer_rows("p", Filters())
    assert len(rows) == 3 and {r["university"] for r in rows} == {unis[0].code}
    # Asking for another university (a forged button) intersects with theirs: nothing.
    assert await organizer_rows("q", Filters(university=unis[4].code)) == []
    # A consortium-wide coach role on top widens nothing for exports.
    coach = await invites.create_invite(db, 1, ADMINS, Role.COACH, None, 1)
    await invites.redeem(db, 902, coach.payload)
    rows = await organizer_rows("r", Filters())
    assert {r["university"] for r in rows} == {unis[0].code}
    async with db() as session:
        log = (await session.scalars(select(ExportLog).order_by(ExportLog.id))).all()
    assert [(e.actor_telegram_id, e.identified, e.rows) for e in log] == [
        (1, True, 6),
        (902, False, 3),
        (902, False, 0),
        (902, False, 3),
    ]
    assert log[1].filters["scope"] == [unis[0].code]


def test_big_files_are_zipped_and_split_under_telegrams_limit(tmp_path, monkeypatch):
    import os
    import zipfile

    monkeypatch.setattr(exports, "ZIP_OVER", 1000)
    monkeypatch.setattr(exports, "PART_SIZE", 4000)
    data = tmp_path / "ortaq-answers.csv"
    data.write_bytes(os.urandom(10_000))  # incompressible
    book = tmp_path / "ortaq-answers.codebook.json"
    book.write_text("{}")
    parts = exports.package(exports.Written([data], book, 1), "csv")
    assert [p.name for p in parts] == [f"ortaq-answers.zip.00{i}" for i in (1, 2, 3)]
    assert all(p.stat().st_size <= 4000 for p in parts)
    joined = tmp_path / "joined.zip"
    joined.write_bytes(b"".join(p.read_bytes() for p in parts))
    with zipfile.ZipFile(joined) as bundle:
        assert bundle.read("ortaq-answers.csv") == data.read_bytes()
    small = tmp_path / "small.csv"
    small.write_text("a")
    assert exports.package(exports.Written([small], book, 1), "csv") == [small, book]


PACK = """
code: vx
version: {version}
kind: survey
title: {{kk: V, ru: V, en: V}}
questions:
  - type: single
    code: pick
    text: {{kk: P, ru: P, en: P}}
    options:
{options}
  - type: number
    code: temp
    integer: false
    min: -50
    max: 50
    text: {{kk: T, ru: T, en: T}}
  - type: text
    code: country
    text: {{kk: C, ru: C, en: C}}
"""


def _option(code: str, text: str) -> str:
    return f"      - {{code: {code}, text: {{kk: {text}, ru: {text}, en: {text}}}}}"


async def _load(db, tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return await content_service.load_path(db, path)


async def _answer_vx(db, telegram_id, campaign, pick, temp, country):
    screen = await surveys.start(db, telegram_id, campaign, "en")
    screen = await surveys.answer(db, telegram_id, screen.attempt_id, screen.index, pick)
    screen = await surveys.answer(db, telegram_id, screen.attempt_id, screen.index, temp)
    screen = await surveys.answer(db, telegram_id, screen.attempt_id, screen.index, country)
    await surveys.submit(db, telegram_id, screen.attempt_id)


async def test_wide_codes_hold_across_versions_negatives_and_clashing_names(
    db, settings, tmp_path
):
    """Reordered options keep their code, -1 stays -1, an item called `country` is renamed,
    a formula typed by a participant is made inert in CSV, and two instruments taken in the
    same wave are two rows."""
    import pyreadstat

    await _person(db, 1, "en", 0)
    v1 = "\n".join([_option("x", "Ex"), _option("y", "Why")])
    assert (await _load(db, tmp_path, "v1", PACK.format(version=1, options=v1))).ok
    first = await factories.campaign(db, 1, ADMINS, "vx", "pre")
    await _person(db, 11, "en", 0)
    await _answer_vx(db, 11, first, "x", -1.0, '=HYPERLINK("http://x")')
    v2 = "\n".join([_option("z", "Zed"), _option("x", "Ex")])  # y gone, z first
    assert (await _load(db, tmp_path, "v2", PACK.format(version=2, options=v2))).ok
    second = await factories.campaign(db, 1, ADMINS, "vx", "post")
    await _answer_vx(db, 11, second, "x", -3.0, "KZ")
    # The same person takes the example test in the pre wave too: a row of its own.
    campaign = (
        await factories.campaign(db, 1, ADMINS, "example_test", "pre")
        if (await content_service.load_path(db, EXAMPLE)).ok
        else None
    )
    await _take(db, 11, campaign, "en")
    written = await _export(settings, "wide", "csv", tmp_path, Filters(instrument="vx"))
    rows = _read(written.files[0])
    assert [(r["wave"], r["pick"], r["temp"]) for r in rows] == [
        ("pre", "2", "-1.0"),
        ("post", "2", "-3.0"),
    ]
    assert rows[0]["q_country"] == '\'=HYPERLINK("http://x")' and rows[0]["country"] == "KZ"
    sav = await _export(settings, "wide", "sav", tmp_path, Filters(instrument="vx"), stem="v")
    frame, meta = pyreadstat.read_sav(str(sav.files[0]), user_missing=True)
    assert frame["temp"].tolist() == [-1.0, -3.0]  # real answers, not missing values
    assert meta.variable_value_labels["pick"] == {
        1.0: "Zed [z]",
        2.0: "Ex [x]",
        3.0: "Why [y]",
        -1.0: "skipped: an optional question the participant chose not to answer",
        -2.0: "not shown: hidden by a condition, or not part of this version",
        -3.0: "not reached: the attempt was not finished",
    }
    assert meta.missing_ranges["temp"][0]["lo"] == -999999999.0
    both = await _export(settings, "wide", "csv", tmp_path, Filters(wave="pre"), stem="both")
    assert sorted(r["instrument"] for r in _read(both.files[0])) == ["example_test", "vx"]
    # A question may not change its type under the same code.
    changed = PACK.format(version=3, options=v2).replace(
        "type: number\n    code: temp\n    integer: false\n    min: -50\n    max: 50",
        "type: text\n    code: temp",
    )
    outcome = await _load(db, tmp_path, "v3", changed)
    assert not outcome.ok and "is a number question in vx version 1" in outcome.errors[0].reason


async def test_an_export_leaves_the_garbage_collector_to_its_runner(
    db, settings, tmp_path, monkeypatch
):
    """The collector's threshold is process-wide: the runner relaxes it, never the service.

    Tried: the export service set it itself (`relaxed_gc` inside `in_thread`), so whatever
    called it, a bot, a test, a notebook, had its collector changed.
    """
    import gc

    changes: list[tuple[int, ...]] = []
    monkeypatch.setattr(gc, "set_threshold", lambda *values: changes.append(values))
    await _person(db, 1, "en", 0)
    written = await _export(settings, "answers", "csv", tmp_path)
    assert written.codebook.exists() and changes == []


def test_each_dataset_keeps_its_code():
    """Codes travel in buttons already sent and in requests waiting on users: never changed.

    The first four are the positions requests used before datasets had codes.
    """
    from bot.services.exports.datasets import DATASETS, by_code
    from bot.services.exports.request import Request

    pinned = {"0": "answers", "1": "wide", "2": "scores", "3": "swot"}
    assert {code: by_code(code).name for code in pinned} == pinned
    assert {d.code: d.name for d in DATASETS.values()}.items() >= pinned.items()
    for code, name in pinned.items():
        assert Request.decode(f"{code}.0.0.0.0.1.0").dataset_name == name
        assert Request.from_compact(f"{code}.0.0.0.1.0").dataset_name == name  # awaiting dates
    for dataset in DATASETS.values():
        assert dataset.label == f"exports.dataset.{dataset.name}"
        assert set(dataset.description) == {"kk", "ru", "en"}


def test_a_dataset_name_or_code_is_never_taken_twice():
    from bot.services.exports.datasets import DATASETS, Dataset, register

    answers = DATASETS["answers"]
    for name, code in (("answers", "9z"), ("other", "0"), ("Bad name", "9z"), ("other", "x:y")):
        with pytest.raises(ValueError):
            register(Dataset(name, code, answers.build, answers.description))
    assert "other" not in DATASETS and len({d.code for d in DATASETS.values()}) == len(DATASETS)


async def test_the_codebook_describes_the_dataset(db, settings, tmp_path):
    from bot.services.exports.datasets import DATASETS

    await _person(db, 1, "en", 0)
    written = await _export(settings, "scores", "csv", tmp_path)
    book = json.loads(written.codebook.read_text(encoding="utf-8"))
    assert book["dataset"] == "scores" and book["description"] == DATASETS["scores"].description


async def test_answers_of_attempts_started_during_the_export_are_kept(
    db, settings, tmp_path, monkeypatch
):
    """The attempts and the answers are read by two queries; someone may start between."""
    import sqlite3

    from bot.services.exports import long

    campaign = await _example_campaign(db)
    await _person(db, 41, "en", 0)
    await _take(db, 41, campaign, "en")
    await _person(db, 42, "ru", 1)  # starts only while the export runs
    path = settings.database_url.split("///", 1)[1]
    original = long._column_chunks

    def racing(session, stmt):
        with sqlite3.connect(path) as other:
            (user,) = other.execute("SELECT id FROM app_user WHERE telegram_id = 42").fetchone()
            (instrument,) = other.execute(
                "SELECT instrument_id FROM campaign WHERE id = ?", (campaign,)
            ).fetchone()
            stamp = "2026-11-26 10:00:00.000000"
            attempt = other.execute(
                "INSERT INTO attempt (campaign_id, user_id, instrument_id, number, state, "
                "language, seed, passed, started_at) VALUES (?, ?, ?, 1, 'in_progress', 'ru', "
                "'s', '[]', ?)",
                (campaign, user, instrument, stamp),
            ).lastrowid
            other.execute(
                "INSERT INTO answer (attempt_id, item_code, value, numeric, answered_at) "
                "VALUES (?, 'q1', ?, 0, ?)",
                (attempt, '"b"', stamp),
            )
        yield from original(session, stmt)

    monkeypatch.setattr(long, "_column_chunks", racing)
    written = await _export(settings, "answers", "csv", tmp_path, language="ru")
    rows = _read(written.files[0])
    assert written.rows == 4 and rows[-1]["answer_label"] == "Игра"
    assert rows[-1]["attempt_state"] == "in_progress" and rows[-1]["country"] != ""


async def test_wide_scale_scores_are_not_rounded(db, settings, tmp_path):
    """sc_* columns hold each scale's mean at full precision (4/3, not 1.3333).

    Tried: scale scores were stored rounded to 4 decimals and the wide export wrote the
    stored value, so every analysis run on the export inherited the rounding.
    """
    import pandas as pd

    from tests.study import seed_prepost

    generated = await seed_prepost(db, 12)
    written = await _export(
        settings, "wide", "parquet", tmp_path, Filters(instrument="dlt_pre", wave="pre")
    )
    frame = pd.read_parquet(written.files[0])
    means = generated[generated["wave"] == "pre"].groupby(["n", "scale"])["value"].mean().unstack()
    scales = list(means.columns)
    got = frame[[f"sc_{s}" for s in scales]].to_numpy()
    expected = means.to_numpy()
    # Participants are pseudonymous: compare each scale's values as sorted lists.
    for column in range(len(scales)):
        assert sorted(got[:, column]) == pytest.approx(sorted(expected[:, column]), rel=1e-12)
    assert any(abs(v * 3 - round(v * 3)) < 1e-12 and v != round(v, 4) for v in got.ravel())
