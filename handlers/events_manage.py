"""Managing events in chat: /my_events, the management screen, /recording.

`/my_events` lists the events a coach, organizer or admin may manage (a draft's button takes it
up in the wizard, `handlers.events_wizard`). The management screen (from /my_events, or Manage
under an event in /events) changes the time or the link (`ev_new_time:<id>`, `ev_new_link:<id>`;
registrants are told by the service's notices, started here), cancels (after a confirmation;
registrants told), opens the check-in (the code to say aloud; those locked out after too many
wrong codes are named, with a button letting them try again) and lists the registrants.
`/recording` posts a recording's link to those who registered and did not come
(`ev_recording:<id>`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import keyboards as kb
from bot.awaiting import waiting_for
from bot.callbacks import (
    Button,
    EventCancelAsk,
    EventCancelConfirm,
    EventChange,
    EventCheckin,
    EventCheckinRetry,
    EventField,
    EventManage,
    EventRecording,
    EventRegistrants,
    EventResume,
)
from bot.context import BotContext
from bot.conversation import (
    answered_refusals,
    id_route,
    remove_keyboard,
    set_awaiting,
    stop_waiting,
    typed_text,
)
from bot.features import Features
from bot.replies import fit_lines, reply, require_profile, shorten, toast
from bot.services import InvalidInput
from bot.services import broadcasts as broadcast_service
from bot.services import event_attendance as attendance
from bot.services import event_authoring as authoring
from bot.services import event_registrations as registrations
from bot.services import events as svc
from bot.services.course import pick as pick_text
from bot.services.event_times import example_when, parse_when, show_when
from bot.services.events import SCHEDULERS, EventState, EventView, card, zone_named

NEW_TIME_ROUTE = "ev_new_time"
NEW_LINK_ROUTE = "ev_new_link"
RECORDING_ROUTE = "ev_recording"
ROUTES = (NEW_TIME_ROUTE, NEW_LINK_ROUTE, RECORDING_ROUTE)
# Refusals of typed input that another try cannot mend: the bot stops waiting.
FINAL_REFUSALS = frozenset(
    {"events.not_draft", "events.cancelled", "events.ended", "events.not_ended"}
)
LIST_MAX = 20  # events /my_events and /recording offer as buttons
LABEL_MAX = 60
EXAMPLE_LINK = "https://zoom.us/j/123456789"


def register(features: Features) -> None:
    """Add /my_events, /recording and the management buttons and steps."""
    features.command("my_events", my_events)
    features.command("recording", recording_command)
    features.button(EventManage, answered_refusals(manage_button))
    features.button(EventChange, answered_refusals(ask_change))
    features.button(EventCheckin, answered_refusals(open_checkin))
    features.button(EventCheckinRetry, answered_refusals(allow_retry))
    features.button(EventRegistrants, answered_refusals(show_registrants))
    features.button(EventRecording, answered_refusals(ask_recording))
    features.button(EventCancelAsk, answered_refusals(ask_cancel))
    features.button(EventCancelConfirm, answered_refusals(confirm_cancel))
    features.text(NEW_TIME_ROUTE, id_route(save_new_time, FINAL_REFUSALS))
    features.text(NEW_LINK_ROUTE, id_route(save_new_link, FINAL_REFUSALS))
    features.text(RECORDING_ROUTE, id_route(save_recording, FINAL_REFUSALS))
    features.help("help.events_manage", SCHEDULERS)


def _now() -> datetime:
    return datetime.now(UTC)


# --- /my_events and the management screen -----------------------------------------------------


def _mark(view: EventView, now: datetime) -> str:
    """A sign of the event's state in a list."""
    if view.state is EventState.DRAFT:
        return "✏️"
    if view.state is EventState.CANCELLED:
        return "❌"
    if view.ends_at is not None and view.ends_at <= now:
        return "✔️"
    return "🗓"


