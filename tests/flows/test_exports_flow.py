"""/export's form in chat: datasets, typed periods across a restart, identities, refusals.

Tried: every choice travels in the buttons (a restart in the middle changes nothing); a typed
period that cannot be read, or ends before it starts, gets a clear message and the bot keeps
waiting; the identified export is offered to admins only and a forged identified button from
an organizer is refused; a student is refused; a dataset registered by a test is offered and
exported with no other change; an export that fails tells the organizer and alerts the admin.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.callbacks import ExportField, ExportMenu, ExportRun
from bot.services import invites
from bot.services.exports.request import CUSTOM, Request, parse_period
from bot.services.roles import Role
from bot.services.universities import list_universities
from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard
from tests.study import seed_prepost

ADMINS = frozenset({ADMIN_ID})


async def _download(harness, document) -> bytes:
    file = await harness.app.bot.get_file(document["file_id"])
    return bytes(await file.download_as_bytearray())


def test_requests_survive_their_encodings():
    request = Request("2", "c123456789", 987654321, "KZ", CUSTOM, 3, 1, 20260901, 20261231)
    data = request.encode()
    assert Request.decode(data) == request
    assert ExportMenu(data, ExportField.PERIOD).pack() and ExportRun(data).pack()  # <= 64 bytes
    assert len("exd:" + request.compact()) <= 32
    assert Request.from_compact(request.compact()) == request.but(period=0, since=0, until=0)
    for forged in (
        "zzz.0.0.0.0.0.0",  # no dataset has this code
        "0.0.0.0.5.0.0",
        "0.0.0.0.5.0.0.20261301.0",
        "0.0.0.0.5.0.0.20261231.20260901",
        "0.0.0.kz.0.0.0",
        "0.0.0.0.0.4.0",
        "0.0.0.0.5.0.0.20260901.99991231",
        "0.0.0.0.5.0.0.0.0",
    ):
        assert Request.decode(forged) is None, forged
    assert Request.from_compact("x") is None and Request.from_compact("0.0.zz!.0.0.0") is None


def test_typed_periods():
    assert parse_period("2026-09-01 2026-12-31") == (20260901, 20261231)
    assert parse_period("с 01.09.2026 по 31.12.2026") == (20260901, 20261231)
    assert parse_period("2026-09-01") == (20260901, 0)
    for bad in (
        "yesterday",
        "2026-12-31 2026-09-01",
        "2026-02-30",
        "1.1.2026 2.1.2026 3.1.2026",
        "2026-09-01 9999-12-31",
    ):
        with pytest.raises(Exception, match="bad_dates"):
            parse_period(bad)


async def test_an_admin_exports_wide_for_a_typed_period_across_a_restart(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await seed_prepost(harness.app.bot_data.db, 12)
    await admin.send("/export")
    await admin.tap(t.plain("exports.field.dataset"))
    await admin.tap(t.plain("exports.dataset.wide"))
    await admin.tap(t.plain("exports.field.source"))
    await admin.tap("(dlt_post)")
    await admin.tap(t.plain("exports.field.period"))
    await admin.tap(t.plain("exports.period.type"))
    assert "2026-09-01 2026-12-31" in admin.last_text
    await harness.restart()  # the bot waits for the dates in the database, not in memory
    await admin.send("2026-12-31 2026-09-01")
    assert admin.last_text.startswith("I could not read a period there")
    today = datetime.now(UTC).date()  # the filters are in UTC
    await admin.send(f"{today:%d.%m.%Y} {today:%d.%m.%Y}")
    assert f"Period: {today} – {today}" in admin.last_text
    assert "Dataset: Answers, wide" in admin.last_text and "(dlt_post)" in admin.last_text
    await admin.tap(t.plain("exports.go"))
    (document,) = [m.document for m in admin.messages if m.document]
    assert document["file_name"] == "ortaq-wide.xlsx"
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(await _download(harness, document)), read_only=True)
    rows = list(book["wide"].iter_rows(values_only=True))
    assert len(rows) == 1 + 24  # 12 students, pre and post
    assert "telegram_id" not in rows[0]
    assert {"wide", "codebook"} == set(book.sheetnames)
    await admin.send("hello")  # no longer waiting for dates
    assert admin.last_text == t("errors.not_understood")


async def test_identities_are_for_admins_only(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    await seed_prepost(db, 3)
    unis = await list_universities(db)
    invite = await invites.create_invite(db, ADMIN_ID, ADMINS, Role.ORGANIZER, unis[0].id, 1)
    organizer = harness.user(862, "Org", "en")
    await onboard(organizer, i18n)
    await invites.redeem(db, 862, invite.payload)
    await organizer.send("/export")
    assert t.plain("exports.make_identified") not in organizer.last_buttons
    assert t.plain("exports.field.university") not in organizer.last_buttons  # held to theirs
    forged = ExportRun(Request(identified=1).encode()).pack()
    await organizer.tap_data(forged, organizer.last_message.message_id)
    assert organizer.last_toast == t.plain("exports.identified_admins_only")
    assert not any(m.document for m in organizer.messages)
    await admin.send("/export")
    await admin.tap(t.plain("exports.make_identified"))
    assert "IDENTIFIED" in admin.last_text
    await admin.tap(t.plain("exports.field.format"))
    await admin.tap("CSV")
    await admin.tap(t.plain("exports.go"))
    data = next(
        m for m in admin.messages if m.document and m.document["file_name"].endswith(".csv")
    )
    assert "IDENTIFIED" in data.caption
    text = (await _download(harness, data.document)).decode("utf-8-sig")
    assert "telegram_id,first_name,username" in text.splitlines()[0] and ",5000," in text


@pytest.fixture
def toy_dataset():
    """A dataset registered the way a new feature would: one `register` call, nothing else."""
    from bot.services.exports.datasets import DATASETS, Dataset, register
    from bot.services.exports.spec import Table, Variable

    def build(session, filters, opts):
        number = Variable("n", {"kk": "Сан", "ru": "Число", "en": "Number"}, "integer")
        return [Table("toy", {"en": "Toy"}, [number], lambda: iter([[[1], [2], [3]]]))]

    dataset = register(Dataset("toy", "t9", build, {"en": "three numbers"}))
    yield dataset
    del DATASETS[dataset.name]


async def test_a_registered_dataset_is_offered_and_exported(harness, i18n, toy_dataset):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await admin.send("/export")
    await admin.tap(t.plain("exports.field.dataset"))
    assert admin.last_buttons[:4] == [
        t.plain(f"exports.dataset.{name}") for name in ("answers", "wide", "scores", "swot")
    ]
    await admin.tap(toy_dataset.label)  # no translation: the key is its label
    await admin.tap(t.plain("exports.field.format"))
    await admin.tap("CSV")
    await admin.tap(t.plain("exports.go"))
    data = next(m for m in admin.messages if m.document)
    assert data.document["file_name"] == "ortaq-toy.csv"
    text = (await _download(harness, data.document)).decode("utf-8-sig")
    assert text.split() == ["n", "1", "2", "3"]


def test_a_registered_dataset_is_a_command_line_choice(toy_dataset, monkeypatch, capsys):
    """`python -m bot export --dataset` lists the registry: the toy is a choice, untouched."""
    from bot import __main__ as cli

    seen: list[str] = []
    monkeypatch.setattr(cli, "_dispatch", lambda args: seen.append(args.dataset) or 0)
    assert cli.main(["export", "--out", "x", "--dataset", "toy"]) == 0
    assert seen == ["toy"]
    with pytest.raises(SystemExit):
        cli.main(["export", "--out", "x", "--dataset", "nope"])
    error = capsys.readouterr().err
    assert "invalid choice: 'nope'" in error
    assert all(name in error.split("choose from")[1] for name in ("answers", "swot", "toy"))


async def test_an_export_that_fails_is_reported_to_the_organizer_and_the_admins(
    harness, i18n, monkeypatch, caplog
):
    """Tried: the failure reached the log only; the organizer's progress line stayed as it was."""
    from bot.services import exports

    t = i18n.translator("en")
    token = harness.app.bot.token
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    unis = await list_universities(db)
    invite = await invites.create_invite(db, ADMIN_ID, ADMINS, Role.ORGANIZER, unis[0].id, 1)
    organizer = harness.user(862, "Org", "ru")
    await onboard(organizer, i18n, "ru", "Таразский региональный университет имени М.Х. Дулати")
    await invites.redeem(db, 862, invite.payload)

    async def broken(*args, **kwargs):
        raise RuntimeError(f"the disk is full at /bot{token}/getFile")

    monkeypatch.setattr(exports, "export_for_chat", broken)
    await organizer.send("/export")
    form = organizer.last_message.message_id
    await organizer.tap(i18n.translator("ru").plain("exports.go"))
    # The progress line became the apology, in Russian; the admin got the redacted trace.
    assert organizer.messages[-1].message_id == form
    assert organizer.last_text == i18n.translator("ru")("errors.internal")
    alert = admin.last_text
    assert alert.startswith("⚠️ background job research:862 of update")
    assert "RuntimeError: the disk is full at /bot<token>/getFile" in alert
    assert token not in alert and token not in caplog.text
    assert t("errors.internal") not in admin.texts
    # The key is free again: the organizer may try once more.
    await organizer.send("/export")
    await organizer.tap(i18n.translator("ru").plain("exports.go"))
    assert organizer.last_text == i18n.translator("ru")("errors.internal")
