"""Scheduling and managing events in chat: /new_event, /my_events, /recording.

`/new_event` (coaches, organizers, admins; a student is told who may) is a wizard over a draft
kept in the database: the kind (buttons), the title and the description (typed, in one language
or with `[kk]`/`[ru]`/`[en]` sections), the date and time (`2026-12-03 15:00`, `03.12.2026 15:00`
or `03.12 15:00`, in the bot's zone), the duration, the join link, the hosting university and
the audience (buttons; a coach or organizer of one university is offered only their university
and its learners, as /broadcast does), the number of places (or no limit) and the reminders
(24 h, 1 h and 10 min before, or typed). A preview shows the announcement as people will get it;
Publish sends it to the audience with its progress and the sender's report (the broadcast's).

What the bot waits for is stored on the user (`bot.awaiting`), the argument being the draft's
id: `ev_title:<id>`, `ev_desc:<id>`, `ev_when:<id>`, `ev_duration:<id>`, `ev_link:<id>`,
`ev_capacity:<id>`, `ev_reminders:<id>`; so a restart in the middle of the wizard loses nothing,
and a draft left with /cancel is taken up again from /my_events where it stopped. Bad input is
explained by the service's message and the bot keeps waiting for the same step.

The management screen (from /my_events, or Manage under an event in /events) changes the time
or the link (`ev_new_time:<id>`, `ev_new_link:<id>`; registrants are told by the service's
notices, started here), cancels (after a confirmation; registrants told), opens the check-in
(the code to say aloud) and lists the registrants. `/recording` posts a recording's link to
those who registered and did not come (`ev_recording:<id>`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.helpers import create_deep_linked_url

from bot import keyboards as kb
from bot.awaiting import int_argument, parse, waiting_for
from bot.callbacks import (
    AudienceList,
    Button,
    EventAudience,
    EventAudienceList,
    EventCancelAsk,
    EventCancelConfirm,
    EventChange,
    EventCheckin,
    EventCheckinRetry,
    EventDefaultReminders,
    EventDiscard,
    EventDuration,
    EventField,
    EventHost,
    EventManage,
    EventNewKind,
    EventNoDescription,
    EventNoLimit,
    EventPublish,
    EventRecording,
    EventRegistrants,
)
from bot.context import BotContext
from bot.features import ButtonCallback, Features, InputRoute
from bot.jobs.broadcasts import render_progress
from bot.replies import fit_lines, reply, require_profile, shorten, toast
from bot.services import InvalidInput, PermissionDenied, ServiceError
from bot.services import broadcasts as broadcast_service
from bot.services import events as svc
from bot.services import universities as university_service
from bot.services import users as user_service
from bot.services.audiences import (
    COURSE_AT_LABELS,
    COURSE_LABELS,
    Audience,
    CourseAudience,
    course_audience,
    course_audiences,
    sender_university,
)
from bot.services.course import pick as pick_text
from bot.services.event_times import (
    DEFAULT_OFFSETS,
    parse_capacity,
    parse_duration,
    parse_offsets,
    parse_when,
    show_when,
)
from bot.services.events import EventState, EventView, Kind, card, duration_text, zone_named
from bot.services.roles import Role
from bot.services.universities import COUNTRIES

SCHEDULERS = (Role.ADMIN, Role.ORGANIZER, Role.COACH)

TITLE_ROUTE = "ev_title"
DESCRIPTION_ROUTE = "ev_desc"
WHEN_ROUTE = "ev_when"
DURATION_ROUTE = "ev_duration"
LINK_ROUTE = "ev_link"
CAPACITY_ROUTE = "ev_capacity"
REMINDERS_ROUTE = "ev_reminders"
NEW_TIME_ROUTE = "ev_new_time"
NEW_LINK_ROUTE = "ev_new_link"
RECORDING_ROUTE = "ev_recording"
ROUTES = (
    TITLE_ROUTE,
    DESCRIPTION_ROUTE,
    WHEN_ROUTE,
    DURATION_ROUTE,
    LINK_ROUTE,
    CAPACITY_ROUTE,
    REMINDERS_ROUTE,
    NEW_TIME_ROUTE,
    NEW_LINK_ROUTE,
    RECORDING_ROUTE,
)
# Refusals of typed input that another try cannot mend: the bot stops waiting.
FINAL_REFUSALS = frozenset(
    {"events.not_draft", "events.cancelled", "events.ended", "events.not_ended"}
)
DURATIONS = (45, 60, 90, 120)  # minutes offered as buttons
KIND_LABELS = svc.KIND_LABELS
LIST_MAX = 20  # events /my_events and /recording offer as buttons
LABEL_MAX = 60
EXAMPLE_LINK = "https://zoom.us/j/123456789"

B = TypeVar("B", bound=Button)


def register(features: Features) -> None:
    """Add /new_event, /my_events, /recording and the wizard's and management's buttons."""
    features.command("new_event", new_event)
    features.command("my_events", my_events)
    features.command("recording", recording_command)
    features.button(EventNewKind, _refusals(choose_kind))
    features.button(EventNoDescription, _refusals(skip_description))
    features.button(EventDuration, _refusals(choose_duration))
    features.button(EventHost, _refusals(choose_host))
    features.button(EventAudienceList, _refusals(list_audiences))
    features.button(EventAudience, _refusals(choose_audience))
    features.button(EventNoLimit, _refusals(no_limit))
    features.button(EventDefaultReminders, _refusals(default_reminders))
    features.button(EventPublish, _refusals(publish))
    features.button(EventDiscard, _refusals(discard))
    features.button(EventManage, _refusals(manage_button))
    features.button(EventChange, _refusals(ask_change))
    features.button(EventCheckin, _refusals(open_checkin))
    features.button(EventCheckinRetry, _refusals(allow_retry))
    features.button(EventRegistrants, _refusals(show_registrants))
    features.button(EventRecording, _refusals(ask_recording))
    features.button(EventCancelAsk, _refusals(ask_cancel))
    features.button(EventCancelConfirm, _refusals(confirm_cancel))
    features.text(TITLE_ROUTE, _with_event(save_title))
    features.text(DESCRIPTION_ROUTE, _with_event(save_description))
    features.text(WHEN_ROUTE, _with_event(save_when))
    features.text(DURATION_ROUTE, _with_event(save_duration))
    features.text(LINK_ROUTE, _with_event(save_link))
    features.text(CAPACITY_ROUTE, _with_event(save_capacity))
    features.text(REMINDERS_ROUTE, _with_event(save_reminders))
    features.text(NEW_TIME_ROUTE, _with_event(save_new_time))
    features.text(NEW_LINK_ROUTE, _with_event(save_new_link))
    features.text(RECORDING_ROUTE, _with_event(save_recording))
    features.action("new_event", new_event)
    features.menu("new_event", "menu.new_event", "new_event", SCHEDULERS, position=55)
    features.help("help.events_manage", SCHEDULERS)


# --- plumbing ---------------------------------------------------------------------------------


def _refusals(callback: ButtonCallback[B]) -> ButtonCallback[B]:
    """Answer the service's refusal of a button (not yours, cancelled, ended) as toast and text."""

    @functools.wraps(callback)
    async def run(update: Update, context: BotContext, data: B) -> None:
        try:
            await callback(update, context, data)
        except ServiceError as exc:
            await toast(update, context, context.t.plain(exc.key, **exc.values))
            await reply(update, context, context.t(exc.key, **exc.values))

    return run


