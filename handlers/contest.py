"""The contest for entrants: /contest, the submission conversation, teams and the receipt.

`/contest` (and the main menu) shows the contests open to entries (and those I have an entry
in): the title and rules in the reader's language, the windows in the bot's zone with the zone
named, what an entry needs, and my entry's state, with the button to submit, continue, open or
take up my entry, or to join a team with a code.

The submission conversation is `bot.services.contest_entries`' draft, saved at every step:
the title (`ce_title:<entry>`), the description (`ce_desc:<entry>`), the link (`ce_link:<entry>`)
and the files (`ce_files:<entry>`: documents, photos or videos sent one by one, each checked
for its type, its size (at most 20 MB: a bot cannot download more) and the count; Done goes
on), then the preview with Submit. What the bot waits for is stored on the user and the step
on the entry, so a restart or /cancel resumes exactly where it stopped (/contest → Continue).
Each refusal is the service's message, and the bot keeps waiting for the same step.

After Submit comes the receipt with the entry code (late entries marked late); the preview then
offers edits and Withdraw until the deadline, and says "closed" after it. In a team contest
the owner sees the team code and a link `?start=t-<team code>` to share; co-authors join with
either (`ce_team:<contest>` when typed), each refusal (a wrong code, a full team, already an
author elsewhere) explained. Every button carries the entry's id, which the service re-checks:
a forged button naming someone else's entry is refused.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.helpers import create_deep_linked_url

from bot import keyboards as kb
from bot.awaiting import int_argument, waiting_for
from bot.callbacks import (
    Button,
    ContestJoinAsk,
    ContestOpen,
    EntryAuthorRemove,
    EntryBack,
    EntryEdit,
    EntryField,
    EntryFileRemove,
    EntryFilesDone,
    EntryResume,
    EntrySkip,
    EntryStart,
    EntrySubmit,
    EntryWithdraw,
)
from bot.context import BotContext
from bot.conversation import remove_keyboard, set_awaiting, stop_waiting, typed_text
from bot.features import ButtonCallback, Features, InputRoute
from bot.replies import TEXT_BUDGET, fit_lines, reply, require_profile, shorten, toast
from bot.services import InvalidInput, PermissionDenied, ServiceError
from bot.services import contest as contest_service
from bot.services import contest_entries as svc
from bot.services.contest import ContestView, LinkRule, Phase, pick
from bot.services.contest_entries import EntryState, EntryView, NewFile, Step
from bot.services.event_times import show_when

TITLE_ROUTE = "ce_title"
DESCRIPTION_ROUTE = "ce_desc"
LINK_ROUTE = "ce_link"
FILES_ROUTE = "ce_files"
TEAM_ROUTE = "ce_team"  # `ce_team:<contest>`: a team code is expected
ROUTES: dict[Step, str] = {
    Step.TITLE: TITLE_ROUTE,
    Step.DESCRIPTION: DESCRIPTION_ROUTE,
    Step.LINK: LINK_ROUTE,
    Step.FILES: FILES_ROUTE,
}
ALL_ROUTES = (*ROUTES.values(), TEAM_ROUTE)
TEAM_LINK = "t"  # `?start=t-<team code>`
# Refusals of typed input that no other text can mend: the bot stops waiting.
FINAL = frozenset(
    {
        "contest.closed",
        "contest.not_open_yet",
        "contest.withdrawn",
        "contest.not_yours",
        "contest.entry_not_found",
        "contest.not_found",
        "contest.not_this_step",
        "errors.not_allowed",
    }
)
LIST_MAX = 10
LABEL_MAX = 60
FIELD_LABELS: dict[Step, str] = {
    Step.TITLE: "contest.field_title",
    Step.DESCRIPTION: "contest.field_description",
    Step.LINK: "contest.field_link",
    Step.FILES: "contest.field_files",
}
EDIT_LABELS: dict[EntryField, str] = {
    EntryField.TITLE: "contest.edit_title_button",
    EntryField.DESCRIPTION: "contest.edit_description_button",
    EntryField.LINK: "contest.edit_link_button",
    EntryField.FILES: "contest.edit_files_button",
}
PHASE_MARKS: dict[Phase, str] = {
    Phase.DRAFT: "✏️",
    Phase.NOT_YET: "🗓",
    Phase.OPEN: "✅",
    Phase.LATE: "⏳",
    Phase.CLOSED: "⛔",
}

B = TypeVar("B", bound=Button)


def register(features: Features) -> None:
    """Add /contest, the team deep link, the entry's buttons and the conversation's routes."""
    features.command("contest", open_contests, menu=19)
    features.deep_link(TEAM_LINK, join_by_link)
    features.button(ContestOpen, _refusals(open_button))
    features.button(EntryStart, _refusals(start_button))
    features.button(EntryResume, _refusals(resume_button))
    features.button(EntryEdit, _refusals(edit_button))
    features.button(EntrySkip, _refusals(skip_button))
    features.button(EntryBack, _refusals(back_button))
    features.button(EntryFileRemove, _refusals(remove_file_button))
    features.button(EntryFilesDone, _refusals(files_done_button))
    features.button(EntrySubmit, _refusals(submit_button))
    features.button(EntryWithdraw, _refusals(withdraw_button))
    features.button(EntryAuthorRemove, _refusals(remove_author_button))
    features.button(ContestJoinAsk, _refusals(join_ask_button))
    features.text(TITLE_ROUTE, _typed(save_title))
    features.text(DESCRIPTION_ROUTE, _typed(save_description))
    features.text(LINK_ROUTE, _typed(save_link))
    features.text(FILES_ROUTE, _typed(text_among_files))
    features.file(FILES_ROUTE, _typed(save_file))
    features.text(TEAM_ROUTE, typed_team_code)
    features.welcome(offer_draft)
    features.action("contest", open_contests)
    features.menu("contest", "menu.contest", "contest", position=19)
    features.help("help.contest")


# --- plumbing ---------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _refusals(callback: ButtonCallback[B]) -> ButtonCallback[B]:
    """Answer the service's refusal of a button as toast and text.

    A step that is not open any more (an old button) shows where the entry stands.
    """

    @functools.wraps(callback)
    async def run(update: Update, context: BotContext, data: B) -> None:
        try:
            await callback(update, context, data)
        except ServiceError as exc:
            await toast(update, context, context.t.plain(exc.key, **exc.values))
            await reply(update, context, context.t(exc.key, **exc.values))
            entry_id = getattr(data, "entry", None)
            if exc.key == "contest.not_this_step" and isinstance(entry_id, int):
                await _show_by_id(update, context, entry_id)

    return run


def _typed(step: InputRoute) -> InputRoute:
    """Give a typed step (or a file) the entry id of its argument; refusals are explained.

    Bad input gets the service's message and the same step keeps waiting; a refusal no other
    text can mend (closed, withdrawn, not yours) ends the waiting.
    """

    async def route(update: Update, context: BotContext, argument: str) -> None:
        entry_id = int_argument(argument)
        if entry_id is None:
            await _stop_waiting(context)
            await reply(update, context, context.t("errors.not_understood"))
            return
        try:
            await step(update, context, str(entry_id))
        except ServiceError as exc:
            final = not isinstance(exc, InvalidInput) or exc.key in FINAL
            if final:
                await _stop_waiting(context)
            await reply(update, context, context.t(exc.key, **exc.values))
            if exc.key == "contest.file_too_large":
                await reply(update, context, context.t("contest.files_why_limit"))
            if exc.key == "contest.not_this_step":
                await _show_by_id(update, context, entry_id)

    return route


async def _stop_waiting(context: BotContext) -> None:
    """Stop waiting for this feature's input (another feature's stored value is left alone)."""
    await stop_waiting(context, ALL_ROUTES)


def _when(context: BotContext, moment: datetime) -> str:
    """A moment in the bot's zone, named, in the reader's language."""
    return show_when(moment, context.settings.tz, context.t.language)


def _title(context: BotContext, contest: ContestView) -> str:
    return contest.title_in(context.t.language) or contest.code


def _size(context: BotContext, size: int | None) -> str:
    """A file's size as people read it: `1.5 MB`, `320 KB`."""
    if size is None:
        return "?"
    if size >= 1024 * 1024:
        return context.t.plain("contest.size_mb", size=context.t.number(size / (1024 * 1024)))
    return context.t.plain("contest.size_kb", size=max(1, round(size / 1024)))


