"""Events for the people who attend them: /events, registration, calendar, check-in, feedback.

`/events` lists the sessions a person may attend (their audience, not ended) with their own
state, each with its buttons: "I will attend" (a place, or the waiting list of a full session,
whose place is shown), "Cancel my place" (the first waiting person moves up and is told by the
service's notice) and "Add to calendar" (an `.ics` file). The same screen opens from a deep
link (`?start=e-<code>`) and from the buttons under notices (`EventOpen`). The announcement's
buttons land here too, whenever they are pressed: the service re-checks the event each time, so
a button of a cancelled or ended event is answered "closed", never a registration.

`/checkin 1234` (or `/checkin` and then the code, awaited as `ev_checkin`) records attendance
with the code the coach said aloud. The feedback form's star buttons (queued by the follow-up
duty) rate the session once; the bot then waits for an optional comment
(`ev_comment:<event>-<rating>`) with a Skip button.

Scheduling and managing events is `handlers.events_manage`.
"""

from __future__ import annotations

import html
import re
from datetime import tzinfo
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import keyboards as kb
from bot.awaiting import int_argument, waiting_for
from bot.callbacks import (
    Button,
    EventCalendar,
    EventFeedback,
    EventFeedbackSkip,
    EventManage,
    EventOpen,
    EventRegister,
    EventUnregister,
)
from bot.context import BotContext
from bot.conversation import answered_refusals, remove_keyboard, set_awaiting, stop_waiting
from bot.features import Features
from bot.replies import reply, require_profile, toast
from bot.services import ServiceError, event_calendar
from bot.services import event_attendance as attendance
from bot.services import event_registrations as registrations
from bot.services import events as svc
from bot.services.events import MyEvent, RegState, card, zone_named

CHECKIN_ROUTE = "ev_checkin"  # the check-in code is expected
COMMENT_ROUTE = "ev_comment"  # `ev_comment:<event>-<rating>`: an optional comment is expected
LIST_MAX = 10  # event cards /events sends at once; the rest are counted

B = TypeVar("B", bound=Button)


def register(features: Features) -> None:
    """Add /events, /checkin, the event deep link and the attendee's buttons."""
    features.command("events", list_events, menu=17)
    features.command("checkin", checkin_command, menu=18)
    features.deep_link("e", open_by_link)
    features.button(EventOpen, answered_refusals(open_button))
    features.button(EventRegister, answered_refusals(register_button))
    features.button(EventUnregister, answered_refusals(unregister_button))
    features.button(EventCalendar, answered_refusals(calendar_button))
    features.button(EventFeedback, answered_refusals(feedback_button))
    features.button(EventFeedbackSkip, answered_refusals(skip_comment_button))
    features.text(CHECKIN_ROUTE, typed_code)
    features.text(COMMENT_ROUTE, typed_comment)
    features.action("events", list_events)
    features.menu("events", "menu.events", "events", position=17)
    features.help("help.events")


# --- small helpers ----------------------------------------------------------------------------


def _zone(context: BotContext, view: svc.EventView) -> tzinfo:
    """The zone an event's time is shown in: its own, else the bot's."""
    return zone_named(view.timezone, context.settings.tz)


# --- one event, as its attendee sees it ---------------------------------------------------------


def state_line(context: BotContext, mine: MyEvent) -> str | None:
    """The person's own state: registered, checked in, waiting (with the place), or nothing."""
    t = context.t
    view = mine.event
    if view.state is svc.EventState.CANCELLED:
        return t("events.my_cancelled_event")
    if mine.checked_in:
        return t("events.my_checked_in")
    if mine.state is RegState.REGISTERED:
        return t("events.my_registered")
    if mine.state is RegState.WAITING:
        return t("events.my_waiting", position=mine.position or 1)
    if view.capacity is not None and view.places_left == 0:
        return t("events.my_full", waiting=view.waiting)
    return None


def event_text(context: BotContext, mine: MyEvent) -> str:
    """The event's card with the person's state under it."""
    view = mine.event
    text = card(view, context.t, _zone(context, view))
    line = state_line(context, mine)
    return f"{text}\n\n{line}" if line else text


def event_keyboard(
    context: BotContext, mine: MyEvent, *, manage: bool = False
) -> InlineKeyboardMarkup | None:
    """I will attend / Cancel my place, Add to calendar, and Manage for whoever manages it."""
    t = context.t
    view = mine.event
    rows: list[list[InlineKeyboardButton]] = []
    if view.state is svc.EventState.PUBLISHED:
        if mine.state is None:
            rows.append(
                [kb.button(t.plain("events.register_button"), EventRegister(view.id).pack())]
            )
        elif not mine.checked_in:
            rows.append(
                [kb.button(t.plain("events.unregister_button"), EventUnregister(view.id).pack())]
            )
        rows.append([kb.button(t.plain("events.calendar_button"), EventCalendar(view.id).pack())])
    if manage:
        rows.append([kb.button(t.plain("events.manage_button"), EventManage(view.id).pack())])
    return InlineKeyboardMarkup(rows) if rows else None