def _with_event(step: InputRoute) -> InputRoute:
    """Give a typed step the event id of its argument; a refusal is explained, waiting goes on.

    The service refuses bad input with a message of its own (a time in the past, a link that is
    none): the person reads it and types again, since the stored value still waits for it. A
    refusal that no other text can mend (the event was published, cancelled or has ended
    meanwhile, or is not theirs) ends the waiting instead.
    """

    async def route(update: Update, context: BotContext, argument: str) -> None:
        event_id = int_argument(argument)
        if event_id is None:
            await _set_awaiting(context, None)
            await reply(update, context, context.t("errors.not_understood"))
            return
        try:
            await step(update, context, str(event_id))
        except ServiceError as exc:
            if not isinstance(exc, InvalidInput) or exc.key in FINAL_REFUSALS:
                await _set_awaiting(context, None)
            await reply(update, context, context.t(exc.key, **exc.values))

    return route


async def _set_awaiting(context: BotContext, value: str | None) -> None:
    """Store what the organizer's typed text goes to next, if it changed."""
    profile = require_profile(context)
    if profile.awaiting != value:
        context.profile = await user_service.set_awaiting(
            context.db, profile.telegram_id, value, context.admin_ids
        )


async def _stop_waiting(context: BotContext) -> None:
    """Stop waiting for this feature's input (another feature's stored value is left alone)."""
    waiting = parse(require_profile(context).awaiting)
    if waiting is not None and waiting[0] in ROUTES:
        await _set_awaiting(context, None)


