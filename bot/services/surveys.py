"""Taking surveys and tests: campaigns, attempts, answers, the time limit and scoring.

Every answer is committed before the next question is shown, and the next question is always
derived from the stored answers (plus the attempt's cursor after Back), so an interrupted
attempt resumes exactly where it stopped. Every operation names the attempt and the item it
answers; both are checked against the user and the current screen, so a forged, stale or
doubled button changes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, or_, select
from sqlalchemy import insert as sql_insert
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.engine import (
    AnswerError,
    Compiled,
    Item,
    choice_value,
    compile_pack,
    likert_value,
    parse_typed,
    rank_next,
)
from bot.content.schema import Pack
from bot.content.scoring import ScoreResult, item_value, score
from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound, ServiceError
from bot.services.audiences import RESOLVERS
from bot.text import clean_line
from models import Answer, Attempt, Campaign, Instrument, User, utcnow

IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
EXPIRED = "expired"
CLOSED = "closed"
# Items answered through a draft kept on the attempt: ticks, or the places ranked so far.
DRAFTED = ("multiple", "ranking")

# Compiled packs by content checksum: a version never changes, and keying by content (not
# by row id) keeps the cache right across databases (tests) and replicas.
_compiled: dict[str, Compiled] = {}


class AttemptClosed(ServiceError):
    """The attempt can take no more answers: time is up, or the campaign closed."""


def compiled(instrument: Instrument) -> Compiled:
    """The compiled pack of an instrument version (versions never change, so it is cached)."""
    found = _compiled.get(instrument.checksum)
    if found is None:
        found = compile_pack(Pack.model_validate(instrument.definition))
        _compiled[instrument.checksum] = found
    return found


@dataclass(frozen=True)
class CampaignView:
    """An open campaign as a participant sees it."""

    id: int
    code: str
    title: dict[str, str]
    wave: str
    kind: str
    closes_at: datetime | None
    status: str  # "new", "in_progress", "submitted"
    attempts_used: int
    attempts_allowed: int | None


@dataclass(frozen=True)
class Screen:
    """What to show next in an attempt."""

    attempt_id: int
    kind: str  # "item", "review" (surveys, before submitting) or "done"
    compiled: Compiled
    language: str
    seed: str
    item: Item | None = None
    # The item's position in `compiled.items` (for short button codes); the review is one
    # past the last item, so a button names the step it was shown under, review included.
    index: int = -1
    position: int = 0
    total: int = 0
    current: Any = None  # the stored answer to this item, if any
    # Ticked options of a multiple-choice item; options ranked so far, in order, of a ranking.
    draft: tuple[str, ...] = ()
    can_go_back: bool = False
    answers: dict[str, Any] | None = None
    result: ScoreResult | None = None
    deadline_at: datetime | None = None

    @property
    def protect_content(self) -> bool:
        """Tests are protected from forwarding and saving, unless the pack says otherwise."""
        setting = self.compiled.pack.settings.protect_content
        return setting if setting is not None else self.compiled.pack.kind == "test"


def _is_open(campaign: Campaign, now: datetime) -> bool:
    return (
        campaign.published_at is not None
        and campaign.closed_at is None
        and campaign.opens_at <= now
        and (campaign.closes_at is None or campaign.closes_at > now)
    )


async def _in_audience(session: AsyncSession, campaign: Campaign, user: User) -> bool:
    resolver = RESOLVERS.get(campaign.audience_kind)
    if resolver is None:
        return False
    stmt = resolver(select(User.id).where(User.id == user.id), campaign.audience_ref)
    return await session.scalar(stmt) is not None


def clean_wave(text: str) -> str:
    """A wave label as stored: one line of 1 to 32 visible characters, or `InvalidInput`."""
    wave = clean_line(text)
    if not 1 <= len(wave) <= 32:
        raise InvalidInput("surveys.bad_wave")
    return wave


async def latest_instrument(session: AsyncSession, code: str) -> Instrument:
    """The newest version of an instrument, or NotFound."""
    instrument = await session.scalar(
        select(Instrument)
        .where(Instrument.code == code)
        .order_by(Instrument.version.desc())
        .limit(1)
    )
    if instrument is None:
        raise NotFound("surveys.no_instrument")
    return instrument


async def _user(session: AsyncSession, telegram_id: int) -> User:
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise NotFound("errors.user_not_found")
    return user


async def open_campaigns(db: Sessionmaker, telegram_id: int) -> list[CampaignView]:
    """Campaigns open now whose audience includes the user, with where the user stands."""
    now = utcnow()
    async with db() as session:
        user = await _user(session, telegram_id)
        campaigns = (
            await session.scalars(
                select(Campaign)
                .where(
                    Campaign.published_at.is_not(None),
                    Campaign.closed_at.is_(None),
                    Campaign.opens_at <= now,
                    or_(Campaign.closes_at.is_(None), Campaign.closes_at > now),
                )
                .order_by(Campaign.id)
            )
        ).all()
        views = []
        for campaign in campaigns:
            if not await _in_audience(session, campaign, user):
                continue
            instrument = await session.get(Instrument, campaign.instrument_id)
            assert instrument is not None
            attempts = (
                await session.scalars(
                    select(Attempt.state).where(
                        Attempt.campaign_id == campaign.id, Attempt.user_id == user.id
                    )
                )
            ).all()
            status = (
                "in_progress"
                if IN_PROGRESS in attempts
                else "submitted"
                if SUBMITTED in attempts
                else "new"
            )
            views.append(
                CampaignView(
                    id=campaign.id,
                    code=campaign.instrument_code,
                    title=dict(instrument.title),
                    wave=campaign.wave,
                    kind=instrument.kind,
                    closes_at=campaign.closes_at,
                    status=status,
                    attempts_used=len(attempts),
                    attempts_allowed=compiled(instrument).pack.settings.attempts,
                )
            )
        return views


async def unfinished(db: Sessionmaker, telegram_id: int) -> list[int]:
    """Ids of the user's attempts still in progress in open campaigns."""
    now = utcnow()
    async with db() as session:
        user = await _user(session, telegram_id)
        rows = (
            await session.execute(
                select(Attempt, Campaign)
                .join(Campaign, Campaign.id == Attempt.campaign_id)
                .where(Attempt.user_id == user.id, Attempt.state == IN_PROGRESS)
            )
        ).all()
        return [
            a.id
            for a, c in rows
            if _is_open(c, now) and (a.deadline_at is None or a.deadline_at > now)
        ]