def _steps(contest: ContestView) -> list[Step]:
    """The fields this contest asks for, in order (as the service asks them)."""
    steps = [Step.TITLE, Step.DESCRIPTION]
    if contest.link is not LinkRule.OFF:
        steps.append(Step.LINK)
    if contest.files.max_count > 0:
        steps.append(Step.FILES)
    return steps


def _team_link(context: BotContext, entry: EntryView) -> str:
    return create_deep_linked_url(context.bot.username, f"{TEAM_LINK}-{entry.team_code}")


# --- the contest as entrants see it ---------------------------------------------------------


def _windows_lines(context: BotContext, contest: ContestView, now: datetime) -> list[str]:
    """When entries are accepted, the late cut-off, and where the windows stand now."""
    t = context.t
    if contest.opens_at is None or contest.deadline_at is None:
        return [t("contest.no_dates")]
    lines = [
        t(
            "contest.window_line",
            opens=_when(context, contest.opens_at),
            deadline=_when(context, contest.deadline_at),
        )
    ]
    if contest.late_until is not None:
        lines.append(t("contest.late_line", late=_when(context, contest.late_until)))
    phase = contest.phase(now)
    if phase is Phase.NOT_YET:
        lines.append(t("contest.phase_not_yet", opens=_when(context, contest.opens_at)))
    elif phase is Phase.OPEN:
        lines.append(t("contest.phase_open", deadline=_when(context, contest.deadline_at)))
    elif phase is Phase.LATE and contest.late_until is not None:
        lines.append(t("contest.phase_late", late=_when(context, contest.late_until)))
    elif phase is Phase.CLOSED:
        lines.append(t("contest.phase_closed"))
    return lines