async def _remove_keyboard(update: Update) -> None:
    """Take the buttons off the pressed message (best effort: a double tap finds none)."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError:
            return


def _typed(update: Update) -> str:
    """The text of the message being handled."""
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def _now() -> datetime:
    return datetime.now(UTC)


def _title(context: BotContext, view: EventView) -> str:
    """The event's title in the reader's language (its code while it has none)."""
    return view.title_in(context.t.language) or view.code


async def _update(context: BotContext, event_id: int, **fields: Any) -> EventView:
    """Set fields of the draft (the service checks each and refuses bad ones)."""
    profile = require_profile(context)
    return await svc.update_draft(
        context.db, profile.telegram_id, context.admin_ids, event_id, **fields
    )


# --- the wizard ---------------------------------------------------------------------------------


async def new_event(update: Update, context: BotContext) -> None:
    """Start scheduling an event: choose its kind (/new_event)."""
    profile = require_profile(context)
    t = context.t
    if not svc.can_schedule(profile.roles):
        await reply(update, context, t("events.new_refused"))
        return
    keyboard = kb.rows(
        (kb.button(t.plain(KIND_LABELS[kind]), EventNewKind(kind.value).pack()) for kind in Kind),
        per_row=2,
    )
    await reply(update, context, t("events.new_choose_kind"), keyboard)


async def choose_kind(update: Update, context: BotContext, data: EventNewKind) -> None:
    """Create the draft of the chosen kind, then ask for its title."""
    profile = require_profile(context)
    view = await svc.create_draft(context.db, profile.telegram_id, context.admin_ids, data.kind)
    await toast(update, context)
    await _remove_keyboard(update)
    await _ask(update, context, view.id, TITLE_ROUTE)


async def _ask(update: Update, context: BotContext, event_id: int, route: str) -> None:
    """Ask for the wizard step `route` (typed, with buttons where there are choices)."""
    t = context.t
    await _set_awaiting(context, waiting_for(route, event_id))
    keyboard: InlineKeyboardMarkup | None = None
    if route == TITLE_ROUTE:
        text = t("events.ask_title")
    elif route == DESCRIPTION_ROUTE:
        text = t("events.ask_description")
        keyboard = kb.rows(
            [kb.button(t.plain("events.no_description"), EventNoDescription(event_id).pack())]
        )
    elif route == WHEN_ROUTE:
        text = t("events.ask_when", zone=context.settings.timezone, example=_example_time(context))
    elif route == DURATION_ROUTE:
        text = t("events.ask_duration")
        keyboard = kb.rows(
            (
                kb.button(duration_text(minutes, t), EventDuration(event_id, minutes).pack())
                for minutes in DURATIONS
            ),
            per_row=4,
        )
    elif route == LINK_ROUTE:
        text = t("events.ask_link", example=EXAMPLE_LINK)
    elif route == CAPACITY_ROUTE:
        text = t("events.ask_capacity")
        keyboard = kb.rows([kb.button(t.plain("events.no_limit"), EventNoLimit(event_id).pack())])
    else:  # REMINDERS_ROUTE
        text = t("events.ask_reminders", default=_offsets_text(context, DEFAULT_OFFSETS))
        label = t.plain(
            "events.default_reminders", offsets=_offsets_text(context, DEFAULT_OFFSETS)
        )
        keyboard = kb.rows([kb.button(label, EventDefaultReminders(event_id).pack())])
    await reply(update, context, text, keyboard)


def _example_time(context: BotContext) -> str:
    """A date and time a week from now in the bot's zone, as people type it."""
    local = datetime.now(context.settings.tz).replace(hour=15, minute=0) + timedelta(days=7)
    return local.strftime("%d.%m.%Y %H:%M")


