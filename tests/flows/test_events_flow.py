"""Events in chat through the emulator: the /new_event wizard, the announcement, registration to
capacity and the waiting list, reminders at each offset across restarts, check-in, feedback and
the recording to absentees; then every bad input, stale and forged buttons.

Time is moved the way the timed duties see it: the event's stored times (its start, its end, its
reminders' due times, the opening of its check-in) are moved together, as if the clock had moved
on, and the duties are run with `harness.run_jobs()`; no test waits for a real timer.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select

from bot.callbacks import (
    BroadcastAudience,
    EventCancelConfirm,
    EventChange,
    EventCheckinRetry,
    EventField,
    EventManage,
    EventPublish,
    EventRegistrants,
)
from bot.services import audiences
from models import Broadcast, Event, EventRegistration, EventReminder, utcnow
from tests import factories
from tests.conftest import ADMIN_ID
from tests.flows.helpers import UNIVERSITY_EN

ADMINS = frozenset({ADMIN_ID})
ZONE = ZoneInfo("Asia/Almaty")  # the tests' TIMEZONE
LINK = "https://zoom.us/j/987654321"
TITLE = (
    "[kk]\nЦифрлық платформалар коучингі\n"
    "[ru]\nКоучинг по цифровым платформам\n"
    "[en]\nDigital platforms coaching"
)
TITLE_EN = "Digital platforms coaching"
TITLE_RU = "Коучинг по цифровым платформам"


def _visible(text: str) -> str:
    """A translated HTML text as the person reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _typed_time(days: float = 3) -> str:
    """A start `days` from now, typed as people in the consortium write it."""
    local = datetime.now(ZONE) + timedelta(days=days)
    return local.strftime("%d.%m.%Y %H:%M")


async def _coach(harness, telegram_id=3001, university=None, language="en"):
    user = harness.user(telegram_id, "Coach", language)
    await factories.coach(
        harness.app.bot_data.db,
        telegram_id,
        ADMINS,
        university=university,
        language=language,
        first_name="Coach",
    )
    return user


async def _students(harness, ids, languages=None, university=0):
    db = harness.app.bot_data.db
    people = []
    for n, telegram_id in enumerate(ids):
        language = (languages or ["en"] * len(ids))[n]
        user = harness.user(telegram_id, f"S{n + 1}", language)
        await factories.student(
            db, telegram_id, university=university, language=language, first_name=f"S{n + 1}"
        )
        people.append(user)
    return people


async def _event(harness) -> Event:
    async with harness.app.bot_data.db() as session:
        event = await session.scalar(select(Event).order_by(Event.id.desc()))
        assert event is not None
        return event


async def _starts_in(harness, event_id: int, minutes: float) -> None:
    """Move the clock on: the event now starts `minutes` from now (negative: it has started).

    Every stored time of the event moves by the same amount, as the clock would have moved.
    """
    async with harness.app.bot_data.db.begin() as session:
        event = await session.get(Event, event_id)
        assert event is not None and event.starts_at is not None
        delta = event.starts_at - (utcnow() + timedelta(minutes=minutes))
        event.starts_at -= delta
        event.ends_at = event.ends_at - delta if event.ends_at else None
        if event.checkin_opened_at is not None:
            event.checkin_opened_at -= delta
        registrations = select(EventRegistration.id).where(EventRegistration.event_id == event_id)
        reminders = (
            await session.scalars(
                select(EventReminder).where(EventReminder.registration_id.in_(registrations))
            )
        ).all()
        for reminder in reminders:
            reminder.due_at -= delta


async def _settle(harness) -> None:
    """Let the broadcasts a handler started finish (notices, the announcement)."""
    await harness.app.bot_data.broadcaster.idle()


def _reminders(user) -> list[str]:
    return [text for text in user.texts if text.startswith("⏰")]


async def _wizard(coach, t, *, capacity: str = "3", when: str | None = None) -> None:
    """Schedule a coaching session through every step of /new_event, up to the preview."""
    await coach.send("/new_event")
    assert _visible(t("events.new_choose_kind")) == coach.last_text
    await coach.tap(t.plain("events.kind_coaching"))
    assert "title" in coach.last_text
    await coach.send(TITLE)
    await coach.send("We practise Moodle and Google Classroom together.")
    await coach.send(when or _typed_time())
    await coach.send("90")
    await coach.send(LINK)
    await coach.tap(UNIVERSITY_EN)
    await coach.tap(t.plain("broadcasts.audience_all"))
    await coach.send(capacity)
    await coach.tap(t.plain("events.default_reminders", offsets="1 d, 1 h, 10 min"))


