"""The online course in chat: /course, enrolment, lessons one step at a time, checks, pacing.

Every button is a `bot.callbacks` class carrying ids and positions only; the course service
re-checks them against the learner who pressed it, so a Next from an older step or lesson is
refused (`course.stale_step`) and a check answered twice is refused (`course.already_answered`).

What the bot waits for from a learner is stored on the user (`bot.awaiting`):
`c:<enrolment>` while a lesson is open (typed text there gets "use the buttons"), and
`c_hour:<enrolment>` after it asked for the hour of the daily lesson, `c_zone:<enrolment>` after
it asked for a time zone typed by its IANA name (the consortium's zones and the bot's own are
buttons; a name is matched regardless of case). A multiple-choice check
keeps its ticks in its buttons (each tick box carries the ticks it sets, Done the ticks shown),
so nothing is written until the answer.

The course's pre- and post-test and its certificate belong to other features: when the service
offers them, the named actions `course.tests` (pre-/post-test) and `certificates.mine` are
opened if registered. After a survey or test is submitted in chat (`Features.after_submit`),
every unfinished course naming that instrument as its pre- or post-test goes on: after the
pre-test the first lesson is offered, after the post-test the course is finished
(`course.offer_next` marks it) and the certificate is offered at once.

A media step from the pack's folder is sent by the file_id kept from its first upload, and a
missing file is reported to the organizers once (`bot.services.course_media`).
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import zoneinfo
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError

from bot import keyboards as kb
from bot.awaiting import int_argument, parse, waiting_for
from bot.callbacks import (
    CheckDone,
    CheckPick,
    CheckTick,
    CourseEnrol,
    CourseView,
    LessonContinue,
    LessonNext,
    LessonOpen,
    PaceDays,
    PaceHour,
    PaceNudges,
    PaceOpen,
    PacePause,
    PaceSet,
    PaceZone,
    PaceZoneAsk,
)
from bot.config import LANGUAGES
from bot.context import BotContext
from bot.features import Features, Submitted
from bot.i18n import Translator
from bot.replies import reply, require_profile, safe_edit, toast
from bot.services import InvalidInput, NotFound, ServiceError, course_media
from bot.services import course as svc
from bot.services import course_pacing as pacing
from bot.services import users as user_service
from bot.services.course import (
    CheckKind,
    EnrolmentView,
    LessonScreen,
    Offer,
    OfferKind,
    Pace,
    ProgressView,
    Step,
    StepKind,
    pick,
)

logger = logging.getLogger(__name__)

LESSON_ROUTE = "c"  # `c:<enrolment>`: a lesson is open, its buttons are expected
HOUR_ROUTE = "c_hour"  # `c_hour:<enrolment>`: the hour of the daily lesson is expected
ZONE_ROUTE = "c_zone"  # `c_zone:<enrolment>`: a time zone's IANA name is expected
# The consortium's zones, offered as buttons (label key, IANA name); "" is the bot's zone.
ZONES = (
    ("course.zone_almaty", "Asia/Almaty"),
    ("course.zone_tashkent", "Asia/Tashkent"),
    ("course.zone_moscow", "Europe/Moscow"),
)
# Named actions of other features, opened when registered (names joined: they are not texts).
TESTS_ACTION = ".".join(("course", "tests"))  # the pre-/post-test offer
CERTIFICATE_ACTION = ".".join(("certificates", "mine"))  # the certificate offer
REOPEN_PER_ROW = 5
DAYS = 7


def register(features: Features) -> None:
    """Add /course, the course deep link, the lesson and pacing buttons and typed input."""
    features.command("course", open_course, menu=15)
    features.deep_link("c", enrol_by_link)
    features.button(CourseEnrol, enrol_button)
    features.button(CourseView, view_button)
    features.button(LessonOpen, open_button)
    features.button(LessonContinue, continue_button)
    features.button(LessonNext, next_button)
    features.button(CheckPick, pick_button)
    features.button(CheckTick, tick_button)
    features.button(CheckDone, done_button)
    features.button(PaceOpen, pace_button)
    features.button(PaceSet, pace_set_button)
    features.button(PaceHour, hour_button)
    features.button(PaceDays, days_button)
    features.button(PacePause, pause_button)
    features.button(PaceNudges, nudges_button)
    features.button(PaceZone, zone_button)
    features.button(PaceZoneAsk, zone_ask_button)
    features.text(LESSON_ROUTE, typed_in_lesson)
    features.text(HOUR_ROUTE, typed_hour)
    features.text(ZONE_ROUTE, typed_zone)
    features.welcome(offer_continue)
    features.after_submit(after_test)
    features.action("course", open_course)
    features.menu("course", "menu.course", "course", position=15)
    features.help("help.course")


# --- small renderers ----------------------------------------------------------------------


def _lang(context: BotContext) -> str:
    """The learner's language."""
    return context.t.language


def _local(context: BotContext, view: EnrolmentView, moment: datetime) -> datetime:
    """`moment` in the learner's zone."""
    return moment.astimezone(pacing.zone_of(view.timezone, context.settings.tz))


