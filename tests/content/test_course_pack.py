"""Course packs: a valid course passes; every kind of mistake is named with file, path, reason."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from bot.content.course_schema import CoursePack, paragraphs, parse_definition
from bot.content.validate import (
    ContentError,
    Report,
    check_data,
    check_file,
    check_path,
    check_text,
    course_reference_errors,
)

DEFAULT = Path(__file__).resolve().parents[2] / "content" / "courses" / "dlt_course.yaml"
KAZAKH_LETTERS = set("әғқңөұүһі")


def _t(text: str) -> dict[str, str]:
    """The same text in the three languages."""
    return {"kk": f"{text} (kk)", "ru": f"{text} (ru)", "en": text}


def _course() -> dict:
    """A small valid course: two modules, three lessons, a photo from the folder, checks."""
    return {
        "kind": "course",
        "code": "mini_course",
        "version": 1,
        "title": _t("Mini course"),
        "pre_test": "dlt_pre",
        "post_test": "dlt_post",
        "modules": [
            {
                "code": "first",
                "title": _t("First module"),
                "lessons": [
                    {
                        "code": "one",
                        "title": _t("Lesson one"),
                        "steps": [
                            {"type": "text", "text": _t("Hello.\n\nSecond paragraph.")},
                            {"type": "photo", "file": "media/pic.png", "caption": _t("A pic")},
                            {"type": "link", "url": "https://moodle.org", "text": _t("Moodle")},
                        ],
                        "check": {
                            "code": "one_q",
                            "kind": "single",
                            "question": _t("Which?"),
                            "options": [
                                {"code": "a", "text": _t("This"), "correct": True},
                                {"code": "b", "text": _t("That")},
                            ],
                            "explanation": _t("Because."),
                        },
                    },
                    {
                        "code": "two",
                        "title": _t("Lesson two"),
                        "steps": [{"type": "video", "url": "https://example.org/v.mp4"}],
                    },
                ],
            },
            {
                "code": "second",
                "title": _t("Second module"),
                "lessons": [
                    {
                        "code": "three",
                        "title": _t("Lesson three"),
                        "steps": [{"type": "text", "text": _t("Text.")}],
                        "check": {
                            "code": "three_q",
                            "kind": "multiple",
                            "question": _t("Which ones?"),
                            "options": [
                                {"code": "a", "text": _t("A"), "correct": True},
                                {"code": "b", "text": _t("B"), "correct": True},
                                {"code": "c", "text": _t("C")},
                            ],
                            "explanation": _t("A and B."),
                        },
                    }
                ],
            },
        ],
    }


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A pack folder holding the tiny photo the course refers to."""
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    return tmp_path


@pytest.fixture
def course() -> dict:
    """A fresh copy of the valid course."""
    return copy.deepcopy(_course())


def _errors(data: dict, folder: Path | None) -> list[str]:
    """The report lines of an invalid course."""
    report = check_data(data, "c.yaml", folder)
    assert not report.ok
    return [str(e) for e in report.errors]


def test_a_valid_course_passes_and_flattens(course, folder):
    """The small course validates; its lessons come out numbered across the modules."""
    report = check_data(course, "c.yaml", folder)
    assert report.ok and report.pack is None and report.course is not None and report.checksum
    assert report.summary() == (
        "c.yaml: mini_course v1 (course), 2 modules, 3 lessons, 2 checks, "
        "pre-test dlt_pre, post-test dlt_post"
    )
    flat = report.course.lessons()
    assert [(f.position, f.module.code, f.lesson.code) for f in flat] == [
        (0, "first", "one"),
        (1, "first", "two"),
        (2, "second", "three"),
    ]
    assert report.course.lesson("three").position == 2
    assert report.course.lesson("nope") is None


