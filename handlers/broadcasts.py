"""/broadcast and /broadcasts: coaches and organizers write to an audience, see progress.

The draft lives in the database (a `broadcast` row in state `draft`) and the input the bot
waits for is the user's `awaiting` value (`bc_content:<id>`, `bc_buttons:<id>`,
`bc_time:<id>`), so a restart in the middle of composing loses nothing. Every button is a
`bot.callbacks` kind carrying the draft's id; the service re-checks that the presser owns it,
and a refusal (not allowed, already sent) is answered on the button.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from telegram import Message, Update

from bot import keyboards as kb
from bot.audience_choice import audience_label, country_buttons, course_buttons, university_buttons
from bot.awaiting import int_argument, waiting_for
from bot.callbacks import (
    BroadcastAudience,
    BroadcastCancel,
    BroadcastCountries,
    BroadcastCourses,
    BroadcastDiscard,
    BroadcastEvents,
    BroadcastFailures,
    BroadcastNoButtons,
    BroadcastSchedule,
    BroadcastSend,
    BroadcastUniversities,
    Button,
)
from bot.context import BotContext
from bot.features import ButtonCallback, Features, InputRoute
from bot.jobs.broadcasts import SCHEDULED, link_buttons, render_progress
from bot.replies import reply, require_profile, shorten, toast
from bot.services import ServiceError
from bot.services import broadcasts as svc
from bot.services import events as event_service
from bot.services import users as user_service
from bot.services.audiences import Audience, course_audiences, event_ref, sender_university
from bot.services.broadcast_content import (
    Content,
    available_languages,
    build_content,
    parse_buttons,
)
from bot.services.broadcasts import BroadcastView
from bot.services.roles import Role
from bot.services.times import TIME_FORMAT, parse_local_time

SENDERS = (Role.ADMIN, Role.ORGANIZER, Role.COACH)

# What the bot waits for while composing; the argument is the draft's id.
CONTENT_ROUTE = "bc_content"
BUTTONS_ROUTE = "bc_buttons"
TIME_ROUTE = "bc_time"

B = TypeVar("B", bound=Button)


def register(features: Features) -> None:
    """Add /broadcast and /broadcasts."""
    features.command("broadcast", start_broadcast)
    features.command("broadcasts", list_broadcasts)
    features.button(BroadcastAudience, _refusals_toasted(choose_audience))
    features.button(BroadcastUniversities, _refusals_toasted(ask_university))
    features.button(BroadcastCountries, _refusals_toasted(ask_country))
    features.button(BroadcastCourses, _refusals_toasted(ask_course))
    features.button(BroadcastEvents, _refusals_toasted(ask_event))
    features.button(BroadcastNoButtons, _refusals_toasted(skip_buttons))
    features.button(BroadcastSend, _refusals_toasted(send_now))
    features.button(BroadcastSchedule, _refusals_toasted(ask_time))
    features.button(BroadcastDiscard, _refusals_toasted(discard))
    features.button(BroadcastCancel, _refusals_toasted(cancel))
    features.button(BroadcastFailures, _refusals_toasted(send_failures))
    features.file(CONTENT_ROUTE, _with_draft(save_content))
    features.text(CONTENT_ROUTE, _with_draft(save_content))
    features.text(BUTTONS_ROUTE, _with_draft(save_buttons))
    features.text(TIME_ROUTE, _with_draft(save_time))
    features.action("broadcast", start_broadcast)
    features.menu("broadcast", "menu.broadcast", "broadcast", SENDERS, position=50)
    features.help("help.coach", SENDERS)


def _refusals_toasted(callback: ButtonCallback[B]) -> ButtonCallback[B]:
    """Answer the service's refusal of a button (not allowed, already sent) on the button."""

    @functools.wraps(callback)
    async def run(update: Update, context: BotContext, data: B) -> None:
        try:
            await callback(update, context, data)
        except ServiceError as exc:
            await toast(update, context, context.t.plain(exc.key, **exc.values))

    return run


DraftStep = Callable[[Update, BotContext, int], Awaitable[None]]