async def test_a_coaching_session_from_scheduling_to_the_recording(harness, i18n):
    """The whole life of a session with 3 places: scheduled in chat and previewed; published to
    everyone with progress and report; five students register (two wait, places shown); the
    first cancels and the first waiting moves up and is told; the .ics opens in a calendar; the
    reminders 24 h, 1 h and 10 min before reach those with a place once each, across restarts;
    the coach opens the check-in, two students check in (a wrong code is explained); after the
    end the attendees rate and comment; the recording reaches the one who registered and did
    not come, and nobody else.
    """
    t = i18n.translator("en")
    coach = await _coach(harness)
    s1, s2, s3, s4, s5 = await _students(
        harness, [3101, 3102, 3103, 3104, 3105], ["en", "ru", "kk", "en", "en"]
    )
    await _wizard(coach, t)
    # The preview: the card as people get it, then what else was chosen, and Publish.
    assert _visible(t("events.preview_intro")) in coach.texts
    assert any(TITLE_EN in text and "1 h 30 min" in text for text in coach.texts[-3:])
    assert LINK in coach.last_text and "Everyone" in coach.last_text
    assert "1 d, 1 h, 10 min" in coach.last_text
    await coach.tap(t.plain("events.publish_button"))
    event = await _event(harness)
    assert event.state == "published" and event.capacity == 3
    assert any(f"start=e-{event.code}" in text for text in coach.texts)
    await _settle(harness)
    # The progress message became the report (the coach, in the audience, got the card too).
    report = next(x for x in coach.texts if f"#{event.announcement_id}" in x)
    assert "finished" in report and "Sent: 6 of 6" in report
    # Everyone got the announcement in their language, with both buttons.
    assert TITLE_RU in s2.last_text
    assert i18n.translator("kk").plain("events.register_button") in s3.last_buttons
    assert t.plain("events.calendar_button") in s1.last_buttons
    # Registration to capacity, then the waiting list with its places.
    for student in (s1, s2, s3):
        await student.tap(
            i18n.translator(student.user["language_code"]).plain("events.register_button")
        )
    assert _visible(t("events.registered", title=TITLE_EN)) in s1.texts
    await s4.tap(t.plain("events.register_button"))
    assert _visible(t("events.waiting", title=TITLE_EN, position=1)) in s4.texts
    await s5.tap(t.plain("events.register_button"))
    assert _visible(t("events.waiting", title=TITLE_EN, position=2)) in s5.texts
    # Twice: the same place, nothing added.
    await s5.tap(t.plain("events.register_button"))
    assert s5.last_text == _visible(t("events.already_waiting", title=TITLE_EN, position=2))
    await s5.send("/events")
    assert _visible(t("events.my_waiting", position=2)) in s5.last_text
    # The first with a place cancels: the first waiting moves up and is told.
    await s1.tap(t.plain("events.unregister_button"))
    assert s1.last_text.startswith(_visible(t("events.unregistered", title=TITLE_EN)))
    await _settle(harness)
    assert any("A place has freed up" in text for text in s4.texts)
    await s5.send("/events")
    assert _visible(t("events.my_waiting", position=1)) in s5.last_text
    # Add to calendar: an .ics file with the event's UID and the first reminder as its alarm.
    await s4.send("/events")
    await s4.tap(t.plain("events.calendar_button"))
    document = s4.last_message.document
    assert document["file_name"] == f"event-{event.code}.ics"
    ics = await (await harness.app.bot.get_file(document["file_id"])).download_as_bytearray()
    calendar = Calendar.from_ical(bytes(ics))
    entry = next(iter(calendar.walk("VEVENT")))
    assert str(entry["UID"]) == f"{event.code}@ortaq"
    assert entry.walk("VALARM") and str(entry["URL"]) == LINK
    # The coach finds Manage under their own event in /events.
    await coach.send("/events")
    assert t.plain("events.manage_button") in coach.last_buttons
    # Reminders: 24 h before, then a restart, 1 h before, a restart, 10 min before.
    await _starts_in(harness, event.id, 24 * 60 - 1)
    await harness.run_jobs()
    await harness.run_jobs()  # a second pass finds nothing more to send
    assert [len(_reminders(s)) for s in (s1, s2, s3, s4, s5)] == [0, 1, 1, 1, 0]
    await harness.restart()
    await _starts_in(harness, event.id, 59)
    await harness.run_jobs()
    assert [len(_reminders(s)) for s in (s1, s2, s3, s4, s5)] == [0, 2, 2, 2, 0]
    await harness.restart()
    await _starts_in(harness, event.id, 9)
    await harness.run_jobs()
    await harness.run_jobs()
    assert [len(_reminders(s)) for s in (s1, s2, s3, s4, s5)] == [0, 3, 3, 3, 0]
    reminder = s4.last_message
    assert any(b.get("url") == LINK for row in reminder.inline_keyboard for b in row)
    # The session has started: the coach opens the check-in from /my_events.
    await _starts_in(harness, event.id, -5)
    await coach.send("/my_events")
    await coach.tap(TITLE_EN)
    assert _visible(t("events.manage_figures", registered=3, places=" of 3", waiting=1)) in (
        coach.last_text
    )
    await coach.tap(t.plain("events.checkin_button"))
    code = (await _event(harness)).checkin_code
    assert code and code in coach.last_text
    wrong = "0000" if code != "0000" else "1111"
    await s2.send(f"/checkin {wrong}")
    assert _visible(i18n.translator("ru")("events.bad_code")) in s2.last_text
    await s2.send(code)  # still waiting for the code after the wrong one
    assert _visible(i18n.translator("ru")("events.checked_in", title=TITLE_RU)) == s2.last_text
    await s4.send("/checkin")
    assert s4.last_text == _visible(t("events.checkin_ask_code", digits=6))
    await s4.send(code)
    assert s4.last_text == _visible(t("events.checked_in", title=TITLE_EN))
    await s4.send(f"/checkin {code}")  # twice: fine, recorded once
    assert s4.last_text == _visible(t("events.checked_in", title=TITLE_EN))
    # The registrants: those with a place (checked in marked), the waiting list, who left.
    await coach.tap(t.plain("events.registrants_button"))
    lines = coach.last_text.splitlines()
    assert lines[0] == _visible(t("events.registrants_title", title=TITLE_EN, count=5))
    assert [line.split(" — ")[-1] for line in lines[1:]] == [
        "registered ✅",
        "registered",
        "registered ✅",
        "waiting",
        "cancelled",
    ]
    assert lines[1].startswith("1. S2") and lines[4].startswith("4. S5")
    # After the end: the attendees are asked for feedback, once.
    await _starts_in(harness, event.id, -91)
    await harness.run_jobs()
    await harness.run_jobs()
    forms = [
        sum(1 for m in s.messages if "★★★★★" in s.buttons_of(m)) for s in (s1, s2, s3, s4, s5)
    ]
    assert forms == [0, 1, 0, 1, 0]
    await s4.tap("★★★★")
    assert _visible(t("events.rated_ask_comment", stars="★★★★")) == s4.last_text
    await s4.send("Very useful, thank you!")
    assert s4.last_text == _visible(t("events.comment_thanks"))
    await s2.tap("★★★★★")
    await s2.tap(i18n.translator("ru").plain("events.skip_comment"))
    async with harness.app.bot_data.db() as session:
        rows = {
            r.user_id: r
            for r in (
                await session.scalars(
                    select(EventRegistration).where(EventRegistration.event_id == event.id)
                )
            ).all()
        }
    ratings = sorted(
        (r.feedback_rating, r.feedback_comment) for r in rows.values() if r.feedback_rating
    )
    assert ratings == [(4, "Very useful, thank you!"), (5, None)]
    # The recording: only the one registered who did not come (s3) gets it.
    await coach.send("/recording")
    await coach.tap(TITLE_EN)
    await coach.send("not a link")
    assert _visible(t("events.bad_link", example="https://zoom.us/j/123456789")) == coach.last_text
    await coach.send("https://example.org/recording/42")
    await _settle(harness)
    assert _visible(t("events.recording_sent", title=TITLE_EN, count=1)) == coach.last_text
    recordings = [sum(1 for x in s.texts if x.startswith("📼")) for s in (s1, s2, s3, s4, s5)]
    assert recordings == [0, 0, 1, 0, 0]
    assert "recording" in s3.last_text.lower() or "жазба" in s3.last_text


