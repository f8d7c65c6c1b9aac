"""Jurors in chat: the jury invite link, /jury, and one review from the entry to its submission.

The invite link `?start=j-<jury code>` (organizers find it in /contest_setup) joins the jury of
its contest; someone not registered yet is onboarded first and the link is followed after the
last step (the generic deep-link mechanism keeps it). `/jury` lists the juror's contests (with
one, its queue at once): the reviews pending first, then the submitted ones; the allocation
message's and the reminder's button (`JuryQueue`) open the same queue.

A review (`ReviewOpen`) sends the entry as the juror may see it: its code, title, description
and link, with its authors' names and universities only when the contest is not blind; then its
files again by their Telegram `file_id`; then the score card. The card lists the rubric with the
scores so far and asks for the first criterion not scored: buttons 0..max, or the score typed
when the maximum is over 10 (route `cj_score:<review>-<criterion>`). After the last criterion it
asks for a comment (route `cj_comment:<review>`, or Skip), then shows the preview with the
weighted score and Submit. Until the jury deadline a submitted review can be revised (Change a
score, Change the comment): it stays submitted, changed in place.

Every score and comment is in the review's row as soon as it is given, so a restart in the
middle loses nothing: opening the review again shows the card where it stopped. The service
refuses a review that is not the presser's (a forged button), a score out of range and anything
after the jury deadline, each with its message.
"""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import keyboards as kb
from bot.awaiting import int_argument, waiting_for
from bot.callbacks import (
    JuryQueue,
    ReviewComment,
    ReviewCommentSkip,
    ReviewCriterion,
    ReviewOpen,
    ReviewScore,
    ReviewSubmit,
)
from bot.context import BotContext
from bot.conversation import answered_refusals, set_awaiting, stop_waiting
from bot.features import Features
from bot.i18n import Translator
from bot.replies import reply, require_profile, safe_edit, shorten, toast
from bot.services import InvalidInput, ServiceError
from bot.services import contest_jury as svc
from bot.services.contest import ContestView, pick
from bot.services.contest_entries import FileView
from bot.services.contest_jury import ReviewScreen, ReviewState
from bot.services.event_times import show_when
from bot.services.roles import Role

SCORE_ROUTE = "cj_score"  # `cj_score:<review>-<criterion>`: a typed score (max over 10)
COMMENT_ROUTE = "cj_comment"  # `cj_comment:<review>`: the review's comment
JURY_ROUTES = (SCORE_ROUTE, COMMENT_ROUTE)
BUTTONS_MAX = 10  # criteria scored up to this maximum get a button per value
PER_ROW = 6
QUEUE_MAX = 90  # review buttons under the queue (Telegram allows 100 buttons in all)
# Built, not literal: the i18n check reads dotted literals as translation keys.
QUEUE_ACTION = ".".join(("contest", "jury"))


def register(features: Features) -> None:
    """Add the jury invite link, /jury and the review's buttons and typed input."""
    features.deep_link("j", join_by_link)
    features.command("jury", my_jury)
    features.button(JuryQueue, answered_refusals(queue_button))
    features.button(ReviewOpen, answered_refusals(open_button))
    features.button(ReviewScore, answered_refusals(score_button))
    features.button(ReviewCriterion, answered_refusals(criterion_button))
    features.button(ReviewComment, answered_refusals(comment_button))
    features.button(ReviewCommentSkip, answered_refusals(skip_comment_button))
    features.button(ReviewSubmit, answered_refusals(submit_button))
    features.text(SCORE_ROUTE, typed_score)
    features.text(COMMENT_ROUTE, typed_comment)
    features.action(QUEUE_ACTION, my_jury)
    features.menu("jury", "menu.jury", QUEUE_ACTION, (Role.JUROR,), position=57)
    features.help("help.jury", roles=(Role.JUROR,))


# --- small helpers ----------------------------------------------------------------------------


def _when(context: BotContext, moment: datetime | None) -> str:
    """A stored moment as the reader reads it, with the zone named; a dash for none."""
    if moment is None:
        return "—"
    return show_when(moment, context.settings.tz, context.t.language)


# --- joining ----------------------------------------------------------------------------------