def _with_draft(step: DraftStep) -> InputRoute:
    """Adapt a step taking the draft id to the route signature (the id is the argument)."""

    async def route(update: Update, context: BotContext, argument: str) -> None:
        draft = int_argument(argument)
        if draft is None:
            await reply(update, context, context.t("errors.not_understood"))
            return
        await step(update, context, draft)

    return route


async def _wait_for(context: BotContext, value: str | None) -> None:
    """Store what the bot waits for from the sender next (None: nothing)."""
    profile = require_profile(context)
    context.profile = await user_service.set_awaiting(
        context.db, profile.telegram_id, value, context.admin_ids
    )


async def start_broadcast(update: Update, context: BotContext) -> None:
    """Start composing a broadcast: ask for the audience (/broadcast)."""
    profile = require_profile(context)
    t = context.t
    if not svc.can_broadcast(profile.roles):
        await reply(update, context, t("errors.not_allowed"))
        return
    broadcast_id = await svc.create_draft(context.db, profile.telegram_id, context.admin_ids)
    buttons = [
        kb.button(
            t.plain("broadcasts.audience_all"),
            BroadcastAudience(broadcast_id, Audience.ALL.value).pack(),
        ),
        kb.button(
            t.plain("broadcasts.audience_university"),
            BroadcastUniversities(broadcast_id).pack(),
        ),
        kb.button(t.plain("broadcasts.audience_country"), BroadcastCountries(broadcast_id).pack()),
    ]
    if await course_audiences(context.db):
        buttons.append(
            kb.button(
                t.plain("broadcasts.audience_courses"), BroadcastCourses(broadcast_id).pack()
            )
        )
    if await event_service.audience_events(context.db, profile.telegram_id, context.admin_ids):
        buttons.append(
            kb.button(t.plain("broadcasts.audience_events"), BroadcastEvents(broadcast_id).pack())
        )
    buttons.append(kb.button(t.plain("broadcasts.discard"), BroadcastDiscard(broadcast_id).pack()))
    keyboard = kb.rows(buttons)
    await reply(update, context, t("broadcasts.choose_audience"), keyboard)


async def ask_university(update: Update, context: BotContext, data: BroadcastUniversities) -> None:
    """List the universities, to address the draft to one."""
    buttons = await university_buttons(
        context,
        lambda u: BroadcastAudience(data.broadcast, Audience.UNIVERSITY.value, str(u.id)).pack(),
    )
    await toast(update, context)
    await reply(update, context, context.t("broadcasts.choose_university"), kb.rows(buttons))


async def ask_country(update: Update, context: BotContext, data: BroadcastCountries) -> None:
    """List the countries, to address the draft to one."""
    await toast(update, context)
    buttons = country_buttons(
        context, lambda c: BroadcastAudience(data.broadcast, Audience.COUNTRY.value, c).pack()
    )
    await reply(
        update, context, context.t("broadcasts.choose_country"), kb.rows(buttons, per_row=3)
    )


async def ask_course(update: Update, context: BotContext, data: BroadcastCourses) -> None:
    """List the courses, each with two audiences: all its learners, those not finished yet.

    A sender scoped to a university is offered the learners at their university only.
    """
    t = context.t
    profile = require_profile(context)
    scope = await sender_university(context.db, profile.telegram_id, context.admin_ids)
    courses = await course_audiences(context.db, scope)
    await toast(update, context)
    if not courses:
        await reply(update, context, t("broadcasts.unknown_audience"))
        return
    buttons = course_buttons(
        context, courses, lambda kind, ref: BroadcastAudience(data.broadcast, kind, ref).pack()
    )
    await reply(update, context, t("broadcasts.choose_course"), kb.rows(buttons))


