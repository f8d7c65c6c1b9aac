"""Broadcast service: drafting rules, the outbox protocol, cancel and recovery, on a real DB."""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType

import pytest
from sqlalchemy import select

from bot.services import InvalidInput, NotFound, PermissionDenied, audiences, users
from bot.services import broadcasts as svc
from bot.services.broadcast_content import build_content, parse_buttons
from bot.services.broadcasts import DeliveryState, State
from bot.services.roles import Role, ensure_role
from bot.services.universities import list_universities
from models import Delivery, User, utcnow
from tests import factories

ADMIN = 1
ADMINS = frozenset({ADMIN})


async def _student(db, telegram_id, university_index=0, language="ru"):
    await factories.student(
        db,
        telegram_id,
        ADMINS,
        university=university_index,
        language=language,
        group="G-1",
        first_name=f"s{telegram_id}",
    )


async def _draft(db, actor=ADMIN, kind="all", ref=None, text="Hello"):
    broadcast_id = await svc.create_draft(db, actor, ADMINS)
    count = await svc.set_audience(db, actor, ADMINS, broadcast_id, kind, ref)
    await svc.set_content(db, actor, ADMINS, broadcast_id, build_content("text", text, None, None))
    return broadcast_id, count


@pytest.fixture
async def world(db):
    await users.seen(
        db, ADMIN, first_name="Admin", username=None, telegram_language=None, admin_ids=ADMINS
    )
    for i in range(6):
        await _student(db, 100 + i, university_index=i % 6)
    return db


async def test_audiences_count_onboarded_people(world):
    db = world
    unis = await list_universities(db)
    broadcast_id = await svc.create_draft(db, ADMIN, ADMINS)
    assert await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "all", None) == 6
    assert await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "country", "KZ") == 4
    assert (
        await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "university", str(unis[5].id)) == 1
    )
    with pytest.raises(InvalidInput, match="unknown_audience"):
        await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "galaxy", None)
    with pytest.raises(InvalidInput, match="unknown_audience"):
        await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "country", "FR")
    # An unfinished registration is nobody's audience yet.
    await users.seen(
        db, 999, first_name="new", username=None, telegram_language=None, admin_ids=ADMINS
    )
    assert await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "all", None) == 6


async def test_a_feature_adds_an_audience_kind_every_sender_can_address(world, monkeypatch):
    """The registry of audiences: a new kind is resolved and checked by what registered it."""
    db = world
    monkeypatch.setattr(audiences, "_KINDS", dict(audiences._KINDS))
    monkeypatch.setattr(audiences, "_RESOLVERS", dict(audiences._RESOLVERS))
    monkeypatch.setattr(audiences, "RESOLVERS", MappingProxyType(audiences._RESOLVERS))

    def first_three(stmt, ref):
        return stmt.where(User.telegram_id.in_([100, 101, 102]))

    async def known(session, ref):
        if ref != "c1":
            raise InvalidInput("broadcasts.unknown_audience")

    audiences.register("learners", first_three, known)
    assert "learners" in audiences.RESOLVERS and "learners" in audiences.kinds()
    broadcast_id = await svc.create_draft(db, ADMIN, ADMINS)
    assert await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "learners", "c1") == 3
    with pytest.raises(InvalidInput, match="unknown_audience"):
        await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "learners", "c2")
    with pytest.raises(ValueError, match="twice"):
        audiences.register("learners", first_three, known)
    with pytest.raises(ValueError, match="bad audience kind"):
        audiences.register("Bad Kind", first_three, known)


async def test_an_empty_audience_is_refused(world):
    db = world
    unis = await list_universities(db)
    added = await users.seen(
        db, 2, first_name="x", username=None, telegram_language=None, admin_ids=ADMINS
    )
    assert added
    from bot.services.universities import add_university

    empty = await add_university(db, ADMIN, ADMINS, "UZ | Empty University")
    broadcast_id = await svc.create_draft(db, ADMIN, ADMINS)
    with pytest.raises(InvalidInput, match="nobody"):
        await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "university", str(empty.id))
    assert unis