def test_the_stored_definition_reads_back(course, folder):
    """What the loader stores (model_dump json) parses back to the same course."""
    report = check_data(course, "c.yaml", folder)
    stored = report.course.model_dump(mode="json", exclude_none=True)
    assert parse_definition(stored) == report.course


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["modules"][0]["lessons"][0]["steps"][0].update(type="poll"),
            "c.yaml: modules[0].lessons[0].steps[0]: unknown step type 'poll'",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["steps"][0].pop("type"),
            "c.yaml: modules[0].lessons[0].steps[0]: a step needs a type",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["steps"][0]["text"].pop("ru"),
            (
                "c.yaml: modules[0].lessons[0].steps[0].text.ru: missing (every text needs kk, ru "
                "and en)"
            ),
        ),
        (lambda c: c.update(code="Bad-Code"), "c.yaml: code: String should match pattern"),
        (lambda c: c.update(code="x"), "c.yaml: code: String should match pattern"),
        (lambda c: c.pop("title"), "c.yaml: title: missing"),
        (lambda c: c.update(modules=[]), "c.yaml: modules: List should have at least 1 item"),
        (
            lambda c: c["modules"][0]["lessons"][0].update(steps=[]),
            "c.yaml: modules[0].lessons[0].steps: List should have at least 1 item",
        ),
        (
            lambda c: c["modules"][0]["lessons"][1].update(
                steps=[{"type": "text", "text": _t("x")}] * 9
            ),
            "c.yaml: modules[0].lessons[1].steps: List should have at most 8 items",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["check"]["options"].pop(),
            "c.yaml: modules[0].lessons[0].check.options: List should have at least 2 items",
        ),
        (
            lambda c: c["modules"][1]["lessons"][0]["check"]["options"].extend(
                [{"code": f"z{i}", "text": _t("z")} for i in range(6)]
            ),
            "c.yaml: modules[1].lessons[0].check.options: List should have at most 8 items",
        ),
        (
            lambda c: (
                c["modules"][1]["lessons"][0]["check"]["options"][0].update(correct=False)
                or c["modules"][1]["lessons"][0]["check"]["options"][1].update(correct=False)
            ),
            "c.yaml: modules[1].lessons[0].check: at least one option must be correct",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["check"]["options"][1].update(correct=True),
            (
                "c.yaml: modules[0].lessons[0].check: a single-choice check has exactly one "
                "correct option, not 2"
            ),
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["check"].update(kind="scale"),
            "c.yaml: modules[0].lessons[0].check.kind: Input should be 'single' or 'multiple'",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["check"]["options"][0]["text"].update(
                en="x" * 65
            ),
            (
                "c.yaml: modules[0].lessons[0].check.options[0].text: en: 65 characters, at most "
                "64 for an option (a button label)"
            ),
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["steps"][1]["caption"].update(kk="қ" * 1025),
            (
                "c.yaml: modules[0].lessons[0].steps[1].caption: kk: 1025 characters, at most "
                "1024 for a caption"
            ),
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["steps"][0]["text"].update(
                ru="Абзац.\n\n" + "я" * 4097
            ),
            "c.yaml: modules[0].lessons[0].steps[0].text: ru: paragraph 2 has 4097 characters",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["title"].update(en="t" * 65),
            "c.yaml: modules[0].lessons[0].title: en: 65 characters, at most 64",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["check"]["question"].update(en="q" * 1025),
            "c.yaml: modules[0].lessons[0].check.question: en: 1025 characters",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["steps"][2].update(url="ftp://x.org/a"),
            "c.yaml: modules[0].lessons[0].steps[2].url: only http:// and https:// addresses",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["steps"][2].update(url="javascript:alert(1)"),
            "c.yaml: modules[0].lessons[0].steps[2].url: only http:// and https://",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["steps"][2].update(url="https://"),
            "c.yaml: modules[0].lessons[0].steps[2].url: 'https://' has no host",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0]["steps"][1].update(url="https://x.org/a.png"),
            "c.yaml: modules[0].lessons[0].steps[1]: give exactly one of file:",
        ),
        (
            lambda c: c["modules"][0]["lessons"][1]["steps"][0].pop("url"),
            "c.yaml: modules[0].lessons[1].steps[0]: give exactly one of file:",
        ),
        (
            lambda c: c["modules"][0]["lessons"][0].update(quiz=True),
            "c.yaml: modules[0].lessons[0].quiz: unknown key (a typo?)",
        ),
        (
            lambda c: c["modules"][1]["lessons"][0].update(code="one"),
            "c.yaml: modules: lesson code 'one' is used twice in the course",
        ),
        (
            lambda c: c["modules"][1].update(code="first"),
            "c.yaml: modules: module code 'first' is used twice",
        ),
        (
            lambda c: c["modules"][1]["lessons"][0]["check"].update(code="one_q"),
            "c.yaml: modules: check code 'one_q' is used twice in the course",
        ),
        (
            lambda c: c["modules"][1]["lessons"][0]["check"]["options"][2].update(code="a"),
            "c.yaml: modules[1].lessons[0].check.options: option code 'a' is used twice",
        ),
        (lambda c: c.update(version=2**31), "c.yaml: version: at most 2147483647"),
    ],
)
def test_each_mistake_is_named(course, folder, change, expected):
    """One mistake at a time: the report's first line names the file, the path and why."""
    change(course)
    errors = _errors(course, folder)
    assert any(error.startswith(expected) for error in errors), errors


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("media/missing.png", "no file 'media/missing.png' in the pack's folder"),
        ("../outside.png", "'../outside.png' leads outside the pack's folder"),
        ("media/../../outside.png", "leads outside the pack's folder"),
        ("/etc/passwd", "'/etc/passwd' must be a path relative to the pack's folder"),
        ("media", "no file 'media' in the pack's folder"),
    ],
)
def test_media_files_must_be_in_the_folder(course, folder, name, expected):
    """A missing file, a `..` escape, an absolute path, a folder: each refused with its path."""
    (folder.parent / "outside.png").write_bytes(b"png")
    course["modules"][0]["lessons"][0]["steps"][1]["file"] = name
    (error,) = _errors(course, folder)
    assert error.startswith("c.yaml: modules[0].lessons[0].steps[1].file: ")
    assert expected in error