def _offsets_text(context: BotContext, offsets: tuple[int, ...]) -> str:
    """Reminder offsets as people read them: `1 d, 1 h, 10 min`."""
    return ", ".join(duration_text(minutes, context.t) for minutes in offsets)


async def save_title(update: Update, context: BotContext, argument: str) -> None:
    """Take the title (one line per language), then ask for the description."""
    event_id = int(argument)
    await _update(context, event_id, title=_typed(update))
    await _ask(update, context, event_id, DESCRIPTION_ROUTE)


async def save_description(update: Update, context: BotContext, argument: str) -> None:
    """Take the description, then ask for the date and time."""
    event_id = int(argument)
    await _update(context, event_id, description=_typed(update))
    await _ask(update, context, event_id, WHEN_ROUTE)


async def skip_description(update: Update, context: BotContext, data: EventNoDescription) -> None:
    """No description: ask for the date and time."""
    await _update(context, data.event, description="")
    await toast(update, context)
    await _remove_keyboard(update)
    await _ask(update, context, data.event, WHEN_ROUTE)


async def save_when(update: Update, context: BotContext, argument: str) -> None:
    """Take the date and time (in the bot's zone; a past one is refused), then the duration."""
    event_id = int(argument)
    starts_at = parse_when(_typed(update), context.settings.tz, _now())
    await _update(context, event_id, starts_at=starts_at)
    await _ask(update, context, event_id, DURATION_ROUTE)


async def save_duration(update: Update, context: BotContext, argument: str) -> None:
    """Take a typed duration, then ask for the join link."""
    event_id = int(argument)
    await _update(context, event_id, duration_minutes=parse_duration(_typed(update)))
    await _ask(update, context, event_id, LINK_ROUTE)


async def choose_duration(update: Update, context: BotContext, data: EventDuration) -> None:
    """Take the duration of the button, then ask for the join link."""
    await _update(context, data.event, duration_minutes=data.minutes)
    await toast(update, context)
    await _remove_keyboard(update)
    await _ask(update, context, data.event, LINK_ROUTE)


async def save_link(update: Update, context: BotContext, argument: str) -> None:
    """Take the join link (checked by the service), then ask for the hosting university."""
    event_id = int(argument)
    view = await _update(context, event_id, join_url=_typed(update))
    await _ask_host(update, context, view)


async def _ask_host(update: Update, context: BotContext, view: EventView) -> None:
    """Offer the universities as hosts; a sender of one university hosts at it (no question)."""
    profile = require_profile(context)
    t = context.t
    await _set_awaiting(context, None)
    scope = await sender_university(context.db, profile.telegram_id, context.admin_ids)
    if scope is not None:
        await _ask_audience(update, context, view.id)
        return
    universities = await university_service.list_universities(context.db)
    keyboard = kb.rows(
        kb.button(
            ("✓ " if u.id == view.university_id else "")
            + f"{kb.COUNTRY_FLAGS.get(u.country, '')} {u.name(t.language)}".strip(),
            EventHost(view.id, u.id).pack(),
        )
        for u in universities
    )
    await reply(update, context, t("events.ask_host"), keyboard)


