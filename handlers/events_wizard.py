"""Scheduling an event in chat: the /new_event wizard, its preview and Publish.

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
and a draft left with /cancel is taken up again from /my_events (its Continue button,
`EventResume`) where it stopped. Bad input is explained by the service's message and the bot
keeps waiting for the same step.

Managing published events is `handlers.events_manage`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.helpers import create_deep_linked_url

from bot import keyboards as kb
from bot.audience_choice import (
    audience_label,
    country_buttons,
    course_buttons,
    university_buttons,
)
from bot.awaiting import waiting_for
from bot.callbacks import (
    AudienceList,
    EventAudience,
    EventAudienceList,
    EventDefaultReminders,
    EventDiscard,
    EventDuration,
    EventHost,
    EventNewKind,
    EventNoDescription,
    EventNoLimit,
    EventPublish,
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
from bot.jobs.broadcasts import render_progress
from bot.replies import reply, require_profile, toast
from bot.services import InvalidInput
from bot.services import broadcasts as broadcast_service
from bot.services import event_authoring as authoring
from bot.services import events as svc
from bot.services.audiences import Audience, CourseAudience, course_audiences, sender_university
from bot.services.event_times import (
    DEFAULT_OFFSETS,
    example_when,
    parse_capacity,
    parse_duration,
    parse_offsets,
    parse_when,
)
from bot.services.events import (
    SCHEDULERS,
    EventState,
    EventView,
    Kind,
    card,
    duration_text,
    zone_named,
)

TITLE_ROUTE = "ev_title"
DESCRIPTION_ROUTE = "ev_desc"
WHEN_ROUTE = "ev_when"
DURATION_ROUTE = "ev_duration"
LINK_ROUTE = "ev_link"
CAPACITY_ROUTE = "ev_capacity"
REMINDERS_ROUTE = "ev_reminders"
ROUTES = (
    TITLE_ROUTE,
    DESCRIPTION_ROUTE,
    WHEN_ROUTE,
    DURATION_ROUTE,
    LINK_ROUTE,
    CAPACITY_ROUTE,
    REMINDERS_ROUTE,
)
# Refusals of typed input that another try cannot mend: the bot stops waiting.
FINAL_REFUSALS = frozenset(
    {"events.not_draft", "events.cancelled", "events.ended", "events.not_ended"}
)
DURATIONS = (45, 60, 90, 120)  # minutes offered as buttons
KIND_LABELS = svc.KIND_LABELS
LABEL_MAX = 60
EXAMPLE_LINK = "https://zoom.us/j/123456789"


def register(features: Features) -> None:
    """Add /new_event and the wizard's buttons and steps."""
    features.command("new_event", new_event)
    features.button(EventNewKind, answered_refusals(choose_kind))
    features.button(EventNoDescription, answered_refusals(skip_description))
    features.button(EventDuration, answered_refusals(choose_duration))
    features.button(EventHost, answered_refusals(choose_host))
    features.button(EventAudienceList, answered_refusals(list_audiences))
    features.button(EventAudience, answered_refusals(choose_audience))
    features.button(EventNoLimit, answered_refusals(no_limit))
    features.button(EventDefaultReminders, answered_refusals(default_reminders))
    features.button(EventPublish, answered_refusals(publish))
    features.button(EventDiscard, answered_refusals(discard))
    features.button(EventResume, answered_refusals(resume_button))
    features.text(TITLE_ROUTE, id_route(save_title, FINAL_REFUSALS))
    features.text(DESCRIPTION_ROUTE, id_route(save_description, FINAL_REFUSALS))
    features.text(WHEN_ROUTE, id_route(save_when, FINAL_REFUSALS))
    features.text(DURATION_ROUTE, id_route(save_duration, FINAL_REFUSALS))
    features.text(LINK_ROUTE, id_route(save_link, FINAL_REFUSALS))
    features.text(CAPACITY_ROUTE, id_route(save_capacity, FINAL_REFUSALS))
    features.text(REMINDERS_ROUTE, id_route(save_reminders, FINAL_REFUSALS))
    features.action("new_event", new_event)
    features.menu("new_event", "menu.new_event", "new_event", SCHEDULERS, position=55)


def _now() -> datetime:
    return datetime.now(UTC)