async def test_students_and_jurors_cannot_broadcast_and_scoped_coaches_stay_home(world):
    db = world
    for role in (None, Role.JUROR):
        await users.seen(
            db, 50, first_name="x", username=None, telegram_language=None, admin_ids=ADMINS
        )
        if role:
            await ensure_role(db, 50, role)
        with pytest.raises(PermissionDenied):
            await svc.create_draft(db, 50, ADMINS)
    unis = await list_universities(db)
    from bot.services import invites

    invite = await invites.create_invite(db, ADMIN, ADMINS, Role.COACH, unis[0].id, 1)
    await users.seen(
        db, 60, first_name="coach", username=None, telegram_language=None, admin_ids=ADMINS
    )
    await invites.redeem(db, 60, invite.payload)
    broadcast_id = await svc.create_draft(db, 60, ADMINS)
    with pytest.raises(PermissionDenied, match="own_university_only"):
        await svc.set_audience(db, 60, ADMINS, broadcast_id, "all", None)
    assert await svc.set_audience(db, 60, ADMINS, broadcast_id, "university", str(unis[0].id)) == 1
    # Someone else's draft is invisible.
    with pytest.raises(NotFound):
        await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "all", None)


def test_content_rules():
    assert build_content("text", "Hi <b>all</b>", None, None).texts == {"*": "Hi <b>all</b>"}
    multi = build_content("text", "[kk]\nСәлем\n[ru]\nПривет\n[en] Hello", None, None)
    assert multi.texts == {"kk": "Сәлем", "ru": "Привет", "en": "Hello"}
    assert multi.text_for("ru", "kk") == "Привет"
    only_ru = build_content("text", "[ru] Привет", None, None)
    assert only_ru.text_for("en", "kk") == "Привет"  # falls back to what exists
    with pytest.raises(InvalidInput, match="empty"):
        build_content("text", "   ", None, None)
    with pytest.raises(InvalidInput, match="text_too_long") as exc:
        build_content("text", "x" * 4097, None, None)
    assert exc.value.values["length"] == 4097
    # Tags do not count towards the limit, as in Telegram.
    build_content("text", "<b>" + "x" * 4096 + "</b>", None, None)
    with pytest.raises(InvalidInput, match="caption_too_long"):
        build_content("photo", "y" * 1025, "file-id", None)
    with pytest.raises(InvalidInput, match="unsupported"):
        build_content("sticker", None, "file-id", None)
    with pytest.raises(InvalidInput, match="unmarked_text"):
        build_content("text", "lead\n[ru] Привет", None, None)
    photo = build_content("photo", None, "file-id", None)
    assert photo.texts == {} and photo.text_for("kk", "kk") == ""


def test_button_rules():
    buttons = parse_buttons("Course | https://example.kz/course\n\nForm | https://f.kz/x")
    assert [b.label for b in buttons] == ["Course", "Form"]
    for bad, key in [
        ("no separator", "button_format"),
        ("X | ftp://a.b", "button_url"),
        ("x" * 65 + " | https://a.kz", "button_label_long"),
        ("\n".join(f"b{i} | https://a.kz" for i in range(7)), "too_many_buttons"),
    ]:
        with pytest.raises(InvalidInput, match=key):
            parse_buttons(bad)


async def test_confirm_snapshots_recipients_once_and_skips_the_unreachable(world):
    db = world
    await users.mark_unreachable(db, 101)
    broadcast_id, count = await _draft(db)
    view = await svc.confirm(db, ADMIN, ADMINS, broadcast_id, default_language="kk")
    assert view.state is State.SENDING and view.total == count == 6
    assert view.counts == {"pending": 5, "skipped": 1}
    with pytest.raises(InvalidInput, match="already_confirmed"):
        await svc.confirm(db, ADMIN, ADMINS, broadcast_id, default_language="kk")
    async with db() as session:
        languages = set((await session.scalars(select(Delivery.language))).all())
    assert languages == {"ru"}