async def choose_host(update: Update, context: BotContext, data: EventHost) -> None:
    """Take the hosting university, then ask for the audience."""
    await _update(context, data.event, university_id=data.university)
    await toast(update, context)
    await _remove_keyboard(update)
    await _ask_audience(update, context, data.event)


async def _ask_audience(update: Update, context: BotContext, event_id: int) -> None:
    """Offer the audiences this sender may address (their university's only, when scoped)."""
    profile = require_profile(context)
    t = context.t
    scope = await sender_university(context.db, profile.telegram_id, context.admin_ids)
    buttons: list[InlineKeyboardButton] = []
    if scope is None:
        buttons.append(
            kb.button(
                t.plain("broadcasts.audience_all"),
                EventAudience(event_id, Audience.ALL.value).pack(),
            )
        )
        buttons.append(
            kb.button(
                t.plain("broadcasts.audience_university"),
                EventAudienceList(event_id, AudienceList.UNIVERSITY).pack(),
            )
        )
        buttons.append(
            kb.button(
                t.plain("broadcasts.audience_country"),
                EventAudienceList(event_id, AudienceList.COUNTRY).pack(),
            )
        )
        if await course_audiences(context.db):
            buttons.append(
                kb.button(
                    t.plain("broadcasts.audience_courses"),
                    EventAudienceList(event_id, AudienceList.COURSE).pack(),
                )
            )
    else:
        label = await _audience_label(context, Audience.UNIVERSITY.value, str(scope))
        buttons.append(
            kb.button(label, EventAudience(event_id, Audience.UNIVERSITY.value, str(scope)).pack())
        )
        buttons += _course_buttons(context, event_id, await course_audiences(context.db, scope))
    await reply(update, context, t("events.ask_audience"), kb.rows(buttons))


def _course_label(context: BotContext, kind: str, course: CourseAudience) -> str:
    """A course audience as the sender reads it: "learners of <title> [at <university>]"."""
    t = context.t
    title = pick_text(course.title, t.language, context.settings.default_language)
    if course.university is not None:
        university = course.university.name(t.language)
        return t.plain(COURSE_AT_LABELS[kind], course=title, university=university)
    return t.plain(COURSE_LABELS[kind], course=title)


def _course_buttons(
    context: BotContext, event_id: int, courses: list[CourseAudience]
) -> list[InlineKeyboardButton]:
    """A button per course and kind (all learners, those not finished)."""
    return [
        kb.button(
            shorten(_course_label(context, kind, course), LABEL_MAX),
            EventAudience(event_id, kind, course.ref).pack(),
        )
        for course in courses
        for kind in COURSE_LABELS
    ]


async def list_audiences(update: Update, context: BotContext, data: EventAudienceList) -> None:
    """List the universities, the countries or the courses, to choose one as the audience."""
    t = context.t
    await toast(update, context)
    if data.what is AudienceList.UNIVERSITY:
        universities = await university_service.list_universities(context.db)
        buttons = [
            kb.button(
                f"{kb.COUNTRY_FLAGS.get(u.country, '')} {u.name(t.language)}".strip(),
                EventAudience(data.event, Audience.UNIVERSITY.value, str(u.id)).pack(),
            )
            for u in universities
        ]
        await reply(update, context, t("broadcasts.choose_university"), kb.rows(buttons))
    elif data.what is AudienceList.COUNTRY:
        buttons = [
            kb.button(
                f"{kb.COUNTRY_FLAGS[c]} {t.plain(f'countries.{c}')}",
                EventAudience(data.event, Audience.COUNTRY.value, c).pack(),
            )
            for c in COUNTRIES
        ]
        await reply(update, context, t("broadcasts.choose_country"), kb.rows(buttons, per_row=3))
    else:
        profile = require_profile(context)
        scope = await sender_university(context.db, profile.telegram_id, context.admin_ids)
        courses = await course_audiences(context.db, scope)
        if not courses:
            await reply(update, context, t("broadcasts.unknown_audience"))
            return
        keyboard = kb.rows(_course_buttons(context, data.event, courses))
        await reply(update, context, t("broadcasts.choose_course"), keyboard)