async def join_by_link(update: Update, context: BotContext, code: str) -> None:
    """Join the jury whose code a `?start=j-<code>` link carries."""
    profile = require_profile(context)
    t = context.t
    try:
        joined = await svc.join(context.db, profile.telegram_id, code)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    contest = joined.contest
    title = contest.title_in(t.language)
    deadline = _when(context, contest.jury_deadline_at)
    if not joined.created:
        await reply(update, context, t("contest.jury_already", contest=title))
        if joined.after_allocation:
            await show_queue(update, context, contest.id)
        return
    if joined.after_allocation:
        await reply(
            update, context, t("contest.jury_joined_late", contest=title, deadline=deadline)
        )
        return
    await reply(
        update,
        context,
        t(
            "contest.jury_joined",
            contest=title,
            closes=_when(context, contest.closes_at),
            deadline=deadline,
        ),
    )


# --- the queue --------------------------------------------------------------------------------


async def my_jury(update: Update, context: BotContext) -> None:
    """The juror's contests: the queue of the one, or a choice (/jury)."""
    profile = require_profile(context)
    t = context.t
    await stop_waiting(context, JURY_ROUTES)
    juries = await svc.my_juries(context.db, profile.telegram_id)
    if not juries:
        await reply(update, context, t("contest.jury_none"))
        return
    if len(juries) == 1:
        await show_queue(update, context, juries[0].id)
        return
    buttons = [
        kb.button(shorten(c.title_in(t.language), 60), JuryQueue(c.id).pack()) for c in juries
    ]
    await reply(update, context, t("contest.jury_choose"), kb.rows(buttons))


def _queue_label(t: Translator, item: svc.QueueItem, criteria: int) -> str:
    """A review's button in the queue: its state, code, title and how far it is scored."""
    title = shorten(item.title or "", 36)
    if item.state is ReviewState.SUBMITTED:
        return f"✅ {item.entry_code} · {title}"
    return f"⏳ {item.entry_code} · {title} ({item.scored}/{criteria})"


async def show_queue(update: Update, context: BotContext, contest_id: int) -> None:
    """The juror's reviews in one contest, pending first, each a button to open it."""
    profile = require_profile(context)
    t = context.t
    queue = await svc.my_queue(context.db, profile.telegram_id, contest_id)
    contest = queue.contest
    lines = [
        t(
            "contest.jury_queue",
            contest=contest.title_in(t.language),
            pending=queue.pending,
            submitted=queue.submitted,
            deadline=_when(context, contest.jury_deadline_at),
        )
    ]
    if not queue.items:
        key = (
            "contest.jury_queue_waiting"
            if contest.allocated_at is None
            else "contest.jury_queue_empty"
        )
        lines.append(t(key, closes=_when(context, contest.closes_at)))
    elif not queue.open:
        lines.append(t("contest.jury_queue_closed"))
    elif queue.pending:
        lines.append(t("contest.jury_queue_hint"))
    else:
        lines.append(t("contest.jury_queue_done"))
    buttons = [
        kb.button(_queue_label(t, item, len(contest.criteria)), ReviewOpen(item.review_id).pack())
        for item in queue.items[:QUEUE_MAX]
    ]
    if len(queue.items) > QUEUE_MAX:
        lines.append(t("contest.jury_queue_more", count=len(queue.items) - QUEUE_MAX))
    await reply(update, context, "\n\n".join(lines), kb.rows(buttons) if buttons else None)


async def queue_button(update: Update, context: BotContext, data: JuryQueue) -> None:
    """The queue of one contest (the allocation message's, the reminder's, the list's button)."""
    await toast(update, context)
    await stop_waiting(context, JURY_ROUTES)
    await show_queue(update, context, data.contest)


# --- one review: the entry, its files, the card -----------------------------------------------


def entry_text(t: Translator, screen: ReviewScreen) -> str:
    """The entry as its juror may see it: no names or universities when the contest is blind."""
    lines = [t("contest.review_entry", code=screen.entry_code, title=screen.title or "—")]
    if screen.late:
        lines.append(t("contest.review_late"))
    if screen.description:
        lines.append(t("contest.review_description", text=screen.description))
    if screen.link:
        lines.append(t("contest.review_link", link=screen.link))
    if screen.files:
        lines.append(t("contest.review_files", count=len(screen.files)))
    else:
        lines.append(t("contest.review_no_files"))
    if screen.contest.blind:
        lines.append(t("contest.review_blind"))
    else:
        authors = ", ".join(
            f"{a.name} ({pick(a.university, t.language)})" if a.university else a.name
            for a in screen.authors
        )
        lines.append(t("contest.review_authors", authors=authors or "—"))
    return "\n\n".join(lines)


