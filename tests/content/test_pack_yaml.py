"""Hostile or careless YAML in a pack: deep nesting, duplicate keys, out-of-range numbers.

Each is a line of the pack report (file, where, why), never an exception: before these
checks a 100 KB `a: [[[[...` kept a core busy for minutes and a few thousand levels ended in a
RecursionError ("something went wrong" plus a traceback to the admins), a version above the
database integer overflowed at insert time, and duplicate keys silently kept the last one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import validate
from bot.content.validate import MAX_DEPTH, check_file, check_text
from bot.services import content as svc
from bot.services.roles import Role, ensure_role

EXAMPLE = Path(__file__).with_name("example_pack.yaml")
DEPTH_REASON = f"nested deeper than {MAX_DEPTH} levels"


def _upload(text: str, name: str = "pack.yaml") -> list[str]:
    """The report lines of `text` sent as a pack in chat (the strict path: no aliases)."""
    report = svc.check_upload(text.encode(), name)
    assert not report.ok
    return [str(error) for error in report.errors]


def _block_mappings(depth: int) -> str:
    """`depth` block mappings inside each other, each indented one column more."""
    return "".join(" " * level + "a:\n" for level in range(depth))


def test_a_100_kb_bracket_bomb_is_refused_at_the_51st_level(monkeypatch):
    """`a: ` and 100,000 `[` (the issue's deep.yaml): before the fix this ran for minutes.

    Tried: counting how often the YAML scanner opened a bracket and whether the constructor
    ran at all. The refusal comes from the depth guard after 50 brackets of 100,000, and
    nothing is built: the work does not grow with the size of the file (the time of the
    whole refusal is in bench/deep_yaml.py, not asserted here).
    """
    opened: list[int] = []
    scanner_open = validate.PackLoader.fetch_flow_collection_start

    def counting_open(self: validate.PackLoader, token_class: type) -> None:
        opened.append(self.flow_level)
        scanner_open(self, token_class)

    def never(*args: object) -> None:
        raise AssertionError("a node was constructed from a refused pack")

    monkeypatch.setattr(validate.PackLoader, "fetch_flow_collection_start", counting_open)
    monkeypatch.setattr(validate.PackLoader, "construct_document", never)
    text = "a: " + "[" * 100_000
    (error,) = _upload(text, "deep.yaml")
    assert error.startswith("deep.yaml: line 1, column 54: " + DEPTH_REASON), error
    # The scanner saw 51 of the 100,000 brackets: 50 opened, the 51st refused.
    assert opened == list(range(MAX_DEPTH + 1))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 3000, id="3000 brackets"),
        pytest.param("{a: " * 2500, id="2500 flow mappings"),
        pytest.param(_block_mappings(700), id="700 block mappings"),
        pytest.param("- " * 700 + "x\n", id="700 compact block sequences"),
        pytest.param("a:\n" + "".join(f"{' ' * i}- b:\n" for i in range(0, 400, 2)), id="mixed"),
        pytest.param(_block_mappings(30) + " " * 30 + "b: " + "{c: " * 30, id="block+flow"),
    ],
)
def test_moderately_deep_yaml_is_a_report_line_not_a_crash(text):
    """Item 8's shapes (the first three) ended in RecursionError; the rest mix kinds of nesting.

    Tried before the fix: no shape got a depth line (RecursionError, or a plain parse).
    """
    (error,) = _upload(text, "deep.yaml")
    assert error.startswith("deep.yaml: line "), error
    assert DEPTH_REASON in error


def test_the_depth_limit_is_exact():
    """A mapping holding 49 nested lists is 50 levels and passes; one more is refused."""
    fine = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert not any(DEPTH_REASON in line for line in _upload(fine))
    too_deep = "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH
    (error,) = _upload(too_deep)
    assert DEPTH_REASON in error


def test_files_on_disk_get_the_same_depth_guard(tmp_path):
    """`python -m bot content validate` and the default packs read files: same guard."""
    path = tmp_path / "deep.yaml"
    path.write_text(_block_mappings(700), encoding="utf-8")
    (error,) = check_file(path).errors
    assert str(error).startswith(f"{path}: line 51, column 51: {DEPTH_REASON}")


def test_duplicate_keys_are_errors_naming_the_path():
    """`kind: survey` then `kind: test` used to keep `test` without a word."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("kind: test\n", "kind: survey\nkind: test\n")
    (error,) = _upload(text, "dup.yaml")
    assert error == "dup.yaml: kind: the key 'kind' is given twice (lines 4 and 5)"


def test_a_nested_duplicate_key_names_its_full_path():
    """Inside the third question (index 2): its `points` is given twice."""
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "    points: 2\n", "    points: 2\n    points: 3\n"
    )
    (error,) = _upload(text, "dup.yaml")
    assert error.startswith("dup.yaml: questions[2].points: the key 'points' is given twice")


