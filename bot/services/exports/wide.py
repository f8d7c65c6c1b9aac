"""The wide table: one row per participant and wave, one column per item, plus scale scores.

Derived from the same stored answers as the long table. Where a participant has several
attempts in one wave, the row is their latest submitted attempt (or, if none was submitted,
their latest one); `attempts` says how many there were.

Item columns hold what the participant chose, as numbers an analyst can use directly:
- Likert: the point as answered (reverse-scored items are *not* reversed here; the codebook
  says which are, and the scale scores take care of it);
- single choice: the option's position in the pack (1, 2, ...), with the option texts as value
  labels; the option codes are in the codebook;
- multiple choice: one 0/1 column per option, named `item__option`;
- ranking: one column per option holding its rank (1 = most preferred), named `item__option`;
- number: the number; text and date: as typed.
Why a cell is empty is kept as a missing-value code in SPSS files (skipped, not shown, not
reached; see `spec.MISSING_CODES`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content.engine import Compiled, Item
from bot.content.schema import Level, Option
from bot.services.exports import common as c
from bot.services.exports.spec import (
    MISSING,
    NOT_REACHED,
    NOT_SHOWN,
    SKIPPED,
    Chunks,
    Labels,
    Table,
    Variable,
)
from bot.services.surveys import compiled
from models import Answer, Attempt, Campaign, Instrument, User

ATTEMPTS_PER_QUERY = 500
SUBMITTED = "submitted"


def spss_name(name: str) -> str:
    """A variable name SPSS accepts (at most 64 bytes), kept unique with a short hash."""
    if len(name) <= 64:
        return name
    return name[:55] + "_" + hashlib.sha1(name.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Column:
    """How one variable of the wide table is filled from an attempt's answers."""

    variable: Variable
    item: str | None = None  # the item it comes from
    option: str | None = None  # multiple choice: the option of this 0/1 column
    ranked: str | None = None  # ranking: the option whose rank this column holds
    options: tuple[str, ...] = ()  # single choice: option codes, coded 1, 2, ... in this order
    scale: str | None = None  # derived: the scale whose score (or level) this is
    part: str = "value"  # value, level; tests overall: points, max_points, percent, level


def _level_values(levels: list[Level]) -> dict[Any, Labels]:
    ordered = sorted(levels, key=lambda level: level.min)
    return {i: c.text_labels(level.label) for i, level in enumerate(ordered, 1)}


def _level_index(levels: list[Level], code: str | None) -> int | None:
    ordered = sorted(levels, key=lambda level: level.min)
    codes = [level.code for level in ordered]
    return codes.index(code) + 1 if code in codes else None


def _item_columns(item: Item, older: list[Option], name: str) -> list[Column]:
    """The column(s) of one item; `older` are options only earlier versions had.

    Choice items are coded by option code against the union of every version's options
    (newest order first, older ones after), so a reordered option keeps its meaning.
    """
    label = c.text_labels(item.text)
    if item.stem is not None:
        # The statement first: SPSS keeps only the first 256 bytes of a label.
        label = {k: f"{v} — {getattr(item.stem, k)}" for k, v in label.items()}
    options = [*item.options, *older]
    reverse = "reverse-scored: its scale uses (points + 1 - value)" if item.reverse else None
    if item.kind == "likert" and item.likert is not None:
        values = {
            1: c.text_labels(item.likert.low),
            item.likert.points: c.text_labels(item.likert.high),
        }
        var = Variable(
            name, label, "integer", "ordinal", values, coded_missing=True, derived=reverse
        )
        return [Column(var, item=item.code)]
    if item.kind == "single":
        values = {
            i: {k: f"{v} [{o.code}]" for k, v in c.text_labels(o.text).items()}
            for i, o in enumerate(options, 1)
        }
        var = Variable(name, label, "integer", "nominal", values, coded_missing=True)
        return [Column(var, item=item.code, options=tuple(o.code for o in options))]
    if item.kind == "multiple":
        chosen = {"kk": "таңдалды", "ru": "выбран", "en": "chosen"}
        not_chosen = {"kk": "таңдалмады", "ru": "не выбран", "en": "not chosen"}
        return [
            Column(
                Variable(
                    spss_name(f"{name}__{o.code}"),
                    {k: f"{v}: {getattr(o.text, k)}" for k, v in label.items()},
                    "integer",
                    "nominal",
                    {0: not_chosen, 1: chosen},
                    coded_missing=True,
                ),
                item=item.code,
                option=o.code,
            )
            for o in options
        ]
    if item.kind == "ranking":
        first = {"kk": "ең қалаулы", "ru": "самый предпочтительный", "en": "most preferred"}
        return [
            Column(
                Variable(
                    spss_name(f"{name}__{o.code}"),
                    {k: f"{v}: {getattr(o.text, k)}" for k, v in label.items()},
                    "integer",
                    "ordinal",
                    {1: first},
                    coded_missing=True,
                    derived="the option's place in the respondent's order (1 = most preferred)",
                ),
                item=item.code,
                ranked=o.code,
            )
            for o in options
        ]
    if item.kind == "number":
        negative = item.minimum is None or item.minimum < 0
        var = Variable(name, label, "float", "scale", coded_missing=True, negative=negative)
        return [Column(var, item=item.code)]
    free = item.kind == "text"
    return [Column(Variable(name, label, "string", "nominal", free_text=free), item=item.code)]