async def test_wrong_codes_lock_check_in_until_the_coach_lets_them_try_again(harness, i18n):
    """A registrant sends 4 wrong codes (each explained, the bot keeps waiting) and the 5th is
    answered "too many, ask the coach" (the bot stops waiting); after a restart the right code is
    still refused; another student checks in; the coach's Check-in code names the locked-out
    person with a button letting them try again (a student's forged press refused); then the
    right code works. After the end the right code says check-in is closed, not "wrong code".
    """
    t = i18n.translator("en")
    coach = await _coach(harness)
    s1, s2 = await _students(harness, [3501, 3502])
    await _wizard(coach, t)
    await coach.tap(t.plain("events.publish_button"))
    await _settle(harness)
    event = await _event(harness)
    await s1.tap(t.plain("events.register_button"))
    await _starts_in(harness, event.id, -5)
    await coach.send("/my_events")
    await coach.tap(TITLE_EN)
    manage = coach.last_message.message_id
    await coach.tap(t.plain("events.checkin_button"), message_id=manage)
    code = (await _event(harness)).checkin_code
    assert code and len(code) == 6
    assert not coach.last_buttons  # nobody locked out yet
    wrong = "000000" if code != "000000" else "111111"
    await s1.send("/checkin")
    for _ in range(4):
        await s1.send(wrong)
        assert s1.last_text == _visible(t("events.bad_code") + "\n" + t("events.checkin_again"))
    await s1.send(wrong)
    locked = _visible(t("events.checkin_locked", tries=5))
    assert s1.last_text == locked
    await s1.send(code)  # no longer waiting for a code
    assert s1.last_text == _visible(t("errors.not_understood"))
    await harness.restart()
    await s1.send(f"/checkin {code}")
    assert s1.last_text == locked
    await s2.send(f"/checkin {code}")  # a walk-in in the audience: unaffected
    assert s2.last_text == _visible(t("events.checked_in", title=TITLE_EN))
    await coach.tap(t.plain("events.checkin_button"), message_id=manage)
    assert _visible(t("events.checkin_locked_out", count=1, tries=5, names="S1")) in (
        coach.last_text
    )
    await s2.tap_data(EventCheckinRetry(event.id).pack(), s2.last_message.message_id)
    assert s2.last_toast == t.plain("errors.not_allowed")
    await s1.send(f"/checkin {code}")
    assert s1.last_text == locked
    await coach.tap(t.plain("events.checkin_retry_button"))
    assert coach.last_text == _visible(t("events.checkin_retry_done", count=1))
    await s1.send(f"/checkin {code}")
    assert s1.last_text == _visible(t("events.checked_in", title=TITLE_EN))
    await _starts_in(harness, event.id, -91)
    await s1.send(f"/checkin {code}")
    assert s1.last_text.startswith(_visible(t("events.checkin_closed")))