def _needs_line(context: BotContext, contest: ContestView) -> str:
    """What an entry consists of: the fields, the files and their limit, the team size."""
    t = context.t
    parts = [t.plain("contest.needs_title"), t.plain("contest.needs_description")]
    if contest.link is LinkRule.REQUIRED:
        parts.append(t.plain("contest.needs_link"))
    elif contest.link is LinkRule.OPTIONAL:
        parts.append(t.plain("contest.needs_link_optional"))
    if contest.files.max_count > 0:
        parts.append(
            t.plain(
                "contest.needs_files",
                types=", ".join(contest.files.types),
                low=contest.files.min_count,
                high=contest.files.max_count,
                mb=contest.files.max_mb,
            )
        )
    text = t("contest.needs", parts="; ".join(parts))
    if contest.team:
        text += "\n" + t("contest.needs_team", max=contest.max_authors)
    return text


def _mine_line(
    context: BotContext, contest: ContestView, mine: EntryView | None, owner: bool
) -> str:
    """My entry's state in this contest."""
    t = context.t
    if mine is None:
        return t("contest.mine_none")
    title = mine.title or "—"
    if not owner:
        return t("contest.mine_coauthor", code=mine.code, title=title)
    if mine.state is EntryState.WITHDRAWN:
        return t("contest.mine_withdrawn", title=title)
    if mine.state is EntryState.SUBMITTED:
        assert mine.submitted_at is not None
        line = t(
            "contest.mine_submitted",
            code=mine.code,
            title=title,
            when=_when(context, mine.submitted_at),
        )
        return line + ("\n" + t("contest.late_mark") if mine.late else "")
    if mine.missing:
        missing = ", ".join(t.plain(FIELD_LABELS[step]) for step in mine.missing)
        return t("contest.mine_draft_missing", missing=missing)
    return t("contest.mine_draft_ready")


def _contest_keyboard(
    context: BotContext, contest: ContestView, mine: EntryView | None, owner: bool, now: datetime
) -> InlineKeyboardMarkup | None:
    t = context.t
    rows: list[list[InlineKeyboardButton]] = []
    accepting = contest.accepting(now)
    if mine is None or (owner and mine.state is EntryState.WITHDRAWN):
        if accepting:
            key = "contest.start_button" if mine is None else "contest.take_up_button"
            rows.append([kb.button(t.plain(key), EntryStart(contest.id).pack())])
            if mine is None and contest.team:
                rows.append(
                    [kb.button(t.plain("contest.join_button"), ContestJoinAsk(contest.id).pack())]
                )
    elif owner and mine.state is EntryState.DRAFT:
        rows.append([kb.button(t.plain("contest.continue_button"), EntryResume(mine.id).pack())])
    else:
        rows.append([kb.button(t.plain("contest.my_entry_button"), EntryResume(mine.id).pack())])
    return InlineKeyboardMarkup(rows) if rows else None


async def _show_contest(update: Update, context: BotContext, contest: ContestView) -> None:
    """The contest's card: title, rules, windows, what an entry needs, my entry."""
    profile = require_profile(context)
    t = context.t
    now = _now()
    mine = await svc.entry_in(context.db, profile.telegram_id, contest.id)
    owner = mine is not None and mine.owner_id == profile.id
    head = t("contest.card_title", title=_title(context, contest))
    rules = contest.rules_in(t.language)
    rest = "\n".join(
        [
            *_windows_lines(context, contest, now),
            "",
            _needs_line(context, contest),
            "",
            _mine_line(context, contest, mine, owner),
        ]
    )
    keyboard = _contest_keyboard(context, contest, mine, owner, now)
    body = t("contest.rules", rules=rules) if rules else ""
    whole = "\n\n".join(part for part in (head, body, rest) if part)
    if len(whole) <= TEXT_BUDGET:
        await reply(update, context, whole, keyboard)
        return
    # Long rules: the title and rules first, paragraph by paragraph, then the card.
    await reply(update, context, head)
    for paragraph in _chunks(rules):
        await reply(update, context, t("contest.rules", rules=paragraph))
    await reply(update, context, rest, keyboard)