def _score_columns(pack: Compiled) -> list[Column]:
    columns: list[Column] = []
    for scale in pack.pack.scales:
        members = [i.code for i in pack.items if i.scale == scale.code]
        how = (
            f"{scale.method} of the answered items {', '.join(members)} "
            "(Likert reverse-scored items as points + 1 - value; skipped and hidden items "
            "count for nothing); only for submitted attempts; at full precision, not rounded "
            "(the bot rounds to one decimal only when it shows a score to the participant)"
        )
        title = c.text_labels(scale.title)
        columns.append(
            Column(
                Variable(
                    spss_name(f"sc_{scale.code}"),
                    title,
                    "float",
                    "scale",
                    coded_missing=True,
                    derived=how,
                ),
                scale=scale.code,
            )
        )
        if scale.levels:
            columns.append(
                Column(
                    Variable(
                        spss_name(f"lv_{scale.code}"),
                        {k: f"{v}: level" for k, v in title.items()},
                        "integer",
                        "ordinal",
                        _level_values(scale.levels),
                        coded_missing=True,
                        derived=f"the band of sc_{scale.code} in the scale's level table "
                        "([min, max), the last band including its max)",
                    ),
                    scale=scale.code,
                    part="level",
                )
            )
    if pack.pack.kind == "test":
        for part, en, ru, kk in (
            ("points", "Test points", "Баллы теста", "Тест ұпайы"),
            ("max_points", "Maximum points", "Максимум баллов", "Ең көп ұпай"),
            ("percent", "Percent of maximum", "Процент от максимума", "Ең көптен пайызы"),
        ):
            columns.append(
                Column(
                    Variable(
                        part,
                        {"kk": kk, "ru": ru, "en": en},
                        "float",
                        "scale",
                        coded_missing=True,
                        derived="sum over the shown choice items (partial credit for multiple "
                        "choice); percent = 100 * points / max_points; at full precision, "
                        "not rounded",
                    ),
                    part=part,
                )
            )
        if pack.pack.levels:
            columns.append(
                Column(
                    Variable(
                        "level",
                        {"kk": "Жалпы деңгей", "ru": "Общий уровень", "en": "Overall level"},
                        "integer",
                        "ordinal",
                        _level_values(pack.pack.levels),
                        coded_missing=True,
                        derived="the band of percent in the test's level table",
                    ),
                    part="overall_level",
                )
            )
    return columns


