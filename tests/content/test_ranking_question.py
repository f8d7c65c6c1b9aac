"""The ranking question type in packs and the engine (issue 17, item 1): 3 to 10 options,
option codes once each, no scale and no correct options; a tap gives the next place, the last
option takes the last place by itself, a double tap ranks nothing twice."""

from __future__ import annotations

import pytest

from bot.content.engine import AnswerError, compile_pack, rank_next
from bot.content.validate import check_data


def _text(value: str) -> dict[str, str]:
    return dict.fromkeys(("kk", "ru", "en"), value)


def _pack(**question: object) -> dict:
    ranking = {
        "type": "ranking",
        "code": "tools",
        "text": _text("Rank"),
        "options": [{"code": c, "text": _text(c)} for c in ("a", "b", "c", "d")],
    }
    ranking.update(question)
    return {
        "code": "rank",
        "version": 1,
        "kind": "survey",
        "title": _text("R"),
        "scales": [{"code": "s", "title": _text("S")}],
        "questions": [ranking],
    }


def _errors(data: dict) -> list[str]:
    return [f"{e.path}: {e.reason}" for e in check_data(data, "rank.yaml").errors]


def test_a_ranking_pack_is_checked() -> None:
    """Tried: 2 options, 11 options, a repeated option code, a scale, a correct option."""
    assert _errors(_pack()) == []
    two = [{"code": c, "text": _text(c)} for c in ("a", "b")]
    assert any("options" in e for e in _errors(_pack(options=two)))
    eleven = [{"code": f"o{i}", "text": _text(str(i))} for i in range(11)]
    assert any("options" in e for e in _errors(_pack(options=eleven)))
    repeated = [{"code": c, "text": _text(c)} for c in ("a", "b", "a")]
    assert any("used twice" in e for e in _errors(_pack(options=repeated)))
    assert any("not scored" in e for e in _errors(_pack(scale="s")))
    correct = [{"code": c, "text": _text(c), "correct": c == "a"} for c in ("a", "b", "c")]
    assert any("no correct options" in e for e in _errors(_pack(options=correct)))


def test_places_are_given_in_turn_and_the_last_one_fills_itself() -> None:
    report = check_data(_pack(), "rank.yaml")
    assert report.pack is not None
    item = compile_pack(report.pack).by_code["tools"]
    assert item.kind == "ranking" and item.stores_answer
    assert rank_next(item, (), "c") == ("c",)
    assert rank_next(item, ("c",), "c") == ("c",)  # a double tap
    assert rank_next(item, ("c", "a"), "d") == ("c", "a", "d", "b")  # b is left: last
    with pytest.raises(AnswerError):
        rank_next(item, (), "zz")
