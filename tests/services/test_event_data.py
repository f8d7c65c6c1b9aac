"""Event data: the `events` and `attendance` datasets (codes 6 and 7) in every format.

The event rows (Event, EventRegistration, EventReminder) are inserted directly with the models,
as the events' own services would leave them; people are onboarded through the factories.
Tried: a Telegram id, a name or a username in a pseudonymous export; drafts exported as events;
a waiting or cancelled registration counted as registered or as a no-show; no-shows counted for
an event not yet over, or for a cancelled one; reminders that were skipped counted as sent; an
organizer of one university seeing another's rows; a comment starting with "=" run as a
formula by a spreadsheet; the SPSS, Parquet and XLSX writers on these tables.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services.exports import Filters, Options, export
from bot.services.exports.datasets import DATASETS, by_code
from bot.services.exports.request import Request
from bot.services.universities import list_universities
from models import Event, EventRegistration, EventReminder, User
from tests import factories

ADMINS = frozenset({1})
KEY = "event-data-key"
T0 = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)  # long over, whatever the clock says
FUTURE = datetime(2099, 3, 2, 10, 0, tzinfo=UTC)  # far ahead, whatever the clock says
COMMENT = "=HYPERLINK(1) great session"


@dataclass
class Seeded:
    """What `seed` made: the universities and the event ids."""

    universities: list = field(default_factory=list)
    webinar: int = 0  # over: two attended, one no-show, one waiting, one cancelled
    seminar: int = 0  # ahead: one registered
    cancelled: int = 0  # cancelled: one registration, no no-show
    draft: int = 0  # never exported


def _text(word: str) -> dict[str, str]:
    return {"kk": f"{word} kk", "ru": f"{word} ru", "en": word}


async def add_event(
    db,
    *,
    code: str,
    kind: str = "webinar",
    state: str = "published",
    starts: datetime = T0,
    minutes: int = 60,
    university_id: int | None = None,
    created_by: int | None = None,
    capacity: int | None = None,
    title: dict[str, str] | None = None,
) -> int:
    """An event as the events service leaves it once published (or as a draft); its id."""
    async with db.begin() as session:
        creator = None
        if created_by is not None:
            creator = await session.scalar(select(User.id).where(User.telegram_id == created_by))
        event = Event(
            code=code,
            kind=kind,
            state=state,
            title=title or _text(f"Event {code}"),
            description=_text("About"),
            starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes),
            duration_minutes=minutes,
            timezone="Asia/Almaty",
            join_url="https://meet.example.org/x",
            university_id=university_id,
            audience_kind="all",
            capacity=capacity,
            reminder_offsets=[1440, 60, 10],
            created_by_id=creator,
            published_at=None if state == "draft" else starts - timedelta(days=3),
            cancelled_at=starts - timedelta(days=1) if state == "cancelled" else None,
        )
        session.add(event)
        await session.flush()
        return event.id


async def register(
    db,
    event_id: int,
    telegram_id: int,
    *,
    state: str = "registered",
    checked_in: bool = False,
    rating: int | None = None,
    comment: str | None = None,
    sent: int = 0,
    skipped: int = 0,
    promoted: bool = False,
) -> int:
    """A registration with `sent` reminders sent and `skipped` skipped; its id."""
    async with db.begin() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        event = await session.get_one(Event, event_id)
        starts = event.starts_at
        registration = EventRegistration(
            event_id=event_id,
            user_id=user.id,
            state=state,
            registered_at=starts - timedelta(days=2) if state == "registered" else None,
            waiting_since=starts - timedelta(days=2, hours=1)
            if state == "waiting" or promoted
            else None,
            promoted_at=starts - timedelta(days=2) if promoted else None,
            cancelled_at=starts - timedelta(days=1) if state == "cancelled" else None,
            checked_in_at=starts + timedelta(minutes=3) if checked_in else None,
            feedback_rating=rating,
            feedback_comment=comment,
            feedback_at=starts + timedelta(hours=2) if rating is not None else None,
        )
        session.add(registration)
        await session.flush()
        offsets = [1440, 60, 10]
        for i, offset in enumerate(offsets[: sent + skipped]):
            due = starts - timedelta(minutes=offset)
            session.add(
                EventReminder(
                    registration_id=registration.id,
                    offset_minutes=offset,
                    due_at=due,
                    sent_at=due if i < sent else None,
                    skipped_at=due if i >= sent else None,
                )
            )
        for offset in offsets[sent + skipped :]:
            session.add(
                EventReminder(
                    registration_id=registration.id,
                    offset_minutes=offset,
                    due_at=starts - timedelta(minutes=offset),
                )
            )
        return registration.id


async def people(db) -> list:
    """Five students: three of the first university (kk, ru, en), two of the fifth (en)."""
    unis = await list_universities(db)
    await factories.student(db, 1, ADMINS, first_name="Admin")
    for telegram_id, uni, language in (
        (111111111, 0, "kk"),
        (222222222, 0, "ru"),
        (333333333, 4, "en"),
        (444444444, 4, "en"),
        (555555555, 0, "en"),
    ):
        await factories.student(
            db,
            telegram_id,
            ADMINS,
            university=uni,
            language=language,
            first_name=f"Name{telegram_id}",
            username=f"u{telegram_id}",
        )
    return unis


async def seed(db, owner: int | None = None) -> Seeded:
    """Four events (one a draft) and their registrations; see `Seeded`.

    `owner` (a Telegram id, registered already) scheduled the webinar.
    """
    unis = await people(db)
    seeded = Seeded(unis)
    seeded.webinar = await add_event(
        db, code="web1", university_id=unis[0].id, capacity=3, created_by=owner
    )
    seeded.seminar = await add_event(
        db, code="sem1", kind="seminar", starts=FUTURE, university_id=unis[4].id
    )
    seeded.cancelled = await add_event(
        db,
        code="can1",
        state="cancelled",
        starts=T0 - timedelta(days=7),
        university_id=unis[0].id,
        title={"*": "One title for every language"},  # typed without [kk]/[ru]/[en]
    )
    seeded.draft = await add_event(db, code="drf1", state="draft", university_id=unis[0].id)
    web = seeded.webinar
    await register(db, web, 111111111, checked_in=True, rating=5, comment=COMMENT, sent=3)
    await register(db, web, 222222222, sent=1, skipped=2)  # registered, never came
    await register(db, web, 333333333, checked_in=True, rating=3, sent=2, promoted=True)
    await register(db, web, 444444444, state="waiting")
    await register(db, web, 555555555, state="cancelled", sent=1)
    await register(db, seeded.seminar, 111111111)
    await register(db, seeded.cancelled, 222222222)
    await register(db, seeded.draft, 333333333)
    return seeded


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


async def _export(settings, dataset, fmt, folder, filters=None, identified=False, language="en"):
    opts = Options(KEY, language, identified)
    folder.mkdir(parents=True, exist_ok=True)
    return await export(
        settings.database_url, dataset, fmt, filters or Filters(), opts, folder, stem=dataset
    )


SECRETS = ("111111111", "222222222", "Name333333333", "u444444444", "Name555555555")


def test_the_event_datasets_have_their_own_codes():
    """Codes 6 and 7 after the course's; the earlier ones keep theirs; a request carries them."""
    assert by_code("6") is DATASETS["events"]
    assert by_code("7") is DATASETS["attendance"]
    assert [by_code(code).name for code in "012345"] == [
        "answers",
        "wide",
        "scores",
        "swot",
        "course_progress",
        "course_checks",
    ]
    for name, code in (("events", "6"), ("attendance", "7")):
        assert set(DATASETS[name].description) == {"kk", "ru", "en"}
        assert Request.decode(f"{code}.0.0.0.0.1.0").dataset_name == name
        assert Request.from_compact(f"{code}.0.0.0.1.0").dataset_name == name