def _cell(column: Column, value: Any) -> Any:
    if column.ranked is not None:
        order = list(value or ())
        return order.index(column.ranked) + 1 if column.ranked in order else None
    if column.option is not None:
        return 1 if column.option in (value or ()) else 0
    if column.options:
        return column.options.index(value) + 1 if value in column.options else None
    if column.variable.kind == "float":  # numbers: the same float on every database
        return float(value) if isinstance(value, int | float) else None
    if column.variable.kind == "integer":
        return value if isinstance(value, int | float) else None
    return str(value)


def _missing(
    column: Column, pack: Compiled, answers: dict[str, Any], applicable: dict[str, Any], state: str
) -> Any:
    if not column.variable.coded_missing:
        return None
    assert column.item is not None
    own = pack.by_code.get(column.item)
    if own is None:
        return MISSING[NOT_SHOWN]  # not in the version this attempt took
    if not pack.visible(own, applicable):
        # Hidden by its condition; in an unfinished attempt, unless the condition reads a
        # question the participant never got to: then nobody knows, and it was not reached.
        unknown = own.condition is not None and not own.condition.names <= answers.keys()
        return MISSING[NOT_REACHED if state != SUBMITTED and unknown else NOT_SHOWN]
    if column.item in answers:
        return MISSING[SKIPPED]
    return MISSING[NOT_SHOWN if state == SUBMITTED else NOT_REACHED]


def _derived(column: Column, pack: Compiled, result: dict[str, Any] | None, state: str) -> Any:
    if state != SUBMITTED or result is None:
        return MISSING[NOT_REACHED]
    if column.scale is not None:
        scale = (result.get("scales") or {}).get(column.scale)
        if scale is None or scale.get("value") is None:
            return MISSING[NOT_SHOWN]
        if column.part == "level":
            levels = next((s.levels for s in pack.pack.scales if s.code == column.scale), [])
            return _level_index(levels, scale.get("level"))
        return scale["value"]
    if column.part == "overall_level":
        return _level_index(pack.pack.levels, result.get("level"))
    return result.get(column.part)


FIXED = c.attempt_columns(False, c.STATE, c.STARTED, c.SUBMITTED_AT)
IDENTITY_NAMES = [v.name for v in c.IDENTITY]


@dataclass
class _Attempt:
    id: int
    person: list[Any]
    instrument: int
    campaign: int
    wave: str
    state: str
    started_at: Any
    submitted_at: Any
    result: dict[str, Any] | None
    attempts: int = 1


def _chosen_attempts(session: Session, filters: c.Filters, opts: c.Options) -> list[_Attempt]:
    stmt = c.joined(
        *c.person_select(),
        Attempt.id,
        Attempt.instrument_id,
        Campaign.id,
        Campaign.wave,
        Attempt.state,
        Attempt.started_at,
        Attempt.submitted_at,
        Attempt.result,
    )
    stmt = c.attempt_filter(stmt, session, filters).order_by(User.id, Campaign.wave, Attempt.id)
    # An instrument and its declared pre/post partner are one family: a row per participant,
    # family and wave, so two instruments taken in the same wave are two rows, not one.
    family = {
        i: min(code, partner) if partner else code
        for i, code, partner in session.execute(
            select(Instrument.id, Instrument.code, Instrument.pair_with)
        )
    }
    chosen: dict[tuple[int, str, str], _Attempt] = {}
    codes: dict[int, str] = {}
    first_campaign: dict[str, int] = {}  # waves in the order their first campaign was made
    for row in session.execute(stmt):
        uid, tid, first, username, uni, country, lang = row[:7]
        aid, iid, cid, wave, state, started, submitted, result = row[7:]
        key = (uid, family[iid], wave)
        first_campaign[wave] = min(cid, first_campaign.get(wave, cid))
        person = c.person_values(opts, codes, uid, tid, first, username, uni, country, lang)
        found = _Attempt(aid, person, iid, cid, wave, state, started, submitted, result)
        before = chosen.get(key)
        if before is not None:
            found.attempts = before.attempts + 1
            if before.state == SUBMITTED and state != SUBMITTED:
                before.attempts = found.attempts
                continue
        chosen[key] = found
    # Rows grouped by university, then participant, then instrument, then wave (pre first).
    return sorted(
        chosen.values(),
        key=lambda a: (
            str(a.person[-3]),
            a.person[0],
            family[a.instrument],
            first_campaign[a.wave],
        ),
    )