async def _audience_label(context: BotContext, kind: str | None, ref: str | None) -> str:
    """The audience as the organizer reads it: a university, country or course, or everyone."""
    t = context.t
    if kind in COURSE_LABELS:
        course = await course_audience(context.db, ref)
        if course is not None:
            return _course_label(context, kind, course)
    if kind == Audience.UNIVERSITY:
        for u in await university_service.list_universities(context.db, include_hidden=True):
            if str(u.id) == ref:
                return u.name(t.language)
    if kind == Audience.COUNTRY and ref in COUNTRIES:
        return t.plain(f"countries.{ref}")
    return t.plain("broadcasts.audience_all")


async def choose_audience(update: Update, context: BotContext, data: EventAudience) -> None:
    """Take the audience (the service refuses one beyond the sender's scope), then the places."""
    await _update(context, data.event, audience_kind=data.audience, audience_ref=data.ref)
    await toast(update, context)
    await _remove_keyboard(update)
    await _ask(update, context, data.event, CAPACITY_ROUTE)


async def save_capacity(update: Update, context: BotContext, argument: str) -> None:
    """Take the number of places (`-`: no limit; zero is refused), then the reminders."""
    event_id = int(argument)
    await _update(context, event_id, capacity=parse_capacity(_typed(update)))
    await _ask(update, context, event_id, REMINDERS_ROUTE)


async def no_limit(update: Update, context: BotContext, data: EventNoLimit) -> None:
    """No limit on places, then the reminders."""
    await _update(context, data.event, capacity=None)
    await toast(update, context)
    await _remove_keyboard(update)
    await _ask(update, context, data.event, REMINDERS_ROUTE)


async def save_reminders(update: Update, context: BotContext, argument: str) -> None:
    """Take typed reminder offsets, then show the preview."""
    event_id = int(argument)
    view = await _update(context, event_id, reminder_offsets=parse_offsets(_typed(update)))
    await _preview(update, context, view)


async def default_reminders(
    update: Update, context: BotContext, data: EventDefaultReminders
) -> None:
    """The default reminders (24 h, 1 h, 10 min before), then the preview."""
    view = await _update(context, data.event, reminder_offsets=DEFAULT_OFFSETS)
    await toast(update, context)
    await _remove_keyboard(update)
    await _preview(update, context, view)


# --- preview, publish, discard ------------------------------------------------------------------


async def _details(context: BotContext, view: EventView) -> str:
    """What the organizer checks before publishing: link, audience, places, reminders."""
    t = context.t
    audience = await _audience_label(context, view.audience_kind, view.audience_ref)
    places = (
        t.plain("events.no_limit_value")
        if view.capacity is None
        else t.plain("events.places_value", capacity=view.capacity)
    )
    reminders = (
        _offsets_text(context, view.reminder_offsets)
        if view.reminder_offsets
        else t.plain("events.no_reminders")
    )
    return t(
        "events.preview_details",
        link=view.join_url or "—",
        audience=audience,
        places=places,
        reminders=reminders,
    )


async def _preview(update: Update, context: BotContext, view: EventView) -> None:
    """Show the announcement as people will read it, what else was chosen, Publish/Discard."""
    t = context.t
    await _set_awaiting(context, None)
    zone = zone_named(view.timezone, context.settings.tz)
    await reply(update, context, t("events.preview_intro"))
    await reply(update, context, card(view, t, zone))
    keyboard = kb.rows(
        [
            kb.button(t.plain("events.publish_button"), EventPublish(view.id).pack()),
            kb.button(t.plain("events.discard_button"), EventDiscard(view.id).pack()),
        ]
    )
    await reply(update, context, await _details(context, view), keyboard)