def _days(t: Translator, weekdays: int) -> str:
    """The chosen weekdays as short names."""
    return ", ".join(t.plain(f"course.day_{day}") for day in range(DAYS) if weekdays >> day & 1)


def _next_at(context: BotContext, view: EnrolmentView) -> str | None:
    """When the next scheduled lesson comes ("on Tue 14.05 at 09:00"), or None."""
    if view.next_due_at is None:
        return None
    local = _local(context, view, view.next_due_at)
    t = context.t
    return t(
        "course.next_lesson_at",
        day=t.plain(f"course.day_{local.weekday()}"),
        date=local.strftime("%d.%m"),
        time=local.strftime("%H:%M"),
    )


def _pace_line(context: BotContext, view: EnrolmentView) -> str:
    """How lessons come, in one line."""
    t = context.t
    if view.paused:
        return t("course.paused_line")
    if view.pace is Pace.SELF:
        return t("course.pace_self_line")
    return t(
        "course.pace_scheduled_line",
        time=f"{view.hour:02d}:{view.minute:02d}",
        days=_days(t, view.weekdays),
    )


def _open_button(t: Translator, enrolment: int, position: int, title: str) -> InlineKeyboardButton:
    """The button opening lesson `position`."""
    label = t.plain("course.open_lesson_button", number=position + 1, lesson=title)
    return kb.button(label[:60], LessonOpen(enrolment, position).pack())


def _open_number(t: Translator, enrolment: int, position: int) -> InlineKeyboardButton:
    """The button opening lesson `position`, by its number."""
    label = t.plain("course.open_number_button", number=position + 1)
    return kb.button(label, LessonOpen(enrolment, position).pack())


async def _set_awaiting(context: BotContext, value: str | None) -> None:
    """Store what the learner's typed text goes to, if it changed."""
    profile = require_profile(context)
    if profile.awaiting != value:
        context.profile = await user_service.set_awaiting(
            context.db, profile.telegram_id, value, context.admin_ids
        )


async def _clear_course_awaiting(context: BotContext) -> None:
    """Stop waiting for course input (the lesson is over), leaving other features' values."""
    waiting = parse(require_profile(context).awaiting)
    if waiting is not None and waiting[0] in (LESSON_ROUTE, HOUR_ROUTE, ZONE_ROUTE):
        await _set_awaiting(context, None)


async def _refused(update: Update, context: BotContext, exc: ServiceError) -> None:
    """Say why a press changed nothing: a short notice and a message."""
    await toast(update, context, context.t.plain(exc.key, **exc.values))
    await reply(update, context, context.t(exc.key, **exc.values))


async def _remove_keyboard(update: Update) -> None:
    """Take the buttons off the pressed message (best effort: a double tap finds none)."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError:
            return


def _chat_id(update: Update) -> int | None:
    """The chat the update came from."""
    chat = update.effective_chat
    return chat.id if chat is not None else None


# --- /course, enrolment and progress --------------------------------------------------------


async def open_course(update: Update, context: BotContext) -> None:
    """Show the learner's progress in their courses, or the courses to enrol in (/course)."""
    profile = require_profile(context)
    t = context.t
    if profile.next_step is not None:
        await reply(update, context, t("onboarding.finish_first"))
        return
    try:
        enrolments = await svc.my_enrolments(context.db, profile.telegram_id)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    for enrolment in enrolments:
        await _show_progress(update, context, enrolment.id)
    enrolled = {e.course_code for e in enrolments}
    courses = [c for c in await svc.list_courses(context.db) if c.code not in enrolled]
    if not courses:
        if not enrolments:
            await reply(update, context, t("course.none"))
        return
    lang = _lang(context)
    buttons = [
        kb.button(
            t.plain("course.enrol_button", course=pick(c.title, lang))[:60],
            CourseEnrol(c.code).pack(),
        )
        for c in courses
    ]
    lines = [t("course.choose" if not enrolments else "course.choose_more")]
    lines += [
        t("course.course_line", course=pick(c.title, lang), lessons=c.lessons) for c in courses
    ]
    await reply(update, context, "\n".join(lines), kb.rows(buttons))


def _progress_text(context: BotContext, progress: ProgressView) -> str:
    """The progress view: the bar, lessons done, checks right, the current lesson, the pace."""
    t = context.t
    lang = _lang(context)
    view = progress.enrolment
    lines = [
        t(
            "course.progress",
            course=pick(view.title, lang),
            bar=progress.bar,
            done=progress.done,
            total=progress.total,
        ),
        t("course.checks_line", right=progress.checks_right, answered=progress.checks_answered),
    ]
    if progress.current is not None:
        lines.append(
            t(
                "course.current_line",
                number=progress.current.position + 1,
                lesson=pick(progress.current.title, lang),
            )
        )
    else:
        lines.append(t("course.all_done"))
    if progress.offer.kind is not OfferKind.FINISHED:
        lines.append(_pace_line(context, view))
        when = _next_at(context, view)
        if when is not None and not view.paused:
            lines.append(when)
    earlier = [line for line in progress.lessons if line.unlocked and line.completed]
    if earlier:
        lines.append(t("course.reopen_hint"))
    return "\n".join(lines)