async def _send_file(context: BotContext, chat_id: int, file: FileView) -> bool:
    """Send one of the entry's files again by its file_id; False if Telegram refused all ways.

    Files are kept as `file_id`s of whatever kind they came as: a document is sent as one, a
    photo or a video only as its own kind, so another kind is tried when the first is refused.
    """
    caption = shorten(file.name, 200)
    mime = (file.mime_type or "").lower()
    kinds = ["document"]
    if mime.startswith("image/"):
        kinds.append("photo")
    elif mime.startswith("video/"):
        kinds.insert(0, "video")
    bot = context.bot
    for kind in kinds:
        try:
            if kind == "video":
                await bot.send_video(chat_id, file.file_id, caption=caption)
            elif kind == "photo":
                await bot.send_photo(chat_id, file.file_id, caption=caption)
            else:
                await bot.send_document(chat_id, file.file_id, caption=caption)
            return True
        except BadRequest:
            continue
    return False


async def _send_entry(update: Update, context: BotContext, screen: ReviewScreen) -> None:
    """The entry's text, then its files."""
    t = context.t
    await reply(update, context, entry_text(t, screen))
    chat = update.effective_chat
    if chat is None:
        return
    for file in screen.files:
        if not await _send_file(context, chat.id, file):
            await reply(update, context, t("contest.review_file_failed", name=file.name))


def _share(contest: ContestView, weight: float) -> float:
    """A criterion's weight as a percentage of the rubric's."""
    total = sum(c.weight for c in contest.criteria)
    return 100.0 * weight / total if total else 0.0


def _rubric_lines(t: Translator, screen: ReviewScreen) -> list[str]:
    """The rubric with the scores given so far, and the comment."""
    contest = screen.contest
    lines = []
    for n, criterion in enumerate(contest.criteria, start=1):
        score = screen.scores.get(criterion.code)
        lines.append(
            t(
                "contest.card_line",
                n=n,
                criterion=criterion.title_in(t.language),
                weight=t.number(_share(contest, criterion.weight), trim=True),
                score="—" if score is None else score,
                max=criterion.max,
            )
        )
    lines.append(t("contest.card_comment", comment=screen.comment or "—"))
    weighted = screen.weighted
    if weighted is not None:
        lines.append(t("contest.card_weighted", score=t.number(weighted)))
    return lines


def _heading(t: Translator, screen: ReviewScreen) -> str:
    """The card's first line: which entry, and whether the review is submitted."""
    key = (
        "contest.card_submitted"
        if screen.state is ReviewState.SUBMITTED
        else "contest.card_pending"
    )
    return t(key, code=screen.entry_code)


def _back(t: Translator, screen: ReviewScreen) -> list[InlineKeyboardButton]:
    """The row leading back to the queue."""
    return [kb.button(t.plain("contest.card_back"), JuryQueue(screen.contest.id).pack())]


def score_card(
    t: Translator, screen: ReviewScreen, criterion: int
) -> tuple[str, InlineKeyboardMarkup]:
    """The card asking for the score of the criterion at position `criterion`."""
    rule = screen.contest.criteria[criterion]
    lines = [_heading(t, screen), *_rubric_lines(t, screen), ""]
    typed = rule.max > BUTTONS_MAX
    key = "contest.card_ask_typed" if typed else "contest.card_ask"
    lines.append(t(key, criterion=rule.title_in(t.language), max=rule.max))
    if rule.description:
        lines.append(t("contest.card_criterion_about", text=pick(rule.description, t.language)))
    rows: list[list[InlineKeyboardButton]] = []
    if not typed:
        values = [
            kb.button(str(v), ReviewScore(screen.review_id, criterion, v).pack())
            for v in range(rule.max + 1)
        ]
        rows = [values[i : i + PER_ROW] for i in range(0, len(values), PER_ROW)]
    rows.append(_back(t, screen))
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def comment_card(t: Translator, screen: ReviewScreen) -> tuple[str, InlineKeyboardMarkup]:
    """The card asking for the comment, with Skip."""
    lines = [_heading(t, screen), *_rubric_lines(t, screen), "", t("contest.card_ask_comment")]
    skip = kb.button(
        t.plain("contest.card_skip_comment"), ReviewCommentSkip(screen.review_id).pack()
    )
    return "\n".join(lines), InlineKeyboardMarkup([[skip], _back(t, screen)])


