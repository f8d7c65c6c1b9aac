"""A contest's results in chat: jury progress, leaderboard, release, authors' own results.

ORGANIZERS AND ADMINS. `/contest_results` opens a contest's panel (a choice first when there are
several): the jury's progress, the leaderboard, the release. `/contest_jury` opens the progress
straight away. The progress lists each juror with the reviews allocated, submitted and pending,
the allocation's unmet constraints in the reader's language, the jury invite link, and, when
entries still lack reviews (a jury empty or too small at the close), a button giving them to the
jurors who joined since (`contest_jury.allocate_missing`), each told. The leaderboard ranks the
entries (scores with one decimal, "of 100"; ties share a rank and are marked `=`), says whether
it is provisional, reports the jury's agreement (ICC(1,k) with its 95 % CI and a one-line
reading) and comes with a chart. Release asks first; confirmed, the winners are announced to the
participants and jurors through the outbound gateway.

AUTHORS. Once released, the announcement's button (`ContestMyResults`) and `/contest_results`
(for someone who does not manage contests) show the author's entry: its place, its score and,
when the contest shows feedback, the mean per criterion and every review's scores and comment,
jurors numbered, never named. The certificate (participation, or a winner's with the place) asks
for the name to print, shows it back to confirm (read back from that message, as the course's
certificate does, so a restart in between loses nothing), then sends the PDF; `/verify` finds it.
"""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.helpers import create_deep_linked_url

from bot import keyboards as kb
from bot.awaiting import int_argument, waiting_for
from bot.callbacks import (
    ContestCertificateChange,
    ContestCertificateConfirm,
    ContestCertificateGet,
    ContestLeaderboard,
    ContestMyResults,
    ContestRelease,
    ContestResultsOpen,
    JuryProgress,
    JuryReallocate,
)
from bot.context import BotContext
from bot.features import Features
from bot.i18n import Translator
from bot.replies import fit_lines, reply, require_profile, safe_edit, shorten, toast
from bot.services import ServiceError
from bot.services import certificates as certificate_svc
from bot.services import contest as contest_svc
from bot.services import contest_jury as jury_svc
from bot.services import contest_results as svc
from bot.services import users as user_service
from bot.services.certificates import CertificateView
from bot.services.contest import MANAGERS, ContestView, pick
from bot.services.contest_results import Leaderboard, LeaderRow, MyResult
from bot.services.contest_scoring import Agreement
from bot.services.event_times import show_when

NAME_ROUTE = "cj_name"  # `cj_name:<contest>`: the name to print on the contest certificate
# Koo and Li (2016): below 0.5 poor, 0.5-0.75 moderate, 0.75-0.9 good, 0.9 and over excellent.
ICC_READINGS = (
    (0.9, "contest.icc_reading_excellent"),
    (0.75, "contest.icc_reading_good"),
    (0.5, "contest.icc_reading_moderate"),
)
ICC_POOR = "contest.icc_reading_poor"
# Built, not literal: the i18n check reads dotted literals as translation keys.
RESULTS_ACTION = ".".join(("contest", "my_results"))  # an author's results (for /contest)
PANEL_ACTION = ".".join(("contest", "results"))  # the organizers' panel (the main menu)


def register(features: Features) -> None:
    """Add /contest_results, /contest_jury, the organizers' and the authors' buttons."""
    features.command("contest_results", results_command)
    features.command("contest_jury", jury_command)
    features.button(ContestResultsOpen, open_panel)
    features.button(JuryProgress, progress_button)
    features.button(JuryReallocate, reallocate_button)
    features.button(ContestLeaderboard, leaderboard_button)
    features.button(ContestRelease, release_button)
    features.button(ContestMyResults, my_results_button)
    features.button(ContestCertificateGet, certificate_button)
    features.button(ContestCertificateConfirm, confirm_name)
    features.button(ContestCertificateChange, change_name)
    features.text(NAME_ROUTE, typed_name)
    features.action(RESULTS_ACTION, my_results_list)
    features.action(PANEL_ACTION, results_command)
    features.menu("contest_results", "menu.contest_results", PANEL_ACTION, MANAGERS, position=58)
    features.help("help.contest_results")
    features.help("help.contest_organizers", roles=MANAGERS)


