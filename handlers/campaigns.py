"""/publish and /campaigns: organizers publish instruments as campaigns and follow responses.

Composing is a chain of buttons (`bot.callbacks` `Campaign*` kinds, each with a handler of its
own) that carry the draft's id; every choice is stored in the draft by the service, which also
checks the presser's rights, so a forged button or a restart in the middle changes nothing it
should not. The wave label of the organizer's own, a closing time and a later opening time are
typed: the composer then waits on the route `cp_<what>:<draft>`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum

from telegram import Update

from bot import keyboards as kb
from bot.awaiting import int_argument, waiting_for
from bot.callbacks import (
    CampaignAskClosing,
    CampaignAskOpening,
    CampaignAskWave,
    CampaignAudience,
    CampaignClose,
    CampaignClosing,
    CampaignCountries,
    CampaignNew,
    CampaignProgress,
    CampaignPublish,
    CampaignReminder,
    CampaignUniversities,
    CampaignWave,
)
from bot.context import BotContext
from bot.features import Features, InputRoute
from bot.jobs.campaigns import CAMPAIGN_STEPS
from bot.replies import fit_lines, reply, require_profile, toast, wave_label
from bot.services import InvalidInput, ServiceError, campaign_progress, chart_pool
from bot.services import campaigns as svc
from bot.services import universities as university_service
from bot.services import users as user_service
from bot.services.campaign_chart import progress_chart
from bot.services.campaigns import CampaignState, Draft
from bot.services.roles import Role
from bot.services.times import parse_local_time
from bot.services.universities import COUNTRIES
from models import utcnow

ORGANIZERS = (Role.ADMIN, Role.ORGANIZER)


class Asked(StrEnum):
    """What the composer waits for the organizer to type (`campaigns.ask_<value>` asks it)."""

    WAVE = "wave"  # a wave label of their own
    CLOSE = "close"  # a closing date and time
    OPEN = "open"  # a later opening date and time

    @property
    def route(self) -> str:
        """The typed-input route that waits for it."""
        return f"cp_{self.value}"


def register(features: Features) -> None:
    """Add /publish and /campaigns, the composer's buttons and its typed steps."""
    features.command("publish", start_publish)
    features.command("campaigns", list_campaigns)
    features.button(CampaignNew, new_draft)
    features.button(CampaignWave, choose_wave)
    features.button(CampaignAskWave, ask_wave)
    features.button(CampaignUniversities, list_universities)
    features.button(CampaignCountries, list_countries)
    features.button(CampaignAudience, choose_audience)
    features.button(CampaignClosing, choose_closing)
    features.button(CampaignAskClosing, ask_closing)
    features.button(CampaignReminder, choose_reminder)
    features.button(CampaignAskOpening, ask_opening)
    features.button(CampaignPublish, publish)
    features.button(CampaignClose, close_campaign)
    features.button(CampaignProgress, show_progress)
    for asked in Asked:
        features.text(asked.route, _typed(asked))
    features.help("help.organizer_surveys", ORGANIZERS)


def _typed(asked: Asked) -> InputRoute:
    """The route of one typed step of composing a campaign (the draft id is the argument)."""

    async def route(update: Update, context: BotContext, argument: str) -> None:
        draft = int_argument(argument)
        if draft is None:
            await reply(update, context, context.t("errors.not_understood"))
            return
        await save_typed(update, context, asked, draft)

    return route


def _allowed(context: BotContext) -> bool:
    """Whether the user may compose, publish and close campaigns."""
    return require_profile(context).has(*ORGANIZERS)


async def _button_allowed(update: Update, context: BotContext) -> bool:
    """Whether the presser may use the composer's buttons; if not, they are told so."""
    if _allowed(context):
        return True
    await toast(update, context, context.t.plain("errors.not_allowed"))
    return False


async def _refused(update: Update, context: BotContext, exc: ServiceError) -> None:
    """Say on the pressed button why it changed nothing."""
    await toast(update, context, context.t.plain(exc.key, **exc.values))


async def start_publish(update: Update, context: BotContext) -> None:
    """Ask which instrument to publish (/publish)."""
    t = context.t
    if not _allowed(context):
        await reply(update, context, t("errors.not_allowed"))
        return
    instruments = await svc.instruments(context.db)
    if not instruments:
        await reply(update, context, t("campaigns.no_instruments"))
        return
    buttons = [
        kb.button(title.get(t.language) or title["en"], CampaignNew(code).pack())
        for code, title, _kind in instruments
    ]
    await reply(update, context, t("campaigns.choose_instrument"), kb.rows(buttons))