def test_a_symlink_out_of_the_folder_is_refused(course, folder):
    """A link inside the folder that points outside it is an escape too."""
    secret = folder.parent / "secret.png"
    secret.write_bytes(b"png")
    (folder / "media" / "link.png").symlink_to(secret)
    course["modules"][0]["lessons"][0]["steps"][1]["file"] = "media/link.png"
    (error,) = _errors(course, folder)
    assert "leads outside the pack's folder" in error


def test_media_over_the_upload_limit(course, folder):
    """A photo over 10 MB is refused (sparse file: no real 10 MB written); a document may be."""
    big = folder / "media" / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(11 * 1024 * 1024)
    step = course["modules"][0]["lessons"][0]["steps"][1]
    step["file"] = "media/big.bin"
    (error,) = _errors(course, folder)
    assert "'media/big.bin' is 11.0 MB; a photo may be at most 10 MB" in error
    step["type"] = "document"
    assert check_data(course, "c.yaml", folder).ok
    with big.open("wb") as handle:
        handle.truncate(51 * 1024 * 1024)
    (error,) = _errors(course, folder)
    assert "a document may be at most 50 MB" in error


def test_a_pack_sent_in_chat_may_not_use_files(course):
    """Without a folder (chat upload) `file:` is refused with its path; `url:` media pass."""
    (error,) = _errors(course, None)
    assert error.startswith("c.yaml: modules[0].lessons[0].steps[1].file: a pack sent in chat")
    step = course["modules"][0]["lessons"][0]["steps"][1]
    del step["file"]
    step["url"] = "https://example.org/pic.png"
    text = yaml.safe_dump(course, allow_unicode=True)
    assert check_text(text, "c.yaml", aliases=False).ok


