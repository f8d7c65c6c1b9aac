"""/export: organizers choose a dataset, filters and a format, and receive the file(s) in chat.

One message is the whole form: each button edits it in place and carries the complete request
(`bot.services.exports.request`) as a field of its `bot.callbacks.Export*` data, so nothing is
kept between taps. A long export edits the
message into a progress line every few seconds while a worker thread writes the file.

With a contest dataset chosen, the form also offers the contest's entries with their files as a
ZIP (`bot.services.contest_bundle`): pick the contest, and the files are downloaded from
Telegram one by one (a progress line again), zipped with a manifest and sent, in numbered parts
past Telegram's upload limit.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from telegram import InlineKeyboardMarkup, Update

from bot import keyboards as kb
from bot.awaiting import waiting_for
from bot.callbacks import (
    ContestBundleList,
    ContestBundleRun,
    ExportDates,
    ExportField,
    ExportMenu,
    ExportRun,
    ExportShow,
)
from bot.context import BotContext
from bot.downloads import fetcher
from bot.errors import background_reporter
from bot.features import Features
from bot.i18n import Translator
from bot.jobs.background import research_key
from bot.replies import (
    reply,
    require_profile,
    safe_edit,
    send_file,
    shorten,
    stale_button,
    status,
    toast,
)
from bot.services import ServiceError, contest_bundle, users
from bot.services import campaigns as campaign_service
from bot.services import exports as svc
from bot.services.contest import pick
from bot.services.exports import request as req
from bot.services.exports.common import options
from bot.services.roles import Role
from bot.services.universities import list_universities

DATES_ROUTE = "exd"
PROGRESS_EVERY = 3.0  # seconds between progress edits
CONTEST_DATASETS = frozenset({"contest_entries", "contest_reviews"})  # offer the entries ZIP
FIELD_LABELS = {
    ExportField.DATASET: "exports.field.dataset",
    ExportField.SOURCE: "exports.field.source",
    ExportField.UNIVERSITY: "exports.field.university",
    ExportField.COUNTRY: "exports.field.country",
    ExportField.PERIOD: "exports.field.period",
    ExportField.FORMAT: "exports.field.format",
}


def register(features: Features) -> None:
    """Add /export."""
    features.command("export", start_export)
    features.button(ExportShow, show_form)
    features.button(ExportMenu, open_menu)
    features.button(ExportDates, ask_dates)
    features.button(ExportRun, run_export)
    features.button(ContestBundleList, list_bundles)
    features.button(ContestBundleRun, run_bundle)
    features.text(DATES_ROUTE, save_dates_route)


async def _scope(context: BotContext) -> tuple[str, ...] | None:
    profile = require_profile(context)
    _, scope = await svc.exporter_scope(context.db, profile.telegram_id, context.admin_ids)
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
    profile = require_profile(context)
    scope = await _scope(context)
    unis = {u.id: u for u in await list_universities(context.db)}
    uni = unis.get(request.university)
    if scope is not None:
        university = ", ".join(u.name(t.language) for u in unis.values() if u.code in scope)
    else:
        university = uni.name(t.language) if uni else t.plain("exports.all")
    text = t(
        "exports.form",
        dataset=t.plain(request.dataset_entry.label),
        source=await _source_name(context, request.source),
        university=university,
        country=t.plain("exports.all") if request.country == "0" else request.country,
        period=_period(t, request),
        format=request.format_name.upper(),
        identity=t.plain("exports.identified" if request.identified else "exports.pseudonymous"),
    )
    state = request.encode()
    fields = [ExportField.DATASET, ExportField.SOURCE]
    if scope is None:
        fields += [ExportField.UNIVERSITY, ExportField.COUNTRY]
    fields += [ExportField.PERIOD, ExportField.FORMAT]
    buttons = [
        kb.button(t.plain(FIELD_LABELS[field]), ExportMenu(state, field).pack())
        for field in fields
    ]
    layout = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if profile.has(Role.ADMIN):
        flipped = request.but(identified=1 - request.identified).encode()
        key = "exports.make_pseudonymous" if request.identified else "exports.make_identified"
        layout.append([kb.button(t.plain(key), ExportShow(flipped).pack())])
    layout.append([kb.button(t.plain("exports.go"), ExportRun(state).pack())])
    if request.dataset_name in CONTEST_DATASETS:
        label = t.plain("exports.bundle.button")
        layout.append([kb.button(label, ContestBundleList().pack())])
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
    context: BotContext, request: req.Request, field: ExportField
) -> tuple[str, InlineKeyboardMarkup]:
    """The choices for one field of the form; each button goes back to the form."""
    t = context.t
    choices: list[tuple[str, req.Request]] = []
    if field == ExportField.DATASET:
        choices = [
            (t.plain(dataset.label), request.but(dataset=dataset.code))
            for dataset in svc.DATASETS.values()
        ]
    elif field == ExportField.SOURCE:
        choices = [(t.plain("exports.all"), request.but(source="0"))]
        for choice in await req.instruments(context.db):
            label = shorten(choice.label(t.language), 60)
            choices.append((label, request.but(source=f"i{choice.id}")))
        profile = require_profile(context)
        for c in await campaign_service.figures(
            context.db, profile.telegram_id, context.admin_ids, 12
        ):
            label = f"#{c.id} {c.title.get(t.language) or c.title['en']} · {c.wave}"
            choices.append((shorten(label, 60), request.but(source=f"c{c.id}")))
    elif field == ExportField.UNIVERSITY:
        choices = [(t.plain("exports.all"), request.but(university=0))]
        choices += [
            (shorten(u.name(t.language), 60), request.but(university=u.id))
            for u in await list_universities(context.db)
        ]
    elif field == ExportField.COUNTRY:
        choices = [(t.plain("exports.all"), request.but(country="0"))]
        choices += [(c, request.but(country=c)) for c in await req.countries(context.db)]
    elif field == ExportField.PERIOD:
        choices = [
            (
                t.plain("exports.period.days", days=d) if d else t.plain("exports.all"),
                request.but(period=i),
            )
            for i, d in enumerate(req.PERIODS)
        ]
    else:
        choices = [(f.upper(), request.but(fmt=i)) for i, f in enumerate(req.FORMATS)]
    buttons = [kb.button(label, ExportShow(choice.encode()).pack()) for label, choice in choices]
    if field == ExportField.PERIOD:
        buttons.append(
            kb.button(t.plain("exports.period.type"), ExportDates(request.encode()).pack())
        )
    buttons.append(kb.button(t.plain("exports.back"), ExportShow(request.encode()).pack()))
    per_row = 2 if field in (ExportField.COUNTRY, ExportField.PERIOD, ExportField.FORMAT) else 1
    return t(f"exports.choose.{field.value}"), kb.rows(buttons, per_row=per_row)


async def start_export(update: Update, context: BotContext) -> None:
    """Show the export form (/export)."""
    profile = require_profile(context)
    if not profile.has(Role.ADMIN, Role.ORGANIZER):
        await reply(update, context, context.t("errors.not_allowed"))
        return
    if await _scope(context) == ():  # held to universities that no longer exist
        await reply(update, context, context.t("exports.no_scope"))
        return
    text, keyboard = await _form(context, req.Request())
    await reply(update, context, text, keyboard)


async def _pressed(update: Update, context: BotContext, state: str) -> req.Request | None:
    """The request of a pressed form button, or None once the presser has been answered.

    Refused: someone who is no longer an organizer, a request that does not decode (a stale
    or forged button), and an identified export asked for by anyone but an admin.
    """
    profile = require_profile(context)
    t = context.t
    if not profile.has(Role.ADMIN, Role.ORGANIZER):
        await toast(update, context, t.plain("errors.not_allowed"))
        return None
    request = req.Request.decode(state)
    if request is None:
        await stale_button(update, context)
        return None
    if request.identified and not profile.has(Role.ADMIN):
        await toast(update, context, t.plain("exports.identified_admins_only"))
        return None
    return request


async def show_form(update: Update, context: BotContext, data: ExportShow) -> None:
    """Show the form with a choice applied (or after Back)."""
    request = await _pressed(update, context, data.request)
    if request is None:
        return
    await toast(update, context)
    await safe_edit(update, *await _form(context, request))


async def open_menu(update: Update, context: BotContext, data: ExportMenu) -> None:
    """List the choices of one field of the form."""
    request = await _pressed(update, context, data.request)
    if request is None:
        return
    await toast(update, context)
    await safe_edit(update, *await _menu(context, request, data.field))


async def ask_dates(update: Update, context: BotContext, data: ExportDates) -> None:
    """Ask for a typed period; the request waits on the user, in the database."""
    request = await _pressed(update, context, data.request)
    if request is None:
        return
    profile = require_profile(context)
    await toast(update, context)
    await users.set_awaiting(
        context.db,
        profile.telegram_id,
        waiting_for(DATES_ROUTE, request.compact()),
        context.admin_ids,
    )
    await safe_edit(update, context.t("exports.ask_dates"))


async def run_export(update: Update, context: BotContext, data: ExportRun) -> None:
    """Start writing the export in the background; its progress edits the form."""
    request = await _pressed(update, context, data.request)
    if request is None:
        return
    key = research_key(require_profile(context).telegram_id)
    started = context.background.start(
        key,
        lambda: _run(update, context, request),
        on_error=background_reporter(update, context, key),
        relax_gc=True,
    )
    if not started:
        await toast(update, context, context.t.plain("exports.busy"))
        return
    await toast(update, context, context.t.plain("exports.working"))


async def save_dates_route(update: Update, context: BotContext, argument: str) -> None:
    """Take typed dates for the export request waiting for them (its compact form)."""
    request = req.Request.from_compact(argument)
    if request is None:
        await reply(update, context, context.t("errors.not_understood"))
        return
    await save_dates(update, context, request)


async def save_dates(update: Update, context: BotContext, request: req.Request) -> None:
    """Take the typed period and show the form again with it."""
    profile = require_profile(context)
    message = update.effective_message
    text = message.text if message is not None and message.text is not None else ""
    t = context.t
    try:
        since, until = req.parse_period(text)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    await users.set_awaiting(context.db, profile.telegram_id, None, context.admin_ids)
    chosen = request.but(period=req.CUSTOM, since=since, until=until)
    try:
        await reply(update, context, *await _form(context, chosen))
    except ServiceError as exc:  # the role was taken away while the dates were typed
        await reply(update, context, t(exc.key, **exc.values))


async def _run(update: Update, context: BotContext, request: req.Request) -> None:
    """Write the export in a worker thread, showing progress, then send the file(s).

    A failure other than a refusal escapes to the background runner, whose report
    (`bot.errors.background_reporter`) turns the progress line into the apology.
    """
    t = context.t
    profile = require_profile(context)
    chat = update.effective_chat
    if chat is None:
        return
    name = t.plain(request.dataset_entry.label)
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
    return t(key, rows=rows, dataset=t.plain(request.dataset_entry.label))


# --- the contest's entries with their files ------------------------------------------------


async def list_bundles(update: Update, context: BotContext, data: ContestBundleList) -> None:
    """List the contests with how many submitted entries the presser may take as a ZIP."""
    t = context.t
    profile = require_profile(context)
    if not profile.has(Role.ADMIN, Role.ORGANIZER):
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    try:
        found = await contest_bundle.choices(context.db, profile.telegram_id, context.admin_ids)
    except ServiceError as exc:
        await toast(update, context, t.plain(exc.key, **exc.values))
        return
    await toast(update, context)
    with_entries = [c for c in found if c.entries]
    if not with_entries:
        await reply(update, context, t("exports.bundle.none"))
        return
    buttons = [
        kb.button(
            shorten(
                t.plain(
                    "exports.bundle.choice",
                    title=pick(c.title, t.language) or c.code,
                    entries=c.entries,
                ),
                60,
            ),
            ContestBundleRun(c.id).pack(),
        )
        for c in with_entries
    ]
    await reply(update, context, t("exports.bundle.choose"), kb.rows(buttons))


async def run_bundle(update: Update, context: BotContext, data: ContestBundleRun) -> None:
    """Start the contest's entries ZIP in the background; its progress edits the message."""
    t = context.t
    profile = require_profile(context)
    if not profile.has(Role.ADMIN, Role.ORGANIZER):
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    key = research_key(profile.telegram_id)
    started = context.background.start(
        key,
        lambda: _bundle(update, context, data.contest),
        on_error=background_reporter(update, context, key),
    )
    await toast(update, context, t.plain("exports.working" if started else "exports.busy"))


