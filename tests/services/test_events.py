"""Events on a real database: drafting, publishing, places and the waiting list, notices,
check-in, feedback and recordings (bot/services/events.py), built through tests/factories.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.callbacks import EventCalendar, EventRegister
from bot.i18n import I18n
from bot.services import InvalidInput, NotFound, PermissionDenied, ServiceError, audiences
from bot.services import broadcasts as broadcast_service
from bot.services import event_attendance as attendance
from bot.services import event_authoring as authoring
from bot.services import event_registrations as registrations
from bot.services import events as ev
from bot.services.broadcasts import BroadcastView
from bot.services.broadcasts import get as get_broadcast
from bot.services.events import EventState, Kind, RegState
from bot.services.roles import Role
from bot.services.universities import list_universities
from models import Broadcast, Delivery, EventCheckinAttempt, EventRegistration, User
from tests import factories
from tests.conftest import ADMIN_ID

ADMINS = frozenset({ADMIN_ID})
COACH = 7_100_000_001
OTHER_COACH = 7_100_000_002
STUDENT = 7_100_000_100
ZONE = factories.ZONE
NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 1 December, 10:00 in Almaty
START = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # 3 December, 15:00 in Almaty
END = START + timedelta(minutes=90)
I18N = I18n("kk")
TITLE = "[kk] Цифрлық платформалар\n[ru] Цифровые платформы\n[en] Digital platforms"


async def coach(db, telegram_id=COACH, **kwargs):
    """A coach (consortium-wide unless given a `university`)."""
    return await factories.staff(db, telegram_id, Role.COACH, ADMINS, **kwargs)


async def students(db, count, first=STUDENT, **kwargs):
    """`count` onboarded students, telegram ids from `first`."""
    return [await factories.student(db, first + n, **kwargs) for n in range(count)]


async def draft(db, *, actor=COACH, kind=Kind.WEBINAR, **fields):
    """A webinar draft by `actor` at START (3 December, 15:00 Almaty), 90 minutes."""
    made = await authoring.create_draft(db, actor, ADMINS, kind)
    values = {
        "title": TITLE,
        "description": "[kk] Сипаттама\n[ru] Описание\n[en] About digital platforms",
        "starts_at": START,
        "duration_minutes": 90,
        "join_url": "https://zoom.us/j/123",
        **fields,
    }
    return await authoring.update_draft(db, actor, ADMINS, made.id, now=NOW, **values)


async def scheduled(db, *, actor=COACH, **fields):
    """A published webinar (see `draft`)."""
    made = await draft(db, actor=actor, **fields)
    view, _announcement = await authoring.publish(
        db, actor, ADMINS, made.id, i18n=I18N, zone=ZONE, now=NOW
    )
    return view


async def deliveries(db, broadcast_id):
    """(chat id, text, buttons) of every delivery of a broadcast, in order."""
    async with db() as session:
        rows = (
            await session.scalars(
                select(Delivery).where(Delivery.broadcast_id == broadcast_id).order_by(Delivery.id)
            )
        ).all()
        return [
            (d.chat_id, (d.payload or {}).get("text"), (d.payload or {}).get("buttons"))
            for d in rows
        ]


async def registration_rows(db):
    """How many registration rows exist."""
    async with db() as session:
        return await session.scalar(select(func.count()).select_from(EventRegistration))


# --- drafting and publishing ------------------------------------------------------------------


async def test_a_student_cannot_create_an_event(db):
    """Tried: a student calls create_draft: refused with errors.not_allowed, nothing saved."""
    await students(db, 1)
    with pytest.raises(PermissionDenied) as refused:
        await authoring.create_draft(db, STUDENT, ADMINS, Kind.WEBINAR)
    assert refused.value.key == "errors.not_allowed"
    assert not ev.can_schedule({Role.STUDENT})
    assert ev.can_schedule({Role.STUDENT, Role.COACH})


async def test_a_draft_keeps_every_field_and_refuses_bad_ones(db):
    """Tried: a draft with title/description in three sections, capacity, offsets; then a past
    time, zero places, a bad link, an unmarked lead next to sections, a 201-character title, an
    unknown kind: each refused with its key, the draft unchanged."""
    await coach(db)
    made = await draft(db, capacity=12, reminder_offsets=(10, 1440, 60, 60))
    assert made.title == {
        "kk": "Цифрлық платформалар",
        "ru": "Цифровые платформы",
        "en": "Digital platforms",
    }
    assert made.title_in("ru") == "Цифровые платформы"
    assert made.capacity == 12
    assert made.reminder_offsets == (1440, 60, 10)
    assert made.ends_at == END
    assert made.state is EventState.DRAFT
    assert made.audience_kind == "all"
    bad = [
        ({"starts_at": NOW - timedelta(minutes=1)}, "events.past_time"),
        ({"capacity": 0}, "events.bad_capacity"),
        ({"join_url": "zoom.us/j/1"}, "events.bad_link"),
        ({"title": "Lead\n[ru] Заголовок"}, "events.unmarked_text"),
        ({"title": "x" * 201}, "events.text_too_long"),
        ({"title": "  "}, "events.empty_text"),
        ({"kind": "party"}, "events.bad_kind"),
        ({"duration_minutes": 2}, "events.bad_duration"),
        ({"reminder_offsets": (0,)}, "events.bad_offsets"),
        ({"timezone": "Mars/Olympus"}, "events.bad_zone"),
        ({"audience_kind": "university", "audience_ref": "999"}, "errors.university_not_found"),
        ({"audience_kind": "galaxy"}, "broadcasts.unknown_audience"),
    ]
    for fields, key in bad:
        with pytest.raises(ServiceError) as refused:
            await authoring.update_draft(db, COACH, ADMINS, made.id, now=NOW, **fields)
        assert refused.value.key == key, fields
    assert await ev.get(db, made.id) == made
    unlimited = await authoring.update_draft(db, COACH, ADMINS, made.id, now=NOW, capacity=None)
    assert unlimited.capacity is None


async def test_publish_announces_to_the_audience_in_each_language(db):
    """Tried: publish a draft for everyone with three students: one announcement broadcast with
    a delivery per onboarded person, the card in kk/ru/en with the time in the event's zone, and
    the buttons I will attend / Add to calendar; a second publish is refused (a double tap)."""
    await coach(db)
    await students(db, 3)
    made = await draft(db)
    view, broadcast_id = await authoring.publish(
        db, COACH, ADMINS, made.id, i18n=I18N, zone=ZONE, now=NOW
    )
    assert view.state is EventState.PUBLISHED
    announced = await get_broadcast(db, broadcast_id)
    assert isinstance(announced, BroadcastView)
    assert announced.total == 4  # three students and the coach (onboarded)
    assert announced.content is not None
    texts = announced.content.texts
    assert "3 December 2026, 15:00 (Asia/Almaty)" in texts["en"]
    assert "3 декабря 2026, 15:00" in texts["ru"]
    assert "2026 жылғы 3 желтоқсан, 15:00" in texts["kk"]
    assert "Digital platforms" in texts["en"] and "Цифровые платформы" in texts["ru"]
    buttons = announced.content.buttons
    assert [b.data for b in buttons] == [
        EventRegister(view.id).pack(),
        EventCalendar(view.id).pack(),
    ]
    assert buttons[0].label_for("ru", "kk") == "✅ Я приду"
    with pytest.raises(InvalidInput) as refused:
        await authoring.publish(db, COACH, ADMINS, made.id, i18n=I18N, zone=ZONE, now=NOW)
    assert refused.value.key == "events.not_draft"


async def test_publish_needs_a_title_and_a_future_time(db):
    """Tried: publish a draft with nothing filled in: events.incomplete; with a time that has
    passed meanwhile: events.past_time; nothing announced."""
    await coach(db)
    empty = await authoring.create_draft(db, COACH, ADMINS, Kind.SEMINAR)
    with pytest.raises(InvalidInput) as refused:
        await authoring.publish(db, COACH, ADMINS, empty.id, i18n=I18N, zone=ZONE, now=NOW)
    assert refused.value.key == "events.incomplete"
    made = await draft(db)
    with pytest.raises(InvalidInput) as refused:
        await authoring.publish(db, COACH, ADMINS, made.id, i18n=I18N, zone=ZONE, now=START)
    assert refused.value.key == "events.past_time"
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0


async def test_only_the_owner_an_organizer_or_an_admin_manages_an_event(db):
    """Tried: another coach edits, publishes, opens check-in, lists registrants: each refused
    (events.not_yours); an admin and a consortium-wide organizer may; manageable lists the
    coach's own events only."""
    await coach(db)
    await coach(db, OTHER_COACH)
    await factories.organizer(db, 7_100_000_003, ADMINS)
    await factories.admin(db, ADMIN_ID, ADMINS)
    made = await draft(db)
    for call in (
        authoring.update_draft(db, OTHER_COACH, ADMINS, made.id, now=NOW, capacity=3),
        authoring.publish(db, OTHER_COACH, ADMINS, made.id, i18n=I18N, zone=ZONE, now=NOW),
        registrations.registrants(db, OTHER_COACH, ADMINS, made.id),
    ):
        with pytest.raises(PermissionDenied) as refused:
            await call
        assert refused.value.key == "events.not_yours"
    assert [e.id for e in await ev.manageable(db, COACH, ADMINS)] == [made.id]
    assert await ev.manageable(db, OTHER_COACH, ADMINS) == []
    assert [e.id for e in await ev.manageable(db, 7_100_000_003, ADMINS)] == [made.id]
    assert [e.id for e in await ev.manageable(db, ADMIN_ID, ADMINS)] == [made.id]
    await authoring.update_draft(db, ADMIN_ID, ADMINS, made.id, now=NOW, capacity=3)
    with pytest.raises(PermissionDenied):
        await ev.manageable(db, STUDENT, ADMINS)