async def test_a_broadcast_to_the_registrants_of_an_event(harness, i18n):
    """Tried: a coach's /broadcast offers "Registrants of an event", lists their event, and the
    audience step, the preview and /broadcasts name it ("Registrants of <title>") with the two
    registered (one waiting) as recipients; after Send they get it and a student who did not
    register does not. Another coach is not offered the event, and their forged button for its
    registrants is refused (events.not_yours) and sets nothing.
    """
    t = i18n.translator("en")
    coach = await _coach(harness)
    other = await _coach(harness, 3002)
    s1, s2, s3 = await _students(harness, [3601, 3602, 3603])
    await _wizard(coach, t, capacity="1")
    await coach.tap(t.plain("events.publish_button"))
    await _settle(harness)
    event = await _event(harness)
    await s1.tap(t.plain("events.register_button"))
    await s2.tap(t.plain("events.register_button"))  # waiting
    await coach.send("/broadcast")
    await coach.tap(t.plain("broadcasts.audience_events"))
    assert coach.last_text == _visible(t("broadcasts.choose_event"))
    await coach.tap(TITLE_EN)
    label = t.plain("broadcasts.audience_event", title=TITLE_EN)
    assert t.plain("broadcasts.audience_set", audience=label, count=2) in coach.texts
    await coach.send("The slides are in the group chat")
    await coach.tap(t.plain("broadcasts.no_buttons"))
    assert f"Audience: {label}" in coach.last_text and "Recipients: 2" in coach.last_text
    await coach.tap(t.plain("broadcasts.send_now", count=2))
    async with harness.app.bot_data.db() as session:
        sent = await session.scalar(select(Broadcast).order_by(Broadcast.id.desc()))
    assert sent is not None and sent.audience_kind == "event"
    await harness.app.bot_data.broadcaster.wait(sent.id)
    for student, expected in ((s1, 1), (s2, 1), (s3, 0)):
        assert student.texts.count("The slides are in the group chat") == expected
    await coach.send("/broadcasts")
    assert t.plain("broadcasts.list_audience", audience=label) in coach.last_text
    await other.send("/broadcast")
    assert t.plain("broadcasts.audience_events") not in other.last_buttons
    async with harness.app.bot_data.db() as session:
        draft = await session.scalar(select(Broadcast).order_by(Broadcast.id.desc()))
    assert draft is not None and draft.state == "draft"
    ref = audiences.event_ref(event.id, event.university_id)
    forged = BroadcastAudience(draft.id, "event", ref).pack()
    await other.tap_data(forged, other.last_message.message_id)
    assert other.last_toast == t.plain("events.not_yours")
    async with harness.app.bot_data.db() as session:
        kept = await session.get(Broadcast, draft.id)
    assert kept is not None and kept.audience_kind != "event"


