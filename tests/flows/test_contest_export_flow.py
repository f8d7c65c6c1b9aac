"""/export with the contest's data in chat: the entries CSV and the entries ZIP with their files.

The contest of `tests.contest_study`, its files sent to the emulator as documents first. Tried:
an admin picks `contest_entries` as CSV and reads the rows (pseudonymous authors, scores and
ranks); the form then offers the entries with their files, the admin picks the contest and gets
the ZIP (a folder per entry, the bytes sent, manifest.csv) with a message saying how many files
came; one file Telegram no longer knows is said in that message and listed in the manifest; an
organizer of one university gets only the entries with an author from it; a student's forged
ZIP button is refused and sends nothing.
"""

from __future__ import annotations

import csv
import io
import zipfile

from bot.callbacks import ContestBundleRun
from bot.services.contest_entries import NewFile
from bot.services.exports import pseudonym
from tests.conftest import ADMIN_ID
from tests.contest_study import FIVE, ONE, THREE, TWO, seed
from tests.flows.helpers import onboard

SENDER = 745_000_001
SLIDES = b"%PDF-1.4 the slides " * 40
PLAN = b"%PDF-1.4 the plan"


def _send(harness, name: str, content: bytes, mime: str) -> NewFile:
    update = harness.emulator.post_document(SENDER, name, content, mime, enqueue=False)
    document = update["message"]["document"]
    return NewFile(document["file_id"], name, mime, document["file_size"])


async def _download(harness, document) -> bytes:
    file = await harness.app.bot.get_file(document["file_id"])
    return bytes(await file.download_as_bytearray())


async def _seed(harness):
    harness.emulator.add_user(SENDER, "Sender")
    files = {
        ONE: [_send(harness, "slides.pdf", SLIDES, "application/pdf")],
        TWO: [
            _send(harness, "plan.pdf", PLAN, "application/pdf"),
            NewFile("BQACAgIAAxkBAAIlost", "lost.pdf", "application/pdf", 10),
        ],
    }
    return await seed(harness.app.bot_data.db, files)


async def test_an_admin_downloads_the_entries_csv_and_the_entries_zip(harness, i18n):
    """The CSV through the form, then the ZIP from the form's extra button."""
    t = i18n.translator("en")
    seeded = await _seed(harness)
    admin = harness.user(ADMIN_ID, "Admin", "en")  # onboarded by the seed
    await admin.send("/export")
    assert t.plain("exports.bundle.button") not in admin.last_buttons  # survey data chosen
    await admin.tap(t.plain("exports.field.dataset"))
    await admin.tap(t.plain("exports.dataset.contest_entries"))
    assert "Contest entries" in admin.last_text
    await admin.tap(t.plain("exports.field.format"))
    await admin.tap("CSV")
    await admin.tap(t.plain("exports.go"))
    documents = [m.document for m in admin.messages if m.document]
    assert documents[0]["file_name"] == "ortaq-contest_entries.csv"
    text = (await _download(harness, documents[0])).decode("utf-8-sig")
    rows = {r["entry_code"]: r for r in csv.DictReader(io.StringIO(text))}
    one = rows[seeded.codes[seeded.one]]
    key = harness.settings.pseudonym_key.get_secret_value()
    ids = seeded.user_ids
    assert one["authors"] == f"{pseudonym(key, ids[ONE])};{pseudonym(key, ids[THREE])}"
    assert (one["rank"], rows[seeded.codes[seeded.two]]["rank"]) == ("2", "1")
    assert str(ONE) not in text

    await admin.send("/export")
    await admin.tap(t.plain("exports.field.dataset"))
    await admin.tap(t.plain("exports.dataset.contest_reviews"))
    await admin.tap(t.plain("exports.bundle.button"))
    assert admin.last_text == t("exports.bundle.choose")
    await admin.tap("The most effective digital educational platform")
    zips = [m for m in admin.messages if m.document and m.document["file_name"].endswith(".zip")]
    (message,) = zips
    assert message.document["file_name"] == "ortaq-contest-dlt_platform_contest-entries.zip"
    assert "manifest.csv" in message.caption
    said = [m.text for m in admin.messages if m.text and "could not be downloaded" in m.text]
    assert said and "2 entries, 2 files" in said[-1] and "⚠️ 1 file(s)" in said[-1]
    archive = zipfile.ZipFile(io.BytesIO(await _download(harness, message.document)))
    one_code, two_code = seeded.codes[seeded.one], seeded.codes[seeded.two]
    assert archive.read(f"{one_code}/slides.pdf") == SLIDES
    assert archive.read(f"{two_code}/plan.pdf") == PLAN
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    assert [(r["entry_code"], r["file_name"], r["status"]) for r in manifest] == [
        (one_code, "slides.pdf", "ok"),
        (two_code, "plan.pdf", "ok"),
        (two_code, "lost.pdf", "failed"),
    ]
    assert manifest[2]["reason"].startswith("Telegram refused")


async def test_organizers_get_their_entries_and_students_nothing(harness, i18n):
    """An organizer of university 4 is offered the contest with one entry and gets only entry
    one; a student's forged ZIP button is refused with no file sent."""
    t = i18n.translator("en")
    seeded = await _seed(harness)
    db = harness.app.bot_data.db
    from bot.services import invites
    from bot.services.roles import Role

    admins = frozenset({ADMIN_ID})
    invite = await invites.create_invite(
        db, ADMIN_ID, admins, Role.ORGANIZER, seeded.universities[4].id, 1
    )
    organizer = harness.user(746_000_001, "Org", "en")
    await onboard(organizer, i18n)
    await invites.redeem(db, 746_000_001, invite.payload)
    await organizer.send("/export")
    await organizer.tap(t.plain("exports.field.dataset"))
    await organizer.tap(t.plain("exports.dataset.contest_entries"))
    await organizer.tap(t.plain("exports.bundle.button"))
    label = t.plain(
        "exports.bundle.choice",
        title="The most effective digital educational platform",
        entries=1,
    )
    assert label in organizer.last_buttons
    await organizer.tap(label)
    (message,) = [m for m in organizer.messages if m.document]
    archive = zipfile.ZipFile(io.BytesIO(await _download(harness, message.document)))
    assert {name.split("/")[0] for name in archive.namelist()} == {
        seeded.codes[seeded.one],
        "manifest.csv",
    }

    student = harness.user(FIVE, "Student", "en")
    await student.send("/start")
    sent = student.last_message
    await student.tap_data(ContestBundleRun(seeded.contest_id).pack(), sent.message_id)
    assert student.last_toast == t.plain("errors.not_allowed")
    assert not [m for m in student.messages if m.document]