async def test_a_scoped_coach_hosts_at_and_addresses_only_their_university(db):
    """Tried: a coach of the first university drafts: hosted there, for its people; choosing
    another university as host or audience, or everyone, is refused
    (events.own_university_only); a scoped organizer of another university does not see it."""
    universities = await list_universities(db)
    home, other = universities[0], universities[1]
    await coach(db, university=home)
    await factories.organizer(db, 7_100_000_004, ADMINS, university=other)
    made = await authoring.create_draft(db, COACH, ADMINS, Kind.COACHING)
    assert made.university_id == home.id
    assert (made.audience_kind, made.audience_ref) == ("university", str(home.id))
    assert made.university_name is not None and made.university_name["en"] == home.names["en"]
    for fields in (
        {"university_id": other.id},
        {"audience_kind": "university", "audience_ref": str(other.id)},
        {"audience_kind": "all"},
    ):
        with pytest.raises(PermissionDenied) as refused:
            await authoring.update_draft(db, COACH, ADMINS, made.id, now=NOW, **fields)
        assert refused.value.key == "events.own_university_only"
    assert await ev.manageable(db, 7_100_000_004, ADMINS) == []


# --- registration, places and the waiting list -------------------------------------------------


async def test_places_fill_then_the_waiting_list_moves_up_and_the_first_is_told(db):
    """Tried: a coaching session with 2 places and four students: two get places, two wait
    (places 1 and 2); the first gives the place back: the first waiting moves up and is told
    (a delivery with its own text and a calendar button in the outbox), the second is now 1st."""
    await coach(db)
    await students(db, 4, language="ru")
    event = await scheduled(db, capacity=2)
    mine = [await registrations.register(db, STUDENT + n, event.id, now=NOW) for n in range(4)]
    assert [m.state for m in mine] == [
        RegState.REGISTERED,
        RegState.REGISTERED,
        RegState.WAITING,
        RegState.WAITING,
    ]
    assert [m.position for m in mine] == [None, None, 1, 2]
    assert mine[3].event.registered == 2 and mine[3].event.waiting == 2
    assert mine[3].event.places_left == 0
    left, broadcast_id = await registrations.unregister(
        db, STUDENT, event.id, i18n=I18N, zone=ZONE, now=NOW + timedelta(minutes=5)
    )
    assert left.state is None
    assert broadcast_id is not None
    told = await deliveries(db, broadcast_id)
    assert [chat for chat, _, _ in told] == [STUDENT + 2]
    _, text, buttons = told[0]
    assert "Освободилось место" in text and "Цифровые платформы" in text
    assert "3 декабря 2026, 15:00 (Asia/Almaty)" in text
    assert buttons[0]["data"] == EventCalendar(event.id).pack()
    assert buttons[-1] == {"label": "🔗 Подключиться", "url": "https://zoom.us/j/123"}
    assert (await ev.my_event(db, STUDENT + 2, event.id, now=NOW)).state is RegState.REGISTERED
    last = await ev.my_event(db, STUDENT + 3, event.id, now=NOW)
    assert (last.state, last.position) == (RegState.WAITING, 1)