async def test_bad_input_is_explained_and_nothing_is_lost(harness, i18n):
    """A student may not schedule; in the wizard a date that is nonsense or past, a duration, a
    link, zero places and reminders that are no times are each explained while the bot waits for
    the same step, a restart in the middle keeps the draft and the step; a draft left with
    /cancel is taken up from /my_events where it stopped; another coach's forged Publish is
    refused, and a second Publish changes nothing.
    """
    t = i18n.translator("en")
    student = (await _students(harness, [3201]))[0]
    for command in ("/new_event", "/my_events", "/recording"):
        await student.send(command)
        assert student.last_text == _visible(t("events.new_refused"))
    coach = await _coach(harness)
    other = await _coach(harness, 3002)
    await coach.send("/new_event")
    await coach.tap(t.plain("events.kind_webinar"))
    await coach.send("[kk]\nВебинар\n[ru]\nВебинар\n[en]\nWebinar on LMS")
    await harness.restart()  # the draft and the step are in the database
    await coach.send("All about LMS.")
    assert "When does it start?" in coach.last_text
    await coach.send("tomorrow at three")
    assert coach.last_text == _visible(t("events.bad_time", example="03.12.2026 15:00"))
    await coach.send("01.01.2020 10:00")
    assert coach.last_text == _visible(t("events.past_time", example="03.12.2026 15:00"))
    await coach.send(_typed_time(5))
    await coach.send("forever")
    assert coach.last_text.startswith("I could not read the duration")
    await coach.tap("1 h 30 min")
    await coach.send("zoom meeting")
    assert coach.last_text == _visible(t("events.bad_link", example="https://zoom.us/j/123456789"))
    await coach.send(LINK)
    await coach.tap(UNIVERSITY_EN)
    await coach.tap(t.plain("broadcasts.audience_university"))
    await coach.tap(UNIVERSITY_EN)
    await coach.send("0")
    assert coach.last_text == _visible(t("events.bad_capacity", example="12"))
    await coach.send("-")  # no limit
    await coach.send("every day")
    assert coach.last_text.startswith("I could not read the reminders")
    await coach.send("2h, 15m")
    assert "2 h, 15 min" in coach.last_text and UNIVERSITY_EN in coach.last_text
    assert t.plain("events.no_limit_value") in coach.last_text
    async with harness.app.bot_data.db() as session:
        event = await session.scalar(select(Event).where(Event.kind == "webinar"))
    assert event is not None and event.state == "draft" and event.capacity is None
    assert event.reminder_offsets == [120, 15] and event.duration_minutes == 90
    assert event.title == {"kk": "Вебинар", "ru": "Вебинар", "en": "Webinar on LMS"}
    # A draft left with /cancel is taken up again from /my_events where it stopped.
    await other.send("/new_event")
    await other.tap(t.plain("events.kind_consilium"))
    await other.send("Consilium on inclusive teaching")
    await other.send("/cancel")
    await other.send("/my_events")
    await other.tap("Consilium on inclusive teaching")
    assert other.last_text.startswith("When does it start?")
    await other.send(_typed_time(6))
    assert other.last_text.startswith("How long does it last?")
    # A Manage button of a draft (from before drafts had their own) offers to continue it.
    draft = await _event(harness)
    await other.send("/cancel")
    await other.tap_data(EventManage(draft.id).pack(), other.last_message.message_id)
    assert other.last_text == _visible(t("events.draft_resume"))
    await other.tap("Consilium on inclusive teaching")  # the first step still missing
    assert other.last_text == _visible(t("events.ask_link", example="https://zoom.us/j/123456789"))
    # Someone else's draft: a forged Publish is refused and publishes nothing.
    await other.send("/menu")
    await other.tap_data(EventPublish(event.id).pack(), other.last_message.message_id)
    assert other.last_toast == t.plain("events.not_yours")
    async with harness.app.bot_data.db() as session:
        assert (await session.get(Event, event.id)).state == "draft"
    await coach.tap(t.plain("events.publish_button"))
    await _settle(harness)
    async with harness.app.bot_data.db() as session:
        assert (await session.get(Event, event.id)).state == "published"
    preview = next(m for m in reversed(coach.messages) if "2 h, 15 min" in (m.text or ""))
    await coach.tap_data(EventPublish(event.id).pack(), preview.message_id)
    assert coach.last_toast == t.plain("events.not_draft")
    async with harness.app.bot_data.db() as session:
        published = (await session.scalars(select(Event).where(Event.state == "published"))).all()
    assert [e.id for e in published] == [event.id]