def _progress_keyboard(context: BotContext, progress: ProgressView) -> InlineKeyboardMarkup:
    """Open the current lesson, reopen an earlier one (a compact row of numbers), settings."""
    t = context.t
    enrolment = progress.enrolment.id
    rows: list[list[InlineKeyboardButton]] = []
    if progress.current is not None:
        title = pick(progress.current.title, _lang(context))
        rows.append([_open_button(t, enrolment, progress.current.position, title)])
    earlier = [
        kb.button(f"✅ {line.position + 1}", LessonOpen(enrolment, line.position).pack())
        for line in progress.lessons
        if line.unlocked and line.completed
    ]
    rows += [earlier[i : i + REOPEN_PER_ROW] for i in range(0, len(earlier), REOPEN_PER_ROW)]
    if progress.offer.kind is not OfferKind.FINISHED:
        rows.append([kb.button(t.plain("course.settings_button"), PaceOpen(enrolment).pack())])
    return InlineKeyboardMarkup(rows)


async def _show_progress(
    update: Update, context: BotContext, enrolment_id: int, *, edit: bool = False
) -> None:
    """Send (or edit into) the progress view of one enrolment."""
    profile = require_profile(context)
    try:
        progress = await svc.progress_view(context.db, profile.telegram_id, enrolment_id)
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    text, keyboard = _progress_text(context, progress), _progress_keyboard(context, progress)
    if edit:
        await safe_edit(update, text, keyboard)
    else:
        await reply(update, context, text, keyboard)


async def view_button(update: Update, context: BotContext, data: CourseView) -> None:
    """Show the progress view again (back from the settings)."""
    await toast(update, context)
    await _show_progress(update, context, data.enrolment, edit=True)


async def _enrol(update: Update, context: BotContext, code: str) -> None:
    """Enrol in the course `code` (twice is harmless) and show what comes first."""
    profile = require_profile(context)
    t = context.t
    try:
        enrolled = await svc.enrol(context.db, profile.telegram_id, code)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    title = pick(enrolled.enrolment.title, _lang(context))
    key = "course.enrolled" if enrolled.created else "course.already_enrolled"
    await reply(update, context, t(key, course=title, lessons=enrolled.enrolment.lessons))
    await _show_offer(update, context, enrolled.enrolment, enrolled.offer)


async def enrol_button(update: Update, context: BotContext, data: CourseEnrol) -> None:
    """Enrol in the course under the button."""
    await toast(update, context)
    await _remove_keyboard(update)
    await _enrol(update, context, data.course)


async def enrol_by_link(update: Update, context: BotContext, code: str) -> None:
    """Enrol from a `?start=c-<code>` link a coach shared."""
    await _enrol(update, context, code.lower())


async def _show_offer(
    update: Update,
    context: BotContext,
    view: EnrolmentView | None,
    offer: Offer,
    *,
    after_lesson: bool = False,
) -> None:
    """Say what comes next: the pre-test, a lesson (now or at its hour), the post-test, the end."""
    t = context.t
    actions = context.features.actions
    if offer.kind in (OfferKind.PRE_TEST, OfferKind.POST_TEST):
        key = (
            "course.pre_test_offer"
            if offer.kind is OfferKind.PRE_TEST
            else "course.post_test_offer"
        )
        keyboard = None
        if offer.kind is OfferKind.PRE_TEST and view is not None:
            # The pre-test comes first, but it does not lock the lessons.
            first = _open_number(t, view.id, 0)
            keyboard = InlineKeyboardMarkup([[first]])
        await reply(update, context, t(key), keyboard)
        if TESTS_ACTION in actions:
            await actions[TESTS_ACTION](update, context)
        return
    if offer.kind is OfferKind.FINISHED:
        title = pick(view.title, _lang(context)) if view is not None else ""
        await reply(update, context, t("course.finished", course=title))
        if CERTIFICATE_ACTION in actions:
            await actions[CERTIFICATE_ACTION](update, context)
        return
    if view is None or offer.lesson is None:
        return
    progress_lesson = offer.lesson
    if after_lesson and view.pace is Pace.SCHEDULED and not view.paused:
        when = _next_at(context, view)
        if when is not None:
            button = kb.button(
                t.plain("course.open_now_button"), LessonOpen(view.id, progress_lesson).pack()
            )
            await reply(update, context, when, InlineKeyboardMarkup([[button]]))
            return
    await reply(
        update,
        context,
        t("course.next_lesson", number=progress_lesson + 1),
        InlineKeyboardMarkup([[_open_number(t, view.id, progress_lesson)]]),
    )


# --- a lesson, one step at a time -----------------------------------------------------------


