"""Contributing to the resource bank (/contribute) and moderating it (/moderation).

`/contribute` (coaches, organizers, admins; students while the organizers allow it) takes a
draft through its steps: the title and the description (typed, in one language or with
`[kk]`/`[ru]`/`[en]` sections; the description may be skipped), the discipline (a button of
the list, or a new name typed: proposed), the type, the language(s) (buttons, or typed codes),
the level, the license (required), the authors (typed, or skipped), the university (the
contributor's; admins and consortium-wide organizers may choose another) and the resource
itself: a file sent as a file (at most 20 MB, of an allowed type; kept as Telegram's
`file_id`) and/or a link. A preview shows the card as people will read it, with an Edit
button per step, Submit and Discard.

The step is stored on the draft (`Resource.step`) and what the bot waits for on the user:
`rb_draft:<id>` takes typed text and files and gives them to the draft's current step, so a
restart loses nothing and /contribute takes an unfinished draft up where it stopped. Bad input
is explained by the service's message and the step keeps waiting; a choice from an old
message for a step already answered is refused rather than taking the draft back.

Moderation (organizers of the resource's university, admins): `/moderation` (or the button in
/resources) lists the pending resources; each opens with its file, Approve, Ask for changes
and Reject; the last two wait for the comment (`rb_mod:<id>-c` / `rb_mod:<id>-r`). The
contributor and the moderators are told by the service's notices, started here. The same
screen switches "students may contribute" on and off.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import bank_cards as cards
from bot import keyboards as kb
from bot.awaiting import int_argument, waiting_for
from bot.callbacks import (
    BankDecide,
    BankDecision,
    BankDiscard,
    BankEdit,
    BankGet,
    BankModeration,
    BankNew,
    BankOpen,
    BankPick,
    BankResume,
    BankReview,
    BankSkip,
    BankStudents,
    BankSubmit,
)
from bot.context import BotContext
from bot.conversation import (
    answered_refusals,
    remove_keyboard,
    set_awaiting,
    stop_waiting,
    typed_text,
)
from bot.features import Features
from bot.replies import reply, require_profile, safe_edit, shorten, toast
from bot.services import InvalidInput, PermissionDenied, ServiceError
from bot.services import resources as svc
from bot.services import universities as university_service
from bot.services.resource_fields import MISSING
from bot.services.resources import FileInfo, Kind, Level, ResourceView, State
from bot.services.roles import Role

DRAFT_ROUTE = "rb_draft"  # `rb_draft:<id>`: typed text or a file for the draft's step
MODERATION_ROUTE = "rb_mod"  # `rb_mod:<id>-c|r`: the comment of changes asked / a rejection
ROUTES = (DRAFT_ROUTE, MODERATION_ROUTE)
MODERATORS = (Role.ADMIN, Role.ORGANIZER)
LANGUAGE_CHOICES = ("kk", "ru", "en", "kk-ru", "kk-en", "ru-en", "kk-ru-en")
STEP_COUNT = len(svc.STEPS) - 1  # the preview is no question
LABEL_MAX = 60
QUEUE_MAX = 30  # pending resources listed as buttons
# Refusals that no other text can mend: the bot stops waiting.
FINAL = frozenset({"bank.not_editable", "bank.not_found", "bank.not_yours", "bank.not_pending"})


def register(features: Features) -> None:
    """Add /contribute, /moderation and their buttons and typed input."""
    features.command("contribute", contribute_command)
    features.command("moderation", moderation_command)
    features.button(BankNew, answered_refusals(new_button))
    features.button(BankResume, answered_refusals(resume_button))
    features.button(BankPick, answered_refusals(pick_button))
    features.button(BankSkip, answered_refusals(skip_button))
    features.button(BankEdit, answered_refusals(edit_button))
    features.button(BankSubmit, answered_refusals(submit_button))
    features.button(BankDiscard, answered_refusals(discard_button))
    features.button(BankModeration, answered_refusals(moderation_button))
    features.button(BankReview, answered_refusals(review_button))
    features.button(BankDecide, answered_refusals(decide_button))
    features.button(BankStudents, answered_refusals(students_button))
    features.text(DRAFT_ROUTE, typed_for_draft)
    features.file(DRAFT_ROUTE, file_for_draft)
    features.text(MODERATION_ROUTE, typed_moderation_comment)
    features.action("contribute", contribute_command)
    features.help("help.contribute", (Role.ADMIN, Role.ORGANIZER, Role.COACH))
    features.help("help.moderation", MODERATORS)


# --- plumbing ---------------------------------------------------------------------------------


async def _own(context: BotContext, resource_id: int) -> ResourceView:
    """The person's own resource, still theirs to edit.

    Raises:
        PermissionDenied: `bank.not_yours`. InvalidInput: `bank.not_editable`.
    """
    profile = require_profile(context)
    view = await svc.get(context.db, profile.telegram_id, resource_id, admin_ids=context.admin_ids)
    if view.contributor_id != profile.id:
        raise PermissionDenied("bank.not_yours")
    if view.state not in (State.DRAFT, State.CHANGES):
        raise InvalidInput("bank.not_editable")
    return view


async def _set(context: BotContext, resource_id: int, field: str, value: object) -> ResourceView:
    profile = require_profile(context)
    return await svc.set_field(
        context.db, profile.telegram_id, context.admin_ids, resource_id, field, value
    )


# --- /contribute --------------------------------------------------------------------------------


async def contribute_command(update: Update, context: BotContext) -> None:
    """Start a resource, or take up an unfinished one (/contribute)."""
    profile = require_profile(context)
    t = context.t
    if profile.next_step is not None:
        await reply(update, context, t("onboarding.finish_first"))
        return
    if not await svc.may_contribute(context.db, profile.telegram_id, context.admin_ids):
        await reply(update, context, t("bank.not_contributor"))
        return
    drafts = await svc.my_drafts(context.db, profile.telegram_id)
    if not drafts:
        await _start(update, context)
        return
    buttons = [
        kb.button(
            shorten(
                f"{'✏️' if d.state is State.DRAFT else '↩️'} "
                f"{d.title_in(t.language) or t.plain('bank.untitled')}",
                LABEL_MAX,
            ),
            BankResume(d.id).pack(),
        )
        for d in drafts[:QUEUE_MAX]
    ]
    buttons.append(kb.button(t.plain("bank.new_button"), BankNew().pack()))
    await reply(update, context, t("bank.drafts_title", count=len(drafts)), kb.rows(buttons))


async def new_button(update: Update, context: BotContext, data: BankNew) -> None:
    """Start a new resource (from /contribute or /resources)."""
    await toast(update, context)
    await _start(update, context)


async def _start(update: Update, context: BotContext) -> None:
    profile = require_profile(context)
    view = await svc.start_draft(context.db, profile.telegram_id, context.admin_ids)
    await reply(update, context, context.t("bank.contribute_intro"))
    await _ask(update, context, view)


async def resume_button(update: Update, context: BotContext, data: BankResume) -> None:
    """Take up a draft (or a resource sent back for changes) where it stopped."""
    view = await _own(context, data.resource)
    await toast(update, context)
    await _ask(update, context, view)


# --- asking each step ---------------------------------------------------------------------------


def _step_label(context: BotContext, step: str) -> str:
    return context.t.plain(f"bank.step_{step}")


async def _ask(update: Update, context: BotContext, view: ResourceView) -> None:
    """Ask for the draft's current step (typed, with buttons where there are choices)."""
    t = context.t
    step = view.step or "preview"
    if step == "preview":
        await _preview(update, context, view)
        return
    await set_awaiting(context, waiting_for(DRAFT_ROUTE, view.id))
    number = svc.STEPS.index(step) + 1
    text = t("bank.step_counter", number=number, total=STEP_COUNT) + "\n" + t(f"bank.ask_{step}")
    buttons: list[InlineKeyboardButton] = []
    per_row = 1
    if step in ("description", "authors"):
        buttons.append(kb.button(t.plain("bank.skip_button"), BankSkip(view.id, step).pack()))
    elif step == "discipline":
        found = await svc.disciplines(context.db)
        found.sort(key=lambda d: d.name_in(t.language).casefold())
        buttons += [
            kb.button(
                shorten(("✓ " if d.id == view.discipline_id else "") + d.name_in(t.language), 40),
                BankPick(view.id, step, str(d.id)).pack(),
            )
            for d in found
        ]
        per_row = 2
    elif step == "kind":
        buttons += [
            kb.button(
                ("✓ " if kind is view.kind else "") + cards.kind_label(t, kind),
                BankPick(view.id, step, kind.value).pack(),
            )
            for kind in Kind
        ]
        per_row = 2
    elif step == "languages":
        current = "-".join(view.languages)
        buttons += [
            kb.button(
                ("✓ " if choice == current else "") + cards.language_names(choice.split("-")),
                BankPick(view.id, step, choice).pack(),
            )
            for choice in LANGUAGE_CHOICES
        ]
    elif step == "level":
        buttons += [
            kb.button(
                ("✓ " if level is view.level else "") + cards.level_label(t, level),
                BankPick(view.id, step, level.value).pack(),
            )
            for level in Level
        ]
    elif step == "license":
        buttons += [
            kb.button(
                ("✓ " if name == view.license else "") + cards.license_label(t, name),
                BankPick(view.id, step, str(index)).pack(),
            )
            for index, name in enumerate(svc.LICENSES)
        ]
        per_row = 2
    elif step == "university":
        buttons += await _university_buttons(context, view)
    elif step == "file":
        if view.has_file:
            label = t.plain("bank.remove_file_button")
            buttons.append(kb.button(label, BankPick(view.id, step, "nofile").pack()))
        if view.url:
            label = t.plain("bank.remove_link_button")
            buttons.append(kb.button(label, BankPick(view.id, step, "nolink").pack()))
        if view.has_file or view.url:
            buttons.append(kb.button(t.plain("bank.keep_button"), BankSkip(view.id, step).pack()))
    keyboard = kb.rows(buttons, per_row=per_row) if buttons else None
    await reply(update, context, text, keyboard)


