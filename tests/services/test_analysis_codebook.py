"""The analysis workbook's codebook: every column of every sheet labelled in kk, ru and en.

Tried: the column lists of the issue-17 sheets (rankings of universities, countries and study
groups, by mean and by gain, with their pairwise comparisons; profile groups; over time;
ranking questions; the SWOT matrix) through `label`; whole reports of a survey and of a test
through `missing_labels`; the workbook's codebook sheet as written; and a column nobody
described, which must show up as missing. Kazakh and Russian labels must be written in
Cyrillic (an English label copied into them fails), and the sheet-specific meanings win over
the shared ones (`n` in `reliability` is complete cases).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from bot.services import analysis_codebook as cb
from bot.services import analysis_rankings as rk
from bot.services.analysis_stats import run_all, write_workbook
from tests.services.test_analysis_stats import make_survey, make_test

CYRILLIC = re.compile("[а-яёәғқңөұүһі]", re.IGNORECASE)
RANKING_SHEETS = [
    f"{gain}{kind}_{by}"
    for gain in ("", "gain_")
    for kind in ("ranking", "pairwise")
    for by in ("university", "country", "study_group")
]
# The sheets of issue 17 and their columns (wave first where the sheet is per wave).
ISSUE_17: dict[str, list[str]] = {
    **{
        name: [
            *(["wave"] if not name.startswith("gain_") else []),
            *(
                (rk.STUDY_RANKING_COLUMNS if "ranking" in name else rk.STUDY_PAIRWISE_COLUMNS)
                if name.endswith("study_group")
                else (rk.RANKING_COLUMNS if "ranking" in name else rk.PAIRWISE_COLUMNS)
            ),
        ]
        for name in RANKING_SHEETS
    },
    "groups": ["group", "n", "share", "A", "A_z", "total_percent", "total_percent_z"],
    "groups_silhouette": ["k", "silhouette", "chosen"],
    "groups_by_university": ["group", "dulaty", "kaznpu", "—"],
    "group_moves": ["group", "after_1", "after_2", "after_6"],
    "over_time": rk.OVER_TIME_COLUMNS,
    "ranking_means": rk.RANK_MEANS_COLUMNS,
    "ranking_distribution": ["wave", "item", "option", "rank", "count", "percent"],
    "ranking_agreement": rk.AGREEMENT_COLUMNS,
    "swot_matrix": ["quadrant", "rank", "point", "count", "share", "universities"],
    "swot_matrix_by_university": [
        "quadrant",
        "rank",
        "point",
        "count",
        "share",
        "universities",
        "university",
    ],
}


def _check(labels: dict[str, str] | None, where: str) -> None:
    assert labels is not None, f"{where}: no label"
    for language in ("kk", "ru", "en"):
        assert labels.get(language, "").strip(), f"{where}: no {language} label"
    for language in ("kk", "ru"):
        assert CYRILLIC.search(labels[language]), f"{where}: {language} is not Cyrillic"
    assert labels["kk"] != labels["en"] and labels["ru"] != labels["en"], where


@pytest.mark.parametrize("sheet", list(ISSUE_17))
def test_every_column_of_the_issue_17_sheets_has_three_labels(sheet: str) -> None:
    _check(cb.SHEETS.get(sheet), f"{sheet} (title)")
    for column in ISSUE_17[sheet]:
        _check(cb.label(sheet, column), f"{sheet}.{column}")


def test_every_label_is_written_in_each_language() -> None:
    """Every label the module holds, not only those a fixture reaches."""
    for sheet, title in cb.SHEETS.items():
        _check(title, f"{sheet} (title)")
    for column, labels in cb.COLUMNS.items():
        _check(labels, column)
    for sheet, columns in cb.SHEET_COLUMNS.items():
        for column, labels in columns.items():
            _check(labels, f"{sheet}.{column}")


def test_whole_reports_have_no_column_without_labels(tmp_path: Path) -> None:
    """A survey (pre/post, rankings, groups, EFA) and a test (item analysis); then the codebook
    sheet as written: one title row per sheet, one row per column, in the workbook's order."""
    for data in (make_survey(), make_test()):
        report = run_all(data)
        assert cb.missing_labels(report.tables) == []
    report = run_all(make_survey())
    path = tmp_path / "analysis.xlsx"
    write_workbook(report, path)
    sheets = pd.read_excel(path, sheet_name=None, keep_default_na=False)
    assert list(sheets)[-2:] == ["notes", "codebook"]
    assert_labelled(sheets)
    book = sheets["codebook"]
    ranking = book[book["sheet"] == "ranking_study_group"]
    assert ranking["column"].tolist() == ["", "wave", *rk.STUDY_RANKING_COLUMNS]
    group = ranking.set_index("column").loc["group"]
    assert group["label_ru"].startswith("Учебная группа")
    assert group["label_kk"].startswith("Оқу тобы")


def test_sheet_meanings_win_and_an_undescribed_column_is_missing() -> None:
    assert cb.label("reliability", "n")["en"].startswith("Complete cases")
    assert cb.label("scales", "n") == cb.COLUMNS["n"]
    assert cb.label("ranking_country", "group")["en"].startswith("Country")
    assert cb.label("ranking_study_group", "group")["en"].startswith("Study group")
    assert cb.label("gain_ranking_university", "mean")["en"] == "Mean gain (post - pre)"
    assert "2" in cb.label("efa_loadings", "F2")["kk"]
    assert cb.label("efa_loadings", "item") == cb.COLUMNS["item"]
    assert cb.label("ranking_university", "surprise") is None
    tables = {"ranking_university": pd.DataFrame(columns=["wave", "surprise"])}
    assert cb.missing_labels(tables) == [("ranking_university", "surprise")]
    assert cb.missing_labels({"new_sheet": pd.DataFrame(columns=["n"])}) == [("new_sheet", "")]


def assert_labelled(sheets: dict[str, pd.DataFrame]) -> None:
    """Every sheet of a workbook read back has its title and every column its three labels in
    the codebook sheet (read with `keep_default_na=False`, so empty cells are "")."""
    book = sheets["codebook"]
    for name, table in sheets.items():
        if name == "codebook":
            continue
        rows = book[book["sheet"] == name]
        assert rows["column"].tolist() == ["", *map(str, table.columns)], name
        for row in rows.itertuples():
            for language in ("kk", "ru", "en"):
                assert str(getattr(row, f"label_{language}")).strip(), (name, row.column, language)