async def _managed_ids(context: BotContext) -> set[int]:
    """The events this person may manage (none for a student: no query)."""
    profile = require_profile(context)
    if not svc.can_schedule(profile.roles):
        return set()
    views = await svc.manageable(context.db, profile.telegram_id, context.admin_ids)
    return {view.id for view in views}


async def show_event(update: Update, context: BotContext, event_id: int) -> None:
    """Send the event's screen: its card, the person's state and the buttons."""
    profile = require_profile(context)
    mine = await svc.my_event(context.db, profile.telegram_id, event_id)
    manage = event_id in await _managed_ids(context)
    await reply(
        update, context, event_text(context, mine), event_keyboard(context, mine, manage=manage)
    )


# --- /events and the ways into one event --------------------------------------------------------


async def list_events(update: Update, context: BotContext) -> None:
    """List the upcoming sessions this person may attend, each with their state (/events)."""
    profile = require_profile(context)
    t = context.t
    if profile.next_step is not None:
        await reply(update, context, t("onboarding.finish_first"))
        return
    found = await svc.upcoming(context.db, profile.telegram_id)
    if not found:
        key = "events.none_scheduler" if svc.can_schedule(profile.roles) else "events.none"
        await reply(update, context, t(key))
        return
    managed = await _managed_ids(context)
    await reply(update, context, t("events.list_title", count=len(found)))
    for mine in found[:LIST_MAX]:
        keyboard = event_keyboard(context, mine, manage=mine.event.id in managed)
        await reply(update, context, event_text(context, mine), keyboard)
    if len(found) > LIST_MAX:
        await reply(update, context, t("events.list_more", count=len(found) - LIST_MAX))


async def open_by_link(update: Update, context: BotContext, code: str) -> None:
    """Open the event a `?start=e-<code>` link names."""
    try:
        view = await svc.get_by_code(context.db, code)
        await show_event(update, context, view.id)
    except ServiceError as exc:
        await reply(update, context, context.t(exc.key, **exc.values))


async def open_button(update: Update, context: BotContext, data: EventOpen) -> None:
    """Show one event (from a notice, a list)."""
    await toast(update, context)
    await show_event(update, context, data.event)


# --- registration -----------------------------------------------------------------------------


def _mine_keyboard(context: BotContext, mine: MyEvent) -> InlineKeyboardMarkup | None:
    """The buttons under a registration's answer: Cancel my place, Add to calendar."""
    return event_keyboard(context, mine)


async def register_button(update: Update, context: BotContext, data: EventRegister) -> None:
    """Take a place, or the waiting list of a full session (I will attend)."""
    profile = require_profile(context)
    t = context.t
    before = await svc.my_event(context.db, profile.telegram_id, data.event)
    mine = await registrations.register(context.db, profile.telegram_id, data.event)
    title = mine.event.title_in(t.language)
    if before.state is not None and before.state is mine.state:
        key = (
            "events.already_waiting"
            if mine.state is RegState.WAITING
            else "events.already_registered"
        )
    else:
        key = "events.waiting" if mine.state is RegState.WAITING else "events.registered"
    text = t(key, title=title, position=mine.position or 1)
    await toast(update, context, _first_line(text))
    await reply(update, context, text, _mine_keyboard(context, mine))


