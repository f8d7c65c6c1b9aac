"""Resource bank data: the `resources` and `resource_use` datasets (codes 10 and 11).

The bank's rows (Discipline, Resource, ResourceUse, ResourceRating) are inserted directly with
the models, as the bank's services leave them; people are onboarded through the factories.
Tried: a Telegram id, a name or a username in a pseudonymous export; a rating's comment text in
a pseudonymous export; the contributor given their participant code (which `authors` would
name); drafts exported, or their uses; uses by people of the resource's own university, or of
no university, counted as uses from other universities; a rating without a use lost; an
organizer of one university seeing another's rows or asking for identities; a comment starting
with "=" run as a formula by a spreadsheet; the SPSS, Parquet and XLSX writers on these tables.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from bot.services import PermissionDenied, exports
from bot.services.exports import Filters, Options, export, pseudonym
from bot.services.exports.datasets import DATASETS, by_code
from bot.services.exports.request import Request
from bot.services.exports.resources import KINDS, LEVELS, STATES, contributor_code
from bot.services.universities import list_universities
from models import Discipline, Resource, ResourceRating, ResourceUse, User
from tests import factories

ADMINS = frozenset({1})
KEY = "resource-data-key"
T0 = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
COMMENT = "=HYPERLINK(1) very useful"
SIGNED = "Thanks! Name111111111, Dulaty"
COACH = 700000001  # contributes for the first university
COACH2 = 800000002  # contributes for the fifth
SECRETS = (
    "111111111",
    "Name222222222",
    "u333333333",
    str(COACH),
    str(COACH2),
    "CoachOne",
    "coach_two",
    SIGNED,
    "very useful",
)


@dataclass
class Seeded:
    """What `seed` made: the universities and the resource ids by code."""

    universities: list = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)


async def _user_id(session, telegram_id: int) -> int:
    return await session.scalar(select(User.id).where(User.telegram_id == telegram_id))


async def add_resource(
    db,
    code: str,
    *,
    state: str = "approved",
    university_id: int | None,
    contributor: int | None,
    submitted: datetime | None,
    approved: datetime | None = None,
    title: dict[str, str] | None = None,
    discipline_id: int | None = None,
    **fields,
) -> int:
    """A resource as the bank's services leave it; its id."""
    async with db.begin() as session:
        resource = Resource(
            code=code,
            state=state,
            title=title or {"kk": f"{code} kk", "ru": f"{code} ru", "en": f"{code} en"},
            description={"en": "About"},
            discipline_id=discipline_id,
            university_id=university_id,
            contributor_id=None if contributor is None else await _user_id(session, contributor),
            submitted_at=submitted,
            approved_at=approved,
            **fields,
        )
        session.add(resource)
        await session.flush()
        return resource.id


async def use(
    db,
    resource_id: int,
    telegram_id: int,
    *,
    day: int,
    opened: int = 1,
    rating: int | None = None,
    comment: str | None = None,
    used: bool = True,
) -> None:
    """`telegram_id` opened the resource `opened` times from T0 + `day`; and maybe rated it."""
    async with db.begin() as session:
        user_id = await _user_id(session, telegram_id)
        first = T0 + timedelta(days=day)
        if used:
            session.add(
                ResourceUse(
                    resource_id=resource_id,
                    user_id=user_id,
                    first_used_at=first,
                    last_used_at=first + timedelta(hours=opened - 1),
                    opened=opened,
                )
            )
        if rating is not None:
            at = first + timedelta(hours=opened)
            session.add(
                ResourceRating(
                    resource_id=resource_id,
                    user_id=user_id,
                    rating=rating,
                    comment=comment,
                    created_at=at,
                    updated_at=at,
                )
            )


