"""The organizers' contest wizard: /contest_setup over a working copy of a contest's definition.

`/contest_setup` (organizers and admins; anyone else is told who may) lists the contests (the
default one loaded from `content/contests/` among them) and New contest. Choosing one opens the
organizer's working copy (`bot.services.contest_setup`): an overview of the whole definition,
which is also the preview of what Save stores, with its screens:

- Title and Rules: typed, with `[kk]`/`[ru]`/`[en]` sections (the languages named are replaced,
  so long rules may come one language per message);
- Dates: the opening, the deadline, an optional late cut-off (or none) and the jury deadline,
  typed in the bot's zone (`15.04.2027 23:59`), shown back with the zone named;
- Entry fields: the link (required / optional / off), the file types and their count (or no
  files), the team size;
- Criteria: each with its code, title, weight (and its share of the total) and maximum, added
  in four typed steps and removed with a button;
- Review rules: reviews per entry, blind review, the conflict rule, standardised scores and
  feedback to authors, switched with buttons.

What the bot waits for is stored on the user (`co_<field>:<copy id>`), and every value is saved
into the copy as soon as it is given, so a restart or /cancel loses nothing: /contest_setup
opens the same copy again. Save checks the whole copy with the pack schema and the loader's
locks, and names each problem with its pack path and the schema's reason; what the contest's
history has locked (entry fields once entries exist, criteria and review rules once entries
are allocated, feedback once results are released) is explained before anything is typed.
The overview of a saved contest shows the jury's invite link (`?start=j-<jury code>`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.helpers import create_deep_linked_url

from bot import keyboards as kb
from bot.awaiting import int_argument, waiting_for
from bot.callbacks import (
    Button,
    SetupAsk,
    SetupClear,
    SetupCriterionRemove,
    SetupDiscard,
    SetupInput,
    SetupLink,
    SetupLinkRule,
    SetupNew,
    SetupOpen,
    SetupSave,
    SetupSection,
    SetupShow,
    SetupSwitch,
    SetupToggle,
)
from bot.context import BotContext
from bot.conversation import answered_refusals, remove_keyboard, set_awaiting, stop_waiting
from bot.features import Features, InputRoute
from bot.replies import fit_lines, reply, require_profile, shorten, toast
from bot.services import InvalidInput, ServiceError
from bot.services import contest as contest_service
from bot.services import contest_setup as svc
from bot.services.contest import MANAGERS, LinkRule
from bot.services.contest_setup import Field, SetupRefused, SetupView, Switch
from bot.services.event_times import show_when, zone_name

JURY_LINK = "j"  # the jury's deep link, answered by the jury feature
ROUTE_PREFIX = "co_"
ROUTES: dict[str, Field] = {f"{ROUTE_PREFIX}{field.value}": field for field in Field}
INPUTS: dict[SetupInput, Field] = {
    SetupInput.CODE: Field.CODE,
    SetupInput.TITLE: Field.TITLE,
    SetupInput.RULES: Field.RULES,
    SetupInput.OPENS: Field.OPENS,
    SetupInput.DEADLINE: Field.DEADLINE,
    SetupInput.LATE: Field.LATE,
    SetupInput.JURY: Field.JURY,
    SetupInput.TYPES: Field.TYPES,
    SetupInput.FILES: Field.FILES,
    SetupInput.TEAM: Field.TEAM,
    SetupInput.REVIEWS: Field.REVIEWS,
    SetupInput.CRITERION: Field.CRITERION_CODE,
}
SWITCHES: dict[SetupSwitch, Switch] = {
    SetupSwitch.BLIND: Switch.BLIND,
    SetupSwitch.CONFLICTS: Switch.CONFLICTS,
    SetupSwitch.STANDARDISE: Switch.STANDARDISE,
    SetupSwitch.FEEDBACK: Switch.FEEDBACK,
}
SWITCH_LABELS: dict[Switch, str] = {
    Switch.BLIND: "contest.setup_blind",
    Switch.CONFLICTS: "contest.setup_conflicts",
    Switch.STANDARDISE: "contest.setup_standardise",
    Switch.FEEDBACK: "contest.setup_feedback",
}
LINK_LABELS: dict[LinkRule, str] = {
    LinkRule.REQUIRED: "contest.setup_link_required",
    LinkRule.OPTIONAL: "contest.setup_link_optional",
    LinkRule.OFF: "contest.setup_link_off",
}
TIME_LABELS: dict[Field, str] = {
    Field.OPENS: "contest.setup_opens",
    Field.DEADLINE: "contest.setup_deadline",
    Field.LATE: "contest.setup_late",
    Field.JURY: "contest.setup_jury",
}
# Refusals no other text can mend: the bot stops waiting.
FINAL = frozenset(
    {
        "contest.setup_locked_entries",
        "contest.setup_locked_allocated",
        "contest.setup_locked_released",
        "contest.setup_code_fixed",
        "contest.setup_no_criterion",
        "contest.setup_no_files",
        "contest.setup_criteria_full",
    }
)
LIST_MAX = 20
LABEL_MAX = 60
RULES_SHOWN = 300


def register(features: Features) -> None:
    """Add /contest_setup, its buttons and typed steps, its menu entry and /help."""
    features.command("contest_setup", setup_command)
    features.button(SetupOpen, answered_refusals(open_button))
    features.button(SetupNew, answered_refusals(new_button))
    features.button(SetupShow, answered_refusals(show_button))
    features.button(SetupAsk, answered_refusals(ask_button))
    features.button(SetupClear, answered_refusals(clear_button))
    features.button(SetupLink, answered_refusals(link_button))
    features.button(SetupToggle, answered_refusals(toggle_button))
    features.button(SetupCriterionRemove, answered_refusals(remove_criterion_button))
    features.button(SetupSave, answered_refusals(save_button))
    features.button(SetupDiscard, answered_refusals(discard_button))
    for route, field in ROUTES.items():
        features.text(route, _typed(field))
    features.action("contest_setup", setup_command)
    features.menu("contest_setup", "menu.contest_setup", "contest_setup", MANAGERS, position=56)
    features.help("help.contest_setup", MANAGERS)


# --- plumbing ---------------------------------------------------------------------------------


async def _stop_waiting(context: BotContext) -> None:
    """Stop waiting for this feature's input (another feature's stored value is left alone)."""
    await stop_waiting(context, ROUTES)


def _now() -> datetime:
    return datetime.now(UTC)


def _when(context: BotContext, moment: datetime | None) -> str:
    if moment is None:
        return context.t.plain("contest.setup_not_set")
    return show_when(moment, context.settings.tz, context.t.language)


def _button(context: BotContext, key: str, data: Button, **values: object) -> InlineKeyboardButton:
    return kb.button(context.t.plain(key, **values), data.pack())


def _back(context: BotContext, view: SetupView) -> list[InlineKeyboardButton]:
    return [
        _button(context, "contest.setup_back_button", SetupShow(view.id, SetupSection.OVERVIEW))
    ]


def _number(context: BotContext, value: float) -> str:
    return context.t.number(value, trim=True)


# --- the list and the overview ------------------------------------------------------------------


async def setup_command(update: Update, context: BotContext) -> None:
    """List the contests to set up, and New contest (/contest_setup)."""
    profile = require_profile(context)
    t = context.t
    if not profile.has(*MANAGERS):
        await reply(update, context, t("contest.setup_not_allowed"))
        return
    contests = await contest_service.list_all(context.db)
    copies = await svc.drafts(context.db, profile.telegram_id, context.admin_ids)
    buttons = [
        kb.button(
            shorten(
                ("✏️ " if c.id in copies else "") + (c.title_in(t.language) or c.code),
                LABEL_MAX,
            ),
            SetupOpen(c.id).pack(),
        )
        for c in contests[:LIST_MAX]
    ]
    new_key = "contest.setup_continue_new" if None in copies else "contest.setup_new_button"
    buttons.append(_button(context, new_key, SetupNew()))
    await reply(update, context, t("contest.setup_choose", count=len(contests)), kb.rows(buttons))


async def open_button(update: Update, context: BotContext, data: SetupOpen) -> None:
    """Open my working copy of a contest (taken from the stored contest when I have none)."""
    profile = require_profile(context)
    view = await svc.open_contest(
        context.db, profile.telegram_id, context.admin_ids, data.contest, context.settings.tz
    )
    await toast(update, context)
    await _stop_waiting(context)
    await _overview(update, context, view)


async def new_button(update: Update, context: BotContext, data: SetupNew) -> None:
    """Set up a new contest: its code first (or go on with the one being set up)."""
    profile = require_profile(context)
    view = await svc.open_new(
        context.db, profile.telegram_id, context.admin_ids, context.settings.tz
    )
    await toast(update, context)
    if view.code is None:
        await _ask(update, context, view, Field.CODE)
        return
    await _overview(update, context, view)


def _title_line(context: BotContext, view: SetupView) -> str:
    t = context.t
    title = view.text("title", t.language) or view.text("title", "en") or "—"
    return t("contest.setup_title_line", title=title) + _missing(context, view, "title")


def _missing(context: BotContext, view: SetupView, key: str) -> str:
    missing = [lang for lang in svc.LANGUAGES if lang not in view.languages(key)]
    if not missing:
        return ""
    return " " + context.t("contest.setup_missing_languages", languages=", ".join(missing))


def _dates_lines(context: BotContext, view: SetupView) -> list[str]:
    t = context.t
    lines = [t("contest.setup_dates_heading", zone=zone_name(context.settings.tz))]
    for field, label in TIME_LABELS.items():
        moment = view.moment(field)
        value = (
            t.plain("contest.setup_no_late")
            if field is Field.LATE and moment is None
            else _when(context, moment)
        )
        lines.append(t("contest.setup_date_line", label=t.plain(label), value=value))
    problem = view.windows_problem
    if problem:
        lines.append(t("contest.setup_dates_problem", reason=problem))
    return lines


def _entry_lines(context: BotContext, view: SetupView) -> list[str]:
    t = context.t
    files = view.files
    files_text = (
        t.plain(
            "contest.setup_files_rule",
            types=", ".join(files.get("types", ())),
            low=files.get("min_count", 0),
            high=files.get("max_count", 0),
            mb=files.get("max_mb", 20),
        )
        if files
        else t.plain("contest.setup_no_files_rule")
    )
    lines = [
        t(
            "contest.setup_entry_line",
            link=t.plain(LINK_LABELS[view.link]),
            files=files_text,
            authors=view.max_authors,
        )
    ]
    if view.locks.entries:
        lines.append(t("contest.setup_locked_entries", count=view.locks.entries))
    return lines


def _criteria_lines(context: BotContext, view: SetupView) -> list[str]:
    t = context.t
    criteria = view.criteria
    total = sum(float(c.get("weight", 0)) for c in criteria) or 1.0
    lines = [t("contest.setup_criteria_heading", count=len(criteria))]
    for c in criteria:
        title = dict(c.get("title") or {})
        lines.append(
            t(
                "contest.setup_criterion_line",
                code=c.get("code", ""),
                title=title.get(t.language) or title.get("en") or "—",
                weight=_number(context, float(c.get("weight", 0))),
                share=_number(context, 100 * float(c.get("weight", 0)) / total),
                max=c.get("max", 0),
            )
        )
    if not criteria:
        lines.append(t("contest.setup_no_criteria"))
    pending = view.pending
    if pending:
        lines.append(t("contest.setup_criterion_pending", code=pending.get("code", "")))
    if view.locks.allocated:
        lines.append(t("contest.setup_locked_allocated"))
    return lines


def _review_lines(context: BotContext, view: SetupView) -> list[str]:
    t = context.t
    on, off = t.plain("contest.setup_on"), t.plain("contest.setup_off")
    switches = "; ".join(
        t.plain(
            "contest.setup_switch_state", label=t.plain(label), state=on if view.switch(s) else off
        )
        for s, label in SWITCH_LABELS.items()
    )
    lines = [t("contest.setup_review_line", reviews=view.reviews_per_entry, switches=switches)]
    if view.locks.released:
        lines.append(t("contest.setup_locked_released"))
    return lines


async def _overview(update: Update, context: BotContext, view: SetupView) -> None:
    """The whole definition as Save will store it, with the screens to change it."""
    t = context.t
    code = view.code or "—"
    title = view.text("title", t.language) or view.text("title", "en") or code
    if view.contest_id is None:
        state = t("contest.setup_state_new")
    elif view.changed:
        state = t("contest.setup_state_changed", version=view.base_version or 1)
    else:
        state = t("contest.setup_state_saved", version=view.base_version or 1)
    rules = view.text("rules", t.language) or view.text("rules", "en") or "—"
    lines = [
        t("contest.setup_heading", title=title, code=code),
        state,
        "",
        _title_line(context, view),
        t("contest.setup_rules_line", rules=shorten(rules, RULES_SHOWN))
        + _missing(context, view, "rules"),
        "",
        *_dates_lines(context, view),
        "",
        *_entry_lines(context, view),
        "",
        *_criteria_lines(context, view),
        "",
        *_review_lines(context, view),
    ]
    if view.jury_code and JURY_LINK in context.features.deep_links:
        link = create_deep_linked_url(context.bot.username, f"{JURY_LINK}-{view.jury_code}")
        lines += ["", t("contest.setup_jury_link", link=link)]
    text = fit_lines(lines, lambda count: t("contest.more_lines", count=count))
    rows = [
        [
            _button(context, "contest.setup_title_button", SetupAsk(view.id, SetupInput.TITLE)),
            _button(context, "contest.setup_rules_button", SetupAsk(view.id, SetupInput.RULES)),
        ],
        [
            _button(context, "contest.setup_dates_button", SetupShow(view.id, SetupSection.DATES)),
            _button(context, "contest.setup_entry_button", SetupShow(view.id, SetupSection.ENTRY)),
        ],
        [
            _button(
                context, "contest.setup_criteria_button", SetupShow(view.id, SetupSection.CRITERIA)
            ),
            _button(
                context, "contest.setup_review_button", SetupShow(view.id, SetupSection.REVIEW)
            ),
        ],
        [
            _button(context, "contest.setup_save_button", SetupSave(view.id)),
            _button(context, "contest.setup_discard_button", SetupDiscard(view.id, False)),
        ],
    ]
    await reply(update, context, text, InlineKeyboardMarkup(rows))


async def _section(
    update: Update, context: BotContext, view: SetupView, section: SetupSection
) -> None:
    """One screen of the wizard: what it holds now and its buttons."""
    t = context.t
    if section is SetupSection.OVERVIEW:
        await _overview(update, context, view)
        return
    rows: list[list[InlineKeyboardButton]] = []
    if section is SetupSection.DATES:
        lines = _dates_lines(context, view)
        rows = [
            [
                _button(
                    context, "contest.setup_opens_button", SetupAsk(view.id, SetupInput.OPENS)
                ),
                _button(
                    context,
                    "contest.setup_deadline_button",
                    SetupAsk(view.id, SetupInput.DEADLINE),
                ),
            ],
            [
                _button(context, "contest.setup_late_button", SetupAsk(view.id, SetupInput.LATE)),
                _button(
                    context, "contest.setup_no_late_button", SetupClear(view.id, SetupInput.LATE)
                ),
            ],
            [_button(context, "contest.setup_jury_button", SetupAsk(view.id, SetupInput.JURY))],
        ]
    elif section is SetupSection.ENTRY:
        lines = _entry_lines(context, view)
        rows = [
            [
                kb.button(
                    ("✅ " if view.link.value == rule.value else "")
                    + t.plain(LINK_LABELS[LinkRule(rule.value)]),
                    SetupLink(view.id, rule).pack(),
                )
                for rule in SetupLinkRule
            ],
            [
                _button(
                    context, "contest.setup_types_button", SetupAsk(view.id, SetupInput.TYPES)
                ),
                _button(
                    context, "contest.setup_count_button", SetupAsk(view.id, SetupInput.FILES)
                ),
            ],
            [
                _button(
                    context, "contest.setup_no_files_button", SetupClear(view.id, SetupInput.TYPES)
                ),
                _button(context, "contest.setup_team_button", SetupAsk(view.id, SetupInput.TEAM)),
            ],
        ]
    elif section is SetupSection.CRITERIA:
        lines = _criteria_lines(context, view)
        codes = [str(c.get("code", "")) for c in view.criteria]
        pending = view.pending
        if pending:
            codes.append(str(pending.get("code", "")))
        rows = [
            [
                _button(
                    context,
                    "contest.setup_remove_criterion_button",
                    SetupCriterionRemove(view.id, code),
                    code=code,
                )
            ]
            for code in codes
            if code
        ]
        rows.append(
            [
                _button(
                    context,
                    "contest.setup_add_criterion_button",
                    SetupAsk(view.id, SetupInput.CRITERION),
                )
            ]
        )
    else:  # REVIEW
        lines = _review_lines(context, view)
        rows = [
            [
                _button(
                    context, "contest.setup_reviews_button", SetupAsk(view.id, SetupInput.REVIEWS)
                )
            ]
        ]
        on, off = t.plain("contest.setup_on"), t.plain("contest.setup_off")
        for choice, switch in SWITCHES.items():
            label = t.plain(
                "contest.setup_switch_state",
                label=t.plain(SWITCH_LABELS[switch]),
                state=on if view.switch(switch) else off,
            )
            rows.append([kb.button(label, SetupToggle(view.id, choice).pack())])
    rows.append(_back(context, view))
    await reply(update, context, "\n".join(lines), InlineKeyboardMarkup(rows))


async def _view(context: BotContext, setup_id: int) -> SetupView:
    profile = require_profile(context)
    return await svc.get(
        context.db, profile.telegram_id, context.admin_ids, setup_id, context.settings.tz
    )


async def show_button(update: Update, context: BotContext, data: SetupShow) -> None:
    """Show one screen of the wizard."""
    view = await _view(context, data.setup)
    await toast(update, context)
    await _stop_waiting(context)
    await _section(update, context, view, data.section)


# --- asking and reading typed values -------------------------------------------------------


def _example_time(context: BotContext, days: int) -> str:
    local = datetime.now(context.settings.tz).replace(hour=23, minute=59) + timedelta(days=days)
    return local.strftime("%d.%m.%Y %H:%M")


async def _ask(update: Update, context: BotContext, view: SetupView, field: Field) -> None:
    """Ask for one typed value (checked against the locks first; stored on the user)."""
    t = context.t
    svc.check_open(view, field)
    await set_awaiting(context, waiting_for(f"{ROUTE_PREFIX}{field.value}", view.id))
    if field is Field.CODE:
        text = t("contest.setup_ask_code")
    elif field is Field.TITLE:
        text = t("contest.setup_ask_title", max=150)
    elif field is Field.RULES:
        text = t("contest.setup_ask_rules")
    elif field in TIME_LABELS:
        text = t(
            "contest.setup_ask_time",
            what=t.plain(TIME_LABELS[field]),
            zone=zone_name(context.settings.tz),
            example=_example_time(context, 30),
            now=_when(context, view.moment(field)),
        )
    elif field is Field.TYPES:
        types = ", ".join((view.files or {}).get("types", ())) or "—"
        text = t("contest.setup_ask_types", types=types)
    elif field is Field.FILES:
        text = t("contest.setup_ask_count", max=20)
    elif field is Field.TEAM:
        text = t("contest.setup_ask_team", max=10)
    elif field is Field.REVIEWS:
        text = t("contest.setup_ask_reviews", max=10)
    elif field is Field.CRITERION_CODE:
        text = t("contest.setup_ask_criterion_code")
    elif field is Field.CRITERION_TITLE:
        text = t("contest.setup_ask_criterion_title", max=64)
    elif field is Field.CRITERION_WEIGHT:
        text = t("contest.setup_ask_criterion_weight")
    else:
        text = t("contest.setup_ask_criterion_max", max=100)
    await reply(update, context, text, kb.rows(_back(context, view)))


async def ask_button(update: Update, context: BotContext, data: SetupAsk) -> None:
    """Ask for the chosen value (a locked one is explained instead)."""
    view = await _view(context, data.setup)
    field = INPUTS[data.field]
    if field is Field.CRITERION_CODE and view.pending:
        # A criterion left half-way: go on where it stopped.
        pending = view.pending
        field = (
            Field.CRITERION_TITLE
            if "title" not in pending
            else Field.CRITERION_WEIGHT
            if "weight" not in pending
            else Field.CRITERION_MAX
        )
    svc.check_open(view, field)  # a lock is answered by the refusal's toast, not a second one
    await toast(update, context)
    await _ask(update, context, view, field)


# After a typed value: what comes next (a new contest and a criterion go on step by step).
_NEXT_CRITERION = {
    Field.CRITERION_CODE: Field.CRITERION_TITLE,
    Field.CRITERION_TITLE: Field.CRITERION_WEIGHT,
    Field.CRITERION_WEIGHT: Field.CRITERION_MAX,
}
_SECTION_OF: dict[Field, SetupSection] = {
    Field.OPENS: SetupSection.DATES,
    Field.DEADLINE: SetupSection.DATES,
    Field.LATE: SetupSection.DATES,
    Field.JURY: SetupSection.DATES,
    Field.TYPES: SetupSection.ENTRY,
    Field.FILES: SetupSection.ENTRY,
    Field.TEAM: SetupSection.ENTRY,
    Field.REVIEWS: SetupSection.REVIEW,
    Field.CRITERION_MAX: SetupSection.CRITERIA,
}


def _typed(field: Field) -> InputRoute:
    """The route for one typed value: saved into the copy, or refused with the reason."""

    async def route(update: Update, context: BotContext, argument: str) -> None:
        setup_id = int_argument(argument)
        message = update.effective_message
        text = (message.text or "") if message is not None else ""
        if setup_id is None:
            await _stop_waiting(context)
            await reply(update, context, context.t("errors.not_understood"))
            return
        profile = require_profile(context)
        try:
            view = await svc.set_value(
                context.db,
                profile.telegram_id,
                context.admin_ids,
                setup_id,
                field,
                text,
                zone=context.settings.tz,
            )
        except ServiceError as exc:
            if not isinstance(exc, InvalidInput) or exc.key in FINAL:
                await _stop_waiting(context)
            await reply(update, context, context.t(exc.key, **exc.values))
            return
        await _after_value(update, context, view, field)

    route.__doc__ = f"Save the typed {field.value} into the working copy."
    return route


async def _after_value(update: Update, context: BotContext, view: SetupView, field: Field) -> None:
    """Confirm the value and go on: a criterion's or a new contest's next step, or its screen."""
    t = context.t
    if field in _NEXT_CRITERION:
        await _ask(update, context, view, _NEXT_CRITERION[field])
        return
    await _stop_waiting(context)
    if view.contest_id is None and field is Field.CODE:
        await _ask(update, context, view, Field.TITLE)
        return
    if view.contest_id is None and field is Field.TITLE and not view.languages("rules"):
        await _ask(update, context, view, Field.RULES)
        return
    await reply(update, context, t("contest.setup_saved_value"))
    section = _SECTION_OF.get(field, SetupSection.OVERVIEW)
    await _section(update, context, view, section)


# --- buttons that change the copy ---------------------------------------------------------------


async def clear_button(update: Update, context: BotContext, data: SetupClear) -> None:
    """No late cut-off, or no files."""
    profile = require_profile(context)
    field = INPUTS[data.field]
    view = await svc.clear(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        data.setup,
        field,
        zone=context.settings.tz,
    )
    await toast(update, context, context.t.plain("contest.setup_saved_value"))
    await _stop_waiting(context)
    await _section(update, context, view, _SECTION_OF.get(field, SetupSection.OVERVIEW))


async def link_button(update: Update, context: BotContext, data: SetupLink) -> None:
    """Whether entries carry a link."""
    profile = require_profile(context)
    view = await svc.set_link(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        data.setup,
        LinkRule(data.rule.value),
        zone=context.settings.tz,
    )
    await toast(update, context, context.t.plain("contest.setup_saved_value"))
    await remove_keyboard(update)
    await _section(update, context, view, SetupSection.ENTRY)


async def toggle_button(update: Update, context: BotContext, data: SetupToggle) -> None:
    """Switch a review rule on or off."""
    profile = require_profile(context)
    view = await svc.toggle(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        data.setup,
        SWITCHES[data.switch],
        zone=context.settings.tz,
    )
    await toast(update, context, context.t.plain("contest.setup_saved_value"))
    await remove_keyboard(update)
    await _section(update, context, view, SetupSection.REVIEW)


async def remove_criterion_button(
    update: Update, context: BotContext, data: SetupCriterionRemove
) -> None:
    """Remove a criterion from the rubric."""
    profile = require_profile(context)
    view = await svc.remove_criterion(
        context.db,
        profile.telegram_id,
        context.admin_ids,
        data.setup,
        data.code,
        zone=context.settings.tz,
    )
    await toast(
        update, context, context.t.plain("contest.setup_criterion_removed", code=data.code)
    )
    await remove_keyboard(update)
    await _stop_waiting(context)
    await _section(update, context, view, SetupSection.CRITERIA)


async def save_button(update: Update, context: BotContext, data: SetupSave) -> None:
    """Check the whole copy as a pack and store it on the contest; problems are listed."""
    profile = require_profile(context)
    t = context.t
    try:
        saved = await svc.save(
            context.db,
            profile.telegram_id,
            context.admin_ids,
            data.setup,
            zone=context.settings.tz,
        )
    except SetupRefused as exc:
        await toast(update, context, t.plain("contest.setup_refused", count=len(exc.errors)))
        lines = [t("contest.setup_refused", count=len(exc.errors))]
        lines += [
            t("contest.setup_problem", path=error.path or "—", reason=error.reason)
            for error in exc.errors
        ]
        await reply(update, context, fit_lines(lines, lambda n: t("contest.more_lines", count=n)))
        return
    await toast(update, context)
    await remove_keyboard(update)
    await _stop_waiting(context)
    contest = saved.contest
    key = {
        "created": "contest.setup_created",
        "new_version": "contest.setup_stored",
    }.get(saved.status, "contest.setup_unchanged")
    lines = [
        t(
            key,
            title=contest.title_in(t.language) or contest.code,
            code=contest.code,
            version=contest.pack_version,
        )
    ]
    if contest.jury_code and JURY_LINK in context.features.deep_links:
        link = create_deep_linked_url(context.bot.username, f"{JURY_LINK}-{contest.jury_code}")
        lines.append(t("contest.setup_jury_link", link=link))
    if contest.opens_at is None:
        lines.append(t("contest.setup_no_dates_yet"))
    await reply(update, context, "\n\n".join(lines))


async def discard_button(update: Update, context: BotContext, data: SetupDiscard) -> None:
    """Throw my copy away (asked first); the contest stays as saved."""
    profile = require_profile(context)
    t = context.t
    if not data.confirmed:
        await _view(context, data.setup)
        await toast(update, context)
        keyboard = kb.rows(
            [_button(context, "contest.setup_discard_yes", SetupDiscard(data.setup, True))]
        )
        await reply(update, context, t("contest.setup_discard_confirm"), keyboard)
        return
    await svc.discard(context.db, profile.telegram_id, context.admin_ids, data.setup)
    await toast(update, context)
    await remove_keyboard(update)
    await _stop_waiting(context)
    await reply(update, context, t("contest.setup_discarded"))