def test_check_file_reads_media_relative_to_the_pack(course, folder):
    """A pack file finds its media next to it, whatever the working directory."""
    path = folder / "course.yaml"
    path.write_text(yaml.safe_dump(course, allow_unicode=True), encoding="utf-8")
    report = check_file(path)
    assert report.ok, report.errors
    (folder / "media" / "pic.png").unlink()
    report = check_file(path)
    assert [e.path for e in report.errors] == ["modules[0].lessons[0].steps[1].file"]


def test_the_yaml_guards_apply_to_courses():
    """A duplicated key and deep nesting are refused in a course as in a survey pack."""
    text = "kind: course\ncode: c1\ncode: c2\n"
    (error,) = check_text(text, "c.yaml").errors
    assert str(error).startswith("c.yaml: code: the key 'code' is given twice")
    deep = "kind: course\ntitle: " + "[" * 60 + "]" * 60 + "\n"
    (error,) = check_text(deep, "c.yaml").errors
    assert "nested deeper than 50 levels" in error.reason


def test_references_to_instruments():
    """`pre_test`/`post_test` must name a known instrument; the report names which field."""
    report = Report(file="c.yaml", course=CoursePack.model_validate(_course()), checksum="x")
    assert course_reference_errors([report], {"dlt_pre", "dlt_post"}) == []
    assert course_reference_errors([report], {"dlt_pre"}) == [
        ContentError("c.yaml", "post_test", "no instrument 'dlt_post' is loaded or given")
    ]


def test_paragraphs_split_at_blank_lines():
    """Blank lines (even with spaces) separate paragraphs; single newlines stay inside one."""
    assert paragraphs("a\nb\n\n  \nc\n\n\n") == ["a\nb", "c"]


def test_the_default_course_validates():
    """The shipped course validates with its folder, and its content meets item 9 of issue 11."""
    (report,) = check_path(DEFAULT)
    assert report.ok, [str(e) for e in report.errors]
    course = report.course
    assert course.code == "dlt_course"
    assert (course.pre_test, course.post_test) == ("dlt_pre", "dlt_post")
    lessons = course.lessons()
    assert 3 <= len(course.modules) <= 4 and 9 <= len(lessons) <= 12
    for flat in lessons:
        assert 2 <= len(flat.lesson.steps) <= 5, flat.lesson.code
        assert flat.lesson.check is not None, flat.lesson.code
    steps = [step for flat in lessons for step in flat.lesson.steps]
    assert any(step.type == "link" for step in steps)
    kazakh = " ".join(flat.lesson.title.kk for flat in lessons) + course.title.kk
    assert KAZAKH_LETTERS & set(kazakh.lower())
    # Short steps: no paragraph near a wall of text.
    for step in steps:
        if step.type == "text":
            for language in ("kk", "ru", "en"):
                assert len(step.text.get(language)) < 1200


def test_the_default_course_refers_to_the_default_instruments():
    """Validated with the whole content folder, dlt_pre and dlt_post are among its packs."""
    reports = check_path(DEFAULT.parents[1])
    assert all(report.ok for report in reports), [str(e) for r in reports for e in r.errors]
    instruments = {report.pack.code for report in reports if report.pack is not None}
    assert course_reference_errors(reports, instruments) == []


def test_the_cli_validates_courses(course, folder, capsys):
    """`content validate`: a course's summary, a note for absent instruments, one-line errors."""
    from bot.__main__ import validate_content

    path = folder / "course.yaml"
    path.write_text(yaml.safe_dump(course, allow_unicode=True), encoding="utf-8")
    assert validate_content(path) == 0
    out = capsys.readouterr().out
    assert f"{path}: mini_course v1 (course), 2 modules, 3 lessons, 2 checks" in out
    assert "note: pre_test 'dlt_pre' is not among these packs" in out
    (folder / "media" / "pic.png").unlink()
    assert validate_content(path) == 1
    out = capsys.readouterr().out
    assert f"{path}: INVALID" in out
    assert f"  {path}: modules[0].lessons[0].steps[1].file: no file 'media/pic.png'" in out