async def _bundle(update: Update, context: BotContext, contest_id: int) -> None:
    """Download the files, zip them with the manifest, send the archive (or its parts)."""
    t = context.t
    profile = require_profile(context)
    chat = update.effective_chat
    if chat is None:
        return
    await status(update, t("exports.bundle.progress", done=0, total="…"))
    shown = [time.monotonic()]

    async def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - shown[0] >= PROGRESS_EVERY:
            shown[0] = now
            await status(update, t("exports.bundle.progress", done=done, total=total))

    with tempfile.TemporaryDirectory() as folder:
        try:
            bundle = await contest_bundle.for_chat(
                context.db,
                profile.telegram_id,
                context.admin_ids,
                contest_id,
                Path(folder),
                fetcher(context.bot),
                progress,
            )
        except ServiceError as exc:
            await status(update, t(exc.key, **exc.values))
            return
        if not bundle.entries:
            await status(update, t("exports.bundle.none"))
            return
        title = bundle.contest.title_in(t.language)
        key = "exports.bundle.done_failed" if bundle.failed else "exports.bundle.done"
        await status(
            update,
            t(
                key,
                contest=title,
                entries=bundle.entries,
                files=bundle.fetched,
                failed=bundle.failed,
                parts=len(bundle.parts),
            ),
        )
        caption = t("exports.bundle.caption", contest=title, entries=bundle.entries)
        for path in bundle.parts:
            await send_file(context, chat.id, path, caption)
