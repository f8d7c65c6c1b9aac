"""/broadcast to the learners of a course (issue 11, item 8), through the emulator."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.callbacks import BroadcastAudience
from bot.services import audiences
from bot.services import broadcasts as svc
from bot.services import course as course_service
from bot.services.universities import list_universities
from models import Broadcast, Enrolment, User, utcnow
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import onboard

COURSE = "dlt_course"
TITLE = "Digital learning technologies"
ADMINS = frozenset({ADMIN_ID})


async def _people(harness):
    """Two students enrolled in the default course, one who is not."""
    db = harness.app.bot_data.db
    for telegram_id in (3001, 3002, 3003):
        harness.emulator.add_user(telegram_id, f"S{telegram_id}", language_code="en")
        await factories.student(db, telegram_id, first_name=f"S{telegram_id}")
    for telegram_id in (3001, 3002):
        await course_service.enrol(db, telegram_id, COURSE)
    return (3001, 3002), 3003


async def _compose_to(admin, t, label, text):
    """/broadcast, the course button, the given audience, a text, no link buttons."""
    await admin.send("/broadcast")
    await admin.tap(t.plain("broadcasts.audience_courses"))
    assert admin.last_text == t("broadcasts.choose_course")
    await admin.tap(label)
    await admin.send(text)
    await admin.tap(t.plain("broadcasts.no_buttons"))


def _received(harness, chat_id, text):
    """How many times `text` reached the chat."""
    return sum(m.text == text for m in harness.emulator.bot_messages(chat_id))


async def _latest_id(harness):
    views = await svc.list_recent(harness.app.bot_data.db, ADMIN_ID, ADMINS)
    return views[0].id


async def test_learners_of_a_course_get_the_broadcast_and_nobody_else(harness, i18n):
    """Tried: an admin picks "Learners of a course", then all learners of dlt_course; the
    audience step and the preview name the course (not "Everyone") with 2 recipients; after
    Send only the two enrolled students get it, the third student and the admin do not; and
    /broadcasts names the course as the audience.
    """
    t = i18n.translator("en")
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    learners, other = await _people(harness)
    label = t.plain("broadcasts.audience_course", course=TITLE)
    await _compose_to(admin, t, label, "Lesson 3 is open")
    assert t.plain("broadcasts.audience_set", audience=label, count=2) in admin.texts
    assert f"Audience: {label}" in admin.last_text and "Recipients: 2" in admin.last_text
    assert t.plain("broadcasts.audience_all") not in admin.last_text
    await admin.tap(t.plain("broadcasts.send_now", count=2))
    broadcast_id = await _latest_id(harness)
    await harness.app.bot_data.broadcaster.wait(broadcast_id)
    for chat in learners:
        assert _received(harness, chat, "Lesson 3 is open") == 1, chat
    assert _received(harness, other, "Lesson 3 is open") == 0
    assert _received(harness, ADMIN_ID, "Lesson 3 is open") == 1  # the preview only
    await admin.send("/broadcasts")
    assert f"#{broadcast_id}" in admin.last_text and "sent 2 of 2" in admin.last_text
    assert t.plain("broadcasts.list_audience", audience=label) in admin.last_text


async def test_not_finished_leaves_out_a_learner_who_finished(harness, i18n):
    """Tried: one of the two learners is marked finished in the database; the audience "not
    finished yet" then counts one, and only the unfinished learner receives the broadcast.
    """
    t = i18n.translator("en")
    db = harness.app.bot_data.db
    admin = harness.user(ADMIN_ID, "Admin", "en")
    await onboard(admin, i18n)
    (finished, open_), other = await _people(harness)
    async with db.begin() as session:
        user_id = await session.scalar(select(User.id).where(User.telegram_id == finished))
        enrolment = await session.scalar(select(Enrolment).where(Enrolment.user_id == user_id))
        assert enrolment is not None
        enrolment.finished_at = utcnow()
    label = t.plain("broadcasts.audience_course_open", course=TITLE)
    await _compose_to(admin, t, label, "Two lessons left")
    assert f"Audience: {label}" in admin.last_text and "Recipients: 1" in admin.last_text
    await admin.tap(t.plain("broadcasts.send_now", count=1))
    await harness.app.bot_data.broadcaster.wait(await _latest_id(harness))
    assert _received(harness, open_, "Two lessons left") == 1
    assert _received(harness, finished, "Two lessons left") == 0
    assert _received(harness, other, "Two lessons left") == 0


async def test_a_scoped_organizer_writes_to_the_learners_at_their_university(harness, i18n):
    """Tried: an organizer scoped to the first university opens the course list: it offers the
    course's learners at their university ("... at <university>"), not all learners; a forged
    button for all learners, and one for the learners at another university, are refused on
    the button with the own-university message and nothing is asked next; the allowed audience
    counts the two learners there, the preview and /broadcasts name course and university, and
    after Send a learner of another university and a non-learner get nothing.
    """
    t = i18n.translator("en")
    db = harness.app.bot_data.db
    (first, second), not_enrolled = await _people(harness)
    harness.emulator.add_user(3004, "S3004", language_code="en")
    await factories.student(db, 3004, university=1, first_name="S3004")
    await course_service.enrol(db, 3004, COURSE)
    unis = await list_universities(db)
    own, other = unis[0], unis[1]
    await factories.organizer(db, 3100, ADMINS, university=0, first_name="Org")
    organizer = harness.user(3100, "Org", "en")
    await organizer.send("/broadcast")
    await organizer.tap(t.plain("broadcasts.audience_courses"))
    assert organizer.last_text == t("broadcasts.choose_course")
    at_own = t.plain("broadcasts.audience_course_at", course=TITLE, university=own.name("en"))
    open_at_own = t.plain(
        "broadcasts.audience_course_open_at", course=TITLE, university=own.name("en")
    )
    assert organizer.last_buttons == [at_own, open_at_own]
    assert t.plain("broadcasts.audience_course", course=TITLE) not in organizer.last_buttons
    async with db() as session:
        ref = await audiences.course_ref(session, COURSE)
        draft = await session.scalar(select(func.max(Broadcast.id)))
    assert ref is not None and draft is not None
    choose_course = organizer.last_message.message_id
    for kind, forged in (
        ("course", ref),
        ("course_open", ref),
        ("course", audiences.narrowed(ref, other.id)),
    ):
        await organizer.tap_data(BroadcastAudience(draft, kind, forged).pack(), choose_course)
        assert organizer.last_toast == t.plain("broadcasts.own_university_only")
        assert organizer.last_text == t("broadcasts.choose_course")  # nothing asked next
    await organizer.tap(at_own)
    assert t.plain("broadcasts.audience_set", audience=at_own, count=2) in organizer.texts
    await organizer.send("Lesson 4 is open at our university")
    await organizer.tap(t.plain("broadcasts.no_buttons"))
    assert f"Audience: {at_own}" in organizer.last_text and "Recipients: 2" in organizer.last_text
    await organizer.tap(t.plain("broadcasts.send_now", count=2))
    await harness.app.bot_data.broadcaster.wait(draft)
    for chat in (first, second):
        assert _received(harness, chat, "Lesson 4 is open at our university") == 1, chat
    for chat in (3004, not_enrolled):
        assert _received(harness, chat, "Lesson 4 is open at our university") == 0, chat
    await organizer.send("/broadcasts")
    assert t.plain("broadcasts.list_audience", audience=at_own) in organizer.last_text
