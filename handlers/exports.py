"""/export: organizers choose a dataset, filters and a format, and receive the file(s) in chat.

One message is the whole form: each button edits it in place and carries the complete request
(see `bot.services.exports.request`), so nothing is kept between taps. A long export edits the
message into a progress line every few seconds while a worker thread writes the file.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot import keyboards as kb
from bot.awaiting import waiting_for
from bot.context import BotContext
from bot.features import Features
from bot.i18n import Translator
from bot.jobs.background import research_key
from bot.replies import reply, safe_edit, send_file, shorten, status, toast
from bot.services import ServiceError, users
from bot.services import campaigns as campaign_service
from bot.services import exports as svc
from bot.services.exports import request as req
from bot.services.exports.common import options
from bot.services.roles import Role
from bot.services.universities import list_universities

DATES_ROUTE = "exd"


def register(features: Features) -> None:
    """Add /export."""
    features.command("export", start_export)
    features.handler(CallbackQueryHandler(export_button, pattern=r"^ex:"))
    features.text(DATES_ROUTE, save_dates_route)

PROGRESS_EVERY = 3.0  # seconds between progress edits


async def _scope(context: BotContext) -> tuple[str, ...] | None:
    assert context.profile is not None
    _, scope = await svc.exporter_scope(context.db, context.profile.telegram_id, context.admin_ids)
    return scope


async def _source_name(context: BotContext, source: str) -> str:
    t = context.t
    if source == "0":
        return t.plain("exports.all")
    number = int(source[1:])
    if source.startswith("i"):
        for choice in await req.instruments(context.db):
            if choice.id == number:
                return choice.label(t.language)
    return f"#{number}"


async def _form(context: BotContext, request: req.Request) -> tuple[str, InlineKeyboardMarkup]:
    """The form's text and buttons for `request`."""
    t = context.t
    profile = context.profile
    assert profile is not None
    scope = await _scope(context)
    unis = {u.id: u for u in await list_universities(context.db)}
    uni = unis.get(request.university)
    if scope is not None:
        university = ", ".join(u.name(t.language) for u in unis.values() if u.code in scope)
    else:
        university = uni.name(t.language) if uni else t.plain("exports.all")
    text = t(
        "exports.form",
        dataset=t.plain(f"exports.dataset.{request.dataset_name}"),
        source=await _source_name(context, request.source),
        university=university,
        country=t.plain("exports.all") if request.country == "0" else request.country,
        period=_period(t, request),
        format=request.format_name.upper(),
        identity=t.plain("exports.identified" if request.identified else "exports.pseudonymous"),
    )
    state = request.encode()
    buttons = [
        kb.button(t.plain("exports.field.dataset"), f"ex:{state}:m:d"),
        kb.button(t.plain("exports.field.source"), f"ex:{state}:m:s"),
    ]
    if scope is None:
        buttons += [
            kb.button(t.plain("exports.field.university"), f"ex:{state}:m:u"),
            kb.button(t.plain("exports.field.country"), f"ex:{state}:m:c"),
        ]
    buttons += [
        kb.button(t.plain("exports.field.period"), f"ex:{state}:m:p"),
        kb.button(t.plain("exports.field.format"), f"ex:{state}:m:f"),
    ]
    layout = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if profile.has(Role.ADMIN):
        flipped = request.but(identified=1 - request.identified).encode()
        key = "exports.make_pseudonymous" if request.identified else "exports.make_identified"
        layout.append([kb.button(t.plain(key), f"ex:{flipped}:s")])
    layout.append([kb.button(t.plain("exports.go"), f"ex:{state}:go")])
    return text, InlineKeyboardMarkup(layout)


def _period(t: Translator, request: req.Request) -> str:
    if request.period == req.CUSTOM:
        since, until = request.dates()
        if until is None:
            return t.plain("exports.period.from", since=str(since))
        return t.plain("exports.period.range", since=str(since), until=str(until))
    days = req.PERIODS[request.period]
    return t.plain("exports.period.days", days=days) if days else t.plain("exports.all")