async def _university_buttons(
    context: BotContext, view: ResourceView
) -> list[InlineKeyboardButton]:
    """Keep the contributor's university; admins and organizers are offered the others too."""
    profile = require_profile(context)
    t = context.t
    own = profile.university.name(t.language) if profile.university else "—"
    buttons = [
        kb.button(
            shorten(t.plain("bank.keep_university", university=own), LABEL_MAX),
            BankSkip(view.id, "university").pack(),
        )
    ]
    if profile.has(Role.ADMIN, Role.ORGANIZER):
        for u in await university_service.list_universities(context.db):
            if profile.university is not None and u.id == profile.university.id:
                continue
            label = ("✓ " if u.id == view.university_id else "") + u.name(t.language)
            buttons.append(
                kb.button(
                    shorten(label, LABEL_MAX), BankPick(view.id, "university", str(u.id)).pack()
                )
            )
    return buttons


# --- typed text, files, choices ------------------------------------------------------------------

# What typed text means at each step (the university and the preview take buttons only).
TYPED_FIELDS = {
    "title": "title",
    "description": "description",
    "discipline": "discipline",
    "kind": "kind",
    "languages": "languages",
    "level": "level",
    "license": "license",
    "authors": "authors",
    "file": "url",
}


async def _refused(update: Update, context: BotContext, exc: ServiceError) -> None:
    """Explain a refusal of typed input; stop waiting when no retyping can mend it."""
    if not isinstance(exc, InvalidInput) or exc.key in FINAL:
        await stop_waiting(context, ROUTES)
    await reply(update, context, context.t(exc.key, **exc.values))