async def _ask_wave(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    buttons = [
        kb.button(t.plain(f"campaigns.wave_{w}"), CampaignWave(draft.id, w).pack())
        for w in svc.WAVES
    ]
    buttons.append(kb.button(t.plain("campaigns.other_wave"), CampaignAskWave(draft.id).pack()))
    await reply(update, context, t("campaigns.choose_wave"), kb.rows(buttons, per_row=3))


async def _ask_audience(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    everyone = CampaignAudience(draft.id, "all")
    await reply(
        update,
        context,
        t("campaigns.choose_audience"),
        kb.rows(
            [
                kb.button(t.plain("broadcasts.audience_all"), everyone.pack()),
                kb.button(
                    t.plain("broadcasts.audience_university"),
                    CampaignUniversities(draft.id).pack(),
                ),
                kb.button(
                    t.plain("broadcasts.audience_country"), CampaignCountries(draft.id).pack()
                ),
            ]
        ),
    )


async def _ask_closing(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    buttons = [
        kb.button(
            t.plain("campaigns.close_in", days=d) if d else t.plain("campaigns.no_close"),
            CampaignClosing(draft.id, d).pack(),
        )
        for d in svc.CLOSE_CHOICES_DAYS
    ]
    buttons.append(kb.button(t.plain("campaigns.pick_date"), CampaignAskClosing(draft.id).pack()))
    await reply(update, context, t("campaigns.choose_closing"), kb.rows(buttons, per_row=2))


async def _ask_reminder(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    buttons = [
        kb.button(
            t.plain("campaigns.remind_before", hours=h) if h else t.plain("campaigns.no_reminder"),
            CampaignReminder(draft.id, h).pack(),
        )
        for h in svc.REMIND_CHOICES_HOURS
    ]
    await reply(update, context, t("campaigns.choose_reminder"), kb.rows(buttons, per_row=3))


async def _after_closing(update: Update, context: BotContext, draft: Draft) -> None:
    """Ask for a reminder before the closing, or sum up when it never closes."""
    if draft.closes_at is None:
        await _summary(update, context, draft)
    else:
        await _ask_reminder(update, context, draft)


async def _summary(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    closes = (
        draft.closes_at.astimezone(context.settings.tz).strftime("%Y-%m-%d %H:%M")
        if draft.closes_at
        else t.plain("campaigns.no_close")
    )
    remind = (
        t.plain("campaigns.remind_before", hours=draft.remind_before_hours)
        if draft.remind_before_hours
        else t.plain("campaigns.no_reminder")
    )
    opens = (
        draft.opens_at.astimezone(context.settings.tz).strftime("%Y-%m-%d %H:%M")
        if draft.opens_at > utcnow()
        else t.plain("campaigns.opens_now")
    )
    text = t(
        "campaigns.summary",
        title=draft.title.get(t.language) or draft.title["en"],
        wave=wave_label(context, draft.wave),
        closes=closes,
        remind=remind,
        opens=opens,
    )
    await reply(
        update,
        context,
        text,
        kb.rows(
            [
                kb.button(t.plain("campaigns.publish"), CampaignPublish(draft.id).pack()),
                kb.button(t.plain("campaigns.open_later"), CampaignAskOpening(draft.id).pack()),
            ]
        ),
    )


Next = Callable[[Update, BotContext, Draft], Awaitable[None]]


async def _store(
    update: Update, context: BotContext, change: Callable[[], Awaitable[Draft]], ask_next: Next
) -> None:
    """Store one choice of the draft (`change`), then ask the next one."""
    if not await _button_allowed(update, context):
        return
    try:
        draft = await change()
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await toast(update, context)
    await ask_next(update, context, draft)


async def new_draft(update: Update, context: BotContext, data: CampaignNew) -> None:
    """Start composing a campaign of the instrument pressed; ask for its wave."""
    actor, admins, db = require_profile(context).telegram_id, context.admin_ids, context.db
    await _store(
        update, context, lambda: svc.new_draft(db, actor, admins, data.instrument), _ask_wave
    )


async def choose_wave(update: Update, context: BotContext, data: CampaignWave) -> None:
    """Store one of the usual waves; ask for the audience."""
    actor, admins, db = require_profile(context).telegram_id, context.admin_ids, context.db
    await _store(
        update,
        context,
        lambda: svc.update_draft(db, actor, admins, data.draft, wave=data.wave),
        _ask_audience,
    )


async def choose_audience(update: Update, context: BotContext, data: CampaignAudience) -> None:
    """Store who is invited; ask when the campaign closes."""
    actor, admins, db = require_profile(context).telegram_id, context.admin_ids, context.db
    audience = (data.audience, data.ref)
    await _store(
        update,
        context,
        lambda: svc.update_draft(db, actor, admins, data.draft, audience=audience),
        _ask_closing,
    )


async def choose_closing(update: Update, context: BotContext, data: CampaignClosing) -> None:
    """Store when the campaign closes (days after it opens); ask about a reminder."""
    actor, admins, db = require_profile(context).telegram_id, context.admin_ids, context.db
    await _store(
        update,
        context,
        lambda: svc.update_draft(db, actor, admins, data.draft, close_days=data.days),
        _after_closing,
    )


async def choose_reminder(update: Update, context: BotContext, data: CampaignReminder) -> None:
    """Store the reminder before closing; sum the campaign up."""
    actor, admins, db = require_profile(context).telegram_id, context.admin_ids, context.db
    await _store(
        update,
        context,
        lambda: svc.update_draft(db, actor, admins, data.draft, remind_hours=data.hours),
        _summary,
    )


async def list_universities(
    update: Update, context: BotContext, data: CampaignUniversities
) -> None:
    """List the universities to choose the audience from."""
    if not await _button_allowed(update, context):
        return
    t = context.t
    await toast(update, context)
    universities = await university_service.list_universities(context.db)
    await reply(
        update,
        context,
        t("broadcasts.choose_university"),
        kb.rows(
            kb.button(
                u.name(t.language), CampaignAudience(data.draft, "university", str(u.id)).pack()
            )
            for u in universities
        ),
    )


async def list_countries(update: Update, context: BotContext, data: CampaignCountries) -> None:
    """List the countries to choose the audience from."""
    if not await _button_allowed(update, context):
        return
    t = context.t
    await toast(update, context)
    await reply(
        update,
        context,
        t("broadcasts.choose_country"),
        kb.rows(
            (
                kb.button(
                    t.plain(f"countries.{c}"), CampaignAudience(data.draft, "country", c).pack()
                )
                for c in COUNTRIES
            ),
            per_row=3,
        ),
    )


async def ask_wave(update: Update, context: BotContext, data: CampaignAskWave) -> None:
    """Wait for a wave label of the organizer's own."""
    await _ask_typed(update, context, Asked.WAVE, data.draft)


async def ask_closing(update: Update, context: BotContext, data: CampaignAskClosing) -> None:
    """Wait for a closing date and time."""
    await _ask_typed(update, context, Asked.CLOSE, data.draft)


async def ask_opening(update: Update, context: BotContext, data: CampaignAskOpening) -> None:
    """Wait for a later opening date and time."""
    await _ask_typed(update, context, Asked.OPEN, data.draft)


async def _ask_typed(update: Update, context: BotContext, asked: Asked, draft_id: int) -> None:
    """Wait for the organizer to type `asked` for the draft, and say in what form."""
    if not await _button_allowed(update, context):
        return
    profile = require_profile(context)
    try:
        # Still a draft of this organizer.
        await svc.get_draft(context.db, profile.telegram_id, context.admin_ids, draft_id)
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await toast(update, context)
    await _await_typed(context, waiting_for(asked.route, draft_id))
    example = (utcnow() + timedelta(days=7)).astimezone(context.settings.tz)
    await reply(
        update,
        context,
        context.t(
            f"campaigns.ask_{asked.value}",
            zone=context.settings.timezone,
            example=example.strftime("%Y-%m-%d %H:%M"),
        ),
    )


async def publish(update: Update, context: BotContext, data: CampaignPublish) -> None:
    """Publish the draft; its invitations go out when it opens."""
    if not await _button_allowed(update, context):
        return
    profile = require_profile(context)
    t = context.t
    try:
        draft = await svc.publish(context.db, profile.telegram_id, context.admin_ids, data.draft)
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await toast(update, context)
    title = draft.title.get(t.language) or draft.title["en"]
    await reply(update, context, t("campaigns.published", title=title))
    await context.jobs.run(CAMPAIGN_STEPS)


async def close_campaign(update: Update, context: BotContext, data: CampaignClose) -> None:
    """Close a published campaign now (/campaigns): those mid-way are told."""
    if not await _button_allowed(update, context):
        return
    profile = require_profile(context)
    try:
        await svc.close(context.db, profile.telegram_id, context.admin_ids, data.campaign)
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await toast(update, context, context.t.plain("campaigns.closing"))
    await context.jobs.run(CAMPAIGN_STEPS)


async def list_campaigns(update: Update, context: BotContext) -> None:
    """Show recent campaigns with response counts and completion by university (/campaigns)."""
    t = context.t
    if not _allowed(context):
        await reply(update, context, t("errors.not_allowed"))
        return
    profile = require_profile(context)
    rows = await svc.figures(context.db, profile.telegram_id, context.admin_ids)
    if not rows:
        await reply(update, context, t("campaigns.none_yet"))
        return
    lines = [t("campaigns.list_title")]
    buttons = []
    for c in rows:
        lines.append(
            t(
                "campaigns.list_line",
                id=c.id,
                title=c.title.get(t.language) or c.title["en"],
                wave=wave_label(context, c.wave),
                state=t.plain(f"campaigns.state_{c.state.value}"),
                submitted=c.submitted,
                audience=c.audience,
                started=c.started,
                rate=f"{c.rate:.0f}",
            )
        )
        for u in c.by_university:
            lines.append(
                t(
                    "campaigns.university_line",
                    university=u.university.get(t.language) or u.university["en"],
                    submitted=u.submitted,
                    audience=u.audience,
                    rate=f"{u.rate:.0f}",
                )
            )
        chart = CampaignProgress(c.id).pack()
        buttons.append(kb.button(t.plain("campaigns.progress_button", id=c.id), chart))
        if c.state is not CampaignState.CLOSED:
            close = CampaignClose(c.id).pack()
            buttons.append(kb.button(t.plain("campaigns.close_button", id=c.id), close))
    text = fit_lines(lines, lambda n: "…")
    await reply(update, context, text, kb.rows(buttons, per_row=2) if buttons else None)


async def show_progress(update: Update, context: BotContext, data: CampaignProgress) -> None:
    """Send a campaign's chart: responses per day and completion by university."""
    if not await _button_allowed(update, context):
        return
    t = context.t
    profile = require_profile(context)
    try:
        progress = await campaign_progress.progress(
            context.db, profile.telegram_id, context.admin_ids, data.campaign, context.settings.tz
        )
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await toast(update, context)
    title = progress.title.get(t.language) or progress.title["en"]
    labels = {
        "title": t.plain(
            "campaigns.progress_title",
            id=progress.campaign_id,
            title=title,
            wave=wave_label(context, progress.wave),
        ),
        "per_day": t.plain("campaigns.progress_per_day"),
        "started": t.plain("campaigns.progress_started"),
        "submitted": t.plain("campaigns.progress_submitted"),
        "completion": t.plain("campaigns.progress_completion"),
    }
    png = await chart_pool.run(progress_chart, progress, labels, t.language)
    last = progress.days[-1] if progress.days else None
    caption = t(
        "campaigns.progress_caption",
        id=progress.campaign_id,
        submitted=last.submitted_total if last else 0,
        started=last.started_total if last else 0,
        audience=progress.audience,
    )
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_photo(chat.id, png, caption=caption, parse_mode="HTML")


async def _await_typed(context: BotContext, value: str | None) -> None:
    """Store what the organizer's typed text goes to (None: nothing)."""
    context.profile = await user_service.set_awaiting(
        context.db, require_profile(context).telegram_id, value, context.admin_ids
    )


async def save_typed(update: Update, context: BotContext, asked: Asked, draft_id: int) -> None:
    """Take a typed wave label, closing time or opening time of the campaign being composed."""
    profile = require_profile(context)
    message = update.effective_message
    if message is None:
        return
    t = context.t
    text = message.text or ""
    actor, admins, db = profile.telegram_id, context.admin_ids, context.db
    try:
        if asked is Asked.WAVE:
            draft = await svc.update_draft(db, actor, admins, draft_id, wave=text)
        elif asked is Asked.CLOSE:
            moment = parse_local_time(text, context.settings.tz)
            draft = await svc.update_draft(db, actor, admins, draft_id, closes_at=moment)
        else:
            moment = parse_local_time(text, context.settings.tz)
            draft = await svc.update_draft(db, actor, admins, draft_id, opens_at=moment)
    except InvalidInput as exc:
        await reply(update, context, t(exc.key, **exc.values))  # still waiting: try again
        return
    except ServiceError as exc:
        await _await_typed(context, None)  # the draft is gone or published: stop waiting
        await reply(update, context, t(exc.key, **exc.values))
        return
    await _await_typed(context, None)
    if asked is Asked.WAVE:
        await _ask_audience(update, context, draft)
    elif asked is Asked.CLOSE:
        await _ask_reminder(update, context, draft)
    else:
        await _summary(update, context, draft)
