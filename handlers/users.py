"""Onboarding, language, profile and data deletion: the user's own record, in chat.

The step a user is at is read from their stored profile (`Profile.next_step`), so these
handlers are stateless: a restart, a stale button or a typed message lands on the right step.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatAction

from bot import keyboards as kb
from bot.context import BotContext
from bot.services import InvalidInput, NotFound, ServiceError
from bot.services import invites as invite_service
from bot.services import universities as university_service
from bot.services import users as user_service
from bot.services.roles import Role
from bot.services.users import Awaiting, Profile, Step
from handlers.common import reply, safe_edit, show_menu, toast


async def start(update: Update, context: BotContext) -> None:
    """Start or continue onboarding; redeem an invite link if the /start carries one."""
    assert context.profile is not None
    if context.args:
        payload = context.args[0]
        try:
            invite = await invite_service.redeem(context.db, context.profile.telegram_id, payload)
        except ServiceError as exc:
            await reply(update, context, context.t(exc.key, **exc.values))
        else:
            context.profile = await user_service.get_profile(
                context.db, context.profile.telegram_id, context.admin_ids
            )
            await reply(update, context, _granted_text(context, invite))
    profile = context.profile
    if profile.next_step is None:
        await reply(update, context, context.t("start.welcome_back", name=profile.first_name))
        await show_menu(update, context)
        from handlers.surveys import offer_unfinished

        await offer_unfinished(update, context)
        return
    if profile.next_step is Step.LANGUAGE:
        await reply(update, context, context.t("start.welcome", name=profile.first_name))
    await ask_step(update, context, profile)


def _granted_text(context: BotContext, invite: invite_service.InviteView) -> str:
    t = context.t
    role = t.plain(f"roles.{invite.role.value}")
    if invite.university is not None:
        university = invite.university.name(t.language)
        return t("invites.granted_at", role=role, university=university)
    return t("invites.granted", role=role)


async def ask_step(update: Update, context: BotContext, profile: Profile) -> None:
    """Show the prompt of the onboarding step the profile is at."""
    t = context.t
    step = profile.next_step
    if step is Step.LANGUAGE:
        preselected = context.t.language
        text = "\n".join(context.i18n.all("onboarding.choose_language").values())
        await reply(update, context, text, kb.languages(preselected))
    elif step is Step.CONSENT:
        await reply(update, context, t("onboarding.consent"), _consent_keyboard(context))
    elif step is Step.UNIVERSITY:
        await reply(
            update, context, t("onboarding.choose_university"), await _university_keyboard(context)
        )
    elif step is Step.GROUP:
        await reply(update, context, t("onboarding.ask_group"))


def _consent_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    t = context.t
    return kb.rows(
        [
            kb.button(t.plain("onboarding.consent_yes"), "cons:y"),
            kb.button(t.plain("onboarding.consent_no"), "cons:n"),
        ]
    )


async def _university_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    language = context.t.language
    universities = await university_service.list_universities(context.db)
    return kb.rows(
        kb.button(
            f"{kb.COUNTRY_FLAGS.get(u.country, '')} {u.name(language)}".strip(), f"uni:{u.id}"
        )
        for u in universities
    )


async def choose_language(update: Update, context: BotContext) -> None:
    """Store the language chosen with a button, then go on."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.profile is not None
    parts = kb.split(query.data, "lang", 1)
    if parts is None or parts[0] not in kb.LANGUAGE_LABELS:
        await toast(update, context, context.t.plain("errors.stale_button"))
        return
    was_onboarded = context.profile.onboarded
    context.profile = await user_service.set_language(
        context.db, context.profile.telegram_id, parts[0], context.admin_ids
    )
    await toast(update, context)
    await _mark_chosen(
        update,
        context,
        context.t("onboarding.language_set", language=kb.LANGUAGE_LABELS[parts[0]]),
    )
    await _after_change(update, context, was_onboarded)


async def choose_consent(update: Update, context: BotContext) -> None:
    """Store consent or its refusal, then go on."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.profile is not None
    parts = kb.split(query.data, "cons", 1)
    if parts is None or parts[0] not in ("y", "n"):
        await toast(update, context, context.t.plain("errors.stale_button"))
        return
    if context.profile.consent is not None:
        # Already answered (a double tap, or a replayed update): /profile changes consent.
        await toast(update, context, context.t.plain("errors.stale_button"))
        return
    agreed = parts[0] == "y"
    was_onboarded = context.profile.onboarded
    context.profile = await user_service.set_consent(
        context.db, context.profile.telegram_id, agreed, context.admin_ids
    )
    await toast(update, context)
    key = "onboarding.consent_given" if agreed else "onboarding.consent_declined"
    await _mark_chosen(update, context, context.t(key))
    await _after_change(update, context, was_onboarded)


async def choose_university(update: Update, context: BotContext) -> None:
    """Store the university picked with a button, if a university is being asked for."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.profile is not None
    profile = context.profile
    parts = kb.split(query.data, "uni", 1)
    university_id = kb.parse_int(parts[0]) if parts else None
    asked = profile.next_step is Step.UNIVERSITY or profile.awaiting == Awaiting.UNIVERSITY
    if university_id is None or not asked:
        await toast(update, context, context.t.plain("errors.stale_button"))
        return
    try:
        context.profile = await user_service.set_university(
            context.db, profile.telegram_id, university_id, context.admin_ids
        )
    except NotFound as exc:
        await toast(update, context, context.t.plain(exc.key))
        return
    await toast(update, context)
    university = context.profile.university
    assert university is not None
    await _mark_chosen(
        update,
        context,
        context.t("onboarding.university_set", university=university.name(context.t.language)),
    )
    await _after_change(update, context, profile.onboarded)


