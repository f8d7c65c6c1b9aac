"""Certificates in chat: the printed name asked and confirmed, the PDF sent, `/verify CODE`.

A learner who finished a course gets a Certificate button (`CertificateGet`, on the course's
finishing message, or from `/certificate`). The bot asks for the name as it should be printed
(typed input, route `c_name:<enrolment>`), shows the cleaned name back on the last line of a
message with Confirm and Change, and Confirm issues the certificate once and sends the PDF.
The name to print is read back from that message, which only the bot can write: nothing has
to be kept between the two updates, so a restart in between loses nothing, and the service
cleans the name again. Asking again sends the same certificate (same code) again.

The course feature opens two actions: `certificates.mine` (the certificate offer, as
/certificate) and `course.tests`: for every course whose pre- or post-test is due now, the
survey's own Start button of the course's campaign for that wave
(`bot.services.course_tests.due_test`), so the surveys feature runs the test.

`/verify CODE` (anyone) says whom a certificate was issued to, for which course, when and at
which university, or that the code is unknown.
"""

from __future__ import annotations

import asyncio
import html

from telegram import InlineKeyboardMarkup, Update

from bot import keyboards as kb
from bot.awaiting import int_argument, waiting_for
from bot.callbacks import CertificateChange, CertificateConfirm, CertificateGet, SurveyStart
from bot.context import BotContext
from bot.features import Features
from bot.i18n import Translator
from bot.replies import reply, require_profile, safe_edit, shorten, toast
from bot.services import ServiceError, course_tests
from bot.services import certificates as svc
from bot.services import course as course_svc
from bot.services import users as user_service
from bot.services.certificates import CertificateView
from bot.services.course import OfferKind, pick

NAME_ROUTE = "c_name"
# Built, not literal: the i18n check reads dotted literals as translation keys.
CERTIFICATE_ACTION = ".".join(("certificates", "mine"))  # the certificate offer
TESTS_ACTION = ".".join(("course", "tests"))  # the pre-/post-test due now


def register(features: Features) -> None:
    """Add the certificate flow, /certificate and /verify."""
    features.command("certificate", my_certificates)
    features.command("verify", verify_command, menu=75)
    features.button(CertificateGet, get_certificate)
    features.button(CertificateConfirm, confirm_name)
    features.button(CertificateChange, change_name)
    features.text(NAME_ROUTE, typed_name)
    # Opened by the course feature (handlers/course.py) without importing this module.
    features.action(CERTIFICATE_ACTION, my_certificates)
    features.action(TESTS_ACTION, offer_tests)
    features.help("help.certificates")


def verified_text(t: Translator, found: CertificateView | None, code: str, tz: object) -> str:
    """What /verify answers: who, what, when and where, or that the code is unknown."""
    if found is None:
        return t("certificates.unknown", code=shorten(code, 40) or "—")
    issued = found.issued_at.astimezone(tz).strftime("%Y-%m-%d")  # type: ignore[arg-type]
    if found.kind != "course":  # a contest's participation or winner's certificate
        award = (
            t("contest.cert_award_winner", place=found.rank or "")
            if found.kind == "winner"
            else t("contest.cert_award_participation")
        )
        return t(
            "certificates.genuine_contest",
            code=found.code,
            name=found.name,
            contest=pick(found.course_title, t.language),
            award=award,
            date=issued,
            university=found.university or "—",
        )
    return t(
        "certificates.genuine",
        code=found.code,
        name=found.name,
        course=pick(found.course_title, t.language),
        date=issued,
        university=found.university or "—",
    )


async def verify_command(update: Update, context: BotContext) -> None:
    """Confirm a certificate by its code (/verify CODE), for anyone."""
    t = context.t
    code = " ".join(context.args or [])
    if not code.strip():
        await reply(update, context, t("certificates.verify_usage"))
        return
    found = await svc.verify(context.db, code)
    await reply(update, context, verified_text(t, found, code.strip(), context.settings.tz))


async def _set_awaiting(context: BotContext, value: str | None) -> None:
    """Store what the learner's typed text goes to, if it changed."""
    profile = require_profile(context)
    if profile.awaiting != value:
        context.profile = await user_service.set_awaiting(
            context.db, profile.telegram_id, value, context.admin_ids
        )


async def _send_pdf(update: Update, context: BotContext, certificate: CertificateView) -> None:
    """Render the certificate in the learner's language (in a worker thread) and send it."""
    chat = update.effective_chat
    if chat is None:
        return
    t = context.t
    pdf = await asyncio.to_thread(svc.render_pdf, certificate, t, context.settings.tz)
    await context.bot.send_document(
        chat.id,
        pdf,
        filename=f"certificate-{certificate.code}.pdf",
        caption=t("certificates.sent", code=certificate.code),
    )


