"""/broadcast and /broadcasts: coaches and organizers write to an audience, see progress.

The draft lives in the database (a `broadcast` row in state `draft`) and the input the bot
waits for is the user's `awaiting` column (`bc_content:<id>`, `bc_buttons:<id>`,
`bc_time:<id>`), so a restart in the middle of composing loses nothing. Callback data carries
the draft id; the service re-checks that the presser owns it.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler

from bot import keyboards as kb
from bot.awaiting import int_argument
from bot.context import BotContext
from bot.features import Features, InputRoute
from bot.jobs.broadcasts import link_buttons, render_progress
from bot.replies import reply, toast
from bot.services import ServiceError
from bot.services import broadcasts as svc
from bot.services import universities as university_service
from bot.services import users as user_service
from bot.services.broadcasts import Audience, BroadcastView, Content
from bot.services.roles import Role
from bot.services.times import TIME_FORMAT, parse_local_time
from bot.services.universities import COUNTRIES

SENDERS = (Role.ADMIN, Role.ORGANIZER, Role.COACH)


def register(features: Features) -> None:
    """Add /broadcast and /broadcasts."""
    features.command("broadcast", start_broadcast)
    features.command("broadcasts", list_broadcasts)
    features.handler(CallbackQueryHandler(broadcast_button, pattern=r"^bc:"))
    features.file("bc_content", _with_draft(save_content))
    features.text("bc_content", _with_draft(save_content))
    features.text("bc_buttons", _with_draft(save_buttons))
    features.text("bc_time", _with_draft(save_time))
    features.action("broadcast", start_broadcast)
    features.menu("broadcast", "menu.broadcast", "broadcast", SENDERS, position=50)
    features.help("help.coach", SENDERS)


def _with_draft(step: object) -> InputRoute:
    """Adapt a step taking the draft id to the route signature (the id is the argument)."""

    async def route(update: Update, context: BotContext, argument: str) -> None:
        draft = int_argument(argument)
        if draft is None:
            await reply(update, context, context.t("errors.not_understood"))
            return
        await step(update, context, draft)  # type: ignore[operator]

    return route


def _awaiting(kind: str, broadcast_id: int) -> str:
    return f"bc_{kind}:{broadcast_id}"


async def _wait_for(context: BotContext, value: str | None) -> None:
    assert context.profile is not None
    context.profile = await user_service.set_awaiting(
        context.db, context.profile.telegram_id, value, context.admin_ids
    )


async def start_broadcast(update: Update, context: BotContext) -> None:
    """Start composing a broadcast: ask for the audience (/broadcast)."""
    profile = context.profile
    assert profile is not None
    t = context.t
    if not svc.can_broadcast(profile.roles):
        await reply(update, context, t("errors.not_allowed"))
        return
    broadcast_id = await svc.create_draft(context.db, profile.telegram_id, context.admin_ids)
    keyboard = kb.rows(
        [
            kb.button(t.plain("broadcasts.audience_all"), f"bc:a:{broadcast_id}:all"),
            kb.button(t.plain("broadcasts.audience_university"), f"bc:u:{broadcast_id}"),
            kb.button(t.plain("broadcasts.audience_country"), f"bc:k:{broadcast_id}"),
            kb.button(t.plain("broadcasts.discard"), f"bc:d:{broadcast_id}"),
        ]
    )
    await reply(update, context, t("broadcasts.choose_audience"), keyboard)


async def broadcast_button(update: Update, context: BotContext) -> None:
    """Handle every broadcast button: audience, skip, send, schedule, cancel, failures."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.profile is not None
    parts = query.data.split(":")
    action = parts[1] if len(parts) > 2 else ""
    broadcast_id = kb.parse_int(parts[2]) if len(parts) > 2 else None
    routes = {
        "a": _choose_audience,
        "u": _ask_university,
        "k": _ask_country,
        "s": _skip_buttons,
        "go": _send_now,
        "t": _ask_time,
        "d": _discard,
        "x": _cancel,
        "f": _failures,
    }
    route = routes.get(action)
    if route is None or broadcast_id is None:
        await toast(update, context, context.t.plain("errors.stale_button"))
        return
    try:
        await route(update, context, broadcast_id, parts[3:])
    except ServiceError as exc:
        await toast(update, context, context.t.plain(exc.key, **exc.values))


async def _ask_university(
    update: Update, context: BotContext, broadcast_id: int, _rest: list[str]
) -> None:
    t = context.t
    universities = await university_service.list_universities(context.db)
    await toast(update, context)
    keyboard = kb.rows(
        kb.button(
            f"{kb.COUNTRY_FLAGS.get(u.country, '')} {u.name(t.language)}".strip(),
            f"bc:a:{broadcast_id}:university:{u.id}",
        )
        for u in universities
    )
    await reply(update, context, t("broadcasts.choose_university"), keyboard)