async def test_leaving_the_waiting_list_moves_nobody(db):
    """Tried: one place, two students; the waiting one leaves: nobody is told (no broadcast),
    the one with the place keeps it."""
    await coach(db)
    await students(db, 2)
    event = await scheduled(db, capacity=1)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    await registrations.register(db, STUDENT + 1, event.id, now=NOW)
    left, broadcast_id = await registrations.unregister(
        db, STUDENT + 1, event.id, i18n=I18N, zone=ZONE, now=NOW
    )
    assert (left.state, broadcast_id) == (None, None)
    assert (await ev.my_event(db, STUDENT, event.id, now=NOW)).state is RegState.REGISTERED


async def test_registering_twice_gives_the_same_state_and_no_second_row(db):
    """Tried: register twice (with a place) and twice on the waiting list: the same state and
    position back, one row each; cancel then register again takes a new place at the end."""
    await coach(db)
    await students(db, 3)
    event = await scheduled(db, capacity=1)
    first = await registrations.register(db, STUDENT, event.id, now=NOW)
    assert (await registrations.register(db, STUDENT, event.id, now=NOW)).state is first.state
    waiting = await registrations.register(db, STUDENT + 1, event.id, now=NOW)
    again = await registrations.register(db, STUDENT + 1, event.id, now=NOW)
    assert (
        (again.state, again.position) == (RegState.WAITING, 1) == (waiting.state, waiting.position)
    )
    assert await registration_rows(db) == 2
    await registrations.register(db, STUDENT + 2, event.id, now=NOW)
    await registrations.unregister(db, STUDENT + 1, event.id, i18n=I18N, zone=ZONE, now=NOW)
    back = await registrations.register(db, STUDENT + 1, event.id, now=NOW + timedelta(minutes=1))
    assert (back.state, back.position) == (RegState.WAITING, 2)
    assert await registration_rows(db) == 3