# --- small helpers ----------------------------------------------------------------------------


def _when(context: BotContext, moment: datetime | None) -> str:
    """A stored moment as the reader reads it, with the zone named; a dash for none."""
    if moment is None:
        return "—"
    return show_when(moment, context.settings.tz, context.t.language)


async def _refuse(update: Update, context: BotContext, exc: ServiceError) -> None:
    """The service's refusal, as a toast on a button and as a message."""
    await toast(update, context, context.t.plain(exc.key, **exc.values))
    await reply(update, context, context.t(exc.key, **exc.values))


def _manages(context: BotContext) -> bool:
    """Whether the person may see the organizers' screens (the service checks again)."""
    return require_profile(context).has(*MANAGERS)


async def _set_awaiting(context: BotContext, value: str | None) -> None:
    """Store what the person's typed text goes to next, if it changed."""
    profile = require_profile(context)
    if profile.awaiting != value:
        context.profile = await user_service.set_awaiting(
            context.db, profile.telegram_id, value, context.admin_ids
        )


# --- organizers: choosing a contest, the panel -------------------------------------------------


async def _choose(update: Update, context: BotContext, *, progress: bool) -> ContestView | None:
    """The one contest, or a choice sent (None then, and when there is none)."""
    t = context.t
    contests = await contest_svc.list_all(context.db)
    if not contests:
        await reply(update, context, t("contest.manage_none"))
        return None
    if len(contests) == 1:
        return contests[0]
    buttons = [
        kb.button(
            shorten(c.title_in(t.language), 60),
            (JuryProgress(c.id) if progress else ContestResultsOpen(c.id)).pack(),
        )
        for c in contests
    ]
    await reply(update, context, t("contest.manage_choose"), kb.rows(buttons))
    return None


async def results_command(update: Update, context: BotContext) -> None:
    """Organizers: a contest's results panel; anyone else: their own results (/contest_results)."""
    if not _manages(context):
        await my_results_list(update, context)
        return
    contest = await _choose(update, context, progress=False)
    if contest is not None:
        await show_panel(update, context, contest.id)


async def jury_command(update: Update, context: BotContext) -> None:
    """Organizers: the jury's progress in a contest (/contest_jury)."""
    if not _manages(context):
        await reply(update, context, context.t("errors.not_allowed"))
        return
    contest = await _choose(update, context, progress=True)
    if contest is not None:
        await show_progress(update, context, contest.id)


def panel_keyboard(t: Translator, contest: ContestView) -> InlineKeyboardMarkup:
    """Jury progress, Leaderboard, Release (until released)."""
    buttons = [kb.button(t.plain("contest.progress_button"), JuryProgress(contest.id).pack())]
    if contest.allocated_at is not None:
        buttons.append(
            kb.button(t.plain("contest.board_button"), ContestLeaderboard(contest.id).pack())
        )
        if contest.released_at is None:
            buttons.append(
                kb.button(
                    t.plain("contest.release_button"), ContestRelease(contest.id, False).pack()
                )
            )
    return kb.rows(buttons)


async def show_panel(update: Update, context: BotContext, contest_id: int) -> None:
    """A contest's panel: where it stands, and the buttons."""
    t = context.t
    contest = await contest_svc.get(context.db, contest_id)
    if contest.released_at is not None:
        stage = t("contest.panel_released", when=_when(context, contest.released_at))
    elif contest.allocated_at is not None:
        stage = t("contest.panel_judging", deadline=_when(context, contest.jury_deadline_at))
    else:
        stage = t("contest.panel_open", closes=_when(context, contest.closes_at))
    text = f"{t('contest.panel_title', contest=contest.title_in(t.language))}\n\n{stage}"
    await reply(update, context, text, panel_keyboard(t, contest))


async def open_panel(update: Update, context: BotContext, data: ContestResultsOpen) -> None:
    """The panel of the contest chosen."""
    if not _manages(context):
        await toast(update, context, context.t.plain("errors.not_allowed"))
        return
    await toast(update, context)
    try:
        await show_panel(update, context, data.contest)
    except ServiceError as exc:
        await _refuse(update, context, exc)


# --- organizers: the jury's progress and the re-allocation -----------------------------------