async def test_changes_and_cancellation_reach_registrants_and_old_buttons_are_answered(
    harness, i18n
):
    """A new time and a new link are told to everyone registered or waiting (a bad link is
    explained first); check-in cannot open days before; cancelling (confirmed) tells them too;
    afterwards the announcement's I will attend, Cancel my place and the management buttons are
    answered "cancelled/closed", /events no longer lists it and its link shows it cancelled.
    """
    t = i18n.translator("en")
    coach = await _coach(harness)
    s1, s2 = await _students(harness, [3301, 3302], ["en", "kk"])
    await _wizard(coach, t, capacity="1")
    await coach.tap(t.plain("events.publish_button"))
    await _settle(harness)
    event = await _event(harness)
    await s1.tap(t.plain("events.register_button"))
    await s2.tap(i18n.translator("kk").plain("events.register_button"))
    assert (
        _visible(
            i18n.translator("kk")(
                "events.waiting", title="Цифрлық платформалар коучингі", position=1
            )
        )
        in s2.texts
    )
    await coach.send("/my_events")
    await coach.tap(TITLE_EN)
    manage = coach.last_message.message_id
    await coach.tap(t.plain("events.checkin_button"))
    assert coach.last_text == _visible(t("events.checkin_closed"))
    # A student forging the organizer's buttons is refused before being asked anything.
    forged = EventChange(event.id, EventField.TIME).pack()
    await s1.tap_data(forged, s1.last_message.message_id)
    assert s1.last_toast == t.plain("errors.not_allowed")
    await s1.tap_data(EventRegistrants(event.id).pack(), s1.last_message.message_id)
    assert s1.last_toast == t.plain("errors.not_allowed")
    await s1.send(_typed_time(4))
    assert s1.last_text == _visible(t("errors.not_understood"))
    await coach.tap(t.plain("events.change_time_button"), message_id=manage)
    await coach.send(_typed_time(4))
    await _settle(harness)
    assert coach.last_text.startswith("✅ New time:")
    assert any(x.startswith("✏️") for x in s1.texts) and any(x.startswith("✏️") for x in s2.texts)
    await coach.tap(t.plain("events.change_link_button"), message_id=manage)
    await coach.send("meet dot google")
    assert coach.last_text == _visible(t("events.bad_link", example="https://zoom.us/j/123456789"))
    await coach.send("https://meet.google.com/abc-defg-hij")
    await _settle(harness)
    assert coach.last_text == _visible(t("events.link_changed", count=2))
    assert any("has changed" in x for x in s1.texts[-1:])
    await coach.tap(t.plain("events.cancel_button"), message_id=manage)
    assert coach.last_text == _visible(t("events.cancel_confirm", title=TITLE_EN, count=2))
    await coach.tap(t.plain("events.cancel_yes"))
    await _settle(harness)
    assert coach.last_text == _visible(t("events.cancelled_done", title=TITLE_EN, count=2))
    assert s1.last_text.startswith("❌") and s2.last_text.startswith("❌")
    # Old buttons after the cancellation.
    announcement = next(
        m for m in s1.messages if t.plain("events.register_button") in s1.buttons_of(m)
    )
    await s1.tap(t.plain("events.register_button"), message_id=announcement.message_id)
    assert s1.last_toast == t.plain("events.closed")
    await s1.tap(t.plain("events.unregister_button"))
    assert s1.last_toast == t.plain("events.cancelled")
    await coach.tap(t.plain("events.change_time_button"), message_id=manage)
    assert coach.last_toast == t.plain("events.cancelled")
    await coach.tap(t.plain("events.cancel_button"), message_id=manage)
    assert coach.last_toast == t.plain("events.cancelled")
    asked = _visible(t("events.cancel_confirm", title=TITLE_EN, count=2))
    confirm = next(m for m in coach.messages if m.text == asked)  # its button is gone
    await coach.tap_data(EventCancelConfirm(event.id).pack(), confirm.message_id)
    assert coach.last_toast == t.plain("events.cancelled")
    await s1.send("/events")
    assert s1.last_text == _visible(t("events.none"))
    await s1.send(f"/start e-{event.code}")  # the event's screen, then the menu
    screen = next(m for m in s1.messages[-3:] if TITLE_EN in (m.text or ""))
    assert _visible(t("events.my_cancelled_event")) in screen.text
    assert not s1.buttons_of(screen)
    await s1.send("/start e-nosuchcode")
    assert _visible(t("events.not_found")) in s1.texts[-3:]


