"""/bank_stats for organizers and admins: each university's contribution to the resource bank.

`/bank_stats` asks for the period (this month, the last three months, this year, all time;
calendar periods in the bot's `TIMEZONE`); `/bank_stats month|quarter|year|all` opens one at
once. Then, per university: the resources approved (by type and by discipline), the uses of
its resources (all, and by people of other universities), the mean rating, and the two
contribution shares side by side (of approved resources, of uses by other universities; the
formula is written under the figures and in the README), and the chart of both shares. Who may
see it is the service's decision, read from the database on every press.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from telegram import Update

from bot import bank_cards as cards
from bot import keyboards as kb
from bot.callbacks import BankStatsPeriod
from bot.context import BotContext
from bot.features import Features
from bot.i18n import Translator
from bot.replies import fit_lines, reply, require_profile, toast
from bot.services import ServiceError
from bot.services import bank_stats as svc
from bot.services.resources import pick
from bot.services.roles import Role

VIEWERS = (Role.ADMIN, Role.ORGANIZER)
PERIODS = ("month", "quarter", "year", "all")
BREAKDOWN_ITEMS = 6  # kinds or disciplines named per university; the rest are summed


def register(features: Features) -> None:
    """Add /bank_stats and its period buttons."""
    features.command("bank_stats", bank_stats_command)
    features.button(BankStatsPeriod, period_button)
    features.help("help.bank_stats", VIEWERS)


def period_start(period: str, now: datetime, zone: tzinfo) -> datetime | None:
    """The first moment of the period in `zone` (None: all time), in UTC.

    `month`: the current calendar month; `quarter`: it and the two before; `year`: the
    current calendar year.
    """
    local = now.astimezone(zone)
    if period == "all":
        return None
    if period == "year":
        start = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        back = 2 if period == "quarter" else 0
        month = local.month - back
        year = local.year
        if month < 1:
            month += 12
            year -= 1
        start = local.replace(
            year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0
        )
    return start.astimezone(UTC)


async def bank_stats_command(update: Update, context: BotContext) -> None:
    """Ask for the period (`/bank_stats`), or show one (`/bank_stats month`)."""
    profile = require_profile(context)
    t = context.t
    if not profile.has(*VIEWERS):
        await reply(update, context, t("errors.not_allowed"))
        return
    asked = (context.args or [""])[0].strip().lower()
    if asked in PERIODS:
        await show_stats(update, context, asked)
        return
    buttons = [
        kb.button(t.plain(f"bank.stats_period_{period}"), BankStatsPeriod(period).pack())
        for period in PERIODS
    ]
    await reply(update, context, t("bank.stats_choose"), kb.rows(buttons, per_row=2))


async def period_button(update: Update, context: BotContext, data: BankStatsPeriod) -> None:
    """The period chosen."""
    profile = require_profile(context)
    t = context.t
    if not profile.has(*VIEWERS) or data.period not in PERIODS:
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    await toast(update, context)
    await show_stats(update, context, data.period)


def _percent(t: Translator, share: float | None) -> str:
    return "—" if share is None else f"{t.number(100 * share)}%"


def _items(t: Translator, counts: list[tuple[str, int]]) -> str:
    """`Textbook 2, Video 1, … +3` (the largest first)."""
    ordered = sorted(counts, key=lambda item: (-item[1], item[0]))
    shown = [f"{name} {t.number(n, trim=True)}" for name, n in ordered[:BREAKDOWN_ITEMS]]
    rest = sum(n for _, n in ordered[BREAKDOWN_ITEMS:])
    if rest:
        shown.append(f"… +{t.number(rest, trim=True)}")
    return ", ".join(shown)


def summary(t: Translator, stats: svc.BankStats, period: str) -> str:
    """The figures as text, in the viewer's language."""
    n = t.number
    language = t.language
    lines = [
        t("bank.stats_title", period=t.plain(f"bank.stats_period_{period}")),
        t(
            "bank.stats_totals",
            approved=n(stats.approved, trim=True),
            uses=n(stats.uses_by_others, trim=True),
        ),
    ]
    if stats.unassigned:
        lines.append(t("bank.stats_unassigned", count=n(stats.unassigned, trim=True)))
    active = [u for u in stats.universities if u.approved or u.uses]
    idle = [u for u in stats.universities if not (u.approved or u.uses)]
    if not active:
        lines += ["", t("bank.stats_nothing")]
    for u in active:
        mean = "—" if u.rating_mean is None else n(u.rating_mean)
        lines += [
            "",
            t(
                "bank.stats_university",
                name=pick(u.name, language) or u.code,
                approved=n(u.approved, trim=True),
                share_resources=_percent(t, u.share_resources),
                uses_by_others=n(u.uses_by_others, trim=True),
                share_uses=_percent(t, u.share_uses),
                uses=n(u.uses, trim=True),
                mean=mean,
                ratings=n(u.ratings, trim=True),
            ),
        ]
        if u.by_kind:
            kinds = [(cards.kind_label(t, kind), count) for kind, count in u.by_kind.items()]
            lines.append(t("bank.stats_by_kind", items=_items(t, kinds)))
        if u.by_discipline:
            named = [
                (
                    pick(stats.disciplines.get(d, {}), language)
                    if d is not None
                    else t.plain("bank.stats_no_discipline"),
                    count,
                )
                for d, count in u.by_discipline.items()
            ]
            lines.append(t("bank.stats_by_discipline", items=_items(t, named)))
    if idle and active:
        names = ", ".join(pick(u.name, language) or u.code for u in idle)
        lines += ["", t("bank.stats_idle", names=names)]
    lines += ["", t("bank.stats_formula")]
    return fit_lines(lines, lambda count: t("bank.list_more", count=count))


def chart_labels(t: Translator) -> svc.ChartLabels:
    """The chart's words in the viewer's language."""
    return svc.ChartLabels(
        title=t.plain("bank.stats_chart_title"),
        resources=t.plain("bank.stats_chart_resources"),
        uses=t.plain("bank.stats_chart_uses"),
        empty=t.plain("bank.stats_nothing"),
    )


async def show_stats(update: Update, context: BotContext, period: str) -> None:
    """Send the figures of the period and the chart of the two shares."""
    profile = require_profile(context)
    t = context.t
    since = period_start(period, datetime.now(context.settings.tz), context.settings.tz)
    try:
        stats = await svc.contribution(
            context.db, profile.telegram_id, context.admin_ids, since=since
        )
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    await reply(update, context, summary(t, stats, period))
    chat = update.effective_chat
    if chat is None or not (stats.approved or stats.uses_by_others):
        return
    chart = await svc.render_bank_chart_async(stats, t.language, chart_labels(t))
    await context.bot.send_photo(chat.id, chart)
