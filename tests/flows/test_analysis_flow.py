"""/analysis in chat: an admin picks the pre/post pair and receives summary, charts, workbook.

Tried: the pair is offered once per instrument code; the summary names the linked pairs and
the scale that changed; a student is refused and a forged button changes nothing.
"""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard
from tests.study import seed_prepost


async def _download(harness, document) -> bytes:
    file = await harness.app.bot.get_file(document["file_id"])
    return bytes(await file.download_as_bytearray())


async def test_admin_gets_the_analysis_of_a_pre_post_pair(harness, i18n):
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    await seed_prepost(harness.app.bot_data.db, 45)
    await admin.send("/analysis")
    assert admin.last_text.startswith("Analysis")
    assert not any("(dlt_post)" in b for b in admin.last_buttons)  # the pair counts once
    await admin.tap("(dlt_pre)")
    summary = next(x for x in admin.texts if "Participants: 45" in x)
    assert "linked participants: 45" in summary and "(by wave: post: 45, pre: 45)" in summary
    assert "p < 0.001" in summary and "Cronbach's α" in summary
    photos = [m for m in admin.messages if m.photo]
    documents = [m for m in admin.messages if m.document]
    # pre/post, by university, the universities' ranking, the groups' profiles, over time
    assert len(photos) == 5 and len(documents) == 1
    assert documents[0].document["file_name"] == "ortaq-analysis-dlt_pre.xlsx"
    book = load_workbook(
        io.BytesIO(await _download(harness, documents[0].document)), read_only=True
    )
    assert {"summary", "prepost", "reliability", "by_university_tests", "efa", "labels"} <= set(
        book.sheetnames
    )


async def test_students_are_refused_and_forged_buttons_do_nothing(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    student = harness.user(861, "Aliya", "en")
    await onboard(student, i18n)
    await student.send("/analysis")
    assert student.last_text == t("errors.not_allowed")
    await student.tap_data("an:1", student.last_message.message_id)
    assert student.last_toast == t.plain("errors.not_allowed")
    await admin.send("/analysis")
    for forged in ("an:999999", "an:x", "an:1:2"):
        await admin.tap_data(forged, admin.last_message.message_id)
        assert admin.last_toast == t.plain("errors.stale_button")
