"""/course_stats for coaches, organizers and admins: a course's figures and its chart.

With several courses loaded the viewer picks one (`CourseStatsPick`, by the id of its newest
version); then the summary (enrolled, active in 7 days, finished), the completion funnel, the
accuracy of every check question, the pre->post change per scale and the figures by
university, as text in the viewer's language with numbers written as people read them, and
the chart. Organizers and coaches held to universities see their learners only (the service
decides that from the database).
"""

from __future__ import annotations

from telegram import Update

from bot import keyboards as kb
from bot.callbacks import CourseStatsPick
from bot.context import BotContext
from bot.features import Features
from bot.i18n import Translator
from bot.replies import fit_lines, reply, require_profile, shorten, stale_button, toast
from bot.services import ServiceError
from bot.services import course_stats as svc
from bot.services.course import list_courses, pick
from bot.services.roles import Role

VIEWERS = (Role.ADMIN, Role.ORGANIZER, Role.COACH)


def register(features: Features) -> None:
    """Add /course_stats."""
    features.command("course_stats", start_course_stats)
    features.button(CourseStatsPick, pick_course)
    features.help("help.course_stats", roles=VIEWERS)


async def start_course_stats(update: Update, context: BotContext) -> None:
    """Show the statistics of the one course, or ask which course (/course_stats)."""
    profile = require_profile(context)
    t = context.t
    if not profile.has(*VIEWERS):
        await reply(update, context, t("errors.not_allowed"))
        return
    courses = await list_courses(context.db)
    if not courses:
        await reply(update, context, t("course_stats.none"))
        return
    if len(courses) == 1:
        await show_stats(update, context, courses[0].code)
        return
    buttons = [
        kb.button(shorten(pick(c.title, t.language), 60), CourseStatsPick(c.id).pack())
        for c in courses
    ]
    await reply(update, context, t("course_stats.choose"), kb.rows(buttons))


async def pick_course(update: Update, context: BotContext, data: CourseStatsPick) -> None:
    """The course chosen from the list."""
    profile = require_profile(context)
    if not profile.has(*VIEWERS):
        await toast(update, context, context.t.plain("errors.not_allowed"))
        return
    code = next((c.code for c in await list_courses(context.db) if c.id == data.course), None)
    if code is None:  # a newer version was loaded since, or a forged id
        await stale_button(update, context)
        return
    await toast(update, context)
    await show_stats(update, context, code)


def _percent(t: Translator, part: int, whole: int) -> str:
    """`part` of `whole` in percent, as people read it."""
    return t.number(100.0 * part / whole if whole else 0.0)


def summary(t: Translator, stats: svc.CourseStats) -> str:
    """The statistics as text, in the viewer's language."""
    n = t.number
    lines = [t("course_stats.title", title=pick(stats.title, t.language) or stats.code)]
    if stats.scope is not None:
        lines.append(t("course_stats.scope", universities=", ".join(stats.scope) or "—"))
    lines.append(
        t(
            "course_stats.summary",
            enrolled=n(stats.enrolled, trim=True),
            active=n(stats.active, trim=True),
            finished=n(stats.finished, trim=True),
            percent=_percent(t, stats.finished, stats.enrolled),
        )
    )
    lines += ["", t("course_stats.funnel")]
    for f in stats.funnel:
        lines.append(
            t(
                "course_stats.funnel_line",
                position=f.position,
                lesson=pick(f.title, t.language) or f.code,
                opened=n(f.opened, trim=True),
                completed=n(f.completed, trim=True),
                percent=_percent(t, f.completed, stats.enrolled),
            )
        )
    if stats.checks:
        lines += ["", t("course_stats.checks")]
        for c in stats.checks:
            lines.append(
                t(
                    "course_stats.check_line",
                    question=f"{c.lesson}/{c.question}",
                    correct=n(c.correct, trim=True),
                    answered=n(c.answered, trim=True),
                    percent=n(c.percent),
                )
            )
    if stats.pre_test and stats.post_test:
        lines += ["", t("course_stats.prepost", pre=stats.pre_test, post=stats.post_test)]
        if not stats.prepost:
            lines.append(t("course_stats.no_pairs"))
        for s in stats.prepost:
            lines.append(
                t(
                    "course_stats.prepost_line",
                    scale=pick(s.title, t.language) or s.scale,
                    pre=n(s.mean_pre, 2),
                    post=n(s.mean_post, 2),
                    change=n(s.change, 2, sign=True),
                    pairs=n(s.pairs, trim=True),
                )
            )
    if stats.universities:
        lines += ["", t("course_stats.universities")]
        for u in stats.universities:
            lines.append(
                t(
                    "course_stats.university_line",
                    university=u.university or t.plain("course_stats.no_university"),
                    enrolled=n(u.enrolled, trim=True),
                    active=n(u.active, trim=True),
                    finished=n(u.finished, trim=True),
                    accuracy=_percent(t, u.correct, u.answered),
                )
            )
    return fit_lines(lines, lambda count: t("course_stats.more", count=count))


def chart_labels(t: Translator) -> svc.ChartLabels:
    """The chart's words in the viewer's language."""
    return svc.ChartLabels(
        funnel=t.plain("course_stats.chart_funnel"),
        opened=t.plain("course_stats.chart_opened"),
        completed=t.plain("course_stats.chart_completed"),
        prepost=t.plain("course_stats.chart_prepost"),
        pre=t.plain("course_stats.chart_pre"),
        post=t.plain("course_stats.chart_post"),
    )


async def show_stats(update: Update, context: BotContext, code: str) -> None:
    """Send the statistics of the course `code` and its chart."""
    profile = require_profile(context)
    t = context.t
    try:
        stats = await svc.course_stats(context.db, profile.telegram_id, context.admin_ids, code)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    await reply(update, context, summary(t, stats))
    chat = update.effective_chat
    if chat is None or not stats.enrolled:
        return
    chart = await svc.render_course_chart_async(stats, t.language, chart_labels(t))
    await context.bot.send_photo(chat.id, chart)