async def test_a_coach_of_one_university_is_offered_its_audiences_only(harness, i18n):
    """A coach scoped to a university hosts at it (no question) and is offered only its people
    and its learners; a forged "everyone" is refused; the deep link and /events show the event
    to its audience, and someone of another university cannot register.
    """
    t = i18n.translator("en")
    coach = await _coach(harness, university=0)
    (inside,) = await _students(harness, [3401])
    (outside,) = await _students(harness, [3402], university=1)
    await coach.send("/new_event")
    await coach.tap(t.plain("events.kind_seminar"))
    await coach.send("Seminar on assessment")
    await coach.tap(t.plain("events.no_description"))
    await coach.send(_typed_time(2))
    await coach.tap("1 h")
    await coach.send(LINK)
    assert coach.last_text == _visible(t("events.ask_audience"))
    assert t.plain("broadcasts.audience_all") not in coach.last_buttons
    assert coach.last_buttons[0] == UNIVERSITY_EN
    event = await _event(harness)
    await coach.tap_data(f"evw:a:{event.id}:all:", coach.last_message.message_id)
    assert coach.last_toast == t.plain("events.own_university_only")
    await coach.tap(UNIVERSITY_EN)
    await coach.tap(t.plain("events.no_limit"))
    await coach.tap(t.plain("events.default_reminders", offsets="1 d, 1 h, 10 min"))
    await coach.tap(t.plain("events.publish_button"))
    await _settle(harness)
    assert t.plain("events.register_button") in inside.last_buttons
    assert not outside.messages or "Seminar" not in (outside.last_text or "")
    await outside.send(f"/start e-{event.code}")  # the event's screen, then the menu
    assert any("Seminar on assessment" in x for x in outside.texts[-3:])
    await outside.tap(t.plain("events.register_button"))
    assert outside.last_toast == t.plain("events.not_for_you")
    await inside.send("/events")
    assert "Seminar on assessment" in inside.last_text
    await inside.tap(t.plain("events.register_button"))
    assert inside.last_text.startswith("✅")