def _invite_link(context: BotContext, contest: ContestView) -> str | None:
    """The jury invite link, when the bot's username and the contest's code are known."""
    username = context.bot.username
    if not username or not contest.jury_code:
        return None
    return create_deep_linked_url(username, f"j-{contest.jury_code}")


def progress_text(context: BotContext, seen: jury_svc.JuryProgress) -> str:
    """The jury's progress per juror, the unmet constraints, the missing reviews."""
    t = context.t
    contest = seen.contest
    lines = [
        t(
            "contest.progress_title",
            contest=contest.title_in(t.language),
            submitted=seen.submitted,
            allocated=seen.allocated,
            deadline=_when(context, contest.jury_deadline_at),
        )
    ]
    if contest.allocated_at is None:
        lines.append(t("contest.progress_not_allocated", closes=_when(context, contest.closes_at)))
    if not seen.jurors:
        lines.append(t("contest.progress_no_jurors"))
    for juror in seen.jurors:
        university = pick(juror.university, t.language) if juror.university else "—"
        key = (
            "contest.progress_line_done"
            if juror.allocated and not juror.pending
            else ("contest.progress_line")
        )
        lines.append(
            t(
                key,
                name=juror.name or "—",
                university=university,
                submitted=juror.submitted,
                allocated=juror.allocated,
                pending=juror.pending,
            )
        )
    if seen.issues:
        lines.append(t("contest.alloc_problems"))
        lines.extend(f"• {t(issue.key, **issue.values)}" for issue in seen.issues)
    if seen.missing:
        lines.append(t("contest.progress_missing", count=seen.missing))
    link = _invite_link(context, contest)
    if link is not None and contest.released_at is None:
        lines.append(t("contest.progress_invite", link=link))
    return fit_lines(lines, lambda count: t("contest.progress_more", count=count))


async def show_progress(update: Update, context: BotContext, contest_id: int) -> None:
    """Send the jury's progress with its buttons."""
    profile = require_profile(context)
    t = context.t
    seen = await jury_svc.progress(context.db, profile.telegram_id, context.admin_ids, contest_id)
    contest = seen.contest
    buttons: list[InlineKeyboardButton] = []
    if seen.missing and jury_svc.jury_open(contest, datetime.now(UTC)):
        buttons.append(
            kb.button(t.plain("contest.reallocate_button"), JuryReallocate(contest.id).pack())
        )
    if contest.allocated_at is not None:
        buttons.append(
            kb.button(t.plain("contest.board_button"), ContestLeaderboard(contest.id).pack())
        )
    buttons.append(kb.button(t.plain("contest.panel_back"), ContestResultsOpen(contest.id).pack()))
    await reply(update, context, progress_text(context, seen), kb.rows(buttons))


async def progress_button(update: Update, context: BotContext, data: JuryProgress) -> None:
    """The jury's progress in the contest chosen."""
    if not _manages(context):
        await toast(update, context, context.t.plain("errors.not_allowed"))
        return
    await toast(update, context)
    try:
        await show_progress(update, context, data.contest)
    except ServiceError as exc:
        await _refuse(update, context, exc)


async def reallocate_button(update: Update, context: BotContext, data: JuryReallocate) -> None:
    """Give the missing reviews out, tell the jurors, show the progress again."""
    profile = require_profile(context)
    t = context.t
    try:
        done = await jury_svc.allocate_missing(
            context.db,
            profile.telegram_id,
            context.admin_ids,
            data.contest,
            context.i18n,
            context.settings.tz,
        )
    except ServiceError as exc:
        await _refuse(update, context, exc)
        return
    await toast(update, context)
    if done.broadcast_id is not None:
        context.broadcaster.start(done.broadcast_id)
        text = t("contest.reallocated", reviews=done.reviews, jurors=done.jurors)
    else:
        text = t("contest.reallocated_none")
    await reply(update, context, text)
    await show_progress(update, context, data.contest)


# --- organizers: the leaderboard and the release -----------------------------------------------


def _rank_label(row: LeaderRow, board: Leaderboard) -> str:
    """A rank as shown: `2.`, or `2=` when another entry shares it; a dash for no rank."""
    if row.rank is None:
        return "—"
    tied = sum(1 for other in board.rows if other.rank == row.rank) > 1
    return f"{row.rank}=" if tied else f"{row.rank}."