async def _menu(
    context: BotContext, request: req.Request, field: str
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The choices for one field of the form; each button goes back to the form."""
    t = context.t
    choices: list[tuple[str, req.Request]] = []
    if field == "d":
        choices = [
            (t.plain(f"exports.dataset.{name}"), request.but(dataset=i))
            for i, name in enumerate(req.DATASETS)
        ]
    elif field == "s":
        choices = [(t.plain("exports.all"), request.but(source="0"))]
        for choice in await req.instruments(context.db):
            label = shorten(choice.label(t.language), 60)
            choices.append((label, request.but(source=f"i{choice.id}")))
        assert context.profile is not None
        for c in await campaign_service.figures(
            context.db, context.profile.telegram_id, context.admin_ids, 12
        ):
            label = f"#{c.id} {c.title.get(t.language) or c.title['en']} · {c.wave}"
            choices.append((shorten(label, 60), request.but(source=f"c{c.id}")))
    elif field == "u":
        choices = [(t.plain("exports.all"), request.but(university=0))]
        choices += [
            (shorten(u.name(t.language), 60), request.but(university=u.id))
            for u in await list_universities(context.db)
        ]
    elif field == "c":
        choices = [(t.plain("exports.all"), request.but(country="0"))]
        choices += [(c, request.but(country=c)) for c in await req.countries(context.db)]
    elif field == "p":
        choices = [
            (
                t.plain("exports.period.days", days=d) if d else t.plain("exports.all"),
                request.but(period=i),
            )
            for i, d in enumerate(req.PERIODS)
        ]
    elif field == "f":
        choices = [(f.upper(), request.but(fmt=i)) for i, f in enumerate(req.FORMATS)]
    else:
        return None
    buttons = [kb.button(label, f"ex:{choice.encode()}:s") for label, choice in choices]
    if field == "p":
        buttons.append(kb.button(t.plain("exports.period.type"), f"ex:{request.encode()}:d"))
    buttons.append(kb.button(t.plain("exports.back"), f"ex:{request.encode()}:s"))
    return t(f"exports.choose.{field}"), kb.rows(buttons, per_row=2 if field in "cpf" else 1)


async def start_export(update: Update, context: BotContext) -> None:
    """Show the export form (/export)."""
    profile = context.profile
    assert profile is not None
    if not profile.has(Role.ADMIN, Role.ORGANIZER):
        await reply(update, context, context.t("errors.not_allowed"))
        return
    if await _scope(context) == ():  # held to universities that no longer exist
        await reply(update, context, context.t("exports.no_scope"))
        return
    text, keyboard = await _form(context, req.Request())
    await reply(update, context, text, keyboard)


async def export_button(update: Update, context: BotContext) -> None:
    """A tap on the form: open a menu, apply a choice, or run the export."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.profile is not None
    t = context.t
    if not context.profile.has(Role.ADMIN, Role.ORGANIZER):
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    parts = query.data.split(":")
    request = req.Request.decode(parts[1]) if len(parts) >= 3 else None
    if request is None:
        await toast(update, context, t.plain("errors.stale_button"))
        return
    if request.identified and not context.profile.has(Role.ADMIN):
        await toast(update, context, t.plain("exports.identified_admins_only"))
        return
    action = parts[2:]
    if action == ["s"]:
        await toast(update, context)
        await safe_edit(update, *await _form(context, request))
    elif (
        len(action) == 2
        and action[0] == "m"
        and (menu := await _menu(context, request, action[1]))
    ):
        await toast(update, context)
        await safe_edit(update, *menu)
    elif action == ["d"]:
        await toast(update, context)
        await users.set_awaiting(
            context.db,
            context.profile.telegram_id,
            waiting_for(DATES_ROUTE, request.compact()),
            context.admin_ids,
        )
        await safe_edit(update, t("exports.ask_dates"))
    elif action == ["go"]:
        if not context.background.start(
            research_key(context.profile.telegram_id), lambda: _run(update, context, request)
        ):
            await toast(update, context, t.plain("exports.busy"))
            return
        await toast(update, context, t.plain("exports.working"))
    else:
        await toast(update, context, t.plain("errors.stale_button"))


async def save_dates_route(update: Update, context: BotContext, argument: str) -> None:
    """Take typed dates for the export request waiting for them (its compact form)."""
    request = req.Request.from_compact(argument)
    if request is None:
        await reply(update, context, context.t("errors.not_understood"))
        return
    await save_dates(update, context, request)


async def save_dates(update: Update, context: BotContext, request: req.Request) -> None:
    """Take the typed period and show the form again with it."""
    message = update.effective_message
    assert message is not None and message.text is not None and context.profile is not None
    t = context.t
    try:
        since, until = req.parse_period(message.text)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    await users.set_awaiting(context.db, context.profile.telegram_id, None, context.admin_ids)
    chosen = request.but(period=req.CUSTOM, since=since, until=until)
    try:
        await reply(update, context, *await _form(context, chosen))
    except ServiceError as exc:  # the role was taken away while the dates were typed
        await reply(update, context, t(exc.key, **exc.values))


async def _run(update: Update, context: BotContext, request: req.Request) -> None:
    """Write the export in a worker thread, showing progress, then send the file(s)."""
    t = context.t
    profile = context.profile
    chat = update.effective_chat
    assert profile is not None and chat is not None
    name = t.plain(f"exports.dataset.{request.dataset_name}")
    await status(update, t("exports.progress", dataset=name, rows=0))
    rows = [0]
    loop = asyncio.get_running_loop()
    finished = asyncio.Event()

    def progress(count: int) -> None:  # called on the worker thread
        loop.call_soon_threadsafe(rows.__setitem__, 0, count)

    async def report() -> None:
        shown = 0
        while not finished.is_set():
            try:
                await asyncio.wait_for(finished.wait(), PROGRESS_EVERY)
            except TimeoutError:
                if rows[0] != shown:
                    shown = rows[0]
                    await status(update, t("exports.progress", dataset=name, rows=shown))

    reporter = asyncio.create_task(report())
    with tempfile.TemporaryDirectory() as folder:
        try:
            filters = await req.filters_of(context.db, request, datetime.now(UTC).date())
            files, written = await svc.export_for_chat(
                context.db,
                svc.url_of(context.db),
                profile.telegram_id,
                context.admin_ids,
                request.dataset_name,
                request.format_name,
                filters,
                options(context.settings, t.language, bool(request.identified)),
                Path(folder),
                progress,
            )
        except ServiceError as exc:
            await status(update, t(exc.key, **exc.values))
            return
        except Exception:
            await status(update, t("errors.internal"))
            raise
        finally:
            finished.set()
            await reporter
        if not files:
            await status(update, t("exports.nothing"))
            return
        await status(
            update,
            t(
                "exports.done",
                dataset=name,
                rows=written.rows,
                format=request.format_name.upper(),
                files=len(files),
            ),
        )
        caption = _caption(t, request, written.rows)
        for path in files:
            await send_file(context, chat.id, path, caption)


def _caption(t: Translator, request: req.Request, rows: int) -> str:
    key = "exports.caption_identified" if request.identified else "exports.caption"
    return t(key, rows=rows, dataset=t.plain(f"exports.dataset.{request.dataset_name}"))
