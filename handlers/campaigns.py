"""/publish and /campaigns: organizers publish instruments as campaigns and follow responses.

Composing is a chain of buttons whose data carries the draft's id (`cp:<step>:<draft>:...`);
every choice is stored in the draft by the service, which also checks the presser's rights,
so a forged button or a restart in the middle changes nothing it should not.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import keyboards as kb
from bot.awaiting import int_argument
from bot.context import BotContext
from bot.features import Features, InputRoute
from bot.replies import fit_lines, reply, toast, wave_label
from bot.services import InvalidInput, ServiceError
from bot.services import campaigns as svc
from bot.services import universities as university_service
from bot.services import users as user_service
from bot.services.campaigns import Draft
from bot.services.roles import Role
from bot.services.times import parse_local_time
from bot.services.universities import COUNTRIES
from models import utcnow

ORGANIZERS = (Role.ADMIN, Role.ORGANIZER)


def register(features: Features) -> None:
    """Add /publish and /campaigns."""
    features.command("publish", start_publish)
    features.command("campaigns", list_campaigns)
    features.handler(CallbackQueryHandler(campaign_button, pattern=r"^cp:"))
    for kind in ("wave", "close", "open"):
        features.text(f"cp_{kind}", _typed(kind))
    features.help("help.organizer_surveys", ORGANIZERS)


def _typed(kind: str) -> InputRoute:
    """The route of one typed step of composing a campaign (the draft id is the argument)."""

    async def route(update: Update, context: BotContext, argument: str) -> None:
        draft = int_argument(argument)
        if draft is None:
            await reply(update, context, context.t("errors.not_understood"))
            return
        await save_typed(update, context, kind, draft)

    return route


def _allowed(context: BotContext) -> bool:
    return context.profile is not None and context.profile.has(Role.ADMIN, Role.ORGANIZER)


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
        kb.button(title.get(t.language) or title["en"], f"cp:n:{code}")
        for code, title, _kind in instruments
    ]
    await reply(update, context, t("campaigns.choose_instrument"), kb.rows(buttons))


async def _ask_wave(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    buttons = [
        kb.button(t.plain(f"campaigns.wave_{w}"), f"cp:w:{draft.id}:{w}") for w in svc.WAVES
    ]
    buttons.append(kb.button(t.plain("campaigns.other_wave"), f"cp:wo:{draft.id}"))
    await reply(update, context, t("campaigns.choose_wave"), kb.rows(buttons, per_row=3))


async def _ask_audience(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    await reply(
        update,
        context,
        t("campaigns.choose_audience"),
        kb.rows(
            [
                kb.button(t.plain("broadcasts.audience_all"), f"cp:a:{draft.id}:all"),
                kb.button(t.plain("broadcasts.audience_university"), f"cp:u:{draft.id}"),
                kb.button(t.plain("broadcasts.audience_country"), f"cp:k:{draft.id}"),
            ]
        ),
    )


async def _ask_closing(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    buttons = [
        kb.button(
            t.plain("campaigns.close_in", days=d) if d else t.plain("campaigns.no_close"),
            f"cp:c:{draft.id}:{d}",
        )
        for d in svc.CLOSE_CHOICES_DAYS
    ]
    buttons.append(kb.button(t.plain("campaigns.pick_date"), f"cp:co:{draft.id}"))
    await reply(update, context, t("campaigns.choose_closing"), kb.rows(buttons, per_row=2))


async def _ask_reminder(update: Update, context: BotContext, draft: Draft) -> None:
    t = context.t
    buttons = [
        kb.button(
            t.plain("campaigns.remind_before", hours=h) if h else t.plain("campaigns.no_reminder"),
            f"cp:r:{draft.id}:{h}",
        )
        for h in svc.REMIND_CHOICES_HOURS
    ]
    await reply(update, context, t("campaigns.choose_reminder"), kb.rows(buttons, per_row=3))


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
                kb.button(t.plain("campaigns.publish"), f"cp:p:{draft.id}"),
                kb.button(t.plain("campaigns.open_later"), f"cp:o:{draft.id}"),
            ]
        ),
    )


async def campaign_button(update: Update, context: BotContext) -> None:
    """Take the next choice of the campaign being composed, or close one (/campaigns)."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.profile is not None
    t = context.t
    if not _allowed(context):
        await toast(update, context, t.plain("errors.not_allowed"))
        return
    parts = query.data.split(":")
    action = parts[1] if len(parts) > 2 else ""
    actor, admins, db = context.profile.telegram_id, context.admin_ids, context.db
    try:
        if action == "n":
            draft = await svc.new_draft(db, actor, admins, parts[2])
            await toast(update, context)
            await _ask_wave(update, context, draft)
            return
        draft_id = kb.parse_int(parts[2])
        if draft_id is None:
            raise ServiceError("errors.stale_button")
        if action == "w" and len(parts) == 4:
            draft = await svc.update_draft(db, actor, admins, draft_id, wave=parts[3])
            await toast(update, context)
            await _ask_audience(update, context, draft)
        elif action in ("wo", "co", "o"):
            kind = {"wo": "wave", "co": "close", "o": "open"}[action]
            await svc.get_draft(db, actor, admins, draft_id)  # still a draft of this organizer
            await toast(update, context)
            await _await_typed(context, f"cp_{kind}:{draft_id}")
            example = (utcnow() + timedelta(days=7)).astimezone(context.settings.tz)
            await reply(
                update,
                context,
                t(
                    f"campaigns.ask_{kind}",
                    zone=context.settings.timezone,
                    example=example.strftime("%Y-%m-%d %H:%M"),
                ),
            )
        elif action == "u":
            await toast(update, context)
            universities = await university_service.list_universities(db)
            await reply(
                update,
                context,
                t("broadcasts.choose_university"),
                kb.rows(
                    kb.button(u.name(t.language), f"cp:a:{draft_id}:university:{u.id}")
                    for u in universities
                ),
            )
        elif action == "k":
            await toast(update, context)
            await reply(
                update,
                context,
                t("broadcasts.choose_country"),
                kb.rows(
                    (
                        kb.button(t.plain(f"countries.{c}"), f"cp:a:{draft_id}:country:{c}")
                        for c in COUNTRIES
                    ),
                    per_row=3,
                ),
            )
        elif action == "a" and len(parts) >= 4:
            ref = parts[4] if len(parts) > 4 else None
            draft = await svc.update_draft(db, actor, admins, draft_id, audience=(parts[3], ref))
            await toast(update, context)
            await _ask_closing(update, context, draft)
        elif action == "c" and len(parts) == 4 and kb.parse_int(parts[3]) is not None:
            draft = await svc.update_draft(db, actor, admins, draft_id, close_days=parts[3])
            await toast(update, context)
            if draft.closes_at is None:
                await _summary(update, context, draft)
            else:
                await _ask_reminder(update, context, draft)
        elif action == "r" and len(parts) == 4 and kb.parse_int(parts[3]) is not None:
            draft = await svc.update_draft(db, actor, admins, draft_id, remind_hours=parts[3])
            await toast(update, context)
            await _summary(update, context, draft)
        elif action == "p":
            draft = await svc.publish(db, actor, admins, draft_id)
            await toast(update, context)
            await reply(
                update,
                context,
                t("campaigns.published", title=draft.title.get(t.language) or draft.title["en"]),
            )
            await context.broadcaster.run_campaign_steps()
        elif action == "x":
            await svc.close(db, actor, admins, draft_id)
            await toast(update, context, t.plain("campaigns.closing"))
            await context.broadcaster.run_campaign_steps()
        else:
            await toast(update, context, t.plain("errors.stale_button"))
    except ServiceError as exc:
        await toast(update, context, t.plain(exc.key, **exc.values))