async def test_a_cancelled_or_ended_event_is_closed(db):
    """Tried: register after the end and after a cancellation (a stale button):
    events.closed; an unknown event id: events.not_found."""
    await coach(db)
    await students(db, 1)
    event = await scheduled(db)
    with pytest.raises(InvalidInput) as refused:
        await registrations.register(db, STUDENT, event.id, now=END)
    assert refused.value.key == "events.closed"
    await authoring.cancel(db, COACH, ADMINS, event.id, i18n=I18N, zone=ZONE, now=NOW)
    with pytest.raises(InvalidInput) as refused:
        await registrations.register(db, STUDENT, event.id, now=NOW)
    assert refused.value.key == "events.closed"
    with pytest.raises(NotFound) as missing:
        await registrations.register(db, STUDENT, 999_999, now=NOW)
    assert missing.value.key == "events.not_found"


async def test_someone_outside_the_audience_is_refused(db):
    """Tried: an event for the first university's people; a student of the second registers:
    events.not_for_you, nothing saved; it is not in their upcoming list, it is in the other's."""
    universities = await list_universities(db)
    await coach(db)
    await factories.student(db, STUDENT, university=universities[0])
    await factories.student(db, STUDENT + 1, university=universities[1])
    event = await scheduled(db, audience_kind="university", audience_ref=str(universities[0].id))
    with pytest.raises(PermissionDenied) as refused:
        await registrations.register(db, STUDENT + 1, event.id, now=NOW)
    assert refused.value.key == "events.not_for_you"
    assert await registration_rows(db) == 0
    assert await ev.upcoming(db, STUDENT + 1, now=NOW) == []
    mine = await ev.upcoming(db, STUDENT, now=NOW)
    assert [(m.event.id, m.state) for m in mine] == [(event.id, None)]
    await registrations.register(db, STUDENT, event.id, now=NOW)
    assert (await ev.upcoming(db, STUDENT, now=NOW))[0].state is RegState.REGISTERED
    assert await ev.upcoming(db, STUDENT, now=END) == []


async def test_a_deep_link_finds_a_published_event_not_a_draft(db):
    """Tried: get_by_code for a draft (not found), then once published (found, any case)."""
    await coach(db)
    made = await draft(db)
    with pytest.raises(NotFound):
        await ev.get_by_code(db, made.code)
    await authoring.publish(db, COACH, ADMINS, made.id, i18n=I18N, zone=ZONE, now=NOW)
    assert (await ev.get_by_code(db, made.code.upper())).id == made.id
    with pytest.raises(NotFound):
        await ev.get_by_code(db, "nosuch")


# --- changes and cancellation ------------------------------------------------------------------


async def test_a_new_time_raises_the_sequence_and_tells_registered_and_waiting(db):
    """Tried: one place, two students (one waiting); the time moves an hour later: SEQUENCE
    1, both told the new time in their language with the calendar and Join buttons; a new link
    only: SEQUENCE 2, both told the link changed; a new title alone tells nobody."""
    await coach(db)
    await factories.student(db, STUDENT, language="en")
    await factories.student(db, STUDENT + 1, language="kk")
    event = await scheduled(db, capacity=1)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    await registrations.register(db, STUDENT + 1, event.id, now=NOW)
    moved, broadcast_id = await authoring.edit(
        db,
        COACH,
        ADMINS,
        event.id,
        i18n=I18N,
        zone=ZONE,
        now=NOW,
        starts_at=START + timedelta(hours=1),
    )
    assert moved.sequence == 1
    assert moved.ends_at == END + timedelta(hours=1)
    assert broadcast_id is not None
    told = await deliveries(db, broadcast_id)
    assert [chat for chat, _, _ in told] == [STUDENT, STUDENT + 1]
    assert "New time: 3 December 2026, 16:00 (Asia/Almaty)" in told[0][1]
    assert "2026 жылғы 3 желтоқсан, 16:00" in told[1][1]
    assert told[0][2][0]["data"] == EventCalendar(event.id).pack()
    relinked, broadcast_id = await authoring.edit(
        db,
        COACH,
        ADMINS,
        event.id,
        i18n=I18N,
        zone=ZONE,
        now=NOW,
        join_url="https://meet.example.kz/new",
    )
    assert relinked.sequence == 2
    told = await deliveries(db, broadcast_id)
    assert "link to join" in told[0][1]
    assert told[0][2][-1]["url"] == "https://meet.example.kz/new"
    retitled, nobody = await authoring.edit(
        db, COACH, ADMINS, event.id, i18n=I18N, zone=ZONE, now=NOW, title="New title"
    )
    assert (retitled.title, nobody) == ({"*": "New title"}, None)
    assert retitled.sequence == 3