def _first_line(text: str) -> str:
    """The first line of an HTML message, without its tags (a toast is plain text)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text.split("\n", 1)[0]))


async def unregister_button(update: Update, context: BotContext, data: EventUnregister) -> None:
    """Give the place back, or leave the waiting list (Cancel my place)."""
    profile = require_profile(context)
    t = context.t
    before = await svc.my_event(context.db, profile.telegram_id, data.event)
    if before.event.state is svc.EventState.CANCELLED:
        # The event's cancellation already released every place: nothing to give back.
        raise ServiceError("events.cancelled")
    mine, notices = await registrations.unregister(
        context.db,
        profile.telegram_id,
        data.event,
        i18n=context.i18n,
        zone=context.settings.tz,
    )
    if notices is not None:
        context.broadcaster.start(notices)  # the person moved up is told
    title = mine.event.title_in(t.language)
    if before.state is None:
        key = "events.not_registered"
    elif before.state is RegState.WAITING:
        key = "events.left_waiting"
    else:
        key = "events.unregistered"
    text = t(key, title=title)
    await toast(update, context, _first_line(text))
    await remove_keyboard(update)
    await reply(update, context, text, event_keyboard(context, mine))


async def calendar_button(update: Update, context: BotContext, data: EventCalendar) -> None:
    """Send the event as an .ics file (a cancelled one removes the entry)."""
    profile = require_profile(context)
    chat = update.effective_chat
    if chat is None:
        return
    mine = await svc.my_event(context.db, profile.telegram_id, data.event)
    view = mine.event
    t = context.t
    if view.starts_at is None:
        await toast(update, context, t.plain("events.incomplete"))
        return
    await toast(update, context)
    content = event_calendar.ics(view, t.language, default_zone=context.settings.tz)
    await context.bot.send_document(
        chat.id,
        content,
        filename=event_calendar.file_name(view),
        caption=t("events.calendar_caption", title=view.title_in(t.language)),
    )


# --- check-in ---------------------------------------------------------------------------------


async def checkin_command(update: Update, context: BotContext) -> None:
    """Check in with the code said aloud: `/checkin 1234`, or `/checkin` and then the code."""
    code = " ".join(context.args or ())
    if not code:
        await set_awaiting(context, waiting_for(CHECKIN_ROUTE))
        await reply(
            update, context, context.t("events.checkin_ask_code", digits=attendance.CODE_DIGITS)
        )
        return
    await _check_in(update, context, code)


async def typed_code(update: Update, context: BotContext, argument: str) -> None:
    """The code typed after /checkin."""
    message = update.effective_message
    if message is None:
        return
    await _check_in(update, context, message.text or "")


async def _check_in(update: Update, context: BotContext, code: str) -> None:
    """Record attendance; a wrong code or a closed window is explained, the bot keeps waiting."""
    profile = require_profile(context)
    t = context.t
    try:
        view = await attendance.check_in(context.db, profile.telegram_id, None, code)
    except ServiceError as exc:
        if exc.key == "events.checkin_locked":  # no more tries: nothing more to wait for
            await stop_waiting(context, (CHECKIN_ROUTE,))
            await reply(update, context, t(exc.key, **exc.values))
            return
        # Still waiting for a code: the next message is tried again (/cancel stops it).
        await set_awaiting(context, waiting_for(CHECKIN_ROUTE))
        await reply(update, context, t(exc.key, **exc.values) + "\n" + t("events.checkin_again"))
        return
    await stop_waiting(context, (CHECKIN_ROUTE,))
    await reply(update, context, t("events.checked_in", title=view.title_in(t.language)))


# --- feedback ---------------------------------------------------------------------------------


def _comment_argument(event: int, rating: int) -> str:
    return f"{event}-{rating}"


async def feedback_button(update: Update, context: BotContext, data: EventFeedback) -> None:
    """Rate the session (the first rating counts), then offer to add a comment."""
    profile = require_profile(context)
    t = context.t
    feedback = await attendance.submit_feedback(
        context.db, profile.telegram_id, data.event, data.rating
    )
    stars = svc.STARS * feedback.rating
    await remove_keyboard(update)
    if not feedback.first:
        await toast(update, context, t.plain("events.already_rated", stars=stars))
        return
    await toast(update, context)
    if feedback.comment:
        await reply(update, context, t("events.rated", stars=stars))
        return
    await set_awaiting(
        context, waiting_for(COMMENT_ROUTE, _comment_argument(data.event, feedback.rating))
    )
    keyboard = kb.rows(
        [kb.button(t.plain("events.skip_comment"), EventFeedbackSkip(data.event).pack())]
    )
    await reply(update, context, t("events.rated_ask_comment", stars=stars), keyboard)


async def typed_comment(update: Update, context: BotContext, argument: str) -> None:
    """The optional comment after a rating."""
    profile = require_profile(context)
    message = update.effective_message
    if message is None:
        return
    t = context.t
    event_part, _, rating_part = argument.partition("-")
    event_id, rating = int_argument(event_part), int_argument(rating_part)
    if event_id is None or rating is None:
        await stop_waiting(context, (COMMENT_ROUTE,))
        await reply(update, context, t("errors.not_understood"))
        return
    try:
        await attendance.submit_feedback(
            context.db, profile.telegram_id, event_id, rating, message.text or ""
        )
    except ServiceError as exc:
        if exc.key == "events.text_too_long":  # kept waiting: a shorter one is welcome
            await reply(update, context, t(exc.key, **exc.values))
            return
        await stop_waiting(context, (COMMENT_ROUTE,))
        await reply(update, context, t(exc.key, **exc.values))
        return
    await stop_waiting(context, (COMMENT_ROUTE,))
    await reply(update, context, t("events.comment_thanks"))


async def skip_comment_button(
    update: Update, context: BotContext, data: EventFeedbackSkip
) -> None:
    """No comment: stop waiting for one."""
    await stop_waiting(context, (COMMENT_ROUTE,))
    await toast(update, context)
    await remove_keyboard(update)
    await reply(update, context, context.t("events.comment_skipped"))
