"""The resource bank in chat through the emulator: contribute -> moderate -> find -> share
inline -> open -> rate -> /bank_stats, with every bad input, forged button and a restart in the
middle of a draft.

The people: a coach and a (scoped) organizer of the first university, a student of the same
university and one of the second, the admin. Moderators' notices go through the outbox, so
tests let the broadcaster settle before reading them.
"""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from bot.callbacks import (
    BankDecide,
    BankDecision,
    BankRate,
    BankReview,
    BankSkip,
    BankStatsPeriod,
    BankStudents,
    BankSubmit,
)
from bot.i18n import I18n
from bot.services import resources as bank
from bot.services.resources import FileInfo, Kind, Level
from bot.services.universities import list_universities
from models import Resource, ResourceRating, ResourceUse, User
from tests import factories
from tests.conftest import ADMIN_ID

ADMINS = frozenset({ADMIN_ID})
I18N = I18n("kk")
COACH = 3101
ORGANIZER = 3102
STUDENT = 3103  # of the first university
OTHER = 3104  # a student of the second university
TITLE = (
    "[kk]\nСабақ жоспары: цифрлық сауаттылық\n"
    "[ru]\nПлан урока: цифровая грамотность\n"
    "[en]\nLesson plan: digital literacy"
)
TITLE_EN = "Lesson plan: digital literacy"
PDF = b"%PDF-1.4 a lesson plan\n"