async def test_more_places_move_the_waiting_list_up(db):
    """Tried: one place, three students; capacity raised to 2: the first waiting moves up and
    is told; removing the limit moves the last one up too."""
    await coach(db)
    await students(db, 3)
    event = await scheduled(db, capacity=1)
    for n in range(3):
        await registrations.register(db, STUDENT + n, event.id, now=NOW)
    _, broadcast_id = await authoring.edit(
        db, COACH, ADMINS, event.id, i18n=I18N, zone=ZONE, now=NOW, capacity=2
    )
    assert [chat for chat, _, _ in await deliveries(db, broadcast_id)] == [STUDENT + 1]
    view, broadcast_id = await authoring.edit(
        db, COACH, ADMINS, event.id, i18n=I18N, zone=ZONE, now=NOW, capacity=None
    )
    assert [chat for chat, _, _ in await deliveries(db, broadcast_id)] == [STUDENT + 2]
    assert (view.registered, view.waiting) == (3, 0)


async def test_cancel_tells_everyone_once_and_refuses_a_second_time(db):
    """Tried: cancel with one registered and one waiting: both told (with the calendar button),
    state cancelled, SEQUENCE 1; cancel again and edit after: events.cancelled; a student
    cancelling: refused."""
    await coach(db)
    await students(db, 3)
    event = await scheduled(db, capacity=1)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    await registrations.register(db, STUDENT + 1, event.id, now=NOW)
    with pytest.raises(PermissionDenied):
        await authoring.cancel(db, STUDENT, ADMINS, event.id, i18n=I18N, zone=ZONE, now=NOW)
    view, broadcast_id = await authoring.cancel(
        db, COACH, ADMINS, event.id, i18n=I18N, zone=ZONE, now=NOW
    )
    assert (view.state, view.sequence) == (EventState.CANCELLED, 1)
    told = await deliveries(db, broadcast_id)
    assert [chat for chat, _, _ in told] == [STUDENT, STUDENT + 1]
    assert "is cancelled" in told[0][1]
    assert told[0][2] == [{"label": "📅 Add to calendar", "data": EventCalendar(event.id).pack()}]
    for call in (
        authoring.cancel(db, COACH, ADMINS, event.id, i18n=I18N, zone=ZONE, now=NOW),
        authoring.edit(db, COACH, ADMINS, event.id, i18n=I18N, zone=ZONE, now=NOW, capacity=5),
    ):
        with pytest.raises(InvalidInput) as refused:
            await call
        assert refused.value.key == "events.cancelled"


# --- check-in ----------------------------------------------------------------------------------


async def test_check_in_opens_only_in_the_session_window(db):
    """Tried: open check-in 16 minutes before the start and at the end: events.checkin_closed;
    15 minutes before: a 6-digit code; opened again: the same code."""
    await coach(db)
    event = await scheduled(db)
    for moment in (START - timedelta(minutes=16), END):
        with pytest.raises(InvalidInput) as refused:
            await attendance.open_checkin(db, COACH, ADMINS, event.id, now=moment)
        assert refused.value.key == "events.checkin_closed"
    code = await attendance.open_checkin(
        db, COACH, ADMINS, event.id, now=START - timedelta(minutes=15)
    )
    assert len(code) == attendance.CODE_DIGITS == 6 and code.isdigit()
    assert await attendance.open_checkin(db, COACH, ADMINS, event.id, now=START) == code
    assert (await ev.get(db, event.id)).checkin_open