def preview_card(context: BotContext, screen: ReviewScreen) -> tuple[str, InlineKeyboardMarkup]:
    """The review as it stands: Submit while pending, the changes while the jury is open."""
    t = context.t
    deadline = _when(context, screen.contest.jury_deadline_at)
    lines = [_heading(t, screen), *_rubric_lines(t, screen), ""]
    rows: list[list[InlineKeyboardButton]] = []
    if not screen.open:
        lines.append(t("contest.card_closed"))
    else:
        if screen.state is ReviewState.SUBMITTED:
            lines.append(
                t(
                    "contest.card_revise",
                    when=_when(context, screen.submitted_at),
                    deadline=deadline,
                )
            )
        else:
            lines.append(t("contest.card_check", deadline=deadline))
            rows.append(
                [kb.button(t.plain("contest.card_submit"), ReviewSubmit(screen.review_id).pack())]
            )
        for n, criterion in enumerate(screen.contest.criteria):
            label = t.plain("contest.card_change", criterion=criterion.title_in(t.language))
            rows.append(
                [kb.button(shorten(label, 60), ReviewCriterion(screen.review_id, n).pack())]
            )
        key = "contest.card_change_comment" if screen.comment else "contest.card_add_comment"
        rows.append([kb.button(t.plain(key), ReviewComment(screen.review_id).pack())])
    rows.append(_back(t, screen))
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def _card(
    context: BotContext,
    screen: ReviewScreen,
    *,
    criterion: int | None = None,
    comment: bool = False,
) -> tuple[str, InlineKeyboardMarkup]:
    """The card to show now, and what the bot waits for with it.

    `criterion` asks for that criterion, `comment` for the comment; otherwise the first criterion
    not scored, else the preview. Nothing is asked once the jury is closed.
    """
    t = context.t
    if screen.open and criterion is None and screen.missing and not comment:
        codes = [c.code for c in screen.contest.criteria]
        criterion = codes.index(screen.missing[0])
    if screen.open and criterion is not None:
        rule = screen.contest.criteria[criterion]
        typed = rule.max > BUTTONS_MAX
        await set_awaiting(
            context, waiting_for(SCORE_ROUTE, f"{screen.review_id}-{criterion}") if typed else None
        )
        return score_card(t, screen, criterion)
    if screen.open and comment:
        await set_awaiting(context, waiting_for(COMMENT_ROUTE, screen.review_id))
        return comment_card(t, screen)
    await stop_waiting(context, JURY_ROUTES)
    return preview_card(context, screen)


def _asks_comment(screen: ReviewScreen) -> bool:
    """Whether a review just completed asks for its comment: pending, with none yet."""
    return (
        screen.open
        and not screen.missing
        and screen.comment is None
        and screen.state is ReviewState.PENDING
    )


async def open_button(update: Update, context: BotContext, data: ReviewOpen) -> None:
    """Open a review: the entry, its files, then the card where the review stands."""
    profile = require_profile(context)
    screen = await svc.open_review(context.db, profile.telegram_id, data.review)
    await toast(update, context)
    await _send_entry(update, context, screen)
    text, keyboard = await _card(context, screen, comment=_asks_comment(screen))
    await reply(update, context, text, keyboard)


async def score_button(update: Update, context: BotContext, data: ReviewScore) -> None:
    """A score pressed: stored, then the next criterion, the comment, or the preview."""
    profile = require_profile(context)
    before = await svc.open_review(context.db, profile.telegram_id, data.review)
    screen = await svc.set_score(
        context.db, profile.telegram_id, data.review, data.criterion, data.value
    )
    await toast(update, context)
    text, keyboard = await _card(context, screen, comment=_completed(before, screen))
    await safe_edit(update, text, keyboard)


def _completed(before: ReviewScreen, after: ReviewScreen) -> bool:
    """The score just given was the last one missing: the comment comes next."""
    return bool(before.missing) and _asks_comment(after)


async def criterion_button(update: Update, context: BotContext, data: ReviewCriterion) -> None:
    """Change one criterion's score: the card asks for it."""
    profile = require_profile(context)
    screen = await svc.open_review(context.db, profile.telegram_id, data.review)
    if not screen.open:
        raise _closed()
    if not 0 <= data.criterion < len(screen.contest.criteria):
        raise _bad_criterion()
    await toast(update, context)
    text, keyboard = await _card(context, screen, criterion=data.criterion)
    await safe_edit(update, text, keyboard)