def visible(text: str) -> str:
    """A translated HTML text as the person reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def people(harness):
    """The coach, the organizer, two students (one per university), the admin, as chat users."""
    db = harness.app.bot_data.db
    unis = await list_universities(db)
    await factories.coach(db, COACH, ADMINS, university=unis[0], first_name="Coach")
    await factories.organizer(db, ORGANIZER, ADMINS, university=unis[0], first_name="Org")
    await factories.student(db, STUDENT, university=unis[0], first_name="Stud")
    await factories.student(db, OTHER, university=unis[1], first_name="Other")
    await factories.admin(db, ADMIN_ID, ADMINS)
    return (
        harness.user(COACH, "Coach"),
        harness.user(ORGANIZER, "Org"),
        harness.user(STUDENT, "Stud"),
        harness.user(OTHER, "Other"),
    )


async def settle(harness):
    """Let the notices a handler started reach their chats."""
    await harness.app.bot_data.broadcaster.idle()


async def latest(harness) -> Resource:
    async with harness.app.bot_data.db() as session:
        resource = await session.scalar(
            select(Resource)
            .where(Resource.contributor_id.is_not(None))
            .order_by(Resource.id.desc())
        )
        assert resource is not None
        return resource


async def uploaded(harness, name: str) -> FileInfo:
    """A file the coach sent to Telegram earlier (the emulator keeps it by its file_id)."""
    update = harness.emulator.post_document(COACH, name, PDF, "application/pdf", enqueue=False)
    document = update["message"]["document"]
    return FileInfo(
        document["file_id"], document["file_unique_id"], name, "application/pdf", len(PDF)
    )


async def approved(harness, title="[en] Digital literacy lesson plan", **fields):
    """A resource the coach contributed and the organizer approved, through the services."""
    db = harness.app.bot_data.db
    draft = await bank.start_draft(db, COACH, ADMINS)
    values = {
        "title": title,
        "description": "[en] A plan for a first lesson on digital literacy",
        "discipline": (await bank.disciplines(db))[0].id,
        "kind": Kind.LESSON_PLAN,
        "languages": "kk, ru",
        "level": Level.BACHELOR,
        "license": "CC BY",
        "authors": "A. Sadykova",
        "university": None,
        "file": await uploaded(harness, "plan.pdf"),
        **fields,
    }
    for field, value in values.items():
        await bank.set_field(db, COACH, ADMINS, draft.id, field, value)
    await bank.submit(db, COACH, ADMINS, draft.id, i18n=I18N)
    return (await bank.approve(db, ORGANIZER, ADMINS, draft.id, i18n=I18N)).resource


# --- contributing --------------------------------------------------------------------------------


async def test_contribute_every_step_with_bad_input_and_a_restart(harness, i18n):
    """Tried: a student is refused /contribute; the coach's empty title, unknown license,
    an .exe, a 21 MB file, a photo and a non-link are each explained and the step keeps
    waiting; the bot restarts after the title and the draft goes on where it stopped; an
    old button of an answered step is refused; the preview shows the card; Submit tells the
    organizer, whose notice has a Review button."""
    coach, organizer, student, _ = await people(harness)
    t = i18n.translator("en")

    await student.send("/contribute")
    assert visible(t("bank.not_contributor")) in student.last_text

    await coach.send("/contribute")
    assert "Step 1 of 10" in coach.last_text
    await coach.send("[en]")  # sections with nothing in them
    assert coach.last_text == visible(t("bank.empty_text"))
    await coach.send(TITLE)
    assert "Step 2 of 10" in coach.last_text

    await harness.restart()  # a new process: the draft and its step come from the database
    coach = harness.user(COACH, "Coach")
    await coach.send("[en] A plan for the first lesson on digital literacy, with exercises")
    assert "Step 3 of 10" in coach.last_text  # the discipline
    discipline_message = coach.last_message
    await coach.send("Digital didactics")  # a new discipline, proposed
    assert "Step 4 of 10" in coach.last_text
    # The discipline question's old buttons no longer take the draft back.
    await coach.tap("Pedagogy", message_id=discipline_message.message_id)
    assert coach.last_toast == t.plain("bank.step_passed")
    await coach.tap(t.plain("bank.kind_lesson_plan"))
    await coach.tap("Қазақша, Русский")
    await coach.tap(t.plain("bank.level_bachelor"))
    assert "Step 7 of 10" in coach.last_text  # the license
    await coach.send("GPL")
    assert "Unknown license" in coach.last_text
    await coach.tap("CC BY-SA")
    await coach.send("A. Sadykova, B. Ivanov")
    await coach.tap("✓ ")  # keep my university
    assert "Step 10 of 10" in coach.last_text
    await coach.upload("setup.exe", b"MZ", "application/x-msdownload")
    assert "This type of file is not accepted" in coach.last_text
    await coach.upload("huge.pdf", b"0" * (21 * 1024 * 1024), "application/pdf")
    assert "larger than 20 MB" in coach.last_text
    await coach.upload_photo(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    assert coach.last_text == visible(t("bank.send_as_file"))
    await coach.send("not a link")
    assert "not a valid link" in coach.last_text
    await coach.upload("plan.pdf", PDF, "application/pdf")

    preview = coach.last_text
    assert "Preview" in coach.texts[-1] and TITLE_EN in preview
    assert "Digital didactics" in preview and "CC BY-SA" in preview and "plan.pdf" in preview
    resource = await latest(harness)
    assert resource.state == "draft" and resource.file_name == "plan.pdf"
    assert resource.title["ru"] == "План урока: цифровая грамотность"

    await coach.tap(t.plain("bank.submit_button"))
    assert f"code {resource.code}" in coach.last_text
    await settle(harness)
    assert any(TITLE_EN in text and "Coach" in text for text in organizer.texts)
    assert t.plain("bank.review_button") in organizer.last_buttons
    assert (await latest(harness)).state == "pending"


async def test_draft_taken_up_from_contribute_and_edited_from_the_preview(harness, i18n):
    """Tried: the coach leaves a draft with /cancel, /contribute offers it, it resumes at its
    step; from the preview, Edit → License changes it and comes back to the preview; Remove
    the file leaves the file step open; Delete asks first, then deletes."""
    coach, *_ = await people(harness)
    t = i18n.translator("en")
    await coach.send("/contribute")
    await coach.send("[en] Unfinished resource")
    await coach.send("/cancel")
    await coach.send("/contribute")
    assert "unfinished resources (1)" in coach.last_text
    await coach.tap("Unfinished resource")
    assert "Step 2 of 10" in coach.last_text
    await coach.tap(t.plain("bank.skip_button"))
    await coach.tap("Pedagogy")
    await coach.tap(t.plain("bank.kind_test"))
    await coach.send("en")  # typed language codes
    await coach.tap(t.plain("bank.level_master"))
    # No license yet: a forged Submit and a forged Skip of the license are refused.
    draft = await latest(harness)
    await coach.tap_data(BankSubmit(draft.id).pack(), coach.last_message.message_id)
    assert "A license is required" in coach.last_text
    await coach.tap_data(BankSkip(draft.id, "license").pack(), coach.last_message.message_id)
    assert coach.last_text == visible(t("bank.bad_field"))
    assert (await latest(harness)).state == "draft" and (await latest(harness)).license is None
    await coach.tap("CC0")
    await coach.tap(t.plain("bank.skip_button"))
    await coach.tap("✓ ")
    await coach.send("https://example.org/quiz")
    assert "Preview" in coach.last_text and "CC0" in coach.last_text
    await coach.tap("✏️ " + t.plain("bank.step_license"))
    await coach.tap("CC BY")
    assert "Preview" in coach.last_text and "License: CC BY\n" in coach.last_text
    await coach.tap("✏️ " + t.plain("bank.step_file"))
    await coach.tap(t.plain("bank.remove_link_button"))
    assert "Step 10 of 10" in coach.last_text  # nothing left: a file or a link is asked again
    await coach.send("https://example.org/quiz-2")
    assert "quiz-2" in coach.last_text
    await coach.tap(t.plain("bank.discard_button"))
    await coach.tap(t.plain("bank.discard_yes"))
    assert coach.last_text == visible(t("bank.discarded"))
    async with harness.app.bot_data.db() as session:
        mine = await session.scalar(
            select(func.count()).select_from(Resource).where(Resource.contributor_id.is_not(None))
        )
    assert mine == 0


# --- moderation ----------------------------------------------------------------------------------


async def test_moderation_changes_then_approve_and_forged_decisions(harness, i18n):
    """Tried: a student's forged Approve and Review are refused and change nothing; the
    organizer asks for changes with a comment, the coach is told with an Edit button, edits,
    submits again; the organizer approves, the coach is told; a second Approve says it is
    decided; the students' switch lets a student contribute."""
    coach, organizer, student, _ = await people(harness)
    t = i18n.translator("en")
    await coach.send("/contribute")
    await coach.send(TITLE)
    await coach.send("[en] Plan")
    await coach.tap("Pedagogy")
    await coach.tap(t.plain("bank.kind_lesson_plan"))
    await coach.tap("English")
    await coach.tap(t.plain("bank.level_school"))
    await coach.tap("CC BY")
    await coach.tap(t.plain("bank.skip_button"))
    await coach.tap("✓ ")
    await coach.upload(
        "plan.docx",
        b"PK docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    await coach.tap(t.plain("bank.submit_button"))
    await settle(harness)
    resource = await latest(harness)

    await student.send("/resources")
    anchor = student.last_message.message_id
    await student.tap_data(BankDecide(resource.id, BankDecision.APPROVE).pack(), anchor)
    assert student.last_text == visible(t("errors.not_allowed"))
    await student.tap_data(BankReview(resource.id).pack(), anchor)
    assert student.last_text == visible(t("errors.not_allowed"))
    assert (await latest(harness)).state == "pending"

    await organizer.tap(t.plain("bank.review_button"))
    assert "Submitted by Coach" in organizer.last_text and TITLE_EN in organizer.last_text
    await organizer.tap(t.plain("bank.get_file_button"))
    assert organizer.last_message.document["file_name"] == "plan.docx"
    await organizer.tap(t.plain("bank.changes_button"))
    await organizer.send("Add the lesson's objectives, please.")
    assert "sent back" in organizer.last_text
    await settle(harness)
    assert "Add the lesson's objectives" in coach.last_text
    await coach.tap(t.plain("bank.edit_button"))
    assert "The moderator asks: Add the lesson's objectives" in coach.last_text
    await coach.tap("✏️ " + t.plain("bank.step_description"))
    await coach.send("[en] Plan with objectives")
    await coach.tap(t.plain("bank.submit_button"))
    await settle(harness)

    await organizer.send("/moderation")
    await organizer.tap(TITLE_EN[:20])
    await organizer.tap(t.plain("bank.approve_button"))
    assert "is approved" in organizer.last_text
    await settle(harness)
    assert "is approved" in coach.last_text and t.plain("bank.open_button") in coach.last_buttons
    assert (await latest(harness)).state == "approved"
    await organizer.tap_data(
        BankDecide(resource.id, BankDecision.APPROVE).pack(), organizer.last_message.message_id
    )
    assert organizer.last_text == visible(t("bank.not_pending"))

    await student.tap_data(BankStudents(True).pack(), anchor)  # forged: a student's switch
    assert student.last_text == visible(t("errors.not_allowed"))
    await organizer.send("/moderation")
    await organizer.tap(t.plain("bank.students_allow_button"))
    assert organizer.last_toast == t.plain("bank.students_on")
    await student.send("/contribute")
    assert "Step 1 of 10" in student.last_text


# --- finding, opening, rating --------------------------------------------------------------------


async def test_browse_filter_search_open_and_rate(harness, i18n):
    """Tried: /resources lists the approved resource, the Type filter narrows it; a search in
    Russian finds it, one with SQL and FTS syntax finds nothing and breaks nothing; a forged
    rating before using it is refused; Get sends the file by its file_id and counts one use;
    rating 4 with a comment, then 5: one rating, replaced; the card shows the mean."""
    _, _, student, other = await people(harness)
    t = i18n.translator("en")
    view = await approved(harness, title=TITLE)

    await other.send("/resources")
    assert TITLE_EN in other.last_text
    await other.tap(t.plain("bank.filter_kind"))
    await other.tap(t.plain("bank.kind_video"))
    assert TITLE_EN not in other.last_text
    await other.tap(t.plain("bank.filter_kind"))
    await other.tap(t.plain("bank.kind_lesson_plan"))
    assert TITLE_EN in other.last_text and "✓ " + t.plain("bank.filter_kind") in other.last_buttons

    await other.send("/resources цифровая грамотность")
    assert "Found for" in other.last_text and TITLE_EN in other.last_text
    await other.tap(t.plain("bank.search_again"))
    await other.send('"урок" OR plan* NEAR(a b) -x: ); DROP TABLE resource; --')
    assert "Nothing found" in other.last_text
    await other.send("/cancel")

    await other.tap_data(BankRate(view.id, 5).pack(), other.last_message.message_id)
    assert other.last_text == visible(t("bank.rate_unused"))

    await other.send("/resources грамотность")
    await other.tap(TITLE_EN[:15])
    assert "Used by: 0" in other.last_text or "used by: 0" in other.last_text
    await other.tap(t.plain("bank.get_file_button"))
    sent = [m for m in other.messages if m.document]
    assert sent[-1].document["file_id"] == (await latest(harness)).file_id
    await other.tap("4⭐")
    await other.send("Useful for first-year students.")
    assert other.last_text == visible(t("bank.comment_saved"))
    await other.tap(t.plain("bank.get_file_button"), message_id=None)
    await other.tap("5⭐")
    await other.tap(t.plain("bank.skip_comment"))
    async with harness.app.bot_data.db() as session:
        ratings = (await session.scalars(select(ResourceRating))).all()
        uses = (await session.scalars(select(ResourceUse))).all()
    assert [(r.rating, r.comment) for r in ratings] == [(5, None)]
    assert len(uses) == 1 and uses[0].opened == 2

    link = await approved(
        harness, title="[en] Open textbook of pedagogy", file=None, url="https://openstax.org/"
    )
    await student.send(f"/start r-{link.code}")
    await student.tap(t.plain("bank.get_link_button"))
    assert "https://openstax.org/" in student.texts[-2]
    [[open_link]] = student.messages[-2].inline_keyboard
    assert open_link["url"] == "https://openstax.org/"

    await student.send(f"/start r-{view.code}")
    assert "5,0" in student.last_text or "5.0" in student.last_text
    assert "ratings: 1" in student.last_text.lower() or "бағалар: 1" in student.last_text


# --- inline mode ---------------------------------------------------------------------------------


async def test_inline_query_shares_a_card_that_opens_in_the_bot(harness, i18n):
    """Tried: @bot with words in Russian lists the resource as an article whose card has an
    Open deep link; a query of 300 characters and one with FTS syntax and SQL are answered
    (empty), never an error; the empty query lists the newest; someone who never started the
    bot gets results in their app's language and is not registered; the card chosen into
    another chat opens in the bot for a colleague, who gets the file; a card posted into the
    bot's own chat is not taken as an answer."""
    _, _, student, other = await people(harness)
    view = await approved(harness, title=TITLE)

    answer = await student.inline("цифровая грамотность")
    assert answer.answered and answer.is_personal
    result = answer.result(f"r-{view.code}")
    assert result["title"] == TITLE_EN
    shared = await student.choose(f"r-{view.code}", chat="Colleague")
    assert TITLE_EN in shared.record.text
    [[button]] = shared.record.inline_keyboard
    assert button["url"] == f"https://t.me/ortaq_bot?start=r-{view.code}"

    long = await student.inline("грамотность " + "x" * 300)
    assert long.answered and len(long.query) == 256 and long.results == []
    tricky = await student.inline('"урок" OR plan* NEAR(a b) -x: ); DROP TABLE resource; --')
    assert tricky.answered and tricky.results == []
    newest = await student.inline("")
    assert newest.answered and f"r-{view.code}" in [r["id"] for r in newest.results]

    stranger = harness.user(3199, "Stranger", "ru")
    found = await stranger.inline("грамотность")
    assert found.results[0]["title"] == "План урока: цифровая грамотность"
    async with harness.app.bot_data.db() as session:
        known = await session.scalar(
            select(func.count()).select_from(User).where(User.telegram_id == 3199)
        )
    assert known == 0

    await other.open_link(button["url"])
    assert TITLE_EN in other.last_text
    await other.tap("Get the file")
    assert [m.document["file_name"] for m in other.messages if m.document] == ["plan.pdf"]

    await student.send("/contribute")  # not a contributor: nothing awaited
    before = len(student.messages)
    await student.inline("грамотность")
    await student.choose(f"r-{view.code}")  # into the chat with the bot itself
    assert len(student.messages) == before  # the bot said nothing to its own card
    assert not harness.errors


# --- /bank_stats ---------------------------------------------------------------------------------


async def test_bank_stats_for_a_period_with_its_chart(harness, i18n):
    """Tried: a student is refused /bank_stats and its forged period button; the organizer
    picks All time: the first university has the one approved resource (100% of resources),
    its use by a student of the second university counts as a use by another university
    (100% of uses) while its own student's use counts in all uses only; the chart follows.
    /bank_stats month names the period; the shipped demo resources count for no university."""
    _, organizer, student, other = await people(harness)
    t = i18n.translator("en")
    view = await approved(harness, title=TITLE)
    for person in (student, other):
        await person.send(f"/start r-{view.code}")
        await person.tap(t.plain("bank.get_file_button"))

    await student.send("/bank_stats")
    assert student.last_text == visible(t("errors.not_allowed"))
    await student.tap_data(BankStatsPeriod("all").pack(), student.last_message.message_id)
    assert student.last_toast == t.plain("errors.not_allowed")

    await organizer.send("/bank_stats")
    await organizer.tap(t.plain("bank.stats_period_all"))
    summary = [m for m in organizer.messages if m.text and "Contribution" in m.text][-1].text
    unis = await list_universities(harness.app.bot_data.db)
    first = unis[0].name("en")
    assert f"{first}\nresources: 1 (100.0%) · uses by other universities: 1 (100.0%)" in summary
    assert "all uses: 2" in summary and t.plain("bank.kind_lesson_plan") + " 1" in summary
    assert "Resources approved: 1 · uses by people of other universities: 1" in summary
    assert organizer.last_message.photo is not None  # the chart

    await organizer.send("/bank_stats month")
    assert t.plain("bank.stats_period_month") in organizer.texts[-1]


async def test_an_inline_query_answered_too_late_is_dropped_quietly(harness):
    """Tried: Telegram stopped waiting for an answer (the emulator answers "query is too old"
    to the bot): the bot logs it and raises nothing, and the person's next query is answered."""
    _, _, student, _ = await people(harness)
    emulator = harness.emulator
    update = emulator.post_inline_query(STUDENT, "plan", enqueue=False)
    query_id = update["inline_query"]["id"]
    status, _ = await emulator.call(
        emulator.token, "answerInlineQuery", {"inline_query_id": query_id, "results": []}
    )
    assert status == 200  # answered already: the bot's own answer will come too late
    await harness.deliver(update)
    assert not harness.errors
    assert (await student.inline("")).answered