async def test_check_in_with_the_code_once_and_refusals(db):
    """Tried: before check-in is opened: closed; a wrong code: events.bad_code; the right code
    (with spaces): checked in; twice: fine, the first time kept; after the end: closed; by code
    alone (no event id): found; a walk-in in the audience: registered and checked in."""
    await coach(db)
    await students(db, 3)
    event = await scheduled(db)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    await registrations.register(db, STUDENT + 1, event.id, now=NOW)
    with pytest.raises(InvalidInput) as refused:
        await attendance.check_in(db, STUDENT, event.id, "123456", now=START)
    assert refused.value.key == "events.checkin_closed"
    code = await attendance.open_checkin(db, COACH, ADMINS, event.id, now=START)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with pytest.raises(InvalidInput) as refused:
        await attendance.check_in(db, STUDENT, event.id, wrong, now=START)
    assert refused.value.key == "events.bad_code"
    await attendance.check_in(db, STUDENT, event.id, f" {code[:3]} {code[3:]} ", now=START)
    await attendance.check_in(db, STUDENT, event.id, code, now=START + timedelta(minutes=5))
    assert (await attendance.check_in(db, STUDENT + 1, None, code, now=START)).id == event.id
    with pytest.raises(InvalidInput) as refused:
        await attendance.check_in(db, STUDENT + 1, None, wrong, now=START)
    assert refused.value.key == "events.bad_code"
    walked_in = await attendance.check_in(db, STUDENT + 2, event.id, code, now=START)
    assert walked_in.registered == 3
    with pytest.raises(InvalidInput) as refused:
        await attendance.check_in(db, STUDENT, event.id, code, now=END)
    assert refused.value.key == "events.checkin_closed"
    listed = {
        r.telegram_id: r for r in await registrations.registrants(db, COACH, ADMINS, event.id)
    }
    assert listed[STUDENT].checked_in_at == START  # the first check-in is kept
    assert all(r.state is RegState.REGISTERED for r in listed.values())
    mine = await ev.my_event(db, STUDENT + 2, event.id, now=START)
    assert mine.checked_in


async def attempt_rows(db):
    """(event id, user's telegram id, failures) of every wrong-code count, in order."""
    async with db() as session:
        rows = await session.execute(
            select(EventCheckinAttempt.event_id, User.telegram_id, EventCheckinAttempt.failures)
            .join(User, User.id == EventCheckinAttempt.user_id)
            .order_by(EventCheckinAttempt.id)
        )
        return [tuple(row) for row in rows.all()]


async def test_wrong_codes_are_limited_per_person_and_event_until_the_coach_allows(db):
    """Tried: a registered student types 4 wrong codes (events.bad_code each), the 5th gives
    events.checkin_locked, and then the right code is refused too (the count is a row in the
    database, so a restart keeps it); another student still checks in; by code alone a walk-in
    in the audience is locked after 5 wrong codes as well; the coach sees both names, lets them
    try again, and both check in with the right code; someone else's coach may not."""
    await coach(db)
    await coach(db, OTHER_COACH)
    await students(db, 3)
    event = await scheduled(db)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    code = await attendance.open_checkin(db, COACH, ADMINS, event.id, now=START)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for attempt in range(1, attendance.CHECKIN_TRIES + 1):
        with pytest.raises(InvalidInput) as refused:
            await attendance.check_in(db, STUDENT, event.id, wrong, now=START)
        expected = (
            "events.bad_code" if attempt < attendance.CHECKIN_TRIES else "events.checkin_locked"
        )
        assert refused.value.key == expected, attempt
    assert await attempt_rows(db) == [(event.id, STUDENT, attendance.CHECKIN_TRIES)]
    for typed in (code, wrong):
        with pytest.raises(InvalidInput) as refused:
            await attendance.check_in(db, STUDENT, None, typed, now=START)
        assert refused.value.key == "events.checkin_locked"
    assert await attempt_rows(db) == [
        (event.id, STUDENT, attendance.CHECKIN_TRIES)
    ]  # not counted on
    await attendance.check_in(db, STUDENT + 1, None, code, now=START)  # another person: unaffected
    for _ in range(attendance.CHECKIN_TRIES):
        with pytest.raises(InvalidInput) as refused:
            await attendance.check_in(db, STUDENT + 2, None, wrong, now=START)
    assert refused.value.key == "events.checkin_locked"
    assert not (await ev.my_event(db, STUDENT, event.id, now=START)).checked_in
    assert await attendance.locked_out(db, COACH, ADMINS, event.id) == [
        f"U{STUDENT}",
        f"U{STUDENT + 2}",
    ]
    with pytest.raises(PermissionDenied):
        await attendance.allow_checkin_retry(db, OTHER_COACH, ADMINS, event.id)
    assert await attendance.allow_checkin_retry(db, COACH, ADMINS, event.id) == 2
    assert await attendance.locked_out(db, COACH, ADMINS, event.id) == []
    await attendance.check_in(db, STUDENT, None, code, now=START + timedelta(minutes=1))
    await attendance.check_in(db, STUDENT + 2, None, code, now=START + timedelta(minutes=1))
    checked = {r.telegram_id for r in await registrations.registrants(db, COACH, ADMINS, event.id)}
    assert checked == {STUDENT, STUDENT + 1, STUDENT + 2}