async def typed_for_draft(update: Update, context: BotContext, argument: str) -> None:
    """Typed text for the draft's current step; then the next step is asked."""
    resource_id = int_argument(argument)
    if resource_id is None:
        await stop_waiting(context, ROUTES)
        await reply(update, context, context.t("errors.not_understood"))
        return
    try:
        view = await _own(context, resource_id)
        field = TYPED_FIELDS.get(view.step or "")
        if field is None:
            raise InvalidInput("bank.use_buttons")
        view = await _set(context, resource_id, field, typed_text(update))
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await _ask(update, context, view)


def _document(update: Update) -> FileInfo | None:
    """The file of the message, if it was sent as a file (a document)."""
    message = update.effective_message
    document = message.document if message is not None else None
    if document is None:
        return None
    return FileInfo(
        document.file_id,
        document.file_unique_id,
        document.file_name,
        document.mime_type,
        document.file_size,
    )


async def file_for_draft(update: Update, context: BotContext, argument: str) -> None:
    """The resource's file (at its step; a photo or a video must be sent as a file)."""
    resource_id = int_argument(argument)
    if resource_id is None:
        await stop_waiting(context, ROUTES)
        await reply(update, context, context.t("errors.not_understood"))
        return
    try:
        view = await _own(context, resource_id)
        if view.step != "file":
            await reply(update, context, context.t("bank.file_not_now"))
            await _ask(update, context, view)
            return
        info = _document(update)
        if info is None:
            raise InvalidInput("bank.send_as_file")
        view = await _set(context, resource_id, "file", info)
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await _ask(update, context, view)


