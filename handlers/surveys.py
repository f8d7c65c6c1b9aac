"""Taking surveys and tests in chat: pages edited in place, buttons with short codes.

A button answer edits the survey's message (its *page*): the question becomes a record of the
answer and the next question appears below it, so answering posts no new message. So does a
typed answer while the page is the last message the bot sent to the chat (`bot.chat_tail`):
the person's message is removed, its answer being the page's record now; otherwise a typed
answer closes the page and the next question starts a new one below it, as a full page, a
resume or a long survey's review do. What a page shows is `bot.survey_pages`; the rule and
examples are in docs/surveys-in-chat.md.

Each kind of button is a `bot.callbacks` class (`SurveyOption(attempt, step, option, page)`
is `s:o:12:3:2:1`, at most ~30 bytes whatever the language) with a small handler of its own;
the service checks that the attempt is the presser's and that the step is the one on screen,
so stale, doubled or forged presses change nothing (`page` only says what to draw). Typed
answers (numbers, text, dates) are routed here through the user's `awaiting` column, so a
restart in the middle of a question keeps waiting for it.

`awaiting` also says what reached the user, written once Telegram took the message:
`sv:<attempt>:*:<message>` after a step answered with buttons (or the review) on the page
`message`, `sv:<attempt>:<index>:<message>:<page>` after a question answered by typing (to
take text for it only, and to close its page with the answer), and `sv:<attempt>:-` when a
step could not be delivered. The page's message only changes when a page starts, so a button
answer costs no extra write. A step the user never saw is shown again on their next update:
typed text is not taken as an answer to it, and an old button brings it back instead of only
saying it is out of date. So does an old button on the page the survey is on now (the *live*
page): the page shows less than is stored, because the process that stored the last answer
stopped before it could edit the page (a crash, a replica killed; Telegram then delivers the
press again), or the press is the second of a double tap (the edit is a no-op then).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot import answer_in_response
from bot import keyboards as kb
from bot import survey_pages as pages
from bot.awaiting import int_argument, parse, waiting_for
from bot.callbacks import (
    BECOMES_PAGE,
    SurveyBack,
    SurveyContinue,
    SurveyDone,
    SurveyOption,
    SurveyPoint,
    SurveyRank,
    SurveyResume,
    SurveySkip,
    SurveyStart,
    SurveySubmit,
    SurveyTick,
    SurveyUnrank,
)
from bot.content.engine import AnswerError
from bot.content.scoring import scale_maximum
from bot.context import BotContext
from bot.features import Features, Submitted
from bot.i18n import Translator
from bot.replies import (
    fit_lines,
    reply,
    require_profile,
    safe_edit,
    shorten,
    toast,
    wave_label,
)
from bot.services import ServiceError
from bot.services import surveys as svc
from bot.services import users as user_service
from bot.services.surveys import Screen

logger = logging.getLogger(__name__)

AWAITING_ROUTE = "sv"  # `sv:<attempt>[:<step>[:<message>]]`: see the module docstring


def register(features: Features) -> None:
    """Add /surveys and /my_results, the survey buttons and typed answers."""
    features.command("surveys", list_surveys, menu=20)
    features.command("my_results", my_results, menu=25)
    features.button(SurveyStart, start_survey)
    features.button(SurveyResume, resume_survey)
    features.button(SurveyOption, choose_option)
    features.button(SurveyPoint, rate_point)
    features.button(SurveyTick, tick_option)
    features.button(SurveyRank, rank_option)
    features.button(SurveyUnrank, undo_rank)
    features.button(SurveyDone, confirm_ticks)
    features.button(SurveyContinue, pass_info)
    features.button(SurveySkip, skip_question)
    features.button(SurveyBack, go_back)
    features.button(SurveySubmit, submit_attempt)
    features.text(AWAITING_ROUTE, typed_answer)
    features.welcome(offer_unfinished)
    features.action("surveys", list_surveys)
    features.menu("surveys", "menu.surveys", "surveys", position=10)
    features.help("help.surveys")


ANSWER_PREVIEW = 150  # characters of each answer on the review screen
# Characters of each question on the review screen: as many as fit, so statements that
# share their first words stay apart, but never fewer than this.
QUESTION_PREVIEW_MIN = 60
QUESTION_PREVIEW_MAX = 160
REVIEW_BUDGET = 3600  # characters of review lines, under TEXT_BUDGET with the title and hint
NOT_DELIVERED = "-"  # the step part of `awaiting` when the step could not be sent
BUTTONS = "*"  # the step part of `awaiting` when a step with buttons is on the live page
TYPED = frozenset({"number", "text", "date"})  # items answered by typing, not with buttons
MESSAGE_LIMIT = 4096  # Telegram's, for a text counted as its HTML (longer than what shows)


def _title(screen: Screen) -> str:
    return screen.compiled.pack.title.get(screen.language)


def _header(screen: Screen) -> str:
    title = f"<b>{html.escape(_title(screen))}</b>"
    if screen.item is not None and screen.item.kind == "info":
        return title  # an introduction or a note is not a question: it takes no number
    return f"{title} · {screen.position} / {screen.total}"


def _question_body(screen: Screen, context: BotContext) -> list[str]:
    """The step on screen under its page's records: stem, question, hint, current answer."""
    item = screen.item
    assert item is not None
    t = context.t
    lang = screen.language
    parts = []
    if item.stem is not None:
        parts.append(html.escape(item.stem.get(lang)))
    parts.append(html.escape(item.text.get(lang)))
    if item.kind == "likert" and item.likert is not None:
        parts.append(
            t(
                "surveys.likert_hint",
                low=item.likert.low.get(lang),
                high=item.likert.high.get(lang),
                points=item.likert.points,
            )
        )
    elif item.kind == "multiple":
        parts.append(t("surveys.multiple_hint"))
    elif item.kind == "ranking":
        parts.append(t("surveys.ranking_hint", count=len(item.options)))
        if screen.draft:
            parts.append(
                "\n".join(
                    f"{place}. {html.escape(pages.label(item, code, lang))}"
                    for place, code in enumerate(screen.draft, 1)
                )
            )
    elif item.kind == "number":
        parts.append(t("surveys.number_hint_whole" if item.integer else "surveys.number_hint"))
    elif item.kind == "text":
        parts.append(t("surveys.text_hint", limit=item.max_length))
    elif item.kind == "date":
        parts.append(t("surveys.date_hint"))
    if screen.current is not None and item.kind in TYPED:
        answer = shorten(pages.label(item, screen.current, lang), ANSWER_PREVIEW)
        parts.append(t("surveys.current_answer", answer=answer))
    return parts