def table(session: Session, filters: c.Filters, opts: c.Options) -> Table:
    """The wide table for `filters` (best for one instrument or one pre/post pair)."""
    attempts = _chosen_attempts(session, filters, opts)
    packs = {
        i.id: compiled(i)
        for i in session.scalars(
            select(Instrument)
            .where(Instrument.id.in_({a.instrument for a in attempts}))
            .order_by(Instrument.id.desc())
        )
    }
    # Newest version first: the latest wording and order win; options only older versions
    # had are kept after the newest ones.
    newest: dict[str, Item] = {}
    older: dict[str, list[Option]] = {}
    for pack in packs.values():
        for item in pack.items:
            if not item.stores_answer:
                continue
            if item.code not in newest:
                newest[item.code] = item
                older[item.code] = []
                continue
            known = {o.code for o in (*newest[item.code].options, *older[item.code])}
            older[item.code] += [o for o in item.options if o.code not in known]
    taken = {v.name for v in FIXED} | {"attempts"} | set(IDENTITY_NAMES)
    derived: list[Column] = []
    for pack in packs.values():
        for column in _score_columns(pack):
            if column.variable.name not in taken:
                taken.add(column.variable.name)
                derived.append(column)
    columns: list[Column] = []
    for code, item in newest.items():
        name = code
        while name in taken:  # an item coded like another column (`country`, `level`, ...)
            name = f"q_{name}"
        taken.add(name)
        columns.extend(_item_columns(item, older[code], name))
    columns += derived
    count = Variable(
        "attempts",
        {
            "kk": "Осы толқындағы әрекеттер саны",
            "ru": "Число попыток в этой волне",
            "en": "Attempts in this wave",
        },
        "integer",
        "scale",
        derived="the row is the latest submitted attempt (or the latest, if none was)",
    )
    fixed = [
        *c.attempt_columns(opts.identified, c.STATE, count),
        c.STARTED,
        c.SUBMITTED_AT,
    ]
    instruments = {
        i.id: (i.code, i.version)
        for i in session.scalars(select(Instrument).where(Instrument.id.in_(packs)))
    }

    def rows() -> Chunks:
        for start in range(0, len(attempts), ATTEMPTS_PER_QUERY):
            batch = attempts[start : start + ATTEMPTS_PER_QUERY]
            answers: dict[int, dict[str, Any]] = {a.id: {} for a in batch}
            for attempt_id, item_code, value in session.execute(
                select(Answer.attempt_id, Answer.item_code, Answer.value).where(
                    Answer.attempt_id.in_(answers)
                )
            ):
                answers[attempt_id][item_code] = tuple(value) if isinstance(value, list) else value
            yield [_row(a, answers[a.id]) for a in batch]

    def _row(attempt: _Attempt, given: dict[str, Any]) -> list[Any]:
        pack = packs[attempt.instrument]
        applicable = pack.applicable(given)
        code, version = instruments[attempt.instrument]
        row: list[Any] = [
            *attempt.person,
            code,
            version,
            attempt.campaign,
            attempt.wave,
            attempt.id,
            attempt.state,
            attempt.attempts,
            c.utc_text(attempt.started_at),
            c.utc_text(attempt.submitted_at),
        ]
        for column in columns:
            if column.item is None:
                row.append(_derived(column, pack, attempt.result, attempt.state))
                continue
            value = applicable.get(column.item)
            if value is None:
                row.append(_missing(column, pack, given, applicable, attempt.state))
            else:
                row.append(_cell(column, value))
        return row

    return Table(
        "wide",
        {
            "kk": "Жауаптар (кең: қатысушы мен толқын бойынша бір жол)",
            "ru": "Ответы (широкий формат: строка на участника и волну)",
            "en": "Answers (wide: one row per participant and wave)",
        },
        [*fixed, *(col.variable for col in columns)],
        rows,
        notes=[f"{len(attempts)} rows"],
    )