def _closed() -> ServiceError:
    """The refusal after the jury deadline (as the service words it)."""
    return InvalidInput(svc.CLOSED)


def _bad_criterion() -> ServiceError:
    """The refusal of a criterion the rubric does not have."""
    return InvalidInput("contest.bad_criterion")


async def comment_button(update: Update, context: BotContext, data: ReviewComment) -> None:
    """Write or rewrite the comment: the next text is it."""
    profile = require_profile(context)
    screen = await svc.open_review(context.db, profile.telegram_id, data.review)
    if not screen.open:
        raise _closed()
    await toast(update, context)
    text, keyboard = await _card(context, screen, comment=True)
    await safe_edit(update, text, keyboard)


async def skip_comment_button(
    update: Update, context: BotContext, data: ReviewCommentSkip
) -> None:
    """No comment (or keep the one written): the preview."""
    profile = require_profile(context)
    screen = await svc.open_review(context.db, profile.telegram_id, data.review)
    await toast(update, context)
    text, keyboard = await _card(context, screen)  # a criterion left unscored is asked first
    await safe_edit(update, text, keyboard)


async def submit_button(update: Update, context: BotContext, data: ReviewSubmit) -> None:
    """Submit the review: the preview says so, and how many are left."""
    profile = require_profile(context)
    t = context.t
    screen = await svc.submit_review(context.db, profile.telegram_id, data.review)
    await toast(update, context, t.plain("contest.review_submitted_toast"))
    await stop_waiting(context, JURY_ROUTES)
    text, keyboard = preview_card(context, screen)
    await safe_edit(update, text, keyboard)
    queue = await svc.my_queue(context.db, profile.telegram_id, screen.contest.id)
    key = "contest.review_submitted_more" if queue.pending else "contest.review_submitted_all"
    button = kb.button(t.plain("contest.jury_open_button"), JuryQueue(screen.contest.id).pack())
    await reply(
        update,
        context,
        t(key, code=screen.entry_code, count=queue.pending),
        kb.rows([button]),
    )


# --- typed input ------------------------------------------------------------------------------


def _score_argument(argument: str) -> tuple[int, int] | None:
    """`(review, criterion)` of a `cj_score` argument, or None."""
    review, _, criterion = argument.partition("-")
    review_id, position = int_argument(review), int_argument(criterion)
    if review_id is None or position is None:
        return None
    return review_id, position


async def typed_score(update: Update, context: BotContext, argument: str) -> None:
    """A typed score (criteria scored over 10): stored, then the next step's card."""
    profile = require_profile(context)
    t = context.t
    message = update.effective_message
    target = _score_argument(argument)
    if message is None or message.text is None or target is None:
        await set_awaiting(context, None)
        await reply(update, context, t("errors.not_understood"))
        return
    review_id, criterion = target
    try:
        before = await svc.open_review(context.db, profile.telegram_id, review_id)
        if not 0 <= criterion < len(before.contest.criteria):
            raise _bad_criterion()
        rule = before.contest.criteria[criterion]
        typed = message.text.strip()
        if not (typed.isascii() and typed.isdigit() and len(typed) <= 6):
            await reply(update, context, t("contest.score_range", max=rule.max))
            return
        screen = await svc.set_score(
            context.db, profile.telegram_id, review_id, criterion, int(typed)
        )
    except ServiceError as exc:
        if exc.key != "contest.score_range":  # nothing to retype: stop waiting
            await set_awaiting(context, None)
        await reply(update, context, t(exc.key, **exc.values))
        return
    text, keyboard = await _card(context, screen, comment=_completed(before, screen))
    await reply(update, context, text, keyboard)


async def typed_comment(update: Update, context: BotContext, argument: str) -> None:
    """The typed comment: stored, then the preview."""
    profile = require_profile(context)
    t = context.t
    message = update.effective_message
    review_id = int_argument(argument)
    if message is None or message.text is None or review_id is None:
        await set_awaiting(context, None)
        await reply(update, context, t("errors.not_understood"))
        return
    try:
        screen = await svc.set_comment(context.db, profile.telegram_id, review_id, message.text)
    except ServiceError as exc:
        if exc.key not in ("contest.comment_empty", "contest.comment_long"):
            await set_awaiting(context, None)
        await reply(update, context, t(exc.key, **exc.values))
        return
    text, keyboard = await _card(context, screen)
    await reply(update, context, text, keyboard)