def _page_records(screen: Screen, context: BotContext, first: int, stop: int) -> list[str]:
    """The records of steps `first` to `stop` (excluded) of the screen's attempt."""
    return pages.records(
        screen.compiled, screen.answers or {}, screen.language, context.t, first, stop
    )


def _page_text(screen: Screen, context: BotContext, first: int) -> str:
    """The page that starts at step `first` with the question on screen under its records."""
    blocks = _page_records(screen, context, first, screen.index)
    return pages.compose(_header(screen), blocks, _question_body(screen, context))


def _closed_text(screen: Screen, context: BotContext, first: int, stop: int) -> str:
    """A page closed at step `stop` (excluded): its title and records, no question."""
    title = f"<b>{html.escape(_title(screen))}</b>"
    blocks = _page_records(screen, context, first, stop)
    return pages.closed(title, blocks, "…")


def _keyboard(screen: Screen, context: BotContext, page: int) -> InlineKeyboardMarkup | None:
    item = screen.item
    assert item is not None
    t = context.t
    a, i, p = screen.attempt_id, screen.index, page
    lang = screen.language
    rows: list[list[InlineKeyboardButton]] = []
    if item.kind in ("single", "multiple"):
        for option in item.option_order(screen.seed):
            # The option's position in the pack, not on screen: shuffling changes no code.
            position = item.options.index(option)
            if item.kind == "single":
                mark = "✓ " if screen.current == option.code else ""
                data = SurveyOption(a, i, position, p).pack()
            else:
                ticked = option.code in screen.draft
                mark = "☑ " if ticked else "☐ "
                # A tick box says which state it sets: a double tap cannot undo itself.
                data = SurveyTick(a, i, position, not ticked, p).pack()
            rows.append([kb.button(mark + option.text.get(lang), data)])
        if item.kind == "multiple":
            rows.append([kb.button(t.plain("surveys.done"), SurveyDone(a, i, p).pack())])
    elif item.kind == "ranking":
        ranked = screen.draft
        for option in item.option_order(screen.seed):
            if option.code not in ranked:
                position = item.options.index(option)
                label = f"{len(ranked) + 1}. " + option.text.get(lang)
                rows.append([kb.button(label, SurveyRank(a, i, position, p).pack())])
        controls = []
        if ranked:
            # Undo takes back the last choice made: the last place, when it filled itself
            # (one option left), goes with the choice before it.
            places = len(ranked) - (2 if len(ranked) == len(item.options) else 1)
            controls.append(
                kb.button(t.plain("surveys.rank_undo"), SurveyUnrank(a, i, places, p).pack())
            )
        if len(ranked) == len(item.options):
            controls.append(kb.button(t.plain("surveys.done"), SurveyDone(a, i, p).pack()))
        if controls:
            rows.append(controls)
    elif item.kind == "likert" and item.likert is not None:
        rows.append(
            [
                kb.button(
                    ("✓" if screen.current == point else "") + str(point),
                    SurveyPoint(a, i, point, p).pack(),
                )
                for point in range(1, item.likert.points + 1)
            ]
        )
    elif item.kind == "info":
        rows.append([kb.button(t.plain("surveys.continue"), SurveyContinue(a, i, p).pack())])
    navigation = []
    if screen.can_go_back:
        navigation.append(kb.button(t.plain("surveys.back"), SurveyBack(a, i, p).pack()))
    if not item.required and item.kind != "info":
        navigation.append(kb.button(t.plain("surveys.skip"), SurveySkip(a, i, p).pack()))
    if navigation:
        rows.append(navigation)
    return InlineKeyboardMarkup(rows) if rows else None