async def start(db: Sessionmaker, telegram_id: int, campaign_id: int, language: str) -> Screen:
    """Begin (or resume) the user's attempt at a campaign; returns its first screen.

    Raises:
        InvalidInput: no research consent, or no attempts left.
        NotFound / AttemptClosed: unknown, closed or not-for-this-user campaign.
    """
    now = utcnow()
    async with db.begin() as session:
        user = await _user(session, telegram_id)
        if user.consent is not True:
            raise InvalidInput("surveys.consent_needed")
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None or not await _in_audience(session, campaign, user):
            raise NotFound("surveys.no_campaign")
        if not _is_open(campaign, now):
            raise AttemptClosed("surveys.campaign_closed")
        current = await session.scalar(
            select(Attempt).where(
                Attempt.campaign_id == campaign_id,
                Attempt.user_id == user.id,
                Attempt.state == IN_PROGRESS,
            )
        )
        if current is None:
            instrument = await session.get(Instrument, campaign.instrument_id)
            assert instrument is not None
            settings = compiled(instrument).pack.settings
            used = (
                await session.scalar(
                    select(func.count(Attempt.id)).where(
                        Attempt.campaign_id == campaign_id, Attempt.user_id == user.id
                    )
                )
                or 0
            )
            if settings.attempts is not None and used >= settings.attempts:
                raise InvalidInput("surveys.no_attempts_left", limit=settings.attempts)
            deadline = (
                now + timedelta(minutes=settings.time_limit_minutes)
                if settings.time_limit_minutes
                else None
            )
            current = Attempt(
                campaign_id=campaign_id,
                user_id=user.id,
                instrument_id=instrument.id,
                number=used + 1,
                language=language,
                seed=secrets.token_hex(4),
                started_at=now,
                deadline_at=deadline,
                passed=[],
            )
            session.add(current)
            await session.flush()
        return await _screen(session, current)


