"""/analysis: organizers pick an instrument (a pre/post pair counts once) and get the analysis.

The reply is a short summary, the key chart (pre vs post by scale, else by university), the
XLSX workbook with every table, and the other chart.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from telegram import Update

from bot import keyboards as kb
from bot.callbacks import AnalysisPick
from bot.context import BotContext
from bot.errors import background_reporter
from bot.features import Features
from bot.i18n import Translator
from bot.jobs.background import research_key
from bot.replies import (
    fit_lines,
    reply,
    require_profile,
    send_file,
    shorten,
    stale_button,
    status,
    toast,
)
from bot.services import ServiceError
from bot.services import analysis as svc
from bot.services.exports import url_of
from bot.services.exports.request import instruments
from bot.services.roles import Role


def register(features: Features) -> None:
    """Add /analysis."""
    features.command("analysis", start_analysis)
    features.button(AnalysisPick, analyse_instrument)


async def start_analysis(update: Update, context: BotContext) -> None:
    """Ask which instrument to analyse (/analysis)."""
    profile = require_profile(context)
    t = context.t
    if not profile.has(Role.ADMIN, Role.ORGANIZER):
        await reply(update, context, t("errors.not_allowed"))
        return
    choices = await instruments(context.db)
    codes = {c.code for c in choices}
    buttons = [
        kb.button(shorten(c.label(t.language), 60), AnalysisPick(c.id).pack())
        for c in choices
        # A pre/post pair is analysed as one: offered by its pre half.
        if not (c.pair_role == "post" and c.pair_with in codes)
    ]
    if not buttons:
        await reply(update, context, t("analysis.nothing"))
        return
    await reply(update, context, t("analysis.choose"), kb.rows(buttons))


def _number(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.2f}"


def _p(value: float) -> str:
    if math.isnan(value):
        return "p —"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def summary(t: Translator, outcome: svc.Outcome) -> str:
    """The chat summary of an analysis."""
    waves = ", ".join(f"{wave}: {n}" for wave, n in outcome.by_wave.items()) or "—"
    lines = [
        t("analysis.head", title=outcome.title, participants=outcome.participants, waves=waves)
    ]
    if outcome.pre_wave and outcome.post_wave:
        lines.append(
            t(
                "analysis.pairs",
                pre=outcome.pre_wave,
                post=outcome.post_wave,
                pairs=outcome.pairs,
            )
        )
        for line in outcome.lines:
            lines.append(
                t(
                    "analysis.line",
                    scale=line.title,
                    pre=_number(line.mean_pre),
                    post=_number(line.mean_post),
                    p=_p(line.p),
                    dz=_number(line.dz),
                )
            )
    else:
        lines.append(t("analysis.no_pairs"))
    if outcome.alpha is not None:
        low, high = outcome.alpha
        lines.append(t("analysis.alpha", low=_number(low), high=_number(high)))
    lines.append(t("analysis.files"))
    return fit_lines(lines, lambda n: t("analysis.more", count=n))


async def analyse_instrument(update: Update, context: BotContext, data: AnalysisPick) -> None:
    """Run the analysis of the chosen instrument and send its results."""
    profile = require_profile(context)
    t = context.t
    if not profile.has(Role.ADMIN, Role.ORGANIZER):
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    choices = await instruments(context.db)
    code = next((c.code for c in choices if c.id == data.instrument), None)
    if code is None:  # no longer there, or a forged id
        await stale_button(update, context)
        return
    key = research_key(profile.telegram_id)
    started = context.background.start(
        key,
        lambda: _run(update, context, code),
        on_error=background_reporter(update, context, key),
        relax_gc=True,
    )
    if not started:
        await toast(update, context, t.plain("exports.busy"))
        return
    await toast(update, context, t.plain("analysis.working"))


async def _run(update: Update, context: BotContext, code: str) -> None:
    """Analyse in the background and send the summary, the charts and the workbook.

    A failure other than a refusal escapes to the background runner, whose report
    (`bot.errors.background_reporter`) turns the status line into the apology.
    """
    t = context.t
    profile = require_profile(context)
    chat = update.effective_chat
    if chat is None:
        return
    await status(update, t("analysis.working_long", code=code))
    with tempfile.TemporaryDirectory() as folder:
        try:
            outcome = await svc.analyse_for_chat(
                context.db,
                url_of(context.db),
                profile.telegram_id,
                context.admin_ids,
                code,
                context.settings.pseudonym_key.get_secret_value(),
                t.language,
                Path(folder),
            )
        except ServiceError as exc:
            await status(update, t(exc.key, **exc.values))
            return
        await status(update, summary(t, outcome))
        charts = outcome.charts
        if charts:
            await context.bot.send_photo(chat.id, charts[0].read_bytes(), caption=outcome.title)
        await send_file(context, chat.id, outcome.workbook, t("analysis.workbook"))
        for chart in charts[1:]:
            await context.bot.send_photo(chat.id, chart.read_bytes())