def _list_button(
    context: BotContext, view: EventView, now: datetime, kind: Callable[[int], Button]
) -> InlineKeyboardButton:
    """One event as a button: its state, day and time, title."""
    zone = zone_named(view.timezone, context.settings.tz)
    when = view.starts_at.astimezone(zone).strftime("%d.%m %H:%M") if view.starts_at else "—"
    label = f"{_mark(view, now)} {when} · {view.name_in(context.t.language)}"
    return kb.button(shorten(label, LABEL_MAX), kind(view.id).pack())


async def my_events(update: Update, context: BotContext) -> None:
    """List the events this organizer may manage: drafts and upcoming first (/my_events)."""
    profile = require_profile(context)
    t = context.t
    if not svc.can_schedule(profile.roles):
        await reply(update, context, t("events.new_refused"))
        return
    views = await svc.manageable(context.db, profile.telegram_id, context.admin_ids)
    if not views:
        await reply(update, context, t("events.my_events_none"))
        return
    now = _now()

    def order(view: EventView) -> tuple[int, float]:
        ended = view.state is EventState.CANCELLED or (
            view.ends_at is not None and view.ends_at <= now
        )
        moment = view.starts_at.timestamp() if view.starts_at else 0.0
        return (1, -moment) if ended else (0, moment)

    views = sorted(views, key=order)
    buttons = [
        _list_button(
            context, view, now, EventResume if view.state is EventState.DRAFT else EventManage
        )
        for view in views[:LIST_MAX]
    ]
    await reply(update, context, t("events.my_events_title", count=len(views)), kb.rows(buttons))


async def _managed_view(context: BotContext, event_id: int) -> EventView:
    """The event, if this person may manage it (checked before asking them anything)."""
    profile = require_profile(context)
    return await svc.managed(context.db, profile.telegram_id, context.admin_ids, event_id)


async def manage_button(update: Update, context: BotContext, data: EventManage) -> None:
    """Open the management screen of one event (a draft: the button taking it up again)."""
    view = await _managed_view(context, data.event)
    await toast(update, context)
    if view.state is EventState.DRAFT:
        button = _list_button(context, view, _now(), EventResume)
        await reply(update, context, context.t("events.draft_resume"), kb.rows([button]))
        return
    await _show_manage(update, context, view)


async def _show_manage(update: Update, context: BotContext, view: EventView) -> None:
    """The event's card, its figures and what its organizer may do now."""
    t = context.t
    now = _now()
    zone = zone_named(view.timezone, context.settings.tz)
    places = "" if view.capacity is None else t.plain("events.of_places", capacity=view.capacity)
    lines = [
        card(view, t, zone),
        "",
        t(
            "events.manage_figures",
            registered=view.registered,
            places=places,
            waiting=view.waiting,
        ),
    ]
    if view.join_url:
        lines.append(t("events.manage_link", link=view.join_url))
    ended = view.ends_at is not None and view.ends_at <= now
    rows: list[list[InlineKeyboardButton]] = []
    if view.state is EventState.CANCELLED:
        lines.append(t("events.my_cancelled_event"))
    elif not ended:
        if view.checkin_open:
            lines.append(t("events.manage_checkin_open"))
        rows += [
            [
                kb.button(
                    t.plain("events.change_time_button"),
                    EventChange(view.id, EventField.TIME).pack(),
                ),
                kb.button(
                    t.plain("events.change_link_button"),
                    EventChange(view.id, EventField.LINK).pack(),
                ),
            ],
            [kb.button(t.plain("events.checkin_button"), EventCheckin(view.id).pack())],
        ]
    else:
        rows.append(
            [kb.button(t.plain("events.post_recording_button"), EventRecording(view.id).pack())]
        )
    rows.append(
        [kb.button(t.plain("events.registrants_button"), EventRegistrants(view.id).pack())]
    )
    if view.state is EventState.PUBLISHED and not ended:
        rows.append([kb.button(t.plain("events.cancel_button"), EventCancelAsk(view.id).pack())])
    await reply(update, context, "\n".join(lines), InlineKeyboardMarkup(rows))