def agreement_lines(t: Translator, agreement: Agreement) -> list[str]:
    """The jury's agreement and what it means, or why it was not computed."""
    if agreement.icc is None or agreement.ci_low is None or agreement.ci_high is None:
        return [t(agreement.note or "contest.icc_not_enough")]
    lines = [
        t(
            "contest.board_icc",
            icc=t.number(agreement.icc, 2),
            low=t.number(agreement.ci_low, 2),
            high=t.number(agreement.ci_high, 2),
            single=t.number(agreement.icc_single or 0.0, 2),
            entries=agreement.entries,
            k=t.number(agreement.k or 0.0, trim=True),
        )
    ]
    reading = next((key for floor, key in ICC_READINGS if agreement.icc >= floor), ICC_POOR)
    lines.append(t(reading))
    return lines


def board_text(context: BotContext, board: Leaderboard) -> str:
    """The leaderboard as text: status, scale, the entries, the agreement."""
    t = context.t
    contest = board.contest
    lines = [t("contest.board_title", contest=contest.title_in(t.language))]
    if board.released:
        lines.append(t("contest.board_released", when=_when(context, contest.released_at)))
    elif board.pending:
        lines.append(t("contest.board_provisional", pending=board.pending))
    else:
        lines.append(t("contest.board_complete"))
    key = "contest.board_scale_z" if board.standardise else "contest.board_scale"
    lines.append(t(key))
    lines.append("")
    for row in board.rows:
        if row.rank is None or row.mean is None:
            lines.append(t("contest.board_unranked", code=row.code, title=row.title or "—"))
            continue
        line = t(
            "contest.board_line",
            rank=_rank_label(row, board),
            code=row.code,
            title=shorten(row.title or "—", 80),
            score=t.number(row.mean),
            reviews=row.reviews,
        )
        if board.standardise and row.standardised is not None:
            line += " " + t("contest.board_z", z=t.number(row.standardised, 2, sign=True))
        if row.late:
            line += " " + t("contest.board_late")
        universities = ", ".join(pick(u, t.language) for u in row.universities)
        who = ", ".join(row.authors) or "—"
        line += "\n   " + html.escape(
            f"{who} ({universities})" if universities else who, quote=False
        )
        lines.append(line)
    if not board.rows:
        lines.append(t("contest.board_empty"))
    lines.append("")
    lines.extend(agreement_lines(t, board.agreement))
    if board.unstandardised:
        lines.append(t("contest.board_flat", jurors=", ".join(board.unstandardised)))
    return fit_lines(lines, lambda count: t("contest.board_more", count=count))


def chart_labels(t: Translator, board: Leaderboard) -> svc.ChartLabels:
    """The chart's words in the reader's language."""
    return svc.ChartLabels(
        title=t.plain("contest.chart_title", contest=board.contest.title_in(t.language)),
        score=t.plain("contest.chart_z" if board.standardise else "contest.chart_score"),
    )


async def leaderboard_button(
    update: Update, context: BotContext, data: ContestLeaderboard
) -> None:
    """The leaderboard with its chart, and Release while not released."""
    profile = require_profile(context)
    t = context.t
    try:
        board = await svc.leaderboard(
            context.db, profile.telegram_id, context.admin_ids, data.contest
        )
    except ServiceError as exc:
        await _refuse(update, context, exc)
        return
    await toast(update, context)
    buttons = [kb.button(t.plain("contest.progress_button"), JuryProgress(data.contest).pack())]
    if not board.released:
        buttons.insert(
            0,
            kb.button(
                t.plain("contest.release_button"), ContestRelease(data.contest, False).pack()
            ),
        )
    await reply(update, context, board_text(context, board), kb.rows(buttons))
    chart = await svc.render_leaderboard_chart_async(board, chart_labels(t, board), t.language)
    chat = update.effective_chat
    if chart is not None and chat is not None:
        await context.bot.send_photo(chat.id, chart)