async def _update(context: BotContext, event_id: int, **fields: Any) -> EventView:
    """Set fields of the draft (the service checks each and refuses bad ones)."""
    profile = require_profile(context)
    return await authoring.update_draft(
        context.db, profile.telegram_id, context.admin_ids, event_id, **fields
    )


# --- the wizard -------------------------------------------------------------------------------


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
    view = await authoring.create_draft(
        context.db, profile.telegram_id, context.admin_ids, data.kind
    )
    await toast(update, context)
    await remove_keyboard(update)
    await _ask(update, context, view.id, TITLE_ROUTE)


async def _ask(update: Update, context: BotContext, event_id: int, route: str) -> None:
    """Ask for the wizard step `route` (typed, with buttons where there are choices)."""
    t = context.t
    await set_awaiting(context, waiting_for(route, event_id))
    keyboard: InlineKeyboardMarkup | None = None
    if route == TITLE_ROUTE:
        text = t("events.ask_title")
    elif route == DESCRIPTION_ROUTE:
        text = t("events.ask_description")
        keyboard = kb.rows(
            [kb.button(t.plain("events.no_description"), EventNoDescription(event_id).pack())]
        )
    elif route == WHEN_ROUTE:
        text = t(
            "events.ask_when",
            zone=context.settings.timezone,
            example=example_when(context.settings.tz),
        )
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


def _offsets_text(context: BotContext, offsets: tuple[int, ...]) -> str:
    """Reminder offsets as people read them: `1 d, 1 h, 10 min`."""
    return ", ".join(duration_text(minutes, context.t) for minutes in offsets)


async def save_title(update: Update, context: BotContext, event_id: int) -> None:
    """Take the title (one line per language), then ask for the description."""
    await _update(context, event_id, title=typed_text(update))
    await _ask(update, context, event_id, DESCRIPTION_ROUTE)


async def save_description(update: Update, context: BotContext, event_id: int) -> None:
    """Take the description, then ask for the date and time."""
    await _update(context, event_id, description=typed_text(update))
    await _ask(update, context, event_id, WHEN_ROUTE)


async def skip_description(update: Update, context: BotContext, data: EventNoDescription) -> None:
    """No description: ask for the date and time."""
    await _update(context, data.event, description="")
    await toast(update, context)
    await remove_keyboard(update)
    await _ask(update, context, data.event, WHEN_ROUTE)


async def save_when(update: Update, context: BotContext, event_id: int) -> None:
    """Take the date and time (in the bot's zone; a past one is refused), then the duration."""
    starts_at = parse_when(typed_text(update), context.settings.tz, _now())
    await _update(context, event_id, starts_at=starts_at)
    await _ask(update, context, event_id, DURATION_ROUTE)


async def save_duration(update: Update, context: BotContext, event_id: int) -> None:
    """Take a typed duration, then ask for the join link."""
    await _update(context, event_id, duration_minutes=parse_duration(typed_text(update)))
    await _ask(update, context, event_id, LINK_ROUTE)


async def choose_duration(update: Update, context: BotContext, data: EventDuration) -> None:
    """Take the duration of the button, then ask for the join link."""
    await _update(context, data.event, duration_minutes=data.minutes)
    await toast(update, context)
    await remove_keyboard(update)
    await _ask(update, context, data.event, LINK_ROUTE)


async def save_link(update: Update, context: BotContext, event_id: int) -> None:
    """Take the join link (checked by the service), then ask for the hosting university."""
    view = await _update(context, event_id, join_url=typed_text(update))
    await _ask_host(update, context, view)


async def _ask_host(update: Update, context: BotContext, view: EventView) -> None:
    """Offer the universities as hosts; a sender of one university hosts at it (no question)."""
    profile = require_profile(context)
    await set_awaiting(context, None)
    scope = await sender_university(context.db, profile.telegram_id, context.admin_ids)
    if scope is not None:
        await _ask_audience(update, context, view.id)
        return
    buttons = await university_buttons(
        context, lambda u: EventHost(view.id, u.id).pack(), marked=view.university_id
    )
    await reply(update, context, context.t("events.ask_host"), kb.rows(buttons))


async def choose_host(update: Update, context: BotContext, data: EventHost) -> None:
    """Take the hosting university, then ask for the audience."""
    await _update(context, data.event, university_id=data.university)
    await toast(update, context)
    await remove_keyboard(update)
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
        label = await audience_label(context, Audience.UNIVERSITY.value, str(scope))
        buttons.append(
            kb.button(label, EventAudience(event_id, Audience.UNIVERSITY.value, str(scope)).pack())
        )
        buttons += _course_buttons(context, event_id, await course_audiences(context.db, scope))
    await reply(update, context, t("events.ask_audience"), kb.rows(buttons))


