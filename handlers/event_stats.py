"""/event_stats for coaches, organizers and admins: an event's figures, its chart, its list.

`/event_stats` offers the events the viewer may see (the latest first; with one, it opens at
once); `/event_stats <code or id>` opens one directly. Then the figures (registered, waiting,
reminded, attended, no-shows, feedback "of 5" with how many rated, the comments, by
university) as text in the viewer's language, the chart, and a button for the registrant list
as a CSV file. Which events a viewer sees is the service's decision, read from the database on
every press, so a kept button of an event that is no longer theirs gets a clear refusal.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Update

from bot import keyboards as kb
from bot.callbacks import EventStatsList, EventStatsPick
from bot.context import BotContext
from bot.features import Features
from bot.i18n import Translator
from bot.replies import fit_lines, reply, require_profile, shorten, toast
from bot.services import ServiceError
from bot.services import event_stats as svc
from bot.services.course import pick
from bot.services.event_times import show_when
from bot.services.roles import Role

VIEWERS = (Role.ADMIN, Role.ORGANIZER, Role.COACH)
COMMENT_CHARS = 300  # one comment's share of the message


def register(features: Features) -> None:
    """Add /event_stats."""
    features.command("event_stats", start_event_stats)
    features.button(EventStatsPick, pick_event)
    features.button(EventStatsList, send_list)
    features.help("help.event_stats", roles=VIEWERS)


async def start_event_stats(update: Update, context: BotContext) -> None:
    """Show one event's figures (`/event_stats <code>`, or the only one), or ask which."""
    profile = require_profile(context)
    t = context.t
    if not profile.has(*VIEWERS):
        await reply(update, context, t("errors.not_allowed"))
        return
    if context.args:
        await show_stats(update, context, " ".join(context.args).strip())
        return
    try:
        events = await svc.viewable_events(context.db, profile.telegram_id, context.admin_ids)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    if not events:
        await reply(update, context, t("event_stats.none"))
        return
    if len(events) == 1:
        await show_stats(update, context, events[0].id)
        return
    zone = context.settings.tz
    buttons = [
        kb.button(
            shorten(f"{_when_short(e.starts_at, zone)} · {_title(e.title, e.code, t)}", 60),
            EventStatsPick(e.id).pack(),
        )
        for e in events
    ]
    await reply(update, context, t("event_stats.choose"), kb.rows(buttons))


async def pick_event(update: Update, context: BotContext, data: EventStatsPick) -> None:
    """The event chosen from the list."""
    profile = require_profile(context)
    if not profile.has(*VIEWERS):
        await toast(update, context, context.t.plain("errors.not_allowed"))
        return
    await toast(update, context)
    await show_stats(update, context, data.event)


async def send_list(update: Update, context: BotContext, data: EventStatsList) -> None:
    """The registrant list as a CSV file (it names people: the service checks who asks)."""
    profile = require_profile(context)
    t = context.t
    if not profile.has(*VIEWERS):
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    chat = update.effective_chat
    try:
        listing = await svc.registrant_list(
            context.db, profile.telegram_id, context.admin_ids, data.event
        )
    except ServiceError as exc:
        await toast(update, context, t.plain(exc.key, **exc.values))
        await reply(update, context, t(exc.key, **exc.values))
        return
    await toast(update, context)
    if chat is None:
        return
    await context.bot.send_document(
        chat.id,
        listing.content,
        filename=listing.file_name,
        caption=t("event_stats.list_caption", rows=t.number(listing.rows, trim=True)),
    )


def _title(title: dict[str, str], code: str, t: Translator) -> str:
    return pick(title, t.language) or code


def _zone(name: str | None, default: tzinfo) -> tzinfo:
    """The event's own zone, or the bot's when it has none (or an unknown one)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default


def _when_short(moment: datetime | None, zone: tzinfo) -> str:
    """A start as a button shows it: `2026-12-03 15:00`."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _mean(t: Translator, value: float | None) -> str:
    return "—" if value is None else t.number(value)