async def _set_awaiting(context: BotContext, value: str | None) -> None:
    """Store what the user's typed text goes to, if it changed."""
    profile = require_profile(context)
    if profile.awaiting != value:
        await user_service.store_awaiting(context.db, profile.telegram_id, value)
        context.profile = replace(profile, awaiting=value)


def _on_screen_value(screen: Screen, message_id: int, page: int) -> str:
    """The `awaiting` value saying that `screen` reached the user as `message_id` (a page)."""
    a, i = screen.attempt_id, screen.index
    if screen.item is None or screen.item.kind not in TYPED:
        # Unchanged from step to step on one page: nothing to write.
        try:
            return waiting_for(AWAITING_ROUTE, f"{a}:{BUTTONS}:{message_id}")
        except ValueError:
            return waiting_for(AWAITING_ROUTE, a)
    # The message and its page are only needed to close the page once the answer is typed:
    # dropped, the page first, if they do not fit.
    for argument in (f"{a}:{i}:{message_id}:{page}", f"{a}:{i}:{message_id}"):
        try:
            return waiting_for(AWAITING_ROUTE, argument)
        except ValueError:
            continue
    return waiting_for(AWAITING_ROUTE, f"{a}:{i}")


@dataclass(frozen=True)
class Shown:
    """What reached the user, as `awaiting` says.

    The attempt and the message of its live page (None when not known); for a typed
    question (`named`) its step and that page's first step.
    """

    attempt: int
    index: int | None
    message: int | None
    page: int | None
    named: bool


def _shown(value: str | None) -> Shown | None:
    """What an `awaiting` value says reached the user (see `Shown`)."""
    parsed = parse(value)
    if parsed is None or parsed[0] != AWAITING_ROUTE:
        return None
    parts = parsed[1].split(":")
    attempt = int_argument(parts[0])
    if attempt is None:
        return None
    if len(parts) == 1:  # a step with buttons reached the user, on a page not recorded
        return Shown(attempt, None, None, None, named=False)
    if parts[1] == BUTTONS:  # a step with buttons reached the user on this page
        page_message = int_argument(parts[2]) if len(parts) > 2 else None
        return Shown(attempt, None, page_message, None, named=False)
    message = int_argument(parts[2]) if len(parts) > 2 else None
    page = int_argument(parts[3]) if len(parts) > 3 else None
    return Shown(attempt, int_argument(parts[1]), message, page, named=True)


def _on_screen(screen: Screen, value: str | None) -> bool:
    """True when `awaiting` says the user was shown this step of this attempt.

    `sv:<attempt>` holds for any step answered with buttons, not for a typed question: it
    was written after a button step, so a typed question since then was never delivered.
    """
    shown = _shown(value)
    if shown is None or shown.attempt != screen.attempt_id:
        return False
    if not shown.named:
        return screen.item is None or screen.item.kind not in TYPED
    return shown.index == screen.index


def _protected(update: Update) -> bool:
    """Whether the pressed message cannot be forwarded or saved (a test's page)."""
    query = update.callback_query
    message = query.message if query is not None else None
    return bool(getattr(message, "has_protected_content", False))


def _live_page(update: Update, value: str | None) -> bool:
    """True when the pressed message is the page `awaiting` says the survey is on now."""
    shown = _shown(value)
    pressed = _pressed(update)
    return shown is not None and pressed is not None and shown.message == pressed


def _pressed(update: Update) -> int | None:
    """The id of the message whose button was pressed (the page to edit), if any."""
    query = update.callback_query
    if query is None or query.message is None:
        return None
    return query.message.message_id


async def _edit_page(
    update: Update, message_id: int, text: str, keyboard: InlineKeyboardMarkup | None
) -> bool:
    """Edit the page `message_id` into `text`; False if it cannot be (then send it instead).

    A double tap edits a page into what it already says, which is no failure. A page deleted
    by the user or one Telegram will not edit, and an edit still failing after
    bot.floodguard's retries, fall back to a new message.
    """
    try:
        await safe_edit(update, text, keyboard, message_id=message_id)
    except Forbidden:  # blocked: sending fails too; the error handler takes it
        raise
    except BadRequest:  # (a NetworkError in PTB: caught first)
        logger.info("survey page not edited (update %s)", update.update_id, exc_info=True)
        return False
    except NetworkError:
        logger.warning("survey page not edited (update %s)", update.update_id, exc_info=True)
        return False
    return True


