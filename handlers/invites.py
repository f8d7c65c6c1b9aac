"""/invite: organizers and admins create deep links that grant a role and a university.

The three choices (role, university, number of uses) travel in the callback data of each
step; nothing is trusted from it: the service re-checks the inviter's rights at creation.
"""

from __future__ import annotations

from telegram import Update
from telegram.helpers import create_deep_linked_url

from bot import keyboards as kb
from bot.callbacks import InviteRole, InviteUniversity, InviteUses
from bot.context import BotContext
from bot.features import Features
from bot.replies import reply, require_profile, toast
from bot.services import ServiceError
from bot.services import invites as invite_service
from bot.services import universities as university_service
from bot.services import users as user_service
from bot.services.roles import Role


def register(features: Features) -> None:
    """Add /invite and the `/start i-<code>` links it makes."""
    features.command("invite", start_invite)
    features.button(InviteRole, choose_university)
    features.button(InviteUniversity, choose_uses)
    features.button(InviteUses, create_link)
    # At once, even mid-onboarding: the invite may grant the university onboarding asks for.
    features.deep_link("i", redeem_link, during_onboarding=True)
    features.action("invite", start_invite)
    features.menu("invite", "menu.invite", "invite", (Role.ADMIN, Role.ORGANIZER), position=60)
    features.help("help.organizer", (Role.ADMIN, Role.ORGANIZER))


async def redeem_link(update: Update, context: BotContext, code: str) -> None:
    """Use the invite of a `/start i-<code>` link: grant its role and university."""
    profile = require_profile(context)
    try:
        invite = await invite_service.redeem(context.db, profile.telegram_id, f"i-{code}")
    except ServiceError as exc:
        await reply(update, context, context.t(exc.key, **exc.values))
        return
    context.profile = await user_service.get_profile(
        context.db, profile.telegram_id, context.admin_ids
    )
    await reply(update, context, _granted_text(context, invite))


def _granted_text(context: BotContext, invite: invite_service.InviteView) -> str:
    t = context.t
    role = t.plain(f"roles.{invite.role.value}")
    if invite.university is not None:
        university = invite.university.name(t.language)
        return t("invites.granted_at", role=role, university=university)
    return t("invites.granted", role=role)


async def start_invite(update: Update, context: BotContext) -> None:
    """Ask which role the invite link grants (/invite)."""
    profile = require_profile(context)
    roles = invite_service.grantable_by(profile.roles)
    if not roles:
        await reply(update, context, context.t("errors.not_allowed"))
        return
    t = context.t
    keyboard = kb.rows(
        (kb.button(t.plain(f"roles.{r.value}"), InviteRole(r).pack()) for r in roles), per_row=2
    )
    await reply(update, context, t("invites.choose_role"), keyboard)


async def _may_grant(update: Update, context: BotContext, role: Role) -> bool:
    """True if the presser may hand out `role`; otherwise they are told, and it is False."""
    if role in invite_service.grantable_by(require_profile(context).roles):
        return True
    await toast(update, context, context.t.plain("errors.not_allowed"))
    return False


async def choose_university(update: Update, context: BotContext, data: InviteRole) -> None:
    """Take the invite's role; ask for its university."""
    if not await _may_grant(update, context, data.role):
        return
    await toast(update, context)
    await _ask_university(update, context, data.role)


async def choose_uses(update: Update, context: BotContext, data: InviteUniversity) -> None:
    """Take the invite's university; ask how many may use it."""
    if not await _may_grant(update, context, data.role):
        return
    await toast(update, context)
    await _ask_uses(update, context, data.role, data.university)


async def create_link(update: Update, context: BotContext, data: InviteUses) -> None:
    """Take the number of uses and create the invite (a forged number is refused)."""
    if not await _may_grant(update, context, data.role):
        return
    await toast(update, context)
    try:
        uses = invite_service.parse_uses(data.uses)
    except ServiceError as exc:
        await reply(update, context, context.t(exc.key, **exc.values))
        return
    await _create(update, context, data.role, data.university or None, uses)


async def _ask_university(update: Update, context: BotContext, role: Role) -> None:
    t = context.t
    universities = await university_service.list_universities(context.db)
    buttons = [
        kb.button(
            f"{kb.COUNTRY_FLAGS.get(u.country, '')} {u.name(t.language)}".strip(),
            InviteUniversity(role, u.id).pack(),
        )
        for u in universities
    ]
    if role is not Role.STUDENT:
        all_universities = InviteUniversity(role, 0).pack()
        buttons.append(kb.button(t.plain("invites.all_universities"), all_universities))
    role_name = t.plain(f"roles.{role.value}")
    await reply(update, context, t("invites.choose_university", role=role_name), kb.rows(buttons))


async def _ask_uses(update: Update, context: BotContext, role: Role, university: int) -> None:
    t = context.t
    buttons = [
        kb.button(
            str(n) if n else t.plain("invites.unlimited"),
            InviteUses(role, university, invite_service.uses_code(n)).pack(),
        )
        for n in invite_service.USES_CHOICES
    ]
    await reply(update, context, t("invites.choose_uses"), kb.rows(buttons, per_row=5))


async def _create(
    update: Update, context: BotContext, role: Role, university_id: int | None, uses: int | None
) -> None:
    t = context.t
    profile = require_profile(context)
    try:
        invite = await invite_service.create_invite(
            context.db, profile.telegram_id, context.admin_ids, role, university_id, uses
        )
    except ServiceError as exc:
        await reply(update, context, t(exc.key, **exc.values))
        return
    link = create_deep_linked_url(context.bot.username, invite.payload)
    university = (
        invite.university.name(t.language)
        if invite.university
        else t.plain("invites.all_universities")
    )
    await reply(
        update,
        context,
        t(
            "invites.created",
            role=t.plain(f"roles.{role.value}"),
            university=university,
            uses=str(uses) if uses else t.plain("invites.unlimited"),
            days=invite_service.DEFAULT_VALIDITY.days,
            link=link,
        ),
    )