def _picked(step: str, value: str) -> tuple[str, object]:
    """The field and value a choice button sets.

    Raises:
        InvalidInput: `bank.bad_field` (a forged value).
    """
    if step in ("discipline", "university"):
        number = int_argument(value)
        if number is None:
            raise InvalidInput("bank.bad_field")
        return step, number
    if step in ("kind", "level"):
        return step, value
    if step == "languages":
        return step, value.split("-")
    if step == "license":
        index = int_argument(value)
        if index is None or index >= len(svc.LICENSES):
            raise InvalidInput("bank.bad_field")
        return step, svc.LICENSES[index]
    if step == "file" and value in ("nofile", "nolink"):
        return ("file" if value == "nofile" else "url"), None
    raise InvalidInput("bank.bad_field")


async def pick_button(update: Update, context: BotContext, data: BankPick) -> None:
    """A choice at the draft's current step; a button of a step already answered is refused."""
    view = await _own(context, data.resource)
    if view.step != data.step:
        await toast(update, context, context.t.plain("bank.step_passed"))
        await remove_keyboard(update)
        return
    field, value = _picked(data.step, data.value)
    view = await _set(context, data.resource, field, value)
    await toast(update, context)
    await remove_keyboard(update)
    if field in ("file", "url"):
        # Removing the file or the link leaves the step open: the other may be given now.
        view = await _set(context, data.resource, "step", "file")
    await _ask(update, context, view)


async def skip_button(update: Update, context: BotContext, data: BankSkip) -> None:
    """Skip an optional step (the university: keep mine; the file step: keep as it is)."""
    view = await _own(context, data.resource)
    if view.step != data.step:
        await toast(update, context, context.t.plain("bank.step_passed"))
        await remove_keyboard(update)
        return
    if data.step in ("description", "authors", "university"):
        view = await _set(context, data.resource, data.step, None)
    elif data.step == "file" and (view.has_file or view.url):
        view = await _set(context, data.resource, "step", "preview")
    else:
        raise InvalidInput("bank.bad_field")
    await toast(update, context)
    await remove_keyboard(update)
    await _ask(update, context, view)


async def edit_button(update: Update, context: BotContext, data: BankEdit) -> None:
    """From the preview: ask one step again (the answer comes back to the preview)."""
    if data.step not in svc.STEPS or data.step == "preview":
        raise InvalidInput("bank.bad_field")
    await _own(context, data.resource)
    view = await _set(context, data.resource, "step", data.step)
    await toast(update, context)
    await _ask(update, context, view)


# --- preview, submit, discard --------------------------------------------------------------------


async def _preview(update: Update, context: BotContext, view: ResourceView) -> None:
    """The card as people will read it, what is missing, Edit, Submit and Discard."""
    t = context.t
    await stop_waiting(context, ROUTES)
    lines = [t("bank.preview_intro"), "", cards.card(view, t, full=True, numbers=False)]
    if view.state is State.CHANGES and view.moderation_comment:
        lines += ["", t("bank.changes_asked", comment=view.moderation_comment)]
    lacks = svc.missing(view)
    if lacks:
        lines += ["", t("bank.preview_missing")]
        licenses = ", ".join(cards.license_label(t, name) for name in svc.LICENSES)
        lines += [f"• {t(MISSING[field], licenses=licenses)}" for field in lacks]
    rows: list[list[InlineKeyboardButton]] = []
    if not lacks:
        rows.append([kb.button(t.plain("bank.submit_button"), BankSubmit(view.id).pack())])
    edits = [
        kb.button("✏️ " + _step_label(context, step), BankEdit(view.id, step).pack())
        for step in svc.STEPS
        if step != "preview"
    ]
    rows += [edits[i : i + 2] for i in range(0, len(edits), 2)]
    if view.state is State.DRAFT:
        rows.append(
            [kb.button(t.plain("bank.discard_button"), BankDiscard(view.id, False).pack())]
        )
    await reply(update, context, "\n".join(lines), InlineKeyboardMarkup(rows))