async def show(
    update: Update,
    context: BotContext,
    screen: Screen,
    notice: str | None = None,
    *,
    page: int | None = None,
    edit: bool = False,
    on_page: int | None = None,
) -> bool:
    """Show the screen: the next question, the review, or the result (after `notice`).

    `edit`: on the page whose button was pressed (`page`: its first step, from the button);
    `on_page`: on that page of the chat (a typed answer's, `page` its first step); else in a
    new message, which starts a page of its own. A question that would not fit the page
    closes it and starts a new one (see `bot.survey_pages`). True when the screen was drawn
    on the page, in place.
    """
    chat = update.effective_chat
    if chat is None:
        return False
    if screen.kind == "done":
        await _set_awaiting(context, None)
        await _show_result(update, context, screen, on_page)
        submitted = Submitted(screen.attempt_id, screen.compiled.pack.code)
        for hook in context.features.submit_hooks:  # the course goes on after its tests
            await hook(update, context, submitted)
        return False
    pressed = on_page
    if pressed is None and edit:
        pressed = _pressed(update)
        if pressed is not None and screen.protect_content and not _protected(update):
            pressed = None  # a test's protected screens go in a protected message (not an edit)
    first = pages.first_step(page if pressed is not None else None, screen.index)
    text, keyboard = _render(screen, context, first)
    if pressed is not None and _starts_a_page(screen, context, first, text):
        # The page is full (or the review cannot list every answer in its place): it keeps
        # its records, and the step starts the next page.
        await _close_page(update, pressed, _closed_text(screen, context, first, screen.index))
        pressed, first = None, screen.index
        text, keyboard = _render(screen, context, first)
    if notice:
        text = f"{notice}\n\n{text}"
    if pressed is not None and await _edit_page(update, pressed, text, keyboard):
        await _set_awaiting(context, _on_screen_value(screen, pressed, first))
        return True
    try:
        sent = await context.bot.send_message(
            chat.id, text, reply_markup=keyboard, protect_content=screen.protect_content
        )
    except (Forbidden, BadRequest):
        # Blocked, or refused for good (a text Telegram will not take): the error handler
        # apologises and alerts the admins; marking it undelivered would retry it forever.
        raise
    except NetworkError:
        # Still failing after bot.floodguard's retries (a 5xx, a broken connection, a
        # timeout). The answer before it is stored; the user's next update (typed text, an
        # old button) shows this step again.
        logger.warning("survey step not delivered to chat %s", chat.id, exc_info=True)
        await _set_awaiting(
            context, waiting_for(AWAITING_ROUTE, f"{screen.attempt_id}:{NOT_DELIVERED}")
        )
        return False
    await _set_awaiting(context, _on_screen_value(screen, sent.message_id, first))
    return False


def _starts_a_page(screen: Screen, context: BotContext, first: int, text: str) -> bool:
    """Whether the step drawn as `text` on the page from `first` must start a page instead.

    A question that does not fit its page does. The review takes its page's place when it
    lists every answer (the page's records among them); when a long survey's review can list
    only some, the page is closed so its records stay in the chat.
    """
    if screen.kind == "item":
        return not pages.fits(text)
    if first >= screen.index or not _page_records(screen, context, first, screen.index):
        return False
    return not _review_lines(screen, context)[1]