async def seed(db) -> Seeded:
    """Six resources (one a draft, one default content) and their uses and ratings.

    RB1 (first university, coach 1, a PDF): used by 111 (same university, 5 and a comment),
    333 (fifth: 3), 444 (fifth: not rated) and 999 (no university: 4, a blank comment).
    RB2 (fifth university, coach 2, a link, Russian only): used by 111 (other: 2, a signed
    comment), rated by 222 with no use recorded. RB3 pending and RB4 rejected, unused. RB5 a
    draft, opened by its contributor. RB6 default content: no university, no contributor,
    approved without a submission; used by 222.
    """
    unis = await list_universities(db)
    await factories.student(db, 1, ADMINS, first_name="Admin")
    for telegram_id, uni, language in (
        (111111111, 0, "kk"),
        (222222222, 0, "ru"),
        (333333333, 4, "en"),
        (444444444, 4, "en"),
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
    await factories.person(db, 999999999, ADMINS, first_name="Nobody")  # not onboarded
    await factories.coach(db, COACH, ADMINS, university=unis[0], first_name="CoachOne")
    await factories.coach(db, COACH2, ADMINS, university=unis[4], first_name="CoachTwo")
    async with db.begin() as session:
        coach2 = await session.scalar(select(User).where(User.telegram_id == COACH2))
        coach2.username = "coach_two"
        await session.execute(delete(Resource))  # the default pack's: this example counts alone
        discipline = await session.scalar(
            select(Discipline).where(Discipline.code == "digital_pedagogy")
        )
        if discipline is None:  # the default pack has it; a database without the pack does not
            discipline = Discipline(code="digital_pedagogy")
            session.add(discipline)
        discipline.name = {
            "kk": "Цифрлық педагогика",
            "ru": "Цифровая педагогика",
            "en": "Digital pedagogy",
        }
        await session.flush()
        discipline_id = discipline.id
    seeded = Seeded(unis)
    ids = seeded.ids
    ids["RB1"] = await add_resource(
        db,
        "RB1",
        university_id=unis[0].id,
        contributor=COACH,
        submitted=T0,
        approved=T0 + timedelta(days=1),
        discipline_id=discipline_id,
        kind="textbook",
        languages=["kk", "ru"],
        level="bachelor",
        license="CC BY",
        authors="А. Сейітова, B. Smith",
        file_id="BQACAgIAAxkBAAIB",
        file_name="textbook.pdf",
        mime_type="application/pdf",
        file_size=123456,
    )
    ids["RB2"] = await add_resource(
        db,
        "RB2",
        university_id=unis[4].id,
        contributor=COACH2,
        submitted=T0 + timedelta(days=10),
        approved=T0 + timedelta(days=11),
        title={"ru": "Только по-русски"},
        kind="video",
        languages=["ru"],
        level="master",
        license="CC BY-SA",
        authors="Coach Two",
        url="https://example.org/video",
    )
    ids["RB3"] = await add_resource(
        db, "RB3", state="pending", university_id=unis[0].id, contributor=COACH, submitted=T0
    )
    ids["RB4"] = await add_resource(
        db,
        "RB4",
        state="rejected",
        university_id=unis[4].id,
        contributor=COACH2,
        submitted=T0 + timedelta(days=20),
    )
    ids["RB5"] = await add_resource(
        db, "RB5", state="draft", university_id=unis[0].id, contributor=COACH, submitted=None
    )
    ids["RB6"] = await add_resource(
        db,
        "RB6",
        university_id=None,
        contributor=None,
        submitted=None,
        approved=T0 + timedelta(days=5),
        title={"*": "One title for every language"},
        kind="other",
        license="CC0",
        url="https://example.org/oer",
    )
    await use(db, ids["RB1"], 111111111, day=2, opened=3, rating=5, comment=COMMENT)
    await use(db, ids["RB1"], 333333333, day=3, rating=3)
    await use(db, ids["RB1"], 444444444, day=4, opened=2)
    await use(db, ids["RB1"], 999999999, day=6, rating=4, comment="   ")
    await use(db, ids["RB2"], 111111111, day=12, rating=2, comment=SIGNED)
    await use(db, ids["RB2"], 222222222, day=13, rating=1, used=False)
    await use(db, ids["RB5"], COACH, day=1)
    await use(db, ids["RB6"], 222222222, day=7)
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


async def _internal_id(db, telegram_id: int) -> int:
    async with db() as session:
        return await _user_id(session, telegram_id)


def test_the_bank_datasets_have_their_own_codes():
    """Codes 10 and 11 after the contest's; a request carries them; labels in kk/ru/en."""
    assert by_code("10") is DATASETS["resources"]
    assert by_code("11") is DATASETS["resource_use"]
    assert by_code("1") is DATASETS["wide"]  # "10" is not read as "1" and a 0
    for name, code in (("resources", "10"), ("resource_use", "11")):
        assert set(DATASETS[name].description) == {"kk", "ru", "en"}
        assert Request.decode(f"{code}.0.0.0.0.1.0").dataset_name == name
        assert Request.from_compact(f"{code}.0.0.0.1.0").dataset_name == name
        assert Request(dataset=code).encode().startswith(f"{code}.")


async def test_the_resources_dataset_has_a_row_per_resource_and_its_figures(
    db, settings, tmp_path
):
    """Every resource past its draft, by submission; metadata, file or link, and the bank's
    figures; the contributor a code of its own, no identity."""
    seeded = await seed(db)
    unis = seeded.universities
    written = await _export(settings, "resources", "csv", tmp_path)
    assert written.rows == 5
    out = tmp_path / "resources.csv"
    text = out.read_text(encoding="utf-8-sig")
    for secret in SECRETS:
        assert secret not in text
    rows = _read(out)
    # RB6 has no submission: ordered (and filtered) by its approval
    assert [r["resource_code"] for r in rows] == ["RB1", "RB3", "RB6", "RB2", "RB4"]
    by = {r["resource_code"]: r for r in rows}
    rb1, rb2, rb6 = by["RB1"], by["RB2"], by["RB6"]
    assert rb1["resource"] == str(seeded.ids["RB1"]) and rb1["state"] == "approved"
    assert (rb1["title_kk"], rb1["title_ru"], rb1["title_en"]) == ("RB1 kk", "RB1 ru", "RB1 en")
    assert rb1["discipline"] == "digital_pedagogy"
    assert rb1["discipline_name"] == "Digital pedagogy"
    assert (rb1["kind"], rb1["languages"], rb1["level"]) == ("textbook", "kk;ru", "bachelor")
    assert rb1["license"] == "CC BY" and rb1["authors"] == "А. Сейітова, B. Smith"
    assert (rb1["university"], rb1["country"]) == (unis[0].code, unis[0].country)
    assert (rb1["has_file"], rb1["file_type"], rb1["file_size"], rb1["link"]) == (
        "1",
        "application/pdf",
        "123456",
        "",
    )
    assert rb1["submitted_at"] == "2025-11-03 09:00:00"
    assert rb1["approved_at"] == "2025-11-04 09:00:00"
    # 111 is of RB1's university, 999 of none: two of four from other universities
    assert (rb1["uses"], rb1["uses_other_universities"], rb1["ratings_n"]) == ("4", "2", "3")
    assert float(rb1["rating_mean"]) == 4.0
    assert (rb2["title_kk"], rb2["title_ru"], rb2["title_en"]) == ("", "Только по-русски", "")
    assert (rb2["has_file"], rb2["file_size"], rb2["link"]) == (
        "0",
        "",
        "https://example.org/video",
    )
    # the rating given without a recorded use still counts as a rating
    assert (rb2["uses"], rb2["uses_other_universities"], rb2["ratings_n"]) == ("1", "1", "2")
    assert float(rb2["rating_mean"]) == 1.5
    assert by["RB3"]["state"] == "pending" and by["RB3"]["approved_at"] == ""
    assert by["RB3"]["uses"] == "0" and by["RB3"]["rating_mean"] == ""
    assert by["RB4"]["state"] == "rejected"
    assert rb6["title_en"] == rb6["title_kk"] == "One title for every language"
    assert (rb6["university"], rb6["contributor"], rb6["submitted_at"]) == ("", "", "")
    assert (rb6["uses"], rb6["uses_other_universities"]) == ("1", "0")  # no university: none
    coach = await _internal_id(db, COACH)
    assert rb1["contributor"] == by["RB3"]["contributor"] == contributor_code(KEY, coach)
    assert rb1["contributor"].startswith("C") and len(rb1["contributor"]) == 16
    assert rb1["contributor"] != pseudonym(KEY, coach)  # not their participant code
    assert rb2["contributor"] not in (rb1["contributor"], "")
    assert "RB5" not in text and "participant" not in rows[0]
    book = json.loads(written.codebook.read_text(encoding="utf-8"))
    assert book["dataset"] == "resources"
    assert book["description"] == DATASETS["resources"].description
    (table,) = book["tables"]
    variables = {v["name"]: v for v in table["variables"]}
    assert "contributor_telegram_id" not in variables
    assert variables["approved_at"]["type"] == "datetime"
    assert variables["rating_mean"]["type"] == "float"
    assert set(variables["kind"]["value_labels"]) == set(KINDS)
    assert set(variables["level"]["value_labels"]) == set(LEVELS)
    assert set(variables["state"]["value_labels"]) == set(STATES)
    assert "contributor:" in variables["contributor"]["derived"]
    assert any("participant code" in note for note in table["notes"])
    assert all(set(v["label"]) == {"kk", "ru", "en"} for v in variables.values())


async def test_resource_use_has_a_row_per_person_and_resource_without_identities(
    db, settings, tmp_path
):
    """Each use (and the rating without one) of a non-draft resource, pseudonymous: the
    participant's code as elsewhere, universities compared, whether they commented, and no
    comment text."""
    seeded = await seed(db)
    unis = seeded.universities
    written = await _export(settings, "resource_use", "csv", tmp_path)
    assert written.rows == 7  # six uses and the rating without one; the draft's use left out
    out = tmp_path / "resource_use.csv"
    text = out.read_text(encoding="utf-8-sig")
    for secret in SECRETS:
        assert secret not in text
    rows = _read(out)
    assert list(rows[0])[:6] == [
        "participant",
        "university",
        "country",
        "language",
        "resource",
        "resource_code",
    ]
    assert "comment" not in rows[0]
    assert [r["resource_code"] for r in rows] == ["RB1"] * 3 + ["RB1", "RB6", "RB2", "RB2"]
    first, other, unrated, nobody, rb6, rb2, unused = rows
    assert first["participant"] == pseudonym(KEY, await _internal_id(db, 111111111))
    assert first["participant"] == rb2["participant"]  # the same person, the same code
    assert (first["university"], first["language"]) == (unis[0].code, "kk")
    assert first["resource_university"] == unis[0].code
    assert [r["same_university"] for r in rows] == ["1", "0", "0", "", "", "0", "0"]
    assert first["first_used_at"] == "2025-11-05 09:00:00"
    assert first["last_used_at"] == "2025-11-05 11:00:00" and first["times_opened"] == "3"
    assert (first["rating"], first["rated_at"], first["commented"]) == (
        "5",
        "2025-11-05 12:00:00",
        "1",
    )
    assert (other["rating"], other["commented"]) == ("3", "0")
    assert (unrated["rating"], unrated["rated_at"], unrated["commented"]) == ("", "", "0")
    assert nobody["university"] == "" and nobody["commented"] == "0"  # a blank comment
    assert rb6["resource_university"] == "" and rb6["rating"] == ""
    assert (rb2["rating"], rb2["commented"]) == ("2", "1")
    assert (unused["times_opened"], unused["first_used_at"], unused["rating"]) == ("0", "", "1")
    book = json.loads(written.codebook.read_text(encoding="utf-8"))
    (table,) = book["tables"]
    variables = {v["name"]: v for v in table["variables"]}
    assert "telegram_id" not in variables and "comment" not in variables
    assert set(variables["rating"]["value_labels"]) == {"1", "2", "3", "4", "5"}
    assert any("identified exports only" in note for note in table["notes"])


async def test_identified_bank_exports_name_people_and_carry_the_comments(db, settings, tmp_path):
    """Identified (admins only): the contributor's and the user's Telegram id, name and
    username, and the comment text, made inert for spreadsheets."""
    await seed(db)
    await _export(settings, "resources", "csv", tmp_path / "r", identified=True)
    rows = {r["resource_code"]: r for r in _read(tmp_path / "r" / "resources.csv")}
    assert rows["RB1"]["contributor_telegram_id"] == str(COACH)
    assert rows["RB1"]["contributor_first_name"] == "CoachOne"
    assert rows["RB2"]["contributor_username"] == "coach_two"
    assert rows["RB6"]["contributor_telegram_id"] == ""
    await _export(settings, "resource_use", "csv", tmp_path / "u", identified=True)
    rows = _read(tmp_path / "u" / "resource_use.csv")
    assert rows[0]["telegram_id"] == "111111111" and rows[0]["first_name"] == "Name111111111"
    assert rows[0]["comment"] == "'" + COMMENT  # made inert for spreadsheets
    assert rows[5]["comment"] == SIGNED


async def test_bank_identities_are_for_admins_and_organizers_see_their_university(
    db, settings, tmp_path
):
    """An organizer of the fifth university is refused identities, and gets the resources
    credited to it and the uses by its people; asking for another university gives nothing."""
    seeded = await seed(db)
    unis = seeded.universities
    await factories.organizer(db, 902, ADMINS, university=unis[4])
    url = settings.database_url
    identified = Options(KEY, "en", identified=True)
    for dataset in ("resources", "resource_use"):
        with pytest.raises(PermissionDenied, match="identified_admins_only"):
            await exports.export_for_chat(
                db, url, 902, ADMINS, dataset, "csv", Filters(), identified, tmp_path / dataset
            )
        assert not (tmp_path / dataset).exists()  # nothing written

    async def organizer_rows(dataset: str, filters: Filters) -> list[dict[str, str]]:
        folder = tmp_path / f"{dataset}-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        files, _ = await exports.export_for_chat(
            db, url, 902, ADMINS, dataset, "csv", filters, Options(KEY), folder
        )
        return _read(files[0]) if files else []

    rows = await organizer_rows("resources", Filters())
    assert [r["resource_code"] for r in rows] == ["RB2", "RB4"]
    rows = await organizer_rows("resource_use", Filters())
    assert [r["resource_code"] for r in rows] == ["RB1", "RB1"]  # 333 and 444
    assert {r["university"] for r in rows} == {unis[4].code}
    assert await organizer_rows("resources", Filters(university=unis[0].code)) == []
    (tmp_path / "admin").mkdir()
    files, written = await exports.export_for_chat(
        db, url, 1, ADMINS, "resource_use", "csv", Filters(), identified, tmp_path / "admin"
    )
    assert written.rows == 7 and "111111111" in files[0].read_text(encoding="utf-8-sig")