async def ask_change(update: Update, context: BotContext, data: EventChange) -> None:
    """Ask for the new time or the new join link."""
    t = context.t
    view = await _managed_view(context, data.event)
    if view.state is EventState.CANCELLED:
        raise InvalidInput("events.cancelled")
    await toast(update, context)
    if data.what is EventField.TIME:
        await set_awaiting(context, waiting_for(NEW_TIME_ROUTE, data.event))
        await reply(
            update,
            context,
            t(
                "events.ask_new_time",
                zone=context.settings.timezone,
                example=example_when(context.settings.tz),
            ),
        )
    else:
        await set_awaiting(context, waiting_for(NEW_LINK_ROUTE, data.event))
        await reply(update, context, t("events.ask_new_link", example=EXAMPLE_LINK))


async def _edit(update: Update, context: BotContext, event_id: int, **fields: Any) -> EventView:
    """Change a published event; start the notices to its registrants."""
    profile = require_profile(context)
    view, notices = await authoring.edit(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        event_id,
        i18n=context.i18n,
        zone=context.settings.tz,
        **fields,
    )
    if notices is not None:
        context.broadcaster.start(notices)
    await stop_waiting(context, ROUTES)
    return view


async def save_new_time(update: Update, context: BotContext, event_id: int) -> None:
    """Move the event to the typed time; registrants are told, reminders planned again."""
    starts_at = parse_when(typed_text(update), context.settings.tz, _now())
    view = await _edit(update, context, event_id, starts_at=starts_at)
    t = context.t
    zone = zone_named(view.timezone, context.settings.tz)
    when = show_when(starts_at, zone, t.language)
    told = view.registered + view.waiting
    await reply(update, context, t("events.time_changed", when=when, count=told))


async def save_new_link(update: Update, context: BotContext, event_id: int) -> None:
    """Change the join link; registrants are told."""
    view = await _edit(update, context, event_id, join_url=typed_text(update))
    told = view.registered + view.waiting
    await reply(update, context, context.t("events.link_changed", count=told))


async def open_checkin(update: Update, context: BotContext, data: EventCheckin) -> None:
    """Open the attendance: the code to say aloud (the same one when opened again).

    Those who typed too many wrong codes are named, with a button letting them try again.
    """
    profile = require_profile(context)
    t = context.t
    code = await attendance.open_checkin(
        context.db, profile.telegram_id, context.admin_ids, data.event
    )
    view = await svc.get(context.db, data.event)
    locked = await attendance.locked_out(
        context.db, profile.telegram_id, context.admin_ids, data.event
    )
    await toast(update, context)
    text = t("events.checkin_opened", code=code, title=view.name_in(context.t.language))
    keyboard = None
    if locked:
        text += "\n\n" + t(
            "events.checkin_locked_out",
            count=len(locked),
            tries=attendance.CHECKIN_TRIES,
            names=shorten(", ".join(locked), 600),
        )
        keyboard = kb.rows(
            [kb.button(t.plain("events.checkin_retry_button"), EventCheckinRetry(view.id).pack())]
        )
    await reply(update, context, text, keyboard)


async def allow_retry(update: Update, context: BotContext, data: EventCheckinRetry) -> None:
    """Let those locked out of the check-in type the code again."""
    profile = require_profile(context)
    count = await attendance.allow_checkin_retry(
        context.db, profile.telegram_id, context.admin_ids, data.event
    )
    await toast(update, context)
    await remove_keyboard(update)
    await reply(update, context, context.t("events.checkin_retry_done", count=count))


async def show_registrants(update: Update, context: BotContext, data: EventRegistrants) -> None:
    """List who registered: those with a place, the waiting list in order, those who left."""
    profile = require_profile(context)
    t = context.t
    people = await registrations.registrants(
        context.db, profile.telegram_id, context.admin_ids, data.event
    )
    await toast(update, context)
    view = await svc.get(context.db, data.event)
    if not people:
        await reply(
            update, context, t("events.registrants_none", title=view.name_in(context.t.language))
        )
        return
    lines = [
        t("events.registrants_title", title=view.name_in(context.t.language), count=len(people))
    ]
    for number, person in enumerate(people, start=1):
        university = pick_text(person.university, t.language) if person.university else "—"
        marks = ""
        if person.checked_in_at is not None:
            marks += " ✅"
        if person.feedback_rating is not None:
            marks += f" {svc.STARS * person.feedback_rating}"
        lines.append(
            t(
                "events.registrant_line",
                number=number,
                name=person.first_name,
                university=university,
                state=t.plain(REG_STATES[person.state]),
            )
            + marks
        )
    await reply(
        update, context, fit_lines(lines, lambda count: t("events.registrants_more", count=count))
    )