async def test_the_events_dataset_counts_each_event(db, settings, tmp_path):
    """One row per published or cancelled event (no draft), with its figures; no person."""
    seeded = await seed(db)
    written = await _export(settings, "events", "csv", tmp_path)
    assert written.rows == 3
    rows = _read(tmp_path / "events.csv")
    assert [r["event_code"] for r in rows] == ["can1", "web1", "sem1"]  # by start
    cancelled, web, sem = rows
    assert web["event"] == str(seeded.webinar) and web["kind"] == "webinar"
    assert web["event_state"] == "published" and web["title"] == "Event web1"
    assert web["host_university"] == seeded.universities[0].code
    assert web["starts_at"] == "2025-11-03 09:00:00" and web["ends_at"] == "2025-11-03 10:00:00"
    assert web["duration_minutes"] == "60" and web["capacity"] == "3"
    assert web["reminder_offsets"] == "1440;60;10" and web["timezone"] == "Asia/Almaty"
    figures = ("registered", "waiting", "registrations_cancelled", "reminded", "reminders_sent")
    assert [web[f] for f in figures] == ["3", "1", "1", "4", "7"]
    assert (web["attended"], web["no_shows"], web["feedback_n"]) == ("2", "1", "2")
    assert float(web["feedback_mean"]) == 4.0
    assert (sem["registered"], sem["no_shows"], sem["feedback_mean"]) == ("1", "", "")
    assert sem["capacity"] == ""  # no limit
    assert cancelled["event_state"] == "cancelled" and cancelled["no_shows"] == ""
    assert cancelled["cancelled_at"] == "2025-10-26 09:00:00"
    assert cancelled["title"] == "One title for every language"
    text = (tmp_path / "events.csv").read_text(encoding="utf-8-sig")
    assert "drf1" not in text and "participant" not in rows[0]
    book = json.loads(written.codebook.read_text(encoding="utf-8"))
    assert book["dataset"] == "events" and book["description"] == DATASETS["events"].description
    (table,) = book["tables"]
    variables = {v["name"]: v for v in table["variables"]}
    assert variables["starts_at"]["type"] == "datetime"
    assert variables["feedback_mean"]["type"] == "float"
    assert "webinar" in variables["kind"]["value_labels"]
    assert all(set(v["label"]) == {"kk", "ru", "en"} for v in variables.values())