# The statements of every step, built once (building one costs as much as running it).
_LOAD_ATTEMPT = (
    select(Attempt, Campaign, Instrument.checksum)
    .join(Campaign, Campaign.id == Attempt.campaign_id)
    .join(Instrument, Instrument.id == Attempt.instrument_id)
    .join(User, User.id == Attempt.user_id)
    .where(Attempt.id == bindparam("attempt"), User.telegram_id == bindparam("telegram_id"))
)
_ANSWERS = select(Answer.item_code, Answer.value).where(Answer.attempt_id == bindparam("attempt"))


async def _load(
    session: AsyncSession, telegram_id: int, attempt_id: int
) -> tuple[Attempt, str | None, Compiled, dict[str, Any]]:
    """The user's own attempt, why it can take no answers (None: it can), its pack, answers.

    One statement reads the attempt, its campaign and its version's checksum, checking the
    user by their Telegram id in the same join; a second reads the answers. (One join with a
    row per answer repeated the attempt's and the campaign's columns on every row, each
    converted again: at 30 answers that cost more than the second statement.) The pack's
    (large) definition is read only when it is not compiled already. A closed campaign or a
    passed time limit is written to the attempt here, in the caller's transaction, which
    commits it before `AttemptClosed` is raised (see `_in_attempt`).
    """
    row = (
        await session.execute(_LOAD_ATTEMPT, {"attempt": attempt_id, "telegram_id": telegram_id})
    ).first()
    if row is None:
        raise NotFound("errors.stale_button")
    attempt, campaign, checksum = row
    answers = await _answers(session, attempt)
    pack = _compiled.get(checksum)
    if pack is None:
        instrument = await session.get(Instrument, attempt.instrument_id)
        assert instrument is not None
        pack = compiled(instrument)
    now = utcnow()
    if attempt.state == IN_PROGRESS and not _is_open(campaign, now):
        attempt.state = CLOSED
    if attempt.state == IN_PROGRESS and attempt.deadline_at and attempt.deadline_at <= now:
        attempt.state = EXPIRED
    reasons = {
        CLOSED: "surveys.campaign_closed",
        EXPIRED: "surveys.time_up",
        SUBMITTED: "surveys.already_submitted",
    }
    return attempt, reasons.get(attempt.state), pack, answers


# One step of an attempt, run inside its transaction (see `_in_attempt`): it gets the screen
# the attempt is at, read once (the pack, the answers), and returns the screen it leads to.
AttemptStep = Callable[[AsyncSession, Attempt, "Screen"], Awaitable["Screen"]]


async def _in_attempt(
    db: Sessionmaker, telegram_id: int, attempt_id: int, step: AttemptStep
) -> Screen:
    """Run one step of an attempt in one transaction; refuse it if the attempt is over.

    One statement reads everything a step needs (see `_load`); the step's writes and the
    commit follow.
    """
    async with db.begin() as session:
        attempt, closed, pack, answers = await _load(session, telegram_id, attempt_id)
        if closed is None:
            screen = await _screen(session, attempt, pack=pack, answers=answers)
            return await step(session, attempt, screen)
    raise AttemptClosed(closed)  # after the commit, so the closed state is stored


async def _answers(session: AsyncSession, attempt: Attempt) -> dict[str, Any]:
    rows = await session.execute(_ANSWERS, {"attempt": attempt.id})
    return {code: tuple(v) if isinstance(v, list) else v for code, v in rows.all()}


async def _compiled_by_id(session: AsyncSession, instrument_id: int) -> Compiled:
    """The compiled pack of a version, reading its (large) definition only on a cache miss."""
    checksum = await session.scalar(
        select(Instrument.checksum).where(Instrument.id == instrument_id)
    )
    found = _compiled.get(checksum or "")
    if found is None:
        instrument = await session.get(Instrument, instrument_id)
        assert instrument is not None
        found = compiled(instrument)
    return found