async def _ask_country(
    update: Update, context: BotContext, broadcast_id: int, _rest: list[str]
) -> None:
    t = context.t
    await toast(update, context)
    keyboard = kb.rows(
        (
            kb.button(
                f"{kb.COUNTRY_FLAGS[c]} {t.plain(f'countries.{c}')}",
                f"bc:a:{broadcast_id}:country:{c}",
            )
            for c in COUNTRIES
        ),
        per_row=3,
    )
    await reply(update, context, t("broadcasts.choose_country"), keyboard)


async def _audience_label(context: BotContext, kind: str | None, ref: str | None) -> str:
    t = context.t
    if kind == Audience.UNIVERSITY:
        for u in await university_service.list_universities(context.db, include_hidden=True):
            if str(u.id) == ref:
                return u.name(t.language)
    if kind == Audience.COUNTRY and ref in COUNTRIES:
        return t.plain(f"countries.{ref}")
    return t.plain("broadcasts.audience_all")


async def _choose_audience(
    update: Update, context: BotContext, broadcast_id: int, rest: list[str]
) -> None:
    assert context.profile is not None
    t = context.t
    kind = rest[0] if rest else ""
    ref = rest[1] if len(rest) > 1 else None
    count = await svc.set_audience(
        context.db, context.profile.telegram_id, context.admin_ids, broadcast_id, kind, ref
    )
    await toast(update, context)
    await _remove_buttons(update)
    label = await _audience_label(context, kind, ref)
    await _wait_for(context, _awaiting("content", broadcast_id))
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
    message = update.effective_message
    assert message is not None and context.profile is not None
    t = context.t
    kind, text, file_id, file_name = _content_of(message)
    try:
        content = svc.build_content(kind, text, file_id, file_name)
        await svc.set_content(
            context.db, context.profile.telegram_id, context.admin_ids, broadcast_id, content
        )
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    await _wait_for(context, _awaiting("buttons", broadcast_id))
    keyboard = kb.rows([kb.button(t.plain("broadcasts.no_buttons"), f"bc:s:{broadcast_id}")])
    await reply(update, context, t("broadcasts.ask_buttons"), keyboard)