async def test_bank_exports_follow_filters(db, settings, tmp_path):
    """`resources` narrows by the resource's university and its submission day; `resource_use`
    by the person's university and the first use's day; an empty scope gives nothing."""
    seeded = await seed(db)
    unis = seeded.universities

    async def rows(dataset: str, filters: Filters) -> list[str]:
        folder = tmp_path / f"{dataset}-{len(list(tmp_path.iterdir()))}"
        await _export(settings, dataset, "csv", folder, filters)
        found = folder / f"{dataset}.csv"
        return [r["resource_code"] for r in _read(found)] if found.exists() else []

    for dataset in ("resources", "resource_use"):
        assert await rows(dataset, Filters(scope=())) == []
    assert await rows("resources", Filters(university=unis[0].code)) == ["RB1", "RB3"]
    assert await rows("resource_use", Filters(university=unis[0].code)) == [
        "RB1",
        "RB6",
        "RB2",
        "RB2",
    ]
    assert await rows("resources", Filters(scope=(unis[4].code,))) == ["RB2", "RB4"]
    later = Filters(since=(T0 + timedelta(days=5)).date())
    assert await rows("resources", later) == ["RB6", "RB2", "RB4"]  # RB6 by its approval
    assert await rows("resource_use", later) == ["RB1", "RB6", "RB2", "RB2"]
    before = Filters(until=(T0 + timedelta(days=3)).date())
    assert await rows("resource_use", before) == ["RB1", "RB1"]
    country = unis[0].country
    expected = ["RB1", "RB3", "RB6", "RB2", "RB4"]
    if unis[4].country != country:
        expected = ["RB1", "RB3"]
    assert await rows("resources", Filters(country=country)) == expected