def summary(t: Translator, stats: svc.EventStats, zone: tzinfo) -> str:
    """The figures as text, in the viewer's language."""
    n = t.number
    lines = [t("event_stats.title", title=_title(stats.title, stats.code, t))]
    when = show_when(stats.starts_at, zone, t.language) if stats.starts_at else "—"
    lines.append(
        t(
            "event_stats.about",
            kind=t.plain(f"events.kind_{stats.kind}"),
            when=when,
            host=stats.host or "—",
            code=stats.code,
        )
    )
    if stats.state == "cancelled":
        lines.append(t("event_stats.cancelled"))
    places = (
        t("event_stats.of_capacity", capacity=n(stats.capacity, trim=True))
        if stats.capacity
        else ""
    )
    lines += [
        "",
        t(
            "event_stats.registered",
            registered=n(stats.registered, trim=True),
            places=places,
            waiting=n(stats.waiting, trim=True),
            cancelled=n(stats.cancelled, trim=True),
        ),
        t(
            "event_stats.reminded",
            people=n(stats.reminded, trim=True),
            sent=n(stats.reminders_sent, trim=True),
        ),
    ]
    if stats.ended:
        lines.append(
            t(
                "event_stats.attended",
                attended=n(stats.attended, trim=True),
                no_shows=n(stats.no_shows, trim=True),
            )
        )
    else:
        lines.append(t("event_stats.attended_so_far", attended=n(stats.attended, trim=True)))
    if stats.feedback_n:
        lines.append(
            t(
                "event_stats.feedback",
                mean=_mean(t, stats.feedback_mean),
                n=n(stats.feedback_n, trim=True),
            )
        )
    else:
        lines.append(t("event_stats.no_feedback"))
    if stats.universities:
        lines += ["", t("event_stats.universities")]
        for u in stats.universities:
            lines.append(
                t(
                    "event_stats.university_line",
                    university=u.university or t.plain("event_stats.no_university"),
                    registered=n(u.registered, trim=True),
                    waiting=n(u.waiting, trim=True),
                    attended=n(u.attended, trim=True),
                    no_shows=n(u.no_shows, trim=True) if stats.ended else "—",
                    mean=_mean(t, u.feedback_mean),
                    n=n(u.feedback_n, trim=True),
                )
            )
    if stats.comments:
        lines += ["", t("event_stats.comments")]
        for comment in stats.comments:
            lines.append(
                t(
                    "event_stats.comment_line",
                    rating=comment.rating if comment.rating is not None else "—",
                    text=shorten(" ".join(comment.text.split()), COMMENT_CHARS),
                    university=comment.university or t.plain("event_stats.no_university"),
                )
            )
    return fit_lines(lines, lambda count: t("event_stats.more", count=count))


def chart_labels(t: Translator) -> svc.ChartLabels:
    """The chart's words in the viewer's language."""
    return svc.ChartLabels(
        universities=t.plain("event_stats.chart_universities"),
        registered=t.plain("event_stats.chart_registered"),
        attended=t.plain("event_stats.chart_attended"),
        ratings=t.plain("event_stats.chart_ratings"),
        none=t.plain("event_stats.no_university"),
    )


async def show_stats(update: Update, context: BotContext, ref: int | str) -> None:
    """Send the figures of the event `ref` (id or code), its chart, and the list's button."""
    profile = require_profile(context)
    t = context.t
    try:
        stats = await svc.event_stats(context.db, profile.telegram_id, context.admin_ids, ref)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    zone = _zone(stats.timezone, context.settings.tz)
    keyboard = kb.rows(
        [kb.button(t.plain("event_stats.list_button"), EventStatsList(stats.id).pack())]
    )
    await reply(update, context, summary(t, stats, zone), keyboard)
    chat = update.effective_chat
    if chat is None or not (stats.universities or stats.feedback_n):
        return
    chart = await svc.render_event_chart_async(stats, t.language, chart_labels(t))
    await context.bot.send_photo(chat.id, chart)