async def release_button(update: Update, context: BotContext, data: ContestRelease) -> None:
    """Release: asked first; confirmed, the results are released and announced."""
    profile = require_profile(context)
    t = context.t
    if not _manages(context):
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    if not data.confirmed:
        try:
            board = await svc.leaderboard(
                context.db, profile.telegram_id, context.admin_ids, data.contest
            )
        except ServiceError as exc:
            await _refuse(update, context, exc)
            return
        await toast(update, context)
        if board.released:
            await reply(update, context, t("contest.already_released"))
            return
        text = t("contest.release_ask", contest=board.contest.title_in(t.language))
        if board.pending:
            text += "\n\n" + t("contest.release_ask_pending", count=board.pending)
        keyboard = kb.rows(
            [
                kb.button(
                    t.plain("contest.release_confirm"), ContestRelease(data.contest, True).pack()
                ),
                kb.button(t.plain("contest.panel_back"), ContestResultsOpen(data.contest).pack()),
            ]
        )
        await reply(update, context, text, keyboard)
        return
    try:
        released = await svc.release(
            context.db, profile.telegram_id, context.admin_ids, data.contest, context.i18n
        )
    except ServiceError as exc:
        await _refuse(update, context, exc)
        return
    await toast(update, context)
    context.broadcaster.start(released.broadcast_id)
    await safe_edit(
        update,
        t(
            "contest.released",
            contest=released.board.contest.title_in(t.language),
            winners=len(released.board.winners),
        ),
    )


# --- authors: my results ---------------------------------------------------------------------


def result_text(t: Translator, mine: MyResult) -> str:
    """An author's results: the place, the score, and the jurors' feedback when shown."""
    contest = mine.contest
    lines = [
        t(
            "contest.mine_title",
            contest=contest.title_in(t.language),
            code=mine.code,
            title=mine.title or "—",
        )
    ]
    if mine.rank is None or mine.mean is None:
        lines.append(t("contest.mine_unranked"))
    else:
        key = "contest.mine_rank_winner" if mine.winner else "contest.mine_rank"
        lines.append(t(key, rank=mine.rank, ranked=mine.ranked))
        lines.append(t("contest.mine_score", score=t.number(mine.mean)))
        if contest.standardise and mine.standardised is not None:
            lines.append(t("contest.mine_z", z=t.number(mine.standardised, 2, sign=True)))
    if not contest.show_feedback:
        lines.append(t("contest.mine_no_feedback"))
        return "\n\n".join(lines)
    if mine.criteria:
        criteria = [t("contest.mine_criteria")]
        for criterion in contest.criteria:
            value = mine.criteria.get(criterion.code)
            if value is None:
                continue
            criteria.append(
                t(
                    "contest.mine_criterion",
                    criterion=criterion.title_in(t.language),
                    score=t.number(value),
                    max=criterion.max,
                )
            )
        lines.append("\n".join(criteria))
    for review in mine.feedback:
        scores = "; ".join(
            f"{c.title_in(t.language)}: {review.scores[c.code]}/{c.max}"
            for c in contest.criteria
            if c.code in review.scores
        )
        block = [
            t(
                "contest.mine_review",
                number=review.number,
                score=t.number(review.weighted) if review.weighted is not None else "—",
            ),
            html.escape(scores, quote=False),
        ]
        if review.comment:
            block.append(t("contest.mine_comment", comment=review.comment))
        lines.append("\n".join(block))
    return fit_lines("\n\n".join(lines).split("\n"), lambda n: t("contest.mine_more", count=n))


async def show_my_results(update: Update, context: BotContext, contest_id: int) -> None:
    """Send the author's results in one contest, with the certificate button."""
    profile = require_profile(context)
    t = context.t
    mine = await svc.my_results(context.db, profile.telegram_id, contest_id)
    key = "contest.cert_button_winner" if mine.winner else "contest.cert_button"
    keyboard = kb.rows([kb.button(t.plain(key), ContestCertificateGet(contest_id).pack())])
    await reply(update, context, result_text(t, mine), keyboard)


async def my_results_button(update: Update, context: BotContext, data: ContestMyResults) -> None:
    """My results (the release announcement's button)."""
    await toast(update, context)
    try:
        await show_my_results(update, context, data.contest)
    except ServiceError as exc:
        await reply(update, context, context.t(exc.key, **exc.values))