async def test_the_right_code_after_the_session_says_check_in_is_closed(db):
    """Tried: after the end, by code alone, a registrant types the session's right code:
    events.checkin_closed (it used to say events.bad_code), not counted as a wrong code;
    someone who never registered types it: events.bad_code; while another session's check-in
    is open, the old code is still answered "closed" and not counted against the open one."""
    await coach(db)
    await students(db, 2)
    event = await scheduled(db)
    await registrations.register(db, STUDENT, event.id, now=NOW)
    code = await attendance.open_checkin(db, COACH, ADMINS, event.id, now=START)
    for moment in (END, END + timedelta(days=1)):
        with pytest.raises(InvalidInput) as refused:
            await attendance.check_in(db, STUDENT, None, code, now=moment)
        assert refused.value.key == "events.checkin_closed"
    with pytest.raises(InvalidInput) as refused:
        await attendance.check_in(db, STUDENT + 1, None, code, now=END)
    assert refused.value.key == "events.bad_code"
    later = await scheduled(db, starts_at=START + timedelta(days=1))
    later_code = await attendance.open_checkin(
        db, COACH, ADMINS, later.id, now=START + timedelta(days=1)
    )
    if later_code != code:
        with pytest.raises(InvalidInput) as refused:
            await attendance.check_in(db, STUDENT, None, code, now=START + timedelta(days=1))
        assert refused.value.key == "events.checkin_closed"
    assert await attempt_rows(db) == []


# --- feedback and the recording ----------------------------------------------------------------


async def test_feedback_only_from_attendees_first_rating_kept_one_comment(db):
    """Tried: a registered absentee rates: events.feedback_attendees_only; a rating of 6:
    events.bad_rating; an attendee rates 4, then 2 (4 kept), sends a blank comment alone
    (events.empty_text), adds a comment alone, then another comment: events.feedback_done."""
    await coach(db)
    await students(db, 2)
    event = await scheduled(db)
    for n in range(2):
        await registrations.register(db, STUDENT + n, event.id, now=NOW)
    code = await attendance.open_checkin(db, COACH, ADMINS, event.id, now=START)
    await attendance.check_in(db, STUDENT, event.id, code, now=START)
    with pytest.raises(PermissionDenied) as refused:
        await attendance.submit_feedback(db, STUDENT + 1, event.id, 5, now=END)
    assert refused.value.key == "events.feedback_attendees_only"
    with pytest.raises(InvalidInput) as refused:
        await attendance.submit_feedback(db, STUDENT, event.id, 6, now=END)
    assert refused.value.key == "events.bad_rating"
    with pytest.raises(InvalidInput) as refused:  # a comment before any rating
        await attendance.submit_feedback(db, STUDENT, event.id, None, "Hello", now=END)
    assert refused.value.key == "events.bad_rating"
    first = await attendance.submit_feedback(db, STUDENT, event.id, 4, now=END)
    assert (first.rating, first.first) == (4, True)
    second = await attendance.submit_feedback(db, STUDENT, event.id, 2, now=END)
    assert (second.rating, second.first) == (4, False)
    with pytest.raises(InvalidInput) as refused:
        await attendance.submit_feedback(db, STUDENT, event.id, None, "   ", now=END)
    assert refused.value.key == "events.empty_text"
    commented = await attendance.submit_feedback(
        db, STUDENT, event.id, None, "  Useful!  ", now=END
    )
    assert (commented.rating, commented.comment, commented.first) == (4, "Useful!", False)
    with pytest.raises(InvalidInput) as refused:
        await attendance.submit_feedback(db, STUDENT, event.id, 4, "Again", now=END)
    assert refused.value.key == "events.feedback_done"
    listed = {
        r.telegram_id: r for r in await registrations.registrants(db, COACH, ADMINS, event.id)
    }
    assert (listed[STUDENT].feedback_rating, listed[STUDENT].feedback_comment) == (4, "Useful!")


async def test_the_recording_goes_to_absentees_once(db):
    """Tried: three registered (one attends), one waiting; the recording before the end:
    events.not_ended; after: the two absentees with a place get it (a Watch link button), not
    the attendee nor the waiting one; posted again: nobody new."""
    await coach(db)
    await students(db, 4)
    event = await scheduled(db, capacity=3)
    for n in range(4):
        await registrations.register(db, STUDENT + n, event.id, now=NOW)
    code = await attendance.open_checkin(db, COACH, ADMINS, event.id, now=START)
    await attendance.check_in(db, STUDENT, event.id, code, now=START)
    with pytest.raises(InvalidInput) as refused:
        await attendance.post_recording(
            db,
            COACH,
            ADMINS,
            event.id,
            "https://video.example.kz/1",
            i18n=I18N,
            zone=ZONE,
            now=START,
        )
    assert refused.value.key == "events.not_ended"
    with pytest.raises(InvalidInput) as refused:
        await attendance.post_recording(
            db, COACH, ADMINS, event.id, "not a link", i18n=I18N, zone=ZONE, now=END
        )
    assert refused.value.key == "events.bad_link"
    view, broadcast_id = await attendance.post_recording(
        db, COACH, ADMINS, event.id, "https://video.example.kz/1", i18n=I18N, zone=ZONE, now=END
    )
    assert view.recording_url == "https://video.example.kz/1"
    told = await deliveries(db, broadcast_id)
    assert [chat for chat, _, _ in told] == [STUDENT + 1, STUDENT + 2]
    assert told[0][2] == [{"label": "▶️ Watch the recording", "url": "https://video.example.kz/1"}]
    _, again = await attendance.post_recording(
        db, COACH, ADMINS, event.id, "https://video.example.kz/2", i18n=I18N, zone=ZONE, now=END
    )
    assert again is None