def _course_buttons(
    context: BotContext, event_id: int, courses: list[CourseAudience]
) -> list[InlineKeyboardButton]:
    """A button per course and kind (all learners, those not finished)."""
    return course_buttons(
        context,
        courses,
        lambda kind, ref: EventAudience(event_id, kind, ref).pack(),
        label_max=LABEL_MAX,
    )


async def list_audiences(update: Update, context: BotContext, data: EventAudienceList) -> None:
    """List the universities, the countries or the courses, to choose one as the audience."""
    t = context.t
    await toast(update, context)
    if data.what is AudienceList.UNIVERSITY:
        buttons = await university_buttons(
            context,
            lambda u: EventAudience(data.event, Audience.UNIVERSITY.value, str(u.id)).pack(),
        )
        await reply(update, context, t("broadcasts.choose_university"), kb.rows(buttons))
    elif data.what is AudienceList.COUNTRY:
        buttons = country_buttons(
            context, lambda c: EventAudience(data.event, Audience.COUNTRY.value, c).pack()
        )
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


async def choose_audience(update: Update, context: BotContext, data: EventAudience) -> None:
    """Take the audience (the service refuses one beyond the sender's scope), then the places."""
    await _update(context, data.event, audience_kind=data.audience, audience_ref=data.ref)
    await toast(update, context)
    await remove_keyboard(update)
    await _ask(update, context, data.event, CAPACITY_ROUTE)


async def save_capacity(update: Update, context: BotContext, event_id: int) -> None:
    """Take the number of places (`-`: no limit; zero is refused), then the reminders."""
    await _update(context, event_id, capacity=parse_capacity(typed_text(update)))
    await _ask(update, context, event_id, REMINDERS_ROUTE)


async def no_limit(update: Update, context: BotContext, data: EventNoLimit) -> None:
    """No limit on places, then the reminders."""
    await _update(context, data.event, capacity=None)
    await toast(update, context)
    await remove_keyboard(update)
    await _ask(update, context, data.event, REMINDERS_ROUTE)


async def save_reminders(update: Update, context: BotContext, event_id: int) -> None:
    """Take typed reminder offsets, then show the preview."""
    view = await _update(context, event_id, reminder_offsets=parse_offsets(typed_text(update)))
    await _preview(update, context, view)


async def default_reminders(
    update: Update, context: BotContext, data: EventDefaultReminders
) -> None:
    """The default reminders (24 h, 1 h, 10 min before), then the preview."""
    view = await _update(context, data.event, reminder_offsets=DEFAULT_OFFSETS)
    await toast(update, context)
    await remove_keyboard(update)
    await _preview(update, context, view)


# --- preview, publish, discard, resume --------------------------------------------------------


async def _details(context: BotContext, view: EventView) -> str:
    """What the organizer checks before publishing: link, audience, places, reminders."""
    t = context.t
    audience = await audience_label(context, view.audience_kind, view.audience_ref)
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
    await set_awaiting(context, None)
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
    view, broadcast_id = await authoring.publish(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        data.event,
        i18n=context.i18n,
        zone=context.settings.tz,
    )
    await stop_waiting(context, ROUTES)
    await toast(update, context)
    await remove_keyboard(update)
    link = create_deep_linked_url(context.bot.username, f"e-{view.code}")
    await reply(
        update, context, t("events.published", title=view.name_in(context.t.language), link=link)
    )
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
    await authoring.cancel(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        data.event,
        i18n=context.i18n,
        zone=context.settings.tz,
    )
    await stop_waiting(context, ROUTES)
    await toast(update, context)
    await remove_keyboard(update)
    await reply(update, context, context.t("events.discarded"))


async def resume_button(update: Update, context: BotContext, data: EventResume) -> None:
    """Take a draft up again where it stopped (from /my_events)."""
    profile = require_profile(context)
    view = await svc.managed(context.db, profile.telegram_id, context.admin_ids, data.event)
    if view.state is not EventState.DRAFT:
        raise InvalidInput("events.not_draft")
    await toast(update, context)
    await _resume(update, context, view)
