"""The long answers export: pseudonymous, language-independent codes, filters, Excel-ready CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from bot.db import create_engine
from bot.services import content as content_service
from bot.services import surveys, users
from bot.services.exports import Filters, export_answers, pseudonym
from bot.services.universities import list_universities

EXAMPLE = Path(__file__).resolve().parents[1] / "content" / "example_pack.yaml"
ADMINS = frozenset({1})
KEY = "export-test-key"


async def _person(db, telegram_id, language, university_index):
    await users.seen(db, telegram_id, first_name=f"Name{telegram_id}", username=f"u{telegram_id}",
                     telegram_language=None, admin_ids=ADMINS)
    await users.set_language(db, telegram_id, language, ADMINS)
    await users.set_consent(db, telegram_id, True, ADMINS)
    unis = await list_universities(db)
    await users.set_university(db, telegram_id, unis[university_index].id, ADMINS)
    await users.set_group(db, telegram_id, "G", ADMINS)


async def _take(db, telegram_id, campaign, language):
    screen = await surveys.start(db, telegram_id, campaign, language)
    screen = await surveys.pass_info(db, telegram_id, screen.attempt_id, screen.index)
    screen = await surveys.answer(db, telegram_id, screen.attempt_id, screen.index, "a")
    screen = await surveys.answer(db, telegram_id, screen.attempt_id, screen.index,
                                  ("moodle", "canvas"))
    screen = await surveys.answer(db, telegram_id, screen.attempt_id, screen.index, 7)
    await surveys.submit(db, telegram_id, screen.attempt_id)


def _read(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Cyrillic
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


async def test_long_export_is_pseudonymous_and_language_independent(db, settings, tmp_path):
    await _person(db, 1, "en", 0)
    assert (await content_service.load_path(db, EXAMPLE)).ok
    campaign = await surveys.create_campaign(db, 1, ADMINS, "example_test", "pre")
    await _person(db, 111111111, "kk", 0)
    await _person(db, 222222222, "ru", 4)
    await _take(db, 111111111, campaign, "kk")
    await _take(db, 222222222, campaign, "ru")
    engine = create_engine(settings.database_url)
    out = tmp_path / "answers.csv"
    count = await export_answers(engine, KEY, Filters(), out, "ru")
    assert count == 6
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
    only_ru = tmp_path / "ru.csv"
    assert await export_answers(engine, KEY, Filters(country="RU"), only_ru) == 3
    assert {row["participant"] for row in _read(only_ru)} < codes
    assert await export_answers(engine, KEY, Filters(wave="post"), tmp_path / "none.csv") == 0
    await engine.dispose()
    codebook = json.loads(out.with_suffix(".codebook.json").read_text(encoding="utf-8"))
    assert set(codebook["columns"]) == set(rows[0])


def test_pseudonyms_depend_on_the_key():
    assert pseudonym("k1", 5) == pseudonym("k1", 5)
    assert pseudonym("k1", 5) != pseudonym("k2", 5) != pseudonym("k1", 6)


async def test_parquet_and_xlsx_carry_the_same_rows(db, settings, tmp_path):
    import pandas as pd
    from openpyxl import load_workbook

    await _person(db, 1, "en", 0)
    assert (await content_service.load_path(db, EXAMPLE)).ok
    campaign = await surveys.create_campaign(db, 1, ADMINS, "example_test", "pre")
    await _person(db, 333, "kk", 1)
    await _take(db, 333, campaign, "kk")
    engine = create_engine(settings.database_url)
    csv_rows = tmp_path / "a.csv"
    await export_answers(engine, KEY, Filters(), csv_rows, "kk")
    parquet = tmp_path / "a.parquet"
    assert await export_answers(engine, KEY, Filters(), parquet, "kk", "parquet") == 3
    xlsx = tmp_path / "a.xlsx"
    assert await export_answers(engine, KEY, Filters(), xlsx, "kk", "xlsx") == 3
    await engine.dispose()
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

    from bot.services import exports

    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 2)
    rows = [[f"P{i}", *[""] * (len(exports.COLUMNS) - 1)] for i in range(5)]
    out = tmp_path / "split.xlsx"
    assert exports.write_xlsx(iter([rows[:3], rows[3:]]), out, "en") == 5
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["answers", "answers_2", "answers_3", "codebook"]
    counts = [len(list(book[name].iter_rows())) - 1 for name in book.sheetnames[:3]]
    assert counts == [2, 2, 1]


async def test_spss_file_reads_back_with_its_labels(db, settings, tmp_path):
    import pyreadstat

    await _person(db, 1, "en", 0)
    assert (await content_service.load_path(db, EXAMPLE)).ok
    campaign = await surveys.create_campaign(db, 1, ADMINS, "example_test", "pre")
    await _person(db, 444, "ru", 2)
    await _take(db, 444, campaign, "ru")
    engine = create_engine(settings.database_url)
    out = tmp_path / "a.sav"
    assert await export_answers(engine, KEY, Filters(), out, "ru", "sav") == 3
    await engine.dispose()
    frame, meta = pyreadstat.read_sav(str(out))
    assert list(frame.columns) == list(meta.column_names) and len(frame) == 3
    assert list(frame["answer_code"]) == ["a", "moodle;canvas", "7"]
    assert frame["value"].tolist()[0] == 1.0 and frame["answer_label"].tolist()[0] == (
        "Система обучения")
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["participant"].startswith("pseudonymous participant code")
    assert meta.variable_measure["value"] == "scale"
    assert meta.variable_measure["item"] == "nominal"
    assert "444" not in set(frame.astype(str).to_numpy().ravel())