def _chunks(text: str) -> Iterable[str]:
    """Paragraphs joined into messages within the budget (each fits: the schema says so)."""
    current = ""
    for paragraph in text.split("\n\n"):
        if current and len(current) + len(paragraph) + 2 > TEXT_BUDGET:
            yield current
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        yield current


async def _visible_contests(context: BotContext) -> list[ContestView]:
    """The contests to show an entrant: open or upcoming, or with an entry of theirs."""
    profile = require_profile(context)
    now = _now()
    mine = {m.contest.id for m in await svc.my_entries(context.db, profile.telegram_id)}
    return [
        contest
        for contest in await contest_service.list_all(context.db)
        if contest.phase(now) in (Phase.NOT_YET, Phase.OPEN, Phase.LATE) or contest.id in mine
    ]


async def open_contests(update: Update, context: BotContext) -> None:
    """Show the contests open to entries and mine (/contest): one at once, several as a list."""
    t = context.t
    contests = await _visible_contests(context)
    if not contests:
        await reply(update, context, t("contest.none_open"))
        return
    if len(contests) == 1:
        await _show_contest(update, context, contests[0])
        return
    now = _now()
    buttons = [
        kb.button(
            shorten(f"{PHASE_MARKS[c.phase(now)]} {_title(context, c)}", LABEL_MAX),
            ContestOpen(c.id).pack(),
        )
        for c in contests[:LIST_MAX]
    ]
    await reply(update, context, t("contest.choose", count=len(contests)), kb.rows(buttons))


async def open_button(update: Update, context: BotContext, data: ContestOpen) -> None:
    """Show one contest."""
    contest = await contest_service.get(context.db, data.contest)
    await toast(update, context)
    await _show_contest(update, context, contest)


async def offer_draft(update: Update, context: BotContext) -> None:
    """On /start: an unfinished entry of mine in a contest still accepting, with Continue."""
    profile = require_profile(context)
    now = _now()
    for mine in await svc.my_entries(context.db, profile.telegram_id):
        if mine.owner and mine.entry.state is EntryState.DRAFT and mine.contest.accepting(now):
            t = context.t
            keyboard = kb.rows(
                [kb.button(t.plain("contest.continue_button"), EntryResume(mine.entry.id).pack())]
            )
            assert mine.contest.closes_at is not None
            await reply(
                update,
                context,
                t(
                    "contest.draft_offer",
                    contest=_title(context, mine.contest),
                    deadline=_when(context, mine.contest.closes_at),
                ),
                keyboard,
            )
            return


# --- one entry: asking, the preview -------------------------------------------------------------


async def _show_by_id(update: Update, context: BotContext, entry_id: int) -> None:
    """Show an entry of mine where it stands (after an old button or message)."""
    profile = require_profile(context)
    try:
        entry = await svc.get_entry(context.db, profile.telegram_id, entry_id)
    except ServiceError:
        return
    await _show_entry(update, context, entry)


async def _show_entry(update: Update, context: BotContext, entry: EntryView) -> None:
    """Ask the step my entry stands at, or show its preview (read-only when it cannot change)."""
    profile = require_profile(context)
    contest = await contest_service.get(context.db, entry.contest_id)
    now = _now()
    owner = entry.owner_id == profile.id
    can_change = owner and (
        contest.editable(now)
        if entry.state is EntryState.SUBMITTED
        else entry.state is EntryState.DRAFT and contest.accepting(now)
    )
    if can_change and entry.step is not None and entry.step is not Step.PREVIEW:
        await _ask(update, context, contest, entry)
        return
    await _stop_waiting(context)
    await _preview(update, context, contest, entry, owner=owner, can_change=can_change)