async def _screen(
    session: AsyncSession,
    attempt: Attempt,
    *,
    pack: Compiled | None = None,
    answers: dict[str, Any] | None = None,
) -> Screen:
    """What the attempt shows now; `pack` and `answers` spare the queries when known."""
    if pack is None:
        pack = await _compiled_by_id(session, attempt.instrument_id)
    if answers is None:
        answers = await _answers(session, attempt)
    passed = set(attempt.passed or [])
    common: dict[str, Any] = {
        "attempt_id": attempt.id,
        "compiled": pack,
        "language": attempt.language,
        "seed": attempt.seed,
        "deadline_at": attempt.deadline_at,
        "answers": answers,
    }
    item = pack.by_code.get(attempt.cursor) if attempt.cursor else None
    if item is None:
        item = pack.next_item(answers, passed)
    if item is None:
        back = pack.previous_item(None, answers, passed) is not None
        return Screen(kind="review", index=len(pack.items), can_go_back=back, **common)
    position, total = pack.progress(item.code, answers)
    return Screen(
        kind="item",
        item=item,
        index=pack.items.index(item),
        position=position,
        total=total,
        current=answers.get(item.code),
        draft=tuple(attempt.draft or ()) if item.kind in DRAFTED else (),
        can_go_back=pack.previous_item(item.code, answers, passed) is not None,
        **common,
    )


def _current(screen: Screen, index: int) -> Item:
    """The item a button was for, which must be the one on screen now."""
    if screen.kind != "item" or screen.item is None or screen.index != index:
        raise InvalidInput("errors.stale_button")
    return screen.item


async def current_screen(db: Sessionmaker, telegram_id: int, attempt_id: int) -> Screen:
    """The screen the attempt is at (after a restart, a /cancel or an interruption)."""

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        return screen

    return await _in_attempt(db, telegram_id, attempt_id, step)


# Built once: a new answer is one row, inserted by a statement (the unit of work's bookkeeping
# for `session.add` cost more than the statement itself, on every answer).
_INSERT_ANSWER = sql_insert(cast(Table, Answer.__table__))  # the table's: no ORM machinery


async def _store(session: AsyncSession, attempt: Attempt, screen: Screen, value: Any) -> Screen:
    """Insert or replace the answer to the item on `screen`; return the screen that follows.

    One statement: an INSERT for a first answer, an UPDATE for a changed one (the screen's
    answers say which), no read first.
    """
    item = screen.item
    assert item is not None
    stored = list(value) if isinstance(value, tuple) else value
    numeric = item_value(item, value, screen.compiled.pack.kind == "test")
    answers = screen.answers or {}
    now = utcnow()
    if item.code in answers:
        await session.execute(
            sql_update(Answer)
            .where(Answer.attempt_id == attempt.id, Answer.item_code == item.code)
            .values(value=stored, numeric=numeric, answered_at=now)
        )
    else:
        await session.execute(
            _INSERT_ANSWER,
            {
                "attempt_id": attempt.id,
                "item_code": item.code,
                "value": stored,
                "numeric": numeric,
                "answered_at": now,
            },
        )
    # Set only when it changes: an attribute set, even to its own value, costs the unit of
    # work a pass over the attempt at the flush.
    if attempt.cursor is not None:
        attempt.cursor = None
    if attempt.draft is not None:
        attempt.draft = None
    await session.flush()
    return await _screen(
        session, attempt, pack=screen.compiled, answers={**answers, item.code: value}
    )