async def list_campaigns(update: Update, context: BotContext) -> None:
    """Show recent campaigns with response counts and completion by university (/campaigns)."""
    t = context.t
    if not _allowed(context):
        await reply(update, context, t("errors.not_allowed"))
        return
    assert context.profile is not None
    rows = await svc.figures(context.db, context.profile.telegram_id, context.admin_ids)
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
                state=t.plain(f"campaigns.state_{c.state}"),
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
        if c.state != "closed":
            buttons.append(kb.button(t.plain("campaigns.close_button", id=c.id), f"cp:x:{c.id}"))
    text = fit_lines(lines, lambda n: "…")
    await reply(update, context, text, kb.rows(buttons, per_row=2) if buttons else None)


async def _await_typed(context: BotContext, value: str | None) -> None:
    assert context.profile is not None
    context.profile = await user_service.set_awaiting(
        context.db, context.profile.telegram_id, value, context.admin_ids
    )


async def save_typed(update: Update, context: BotContext, kind: str, draft_id: int) -> None:
    """Take a typed wave label, closing time or opening time of the campaign being composed."""
    message = update.effective_message
    assert message is not None and context.profile is not None
    t = context.t
    text = message.text or ""
    actor, admins, db = context.profile.telegram_id, context.admin_ids, context.db
    try:
        if kind == "wave":
            draft = await svc.update_draft(db, actor, admins, draft_id, wave=text)
        else:
            moment = parse_local_time(text, context.settings.tz)
            key = "closes_at" if kind == "close" else "opens_at"
            draft = await svc.update_draft(db, actor, admins, draft_id, **{key: moment})
    except InvalidInput as exc:
        await reply(update, context, t(exc.key, **exc.values))  # still waiting: try again
        return
    except ServiceError as exc:
        await _await_typed(context, None)  # the draft is gone or published: stop waiting
        await reply(update, context, t(exc.key, **exc.values))
        return
    await _await_typed(context, None)
    if kind == "wave":
        await _ask_audience(update, context, draft)
    elif kind == "close":
        await _ask_reminder(update, context, draft)
    else:
        await _summary(update, context, draft)