async def test_the_bank_datasets_in_xlsx_parquet_and_spss(db, settings, tmp_path):
    """Both tables open in every format with their types: Parquet typed columns, SPSS labels
    and value labels, XLSX a sheet and the codebook."""
    import openpyxl
    import pandas as pd
    import pyreadstat

    await seed(db)
    for dataset, rows in (("resources", 5), ("resource_use", 7)):
        parquet = await _export(settings, dataset, "parquet", tmp_path / f"{dataset}-pq")
        frame = pd.read_parquet(parquet.files[0])
        assert len(frame) == rows and parquet.codebook.exists()
        sav = await _export(settings, dataset, "sav", tmp_path / f"{dataset}-sav", language="ru")
        data, meta = pyreadstat.read_sav(str(sav.files[0]))
        assert len(data) == rows
        assert meta.column_names_to_labels["resource"] == "Номер ресурса"
        xlsx = await _export(settings, dataset, "xlsx", tmp_path / f"{dataset}-x")
        book = openpyxl.load_workbook(xlsx.files[0], read_only=True)
        assert book.sheetnames == [dataset, "codebook"]
        assert book[dataset].max_row == rows + 1
        book.close()
    frame = pd.read_parquet(tmp_path / "resources-pq" / "resources.parquet")
    assert "datetime64" in str(frame["approved_at"].dtype)
    assert list(frame["uses"]) == [4, 0, 1, 1, 0]
    assert frame["rating_mean"].iloc[0] == 4.0 and pd.isna(frame["rating_mean"].iloc[1])
    data, meta = pyreadstat.read_sav(str(tmp_path / "resources-sav" / "resources.sav"))
    assert meta.variable_value_labels["has_file"][1.0] == "да"
    assert list(data["has_file"]) == [1, 0, 0, 0, 0]
    data, meta = pyreadstat.read_sav(str(tmp_path / "resource_use-sav" / "resource_use.sav"))
    assert meta.variable_value_labels["rating"][5.0] == "5 — отлично"
    assert sorted(data["rating"].dropna()) == [1.0, 2.0, 3.0, 4.0, 5.0]