async def save_group(update: Update, context: BotContext, text: str) -> None:
    """Store the faculty/group typed by the user."""
    assert context.profile is not None
    was_onboarded = context.profile.onboarded
    try:
        context.profile = await user_service.set_group(
            context.db, context.profile.telegram_id, text, context.admin_ids
        )
    except InvalidInput as exc:
        await reply(update, context, context.t(exc.key, **exc.values))
        return
    await reply(
        update, context, context.t("onboarding.group_set", group=context.profile.group_name or "")
    )
    await _after_change(update, context, was_onboarded)


async def _mark_chosen(update: Update, context: BotContext, text: str) -> None:
    """Edit the message whose button was pressed so it shows the choice, without buttons."""
    await safe_edit(update, text)


async def _after_change(update: Update, context: BotContext, was_onboarded: bool) -> None:
    """Continue onboarding; greet and show the menu when it just finished; else the profile."""
    profile = context.profile
    assert profile is not None
    if profile.next_step is not None:
        await ask_step(update, context, profile)
    elif not was_onboarded:
        await reply(update, context, context.t("onboarding.done"))
        await show_menu(update, context)
    else:
        await show_profile(update, context)


async def change_language(update: Update, context: BotContext) -> None:
    """Offer the language buttons (/language)."""
    assert context.profile is not None
    text = "\n".join(context.i18n.all("onboarding.choose_language").values())
    await reply(update, context, text, kb.languages(context.profile.language))


async def show_profile(update: Update, context: BotContext) -> None:
    """Show the stored profile with buttons to change each part (/profile)."""
    profile = context.profile
    assert profile is not None
    if profile.next_step is not None:
        await reply(update, context, context.t("onboarding.finish_first"))
        await ask_step(update, context, profile)
        return
    t = context.t
    university = profile.university
    consent_key = "profile.consent_yes" if profile.consent else "profile.consent_no"
    roles = ", ".join(
        t.plain(f"roles.{r.value}") for r in sorted(profile.roles) if r is not Role.STUDENT
    ) or t.plain("roles.student")
    text = t(
        "profile.summary",
        name=profile.first_name,
        language=kb.LANGUAGE_LABELS.get(profile.language or "", "?"),
        university=university.name(t.language) if university else "—",
        country=t.plain(f"countries.{university.country}") if university else "—",
        group=profile.group_name or "—",
        consent=t.plain(consent_key),
        roles=roles,
    )
    consent_label = "profile.withdraw_consent" if profile.consent else "profile.give_consent"
    # The button carries the state it sets, so a stale or double-tapped one cannot flip it back.
    consent_data = "prof:consent:n" if profile.consent else "prof:consent:y"
    keyboard = kb.rows(
        [
            kb.button(t.plain("profile.change_language"), "prof:lang"),
            kb.button(t.plain("profile.change_university"), "prof:uni"),
            kb.button(t.plain("profile.change_group"), "prof:group"),
            kb.button(t.plain(consent_label), consent_data),
            kb.button(t.plain("profile.delete"), "prof:delete"),
        ]
    )
    await reply(update, context, text, keyboard)


async def profile_action(update: Update, context: BotContext) -> None:
    """Start changing one part of the profile from its button."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.profile is not None
    pieces = query.data.split(":")
    action = pieces[1] if len(pieces) > 1 else ""
    telegram_id = context.profile.telegram_id
    if context.profile.next_step is not None:
        # A profile button from before a /delete_my_data: finish registration first.
        await toast(update, context, context.t.plain("errors.stale_button"))
        return
    await toast(update, context)
    if action == "lang":
        await change_language(update, context)
    elif action == "uni":
        context.profile = await user_service.set_awaiting(
            context.db, telegram_id, Awaiting.UNIVERSITY, context.admin_ids
        )
        await reply(
            update,
            context,
            context.t("onboarding.choose_university"),
            await _university_keyboard(context),
        )
    elif action == "group":
        context.profile = await user_service.set_awaiting(
            context.db, telegram_id, Awaiting.GROUP, context.admin_ids
        )
        await reply(update, context, context.t("onboarding.ask_group"))
    elif action == "consent" and len(pieces) == 3 and pieces[2] in ("y", "n"):
        agreed = pieces[2] == "y"
        context.profile = await user_service.set_consent(
            context.db, telegram_id, agreed, context.admin_ids
        )
        key = "onboarding.consent_given" if agreed else "profile.consent_withdrawn"
        await reply(update, context, context.t(key))
        await show_profile(update, context)
    elif action == "delete":
        await ask_delete(update, context)
    else:
        await reply(update, context, context.t("errors.stale_button"))


async def ask_delete(update: Update, context: BotContext) -> None:
    """Ask to confirm deleting every stored piece of the user's data (/delete_my_data)."""
    t = context.t
    keyboard = kb.rows(
        [
            kb.button(t.plain("delete.confirm"), "del:y"),
            kb.button(t.plain("delete.keep"), "del:n"),
        ]
    )
    await reply(update, context, t("delete.ask"), keyboard)


async def confirm_delete(update: Update, context: BotContext) -> None:
    """Delete the user's data after confirmation, or keep it."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.profile is not None
    parts = kb.split(query.data, "del", 1)
    if parts is None or parts[0] not in ("y", "n"):
        await toast(update, context, context.t.plain("errors.stale_button"))
        return
    t = context.t
    await toast(update, context)
    if parts[0] == "n":
        await _mark_chosen(update, context, t("delete.kept"))
        return
    if update.effective_chat is not None:
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
    await user_service.delete_user(context.db, context.profile.telegram_id)
    if context.chat_data is not None:
        context.chat_data.clear()
    await _mark_chosen(update, context, t("delete.done"))