# --- the audience of an event's registrants ----------------------------------------------------


async def test_the_event_audience_is_its_registrants_and_waiting_list(db):
    """Tried: the `event` audience of an event with one registered, one waiting and one who
    cancelled has the first two; a reference to no event, or naming another university than the
    host (forged), is refused; a sender scoped to the host may address it, another may not."""
    universities = await list_universities(db)
    await coach(db, university=universities[0])
    await students(db, 3)
    event = await scheduled(
        db, capacity=1, audience_kind="university", audience_ref=str(universities[0].id)
    )
    for n in range(3):
        await registrations.register(db, STUDENT + n, event.id, now=NOW)
    await registrations.unregister(db, STUDENT + 2, event.id, i18n=I18N, zone=ZONE, now=NOW)
    ref = audiences.event_ref(event.id, event.university_id)
    assert ref == f"{event.id}.{universities[0].id}"
    async with db() as session:
        await audiences.check_audience(session, "event", ref)
        assert await audiences.count(session, "event", ref) == 2
        for forged in ("999999", f"{event.id}.{universities[1].id}", "x", f"{event.id}.x"):
            with pytest.raises(InvalidInput):
                await audiences.check_audience(session, "event", forged)
    assert audiences.within_scope(universities[0].id, "event", ref)
    assert not audiences.within_scope(universities[1].id, "event", ref)
    assert not audiences.within_scope(universities[0].id, "event", str(event.id))
    assert audiences.within_scope(None, "event", str(event.id))


async def test_a_broadcast_to_the_registrants_of_an_event_the_sender_manages(db):
    """Tried: the events a sender may write the registrants of (audience_events): a coach's own
    published event with registrants; a broadcast addressed to them counts the registered and
    the waiting, not the one who left; another consortium-wide coach (who does not manage it)
    is not offered it and a forged reference is refused (events.not_yours), an organizer of
    another university is refused by the university rule, the host's organizer may; the
    events' own audience cannot be forged to another's registrants either."""
    universities = await list_universities(db)
    await coach(db)
    await coach(db, OTHER_COACH)
    await factories.organizer(db, 7_100_000_004, ADMINS, university=universities[1])
    await factories.organizer(db, 7_100_000_005, ADMINS, university=universities[0])
    await students(db, 3)
    event = await scheduled(db, capacity=1, university_id=universities[0].id)
    assert await ev.audience_events(db, COACH, ADMINS) == []  # nobody registered yet
    for n in range(3):
        await registrations.register(db, STUDENT + n, event.id, now=NOW)
    await registrations.unregister(db, STUDENT + 2, event.id, i18n=I18N, zone=ZONE, now=NOW)
    assert [v.id for v in await ev.audience_events(db, COACH, ADMINS)] == [event.id]
    assert await ev.audience_events(db, OTHER_COACH, ADMINS) == []
    ref = audiences.event_ref(event.id, event.university_id)
    mine = await broadcast_service.create_draft(db, COACH, ADMINS)
    assert await broadcast_service.set_audience(db, COACH, ADMINS, mine, "event", ref) == 2
    refusals = [
        (OTHER_COACH, ref, "events.not_yours"),
        (OTHER_COACH, str(event.id), "events.not_yours"),
        (7_100_000_004, ref, "broadcasts.own_university_only"),
    ]
    for sender, forged, key in refusals:
        theirs = await broadcast_service.create_draft(db, sender, ADMINS)
        with pytest.raises(PermissionDenied) as refused:
            await broadcast_service.set_audience(db, sender, ADMINS, theirs, "event", forged)
        assert refused.value.key == key, sender
    host = await broadcast_service.create_draft(db, 7_100_000_005, ADMINS)
    assert await broadcast_service.set_audience(db, 7_100_000_005, ADMINS, host, "event", ref) == 2
    assert [v.id for v in await ev.audience_events(db, 7_100_000_005, ADMINS)] == [event.id]
    other = await draft(db, actor=OTHER_COACH)
    with pytest.raises(PermissionDenied) as refused:
        await authoring.update_draft(
            db, OTHER_COACH, ADMINS, other.id, now=NOW, audience_kind="event", audience_ref=ref
        )
    assert refused.value.key == "events.not_yours"
