"""Organizers publish campaigns in chat; invitations, reminders, closing; results with pre/post."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot.callbacks import CampaignClose, CampaignNew, CampaignProgress, SurveySubmit
from bot.services import content as content_service
from bot.services import surveys as svc
from models import Attempt, Campaign, utcnow
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard

PACKS = Path(__file__).resolve().parents[1] / "content"
ADMINS = frozenset({ADMIN_ID})


async def _drain(harness):
    """Run due campaign steps and wait for the messages they queued."""
    await harness.run_jobs()


async def _complete(harness, user, t, answers):
    """Answer the all-types survey through chat with the given taps/texts."""
    await user.tap(t.plain("surveys.continue"))
    for action in answers:
        if action.startswith("text:"):
            await user.send(action[5:])
        else:
            await user.tap(action)


async def test_publish_invite_remind_close_and_follow_figures(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    assert (await content_service.load_path(db, PACKS / "all_types_pack.yaml")).ok
    students = [harness.user(800 + i, f"S{i}", "en") for i in range(3)]
    for student in students:
        await onboard(student, i18n)
    await admin.send("/publish")
    await admin.tap("All types")
    await admin.tap(t.plain("campaigns.wave_pre"))
    await admin.tap(t.plain("broadcasts.audience_all"))
    await admin.tap(t.plain("campaigns.close_in", days=7))
    await admin.tap(t.plain("campaigns.remind_before", hours=24))
    assert "Ready to publish" in admin.last_text and "Wave: pre" in admin.last_text
    await admin.tap(t.plain("campaigns.publish"))
    await _drain(harness)
    for student in students:
        assert "All types is open for you" in student.last_text
        assert student.last_buttons == [t.plain("surveys.start_button")]
    # Student 0 finishes, student 1 starts, student 2 does nothing.
    first, second, third = students
    await first.tap(t.plain("surveys.start_button"))
    await _complete(
        harness,
        first,
        t,
        [
            "First year",
            "☐ Moodle",
            t.plain("surveys.done"),
            "5",
            "4",
            "4",
            "text:3",
            t.plain("surveys.skip"),
            t.plain("surveys.submit"),
        ],
    )
    assert "Thank you" in first.texts[-2] or "Thank you" in first.last_text
    await second.tap(t.plain("surveys.start_button"))
    await second.tap(t.plain("surveys.continue"))
    await second.tap("Second year")
    # The reminder goes out 24 h before closing, to those who have not finished only.
    async with db.begin() as session:
        # Time passes: the campaign opened days ago and closes in two hours.
        await session.execute(
            update(Campaign).values(
                opens_at=utcnow() - timedelta(days=6), closes_at=utcnow() + timedelta(hours=2)
            )
        )
    sent_before = {s.user_id: len(s.messages) for s in students}
    await _drain(harness)
    assert len(first.messages) == sent_before[first.user_id]
    assert "Reminder" in third.last_text and "Reminder" in second.last_text
    await _drain(harness)  # nothing more is due: no second reminder
    assert len(third.messages) == sent_before[third.user_id] + 1
    await admin.send("/campaigns")
    # Of the three students: the admin who sent it is not a participant.
    assert "submitted 1 of 3" in admin.last_text and "started 2" in admin.last_text
    assert "M.Kh. Dulaty Taraz Regional University: 1 of 3 (33%)" in admin.last_text
    # Following it as it runs: the chart of responses per day and completion by university.
    await admin.tap(t.plain("campaigns.progress_button", id=1))
    chart = admin.messages[-1]
    assert chart.photo and chart.caption is not None
    assert "1 submitted and 2 started of 3 participants" in chart.caption
    await admin.send("/campaigns")
    # Closing: the one mid-way is told, and their answers stay.
    await admin.tap(t.plain("campaigns.close_button", id=1))
    await _drain(harness)
    assert "is now closed" in second.last_text
    async with db() as session:
        states = dict((await session.execute(select(Attempt.user_id, Attempt.state))).all())
    assert sorted(states.values()) == ["closed", "submitted"]
    assert await svc.open_campaigns(db, 802) == []


async def test_students_cannot_publish_or_close(harness, i18n):
    t = i18n.translator("en")
    student = harness.user(810, "S", "en")
    await onboard(student, i18n)
    for command in ("/publish", "/campaigns"):
        await student.send(command)
        assert student.last_text == t("errors.not_allowed")
    await student.tap_data(CampaignNew("dlt_pre").pack(), student.last_message.message_id)
    assert student.last_toast == t.plain("errors.not_allowed")
    await student.tap_data(CampaignClose(1).pack(), student.last_message.message_id)
    assert student.last_toast == t.plain("errors.not_allowed")
    await student.tap_data(CampaignProgress(1).pack(), student.last_message.message_id)
    assert student.last_toast == t.plain("errors.not_allowed")
    assert not any(m.photo for m in student.messages)


async def test_pre_and_post_are_linked_without_any_code(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    pre = await factories.campaign(db, ADMIN_ID, ADMINS, "dlt_pre", "pre")
    post = await factories.campaign(db, ADMIN_ID, ADMINS, "dlt_post", "post")
    student = harness.user(820, "Aigerim", "en")
    await onboard(student, i18n)

    async def take(campaign, point):
        screen = await svc.start(db, 820, campaign, "en")
        while screen.kind == "item":
            item = screen.item
            if item.kind == "info":
                screen = await svc.pass_info(db, 820, screen.attempt_id, screen.index)
            elif item.kind == "single":
                screen = await svc.answer(
                    db, 820, screen.attempt_id, screen.index, item.options[0].code
                )
            elif item.kind == "likert":
                screen = await svc.answer(db, 820, screen.attempt_id, screen.index, point)
            else:
                screen = await svc.skip(db, 820, screen.attempt_id, screen.index)
        return screen.attempt_id

    await svc.submit(db, 820, await take(pre, 2))
    attempt = await take(post, 4)
    # Submitting the post wave in chat shows the change since pre and a chart.
    await student.tap_data(SurveySubmit(attempt).pack(), (await _any_message(student, harness)))
    assert "Change since" in student.messages[-2].text
    assert "2.0 → 4.0 of 5 (+2.0)" in student.messages[-2].text
    assert student.last_message.photo  # the chart
    await student.send("/my_results")
    assert "What I learned" in student.last_text and "2.0 → 4.0 of 5" in student.last_text
    assert t("results.title").replace("<b>", "").replace("</b>", "") in student.last_text


async def _any_message(user, harness):
    await user.send("/help")
    return user.last_message.message_id


async def test_results_shown_when_the_campaign_closes(harness, i18n, tmp_path):
    import yaml

    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    data = yaml.safe_load((PACKS / "example_pack.yaml").read_text(encoding="utf-8"))
    data["code"], data["settings"]["show_results"] = "later_test", "on_close"
    (tmp_path / "later.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    assert (await content_service.load_path(db, tmp_path / "later.yaml")).ok
    campaign = await factories.campaign(db, ADMIN_ID, ADMINS, "later_test", "main")
    async with db.begin() as session:  # no invitations in this test
        await session.execute(update(Campaign).values(invited_at=utcnow()))
    student = harness.user(830, "Dana", "en")
    await onboard(student, i18n)
    await student.send("/surveys")
    await student.tap("Example test")
    await student.tap(t.plain("surveys.continue"))
    await student.tap("A learning system")
    await student.tap("☐ Moodle")
    await student.tap(t.plain("surveys.done"))
    await student.send("2")
    await student.tap(t.plain("surveys.submit"))
    assert student.last_text.endswith("3. Years — 2\n\n" + t("surveys.thanks_results_later"))
    await student.send("/my_results")
    assert t("results.hidden") in student.last_text and "Score" not in student.last_text
    await admin.send("/campaigns")
    await admin.tap(t.plain("campaigns.close_button", id=campaign))
    await _drain(harness)
    assert "your results are ready" in student.last_text
    await student.send("/my_results")
    assert "Score: 2 of 3" in student.last_text


async def test_organizers_load_packs_in_chat_and_see_every_error(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    pack = (PACKS / "example_pack.yaml").read_bytes()
    await admin.upload("example.yaml", pack, "application/x-yaml")
    assert admin.last_text == t("content.created", code="example_test", version=1).replace(
        "<b>", ""
    ).replace("</b>", "")
    await admin.upload("example.yaml", pack, "application/x-yaml")
    assert "already loaded with exactly this content" in admin.last_text
    broken = pack.replace(b"type: multiple", b"type: slider").replace(b"ru: Pioneer", b"")
    await admin.upload("broken.yaml", broken, "application/x-yaml")
    assert "not loaded" in admin.last_text
    assert "broken.yaml: questions[2]: unknown question type 'slider'" in admin.last_text
    student = harness.user(840, "S", "en")
    await onboard(student, i18n)
    await student.upload("example.yaml", pack, "application/x-yaml")
    assert student.last_text == t("errors.not_allowed")


async def test_custom_wave_and_typed_opening_and_closing_times(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    student = harness.user(850, "S", "en")
    await onboard(student, i18n)
    await admin.send("/publish")
    await admin.tap("SWOT")
    await admin.tap(t.plain("campaigns.other_wave"))
    await admin.send("x" * 40)
    assert admin.last_text == t("surveys.bad_wave")
    await admin.send("mid-course")
    await admin.tap(t.plain("broadcasts.audience_all"))
    await admin.tap(t.plain("campaigns.pick_date"))
    await admin.send("2020-01-01 10:00")
    assert admin.last_text == t("surveys.closes_before_opening")
    tz = harness.settings.tz
    closes = (utcnow() + timedelta(days=10)).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    await admin.send(closes)
    await admin.tap(t.plain("campaigns.no_reminder"))
    await admin.tap(t.plain("campaigns.open_later"))
    opens = (utcnow() + timedelta(days=1)).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    await admin.send(opens)
    assert f"Opens: {opens}" in admin.last_text and f"Closes: {closes}" in admin.last_text
    assert "Wave: mid-course" in admin.last_text
    await admin.tap(t.plain("campaigns.publish"))
    await _drain(harness)
    assert "SWOT" not in (student.last_text or "")  # not open yet: no invitation
    db = harness.app.bot_data.db
    async with db.begin() as session:  # the opening time comes
        await session.execute(update(Campaign).values(opens_at=utcnow() - timedelta(minutes=1)))
    await _drain(harness)
    assert "SWOT" in student.last_text and t.plain("surveys.start_button") in student.last_buttons


async def test_organizers_receive_the_export_and_students_are_refused(harness, i18n):
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    db = harness.app.bot_data.db
    assert (await content_service.load_path(db, PACKS / "all_types_pack.yaml")).ok
    campaign = await factories.campaign(db, ADMIN_ID, ADMINS, "all_types", "pre")
    async with db.begin() as session:
        await session.execute(update(Campaign).values(invited_at=utcnow()))
    student = harness.user(860, "Zhanna", "en")
    await onboard(student, i18n)
    await student.send("/surveys")
    await student.tap("All types")
    await student.tap(t.plain("surveys.continue"))
    await student.tap("First year")
    await admin.send("/export")
    form = admin.last_message.message_id
    assert "Dataset: Answers, long" in admin.last_text and "pseudonymous" in admin.last_text
    await admin.tap(t.plain("exports.field.source"))
    await admin.tap(f"#{campaign} All types")
    await admin.tap(t.plain("exports.field.format"), message_id=form)
    await admin.tap("CSV")
    assert "Format: CSV" in admin.last_text and f"Source: #{campaign}" in admin.last_text
    await admin.tap(t.plain("exports.go"))
    data, book = admin.messages[-2:]
    assert admin.texts[-3].startswith("“Answers, long (one row per answer)” is ready — rows: 1,")
    assert data.document["file_name"] == "ortaq-answers.csv"
    assert book.document["file_name"] == "ortaq-answers.codebook.json"
    document = data.document
    content = harness.emulator.download(
        (await harness.app.bot.get_file(document["file_id"])).file_path.rsplit("/", 1)[-1]
    )
    if content is None:
        content = bytes(
            await (await harness.app.bot.get_file(document["file_id"])).download_as_bytearray()
        )
    text = content.decode("utf-8-sig")
    assert "year,y1,First year" in text
    import csv
    import io

    cells = {cell for row in csv.reader(io.StringIO(text)) for cell in row}
    assert "860" not in cells and "Zhanna" not in text  # no Telegram id, no name
    await student.send("/export")
    assert student.last_text == t("errors.not_allowed")
    await student.tap_data("ex:go:0.0.0.0.0.0.0", student.last_message.message_id)
    assert student.last_toast == t.plain("errors.not_allowed")
    # Forged and stale buttons decode to nothing and change nothing.
    for forged in (
        "ex:go:zz9.0.0.0.0.0.0",  # no dataset has the code zz9
        "ex:s:0.x1.0.0.0.0.0",
        "ex:m:0.0.0.0.0.0.0:z",
        "ex:0.0.0.0.0.0.0:go",  # the request's wire format before typed buttons
        "ex:f:1:csv",
    ):
        await admin.tap_data(forged, form)
        assert admin.last_toast == t.plain("errors.stale_button")