async def _send_as(
    context: BotContext,
    chat_id: int,
    step: Step,
    source: bytes | str,
    caption: str,
    keyboard: InlineKeyboardMarkup,
) -> Message:
    """Send `source` (bytes to upload, a file_id or a URL) as the step's kind of media."""
    bot, text = context.bot, caption or None
    # An upload keeps the file's name (and so its type); a file_id or a URL carries its own.
    name = step.file.name if step.file is not None and isinstance(source, bytes) else None
    if step.kind is StepKind.PHOTO:
        return await bot.send_photo(
            chat_id, source, caption=text, reply_markup=keyboard, filename=name
        )
    if step.kind is StepKind.VIDEO:
        return await bot.send_video(
            chat_id, source, caption=text, reply_markup=keyboard, filename=name
        )
    return await bot.send_document(
        chat_id, source, caption=text, reply_markup=keyboard, filename=name
    )


def _file_id(message: Message) -> str | None:
    """The file_id Telegram gave the media of `message`."""
    if message.photo:
        return message.photo[-1].file_id
    media = message.video or message.document
    return media.file_id if media is not None else None


async def _report_missing(
    context: BotContext, screen: LessonScreen, media: course_media.LocalMedia
) -> None:
    """Tell the organizers once (recorded in the database) that a course file is missing."""
    i18n = context.i18n
    broadcast_id = await course_media.report_missing(
        context.db,
        media,
        screen.lesson,
        {language: i18n.translator(language) for language in LANGUAGES},
        default_language=context.settings.default_language,
        admin_ids=context.admin_ids,
    )
    if broadcast_id is not None:
        context.broadcaster.start(broadcast_id)


async def _send_local(
    context: BotContext,
    chat_id: int,
    screen: LessonScreen,
    caption: str,
    keyboard: InlineKeyboardMarkup,
) -> bool:
    """Send a step's file from the pack's folder: by its kept file_id, else uploaded."""
    step = screen.step
    assert step is not None and step.file is not None  # only called for a file step
    path = step.path or step.file.name
    media = await course_media.prepare(
        context.db, screen.course_code, path, step.file, step.kind.value
    )
    if media.file_id is not None:
        try:
            await _send_as(context, chat_id, step, media.file_id, caption, keyboard)
            return True
        except BadRequest:
            # Telegram no longer knows the file_id (another bot token, a purged file).
            logger.info("course media file_id refused, uploading again: %s", path)
            await course_media.forget(context.db, media)
            media = await course_media.prepare(
                context.db, screen.course_code, path, step.file, step.kind.value, reuse=False
            )
    if media.content is None:
        await _report_missing(context, screen, media)
        return False
    message = await _send_as(context, chat_id, step, media.content, caption, keyboard)
    file_id = _file_id(message)
    if file_id is not None:
        await course_media.remember(context.db, media, file_id)
    return True


async def _send_media(
    context: BotContext,
    chat_id: int,
    screen: LessonScreen,
    caption: str,
    keyboard: InlineKeyboardMarkup,
) -> bool:
    """Send a photo, document or video step; False when its file or URL could not be sent."""
    step = screen.step
    if step is None:
        return False
    try:
        if step.file is not None:
            return await _send_local(context, chat_id, screen, caption, keyboard)
        if not step.url:
            return False
        await _send_as(context, chat_id, step, step.url, caption, keyboard)
    except BadRequest:
        # A URL Telegram cannot fetch, a file it refuses: the step goes as text.
        logger.warning("course media not sent: %s", step.url or step.file, exc_info=True)
        return False
    return True


async def _send_step(update: Update, context: BotContext, screen: LessonScreen) -> None:
    """Send one step as messages; the last carries the Next button."""
    chat_id = _chat_id(update)
    step = screen.step
    if chat_id is None or step is None:
        return
    t = context.t
    lang = _lang(context)
    lesson = screen.lesson
    if screen.step_index == 0:
        await _set_awaiting(context, waiting_for(LESSON_ROUTE, screen.enrolment_id))
        header = t(
            "course.lesson_header",
            number=lesson.position + 1,
            total=screen.lessons,
            module=pick(lesson.module_title, lang),
            lesson=pick(lesson.title, lang),
        )
        await context.bot.send_message(chat_id, header)
    after = LessonNext(screen.enrolment_id, lesson.position, screen.step_index + 1)
    keyboard = kb.rows([kb.button(t.plain("course.next"), after.pack())])
    if step.kind is StepKind.TEXT:
        parts = step.parts(lang) or ["…"]
        for part in parts[:-1]:
            await context.bot.send_message(chat_id, part)
        await context.bot.send_message(chat_id, parts[-1], reply_markup=keyboard)
        return
    text = pick(step.text, lang)
    if step.kind is StepKind.LINK:
        url = html.escape(step.url or "")
        await context.bot.send_message(chat_id, f"🔗 {text}\n{url}", reply_markup=keyboard)
        return
    if await _send_media(context, chat_id, screen, text, keyboard):
        return
    fallback = [text] if text else []
    if step.url:
        fallback.append(html.escape(step.url))
    body = "\n".join(fallback) or t("course.media_missing")
    await context.bot.send_message(chat_id, body, reply_markup=keyboard)


