"""Contest packs: the shipped contest is valid and complete in kk/ru/en; every kind of mistake is
named with file, path and reason; loading creates, keeps, updates in place only as far as the
contest's entries, allocation and release allow; the CLI and first start handle contests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import delete, select

from bot.content.contest_schema import parse_definition
from bot.content.validate import check_data, check_file, check_path
from bot.services import content as svc
from bot.services import contest as contests
from bot.services.contest import ContestState, LinkRule
from models import Contest, ContestEntry, Course, Instrument

DEFAULT = (
    Path(__file__).resolve().parents[2] / "content" / "contests" / "dlt_platform_contest.yaml"
)
KAZAKH_LETTERS = set("әғқңөұүһі")


def _t(text: str) -> dict[str, str]:
    return {"kk": f"{text} (kk)", "ru": f"{text} (ru)", "en": text}


def _pack(**changes) -> dict:
    """A small valid contest with windows in Almaty time (+05:00)."""
    data = {
        "kind": "contest",
        "code": "mini_contest",
        "version": 1,
        "title": _t("Mini contest"),
        "rules": _t("Rules."),
        "windows": {
            "opens": "2027-02-01T09:00:00+05:00",
            "deadline": "2027-03-01T23:59:00+05:00",
            "late_until": "2027-03-02T23:59:00+05:00",
            "jury_deadline": "2027-03-20T23:59:00+05:00",
        },
        "entry": {"files": {"types": ["pdf"], "max_count": 2}, "max_authors": 2},
        "criteria": [
            {"code": "value", "title": _t("Value"), "weight": 3, "max": 10},
            {"code": "design", "title": _t("Design"), "weight": 1, "max": 5},
        ],
    }
    data.update(changes)
    return data


def _errors(data: dict) -> list[str]:
    report = check_data(data, "c.yaml")
    assert not report.ok
    return [str(error) for error in report.errors]


def test_the_shipped_contest_is_valid_and_complete():
    """The default pack: five weighted criteria (pedagogical value, usability, interactivity
    and collaboration, accessibility, originality), every text in real kk/ru/en, files of at
    most 20 MB, teams, blind review without conflicts; no windows (organizers set them)."""
    report = check_file(DEFAULT)
    assert report.ok, [str(e) for e in report.errors]
    assert report.kind == "contest" and report.contest is not None
    contest = report.contest
    assert [c.code for c in contest.criteria] == [
        "pedagogical_value",
        "usability",
        "interactivity",
        "accessibility",
        "originality",
    ]
    assert all(c.weight > 0 and c.max == 10 for c in contest.criteria)
    assert sum(c.weight for c in contest.criteria) == 100
    assert contest.title.en == "The most effective digital educational platform"
    for text in [contest.title, contest.rules] + [c.title for c in contest.criteria]:
        assert KAZAKH_LETTERS & set(text.kk), text.kk
        assert text.ru != text.en and any("а" <= ch <= "я" for ch in text.ru.lower())
    assert contest.entry.files is not None and contest.entry.files.max_mb == 20
    assert contest.entry.max_authors == 3 and contest.entry.link == "required"
    assert contest.blind and contest.exclude_conflicts and contest.windows is None
    assert "dlt_platform_contest v1 (contest), 5 criteria" in report.summary()


def test_windows_need_offsets_and_order():
    """A time without a UTC offset, a date alone, and windows out of order are each named."""
    naive = _pack()
    naive["windows"] = dict(naive["windows"], opens=datetime(2027, 2, 1, 9, 0))
    assert any(
        "c.yaml: windows.opens: 2027-02-01T09:00:00 has no UTC offset" in e for e in _errors(naive)
    )
    dated = _pack()
    dated["windows"] = dict(dated["windows"], deadline="1 March")
    assert any("windows.deadline: '1 March' is not a date and time" in e for e in _errors(dated))
    backwards = _pack()
    backwards["windows"] = dict(backwards["windows"], deadline="2027-01-01T00:00:00+05:00")
    assert any("the deadline must come after the opening" in e for e in _errors(backwards))
    early_late = _pack()
    early_late["windows"] = dict(early_late["windows"], late_until="2027-02-15T00:00:00+05:00")
    assert any("late_until must not come before the deadline" in e for e in _errors(early_late))
    jury = _pack()
    jury["windows"] = dict(jury["windows"], jury_deadline="2027-03-02T12:00:00+05:00")
    assert any(
        "the jury deadline must come after the submissions close" in e for e in _errors(jury)
    )
    # YAML's own timestamps with an offset are read as such.
    text = yaml.safe_dump(_pack(), allow_unicode=True).replace(
        "'2027-02-01T09:00:00+05:00'", "2027-02-01T09:00:00+05:00"
    )
    report = check_data(yaml.safe_load(text), "c.yaml")
    assert report.ok and report.contest is not None and report.contest.windows is not None
    assert report.contest.windows.opens.utcoffset().total_seconds() == 5 * 3600


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (
            lambda d: d["criteria"].append(copy.deepcopy(d["criteria"][0])),
            "criteria",
            "criterion code 'value' is used twice",
        ),
        (lambda d: d["criteria"][0].update(weight=0), "criteria[0].weight", "greater than 0"),
        (
            lambda d: d["criteria"][1].update(max=0),
            "criteria[1].max",
            "greater than or equal to 1",
        ),
        (lambda d: d.update(criteria=[]), "criteria", "at least 1 item"),
        (
            lambda d: d["entry"]["files"].update(max_mb=25),
            "entry.files.max_mb",
            "less than or equal to 20",
        ),
        (
            lambda d: d["entry"]["files"].update(min_count=3),
            "entry.files",
            "min_count 3 is above max_count 2",
        ),
        (lambda d: d["entry"]["files"].update(types=[".PDF"]), "entry.files.types[0]", "pattern"),
        (
            lambda d: d["entry"]["files"].update(types=["pdf", "pdf"]),
            "entry.files.types",
            "listed twice: pdf",
        ),
        (
            lambda d: d["entry"].update(link="maybe"),
            "entry.link",
            "'required', 'optional' or 'off'",
        ),
        (
            lambda d: d["entry"].update(max_authors=0),
            "entry.max_authors",
            "greater than or equal to 1",
        ),
        (lambda d: d["title"].pop("ru"), "title.ru", "missing (every text needs kk, ru and en)"),
        (lambda d: d.update(blnd=True), "blnd", "unknown key (a typo?)"),
        (
            lambda d: d.update(reviews_per_entry=0),
            "reviews_per_entry",
            "greater than or equal to 1",
        ),
        (lambda d: d.update(code="Bad Code"), "code", "pattern"),
        (
            lambda d: d["criteria"][0]["title"].update(en="x" * 65),
            "criteria[0].title",
            "at most 64",
        ),
    ],
)
def test_each_mistake_is_named(change, path, reason):
    """Each broken field is reported as `file: path: reason`; nothing valid comes back."""
    data = _pack()
    change(data)
    errors = _errors(data)
    assert any(e.startswith(f"c.yaml: {path}: ") and reason in e for e in errors), errors


async def _contest(db, code="mini_contest") -> Contest:
    async with db() as session:
        found = await session.scalar(select(Contest).where(Contest.code == code))
        assert found is not None
        return found


async def test_loading_creates_keeps_and_updates_in_place(db):
    """First load: created, windows stored in UTC, state open, a jury code; the same content:
    unchanged; changed content with the same version: refused; a higher version: updated in
    place (the same row); a pack without windows keeps the ones set before."""
    first = await svc.load_reports(db, [check_data(_pack(), "c.yaml")])
    assert first.ok and [(x.code, x.version, x.status, x.kind) for x in first.loaded] == [
        ("mini_contest", 1, "created", "contest")
    ]
    stored = await _contest(db)
    assert stored.deadline_at == datetime(2027, 3, 1, 18, 59, tzinfo=UTC)
    assert stored.state == ContestState.OPEN.value and stored.jury_code
    assert (stored.max_authors, stored.reviews_per_entry, stored.blind) == (2, 3, True)
    view = await contests.by_code(db, "mini_contest")
    assert [(c.code, c.weight, c.max) for c in view.criteria] == [
        ("value", 3.0, 10),
        ("design", 1.0, 5),
    ]
    assert view.link is LinkRule.OPTIONAL and view.files.types == ("pdf",)
    assert parse_definition(stored.definition).code == "mini_contest"
    again = await svc.load_reports(db, [check_data(_pack(), "c.yaml")])
    assert [x.status for x in again.loaded] == ["unchanged"]
    retitled = _pack(title=_t("Renamed"))
    same_version = await svc.load_reports(db, [check_data(retitled, "c.yaml")])
    assert not same_version.ok
    assert "c.yaml: version: contest 'mini_contest' is loaded at version 1" in str(
        same_version.errors[0]
    )
    no_windows = dict(retitled, version=2)
    no_windows.pop("windows")
    updated = await svc.load_reports(db, [check_data(no_windows, "c.yaml")])
    assert [(x.version, x.status) for x in updated.loaded] == [(2, "new_version")]
    row = await _contest(db)
    assert (row.id, row.title["en"], row.pack_version) == (stored.id, "Renamed", 2)
    assert row.deadline_at == stored.deadline_at and row.jury_code == stored.jury_code


async def test_what_happened_locks_what_may_change(db):
    """With an entry the entry fields are locked but the title and windows may change; once
    allocated the rubric and review rules are locked; once released, show_feedback. Each
    refusal names the key and why; nothing of the batch is loaded."""
    assert (await svc.load_reports(db, [check_data(_pack(), "c.yaml")])).ok
    stored = await _contest(db)
    async with db.begin() as session:
        session.add(ContestEntry(contest_id=stored.id, code="E1", team_code="T1", state="draft"))
    fields = _pack(version=2, entry={"max_authors": 5})
    refused = await svc.load_reports(db, [check_data(fields, "c.yaml")])
    assert not refused.ok
    assert "c.yaml: entry: cannot change: it has 1 entries" in str(refused.errors[0])
    moved = _pack(version=2, title=_t("Moved"))
    moved["windows"] = dict(moved["windows"], deadline="2027-03-02T12:00:00+05:00")
    assert (await svc.load_reports(db, [check_data(moved, "c.yaml")])).ok
    async with db.begin() as session:
        row = await session.get(Contest, stored.id)
        assert row is not None
        row.allocated_at = datetime(2027, 3, 3, tzinfo=UTC)
    rubric = copy.deepcopy(moved)
    rubric.update(version=3)
    rubric["criteria"][0]["weight"] = 5
    refused = await svc.load_reports(db, [check_data(rubric, "c.yaml")])
    assert "c.yaml: criteria: cannot change: its entries are allocated to jurors" in str(
        refused.errors[0]
    )
    async with db.begin() as session:
        row = await session.get(Contest, stored.id)
        assert row is not None
        row.released_at = datetime(2027, 3, 25, tzinfo=UTC)
    hidden = dict(copy.deepcopy(moved), version=3, show_feedback=False)
    refused = await svc.load_reports(db, [check_data(hidden, "c.yaml")])
    assert "show_feedback: cannot change: its results are released" in str(refused.errors[0])
    assert (await _contest(db)).show_feedback is True


async def test_first_start_adds_the_contest_to_an_older_database(db):
    """A database with instruments and courses but no contest gets the shipped contest at
    start, and only it (no new instrument or course versions); a second start loads nothing."""
    async with db.begin() as session:
        await session.execute(delete(Contest))
        instruments = len((await session.scalars(select(Instrument.id))).all())
        courses = len((await session.scalars(select(Course.id))).all())
    assert instruments and courses
    outcome = await svc.load_defaults_if_empty(db)
    assert outcome is not None and outcome.ok
    assert [(x.code, x.kind, x.status) for x in outcome.loaded] == [
        ("dlt_platform_contest", "contest", "created")
    ]
    assert (await _contest(db, "dlt_platform_contest")).state == ContestState.DRAFT.value
    assert await svc.load_defaults_if_empty(db) is None


async def test_the_cli_validates_and_loads_contests(settings, tmp_path, capsys):
    """`content validate` summarises a contest; `content load` says '(contest)'; a broken one
    is listed with its path and nothing is loaded."""
    from bot.__main__ import load_content, validate_content

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(_pack(), allow_unicode=True), encoding="utf-8")
    assert validate_content(path) == 0
    assert "mini_contest v1 (contest), 2 criteria, 3 reviews per entry" in capsys.readouterr().out
    assert await load_content(settings, path) == 0
    assert f"{path}: mini_contest (contest) v1 created" in capsys.readouterr().out
    broken = _pack()
    broken["criteria"][0]["max"] = 500
    path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    assert validate_content(path) == 1
    assert "criteria[0].max" in capsys.readouterr().out
    assert [r.kind for r in check_path(tmp_path)] == [""]


async def test_an_organizer_uploads_a_contest_in_chat(db):
    """A contest pack sent in chat by an admin loads, recorded as created by them; a student's
    upload is refused before anything is read."""
    from bot.services import PermissionDenied
    from tests import factories
    from tests.conftest import ADMIN_ID

    admins = frozenset({ADMIN_ID})
    await factories.admin(db, ADMIN_ID, admins)
    await factories.student(db, 7_300_000_777)
    data = yaml.safe_dump(_pack(), allow_unicode=True).encode()
    outcome = await svc.load_upload(db, ADMIN_ID, admins, data, "c.yaml")
    assert outcome.ok and [(x.kind, x.status) for x in outcome.loaded] == [("contest", "created")]
    stored = await _contest(db)
    async with db() as session:
        from models import User

        admin = await session.scalar(select(User).where(User.telegram_id == ADMIN_ID))
    assert admin is not None and stored.created_by_id == admin.id
    with pytest.raises(PermissionDenied):
        await svc.load_upload(db, 7_300_000_777, admins, data, "c.yaml")