async def submit_button(update: Update, context: BotContext, data: BankSubmit) -> None:
    """Submit for moderation: the university's organizers and the admins are told."""
    profile = require_profile(context)
    t = context.t
    notified = await svc.submit(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        data.resource,
        i18n=context.i18n,
        button_data=BankReview(data.resource).pack(),
    )
    if notified.broadcast_id is not None:
        context.broadcaster.start(notified.broadcast_id)
    await stop_waiting(context, ROUTES)
    await toast(update, context)
    await remove_keyboard(update)
    view = notified.resource
    await reply(update, context, t("bank.submitted", title=cards.title(view, t), code=view.code))


async def discard_button(update: Update, context: BotContext, data: BankDiscard) -> None:
    """Delete the draft, after a confirmation."""
    profile = require_profile(context)
    t = context.t
    view = await _own(context, data.resource)
    await toast(update, context)
    if not data.confirmed:
        keyboard = kb.rows(
            [kb.button(t.plain("bank.discard_yes"), BankDiscard(view.id, True).pack())]
        )
        title = view.title_in(t.language) or t.plain("bank.untitled")
        await reply(update, context, t("bank.discard_confirm", title=title), keyboard)
        return
    await svc.discard_draft(context.db, profile.telegram_id, data.resource)
    await stop_waiting(context, ROUTES)
    await remove_keyboard(update)
    await reply(update, context, t("bank.discarded"))


# --- moderation ---------------------------------------------------------------------------------


async def moderation_command(update: Update, context: BotContext) -> None:
    """The resources waiting for this organizer's decision (/moderation)."""
    profile = require_profile(context)
    if not await svc.may_moderate(context.db, profile.telegram_id, context.admin_ids):
        await reply(update, context, context.t("errors.not_allowed"))
        return
    await _show_queue(update, context, edit=False)


async def moderation_button(update: Update, context: BotContext, data: BankModeration) -> None:
    """The moderation queue, from /resources."""
    await toast(update, context)
    await _show_queue(update, context, edit=False)


async def _show_queue(update: Update, context: BotContext, *, edit: bool) -> None:
    profile = require_profile(context)
    t = context.t
    queue = await svc.moderation_queue(context.db, profile.telegram_id, context.admin_ids)
    students = await svc.students_contribute(context.db)
    lines = [t("bank.moderation_title", count=len(queue))]
    if not queue:
        lines.append(t("bank.moderation_empty"))
    buttons = []
    for view in queue[:QUEUE_MAX]:
        university = svc.pick(view.university_name, t.language) if view.university_name else "—"
        label = f"{cards.title(view, t)} · {view.contributor_name or '—'} · {university}"
        buttons.append(kb.button(shorten(label, LABEL_MAX), BankReview(view.id).pack()))
    key = "bank.students_on" if students else "bank.students_off"
    lines += ["", t(key)]
    switch = "bank.students_disallow_button" if students else "bank.students_allow_button"
    buttons.append(kb.button(t.plain(switch), BankStudents(not students).pack()))
    text = "\n".join(lines)
    if edit:
        await safe_edit(update, text, kb.rows(buttons))
    else:
        await reply(update, context, text, kb.rows(buttons))


async def _moderated(context: BotContext, resource_id: int) -> ResourceView:
    """A pending resource this person may decide on (checked before asking for anything).

    Raises:
        PermissionDenied: `errors.not_allowed`, `bank.not_your_university`.
        InvalidInput: `bank.not_pending`.
    """
    profile = require_profile(context)
    queue = await svc.moderation_queue(context.db, profile.telegram_id, context.admin_ids)
    view = next((v for v in queue if v.id == resource_id), None)
    if view is None:
        # Not in their queue: decided already, or of another university.
        try:
            other = await svc.get(
                context.db, profile.telegram_id, resource_id, admin_ids=context.admin_ids
            )
        except ServiceError:
            raise PermissionDenied("bank.not_your_university") from None
        if other.state is not State.PENDING:
            raise InvalidInput("bank.not_pending")
        raise PermissionDenied("bank.not_your_university")
    return view