async def test_attendance_has_a_row_per_person_and_event_and_no_identity(db, settings, tmp_path):
    """Every registration of a non-draft event, pseudonymous; reminders, check-in, feedback."""
    seeded = await seed(db)
    written = await _export(settings, "attendance", "csv", tmp_path)
    assert written.rows == 7  # five for the webinar, one each for the seminar and cancelled
    out = tmp_path / "attendance.csv"
    text = out.read_text(encoding="utf-8-sig")
    for secret in SECRETS:
        assert secret not in text
    rows = _read(out)
    assert list(rows[0])[:5] == ["participant", "university", "country", "language", "event"]
    assert all(r["participant"].startswith("P") and len(r["participant"]) == 16 for r in rows)
    assert [r["event_code"] for r in rows] == ["can1"] + ["web1"] * 5 + ["sem1"]
    web = rows[1:6]
    assert [r["registration_state"] for r in web] == [
        "registered",
        "registered",
        "registered",
        "waiting",
        "cancelled",
    ]
    assert [r["reminders_sent"] for r in web] == ["3", "1", "2", "0", "1"]
    assert [r["reminded"] for r in web] == ["1", "1", "1", "0", "1"]
    assert [r["checked_in"] for r in web] == ["1", "0", "1", "0", "0"]
    assert [r["feedback_rating"] for r in web] == ["5", "", "3", "", ""]
    assert web[0]["feedback_comment"] == "'" + COMMENT  # made inert for spreadsheets
    assert web[0]["checked_in_at"] == "2025-11-03 09:03:00"
    assert web[0]["registered_at"] == "2025-11-01 09:00:00"
    assert web[2]["promoted_at"] == "2025-11-01 09:00:00" and web[2]["waiting_since"]
    assert web[3]["registered_at"] == "" and web[3]["waiting_since"] == "2025-11-01 08:00:00"
    assert web[0]["university"] == seeded.universities[0].code and web[0]["language"] == "kk"
    assert web[2]["university"] == seeded.universities[4].code
    assert web[0]["host_university"] == seeded.universities[0].code
    assert web[0]["participant"] == rows[6]["participant"]  # the same person, the same code
    book = json.loads(written.codebook.read_text(encoding="utf-8"))
    (table,) = book["tables"]
    variables = {v["name"]: v for v in table["variables"]}
    assert "telegram_id" not in variables
    assert set(variables["feedback_rating"]["value_labels"]) == {"1", "2", "3", "4", "5"}
    assert set(variables["registration_state"]["value_labels"]) == {
        "registered",
        "waiting",
        "cancelled",
    }