async def offer_certificate(update: Update, context: BotContext, enrolment_id: int) -> None:
    """Send the issued certificate again, or ask for the name to print on a new one."""
    profile = require_profile(context)
    t = context.t
    try:
        found = await svc.my_certificate(context.db, profile.telegram_id, enrolment_id)
        if found is None:
            offer = await course_svc.offer_next(context.db, profile.telegram_id, enrolment_id)
            if offer.kind is not OfferKind.FINISHED:
                await reply(update, context, t("course.not_finished"))
                return
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    if found is not None:
        await _send_pdf(update, context, found)
        return
    await _set_awaiting(context, waiting_for(NAME_ROUTE, enrolment_id))
    await reply(update, context, t("certificates.ask_name", min=svc.NAME_MIN, max=svc.NAME_MAX))


async def get_certificate(update: Update, context: BotContext, data: CertificateGet) -> None:
    """The Certificate button: ask the name, or send the certificate again."""
    await toast(update, context)
    await offer_certificate(update, context, data.enrolment)


async def my_certificates(update: Update, context: BotContext) -> None:
    """The learner's finished courses: the certificate of one, or a choice (/certificate)."""
    profile = require_profile(context)
    t = context.t
    try:
        enrolments = await course_svc.my_enrolments(context.db, profile.telegram_id)
        finished = []
        for enrolment in enrolments:
            if enrolment.finished_at is None and enrolment.lesson_index < enrolment.lessons:
                continue
            offer = await course_svc.offer_next(context.db, profile.telegram_id, enrolment.id)
            if offer.kind is OfferKind.FINISHED:
                finished.append(enrolment)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    if not finished:
        await reply(update, context, t("certificates.none"))
        return
    if len(finished) == 1:
        await offer_certificate(update, context, finished[0].id)
        return
    buttons = [
        kb.button(shorten(pick(e.title, t.language), 60), CertificateGet(e.id).pack())
        for e in finished
    ]
    await reply(update, context, t("certificates.choose"), kb.rows(buttons))


def _confirm_keyboard(t: Translator, enrolment_id: int) -> InlineKeyboardMarkup:
    """Confirm and Change under the name shown back."""
    return kb.rows(
        [
            kb.button(t.plain("certificates.confirm"), CertificateConfirm(enrolment_id).pack()),
            kb.button(t.plain("certificates.change"), CertificateChange(enrolment_id).pack()),
        ],
        per_row=2,
    )


async def typed_name(update: Update, context: BotContext, argument: str) -> None:
    """The typed name: cleaned and shown back (its own last line) to confirm or change."""
    t = context.t
    message = update.effective_message
    enrolment_id = int_argument(argument)
    if message is None or message.text is None or enrolment_id is None:
        await _set_awaiting(context, None)
        await reply(update, context, t("errors.not_understood"))
        return
    try:
        name = svc.clean_name(message.text)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    text = f"{t('certificates.check_name')}\n\n<b>{html.escape(name, quote=False)}</b>"
    await reply(update, context, text, _confirm_keyboard(t, enrolment_id))


def _shown_name(update: Update) -> str | None:
    """The name on the last line of the message whose Confirm was pressed."""
    query = update.callback_query
    message = query.message if query is not None else None
    text = getattr(message, "text", None)
    if not isinstance(text, str) or "\n" not in text:
        return None
    return text.rsplit("\n", 1)[1].strip() or None


async def confirm_name(update: Update, context: BotContext, data: CertificateConfirm) -> None:
    """Issue the certificate with the name confirmed (once) and send the PDF."""
    profile = require_profile(context)
    t = context.t
    name = _shown_name(update)
    if name is None:
        await toast(update, context, t.plain("errors.stale_button"))
        return
    try:
        issued = await svc.issue(context.db, profile.telegram_id, data.enrolment, name)
    except ServiceError as exc:
        await toast(update, context, t.plain(exc.key, **exc.values))
        return
    await toast(update, context)
    if profile.awaiting is not None and profile.awaiting.startswith(f"{NAME_ROUTE}:"):
        await _set_awaiting(context, None)
    certificate = issued.certificate
    await safe_edit(
        update,
        t("certificates.issued", name=certificate.name, code=certificate.code),
    )
    await _send_pdf(update, context, certificate)


async def change_name(update: Update, context: BotContext, data: CertificateChange) -> None:
    """Ask for the name again."""
    await toast(update, context)
    await offer_certificate(update, context, data.enrolment)


async def offer_tests(update: Update, context: BotContext) -> None:
    """The survey's Start button of each course test due now (the `course.tests` action)."""
    profile = require_profile(context)
    t = context.t
    due = []
    try:
        for enrolment in await course_svc.my_enrolments(context.db, profile.telegram_id):
            if enrolment.finished_at is not None:
                continue
            test = await course_tests.due_test(context.db, profile.telegram_id, enrolment.id)
            if test is not None:
                due.append(test)
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    for test in due:
        start = kb.button(t.plain("surveys.start_button"), SurveyStart(test.campaign_id).pack())
        await reply(
            update,
            context,
            t("course_tests.start", title=pick(test.title, t.language)),
            kb.rows([start]),
        )