def _render(
    screen: Screen, context: BotContext, first: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons of a page starting at step `first` that shows `screen`."""
    if screen.kind == "review":
        return _review(screen, context, first)
    return _page_text(screen, context, first), _keyboard(screen, context, first)


async def _close_page(update: Update, message_id: int, text: str) -> None:
    """Edit the page `message_id` into its closed form, without buttons (best effort)."""
    try:
        await safe_edit(update, text, message_id=message_id)
    except TelegramError:  # the old page keeps its buttons: pressed, they are out of date
        logger.info("survey page not closed (update %s)", update.update_id)


async def _show_result(
    update: Update, context: BotContext, screen: Screen, review: int | None = None
) -> None:
    """Thank the user; show scores, levels, the change since the pre wave, and a chart.

    `review`: the review's message, whose Submit was pressed. The thanks and the scores go
    under its list of answers, in place of its buttons (no new message: a lecture hall's
    Submits come in a wave); when the two would not fit one message, or the edit fails, the
    review only loses its buttons and the thanks come in a new message. The chart follows in
    a message of its own.
    """
    profile = require_profile(context)
    chat = update.effective_chat
    if chat is None:
        return
    text = _result(screen, context)
    pack = screen.compiled.pack
    view = None
    if screen.result is not None and pack.settings.show_results == "immediately":
        views = await svc.my_results(context.db, profile.telegram_id, screen.attempt_id)
        view = views[0] if views else None
        if view is not None and view.previous:
            text += "\n\n" + "\n".join(_change_lines(view, context))
    if review is None or not await _result_on_review(update, context, screen, review, text):
        if review is not None:
            await _remove_keyboard(update)
        await context.bot.send_message(chat.id, text)
    if view is not None:
        await _send_chart(update, context, view)


async def _result_on_review(
    update: Update, context: BotContext, screen: Screen, review: int, result: str
) -> bool:
    """Edit the review into its answers followed by `result`, without buttons; True if done."""
    closed = f"{_review_lines(screen, context, submitted=True)[0]}\n\n{result}"
    if len(closed) > MESSAGE_LIMIT:
        return False
    return await _edit_page(update, review, closed, None)


def _score_text(t: Translator, value: float, maximum: float | None) -> str:
    """A scale score as people read it: "<b>3.7</b> of 5" (without "of" when unbounded)."""
    if maximum is None:
        return f"<b>{t.number(value)}</b>"
    return t("results.score_of", score=t.number(value), max=t.number(maximum, trim=True))


def _change_text(t: Translator, before: float, now: float, maximum: float | None) -> str:
    """A change since the pre wave: "1.3 → <b>2.3</b> of 5 (+1.0)"."""
    # The change of the exact scores, rounded once: not the difference of two rounded numbers.
    delta = t.number(now - before, sign=True)
    if maximum is None:
        return f"{t.number(before)} → <b>{t.number(now)}</b> ({delta})"
    return t(
        "results.change_of",
        before=t.number(before),
        now=t.number(now),
        max=t.number(maximum, trim=True),
        delta=delta,
    )


def _change_lines(view: svc.ResultView, context: BotContext) -> list[str]:
    t = context.t
    lines = [t("results.change", wave=wave_label(context, view.previous_wave or "pre"))]
    scales = view.result.get("scales", {})
    for scale in view.compiled.pack.scales:
        now = scales.get(scale.code, {}).get("value")
        before = (view.previous or {}).get(scale.code)
        if now is None or before is None:
            continue
        change = _change_text(t, before, now, scale_maximum(view.compiled, scale))
        lines.append(f"• {html.escape(scale.title.get(t.language))}: {change}")
    return lines


async def _send_chart(update: Update, context: BotContext, view: svc.ResultView) -> None:
    """A bar chart of the scales (paired with the pre wave when linked)."""
    await answer_in_response.flush(update)  # the Submit button's spinner stops before it
    # matplotlib takes a second to import: loaded off the event loop at start-up (bot.app).
    from bot.services.charts import ScaleBar, render_scales_async  # noqa: PLC0415

    chat = update.effective_chat
    if chat is None:
        return
    t = context.t
    pack = view.compiled.pack
    scales = view.result.get("scales", {})
    bars = [
        ScaleBar(
            label=scale.title.get(t.language),
            value=float(scales[scale.code]["value"]),
            previous=(view.previous or {}).get(scale.code),
        )
        for scale in pack.scales
        if scales.get(scale.code, {}).get("value") is not None
    ]
    if not bars:
        return
    maximum = None
    likert_points = [s.points for s in pack.likert_scales.values()]
    if (
        pack.kind == "survey"
        and likert_points
        and all(scale.method == "mean" for scale in pack.scales)
    ):
        maximum = float(max(likert_points))
    title = pack.title.get(t.language)
    png = await render_scales_async(
        title,
        bars[:12],
        maximum=maximum,
        previous_label=wave_label(context, view.previous_wave or "pre"),
        current_label=wave_label(context, view.wave),
        language=t.language,
    )
    await context.bot.send_photo(chat.id, png, caption=t("results.chart_caption", title=title))


async def my_results(update: Update, context: BotContext) -> None:
    """List every finished survey and test with scores and changes (/my_results)."""
    profile = require_profile(context)
    t = context.t
    views = await svc.my_results(context.db, profile.telegram_id)
    if not views:
        await reply(update, context, t("results.none"))
        return
    lines = [t("results.title")]
    for view in views[:10]:
        date = view.submitted_at.astimezone(context.settings.tz).strftime("%Y-%m-%d")
        lines.append("")
        lines.append(
            t(
                "results.line",
                title=view.title.get(t.language) or view.title["en"],
                wave=wave_label(context, view.wave),
                date=date,
            )
        )
        result = view.result
        if not view.visible:
            lines.append(t("results.hidden"))
            continue
        if result.get("points") is not None:
            lines.append(
                t(
                    "surveys.test_score",
                    points=t.number(result["points"], trim=True),
                    max=t.number(result["max_points"], trim=True),
                    percent=t.number(result["percent"], trim=True),
                )
            )
        if view.previous:
            lines.extend(_change_lines(view, context)[1:])
        else:
            for scale in view.compiled.pack.scales:
                value = result.get("scales", {}).get(scale.code, {}).get("value")
                if value is not None:
                    score = _score_text(t, value, scale_maximum(view.compiled, scale))
                    lines.append(f"• {html.escape(scale.title.get(t.language))}: {score}")
    await reply(update, context, fit_lines(lines, lambda n: "…"))


def _review_lines(
    screen: Screen, context: BotContext, *, submitted: bool = False
) -> tuple[str, bool]:
    """The review's text, and whether it lists every answer (a long survey's may not).

    `submitted`: the answers as they were sent, without the hint to check and change them.
    """
    t = context.t
    answers = screen.compiled.applicable(screen.answers or {})
    lines = [f"<b>{html.escape(_title(screen))}</b>"]
    if not submitted:
        lines.append(t("surveys.review"))
    shown = [item for item in screen.compiled.items if item.code in answers]
    # Numbered as the questions were ("n / N"), each as long as the screen allows.
    answered = [
        shorten(pages.label(item, answers[item.code], screen.language), ANSWER_PREVIEW)
        if answers[item.code] is not None
        else t.plain("surveys.skipped")
        for item in shown
    ]
    room = (REVIEW_BUDGET - sum(len(a) + 10 for a in answered)) // max(1, len(shown))
    limit = max(QUESTION_PREVIEW_MIN, min(QUESTION_PREVIEW_MAX, room))
    for number, (item, answer) in enumerate(zip(shown, answered, strict=True), start=1):
        question = pages.cut_middle(item.text.get(screen.language), limit)
        lines.append(f"{number}. {html.escape(question)} — <b>{html.escape(answer)}</b>")
    more: list[int] = []

    def say_more(count: int) -> str:
        more.append(count)
        return t("surveys.review_more", count=count)

    return fit_lines(lines, say_more), not more


def _review(screen: Screen, context: BotContext, page: int) -> tuple[str, InlineKeyboardMarkup]:
    """The review: every answer, Submit and Back (it takes its page's place: no records)."""
    t = context.t
    buttons = [kb.button(t.plain("surveys.submit"), SurveySubmit(screen.attempt_id).pack())]
    if screen.can_go_back:
        back = SurveyBack(screen.attempt_id, screen.index, page)
        buttons.append(kb.button(t.plain("surveys.back"), back.pack()))
    return _review_lines(screen, context)[0], kb.rows(buttons, per_row=2)


def _result(screen: Screen, context: BotContext) -> str:
    t = context.t
    pack = screen.compiled.pack
    result = screen.result
    lang = screen.language
    if result is None or pack.settings.show_results == "never":
        return t("surveys.thanks")
    if pack.settings.show_results == "on_close":
        return t("surveys.thanks_results_later")
    lines = [t("surveys.thanks"), f"<b>{html.escape(pack.title.get(lang))}</b>"]
    levels = {level.code: level for level in pack.levels}
    if result.points is not None:
        level = levels.get(result.level or "")
        lines.append(
            t(
                "surveys.test_score",
                points=t.number(result.points, trim=True),
                max=t.number(result.max_points or 0.0, trim=True),
                percent=t.number(result.percent or 0.0, trim=True),
            )
        )
        if level is not None:
            lines.append(t("surveys.level", level=level.label.get(lang)))
    for scale in pack.scales:
        scored = result.scales.get(scale.code)
        if scored is None or scored.value is None:
            continue
        band = next((lv for lv in scale.levels if lv.code == scored.level), None)
        label = f" — {html.escape(band.label.get(lang))}" if band else ""
        score = _score_text(t, scored.value, scale_maximum(screen.compiled, scale))
        lines.append(f"• {html.escape(scale.title.get(lang))}: {score}{label}")
    return "\n".join(lines)


async def list_surveys(update: Update, context: BotContext) -> None:
    """List the surveys and tests open to the user (/surveys)."""
    profile = require_profile(context)
    t = context.t
    if profile.next_step is not None:
        await reply(update, context, t("onboarding.finish_first"))
        return
    campaigns = await svc.open_campaigns(context.db, profile.telegram_id)
    if not campaigns:
        await reply(update, context, t("surveys.none_open"))
        return
    buttons = []
    for campaign in campaigns:
        title = campaign.title.get(t.language) or campaign.title["en"]
        mark = {"new": "▶", "in_progress": "⏯", "submitted": "✅"}[campaign.status]
        label = f"{mark} {title} ({wave_label(context, campaign.wave)})"
        buttons.append(kb.button(label, SurveyStart(campaign.id, BECOMES_PAGE).pack()))
    await reply(update, context, t("surveys.choose"), kb.rows(buttons))


async def offer_unfinished(update: Update, context: BotContext) -> None:
    """Offer to continue an unfinished attempt (after /start)."""
    profile = require_profile(context)
    attempts = await svc.unfinished(context.db, profile.telegram_id)
    if not attempts:
        return
    resume = SurveyResume(attempts[0]).pack()
    keyboard = kb.rows([kb.button(context.t.plain("surveys.continue"), resume)])
    await reply(update, context, context.t("surveys.unfinished"), keyboard)


async def _step(
    update: Update,
    context: BotContext,
    call: Awaitable[Screen],
    attempt_id: int | None,
    *,
    page: int | None = None,
    edit: bool = False,
    submitted: bool = False,
) -> None:
    """Show the screen a button leads to, on the pressed page (`edit`) or in a new message.

    Or say why the press changed nothing; `attempt_id` names the attempt the button was
    under, to show its current step again if the user never saw it. `submitted`: the pressed
    message is the review, which the thanks and the scores close (`_show_result`).
    """
    try:
        screen = await call
    except ServiceError as exc:
        await _refused(update, context, exc, attempt_id, page)
        return
    # The answer is stored: the button's answer and the next screen go out together, so the
    # person waits for one round trip to Telegram, not two.
    answered = asyncio.ensure_future(toast(update, context))
    try:
        if submitted:
            await show(update, context, screen, on_page=_pressed(update))
        else:
            await show(update, context, screen, page=page, edit=edit)
    finally:
        await answered


async def start_survey(update: Update, context: BotContext, data: SurveyStart) -> None:
    """Start, or go on with, the user's attempt at the campaign of the button."""
    profile = require_profile(context)
    call = svc.start(context.db, profile.telegram_id, data.campaign, context.t.language)
    # The /surveys list, or the invitation, becomes the survey's page: in a lecture hall's
    # first seconds every new message counts against Telegram's 30 a second.
    await _step(update, context, call, None, edit=data.place == BECOMES_PAGE)


async def resume_survey(update: Update, context: BotContext, data: SurveyResume) -> None:
    """Show the current step of an unfinished attempt again, as a new page."""
    profile = require_profile(context)
    call = svc.current_screen(context.db, profile.telegram_id, data.attempt)
    await _step(update, context, call, data.attempt)


async def choose_option(update: Update, context: BotContext, data: SurveyOption) -> None:
    """Answer a single-choice question with the option pressed."""
    profile = require_profile(context)
    call = svc.choose(context.db, profile.telegram_id, data.attempt, data.step, data.option)
    await _step(update, context, call, data.attempt, page=data.page, edit=True)


async def rate_point(update: Update, context: BotContext, data: SurveyPoint) -> None:
    """Answer a Likert question with the point pressed."""
    profile = require_profile(context)
    call = svc.rate(context.db, profile.telegram_id, data.attempt, data.step, data.point)
    await _step(update, context, call, data.attempt, page=data.page, edit=True)


async def confirm_ticks(update: Update, context: BotContext, data: SurveyDone) -> None:
    """Answer a multiple-choice question with the options ticked."""
    profile = require_profile(context)
    call = svc.confirm_selection(context.db, profile.telegram_id, data.attempt, data.step)
    await _step(update, context, call, data.attempt, page=data.page, edit=True)


async def tick_option(update: Update, context: BotContext, data: SurveyTick) -> None:
    """Tick or untick an option of a multiple-choice question and redraw its boxes."""
    profile = require_profile(context)
    try:
        updated = await svc.tick(
            context.db, profile.telegram_id, data.attempt, data.step, data.option, on=data.on
        )
    except ServiceError as exc:
        await _refused(update, context, exc, data.attempt, data.page)
        return
    await toast(update, context)
    first = pages.first_step(data.page, updated.index)
    text, keyboard = _render(updated, context, first)
    try:
        await safe_edit(update, text, keyboard)
    except TelegramError:  # the tick is stored; the next tap edits the boxes again
        logger.info("tick boxes not updated (update %s)", update.update_id)


async def _redraw(
    update: Update, context: BotContext, call: Awaitable[Screen], attempt: int, page: int | None
) -> None:
    """Store a draft change (a tick, a place ranked or undone) and redraw the question."""
    try:
        updated = await call
    except ServiceError as exc:
        await _refused(update, context, exc, attempt, page)
        return
    await toast(update, context)
    first = pages.first_step(page, updated.index)
    text, keyboard = _render(updated, context, first)
    try:
        await safe_edit(update, text, keyboard)
    except TelegramError:  # the draft is stored; the next tap redraws it
        logger.info("question not redrawn (update %s)", update.update_id)


async def rank_option(update: Update, context: BotContext, data: SurveyRank) -> None:
    """Give the option pressed the next place of the ranking, and redraw it."""
    profile = require_profile(context)
    call = svc.rank(context.db, profile.telegram_id, data.attempt, data.step, data.option)
    await _redraw(update, context, call, data.attempt, data.page)


async def undo_rank(update: Update, context: BotContext, data: SurveyUnrank) -> None:
    """Take back the last place ranked, and redraw the ranking."""
    profile = require_profile(context)
    call = svc.unrank(context.db, profile.telegram_id, data.attempt, data.step, data.places)
    await _redraw(update, context, call, data.attempt, data.page)


async def pass_info(update: Update, context: BotContext, data: SurveyContinue) -> None:
    """Move on from an introduction or a note: it stays on the page, in full."""
    profile = require_profile(context)
    call = svc.pass_info(context.db, profile.telegram_id, data.attempt, data.step)
    await _step(update, context, call, data.attempt, page=data.page, edit=True)


async def skip_question(update: Update, context: BotContext, data: SurveySkip) -> None:
    """Skip an optional question: it is marked skipped, and the next screen follows."""
    profile = require_profile(context)
    call = svc.skip(context.db, profile.telegram_id, data.attempt, data.step)
    await _step(update, context, call, data.attempt, page=data.page, edit=True)


async def go_back(update: Update, context: BotContext, data: SurveyBack) -> None:
    """Show the question before the step the Back button was under, to change its answer."""
    profile = require_profile(context)
    call = svc.back(context.db, profile.telegram_id, data.attempt, data.step)
    await _step(update, context, call, data.attempt, page=data.page, edit=True)


async def submit_attempt(update: Update, context: BotContext, data: SurveySubmit) -> None:
    """Submit the attempt from its review, and show the result."""
    profile = require_profile(context)
    call = svc.submit(context.db, profile.telegram_id, data.attempt)
    await _step(update, context, call, data.attempt, submitted=True)


# Refusals that leave the question on screen as it is: a short notice on the button is enough.
TOAST_ONLY = frozenset(
    {
        "errors.stale_button",
        "surveys.tick_something",
        "surveys.rank_all",
        "surveys.required",
        "surveys.nothing_before",
        "surveys.not_finished",
        "surveys.already_submitted",
    }
)


async def _refused(
    update: Update,
    context: BotContext,
    exc: ServiceError,
    attempt_id: int | None = None,
    page: int | None = None,
) -> None:
    """Say why the press changed nothing: a toast when the question stays, else a message."""
    if (
        exc.key == "errors.stale_button"
        and attempt_id is not None
        and await _bring_back(update, context, attempt_id, page)
    ):
        return
    text = context.t.plain(exc.key, **exc.values)
    await toast(update, context, text)
    if exc.key in TOAST_ONLY:
        return
    waiting = parse(require_profile(context).awaiting)
    if waiting is not None and waiting[0] == AWAITING_ROUTE:
        await _set_awaiting(context, None)
    await reply(update, context, context.t(exc.key, **exc.values))


async def _bring_back(
    update: Update, context: BotContext, attempt_id: int, page: int | None
) -> bool:
    """Show the attempt's current step where the user cannot see it; True if it was shown.

    An old button pressed after a reply was lost (or after /cancel) is the user looking for
    where they are: answering it "out of date" only would leave them without a question. So
    is an old button on the live page (its edit was lost with the process that stored the
    answer). The step is drawn on the page whose button was pressed. An old button on an
    older page is only answered "out of date": the step is on screen below it.
    """
    profile = require_profile(context)
    try:
        screen = await svc.current_screen(context.db, profile.telegram_id, attempt_id)
    except ServiceError:  # someone else's attempt, or one that is over: nothing to show
        return False
    if _on_screen(screen, profile.awaiting) and not _live_page(update, profile.awaiting):
        return False
    await toast(update, context, context.t.plain("surveys.shown_again"))
    await show(update, context, screen, page=page, edit=True)
    return True


async def _remove_keyboard(update: Update) -> None:
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError:  # already without buttons (a double tap): nothing to do
            return


async def _close_typed_page(
    update: Update, context: BotContext, screen: Screen, answered: int, awaiting: str | None
) -> None:
    """Close the page that held a question answered by typing: its records, the answer last.

    Otherwise its Back and Skip stay under a question already answered, and the next
    question goes in a new message below the person's own (best effort).
    """
    shown = _shown(awaiting)
    chat = update.effective_chat
    if shown is None or shown.message is None or chat is None:
        return
    first = pages.first_step(shown.page, answered)
    try:
        await context.bot.edit_message_text(
            _closed_text(screen, context, first, answered + 1),
            chat_id=chat.id,
            message_id=shown.message,
        )
    except TelegramError:
        logger.info("typed answer not marked in chat %s", chat.id)


async def _attempt_over(update: Update, context: BotContext, exc: ServiceError) -> None:
    """Stop taking typed text for an attempt that can take no answers, and say why."""
    await _set_awaiting(context, None)
    await reply(update, context, context.t(exc.key, **exc.values))


async def save_typed(update: Update, context: BotContext, attempt_id: int) -> None:
    """Take a typed answer (number, text, date) to the item on screen."""
    profile = require_profile(context)
    message = update.effective_message
    if message is None:
        return
    t = context.t
    telegram_id = profile.telegram_id
    awaiting = profile.awaiting
    try:
        typed = await svc.answer_typed(
            context.db,
            telegram_id,
            attempt_id,
            message.text or "",
            lambda screen: _on_screen(screen, awaiting),
        )
    except AnswerError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    except ServiceError as exc:
        await _attempt_over(update, context, exc)
        return
    if not typed.taken:
        # The step never reached the user: the text cannot be an answer to it.
        await show(update, context, typed.screen, notice=t("surveys.typed_not_taken"))
        return
    page = _typed_page_is_last(update, context, awaiting)
    if page is not None:
        shown, message_id = page
        if await show(update, context, typed.following, page=shown.page, on_page=message_id):
            await _remove_typed(update, context)
        return
    await _close_typed_page(update, context, typed.following, typed.screen.index, awaiting)
    await show(update, context, typed.following)


def _typed_page_is_last(
    update: Update, context: BotContext, awaiting: str | None
) -> tuple[Shown, int] | None:
    """The typed question's page, when it is still the last message the bot sent to the chat.

    Then the next step is drawn on it and the person's message below it goes (`_remove_typed`),
    so the page is the bottom of the chat again and answering costs no new message. Anything
    sent since (an error reply, a broadcast, a lesson; `bot.chat_tail`), or a page whose first
    step is not known, and the next step starts a page below what the person typed.
    """
    shown = _shown(awaiting)
    chat = update.effective_chat
    if shown is None or shown.message is None or shown.page is None or chat is None:
        return None
    if not context.bot_data.chat_tail.is_last(chat.id, shown.message):
        return None
    return shown, shown.message


async def _remove_typed(update: Update, context: BotContext) -> None:
    """Delete the person's typed answer: it is the page's record now, and the page is last."""
    message = update.effective_message
    if message is None:
        return
    try:
        await context.bot.delete_message(message.chat_id, message.message_id)
    except TelegramError:  # too old, or already gone: the page is above it, still in order
        logger.info("typed answer not removed in chat %s", message.chat_id)


async def typed_answer(update: Update, context: BotContext, _argument: str) -> None:
    """Route typed text to the attempt the stored `sv:<attempt>[:<step>[:<message>]]` names."""
    shown = _shown(require_profile(context).awaiting)
    if shown is None:
        await reply(update, context, context.t("errors.not_understood"))
        return
    await save_typed(update, context, shown.attempt)