async def _resume(update: Update, context: BotContext, view: EventView) -> None:
    """Take a draft up again where it stopped: the first step still missing, or the preview."""
    if not view.title:
        await _ask(update, context, view.id, TITLE_ROUTE)
    elif view.starts_at is None:
        await _ask(update, context, view.id, WHEN_ROUTE)
    elif not view.join_url:
        await _ask(update, context, view.id, LINK_ROUTE)
    else:
        await _preview(update, context, view)


async def publish(update: Update, context: BotContext, data: EventPublish) -> None:
    """Publish the draft: the announcement goes out with its progress and the report."""
    profile = require_profile(context)
    chat = update.effective_chat
    if chat is None:
        return
    t = context.t
    view, broadcast_id = await svc.publish(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        data.event,
        i18n=context.i18n,
        zone=context.settings.tz,
    )
    await _stop_waiting(context)
    await toast(update, context)
    await _remove_keyboard(update)
    link = create_deep_linked_url(context.bot.username, f"e-{view.code}")
    await reply(update, context, t("events.published", title=_title(context, view), link=link))
    announcement = await broadcast_service.get(context.db, broadcast_id)
    if announcement is None:
        return
    text, keyboard = render_progress(announcement, t)
    progress = await context.bot.send_message(chat.id, text, reply_markup=keyboard)
    await broadcast_service.set_progress_message(
        context.db, broadcast_id, progress.chat_id, progress.message_id
    )
    context.broadcaster.start(broadcast_id)


async def discard(update: Update, context: BotContext, data: EventDiscard) -> None:
    """Throw the draft away (it is cancelled; nobody was told of it)."""
    profile = require_profile(context)
    view = await svc.get(context.db, data.event)
    if view.state is not EventState.DRAFT:
        await toast(update, context, context.t.plain("events.not_draft"))
        return
    await svc.cancel(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        data.event,
        i18n=context.i18n,
        zone=context.settings.tz,
    )
    await _stop_waiting(context)
    await toast(update, context)
    await _remove_keyboard(update)
    await reply(update, context, context.t("events.discarded"))


# --- /my_events and the management screen -------------------------------------------------------


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
    label = f"{_mark(view, now)} {when} · {_title(context, view)}"
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
    buttons = [_list_button(context, view, now, EventManage) for view in views[:LIST_MAX]]
    await reply(update, context, t("events.my_events_title", count=len(views)), kb.rows(buttons))


async def _managed_view(context: BotContext, event_id: int) -> EventView:
    """The event, if this person may manage it (checked before asking them anything).

    Raises:
        PermissionDenied: `events.not_yours` (or `errors.not_allowed` for a student).
    """
    profile = require_profile(context)
    views = await svc.manageable(context.db, profile.telegram_id, context.admin_ids)
    view = next((v for v in views if v.id == event_id), None)
    if view is None:
        raise PermissionDenied("events.not_yours")
    return view


async def manage_button(update: Update, context: BotContext, data: EventManage) -> None:
    """Open the management screen of one event (a draft is taken up where it stopped)."""
    view = await _managed_view(context, data.event)
    await toast(update, context)
    if view.state is EventState.DRAFT:
        await _resume(update, context, view)
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
        await _set_awaiting(context, waiting_for(NEW_TIME_ROUTE, data.event))
        await reply(
            update,
            context,
            t(
                "events.ask_new_time",
                zone=context.settings.timezone,
                example=_example_time(context),
            ),
        )
    else:
        await _set_awaiting(context, waiting_for(NEW_LINK_ROUTE, data.event))
        await reply(update, context, t("events.ask_new_link", example=EXAMPLE_LINK))