async def test_outbox_claim_record_finish(world):
    db = world
    broadcast_id, _ = await _draft(db)
    await svc.confirm(db, ADMIN, ADMINS, broadcast_id, default_language="kk")
    seen_chats = []
    while (task := await svc.claim_next(db, broadcast_id)) is not None:
        seen_chats.append(task.chat_id)
        state = DeliveryState.SENT if task.chat_id != 102 else DeliveryState.SKIPPED
        await svc.record(
            db, task.delivery_id, state, message_id=7, unreachable=state is DeliveryState.SKIPPED
        )
    assert sorted(seen_chats) == [100, 101, 102, 103, 104, 105]
    done = await svc.finish_if_done(db, broadcast_id)
    assert done is not None and done.state is State.DONE
    assert done.counts == {"sent": 5, "skipped": 1}
    assert (await users.get_profile(db, 102, ADMINS)).reachable is False
    failures = await svc.failures(db, ADMIN, ADMINS, broadcast_id)
    assert [(f.telegram_id, f.state) for f in failures] == [(102, "skipped")]


async def test_recovery_marks_interrupted_sends_uncertain_and_resumes(world):
    db = world
    broadcast_id, _ = await _draft(db)
    await svc.confirm(db, ADMIN, ADMINS, broadcast_id, default_language="kk")
    first = await svc.claim_next(db, broadcast_id)
    await svc.record(db, first.delivery_id, DeliveryState.SENT, message_id=1)
    await svc.claim_next(db, broadcast_id)  # claimed, then the process dies
    sending, scheduled = await svc.recover(db)
    assert sending == [broadcast_id] and scheduled == []
    view = await svc.get(db, broadcast_id)
    assert view.counts == {"sent": 1, "uncertain": 1, "pending": 4}


async def test_cancel_stops_claims_and_only_the_owner_or_an_admin_may(world):
    db = world
    await ensure_role(db, 70, Role.COACH)
    await _student(db, 70)
    broadcast_id, _ = await _draft(db, actor=70)
    await svc.confirm(db, 70, ADMINS, broadcast_id, default_language="kk")
    await ensure_role(db, 71, Role.ORGANIZER)
    with pytest.raises(PermissionDenied):
        await svc.cancel(db, 71, ADMINS, broadcast_id)  # a forged Cancel button
    view = await svc.cancel(db, ADMIN, ADMINS, broadcast_id)
    assert view.state is State.CANCELLED and view.counts == {"cancelled": 7}
    assert await svc.claim_next(db, broadcast_id) is None
    with pytest.raises(InvalidInput, match="not_running"):
        await svc.cancel(db, 70, ADMINS, broadcast_id)


async def test_scheduling_starts_only_when_due(world):
    db = world
    broadcast_id, _ = await _draft(db)
    with pytest.raises(InvalidInput, match="time_past"):
        await svc.confirm(
            db,
            ADMIN,
            ADMINS,
            broadcast_id,
            default_language="kk",
            scheduled_at=utcnow() - timedelta(minutes=1),
        )
    at = utcnow() + timedelta(hours=2)
    view = await svc.confirm(
        db, ADMIN, ADMINS, broadcast_id, default_language="kk", scheduled_at=at
    )
    assert view.state is State.SCHEDULED and view.counts == {"pending": 6}
    assert await svc.claim_next(db, broadcast_id) is None
    assert await svc.start_due(db) == []
    assert (await svc.recover(db))[1] == [(broadcast_id, at)]
    # Its time comes: the first pass starts it, a second pass (or replica) finds nothing.
    later = at + timedelta(seconds=1)
    assert await svc.start_due(db, now=later) == [broadcast_id]
    assert await svc.start_due(db, now=later) == []
    view = await svc.get(db, broadcast_id)
    assert view.state is State.SENDING and view.started_at == later
    assert await svc.claim_next(db, broadcast_id) is not None


async def test_a_cancelled_scheduled_broadcast_never_falls_due(world):
    db = world
    broadcast_id, _ = await _draft(db)
    at = utcnow() + timedelta(hours=2)
    await svc.confirm(db, ADMIN, ADMINS, broadcast_id, default_language="kk", scheduled_at=at)
    await svc.cancel(db, ADMIN, ADMINS, broadcast_id)
    assert await svc.start_due(db, now=at + timedelta(hours=1)) == []
    assert (await svc.get(db, broadcast_id)).state is State.CANCELLED