def _check_text(context: BotContext, screen: LessonScreen) -> str:
    """The check question, with a hint for a multiple-choice one."""
    check = screen.check
    assert check is not None  # only called with a check screen
    t = context.t
    parts = [t("course.check_header"), pick(check.question, _lang(context))]
    if check.kind is CheckKind.MULTIPLE:
        parts.append(t("course.multiple_hint"))
    return "\n\n".join(parts)


def _check_keyboard(
    context: BotContext,
    enrolment: int,
    position: int,
    labels: list[str],
    multiple: bool,
    ticks: int,
) -> InlineKeyboardMarkup:
    """Single: one button per option. Multiple: tick boxes carrying the ticks they set, Done."""
    rows = []
    for index, label in enumerate(labels):
        if not multiple:
            data = CheckPick(enrolment, position, index).pack()
            rows.append([kb.button(label[:60], data)])
            continue
        on = bool(ticks >> index & 1)
        data = CheckTick(enrolment, position, ticks ^ (1 << index)).pack()
        rows.append([kb.button(("☑ " if on else "☐ ") + label[:58], data)])
    if multiple:
        done = CheckDone(enrolment, position, ticks).pack()
        rows.append([kb.button(context.t.plain("course.done_button"), done)])
    return InlineKeyboardMarkup(rows)


async def _send_check(update: Update, context: BotContext, screen: LessonScreen) -> None:
    """Ask the lesson's check question with its buttons."""
    check = screen.check
    if check is None:
        return
    lang = _lang(context)
    labels = [pick(option.text, lang) for option in check.options]
    keyboard = _check_keyboard(
        context,
        screen.enrolment_id,
        screen.lesson.position,
        labels,
        check.kind is CheckKind.MULTIPLE,
        0,
    )
    await reply(update, context, _check_text(context, screen), keyboard)


async def _send_completed(update: Update, context: BotContext, screen: LessonScreen) -> None:
    """The check's result and explanation, "lesson complete", and what comes next."""
    t = context.t
    lang = _lang(context)
    lesson = screen.lesson
    answered = screen.answered
    if answered is not None and lesson.check is not None:
        labels = {o.code: pick(o.text, lang) for o in lesson.check.options}
        if answered.correct:
            verdict = t("course.right")
        else:
            right = "; ".join(labels.get(code, code) for code in answered.correct_options)
            verdict = t("course.wrong", answer=right)
        explanation = pick(answered.explanation, lang)
        await reply(update, context, "\n\n".join(p for p in (verdict, explanation) if p))
    await _clear_course_awaiting(context)
    await reply(
        update,
        context,
        t("course.lesson_complete", number=lesson.position + 1, lesson=pick(lesson.title, lang)),
    )
    if screen.offer is None:
        return
    view = None
    if screen.offer.kind in (OfferKind.LESSON, OfferKind.FINISHED, OfferKind.PRE_TEST):
        view = await _enrolment(context, screen.enrolment_id)
    await _show_offer(update, context, view, screen.offer, after_lesson=True)


async def _enrolment(context: BotContext, enrolment_id: int) -> EnrolmentView | None:
    """The learner's enrolment `enrolment_id` (None: not theirs)."""
    profile = require_profile(context)
    views = await svc.my_enrolments(context.db, profile.telegram_id)
    return next((v for v in views if v.id == enrolment_id), None)


async def _own_enrolment(
    update: Update, context: BotContext, enrolment_id: int
) -> EnrolmentView | None:
    """The pressed button's enrolment, answered; None (and refused) when it is not theirs."""
    view = await _enrolment(context, enrolment_id)
    if view is None:
        await _refused(update, context, NotFound("course.not_enrolled"))
        return None
    await toast(update, context)
    return view


async def _show_screen(update: Update, context: BotContext, screen: LessonScreen) -> None:
    """Show what a lesson screen holds: a step, the check, or the completion."""
    if screen.step is not None:
        await _send_step(update, context, screen)
    elif screen.check is not None:
        await _send_check(update, context, screen)
    elif screen.completed:
        await _send_completed(update, context, screen)


async def open_button(update: Update, context: BotContext, data: LessonOpen) -> None:
    """Open a lesson at its first step (a scheduled lesson's message, the progress view)."""
    profile = require_profile(context)
    try:
        screen = await svc.open_lesson(
            context.db, profile.telegram_id, data.enrolment, data.lesson
        )
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await toast(update, context)
    await _show_screen(update, context, screen)


async def continue_button(update: Update, context: BotContext, data: LessonContinue) -> None:
    """Continue the course with the next lesson (under a nudge or the /start offer)."""
    profile = require_profile(context)
    try:
        screen = await pacing.jump_ahead(context.db, profile.telegram_id, data.enrolment)
    except ServiceError as exc:
        if exc.key == "course.no_such_lesson":  # every lesson is done: show where they are
            await toast(update, context)
            await _show_progress(update, context, data.enrolment)
            return
        await _refused(update, context, exc)
        return
    await toast(update, context)
    await _show_screen(update, context, screen)