async def test_the_event_datasets_in_xlsx_parquet_and_spss(db, settings, tmp_path):
    """Both tables open in every format with their types: Parquet typed columns, SPSS value
    labels for the ratings and a numeric mean, XLSX a sheet and the codebook."""
    import openpyxl
    import pandas as pd
    import pyreadstat

    await seed(db)
    for dataset, rows in (("events", 3), ("attendance", 7)):
        parquet = await _export(settings, dataset, "parquet", tmp_path / f"{dataset}-pq")
        frame = pd.read_parquet(parquet.files[0])
        assert len(frame) == rows and parquet.codebook.exists()
        assert str(frame["starts_at"].dtype).startswith("datetime64") and "UTC" in str(
            frame["starts_at"].dtype
        )
        sav = await _export(settings, dataset, "sav", tmp_path / f"{dataset}-sav", language="ru")
        data, meta = pyreadstat.read_sav(str(sav.files[0]))
        assert len(data) == rows
        assert meta.column_names_to_labels["event"] == "Номер события"
        xlsx = await _export(settings, dataset, "xlsx", tmp_path / f"{dataset}-x")
        book = openpyxl.load_workbook(xlsx.files[0], read_only=True)
        assert book.sheetnames == [dataset, "codebook"]
        assert book[dataset].max_row == rows + 1
        book.close()
    frame = pd.read_parquet(tmp_path / "events-pq" / "events.parquet")
    assert list(frame["feedback_n"]) == [0, 2, 0]
    assert frame["feedback_mean"].iloc[1] == 4.0 and pd.isna(frame["feedback_mean"].iloc[0])
    data, meta = pyreadstat.read_sav(str(tmp_path / "attendance-sav" / "attendance.sav"))
    assert meta.variable_value_labels["feedback_rating"][5.0] == "5 — отлично"
    assert sorted(data["feedback_rating"].dropna()) == [3.0, 5.0]
    data, _ = pyreadstat.read_sav(str(tmp_path / "events-sav" / "events.sav"))
    assert list(data["attended"]) == [0, 2, 0]


async def test_event_exports_follow_filters_and_scope(db, settings, tmp_path):
    """Events narrow by the hosting university, attendance by the participant's; the period
    by the event's start; an empty scope gives nothing."""
    seeded = await seed(db)
    unis = seeded.universities
    for dataset in ("events", "attendance"):
        nothing = await _export(
            settings, dataset, "csv", tmp_path / f"{dataset}-0", Filters(scope=())
        )
        assert nothing.rows == 0
    scoped = Filters(scope=(unis[4].code,))
    written = await _export(settings, "events", "csv", tmp_path / "e4", scoped)
    assert written.rows == 1  # the seminar is hosted by unis[4]
    written = await _export(settings, "attendance", "csv", tmp_path / "a4", scoped)
    assert written.rows == 2  # two students of unis[4] at the webinar
    by_country = Filters(country=unis[0].country)
    written = await _export(settings, "attendance", "csv", tmp_path / "ac", by_country)
    expected = 7 if unis[4].country == unis[0].country else 5
    assert written.rows == expected
    later = Filters(since=(T0 + timedelta(days=1)).date())
    written = await _export(settings, "events", "csv", tmp_path / "el", later)
    assert written.rows == 1  # the seminar only
    before = Filters(until=T0.date())
    written = await _export(settings, "attendance", "csv", tmp_path / "ab", before)
    assert written.rows == 6  # the cancelled event's and the webinar's


async def test_an_identified_attendance_export_names_the_people(db, settings, tmp_path):
    """Identified (admins only, checked by the service) adds the Telegram id, as elsewhere."""
    await seed(db)
    await _export(settings, "attendance", "csv", tmp_path, identified=True)
    rows = _read(tmp_path / "attendance.csv")
    assert rows[1]["telegram_id"] == "111111111" and rows[1]["first_name"] == "Name111111111"
    assert {r["username"] for r in rows} >= {"u111111111", "u444444444"}


@pytest.mark.parametrize("dataset", ["events", "attendance"])
async def test_an_empty_database_exports_no_rows(db, settings, tmp_path, dataset):
    """No event yet: no rows, no error, in the format that holds the table in memory too."""
    written = await _export(settings, dataset, "sav", tmp_path)
    assert written.rows == 0