async def ask_event(update: Update, context: BotContext, data: BroadcastEvents) -> None:
    """List the sender's events, to address the registrants of one (with its waiting list).

    Those the sender manages; a sender scoped to a university: the events it hosts.
    """
    t = context.t
    profile = require_profile(context)
    views = await event_service.audience_events(context.db, profile.telegram_id, context.admin_ids)
    await toast(update, context)
    if not views:
        await reply(update, context, t("broadcasts.unknown_audience"))
        return
    keyboard = kb.rows(
        (
            kb.button(
                _event_label(context, view),
                BroadcastAudience(
                    data.broadcast,
                    Audience.EVENT.value,
                    event_ref(view.id, view.university_id),
                ).pack(),
            )
            for view in views[:EVENTS_LISTED]
        ),
        per_row=1,
    )
    await reply(update, context, t("broadcasts.choose_event"), keyboard)


EVENTS_LISTED = 10  # the newest; older events are rarely written to


def _event_label(context: BotContext, view: event_service.EventView) -> str:
    """An event on a button: its title and its local date."""
    title = shorten(view.title_in(context.t.language), 40)
    if view.starts_at is None:
        return title
    return f"{title} · {view.starts_at.astimezone(context.settings.tz):%d.%m.%Y}"


async def choose_audience(update: Update, context: BotContext, data: BroadcastAudience) -> None:
    """Address the draft to the chosen audience, then ask for the message."""
    profile = require_profile(context)
    t = context.t
    count = await svc.set_audience(
        context.db, profile.telegram_id, context.admin_ids, data.broadcast, data.audience, data.ref
    )
    await toast(update, context)
    await _remove_buttons(update)
    label = await audience_label(context, data.audience, data.ref)
    await _wait_for(context, waiting_for(CONTENT_ROUTE, data.broadcast))
    await reply(update, context, t("broadcasts.audience_set", audience=label, count=count))
    await reply(update, context, t("broadcasts.ask_content"))


def _content_of(message: Message) -> tuple[str, str | None, str | None, str | None]:
    """Kind, HTML text, file id and file name of the sender's message."""
    if message.photo:
        return "photo", message.caption_html, message.photo[-1].file_id, None
    if message.document:
        document = message.document
        return "document", message.caption_html, document.file_id, document.file_name
    if message.text:
        return "text", message.text_html, None, None
    return "unsupported", None, None, None


