"""Test data built through the real services: people, universities, campaigns and attempts.

A test's world is one the bot itself could have made. A student is onboarded step by step
through bot/services/users.py (first contact, language, consent, university, group); staff get
their role from an invite link an admin created and they used (bot/services/invites.py); a
campaign is composed as a draft and published as /publish does (bot/services/campaigns.py),
and closed as /campaigns' Close button does, its closing step queueing the notices the real
close sends; an attempt is started, answered and submitted through bot/services/surveys.py.
So whatever a service checks or fills in on the way holds for every test's data too, and no
test builds a state production cannot reach.

Every helper takes the session factory (`db`; in a flow test `harness.app.bot_data.db`) and
the `admin_ids` in force, and returns what the service returned. Tests that need thousands of
rows in one go (tests/study.py, the export benchmark) insert them directly, and say so.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config import LANGUAGES
from bot.content.engine import Item
from bot.db import Sessionmaker
from bot.i18n import I18n
from bot.services import NotFound, campaigns, invites, surveys, users
from bot.services.roles import Role
from bot.services.surveys import Screen
from bot.services.universities import UniversityView, add_university, list_universities
from bot.services.users import Profile
from models import Attempt, Delivery, User

NOBODY: frozenset[int] = frozenset()
# What tests/conftest.py's settings say: the language of a recipient without one, and the
# time zone closing times are written in.
DEFAULT_LANGUAGE = "kk"
ZONE = ZoneInfo("Asia/Almaty")


class _Skip:
    """The answer that skips an optional question (see `attempt`)."""

    def __repr__(self) -> str:
        return "SKIP"


SKIP = _Skip()


# --- people ------------------------------------------------------------------------------


async def person(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int] = NOBODY,
    *,
    first_name: str | None = None,
    username: str | None = None,
    telegram_language: str | None = None,
) -> Profile:
    """Someone who has just written to the bot for the first time: known, not onboarded."""
    return await users.seen(
        db,
        telegram_id,
        first_name=f"U{telegram_id}" if first_name is None else first_name,
        username=username,
        telegram_language=telegram_language,
        admin_ids=admin_ids,
    )


async def _university_id(db: Sessionmaker, university: int | UniversityView) -> int:
    """An index into the list a student picks from (KZ first), or a university itself."""
    if isinstance(university, UniversityView):
        return university.id
    return (await list_universities(db))[university].id


async def _onboard(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    *,
    university: int | UniversityView,
    language: str,
    consent: bool,
    group: str,
) -> Profile:
    """The onboarding steps, in the order the chat asks them."""
    await users.set_language(db, telegram_id, language, admin_ids)
    await users.set_consent(db, telegram_id, consent, admin_ids)
    await users.set_university(db, telegram_id, await _university_id(db, university), admin_ids)
    return await users.set_group(db, telegram_id, group, admin_ids)


async def student(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int] = NOBODY,
    *,
    university: int | UniversityView = 0,
    language: str = "en",
    consent: bool = True,
    group: str = "G",
    first_name: str | None = None,
    username: str | None = None,
    telegram_language: str | None = None,
) -> Profile:
    """An onboarded student of `university` (an index into the list, KZ first, or a view)."""
    await person(
        db,
        telegram_id,
        admin_ids,
        first_name=first_name,
        username=username,
        telegram_language=telegram_language,
    )
    return await _onboard(
        db,
        telegram_id,
        admin_ids,
        university=university,
        language=language,
        consent=consent,
        group=group,
    )


async def admin(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    *,
    onboarded: bool = True,
    first_name: str | None = "Admin",
    **onboarding: Any,
) -> Profile:
    """An admin (admins are the ADMIN_IDS, `admin_ids`): onboarded unless not `onboarded`.

    An admin who is not onboarded is in no audience (broadcasts and campaigns reach onboarded
    people only).
    """
    if telegram_id not in admin_ids:
        raise ValueError(f"{telegram_id} is not in admin_ids {sorted(admin_ids)}")
    if onboarded:
        return await student(db, telegram_id, admin_ids, first_name=first_name, **onboarding)
    return await person(db, telegram_id, admin_ids, first_name=first_name, **onboarding)


async def _known(db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int]) -> Profile:
    """The person, who writes to the bot first if they never have."""
    try:
        return await users.get_profile(db, telegram_id, admin_ids)
    except NotFound:
        return await person(db, telegram_id, admin_ids)


async def staff(
    db: Sessionmaker,
    telegram_id: int,
    role: Role,
    admin_ids: frozenset[int],
    *,
    university: int | UniversityView | None = None,
    invited_by: int | None = None,
    onboarded: bool = True,
    language: str = "en",
    group: str = "Staff",
    first_name: str | None = None,
) -> Profile:
    """Someone given `role` by an invite link they opened before onboarding.

    The link is made by `invited_by` (by default the first of `admin_ids`, who is registered
    if new) for `university` (None: consortium-wide, an unscoped organizer), for one use.
    """
    inviter = invited_by if invited_by is not None else min(admin_ids)
    await _known(db, inviter, admin_ids)
    university_id = None if university is None else await _university_id(db, university)
    invite = await invites.create_invite(db, inviter, admin_ids, role, university_id, 1)
    await person(db, telegram_id, admin_ids, first_name=first_name)
    await invites.redeem(db, telegram_id, invite.payload)
    if onboarded:
        await _onboard(
            db,
            telegram_id,
            admin_ids,
            university=0 if university is None else university,
            language=language,
            consent=True,
            group=group,
        )
    return await users.get_profile(db, telegram_id, admin_ids)


async def organizer(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int], **options: Any
) -> Profile:
    """An organizer (see `staff`; with a `university`, scoped to it)."""
    return await staff(db, telegram_id, Role.ORGANIZER, admin_ids, **options)


async def coach(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int], **options: Any
) -> Profile:
    """A coach (see `staff`)."""
    return await staff(db, telegram_id, Role.COACH, admin_ids, **options)


async def juror(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int], **options: Any
) -> Profile:
    """A juror (see `staff`)."""
    return await staff(db, telegram_id, Role.JUROR, admin_ids, **options)


# --- universities ------------------------------------------------------------------------


async def university(
    db: Sessionmaker,
    description: str,
    admin_ids: frozenset[int],
    *,
    by: int | None = None,
) -> UniversityView:
    """A university an admin adds, described as in chat: `KZ | English | Russian | Kazakh`."""
    actor = by if by is not None else min(admin_ids)
    await _known(db, actor, admin_ids)
    return await add_university(db, actor, admin_ids, description)


# --- campaigns ---------------------------------------------------------------------------


async def campaign(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    instrument_code: str,
    wave: str = "pre",
    *,
    audience_kind: str = "all",
    audience_ref: str | None = None,
    closes_at: datetime | None = None,
    remind_hours: int | None = None,
) -> int:
    """A campaign of the instrument's latest version, composed and published as /publish does.

    It opens at once; its invitations are its first timed step (`campaigns.due_steps`, run by
    the campaign-steps duty: in a flow test, `harness.run_jobs()`). The audience must hold
    someone onboarded already, as for an organizer. Returns the campaign's id.
    """
    draft = await campaigns.new_draft(db, actor_id, admin_ids, instrument_code)
    changes: dict[str, Any] = {"wave": wave}
    if (audience_kind, audience_ref) != ("all", None):
        changes["audience"] = (audience_kind, audience_ref)
    if closes_at is not None:
        changes["closes_at"] = closes_at
    if remind_hours is not None:
        changes["remind_hours"] = remind_hours
    await campaigns.update_draft(db, actor_id, admin_ids, draft.id, **changes)
    return (await campaigns.publish(db, actor_id, admin_ids, draft.id)).id


@functools.cache
def _translators() -> dict[str, Any]:
    i18n = I18n(DEFAULT_LANGUAGE)
    return {language: i18n.translator(language) for language in LANGUAGES}


async def close_campaign(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], campaign_id: int
) -> list[int]:
    """Close a campaign now, as /campaigns' Close button does, and run its closing step.

    The step closes the attempts in progress (their answers kept) and queues the notices in
    the outbox: that the campaign closed, to those mid-way, and that results are ready, when
    the pack shows them on closing. Nothing is sent here: in a flow test, `harness.run_jobs()`
    sends them. Any other campaign step that is due is queued too, as the duty would.

    Returns:
        The Telegram ids the closing notice is queued for: those who were mid-way.
    """
    async with db() as session:
        mid_way = set(
            (
                await session.scalars(
                    select(User.telegram_id)
                    .join(Attempt, Attempt.user_id == User.id)
                    .where(
                        Attempt.campaign_id == campaign_id,
                        Attempt.state == surveys.IN_PROGRESS,
                    )
                )
            ).all()
        )
    await campaigns.close(db, actor_id, admin_ids, campaign_id)
    steps = await campaigns.due_steps(db, _translators(), DEFAULT_LANGUAGE, ZONE)
    (closing,) = [s for s in steps if s.campaign_id == campaign_id and s.kind == "close"]
    if not mid_way:
        return []
    # The notice to those mid-way comes first; "results are ready" (if any) follows it.
    async with db() as session:
        told = list(
            (
                await session.scalars(
                    select(Delivery.chat_id)
                    .where(Delivery.broadcast_id == closing.broadcast_ids[0])
                    .order_by(Delivery.id)
                )
            ).all()
        )
    assert set(told) == mid_way, (told, mid_way)
    return told


# --- attempts ----------------------------------------------------------------------------


def first_options(point: int = 4, number: float = 10) -> Callable[[Item], Any]:
    """Answers for any survey: the first option, the first one ticked, `point` on a scale,
    `number` for a number; every other question (text, date) is skipped."""

    def pick(item: Item) -> Any:
        if item.kind == "single":
            return item.options[0].code
        if item.kind == "multiple":
            return (item.options[0].code,)
        if item.kind == "likert":
            return point
        if item.kind == "number":
            return number
        return SKIP

    return pick


async def attempt(
    db: Sessionmaker,
    telegram_id: int,
    campaign_id: int,
    answers: Sequence[Any] | Callable[[Item], Any] | None = None,
    *,
    language: str = "en",
    submit: bool = True,
) -> Screen:
    """Start (or resume) the person's attempt at a campaign and answer it, screen by screen.

    `answers` are the values of the questions in the order they are shown (information
    screens are passed on their own; `SKIP` skips an optional question), and the attempt stops
    at the question after the last of them; or a function of the item, which answers every
    question (by default `first_options()`). At the review it is submitted, unless not
    `submit`. Returns the last screen: the result ("done"), the review, or a question.
    """
    pick = first_options() if answers is None else answers
    given = None if callable(pick) else list(pick)
    screen = await surveys.start(db, telegram_id, campaign_id, language)
    while screen.kind == "item":
        item, attempt_id, index = screen.item, screen.attempt_id, screen.index
        assert item is not None
        if item.kind == "info":
            screen = await surveys.pass_info(db, telegram_id, attempt_id, index)
            continue
        if given is not None:
            if not given:
                return screen
            value = given.pop(0)
        else:
            assert callable(pick)
            value = pick(item)
        if value is SKIP:
            screen = await surveys.skip(db, telegram_id, attempt_id, index)
        else:
            screen = await surveys.answer(db, telegram_id, attempt_id, index, value)
    if screen.kind == "review" and submit:
        screen = await surveys.submit(db, telegram_id, screen.attempt_id)
    return screen