async def _ask(
    update: Update, context: BotContext, contest: ContestView, entry: EntryView
) -> None:
    """Ask for the field the entry stands at (stored on the user, so a restart keeps it)."""
    t = context.t
    step = entry.step
    assert step is not None and step is not Step.PREVIEW
    await set_awaiting(context, waiting_for(ROUTES[step], entry.id))
    steps = _steps(contest)
    number = steps.index(step) + 1 if step in steps else 1
    heading = (
        t("contest.editing", field=t.plain(FIELD_LABELS[step]))
        if entry.editing or entry.state is EntryState.SUBMITTED
        else t("contest.step_of", number=number, total=len(steps))
    )
    buttons: list[InlineKeyboardButton] = []
    if step is Step.TITLE:
        text = t("contest.ask_title", max=contest.title_max)
    elif step is Step.DESCRIPTION:
        text = t("contest.ask_description", max=contest.description_max)
        if not contest.description_required:
            buttons.append(
                kb.button(
                    t.plain("contest.skip_button"),
                    EntrySkip(entry.id, EntryField.DESCRIPTION).pack(),
                )
            )
    elif step is Step.LINK:
        key = (
            "contest.ask_link"
            if contest.link is LinkRule.REQUIRED
            else "contest.ask_link_optional"
        )
        text = t(key)
        if contest.link is LinkRule.OPTIONAL:
            buttons.append(
                kb.button(
                    t.plain("contest.skip_button"), EntrySkip(entry.id, EntryField.LINK).pack()
                )
            )
    else:
        await _ask_files(update, context, contest, entry, heading)
        return
    if entry.editing or entry.state is EntryState.SUBMITTED:
        buttons.append(kb.button(t.plain("contest.back_button"), EntryBack(entry.id).pack()))
    await reply(update, context, f"{heading}\n{text}", kb.rows(buttons) if buttons else None)


def _files_lines(context: BotContext, entry: EntryView) -> list[str]:
    t = context.t
    return [
        t("contest.file_line", number=n, name=f.name, size=_size(context, f.size))
        for n, f in enumerate(entry.files, 1)
    ]


def _files_keyboard(context: BotContext, entry: EntryView) -> InlineKeyboardMarkup:
    t = context.t
    rows = [
        [
            kb.button(
                shorten(t.plain("contest.remove_file_button", name=f.name), LABEL_MAX),
                EntryFileRemove(entry.id, f.id).pack(),
            )
        ]
        for f in entry.files
    ]
    rows.append([kb.button(t.plain("contest.files_done_button"), EntryFilesDone(entry.id).pack())])
    return InlineKeyboardMarkup(rows)


async def _ask_files(
    update: Update,
    context: BotContext,
    contest: ContestView,
    entry: EntryView,
    heading: str,
    *,
    lead: str | None = None,
) -> None:
    """The files step: what may be sent, the files so far with Remove, and Done."""
    t = context.t
    rule = contest.files
    text = t(
        "contest.ask_files",
        types=", ".join(rule.types),
        low=rule.min_count,
        high=rule.max_count,
        mb=rule.max_mb,
    )
    lines = [lead] if lead else [heading, text]
    if entry.files:
        lines.append(t("contest.files_so_far", count=len(entry.files), max=rule.max_count))
        lines.extend(_files_lines(context, entry))
    else:
        lines.append(t("contest.files_none_yet"))
    await reply(update, context, "\n".join(lines), _files_keyboard(context, entry))


async def _preview(
    update: Update,
    context: BotContext,
    contest: ContestView,
    entry: EntryView,
    *,
    owner: bool,
    can_change: bool,
) -> None:
    """The entry as the jury will read it, its state, its team and what may be done now."""
    t = context.t
    now = _now()
    lines = [t("contest.preview_title", contest=_title(context, contest))]
    if entry.state is EntryState.SUBMITTED:
        assert entry.submitted_at is not None
        lines.append(
            t("contest.state_submitted", code=entry.code, when=_when(context, entry.submitted_at))
        )
        if entry.late:
            lines.append(t("contest.late_mark"))
    elif entry.state is EntryState.WITHDRAWN:
        lines.append(t("contest.state_withdrawn"))
    else:
        lines.append(t("contest.state_draft"))
    lines += [
        "",
        t("contest.show_title", title=entry.title or "—"),
        t("contest.show_description", description=shorten(entry.description or "—", 1500)),
    ]
    if contest.link is not LinkRule.OFF:
        lines.append(t("contest.show_link", link=entry.link or "—"))
    if contest.files.max_count > 0:
        lines.append(t("contest.show_files", count=len(entry.files)))
        lines.extend(_files_lines(context, entry))
    authors = [
        t(
            "contest.author_line",
            name=a.name,
            university=pick(a.university, t.language) if a.university else "—",
            role=t.plain("contest.owner_mark" if a.owner else "contest.coauthor_mark"),
        )
        for a in entry.authors
    ]
    lines += ["", t("contest.show_authors", count=len(entry.authors)), *authors]
    if owner and contest.team and entry.state is not EntryState.WITHDRAWN:
        lines.append(
            t(
                "contest.team_code_line",
                code=entry.team_code,
                link=_team_link(context, entry),
                max=contest.max_authors,
            )
        )
    if entry.state is EntryState.DRAFT and entry.missing and can_change:
        missing = ", ".join(t.plain(FIELD_LABELS[step]) for step in entry.missing)
        lines.append("\n" + t("contest.still_needed", missing=missing))
    if not can_change and owner and entry.state is not EntryState.WITHDRAWN:
        phase = contest.phase(now)
        if phase in (Phase.LATE, Phase.CLOSED) and entry.state is EntryState.SUBMITTED:
            lines.append("\n" + t("contest.entry_closed"))
        elif phase is Phase.CLOSED:
            lines.append("\n" + t("contest.draft_closed"))
    elif can_change and entry.state is EntryState.SUBMITTED and contest.deadline_at is not None:
        lines.append(
            "\n" + t("contest.editable_until", deadline=_when(context, contest.deadline_at))
        )
    if not owner:
        lines.append("\n" + t("contest.coauthor_note"))
    text = fit_lines(lines, lambda count: t("contest.more_lines", count=count))
    await reply(
        update, context, text, _preview_keyboard(context, contest, entry, owner, can_change)
    )