async def save_buttons(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Take `Label | https://link` lines as the broadcast's buttons, then preview."""
    message = update.effective_message
    assert message is not None and context.profile is not None
    try:
        buttons = svc.parse_buttons(message.text or "")
        await svc.set_buttons(
            context.db, context.profile.telegram_id, context.admin_ids, broadcast_id, buttons
        )
    except ServiceError as exc:
        await reply(update, context, context.t(exc.key, **exc.values))
        return
    await _preview(update, context, broadcast_id)


async def _skip_buttons(
    update: Update, context: BotContext, broadcast_id: int, _rest: list[str]
) -> None:
    assert context.profile is not None
    await svc.set_buttons(
        context.db, context.profile.telegram_id, context.admin_ids, broadcast_id, ()
    )
    await toast(update, context)
    await _preview(update, context, broadcast_id)


async def _send_sample(update: Update, context: BotContext, content: Content) -> None:
    """Show the message exactly as recipients in the sender's language will get it."""
    chat = update.effective_chat
    assert chat is not None
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
    assert context.profile is not None
    t = context.t
    await _wait_for(context, None)
    draft, count = await svc.get_draft(
        context.db, context.profile.telegram_id, context.admin_ids, broadcast_id
    )
    assert draft.content is not None
    await reply(update, context, t("broadcasts.preview_intro"))
    await _send_sample(update, context, draft.content)
    languages = ", ".join(svc.available_languages(draft.content)) or t.plain("broadcasts.one_text")
    audience = await _audience_label(context, draft.audience_kind, draft.audience_ref)
    keyboard = kb.rows(
        [
            kb.button(t.plain("broadcasts.send_now", count=count), f"bc:go:{broadcast_id}"),
            kb.button(t.plain("broadcasts.schedule"), f"bc:t:{broadcast_id}"),
            kb.button(t.plain("broadcasts.discard"), f"bc:d:{broadcast_id}"),
        ]
    )
    await reply(
        update,
        context,
        t("broadcasts.preview", audience=audience, count=count, languages=languages),
        keyboard,
    )


async def _send_now(
    update: Update, context: BotContext, broadcast_id: int, _rest: list[str]
) -> None:
    assert context.profile is not None and update.effective_chat is not None
    view = await svc.confirm(
        context.db,
        context.profile.telegram_id,
        context.admin_ids,
        broadcast_id,
        default_language=context.settings.default_language,
        progress_chat_id=update.effective_chat.id,
    )
    await _wait_for(context, None)  # a Schedule pressed before no longer waits for a time
    await toast(update, context)
    await _remove_buttons(update)
    text, keyboard = render_progress(view, context.t)
    progress = await context.bot.send_message(
        update.effective_chat.id, text, reply_markup=keyboard
    )
    await svc.set_progress_message(context.db, broadcast_id, progress.chat_id, progress.message_id)
    context.broadcaster.start(broadcast_id)


async def _remove_buttons(update: Update) -> None:
    """Take the buttons off the preview so it cannot be pressed again."""
    query = update.callback_query
    if query is not None and query.message is not None:
        await query.edit_message_reply_markup(reply_markup=None)


async def _ask_time(
    update: Update, context: BotContext, broadcast_id: int, _rest: list[str]
) -> None:
    assert context.profile is not None
    await svc.get_draft(context.db, context.profile.telegram_id, context.admin_ids, broadcast_id)
    await toast(update, context)
    await _wait_for(context, _awaiting("time", broadcast_id))
    example = datetime.now(context.settings.tz).strftime(TIME_FORMAT)
    await reply(
        update,
        context,
        context.t("broadcasts.ask_time", zone=context.settings.timezone, example=example),
    )


async def save_time(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Schedule the broadcast for the typed time."""
    message = update.effective_message
    assert message is not None and context.profile is not None
    assert update.effective_chat is not None
    t = context.t
    try:
        when = parse_local_time(message.text or "", context.settings.tz)
        view = await svc.confirm(
            context.db,
            context.profile.telegram_id,
            context.admin_ids,
            broadcast_id,
            default_language=context.settings.default_language,
            scheduled_at=when,
            progress_chat_id=update.effective_chat.id,
        )
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    await _wait_for(context, None)
    assert view.scheduled_at is not None
    context.broadcaster.schedule(broadcast_id, view.scheduled_at)
    shown = view.scheduled_at.astimezone(context.settings.tz).strftime(TIME_FORMAT)
    keyboard = kb.rows([kb.button(t.plain("broadcasts.cancel"), f"bc:x:{broadcast_id}")])
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


async def _discard(
    update: Update, context: BotContext, broadcast_id: int, _rest: list[str]
) -> None:
    assert context.profile is not None
    await svc.discard(context.db, context.profile.telegram_id, context.admin_ids, broadcast_id)
    await _wait_for(context, None)
    await toast(update, context)
    await _remove_buttons(update)
    await reply(update, context, context.t("broadcasts.discarded"))


async def _cancel(
    update: Update, context: BotContext, broadcast_id: int, _rest: list[str]
) -> None:
    assert context.profile is not None
    await svc.cancel(context.db, context.profile.telegram_id, context.admin_ids, broadcast_id)
    await toast(update, context, context.t.plain("broadcasts.cancelled"))
    await context.broadcaster.report(broadcast_id)


async def _failures(
    update: Update, context: BotContext, broadcast_id: int, _rest: list[str]
) -> None:
    assert context.profile is not None and update.effective_chat is not None
    rows = await svc.failures(
        context.db, context.profile.telegram_id, context.admin_ids, broadcast_id
    )
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
    data = buffer.getvalue().encode("utf-8-sig")
    await context.bot.send_document(
        update.effective_chat.id,
        data,
        filename=f"broadcast-{broadcast_id}-failures.csv",
        caption=context.t("broadcasts.failures_caption", id=broadcast_id, count=len(rows)),
    )


def _cell(value: str) -> str:
    """A spreadsheet cell that Excel will not run as a formula (a name may start with =)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _summary_line(view: BroadcastView, context: BotContext) -> str:
    t = context.t
    when = view.started_at or view.scheduled_at
    shown = when.astimezone(context.settings.tz).strftime(TIME_FORMAT) if when else "—"
    return t(
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


async def list_broadcasts(update: Update, context: BotContext) -> None:
    """List recent broadcasts with their figures (/broadcasts)."""
    profile = context.profile
    assert profile is not None
    t = context.t
    if not svc.can_broadcast(profile.roles):
        await reply(update, context, t("errors.not_allowed"))
        return
    views = await svc.list_recent(context.db, profile.telegram_id, context.admin_ids)
    if not views:
        await reply(update, context, t("broadcasts.none_yet"))
        return
    lines = [t("broadcasts.list_title")] + [_summary_line(v, context) for v in views]
    buttons = [
        kb.button(t.plain("broadcasts.failures_of", id=v.id), f"bc:f:{v.id}")
        for v in views
        if v.counts.get("failed", 0) + v.counts.get("skipped", 0) + v.counts.get("uncertain", 0)
    ]
    await reply(
        update, context, "\n".join(lines), kb.rows(buttons, per_row=2) if buttons else None
    )