@pytest.mark.parametrize("dataset", ["resources", "resource_use"])
async def test_an_empty_bank_exports_no_rows(db, settings, tmp_path, dataset):
    """No resource yet: no rows, no error, in the format that holds the table in memory too."""
    async with db.begin() as session:
        await session.execute(delete(Resource))  # the default pack's
    written = await _export(settings, dataset, "sav", tmp_path)
    assert written.rows == 0


def test_the_codebook_labels_every_kind_level_and_state_the_bank_has():
    """A kind, level or state added to the bank's services without a label in the datasets
    would reach the codebook unlabelled; drafts are never exported, so they need none."""
    from bot.services.resource_fields import Kind, Level, State

    assert set(KINDS) == {k.value for k in Kind}
    assert set(LEVELS) == {level.value for level in Level}
    assert set(STATES) == {s.value for s in State} - {State.DRAFT.value}
    for labels in (*KINDS.values(), *LEVELS.values(), *STATES.values()):
        assert set(labels) == {"kk", "ru", "en"} and all(labels.values())


async def test_a_resource_contributed_moderated_used_and_rated_through_the_services(
    db, settings, tmp_path
):
    """The bank's own services write what the datasets read: a coach drafts and submits a
    PDF, the university's organizer approves it, a student of another university opens it
    twice and rates it with a comment; the contributor's draft is not exported."""
    from bot.i18n import I18n
    from bot.services import resources as bank
    from bot.services.resource_fields import FileInfo

    i18n = I18n("en")
    unis = await list_universities(db)
    await factories.student(db, 1, ADMINS, first_name="Admin")
    await factories.coach(db, COACH, ADMINS, university=unis[0], first_name="CoachOne")
    await factories.organizer(db, 902, ADMINS, university=unis[0])
    await factories.student(db, 333333333, ADMINS, university=4, first_name="Name333333333")
    draft = await bank.start_draft(db, COACH, ADMINS)
    fields = (
        ("title", "[kk] Цифрлық сабақ\n[ru] Цифровой урок\n[en] A digital lesson"),
        ("discipline", "Digital pedagogy"),  # not on the list: proposed
        ("kind", "lesson_plan"),
        ("languages", "kk, ru"),
        ("level", "school"),
        ("license", "CC BY-SA"),
        ("authors", "Coach One, A. Author"),
        ("file", FileInfo("BQACAgI-lesson", "uniq-1", "lesson.pdf", "application/pdf", 2048)),
    )
    for name, value in fields:
        await bank.set_field(db, COACH, ADMINS, draft.id, name, value)
    await bank.submit(db, COACH, ADMINS, draft.id, i18n=i18n)
    await bank.approve(db, 902, ADMINS, draft.id, i18n=i18n)
    await bank.start_draft(db, COACH, ADMINS)  # a second draft, left as it is
    await bank.open_resource(db, 333333333, draft.id, now=T0)
    await bank.open_resource(db, 333333333, draft.id, now=T0 + timedelta(hours=2))
    await bank.rate(db, 333333333, draft.id, 4, "Signed: Name333333333")
    await _export(settings, "resources", "csv", tmp_path / "r")
    found = _read(tmp_path / "r" / "resources.csv")
    (row,) = [r for r in found if r["resource_code"] == draft.code]  # beside the default pack's
    assert len({r["resource_code"] for r in found}) == len(found)
    assert (row["resource_code"], row["state"]) == (draft.code, "approved")
    assert (row["title_kk"], row["title_ru"], row["title_en"]) == (
        "Цифрлық сабақ",
        "Цифровой урок",
        "A digital lesson",
    )
    assert (row["kind"], row["languages"], row["level"]) == ("lesson_plan", "kk;ru", "school")
    assert (row["license"], row["authors"]) == ("CC BY-SA", "Coach One, A. Author")
    assert row["discipline"] and row["discipline_name"] == "Digital pedagogy"
    assert (row["has_file"], row["file_type"], row["file_size"]) == (
        "1",
        "application/pdf",
        "2048",
    )
    assert row["university"] == unis[0].code and row["submitted_at"] and row["approved_at"]
    assert row["contributor"] == contributor_code(KEY, await _internal_id(db, COACH))
    assert (row["uses"], row["uses_other_universities"], row["ratings_n"]) == ("1", "1", "1")
    assert float(row["rating_mean"]) == 4.0
    await _export(settings, "resource_use", "csv", tmp_path / "u")
    (use_row,) = _read(tmp_path / "u" / "resource_use.csv")
    assert use_row["participant"] == pseudonym(KEY, await _internal_id(db, 333333333))
    assert (use_row["same_university"], use_row["times_opened"]) == ("0", "2")
    assert use_row["first_used_at"] == "2025-11-03 09:00:00"
    assert use_row["last_used_at"] == "2025-11-03 11:00:00"
    assert (use_row["rating"], use_row["commented"]) == ("4", "1")
    assert "Name333333333" not in (tmp_path / "u" / "resource_use.csv").read_text("utf-8-sig")