def test_merge_keys_are_not_duplicates(tmp_path):
    """`<<: *base` then the same key overrides the merged value on purpose (files may alias)."""
    path = tmp_path / "merge.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nother: {<<: *b, x: 3}\n", encoding="utf-8")
    assert not any("given twice" in str(error) for error in check_file(path).errors)


def test_a_version_the_database_cannot_hold_is_refused():
    """99999999999999999999999 overflowed the integer column: "something went wrong"."""
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "version: 1\n", "version: 99999999999999999999999\n"
    )
    (error,) = _upload(text, "big.yaml")
    assert error.startswith("big.yaml: version: ")
    assert "2147483647" in error and "database" in error


@pytest.mark.parametrize(
    ("bounds", "reason"),
    [
        ("min: 100\n    max: 80\n", "min (100) is above max (80): no answer would be accepted"),
        (
            "min: 1.2\n    max: 1.8\n",
            "no whole number lies between min (1.2) and max (1.8): no answer would be accepted",
        ),
    ],
)
def test_a_number_question_that_no_answer_can_satisfy_is_refused(bounds, reason):
    """It loaded, and every student's answer was then refused as out of range."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("min: 0\n    max: 40\n", bounds)
    (error,) = _upload(text)
    assert error == f"pack.yaml: questions[3]: {reason}"


def test_equal_bounds_and_integer_ranges_stay_valid():
    """min == max allows one answer; 0.5 to 1.5 holds the whole number 1."""
    for bounds in ("min: 7\n    max: 7\n", "min: 0.5\n    max: 1.5\n"):
        text = EXAMPLE.read_text(encoding="utf-8").replace("min: 0\n    max: 40\n", bounds)
        assert svc.check_upload(text.encode(), "pack.yaml").ok


async def test_an_oversized_version_loads_nothing(db):
    """Through the service, as an upload in chat: a report, no exception, no row.

    Tried on SQLite before the fix: the insert raised OverflowError (PostgreSQL: out of range).
    """
    await ensure_role(db, 6, Role.ORGANIZER)
    data = EXAMPLE.read_bytes().replace(b"version: 1\n", b"version: 99999999999999999999999\n")
    outcome = await svc.load_upload(db, 6, frozenset(), data, "big.yaml")
    assert not outcome.ok and not outcome.loaded
    assert [error.path for error in outcome.errors] == ["version"]
    assert "example_test" not in {code for code, _, _ in await svc.latest_versions(db)}


@pytest.mark.parametrize(
    "value",
    [
        "2026-13-45",  # a date YAML recognises, that does not exist
        "2026-02-30 10:00:00",
        "!!int 'abc'",
        "!!float 'abc'",
        "!!bool 'maybe'",
        "9" * 5000,  # past Python's limit for converting digits to int
    ],
)
def test_values_yaml_cannot_read_are_report_lines(value):
    """Review: these raised ValueError/KeyError out of the check ("something went wrong")."""
    report = check_text(f"kind: survey\ncode: x\nversion: {value}\n", "bad.yaml")
    assert report.errors and "line 3" in str(report.errors[0])
    assert "not valid YAML" in str(report.errors[0])
