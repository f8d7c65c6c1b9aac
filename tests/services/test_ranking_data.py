"""Ranking answers in the data (issue 17, item 1): given through the surveys service, stored as
the order of option codes, exported wide as one column per option holding its rank (with its
codebook entry) and long as the order, and analysed: mean ranks and Kendall's W by university."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import yaml

from bot.services import analysis, exports, surveys
from bot.services import content as content_service
from bot.services.exports import Filters, Options
from tests import factories
from tests.services.test_analysis_codebook import assert_labelled

ADMINS = frozenset({1})
KEY = "ranking-test-key"
ORDERS = {
    501: (0, ["b", "a", "c"]),
    502: (0, ["b", "c", "a"]),
    503: (3, ["a", "b", "c"]),
}


def _text(value: str) -> dict[str, str]:
    return dict.fromkeys(("kk", "ru", "en"), value)


async def _load(db, tmp_path: Path) -> None:
    pack = {
        "code": "ranks",
        "version": 1,
        "kind": "survey",
        "title": _text("Ranks"),
        "questions": [
            {
                "type": "ranking",
                "code": "tools",
                "text": _text("Rank the tools"),
                "options": [{"code": c, "text": _text(c.upper())} for c in ("a", "b", "c")],
            }
        ],
    }
    path = tmp_path / "ranks.yaml"
    path.write_text(yaml.safe_dump(pack), "utf-8")
    assert (await content_service.load_path(db, path)).ok


async def test_rankings_are_stored_exported_and_analysed(db, settings, tmp_path) -> None:
    """Three students rank three options through the service (taps, the last place filling
    itself, Done, Submit); the wide export has tools__a..c with each one's rank, the codebook
    names them ordinal, the long export keeps the order; the analysis has the mean ranks
    (b first) and Kendall's W for everyone."""
    await factories.student(db, 1, ADMINS, university=0)
    await _load(db, tmp_path)
    campaign = await factories.campaign(db, 1, ADMINS, "ranks", "pre")
    for telegram_id, (university, order) in ORDERS.items():
        await factories.student(db, telegram_id, ADMINS, university=university)
        screen = await surveys.start(db, telegram_id, campaign, "en")
        item = screen.item
        assert item is not None and item.kind == "ranking"
        for code in order[:2]:
            position = [o.code for o in item.options].index(code)
            screen = await surveys.rank(db, telegram_id, screen.attempt_id, screen.index, position)
        assert screen.draft == tuple(order)  # the last place filled itself
        screen = await surveys.confirm_selection(db, telegram_id, screen.attempt_id, screen.index)
        await surveys.submit(db, telegram_id, screen.attempt_id)

    opts = Options(KEY, "en", False)
    wide = await exports.export(
        settings.database_url, "wide", "csv", Filters(instrument="ranks"), opts, tmp_path
    )
    rows = list(csv.DictReader(wide.files[0].read_text(encoding="utf-8-sig").splitlines()))
    got = sorted((r["tools__a"], r["tools__b"], r["tools__c"]) for r in rows)
    assert got == sorted(
        tuple(str(order.index(c) + 1) for c in "abc") for _, order in ORDERS.values()
    )
    book = await exports.export(
        settings.database_url, "wide", "xlsx", Filters(instrument="ranks"), opts, tmp_path
    )
    codebook = pd.read_excel(book.files[0], sheet_name="codebook")
    assert codebook.astype(str).apply(lambda col: col.str.contains("tools__a")).any().any()

    long = await exports.export(
        settings.database_url, "answers", "csv", Filters(instrument="ranks"), opts, tmp_path
    )
    lines = long.files[0].read_text(encoding="utf-8-sig").splitlines()
    codes = {r["answer_code"] for r in csv.DictReader(lines)}
    assert "b;a;c" in codes

    outcome = await analysis.analyse(
        settings.database_url, "ranks", Filters(), KEY, "en", tmp_path
    )
    sheets = pd.read_excel(outcome.workbook, sheet_name=None)
    means = sheets["ranking_means"]
    assert list(means["option"]) == ["b", "a", "c"]
    agreement = sheets["ranking_agreement"].set_index("university")
    assert agreement.loc["all", "n"] == 3 and 0 <= agreement.loc["all", "kendall_w"] <= 1
    assert_labelled(pd.read_excel(outcome.workbook, sheet_name=None, keep_default_na=False))
