"""Pack validation: a valid pack passes; every kind of mistake is named with file, path, reason."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from bot.content.validate import check_data, check_file, check_path

EXAMPLE = Path(__file__).with_name("example_pack.yaml")


@pytest.fixture
def pack() -> dict:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def _errors(data: dict) -> list[str]:
    report = check_data(data, "pack.yaml")
    assert not report.ok
    return [str(e) for e in report.errors]


def test_the_example_is_valid(pack):
    report = check_data(pack, "pack.yaml")
    assert report.ok and report.pack.code == "example_test" and report.checksum
    assert "3 items, 1 scales, 2 levels" in report.summary()


def test_unknown_question_type(pack):
    pack["questions"][1]["type"] = "slider"
    (error,) = _errors(pack)
    assert error.startswith("pack.yaml: questions[1]: unknown question type 'slider'")


def test_missing_translation(pack):
    del pack["questions"][1]["options"][0]["text"]["ru"]
    (error,) = _errors(pack)
    assert error.startswith("pack.yaml: questions[1].options[0].text.ru: missing")


def test_condition_on_a_later_or_unknown_question(pack):
    pack["questions"][1]["show_if"] = "q3 > 1"
    pack["questions"][2]["show_if"] = "q7 == 'a'"
    errors = _errors(pack)
    assert "pack.yaml: questions[1].show_if: refers to 'q3', which comes later" in errors
    assert "pack.yaml: questions[2].show_if: refers to 'q7', which is not a question" in errors


def test_unsafe_condition(pack):
    pack["questions"][3]["show_if"] = "__import__('os')"
    (error,) = _errors(pack)
    assert "questions[3].show_if: Call is not allowed" in error


def test_duplicate_codes(pack):
    pack["questions"][2]["code"] = "q1"
    pack["questions"][1]["options"][1]["code"] = "a"
    errors = _errors(pack)
    assert "pack.yaml: questions: code 'q1' is used twice" in errors
    assert "pack.yaml: questions[1].options: option code 'a' is used twice" in errors


def test_test_question_without_a_correct_answer(pack):
    for option in pack["questions"][1]["options"]:
        option["correct"] = False
    (error,) = _errors(pack)
    assert error == "pack.yaml: questions[1]: a test question needs at least one correct option"


def test_survey_with_correct_answers(pack):
    pack["kind"] = "survey"
    errors = _errors(pack)
    assert "pack.yaml: questions[1]: correct answers belong in a test (kind: test)" in errors


@pytest.mark.parametrize(
    ("second_min", "word"),
    [
        (60, "gap between 'low' (to 50) and 'high' (from 60)"),
        (40, "'low' (to 50) overlaps 'high' (from 40)"),
    ],
)
def test_level_tables_without_gaps_or_overlaps(pack, second_min, word):
    pack["levels"][1]["min"] = second_min
    (error,) = _errors(pack)
    assert error.startswith("pack.yaml: levels: ") and word in error


def test_unknown_scale_and_likert_references(pack):
    pack["questions"][1]["scale"] = "wisdom"
    pack["questions"].append(
        {
            "type": "likert",
            "code": "q9",
            "likert": "agree7",
            "text": {"kk": "a", "ru": "b", "en": "c"},
        }
    )
    errors = _errors(pack)
    assert "pack.yaml: questions[1].scale: no scale 'wisdom' in scales" in errors
    assert "pack.yaml: questions[4].likert: no Likert scale 'agree7' in likert_scales" in errors


def test_typos_and_bad_codes_are_errors_not_silence(pack):
    pack["questions"][1]["requierd"] = False
    pack["questions"][2]["code"] = "Q 2"
    errors = _errors(pack)
    assert any("questions[1].requierd: unknown key" in e for e in errors)
    assert any(e.startswith("pack.yaml: questions[2].code: ") for e in errors)


def test_a_likert_needs_five_or_seven_points(pack):
    pack["likert_scales"]["agree5"]["points"] = 4
    (error,) = _errors(pack)
    assert error.startswith("pack.yaml: likert_scales.agree5.points: ")


def test_unreadable_files(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("code: x\n  - : : [\n", encoding="utf-8")
    report = check_file(broken)
    assert not report.ok and "not valid YAML" in str(report.errors[0])
    assert str(report.errors[0]).startswith(f"{broken}: line ")
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n", encoding="utf-8")
    assert "a pack is a mapping" in str(check_file(listing).errors[0])


def test_a_folder_checks_that_pairs_have_partners(tmp_path, pack):
    pre = copy.deepcopy(pack)
    pre["kind"] = "survey"
    pre["code"] = "pre_x"
    for question in pre["questions"]:
        for option in question.get("options", []):
            option.pop("correct", None)
    pre["pair"] = {"role": "pre", "with": "post_x"}
    (tmp_path / "pre.yaml").write_text(yaml.safe_dump(pre, allow_unicode=True), encoding="utf-8")
    (report,) = check_path(tmp_path)
    assert not report.ok
    expected = f"pair.with: no pack with code 'post_x' in {tmp_path}"
    assert str(report.errors[0]).endswith(expected)


def test_the_shipped_content_is_valid():
    folder = Path(__file__).resolve().parents[2] / "content"
    reports = check_path(folder)
    assert reports, "content/ has no packs"
    for report in reports:
        assert report.ok, [str(e) for e in report.errors]
    codes = {r.pack.code for r in reports if r.pack is not None}  # courses have r.course
    shipped = {"dlt_pre", "dlt_post", "digital_competence_test", "swot_collaboration"}
    assert shipped | {"collab_readiness"} <= codes