def _preview_keyboard(
    context: BotContext, contest: ContestView, entry: EntryView, owner: bool, can_change: bool
) -> InlineKeyboardMarkup | None:
    t = context.t
    rows: list[list[InlineKeyboardButton]] = []
    if owner and can_change:
        edits = [
            kb.button(
                t.plain(EDIT_LABELS[EntryField(step.value)]),
                EntryEdit(entry.id, EntryField(step.value)).pack(),
            )
            for step in _steps(contest)
        ]
        rows += [edits[i : i + 2] for i in range(0, len(edits), 2)]
        if entry.state is EntryState.DRAFT:
            rows.append(
                [kb.button(t.plain("contest.submit_button"), EntrySubmit(entry.id).pack())]
            )
        if entry.state is EntryState.SUBMITTED:
            rows.append(
                [
                    kb.button(
                        t.plain("contest.withdraw_button"), EntryWithdraw(entry.id, False).pack()
                    )
                ]
            )
        for author in entry.authors:
            if not author.owner:
                rows.append(
                    [
                        kb.button(
                            shorten(
                                t.plain("contest.remove_author_button", name=author.name),
                                LABEL_MAX,
                            ),
                            EntryAuthorRemove(entry.id, author.user_id).pack(),
                        )
                    ]
                )
    elif not owner and entry.state is not EntryState.WITHDRAWN and contest.editable(_now()):
        profile = context.profile
        if profile is not None:
            rows.append(
                [
                    kb.button(
                        t.plain("contest.leave_button"),
                        EntryAuthorRemove(entry.id, profile.id).pack(),
                    )
                ]
            )
    return InlineKeyboardMarkup(rows) if rows else None


# --- the buttons --------------------------------------------------------------------------------


async def start_button(update: Update, context: BotContext, data: EntryStart) -> None:
    """Start my entry (or take up the one I have) and ask for what it still needs."""
    profile = require_profile(context)
    entry = await svc.start(context.db, profile.telegram_id, data.contest)
    await toast(update, context)
    await _show_entry(update, context, entry)


async def resume_button(update: Update, context: BotContext, data: EntryResume) -> None:
    """Continue my entry where it stopped, or show it."""
    profile = require_profile(context)
    entry = await svc.get_entry(context.db, profile.telegram_id, data.entry)
    await toast(update, context)
    await _show_entry(update, context, entry)


async def edit_button(update: Update, context: BotContext, data: EntryEdit) -> None:
    """Ask one field again (saving it returns to the preview)."""
    profile = require_profile(context)
    entry = await svc.edit(context.db, profile.telegram_id, data.entry, Step(data.field.value))
    await toast(update, context)
    await _show_entry(update, context, entry)


async def skip_button(update: Update, context: BotContext, data: EntrySkip) -> None:
    """Leave an optional description or link empty, and go on."""
    profile = require_profile(context)
    if data.field is EntryField.DESCRIPTION:
        entry = await svc.set_description(context.db, profile.telegram_id, data.entry, None)
    elif data.field is EntryField.LINK:
        entry = await svc.set_link(context.db, profile.telegram_id, data.entry, None)
    else:
        raise InvalidInput("contest.not_this_step")
    await toast(update, context)
    await remove_keyboard(update)
    await _show_entry(update, context, entry)


async def back_button(update: Update, context: BotContext, data: EntryBack) -> None:
    """Leave the field as it was: back to the preview."""
    profile = require_profile(context)
    entry = await svc.back_to_preview(context.db, profile.telegram_id, data.entry)
    await toast(update, context)
    await remove_keyboard(update)
    await _show_entry(update, context, entry)