REG_STATES: dict[svc.RegState, str] = {
    svc.RegState.REGISTERED: "events.reg_registered",
    svc.RegState.WAITING: "events.reg_waiting",
    svc.RegState.CANCELLED: "events.reg_cancelled",
}


async def ask_cancel(update: Update, context: BotContext, data: EventCancelAsk) -> None:
    """Ask to confirm the cancellation: everyone registered or waiting will be told."""
    t = context.t
    view = await _managed_view(context, data.event)
    if view.state is EventState.CANCELLED:
        raise InvalidInput("events.cancelled")
    await toast(update, context)
    keyboard = kb.rows(
        [kb.button(t.plain("events.cancel_yes"), EventCancelConfirm(data.event).pack())]
    )
    told = view.registered + view.waiting
    await reply(
        update,
        context,
        t("events.cancel_confirm", title=view.name_in(context.t.language), count=told),
        keyboard,
    )


async def confirm_cancel(update: Update, context: BotContext, data: EventCancelConfirm) -> None:
    """Cancel the event; registrants are told and their reminders dropped."""
    profile = require_profile(context)
    view, notices = await authoring.cancel(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        data.event,
        i18n=context.i18n,
        zone=context.settings.tz,
    )
    if notices is not None:
        context.broadcaster.start(notices)
    await toast(update, context)
    await remove_keyboard(update)
    told = view.registered + view.waiting
    await reply(
        update,
        context,
        context.t("events.cancelled_done", title=view.name_in(context.t.language), count=told),
    )


# --- /recording -------------------------------------------------------------------------------


async def recording_command(update: Update, context: BotContext) -> None:
    """Choose an ended event to post its recording to those who missed it (/recording)."""
    profile = require_profile(context)
    t = context.t
    if not svc.can_schedule(profile.roles):
        await reply(update, context, t("events.new_refused"))
        return
    now = _now()
    views = [
        view
        for view in await svc.manageable(context.db, profile.telegram_id, context.admin_ids)
        if view.state is EventState.PUBLISHED and view.ends_at is not None and view.ends_at <= now
    ]
    if not views:
        await reply(update, context, t("events.recording_none"))
        return
    buttons = [_list_button(context, view, now, EventRecording) for view in views[:LIST_MAX]]
    await reply(update, context, t("events.recording_choose"), kb.rows(buttons))


async def ask_recording(update: Update, context: BotContext, data: EventRecording) -> None:
    """Ask for the recording's link."""
    view = await _managed_view(context, data.event)
    await toast(update, context)
    await set_awaiting(context, waiting_for(RECORDING_ROUTE, data.event))
    await reply(
        update,
        context,
        context.t(
            "events.ask_recording", title=view.name_in(context.t.language), example=EXAMPLE_LINK
        ),
    )


async def save_recording(update: Update, context: BotContext, event_id: int) -> None:
    """Post the recording: those registered who did not come get the link, once each."""
    profile = require_profile(context)
    t = context.t
    view, notices = await attendance.post_recording(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        event_id,
        typed_text(update),
        i18n=context.i18n,
        zone=context.settings.tz,
    )
    await stop_waiting(context, ROUTES)
    count = 0
    if notices is not None:
        sent = await broadcast_service.get(context.db, notices)
        count = sent.total if sent is not None else 0
        context.broadcaster.start(notices)
    key = "events.recording_sent" if count else "events.recording_nobody"
    await reply(update, context, t(key, title=view.name_in(context.t.language), count=count))