async def _edit(update: Update, context: BotContext, event_id: int, **fields: Any) -> EventView:
    """Change a published event; start the notices to its registrants."""
    profile = require_profile(context)
    view, notices = await svc.edit(
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
    await _stop_waiting(context)
    return view


async def save_new_time(update: Update, context: BotContext, argument: str) -> None:
    """Move the event to the typed time; registrants are told, reminders planned again."""
    starts_at = parse_when(_typed(update), context.settings.tz, _now())
    view = await _edit(update, context, int(argument), starts_at=starts_at)
    t = context.t
    zone = zone_named(view.timezone, context.settings.tz)
    when = show_when(starts_at, zone, t.language)
    told = view.registered + view.waiting
    await reply(update, context, t("events.time_changed", when=when, count=told))


async def save_new_link(update: Update, context: BotContext, argument: str) -> None:
    """Change the join link; registrants are told."""
    view = await _edit(update, context, int(argument), join_url=_typed(update))
    told = view.registered + view.waiting
    await reply(update, context, context.t("events.link_changed", count=told))


async def open_checkin(update: Update, context: BotContext, data: EventCheckin) -> None:
    """Open the attendance: the code to say aloud (the same one when opened again).

    Those who typed too many wrong codes are named, with a button letting them try again.
    """
    profile = require_profile(context)
    t = context.t
    code = await svc.open_checkin(context.db, profile.telegram_id, context.admin_ids, data.event)
    view = await svc.get(context.db, data.event)
    locked = await svc.locked_out(context.db, profile.telegram_id, context.admin_ids, data.event)
    await toast(update, context)
    text = t("events.checkin_opened", code=code, title=_title(context, view))
    keyboard = None
    if locked:
        text += "\n\n" + t(
            "events.checkin_locked_out",
            count=len(locked),
            tries=svc.CHECKIN_TRIES,
            names=shorten(", ".join(locked), 600),
        )
        keyboard = kb.rows(
            [kb.button(t.plain("events.checkin_retry_button"), EventCheckinRetry(view.id).pack())]
        )
    await reply(update, context, text, keyboard)


async def allow_retry(update: Update, context: BotContext, data: EventCheckinRetry) -> None:
    """Let those locked out of the check-in type the code again."""
    profile = require_profile(context)
    count = await svc.allow_checkin_retry(
        context.db, profile.telegram_id, context.admin_ids, data.event
    )
    await toast(update, context)
    await _remove_keyboard(update)
    await reply(update, context, context.t("events.checkin_retry_done", count=count))


async def show_registrants(update: Update, context: BotContext, data: EventRegistrants) -> None:
    """List who registered: those with a place, the waiting list in order, those who left."""
    profile = require_profile(context)
    t = context.t
    people = await svc.registrants(context.db, profile.telegram_id, context.admin_ids, data.event)
    await toast(update, context)
    view = await svc.get(context.db, data.event)
    if not people:
        await reply(update, context, t("events.registrants_none", title=_title(context, view)))
        return
    lines = [t("events.registrants_title", title=_title(context, view), count=len(people))]
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
        t("events.cancel_confirm", title=_title(context, view), count=told),
        keyboard,
    )


async def confirm_cancel(update: Update, context: BotContext, data: EventCancelConfirm) -> None:
    """Cancel the event; registrants are told and their reminders dropped."""
    profile = require_profile(context)
    view, notices = await svc.cancel(
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
    await _remove_keyboard(update)
    told = view.registered + view.waiting
    await reply(
        update,
        context,
        context.t("events.cancelled_done", title=_title(context, view), count=told),
    )


# --- /recording ---------------------------------------------------------------------------------


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
    await _set_awaiting(context, waiting_for(RECORDING_ROUTE, data.event))
    await reply(
        update,
        context,
        context.t("events.ask_recording", title=_title(context, view), example=EXAMPLE_LINK),
    )


async def save_recording(update: Update, context: BotContext, argument: str) -> None:
    """Post the recording: those registered who did not come get the link, once each."""
    profile = require_profile(context)
    t = context.t
    view, notices = await svc.post_recording(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        int(argument),
        _typed(update),
        i18n=context.i18n,
        zone=context.settings.tz,
    )
    await _stop_waiting(context)
    count = 0
    if notices is not None:
        sent = await broadcast_service.get(context.db, notices)
        count = sent.total if sent is not None else 0
        context.broadcaster.start(notices)
    key = "events.recording_sent" if count else "events.recording_nobody"
    await reply(update, context, t(key, title=_title(context, view), count=count))