async def save_content(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Take the sender's message as the broadcast content, then ask for link buttons."""
    profile = require_profile(context)
    message = update.effective_message
    if message is None:
        return
    t = context.t
    kind, text, file_id, file_name = _content_of(message)
    try:
        content = build_content(kind, text, file_id, file_name)
        await svc.set_content(
            context.db, profile.telegram_id, context.admin_ids, broadcast_id, content
        )
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    await _wait_for(context, waiting_for(BUTTONS_ROUTE, broadcast_id))
    keyboard = kb.rows(
        [kb.button(t.plain("broadcasts.no_buttons"), BroadcastNoButtons(broadcast_id).pack())]
    )
    await reply(update, context, t("broadcasts.ask_buttons"), keyboard)


async def save_buttons(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Take `Label | https://link` lines as the broadcast's buttons, then preview."""
    profile = require_profile(context)
    message = update.effective_message
    if message is None:
        return
    try:
        buttons = parse_buttons(message.text or "")
        await svc.set_buttons(
            context.db, profile.telegram_id, context.admin_ids, broadcast_id, buttons
        )
    except ServiceError as exc:
        await reply(update, context, context.t(exc.key, **exc.values))
        return
    await _preview(update, context, broadcast_id)


async def skip_buttons(update: Update, context: BotContext, data: BroadcastNoButtons) -> None:
    """Leave the broadcast without link buttons, then preview."""
    profile = require_profile(context)
    await svc.set_buttons(context.db, profile.telegram_id, context.admin_ids, data.broadcast, ())
    await toast(update, context)
    await _preview(update, context, data.broadcast)


async def _send_sample(update: Update, context: BotContext, content: Content) -> None:
    """Show the message exactly as recipients in the sender's language will get it."""
    chat = update.effective_chat
    if chat is None:
        return
    text = content.text_for(context.t.language, context.settings.default_language)
    markup = link_buttons(content, context.t.language, context.settings.default_language)
    if content.kind == "photo":
        await context.bot.send_photo(
            chat.id, content.file_id or "", caption=text or None, reply_markup=markup
        )
    elif content.kind == "document":
        await context.bot.send_document(
            chat.id, content.file_id or "", caption=text or None, reply_markup=markup
        )
    else:
        await context.bot.send_message(chat.id, text, reply_markup=markup)


async def _preview(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Show the draft as it will arrive, its audience and count, and Send/Schedule/Discard."""
    profile = require_profile(context)
    t = context.t
    await _wait_for(context, None)
    draft, count = await svc.get_draft(
        context.db, profile.telegram_id, context.admin_ids, broadcast_id
    )
    if draft.content is None:  # get_draft refuses a draft without content
        return
    await reply(update, context, t("broadcasts.preview_intro"))
    await _send_sample(update, context, draft.content)
    languages = ", ".join(available_languages(draft.content)) or t.plain("broadcasts.one_text")
    audience = await audience_label(context, draft.audience_kind, draft.audience_ref)
    keyboard = kb.rows(
        [
            kb.button(
                t.plain("broadcasts.send_now", count=count), BroadcastSend(broadcast_id).pack()
            ),
            kb.button(t.plain("broadcasts.schedule"), BroadcastSchedule(broadcast_id).pack()),
            kb.button(t.plain("broadcasts.discard"), BroadcastDiscard(broadcast_id).pack()),
        ]
    )
    await reply(
        update,
        context,
        t("broadcasts.preview", audience=audience, count=count, languages=languages),
        keyboard,
    )


async def send_now(update: Update, context: BotContext, data: BroadcastSend) -> None:
    """Confirm the draft, show its progress message and start sending."""
    profile = require_profile(context)
    chat = update.effective_chat
    if chat is None:
        return
    broadcast_id = data.broadcast
    view = await svc.confirm(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        broadcast_id,
        default_language=context.settings.default_language,
        progress_chat_id=chat.id,
    )
    await _wait_for(context, None)  # a Schedule pressed before no longer waits for a time
    await toast(update, context)
    await _remove_buttons(update)
    text, keyboard = render_progress(view, context.t)
    progress = await context.bot.send_message(chat.id, text, reply_markup=keyboard)
    await svc.set_progress_message(context.db, broadcast_id, progress.chat_id, progress.message_id)
    context.broadcaster.start(broadcast_id)


async def _remove_buttons(update: Update) -> None:
    """Take the buttons off the preview so it cannot be pressed again."""
    query = update.callback_query
    if query is not None and query.message is not None:
        await query.edit_message_reply_markup(reply_markup=None)


async def ask_time(update: Update, context: BotContext, data: BroadcastSchedule) -> None:
    """Ask when to send the previewed draft."""
    profile = require_profile(context)
    await svc.get_draft(context.db, profile.telegram_id, context.admin_ids, data.broadcast)
    await toast(update, context)
    await _wait_for(context, waiting_for(TIME_ROUTE, data.broadcast))
    example = datetime.now(context.settings.tz).strftime(TIME_FORMAT)
    await reply(
        update,
        context,
        context.t("broadcasts.ask_time", zone=context.settings.timezone, example=example),
    )


async def save_time(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Schedule the broadcast for the typed time."""
    profile = require_profile(context)
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    t = context.t
    try:
        when = parse_local_time(message.text or "", context.settings.tz)
        view = await svc.confirm(
            context.db,
            profile.telegram_id,
            context.admin_ids,
            broadcast_id,
            default_language=context.settings.default_language,
            scheduled_at=when,
            progress_chat_id=chat.id,
        )
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    await _wait_for(context, None)
    scheduled_at = view.scheduled_at or when
    # The scheduled-broadcasts duty starts it; wake it at the very minute asked for.
    context.jobs.wake(SCHEDULED, scheduled_at)
    shown = scheduled_at.astimezone(context.settings.tz).strftime(TIME_FORMAT)
    keyboard = kb.rows([kb.button(t.plain("broadcasts.cancel"), BroadcastCancel(view.id).pack())])
    await reply(
        update,
        context,
        t(
            "broadcasts.scheduled",
            id=broadcast_id,
            time=shown,
            zone=context.settings.timezone,
            count=view.total,
        ),
        keyboard,
    )


async def discard(update: Update, context: BotContext, data: BroadcastDiscard) -> None:
    """Throw the draft away."""
    profile = require_profile(context)
    await svc.discard(context.db, profile.telegram_id, context.admin_ids, data.broadcast)
    await _wait_for(context, None)
    await toast(update, context)
    await _remove_buttons(update)
    await reply(update, context, context.t("broadcasts.discarded"))


async def cancel(update: Update, context: BotContext, data: BroadcastCancel) -> None:
    """Stop a scheduled or sending broadcast; its report says what was sent."""
    profile = require_profile(context)
    await svc.cancel(context.db, profile.telegram_id, context.admin_ids, data.broadcast)
    await toast(update, context, context.t.plain("broadcasts.cancelled"))
    await context.broadcaster.report(data.broadcast)


async def send_failures(update: Update, context: BotContext, data: BroadcastFailures) -> None:
    """Send the recipients the broadcast did not reach, as a spreadsheet file."""
    profile = require_profile(context)
    chat = update.effective_chat
    if chat is None:
        return
    broadcast_id = data.broadcast
    rows = await svc.failures(context.db, profile.telegram_id, context.admin_ids, broadcast_id)
    await toast(update, context)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["telegram_id", "first_name", "university", "state", "reason"])
    for row in rows:
        writer.writerow(
            [
                row.telegram_id,
                _cell(row.first_name),
                _cell(row.university or ""),
                row.state,
                _cell(row.reason or ""),
            ]
        )
    # UTF-8 with BOM so Excel shows Kazakh and Russian names correctly.
    data_bytes = buffer.getvalue().encode("utf-8-sig")
    await context.bot.send_document(
        chat.id,
        data_bytes,
        filename=f"broadcast-{broadcast_id}-failures.csv",
        caption=context.t("broadcasts.failures_caption", id=broadcast_id, count=len(rows)),
    )


def _cell(value: str) -> str:
    """A spreadsheet cell that Excel will not run as a formula (a name may start with =)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def _summary_line(view: BroadcastView, context: BotContext) -> str:
    """One entry of /broadcasts: number, time, state and figures, then its audience."""
    t = context.t
    when = view.started_at or view.scheduled_at
    shown = when.astimezone(context.settings.tz).strftime(TIME_FORMAT) if when else "—"
    audience = await audience_label(context, view.audience_kind, view.audience_ref)
    line = t(
        "broadcasts.list_line",
        id=view.id,
        time=shown,
        state=t.plain(f"broadcasts.state_{view.state.value}"),
        sent=view.counts.get("sent", 0),
        failed=view.counts.get("failed", 0)
        + view.counts.get("skipped", 0)
        + view.counts.get("uncertain", 0),
        total=view.total,
    )
    return line + "\n" + t("broadcasts.list_audience", audience=audience)


async def list_broadcasts(update: Update, context: BotContext) -> None:
    """List recent broadcasts with their figures (/broadcasts)."""
    profile = require_profile(context)
    t = context.t
    if not svc.can_broadcast(profile.roles):
        await reply(update, context, t("errors.not_allowed"))
        return
    views = await svc.list_recent(context.db, profile.telegram_id, context.admin_ids)
    if not views:
        await reply(update, context, t("broadcasts.none_yet"))
        return
    lines = [t("broadcasts.list_title")] + [await _summary_line(v, context) for v in views]
    buttons = [
        kb.button(t.plain("broadcasts.failures_of", id=v.id), BroadcastFailures(v.id).pack())
        for v in views
        if v.counts.get("failed", 0) + v.counts.get("skipped", 0) + v.counts.get("uncertain", 0)
    ]
    await reply(
        update, context, "\n".join(lines), kb.rows(buttons, per_row=2) if buttons else None
    )