async def _again(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
    """The screen after a step that changed the attempt's row only (its answers are known)."""
    await session.flush()
    return await _screen(session, attempt, pack=screen.compiled, answers=screen.answers)


async def answer(
    db: Sessionmaker, telegram_id: int, attempt_id: int, index: int, value: Any
) -> Screen:
    """Store the answer to the item on screen (`index`) and return the next screen.

    `value` must already be validated for the item (see `bot.content.engine`); a text or
    date is parsed again, so control characters never reach the database.

    Raises:
        AnswerError: a text or date answer that does not fit the item.
    """

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        item = _current(screen, index)
        stored = value
        if item.kind in ("text", "date") and isinstance(stored, str):
            # Cleaned here too, whoever parsed it, so what is stored is the same on SQLite and
            # PostgreSQL (parsing again is a no-op on a parsed text or an ISO date).
            stored = parse_typed(item, stored)
        return await _store(session, attempt, screen, stored)

    return await _in_attempt(db, telegram_id, attempt_id, step)


@dataclass(frozen=True)
class TypedAnswer:
    """What became of text typed to an attempt (see `answer_typed`)."""

    screen: Screen  # the screen the text came to
    following: Screen  # the next screen (`screen` again when the text was not taken)
    taken: bool  # False: the step never reached the user, so nothing was stored


async def answer_typed(
    db: Sessionmaker,
    telegram_id: int,
    attempt_id: int,
    text: str,
    shown: Callable[[Screen], bool],
) -> TypedAnswer:
    """Take typed text as the answer to the item on screen, read and stored in one transaction.

    `shown(screen)` says whether the user was shown that step (the handler knows what
    reached them); if not, nothing is stored and the screen is returned to be shown again.

    Raises:
        AnswerError: the text does not fit the item, or the step is answered with buttons.
    """
    seen: list[tuple[Screen, bool]] = []

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        taken = shown(screen)
        seen.append((screen, taken))
        if not taken:
            return screen
        if screen.kind != "item" or screen.item is None:
            raise AnswerError("surveys.use_buttons")
        return await _store(session, attempt, screen, parse_typed(screen.item, text))

    following = await _in_attempt(db, telegram_id, attempt_id, step)
    screen, taken = seen[0]
    return TypedAnswer(screen, following, taken)


async def choose(
    db: Sessionmaker, telegram_id: int, attempt_id: int, index: int, option: int
) -> Screen:
    """Answer the single-choice item on screen (`index`) with its `option` (a pack position).

    Returns the next screen.
    """

    def value(item: Item) -> Any:
        if not 0 <= option < len(item.options):
            raise AnswerError("errors.stale_button")
        return choice_value(item, item.options[option].code)

    return await _press(db, telegram_id, attempt_id, index, value)


async def rate(
    db: Sessionmaker, telegram_id: int, attempt_id: int, index: int, point: int
) -> Screen:
    """Answer the Likert item on screen (`index`) with a `point` of its scale; the next screen."""
    return await _press(db, telegram_id, attempt_id, index, lambda item: likert_value(item, point))


async def _press(
    db: Sessionmaker,
    telegram_id: int,
    attempt_id: int,
    index: int,
    value_of: Callable[[Item], Any],
) -> Screen:
    """Store `value_of(item)` for the item on screen: the answer a button stands for.

    The button is checked against the item on screen inside the same transaction that stores
    the answer.
    """

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        item = _current(screen, index)
        try:
            value = value_of(item)
        except AnswerError as exc:
            raise InvalidInput(exc.key, **exc.values) from None
        return await _store(session, attempt, screen, value)

    return await _in_attempt(db, telegram_id, attempt_id, step)


async def skip(db: Sessionmaker, telegram_id: int, attempt_id: int, index: int) -> Screen:
    """Skip the optional item on screen; returns the next screen."""

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        item = _current(screen, index)
        if item.required:
            raise InvalidInput("surveys.required")
        return await _store(session, attempt, screen, None)

    return await _in_attempt(db, telegram_id, attempt_id, step)


async def pass_info(db: Sessionmaker, telegram_id: int, attempt_id: int, index: int) -> Screen:
    """Move on from the information screen on screen."""

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        item = _current(screen, index)
        if item.kind != "info":
            raise InvalidInput("errors.stale_button")
        attempt.passed = [*(attempt.passed or []), item.code]
        attempt.cursor = None
        return await _again(session, attempt, screen)

    return await _in_attempt(db, telegram_id, attempt_id, step)


async def tick(
    db: Sessionmaker, telegram_id: int, attempt_id: int, index: int, option: int, on: bool
) -> Screen:
    """Tick (`on`) or untick one option of the multiple-choice item on screen.

    The button says which state it sets, and the selection is read and written in one
    transaction: a double tap or two replicas handling two taps leave the intended state.
    """

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        item = _current(screen, index)
        if item.kind != "multiple" or not 0 <= option < len(item.options):
            raise InvalidInput("errors.stale_button")
        chosen = set(attempt.draft or ())
        code = item.options[option].code
        chosen = chosen | {code} if on else chosen - {code}
        attempt.draft = [o.code for o in item.options if o.code in chosen]
        return await _again(session, attempt, screen)

    return await _in_attempt(db, telegram_id, attempt_id, step)


async def rank(
    db: Sessionmaker, telegram_id: int, attempt_id: int, index: int, option: int
) -> Screen:
    """Give the next place of the ranking on screen to one option (`engine.rank_next`).

    Read and written in one transaction, like a tick: a double tap ranks nothing twice.
    """

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        item = _current(screen, index)
        if item.kind != "ranking" or not 0 <= option < len(item.options):
            raise InvalidInput("errors.stale_button")
        ranked = rank_next(item, tuple(attempt.draft or ()), item.options[option].code)
        attempt.draft = list(ranked)
        return await _again(session, attempt, screen)

    return await _in_attempt(db, telegram_id, attempt_id, step)


async def unrank(
    db: Sessionmaker, telegram_id: int, attempt_id: int, index: int, places: int
) -> Screen:
    """Undo: the ranking on screen keeps its first `places` places.

    The button says how many, so a double tap undoes one place, not two.
    """

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        item = _current(screen, index)
        ranked = list(attempt.draft or ())
        if item.kind != "ranking" or not 0 <= places < max(len(ranked), 1):
            raise InvalidInput("errors.stale_button")
        attempt.draft = ranked[:places]
        return await _again(session, attempt, screen)

    return await _in_attempt(db, telegram_id, attempt_id, step)


async def confirm_selection(
    db: Sessionmaker, telegram_id: int, attempt_id: int, index: int
) -> Screen:
    """Store the ticked options of the multiple-choice item on screen as its answer.

    Returns the next screen.
    """

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        item = _current(screen, index)
        if item.kind not in DRAFTED:
            raise InvalidInput("errors.stale_button")
        selection = tuple(attempt.draft or ())
        if item.kind == "ranking":
            if len(selection) != len(item.options):
                raise InvalidInput("surveys.rank_all")
        elif item.required and not selection:
            raise InvalidInput("surveys.tick_something")
        return await _store(session, attempt, screen, selection)

    return await _in_attempt(db, telegram_id, attempt_id, step)


async def back(
    db: Sessionmaker, telegram_id: int, attempt_id: int, index: int | None = None
) -> Screen:
    """Show the item before the one on screen again, to change its answer.

    `index` names the step the Back button was under (an item, or the review): a Back left
    under an earlier question is refused like any stale button, rather than stepping back
    from wherever the attempt is now.
    """

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        if index is not None and index != screen.index:
            raise InvalidInput("errors.stale_button")
        answers = screen.answers or {}
        current = screen.item.code if screen.item else None
        previous = screen.compiled.previous_item(current, answers, set(attempt.passed or []))
        if previous is None:
            raise InvalidInput("surveys.nothing_before")
        if previous.kind == "info":
            attempt.passed = [c for c in attempt.passed or [] if c != previous.code]
        attempt.cursor = previous.code
        attempt.draft = (
            list(answers.get(previous.code) or ()) if previous.kind in DRAFTED else None
        )
        return await _again(session, attempt, screen)

    return await _in_attempt(db, telegram_id, attempt_id, step)


def stored_result(result: ScoreResult) -> dict[str, Any]:
    """A scored attempt's result as stored in `attempt.result` (and read by the exports)."""
    return {
        "scales": {
            code: {"value": s.value, "items": s.items, "level": s.level}
            for code, s in result.scales.items()
        },
        "points": result.points,
        "max_points": result.max_points,
        "percent": result.percent,
        "level": result.level,
    }


async def submit(db: Sessionmaker, telegram_id: int, attempt_id: int) -> Screen:
    """Finish the attempt: score it and store the result; only from the review screen."""

    async def step(session: AsyncSession, attempt: Attempt, screen: Screen) -> Screen:
        if screen.kind != "review":
            raise InvalidInput("surveys.not_finished")
        result = score(screen.compiled, screen.answers or {})
        attempt.state = SUBMITTED
        attempt.submitted_at = utcnow()
        attempt.result = stored_result(result)
        return Screen(
            attempt_id=attempt.id,
            kind="done",
            compiled=screen.compiled,
            language=attempt.language,
            seed=attempt.seed,
            answers=screen.answers,
            result=result,
        )

    return await _in_attempt(db, telegram_id, attempt_id, step)


async def expire_due(db: Sessionmaker) -> int:
    """Mark attempts whose time limit passed as expired (their answers stay); returns how many."""
    async with db.begin() as session:
        rows = (
            await session.scalars(
                select(Attempt).where(
                    Attempt.state == IN_PROGRESS,
                    Attempt.deadline_at.is_not(None),
                    Attempt.deadline_at <= utcnow(),
                )
            )
        ).all()
        for attempt in rows:
            attempt.state = EXPIRED
        return len(rows)


@dataclass(frozen=True)
class ResultView:
    """One finished attempt as its participant sees it, with the change since the pre wave."""

    attempt_id: int
    instrument_code: str
    title: dict[str, str]
    wave: str
    submitted_at: datetime
    compiled: Compiled
    result: dict[str, Any]
    previous: dict[str, float] | None  # scale -> value in the linked pre-wave attempt
    previous_wave: str | None
    visible: bool = True  # False: results come when the campaign closes, or never


async def _previous(
    session: AsyncSession, attempt: Attempt, instrument: Instrument, campaign: Campaign
) -> tuple[dict[str, float] | None, str | None]:
    """The user's linked pre-wave scores, linked by the participant with no code to remember.

    The pre wave is the declared pair's pre instrument, else the same instrument's "pre" wave.
    """
    if instrument.pair_role == "post" and instrument.pair_with:
        condition = Instrument.code == instrument.pair_with
    elif campaign.wave == "post":
        condition = (Instrument.code == instrument.code) & (Campaign.wave == "pre")
    else:
        return None, None
    row = (
        await session.execute(
            select(Attempt.result, Campaign.wave)
            .join(Instrument, Instrument.id == Attempt.instrument_id)
            .join(Campaign, Campaign.id == Attempt.campaign_id)
            .where(Attempt.user_id == attempt.user_id, Attempt.state == SUBMITTED, condition)
            .order_by(Attempt.submitted_at.desc())
            .limit(1)
        )
    ).first()
    if row is None or not row[0]:
        return None, None
    scales = row[0].get("scales", {})
    values = {code: s["value"] for code, s in scales.items() if s.get("value") is not None}
    return values or None, row[1]


def _results_visible(pack: Compiled, campaign: Campaign) -> bool:
    """Whether the instrument lets its participants see their scores now."""
    when = pack.pack.settings.show_results
    return when == "immediately" or (when == "on_close" and campaign.closed_at is not None)


async def my_results(
    db: Sessionmaker, telegram_id: int, attempt_id: int | None = None
) -> list[ResultView]:
    """The user's finished attempts, newest first (or just `attempt_id`)."""
    async with db() as session:
        user = await _user(session, telegram_id)
        stmt = (
            select(Attempt, Instrument, Campaign)
            .join(Instrument, Instrument.id == Attempt.instrument_id)
            .join(Campaign, Campaign.id == Attempt.campaign_id)
            .where(Attempt.user_id == user.id, Attempt.state == SUBMITTED)
            .order_by(Attempt.submitted_at.desc())
        )
        if attempt_id is not None:
            stmt = stmt.where(Attempt.id == attempt_id)
        views = []
        for attempt, instrument, campaign in (await session.execute(stmt)).all():
            previous, previous_wave = await _previous(session, attempt, instrument, campaign)
            assert attempt.submitted_at is not None
            views.append(
                ResultView(
                    attempt_id=attempt.id,
                    instrument_code=instrument.code,
                    title=dict(instrument.title),
                    wave=campaign.wave,
                    submitted_at=attempt.submitted_at,
                    compiled=compiled(instrument),
                    result=attempt.result or {},
                    previous=previous,
                    previous_wave=previous_wave,
                    visible=_results_visible(compiled(instrument), campaign),
                )
            )
        return views