async def remove_file_button(update: Update, context: BotContext, data: EntryFileRemove) -> None:
    """Remove one file; the files step (or the preview) is shown again."""
    profile = require_profile(context)
    name = next(
        (
            f.name
            for f in (await svc.get_entry(context.db, profile.telegram_id, data.entry)).files
            if f.id == data.file
        ),
        "",
    )
    entry = await svc.remove_file(context.db, profile.telegram_id, data.entry, data.file)
    await toast(update, context)
    await remove_keyboard(update)
    contest = await contest_service.get(context.db, entry.contest_id)
    if entry.step is Step.FILES:
        await _ask_files(
            update, context, contest, entry, "", lead=context.t("contest.file_removed", name=name)
        )
    else:
        await reply(update, context, context.t("contest.file_removed", name=name))
        await _show_entry(update, context, entry)


async def files_done_button(update: Update, context: BotContext, data: EntryFilesDone) -> None:
    """No more files: on to the preview."""
    profile = require_profile(context)
    entry = await svc.files_done(context.db, profile.telegram_id, data.entry)
    await toast(update, context)
    await remove_keyboard(update)
    await _show_entry(update, context, entry)


async def submit_button(update: Update, context: BotContext, data: EntrySubmit) -> None:
    """Submit my entry: the receipt with its code (late ones marked)."""
    profile = require_profile(context)
    t = context.t
    try:
        receipt = await svc.submit(context.db, profile.telegram_id, data.entry)
    except InvalidInput as exc:
        if exc.key != "contest.incomplete":
            raise
        await toast(update, context, t.plain(exc.key))
        await _show_by_id(update, context, data.entry)
        return
    await toast(update, context)
    await remove_keyboard(update)
    await _stop_waiting(context)
    contest = receipt.contest
    lines = [
        t(
            "contest.receipt",
            contest=_title(context, contest),
            code=receipt.code,
            when=_when(context, receipt.submitted_at),
        )
    ]
    if receipt.late:
        lines.append(t("contest.receipt_late"))
    elif contest.deadline_at is not None:
        lines.append(t("contest.receipt_editable", deadline=_when(context, contest.deadline_at)))
    if contest.team and len(receipt.entry.authors) < contest.max_authors:
        lines.append(
            t(
                "contest.team_code_line",
                code=receipt.entry.team_code,
                link=_team_link(context, receipt.entry),
                max=contest.max_authors,
            )
        )
    keyboard = kb.rows(
        [kb.button(t.plain("contest.my_entry_button"), EntryResume(receipt.entry.id).pack())]
    )
    await reply(update, context, "\n\n".join(lines), keyboard)


async def withdraw_button(update: Update, context: BotContext, data: EntryWithdraw) -> None:
    """Withdraw my entry: asked first, then done (its content is kept)."""
    profile = require_profile(context)
    t = context.t
    if not data.confirmed:
        entry = await svc.get_entry(context.db, profile.telegram_id, data.entry)
        if entry.owner_id != profile.id:
            raise PermissionDenied("contest.not_yours")
        await toast(update, context)
        keyboard = kb.rows(
            [kb.button(t.plain("contest.withdraw_yes"), EntryWithdraw(entry.id, True).pack())]
        )
        await reply(
            update, context, t("contest.withdraw_confirm", title=entry.title or "—"), keyboard
        )
        return
    entry = await svc.withdraw(context.db, profile.telegram_id, data.entry)
    await toast(update, context)
    await remove_keyboard(update)
    await _stop_waiting(context)
    contest = await contest_service.get(context.db, entry.contest_id)
    closes = contest.closes_at
    await reply(
        update,
        context,
        t(
            "contest.withdrawn_done",
            title=entry.title or "—",
            deadline=_when(context, closes) if closes else "—",
        ),
    )


async def remove_author_button(
    update: Update, context: BotContext, data: EntryAuthorRemove
) -> None:
    """The owner removes a co-author, or a co-author leaves."""
    profile = require_profile(context)
    entry = await svc.remove_author(context.db, profile.telegram_id, data.entry, data.user)
    await toast(update, context)
    await remove_keyboard(update)
    if data.user == profile.id:
        await reply(update, context, context.t("contest.left_team", title=entry.title or "—"))
        return
    await reply(update, context, context.t("contest.author_removed"))
    await _show_entry(update, context, entry)


async def join_ask_button(update: Update, context: BotContext, data: ContestJoinAsk) -> None:
    """Ask for the team code the entry's owner shared."""
    contest = await contest_service.get(context.db, data.contest)
    await toast(update, context)
    await set_awaiting(context, waiting_for(TEAM_ROUTE, contest.id))
    await reply(
        update, context, context.t("contest.ask_team_code", contest=_title(context, contest))
    )