async def next_button(update: Update, context: BotContext, data: LessonNext) -> None:
    """Show the step the Next button asks for; an older button is refused politely."""
    profile = require_profile(context)
    try:
        screen = await svc.next_step(
            context.db, profile.telegram_id, data.enrolment, data.lesson, data.step
        )
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await toast(update, context)
    await _remove_keyboard(update)
    await _show_screen(update, context, screen)


async def _answer(
    update: Update, context: BotContext, enrolment: int, position: int, indices: list[int]
) -> None:
    """Answer the check of lesson `position` with the options at `indices`."""
    profile = require_profile(context)
    view = await _enrolment(context, enrolment)
    try:
        if view is None:
            raise NotFound("course.not_enrolled")
        course = await svc.get_course(context.db, view.course_id)
        if not 0 <= position < len(course.lessons) or course.lessons[position].check is None:
            raise NotFound("course.no_check")
        options = course.lessons[position].check.options  # type: ignore[union-attr]
        if any(not 0 <= index < len(options) for index in indices):
            raise InvalidInput("course.bad_option")
        codes = [options[index].code for index in indices]
        screen = await svc.check_answer(
            context.db, profile.telegram_id, enrolment, position, codes
        )
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await toast(update, context)
    await _mark_answered(update, context, screen)
    await _show_screen(update, context, screen)


async def _mark_answered(update: Update, context: BotContext, screen: LessonScreen) -> None:
    """Edit the question so it shows the choice, without its buttons (best effort)."""
    query = update.callback_query
    check = screen.lesson.check
    if query is None or query.message is None or check is None or screen.answered is None:
        return
    lang = _lang(context)
    chosen = ", ".join(
        pick(o.text, lang) for o in check.options if o.code in screen.answered.chosen
    )
    text = "\n\n".join(
        [context.t("course.check_header"), pick(check.question, lang), f"✓ <b>{chosen}</b>"]
    )
    try:
        await safe_edit(update, text)
    except TelegramError:
        logger.info("answered check not marked (update %s)", update.update_id)


async def pick_button(update: Update, context: BotContext, data: CheckPick) -> None:
    """Answer a single-choice check with the option tapped."""
    await _answer(update, context, data.enrolment, data.lesson, [data.option])


async def done_button(update: Update, context: BotContext, data: CheckDone) -> None:
    """Answer a multiple-choice check with the options ticked."""
    indices = [index for index in range(8) if data.ticks >> index & 1]
    await _answer(update, context, data.enrolment, data.lesson, indices)


async def tick_button(update: Update, context: BotContext, data: CheckTick) -> None:
    """Redraw the tick boxes with the ticks the button carries (nothing is stored yet)."""
    query = update.callback_query
    await toast(update, context)
    if query is None or query.message is None:
        return
    markup = getattr(query.message, "reply_markup", None)
    if markup is None:
        return
    labels = []
    for row in markup.inline_keyboard:
        for button in row:
            tick = CheckTick.unpack(
                button.callback_data if isinstance(button.callback_data, str) else None
            )
            if tick is not None:
                labels.append(button.text[2:])
    keyboard = _check_keyboard(context, data.enrolment, data.lesson, labels, True, data.ticks)
    try:
        await query.edit_message_reply_markup(reply_markup=keyboard)
    except TelegramError:  # a double tap: the boxes already show these ticks
        logger.info("tick boxes not updated (update %s)", update.update_id)


async def typed_in_lesson(update: Update, context: BotContext, _argument: str) -> None:
    """Text typed while a lesson waits for its buttons."""
    await reply(update, context, context.t("course.use_buttons"))


# --- pacing ---------------------------------------------------------------------------------


def _settings_text(context: BotContext, view: EnrolmentView) -> str:
    """The pace and reminder settings as text."""
    t = context.t
    lines = [t("course.settings_title", course=pick(view.title, _lang(context)))]
    lines.append(_pace_line(context, view))
    if view.pace is Pace.SCHEDULED:
        lines.append(t("course.zone_line", zone=view.timezone or context.settings.timezone))
        when = _next_at(context, view)
        if when is not None:
            lines.append(when)
    lines.append(t("course.nudges_on_line" if view.nudges else "course.nudges_off_line"))
    return "\n".join(lines)


def _settings_keyboard(context: BotContext, view: EnrolmentView) -> InlineKeyboardMarkup:
    """Self-paced or daily, the hour, the weekdays, pause or resume, reminders, back."""
    t = context.t
    e = view.id
    scheduled = view.pace is Pace.SCHEDULED
    rows = [
        [
            kb.button(
                ("✓ " if not scheduled else "") + t.plain("course.pace_self_button"),
                PaceSet(e, False).pack(),
            ),
            kb.button(
                ("✓ " if scheduled else "") + t.plain("course.pace_scheduled_button"),
                PaceSet(e, True).pack(),
            ),
        ]
    ]
    if scheduled:
        rows.append([kb.button(t.plain("course.hour_button"), PaceHour(e).pack())])
        days = []
        for day in range(DAYS):
            on = bool(view.weekdays >> day & 1)
            label = ("✓" if on else "") + t.plain(f"course.day_{day}")
            days.append(kb.button(label, PaceDays(e, view.weekdays ^ (1 << day)).pack()))
        rows.append(days)
        rows += _zone_rows(context, view)
    pause = (
        kb.button(t.plain("course.resume_button"), PacePause(e, False).pack())
        if view.paused
        else kb.button(t.plain("course.pause_button"), PacePause(e, True).pack())
    )
    rows.append([pause])
    nudges = "course.nudges_off_button" if view.nudges else "course.nudges_on_button"
    rows.append([kb.button(t.plain(nudges), PaceNudges(e, not view.nudges).pack())])
    rows.append([kb.button(t.plain("course.back_button"), CourseView(e).pack())])
    return InlineKeyboardMarkup(rows)