async def review_button(update: Update, context: BotContext, data: BankReview) -> None:
    """One pending resource, with its file, for a decision."""
    t = context.t
    view = await _moderated(context, data.resource)
    await toast(update, context)
    university = svc.pick(view.university_name, t.language) if view.university_name else "—"
    submitted = view.submitted_at.strftime("%Y-%m-%d %H:%M") if view.submitted_at else "—"
    lines = [
        t(
            "bank.review_intro",
            name=view.contributor_name or "—",
            university=university,
            when=submitted,
            code=view.code,
        ),
        "",
        cards.card(view, t, full=True, numbers=False),
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if view.has_file or view.url:
        key = "bank.get_file_button" if view.has_file else "bank.get_link_button"
        rows.append([kb.button(t.plain(key), BankGet(view.id).pack())])
    rows.append(
        [
            kb.button(
                t.plain("bank.approve_button"),
                BankDecide(view.id, BankDecision.APPROVE).pack(),
            )
        ]
    )
    rows.append(
        [
            kb.button(
                t.plain("bank.changes_button"),
                BankDecide(view.id, BankDecision.CHANGES).pack(),
            ),
            kb.button(
                t.plain("bank.reject_button"),
                BankDecide(view.id, BankDecision.REJECT).pack(),
            ),
        ]
    )
    await reply(update, context, "\n".join(lines), InlineKeyboardMarkup(rows))


async def decide_button(update: Update, context: BotContext, data: BankDecide) -> None:
    """Approve at once; for changes or a rejection, ask for the comment first."""
    profile = require_profile(context)
    t = context.t
    if data.decision is BankDecision.APPROVE:
        notified = await svc.approve(
            context.db,
            profile.telegram_id,
            context.admin_ids,
            data.resource,
            i18n=context.i18n,
            button_data=BankOpen(data.resource).pack(),
        )
        if notified.broadcast_id is not None:
            context.broadcaster.start(notified.broadcast_id)
        await toast(update, context)
        await remove_keyboard(update)
        title = cards.title(notified.resource, t)
        await reply(update, context, t("bank.approved_done", title=title))
        return
    view = await _moderated(context, data.resource)
    await toast(update, context)
    letter = "c" if data.decision is BankDecision.CHANGES else "r"
    await set_awaiting(context, waiting_for(MODERATION_ROUTE, f"{view.id}-{letter}"))
    key = "bank.ask_changes_comment" if letter == "c" else "bank.ask_reject_comment"
    await reply(update, context, t(key, title=cards.title(view, t)))


async def typed_moderation_comment(update: Update, context: BotContext, argument: str) -> None:
    """The comment that goes with changes asked or a rejection; the contributor is told."""
    profile = require_profile(context)
    t = context.t
    resource_part, _, letter = argument.partition("-")
    resource_id = int_argument(resource_part)
    if resource_id is None or letter not in ("c", "r"):
        await stop_waiting(context, ROUTES)
        await reply(update, context, t("errors.not_understood"))
        return
    try:
        if letter == "c":
            notified = await svc.ask_changes(
                context.db,
                profile.telegram_id,
                context.admin_ids,
                resource_id,
                typed_text(update),
                i18n=context.i18n,
                button_data=BankResume(resource_id).pack(),
            )
        else:
            notified = await svc.reject(
                context.db,
                profile.telegram_id,
                context.admin_ids,
                resource_id,
                typed_text(update),
                i18n=context.i18n,
            )
    except ServiceError as exc:
        await _refused(update, context, exc)
        return
    await stop_waiting(context, ROUTES)
    if notified.broadcast_id is not None:
        context.broadcaster.start(notified.broadcast_id)
    key = "bank.changes_done" if letter == "c" else "bank.rejected_done"
    await reply(update, context, t(key, title=cards.title(notified.resource, t)))


async def students_button(update: Update, context: BotContext, data: BankStudents) -> None:
    """Let students contribute, or stop them (organizers, admins)."""
    profile = require_profile(context)
    on = await svc.set_students_contribute(
        context.db, profile.telegram_id, context.admin_ids, data.on
    )
    key = "bank.students_on" if on else "bank.students_off"
    await toast(update, context, context.t.plain(key))
    await _show_queue(update, context, edit=True)
