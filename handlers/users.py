"""Onboarding, language, profile and data deletion: the user's own record, in chat.

The step a user is at is read from their stored profile (`Profile.next_step`), so these
handlers are stateless: a restart, a stale button or a typed message lands on the right step.
A deep link opened before onboarding is complete (a course's `c-<code>`) is kept on the user
and followed right after the last step; an invite acts at once (see `Features.deep_link`).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatAction

from bot import keyboards as kb
from bot.callbacks import (
    ConsentPick,
    ConsentSet,
    DeleteConfirm,
    LanguagePick,
    ProfileEdit,
    ProfilePart,
    UniversityPick,
)
from bot.context import BotContext
from bot.features import Features
from bot.replies import reply, require_profile, safe_edit, show_menu, stale_button, toast
from bot.services import InvalidInput, NotFound
from bot.services import universities as university_service
from bot.services import users as user_service
from bot.services.roles import Role
from bot.services.users import Awaiting, Profile, Step

# The route and the action the core uses while registration is unfinished.
ONBOARDING = "onboarding"


def register(features: Features) -> None:
    """Add onboarding, /language, /profile and /delete_my_data."""
    features.command("start", start, menu=10)
    features.command("profile", show_profile, menu=40)
    features.command("language", change_language, menu=50)
    features.command("delete_my_data", ask_delete, menu=80)
    features.button(LanguagePick, choose_language)
    features.button(ConsentPick, choose_consent)
    features.button(UniversityPick, choose_university)
    features.button(ProfileEdit, profile_action)
    features.button(ConsentSet, set_consent)
    features.button(DeleteConfirm, confirm_delete)
    features.text(ONBOARDING, onboarding_text)
    features.text(Awaiting.GROUP.value, save_group)
    features.text(Awaiting.UNIVERSITY.value, use_buttons)
    features.action(ONBOARDING, ask_current_step)
    features.action("profile", show_profile)
    features.action("language", change_language)
    features.menu("profile", "menu.profile", "profile", position=20)
    features.menu("language", "menu.language", "language", position=30)


async def start(update: Update, context: BotContext) -> None:
    """Start or continue onboarding; follow the deep link the /start carries, or keep it.

    A link opened before onboarding is complete is kept (a second one replaces it) and
    followed once the last step is done; an invite acts at once; an unknown prefix is said so.
    """
    require_profile(context)
    kept = False
    if context.args:
        was_onboarded = require_profile(context).next_step is None
        prefix = context.args[0].partition("-")[0]
        kept = await _open_link(update, context, context.args[0])
        if (
            was_onboarded
            and prefix in context.features.deep_links
            and prefix not in context.features.onboarding_links
        ):
            # The link's own screen (a course, an event) is what they came for: no greeting
            # and menu pushing it up the chat.
            return
    profile = require_profile(context)
    if profile.next_step is None:
        await reply(update, context, context.t("start.welcome_back", name=profile.first_name))
        await show_menu(update, context)
        await _follow_kept_link(update, context)
        for offer in context.features.welcomes:
            await offer(update, context)
        return
    if profile.next_step is Step.LANGUAGE:
        await reply(update, context, context.t("start.welcome", name=profile.first_name))
    if kept:
        await reply(update, context, context.t("start.link_kept"))
    await ask_step(update, context, profile)


async def _open_link(update: Update, context: BotContext, payload: str) -> bool:
    """Follow a `/start <prefix>-<code>` payload, or keep it until onboarding is complete.

    Returns:
        True when it was kept for later.
    """
    features = context.features
    prefix, _, code = payload.partition("-")
    follow = features.deep_links.get(prefix)
    if follow is None:
        await reply(update, context, context.t("invites.unknown"))
        return False
    profile = require_profile(context)
    if profile.next_step is None or prefix in features.onboarding_links:
        await follow(update, context, code)
        return False
    try:
        context.profile = await user_service.remember_start(
            context.db, profile.telegram_id, payload, context.admin_ids
        )
    except InvalidInput as exc:
        await reply(update, context, context.t(exc.key, **exc.values))
        return False
    return True


async def _follow_kept_link(update: Update, context: BotContext) -> None:
    """Follow the link opened before onboarding was complete, once, if there is one."""
    profile = require_profile(context)
    if profile.pending_start is None or profile.next_step is not None:
        return
    payload, context.profile = await user_service.take_pending_start(
        context.db, profile.telegram_id, context.admin_ids
    )
    if payload is None:
        return
    prefix, _, code = payload.partition("-")
    follow = context.features.deep_links.get(prefix)
    if follow is None:  # a feature no longer registered since the link was kept
        await reply(update, context, context.t("invites.unknown"))
        return
    await reply(update, context, context.t("start.link_followed"))
    await follow(update, context, code)


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
            kb.button(t.plain("onboarding.consent_yes"), ConsentPick(True).pack()),
            kb.button(t.plain("onboarding.consent_no"), ConsentPick(False).pack()),
        ]
    )


async def _university_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    language = context.t.language
    universities = await university_service.list_universities(context.db)
    return kb.rows(
        kb.button(
            f"{kb.COUNTRY_FLAGS.get(u.country, '')} {u.name(language)}".strip(),
            UniversityPick(u.id).pack(),
        )
        for u in universities
    )


async def choose_language(update: Update, context: BotContext, data: LanguagePick) -> None:
    """Store the language chosen with a button, then go on."""
    profile = require_profile(context)
    if data.language not in kb.LANGUAGE_LABELS:
        await stale_button(update, context)
        return
    was_onboarded = profile.onboarded
    context.profile = await user_service.set_language(
        context.db, profile.telegram_id, data.language, context.admin_ids
    )
    await toast(update, context)
    await _mark_chosen(
        update,
        context,
        context.t("onboarding.language_set", language=kb.LANGUAGE_LABELS[data.language]),
    )
    await _after_change(update, context, was_onboarded)


async def choose_consent(update: Update, context: BotContext, data: ConsentPick) -> None:
    """Store consent or its refusal, then go on."""
    profile = require_profile(context)
    if profile.consent is not None:
        # Already answered (a double tap, or a replayed update): /profile changes consent.
        await stale_button(update, context)
        return
    agreed = data.agreed
    was_onboarded = profile.onboarded
    context.profile = await user_service.set_consent(
        context.db, profile.telegram_id, agreed, context.admin_ids
    )
    await toast(update, context)
    key = "onboarding.consent_given" if agreed else "onboarding.consent_declined"
    await _mark_chosen(update, context, context.t(key))
    await _after_change(update, context, was_onboarded)


async def choose_university(update: Update, context: BotContext, data: UniversityPick) -> None:
    """Store the university picked with a button, if a university is being asked for."""
    profile = require_profile(context)
    university_id = data.university
    asked = profile.next_step is Step.UNIVERSITY or profile.awaiting == Awaiting.UNIVERSITY
    if not asked:
        await stale_button(update, context)
        return
    try:
        context.profile = await user_service.set_university(
            context.db, profile.telegram_id, university_id, context.admin_ids
        )
    except NotFound as exc:
        await toast(update, context, context.t.plain(exc.key))
        return
    await toast(update, context)
    university = require_profile(context).university
    name = university.name(context.t.language) if university is not None else ""
    await _mark_chosen(update, context, context.t("onboarding.university_set", university=name))
    await _after_change(update, context, profile.onboarded)


async def onboarding_text(update: Update, context: BotContext, _argument: str) -> None:
    """Take typed text during onboarding: the group when it is asked, else point to the buttons."""
    profile = require_profile(context)
    if profile.next_step is Step.GROUP:
        await save_group(update, context, "")
        return
    await reply(update, context, context.t("errors.use_buttons"))
    await ask_step(update, context, profile)


async def use_buttons(update: Update, context: BotContext, _argument: str) -> None:
    """Say that a button is expected (a university is being chosen)."""
    await reply(update, context, context.t("errors.use_buttons"))


async def ask_current_step(update: Update, context: BotContext) -> None:
    """Show the onboarding step the user is at."""
    await ask_step(update, context, require_profile(context))


async def save_group(update: Update, context: BotContext, _argument: str) -> None:
    """Store the faculty/group typed by the user."""
    profile = require_profile(context)
    message = update.effective_message
    text = message.text if message is not None and message.text is not None else ""
    was_onboarded = profile.onboarded
    try:
        context.profile = await user_service.set_group(
            context.db, profile.telegram_id, text, context.admin_ids
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
    """Continue onboarding; greet and show the menu when it just finished; else the profile.

    Once onboarding is complete, a deep link opened before it is followed.
    """
    profile = require_profile(context)
    if profile.next_step is not None:
        await ask_step(update, context, profile)
        return
    if not was_onboarded:
        await reply(update, context, context.t("onboarding.done"))
        await show_menu(update, context)
    else:
        await show_profile(update, context)
    await _follow_kept_link(update, context)


async def change_language(update: Update, context: BotContext) -> None:
    """Offer the language buttons (/language)."""
    profile = require_profile(context)
    text = "\n".join(context.i18n.all("onboarding.choose_language").values())
    await reply(update, context, text, kb.languages(profile.language))


async def show_profile(update: Update, context: BotContext) -> None:
    """Show the stored profile with buttons to change each part (/profile)."""
    profile = require_profile(context)
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
    consent_data = ConsentSet(agreed=not profile.consent).pack()
    keyboard = kb.rows(
        [
            kb.button(
                t.plain("profile.change_language"), ProfileEdit(ProfilePart.LANGUAGE).pack()
            ),
            kb.button(
                t.plain("profile.change_university"), ProfileEdit(ProfilePart.UNIVERSITY).pack()
            ),
            kb.button(t.plain("profile.change_group"), ProfileEdit(ProfilePart.GROUP).pack()),
            kb.button(t.plain(consent_label), consent_data),
            kb.button(t.plain("profile.delete"), ProfileEdit(ProfilePart.DELETE).pack()),
        ]
    )
    await reply(update, context, text, keyboard)


async def profile_action(update: Update, context: BotContext, data: ProfileEdit) -> None:
    """Start changing one part of the profile from its button."""
    profile = require_profile(context)
    telegram_id = profile.telegram_id
    if profile.next_step is not None:
        # A profile button from before a /delete_my_data: finish registration first.
        await stale_button(update, context)
        return
    await toast(update, context)
    if data.part is ProfilePart.LANGUAGE:
        await change_language(update, context)
    elif data.part is ProfilePart.UNIVERSITY:
        context.profile = await user_service.set_awaiting(
            context.db, telegram_id, Awaiting.UNIVERSITY, context.admin_ids
        )
        await reply(
            update,
            context,
            context.t("onboarding.choose_university"),
            await _university_keyboard(context),
        )
    elif data.part is ProfilePart.GROUP:
        context.profile = await user_service.set_awaiting(
            context.db, telegram_id, Awaiting.GROUP, context.admin_ids
        )
        await reply(update, context, context.t("onboarding.ask_group"))
    else:
        await ask_delete(update, context)


async def set_consent(update: Update, context: BotContext, data: ConsentSet) -> None:
    """Give or withdraw research consent from the profile."""
    profile = require_profile(context)
    if profile.next_step is not None:
        await stale_button(update, context)
        return
    await toast(update, context)
    context.profile = await user_service.set_consent(
        context.db, profile.telegram_id, data.agreed, context.admin_ids
    )
    key = "onboarding.consent_given" if data.agreed else "profile.consent_withdrawn"
    await reply(update, context, context.t(key))
    await show_profile(update, context)


async def ask_delete(update: Update, context: BotContext) -> None:
    """Ask to confirm deleting every stored piece of the user's data (/delete_my_data)."""
    t = context.t
    keyboard = kb.rows(
        [
            kb.button(t.plain("delete.confirm"), DeleteConfirm(True).pack()),
            kb.button(t.plain("delete.keep"), DeleteConfirm(False).pack()),
        ]
    )
    await reply(update, context, t("delete.ask"), keyboard)


async def confirm_delete(update: Update, context: BotContext, data: DeleteConfirm) -> None:
    """Delete the user's data after confirmation, or keep it."""
    profile = require_profile(context)
    t = context.t
    await toast(update, context)
    if not data.confirmed:
        await _mark_chosen(update, context, t("delete.kept"))
        return
    if update.effective_chat is not None:
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
    await user_service.delete_user(context.db, profile.telegram_id)
    if context.chat_data is not None:
        context.chat_data.clear()
    await _mark_chosen(update, context, t("delete.done"))