def _zone_rows(context: BotContext, view: EnrolmentView) -> list[list[InlineKeyboardButton]]:
    """The consortium's zones, the bot's zone and "another zone", the current one ticked."""
    t = context.t
    current = view.timezone or ""

    def zone(label: str, name: str) -> InlineKeyboardButton:
        """One zone button, ticked when it is the enrolment's zone."""
        return kb.button(("✓ " if name == current else "") + label, PaceZone(view.id, name).pack())

    own = t.plain("course.zone_bot_button", zone=context.settings.timezone)
    return [
        [zone(t.plain(key), name) for key, name in ZONES],
        [
            zone(own, ""),
            kb.button(t.plain("course.zone_other_button"), PaceZoneAsk(view.id).pack()),
        ],
    ]


async def _settings(
    update: Update, context: BotContext, view: EnrolmentView, *, edit: bool = True
) -> None:
    """Show the settings screen (edit the pressed message, or a new message)."""
    text, keyboard = _settings_text(context, view), _settings_keyboard(context, view)
    if edit:
        await safe_edit(update, text, keyboard)
    else:
        await reply(update, context, text, keyboard)


async def pace_button(update: Update, context: BotContext, data: PaceOpen) -> None:
    """Open the pace settings of the enrolment."""
    view = await _own_enrolment(update, context, data.enrolment)
    if view is None:
        return
    await _settings(update, context, view)


async def pace_set_button(update: Update, context: BotContext, data: PaceSet) -> None:
    """Self-paced, or one lesson a day: then ask for the hour."""
    profile = require_profile(context)
    pace = Pace.SCHEDULED if data.scheduled else Pace.SELF
    try:
        view = await pacing.set_pace(
            context.db, profile.telegram_id, data.enrolment, pace, context.settings.tz
        )
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await toast(update, context)
    await _settings(update, context, view)
    if data.scheduled:
        await _ask_hour(update, context, view)


async def _ask_hour(update: Update, context: BotContext, view: EnrolmentView) -> None:
    """Ask for the hour of the daily lesson, and wait for it."""
    await _set_awaiting(context, waiting_for(HOUR_ROUTE, view.id))
    zone = view.timezone or context.settings.timezone
    now = f"{view.hour:02d}:{view.minute:02d}"
    await reply(update, context, context.t("course.ask_hour", time=now, zone=zone))


async def hour_button(update: Update, context: BotContext, data: PaceHour) -> None:
    """Ask for a new hour."""
    view = await _own_enrolment(update, context, data.enrolment)
    if view is None:
        return
    await _ask_hour(update, context, view)


async def typed_hour(update: Update, context: BotContext, argument: str) -> None:
    """Take the typed hour (`9`, `09:00`, `9:30`); a wrong format is explained, still waiting."""
    profile = require_profile(context)
    message = update.effective_message
    enrolment = int_argument(argument)
    if message is None or enrolment is None:
        await _set_awaiting(context, None)
        await reply(update, context, context.t("errors.not_understood"))
        return
    try:
        hour, minute = pacing.parse_hour(message.text or "")
        view = await pacing.set_schedule(
            context.db,
            profile.telegram_id,
            enrolment,
            context.settings.tz,
            hour=hour,
            minute=minute,
        )
    except InvalidInput as exc:
        await reply(update, context, context.t(exc.key, **exc.values))
        return
    except ServiceError as exc:
        await _set_awaiting(context, None)
        await reply(update, context, context.t(exc.key, **exc.values))
        return
    await _set_awaiting(context, None)
    await reply(update, context, context.t("course.hour_saved", time=f"{hour:02d}:{minute:02d}"))
    await _settings(update, context, view, edit=False)


