"""/export's form in chat: datasets, typed periods across a restart, identities, refusals.

Tried: every choice travels in the buttons (a restart in the middle changes nothing); a typed
period that cannot be read, or ends before it starts, gets a clear message and the bot keeps
waiting; the identified export is offered to admins only and a forged identified button from
an organizer is refused; a student is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

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
    request = Request(2, "c123456789", 987654321, "KZ", CUSTOM, 3, 1, 20260901, 20261231)
    data = request.encode()
    assert Request.decode(data) == request and len(f"ex:{data}:go".encode()) <= 64
    assert len("exd:" + request.compact()) <= 32
    assert Request.from_compact(request.compact()) == request.but(period=0, since=0, until=0)
    for forged in ("9.0.0.0.0.0.0", "0.0.0.0.5.0.0", "0.0.0.0.5.0.0.20261301.0",
                   "0.0.0.0.5.0.0.20261231.20260901", "0.0.0.kz.0.0.0", "0.0.0.0.0.4.0",
                   "0.0.0.0.5.0.0.20260901.99991231", "0.0.0.0.5.0.0.0.0"):
        assert Request.decode(forged) is None, forged
    assert Request.from_compact("x") is None and Request.from_compact("0.0.zz!.0.0.0") is None


def test_typed_periods():
    assert parse_period("2026-09-01 2026-12-31") == (20260901, 20261231)
    assert parse_period("с 01.09.2026 по 31.12.2026") == (20260901, 20261231)
    assert parse_period("2026-09-01") == (20260901, 0)
    for bad in ("yesterday", "2026-12-31 2026-09-01", "2026-02-30", "1.1.2026 2.1.2026 3.1.2026",
                "2026-09-01 9999-12-31"):
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
    await organizer.tap_data("ex:0.0.0.0.0.0.1:go", organizer.last_message.message_id)
    assert organizer.last_toast == t.plain("exports.identified_admins_only")
    assert not any(m.document for m in organizer.messages)
    await admin.send("/export")
    await admin.tap(t.plain("exports.make_identified"))
    assert "IDENTIFIED" in admin.last_text
    await admin.tap(t.plain("exports.field.format"))
    await admin.tap("CSV")
    await admin.tap(t.plain("exports.go"))
    data = next(m for m in admin.messages if m.document and m.document["file_name"].endswith(
        ".csv"))
    assert "IDENTIFIED" in data.caption
    text = (await _download(harness, data.document)).decode("utf-8-sig")
    assert "telegram_id,first_name,username" in text.splitlines()[0] and ",5000," in text