# --- typed steps and files ----------------------------------------------------------------------


async def save_title(update: Update, context: BotContext, argument: str) -> None:
    """Save the title and ask what comes next."""
    profile = require_profile(context)
    entry = await svc.set_title(context.db, profile.telegram_id, int(argument), typed_text(update))
    await _show_entry(update, context, entry)


async def save_description(update: Update, context: BotContext, argument: str) -> None:
    """Save the description and ask what comes next."""
    profile = require_profile(context)
    entry = await svc.set_description(
        context.db, profile.telegram_id, int(argument), typed_text(update)
    )
    await _show_entry(update, context, entry)


async def save_link(update: Update, context: BotContext, argument: str) -> None:
    """Save the link and ask what comes next."""
    profile = require_profile(context)
    entry = await svc.set_link(context.db, profile.telegram_id, int(argument), typed_text(update))
    await _show_entry(update, context, entry)


async def text_among_files(update: Update, context: BotContext, argument: str) -> None:
    """Text while files are expected: say how to send them, and show the step again."""
    profile = require_profile(context)
    entry = await svc.get_entry(context.db, profile.telegram_id, int(argument))
    if entry.step is not Step.FILES:
        raise InvalidInput("contest.not_this_step")
    contest = await contest_service.get(context.db, entry.contest_id)
    await _ask_files(update, context, contest, entry, "", lead=context.t("contest.files_expected"))


def _new_file(message: Message) -> NewFile | None:
    """The file a message carries (a document, a photo, a video, an audio), or None."""
    if message.document is not None:
        d = message.document
        return NewFile(
            d.file_id, d.file_name or "document", d.mime_type, d.file_size, d.file_unique_id
        )
    if message.photo:
        p = message.photo[-1]
        return NewFile(
            p.file_id, f"photo_{p.file_unique_id}.jpg", "image/jpeg", p.file_size, p.file_unique_id
        )
    if message.video is not None:
        v = message.video
        name = v.file_name or f"video_{v.file_unique_id}.mp4"
        return NewFile(v.file_id, name, v.mime_type or "video/mp4", v.file_size, v.file_unique_id)
    if message.audio is not None:
        a = message.audio
        name = a.file_name or f"audio_{a.file_unique_id}.mp3"
        return NewFile(a.file_id, name, a.mime_type or "audio/mpeg", a.file_size, a.file_unique_id)
    return None


async def save_file(update: Update, context: BotContext, argument: str) -> None:
    """Attach a sent file (type, size and count checked); the files step stays open."""
    profile = require_profile(context)
    message = update.effective_message
    new = _new_file(message) if message is not None else None
    if new is None:
        await reply(update, context, context.t("contest.files_send_as_document"))
        return
    entry = await svc.add_file(context.db, profile.telegram_id, int(argument), new)
    contest = await contest_service.get(context.db, entry.contest_id)
    added = entry.files[-1].name if entry.files else new.name
    lead = context.t(
        "contest.file_added", name=added, count=len(entry.files), max=contest.files.max_count
    )
    await _ask_files(update, context, contest, entry, "", lead=lead)


# --- teams --------------------------------------------------------------------------------------


async def _join(update: Update, context: BotContext, code: str) -> None:
    """Join an entry as a co-author with its team code, and show it."""
    profile = require_profile(context)
    t = context.t
    entry = await svc.join(context.db, profile.telegram_id, code)
    await _stop_waiting(context)
    contest = await contest_service.get(context.db, entry.contest_id)
    owner = next((a for a in entry.authors if a.owner), None)
    await reply(
        update,
        context,
        t(
            "contest.joined",
            title=entry.title or "—",
            code=entry.code,
            contest=_title(context, contest),
            owner=owner.name if owner else "—",
        ),
    )
    await _show_entry(update, context, entry)


async def join_by_link(update: Update, context: BotContext, code: str) -> None:
    """Join a team from a `?start=t-<team code>` link the owner shared."""
    try:
        await _join(update, context, code)
    except ServiceError as exc:
        await reply(update, context, context.t(exc.key, **exc.values))


async def typed_team_code(update: Update, context: BotContext, argument: str) -> None:
    """Join a team with a typed code; a wrong one is explained and another may be typed."""
    try:
        await _join(update, context, typed_text(update))
    except ServiceError as exc:
        if not isinstance(exc, InvalidInput) or exc.key not in ("contest.team_code_wrong",):
            await _stop_waiting(context)
        await reply(update, context, context.t(exc.key, **exc.values))