@functools.cache
def _zones_by_lower() -> dict[str, str]:
    """Every IANA zone name this system knows, by its lower-case form (read once)."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


async def _typed_zone_name(text: str) -> str:
    """The zone the learner typed, checked; `asia/almaty` is taken as Asia/Almaty.

    Raises:
        InvalidInput: `course.bad_zone`.
    """
    try:
        return pacing.check_zone(text)
    except InvalidInput:
        known = await asyncio.to_thread(_zones_by_lower)
        name = known.get(text.strip().lower())
        if name is None:
            raise
        return pacing.check_zone(name)


async def _save_zone(
    update: Update, context: BotContext, enrolment: int, zone: str
) -> EnrolmentView | None:
    """Store the zone ("" for the bot's zone) and say so; None (and why) when refused."""
    profile = require_profile(context)
    try:
        view = await pacing.set_schedule(
            context.db, profile.telegram_id, enrolment, context.settings.tz, timezone=zone
        )
    except ServiceError as exc:
        await _refused(update, context, exc)
        return None
    shown = view.timezone or context.settings.timezone
    await toast(update, context, context.t.plain("course.zone_saved", zone=shown))
    return view


async def zone_button(update: Update, context: BotContext, data: PaceZone) -> None:
    """Set the zone the button carries (a forged name is refused as a bad zone)."""
    view = await _save_zone(update, context, data.enrolment, data.zone)
    if view is not None:
        await _settings(update, context, view)


async def zone_ask_button(update: Update, context: BotContext, data: PaceZoneAsk) -> None:
    """Ask for another zone by its IANA name, and wait for it."""
    view = await _own_enrolment(update, context, data.enrolment)
    if view is None:
        return
    await _set_awaiting(context, waiting_for(ZONE_ROUTE, view.id))
    current = view.timezone or context.settings.timezone
    await reply(update, context, context.t("course.ask_zone", zone=current, example="Asia/Almaty"))


async def typed_zone(update: Update, context: BotContext, argument: str) -> None:
    """Take a typed IANA zone name; a bad one is explained and the bot still waits."""
    message = update.effective_message
    enrolment = int_argument(argument)
    if message is None or enrolment is None:
        await _set_awaiting(context, None)
        await reply(update, context, context.t("errors.not_understood"))
        return
    try:
        zone = await _typed_zone_name(message.text or "")
    except InvalidInput as exc:
        await reply(update, context, context.t(exc.key, **exc.values))
        return
    await _set_awaiting(context, None)
    view = await _save_zone(update, context, enrolment, zone)
    if view is None:
        return
    await reply(update, context, context.t("course.zone_saved", zone=zone))
    await _settings(update, context, view, edit=False)


async def days_button(update: Update, context: BotContext, data: PaceDays) -> None:
    """Set the weekdays the button carries."""
    profile = require_profile(context)
    try:
        view = await pacing.set_schedule(
            context.db,
            profile.telegram_id,
            data.enrolment,
            context.settings.tz,
            weekdays=data.weekdays,
        )
    except ServiceError as exc:
        await toast(update, context, context.t.plain(exc.key, **exc.values))
        return
    await toast(update, context)
    await _settings(update, context, view)


async def pause_button(update: Update, context: BotContext, data: PacePause) -> None:
    """Pause or resume."""
    profile = require_profile(context)
    change = pacing.pause if data.pause else pacing.resume
    try:
        view = await change(context.db, profile.telegram_id, data.enrolment, context.settings.tz)
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await toast(update, context)
    await _settings(update, context, view)


async def nudges_button(update: Update, context: BotContext, data: PaceNudges) -> None:
    """Turn the reminders on or off."""
    profile = require_profile(context)
    try:
        view = await pacing.set_nudges(
            context.db, profile.telegram_id, data.enrolment, data.on, context.settings.tz
        )
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await toast(update, context)
    await _settings(update, context, view)


# --- /start ---------------------------------------------------------------------------------


async def offer_continue(update: Update, context: BotContext) -> None:
    """On /start, offer a learner with a lesson still to take to continue."""
    profile = require_profile(context)
    try:
        views = await svc.my_enrolments(context.db, profile.telegram_id)
    except ServiceError:
        return
    t = context.t
    for view in views:
        if view.finished_at is not None or view.paused or view.lesson_index >= view.lessons:
            continue
        button = kb.button(t.plain("course.continue_button"), LessonContinue(view.id).pack())
        text = t(
            "course.continue_offer",
            course=pick(view.title, _lang(context)),
            number=view.lesson_index + 1,
            total=view.lessons,
        )
        await reply(update, context, text, InlineKeyboardMarkup([[button]]))
        return


# --- after a survey or test ----------------------------------------------------------------


async def after_test(update: Update, context: BotContext, submitted: Submitted) -> None:
    """Go on with each unfinished course whose pre- or post-test was just submitted."""
    profile = require_profile(context)
    try:
        views = await svc.my_enrolments(context.db, profile.telegram_id)
    except ServiceError:  # not a learner (an unfinished onboarding): no course to go on with
        return
    for view in views:
        if view.finished_at is not None:
            continue
        try:
            course = await svc.get_course(context.db, view.course_id)
            if submitted.instrument_code not in (course.pre_test, course.post_test):
                continue
            offer = await svc.offer_next(context.db, profile.telegram_id, view.id)
        except ServiceError as exc:
            await reply(update, context, context.t(exc.key, **exc.values))
            continue
        if offer.kind is OfferKind.FINISHED:
            await _show_offer(update, context, await _enrolment(context, view.id), offer)
        elif offer.kind is OfferKind.LESSON and submitted.instrument_code == course.pre_test:
            await _show_offer(update, context, view, offer)