async def my_results_list(update: Update, context: BotContext) -> None:
    """The released contests with an entry of mine: the one's results, or a choice."""
    profile = require_profile(context)
    t = context.t
    released = await svc.released_for(context.db, profile.telegram_id)
    if not released:
        await reply(update, context, t("contest.mine_none"))
        return
    if len(released) == 1:
        await show_my_results(update, context, released[0].id)
        return
    buttons = [
        kb.button(shorten(c.title_in(t.language), 60), ContestMyResults(c.id).pack())
        for c in released
    ]
    await reply(update, context, t("contest.mine_choose"), kb.rows(buttons))


# --- authors: the certificate --------------------------------------------------------------------


async def _send_pdf(update: Update, context: BotContext, certificate: CertificateView) -> None:
    """Render the certificate in the reader's language (in a worker thread) and send it."""
    chat = update.effective_chat
    if chat is None:
        return
    t = context.t
    pdf = await asyncio.to_thread(certificate_svc.render_pdf, certificate, t, context.settings.tz)
    await context.bot.send_document(
        chat.id,
        pdf,
        filename=f"certificate-{certificate.code}.pdf",
        caption=t("certificates.sent", code=certificate.code),
    )


async def offer_certificate(update: Update, context: BotContext, contest_id: int) -> None:
    """Send the certificate again, or ask for the name to print on a new one."""
    t = context.t
    profile = require_profile(context)
    try:
        mine = await svc.my_results(context.db, profile.telegram_id, contest_id)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    if mine.certificate is not None:
        await _send_pdf(update, context, mine.certificate)
        return
    await _set_awaiting(context, waiting_for(NAME_ROUTE, contest_id))
    await reply(
        update,
        context,
        t(
            "certificates.ask_name",
            min=certificate_svc.NAME_MIN,
            max=certificate_svc.NAME_MAX,
        ),
    )


async def certificate_button(
    update: Update, context: BotContext, data: ContestCertificateGet
) -> None:
    """The Certificate button: ask the name, or send the certificate again."""
    await toast(update, context)
    await offer_certificate(update, context, data.contest)


async def typed_name(update: Update, context: BotContext, argument: str) -> None:
    """The typed name: cleaned and shown back (its own last line) to confirm or change."""
    t = context.t
    message = update.effective_message
    contest_id = int_argument(argument)
    if message is None or message.text is None or contest_id is None:
        await _set_awaiting(context, None)
        await reply(update, context, t("errors.not_understood"))
        return
    try:
        name = certificate_svc.clean_name(message.text)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    text = f"{t('certificates.check_name')}\n\n<b>{html.escape(name, quote=False)}</b>"
    keyboard = kb.rows(
        [
            kb.button(
                t.plain("certificates.confirm"), ContestCertificateConfirm(contest_id).pack()
            ),
            kb.button(t.plain("certificates.change"), ContestCertificateChange(contest_id).pack()),
        ],
        per_row=2,
    )
    await reply(update, context, text, keyboard)


def _shown_name(update: Update) -> str | None:
    """The name on the last line of the message whose Confirm was pressed."""
    query = update.callback_query
    message = query.message if query is not None else None
    text = getattr(message, "text", None)
    if not isinstance(text, str) or "\n" not in text:
        return None
    return text.rsplit("\n", 1)[1].strip() or None


async def confirm_name(
    update: Update, context: BotContext, data: ContestCertificateConfirm
) -> None:
    """Issue the certificate with the name confirmed (once) and send the PDF."""
    profile = require_profile(context)
    t = context.t
    name = _shown_name(update)
    if name is None:
        await toast(update, context, t.plain("errors.stale_button"))
        return
    try:
        issued = await svc.issue_certificate(context.db, profile.telegram_id, data.contest, name)
    except ServiceError as exc:
        await _refuse(update, context, exc)
        return
    await toast(update, context)
    if profile.awaiting is not None and profile.awaiting.startswith(f"{NAME_ROUTE}:"):
        await _set_awaiting(context, None)
    certificate = issued.certificate
    await safe_edit(update, t("certificates.issued", name=certificate.name, code=certificate.code))
    await _send_pdf(update, context, certificate)


async def change_name(update: Update, context: BotContext, data: ContestCertificateChange) -> None:
    """Ask for the name again."""
    await toast(update, context)
    await offer_certificate(update, context, data.contest)