async def test_deleting_a_user_removes_their_deliveries(world):
    db = world
    broadcast_id, _ = await _draft(db)
    await svc.confirm(db, ADMIN, ADMINS, broadcast_id, default_language="kk")
    task = await svc.claim_next(db, broadcast_id)
    await users.delete_user(db, task.chat_id)
    await svc.record(db, task.delivery_id, DeliveryState.SENT, message_id=1)  # no crash
    assert (await svc.get(db, broadcast_id)).total == 5


def test_formatting_across_language_sections_is_refused():
    with pytest.raises(InvalidInput, match="formatting_across") as exc:
        build_content("text", "[kk]\n<b>Сәлем\n[ru]\nПри</b>вет", None, None)
    assert exc.value.values == {"section": "[kk] "}


async def test_a_university_organizer_publishes_only_there(world):
    from bot.services import campaigns, invites

    db = world
    unis = await list_universities(db)
    invite = await invites.create_invite(db, ADMIN, ADMINS, Role.ORGANIZER, unis[0].id, 1)
    await users.seen(
        db, 61, first_name="org", username=None, telegram_language=None, admin_ids=ADMINS
    )
    await invites.redeem(db, 61, invite.payload)
    draft = await campaigns.new_draft(db, 61, ADMINS, "swot_collaboration")
    with pytest.raises(PermissionDenied, match="own_university_only"):
        await campaigns.publish(db, 61, ADMINS, draft.id)  # a new draft starts with everyone
    with pytest.raises(PermissionDenied, match="own_university_only"):
        await campaigns.update_draft(db, 61, ADMINS, draft.id, audience=("country", "KZ"))
    await campaigns.update_draft(
        db, 61, ADMINS, draft.id, audience=("university", str(unis[0].id))
    )
    assert (await campaigns.publish(db, 61, ADMINS, draft.id)).audience_ref == str(unis[0].id)


async def test_control_characters_in_broadcasts_are_removed(world):
    """A NUL in a broadcast's text, button label or document name (and a campaign's wave)
    was kept on SQLite and refused by PostgreSQL; zero-width text counted as content."""
    from bot.services import campaigns

    db = world
    content = build_content("document", "[kk] Сәлем\x00\n[ru] При\x1bвет", "file", "a\x00.pdf")
    assert content.texts == {"kk": "Сәлем", "ru": "Привет"} and content.file_name == "a.pdf"
    broadcast_id = await svc.create_draft(db, ADMIN, ADMINS)
    await svc.set_audience(db, ADMIN, ADMINS, broadcast_id, "all", None)
    await svc.set_content(db, ADMIN, ADMINS, broadcast_id, content)
    buttons = parse_buttons("Cour\x00se | https://example.kz/c\x00ourse")
    assert [(b.label, b.url) for b in buttons] == [("Course", "https://example.kz/course")]
    await svc.set_buttons(db, ADMIN, ADMINS, broadcast_id, buttons)
    draft, _ = await svc.get_draft(db, ADMIN, ADMINS, broadcast_id)
    assert draft.content is not None and draft.content.file_name == "a.pdf"
    with pytest.raises(InvalidInput, match="empty"):
        build_content("text", "\u200b\u200c", None, None)
    # An invisible language section is no section, as a whitespace-only one already was.
    only_ru = build_content("text", "[kk] \u2060\n[ru] Привет", None, None)
    assert only_ru.texts == {"ru": "Привет"}
    with pytest.raises(InvalidInput, match="button_format"):
        parse_buttons("\u200b | https://example.kz")
    draft_id = (await campaigns.new_draft(db, ADMIN, ADMINS, "swot_collaboration")).id
    updated = await campaigns.update_draft(db, ADMIN, ADMINS, draft_id, wave="pre\x00-2026")
    assert updated.wave == "pre-2026"
    with pytest.raises(InvalidInput, match="bad_wave"):
        await campaigns.update_draft(db, ADMIN, ADMINS, draft_id, wave="\u200b\ufeff")
