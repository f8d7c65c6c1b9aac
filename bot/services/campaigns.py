"""Campaigns as organizers run them: compose and publish in chat, the timed steps, the figures.

A campaign is composed as a draft (`published_at` is None) whose choices are stored one by
one, so composing survives restarts. Its timed steps — invitations when it opens, a reminder
to those who have not finished at a set time before it closes, and the closing itself — are
found by `due_steps` from the stored times and marked done in the same transaction that
queues their messages in the broadcast outbox, so each happens exactly once whatever restarts
in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import BECOMES_PAGE, SurveyStart
from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound, PermissionDenied
from bot.services.audiences import RESOLVERS, Audience, check_audience, sender_scope
from bot.services.broadcast_content import Button
from bot.services.broadcasts import create_system
from bot.services.due import DueRows, run_due
from bot.services.roles import Role, require
from bot.services.surveys import (
    CLOSED,
    IN_PROGRESS,
    SUBMITTED,
    clean_wave,
    compiled,
    latest_instrument,
)
from models import Attempt, Campaign, Instrument, University, User, UserRole, utcnow

WAVES = ("pre", "post", "main")
CLOSE_CHOICES_DAYS = (7, 14, 30, 0)  # 0: no closing date
REMIND_CHOICES_HOURS = (24, 72, 0)  # 0: no reminder


class CampaignState(StrEnum):
    """Where a campaign is in its life (`campaigns.state_<value>` names it)."""

    DRAFT = "draft"  # still being composed: not published
    SCHEDULED = "scheduled"  # published, opens later
    OPEN = "open"
    CLOSED = "closed"


def campaign_state(campaign: Campaign, now: datetime) -> CampaignState:
    """The state of `campaign` at `now`."""
    if campaign.published_at is None:
        return CampaignState.DRAFT
    if campaign.closed_at is not None:
        return CampaignState.CLOSED
    return CampaignState.OPEN if campaign.opens_at <= now else CampaignState.SCHEDULED


class StepKind(StrEnum):
    """A campaign's timed steps."""

    INVITE = "invite"  # the invitations, when it opens
    REMIND = "remind"  # the reminder before it closes, to those who have not finished
    CLOSE = "close"  # the closing, and the notices it sends


@dataclass(frozen=True)
class Draft:
    """A campaign being composed."""

    id: int
    instrument_code: str
    title: dict[str, str]
    wave: str
    audience_kind: str
    audience_ref: str | None
    opens_at: datetime
    closes_at: datetime | None
    remind_before_hours: int | None


def _percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0


@dataclass(frozen=True)
class UniversityFigures:
    """Responses of one university."""

    university: dict[str, str]
    audience: int
    started: int
    submitted: int

    @property
    def rate(self) -> float:
        """Share of the audience who submitted, in percent."""
        return _percent(self.submitted, self.audience)


@dataclass(frozen=True)
class CampaignFigures:
    """A campaign and its response counts."""

    id: int
    title: dict[str, str]
    wave: str
    state: CampaignState
    opens_at: datetime
    closes_at: datetime | None
    audience: int
    started: int
    submitted: int
    by_university: list[UniversityFigures]

    @property
    def rate(self) -> float:
        """Share of the audience who submitted, in percent."""
        return _percent(self.submitted, self.audience)


@dataclass(frozen=True)
class CampaignStep:
    """A timed step of a campaign that has just been queued, with the broadcasts it queued."""

    campaign_id: int
    kind: StepKind
    broadcast_ids: tuple[int, ...]


async def instruments(db: Sessionmaker) -> list[tuple[str, dict[str, str], str]]:
    """(code, title, kind) of the latest version of every instrument."""
    async with db() as session:
        latest = (
            select(Instrument.code, func.max(Instrument.version).label("v"))
            .group_by(Instrument.code)
            .subquery()
        )
        rows = await session.execute(
            select(Instrument.code, Instrument.title, Instrument.kind)
            .join(latest, and_(latest.c.code == Instrument.code, latest.c.v == Instrument.version))
            .order_by(Instrument.code)
        )
        return [(code, dict(title), kind) for code, title, kind in rows.all()]


async def _within_scope(
    session: AsyncSession, actor_id: int, admin_ids: frozenset[int], kind: str, ref: str | None
) -> None:
    """An organizer scoped to a university publishes only to that university."""
    user, roles = await require(session, actor_id, admin_ids, Role.ADMIN, Role.ORGANIZER)
    scope = await sender_scope(session, user, roles)
    if scope is not None and not (kind == Audience.UNIVERSITY and ref == str(scope)):
        raise PermissionDenied("broadcasts.own_university_only")


async def _own_draft(
    session: AsyncSession, actor_id: int, admin_ids: frozenset[int], draft_id: int
) -> Campaign:
    user, _ = await require(session, actor_id, admin_ids, Role.ADMIN, Role.ORGANIZER)
    campaign = await session.get(Campaign, draft_id)
    if campaign is None or campaign.created_by_id != user.id:
        raise NotFound("surveys.no_campaign")
    if campaign.published_at is not None:
        raise InvalidInput("campaigns.already_published")
    return campaign


async def _draft_view(session: AsyncSession, campaign: Campaign) -> Draft:
    instrument = await session.get(Instrument, campaign.instrument_id)
    assert instrument is not None
    return Draft(
        id=campaign.id,
        instrument_code=campaign.instrument_code,
        title=dict(instrument.title),
        wave=campaign.wave,
        audience_kind=campaign.audience_kind,
        audience_ref=campaign.audience_ref,
        opens_at=campaign.opens_at,
        closes_at=campaign.closes_at,
        remind_before_hours=campaign.remind_before_hours,
    )


async def new_draft(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], instrument_code: str
) -> Draft:
    """Start composing a campaign of the latest version of an instrument."""
    async with db.begin() as session:
        user, _ = await require(session, actor_id, admin_ids, Role.ADMIN, Role.ORGANIZER)
        instrument = await latest_instrument(session, instrument_code)
        campaign = Campaign(
            instrument_id=instrument.id,
            instrument_code=instrument.code,
            wave="main",
            audience_kind=Audience.ALL.value,
            opens_at=utcnow(),
            created_by_id=user.id,
        )
        session.add(campaign)
        await session.flush()
        return await _draft_view(session, campaign)


async def update_draft(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    draft_id: int,
    *,
    wave: str | None = None,
    audience: tuple[str, str | None] | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    close_days: int | None = None,
    remind_hours: int | None = None,
) -> Draft:
    """Change the choices given (not None) of a draft.

    `audience` is (kind, reference): ("all", None), ("university", "3"), ("country", "KZ").
    The closing is a time (`closes_at`) or `close_days` after the opening (0: never);
    `remind_hours` before it, those who have not finished are reminded (0: never).

    Raises:
        InvalidInput: a wave label not 1-32 characters, an unknown audience, an opening time
            in the past, a closing time not after the opening, or days or hours that were
            never offered.
    """
    async with db.begin() as session:
        campaign = await _own_draft(session, actor_id, admin_ids, draft_id)
        if wave is not None:
            campaign.wave = clean_wave(wave)
        if opens_at is not None:
            if opens_at <= utcnow():
                raise InvalidInput("broadcasts.time_past")
            if campaign.closes_at is not None and campaign.closes_at <= opens_at:
                raise InvalidInput("surveys.closes_before_opening")
            campaign.opens_at = opens_at
        if closes_at is not None:
            if closes_at <= max(utcnow(), campaign.opens_at):
                raise InvalidInput("surveys.closes_before_opening")
            campaign.closes_at = closes_at
        if audience is not None:
            kind, ref = audience
            await check_audience(session, kind, ref)
            await _within_scope(session, actor_id, admin_ids, kind, ref)
            campaign.audience_kind, campaign.audience_ref = kind, ref
        if close_days is not None:
            if close_days not in CLOSE_CHOICES_DAYS:
                raise InvalidInput("errors.stale_button")
            start = max(utcnow(), campaign.opens_at)
            campaign.closes_at = start + timedelta(days=close_days) if close_days else None
        if remind_hours is not None:
            if remind_hours not in REMIND_CHOICES_HOURS:
                raise InvalidInput("errors.stale_button")
            campaign.remind_before_hours = remind_hours or None
        return await _draft_view(session, campaign)


async def get_draft(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], draft_id: int
) -> Draft:
    """The actor's draft, or NotFound / already published."""
    async with db() as session:
        return await _draft_view(session, await _own_draft(session, actor_id, admin_ids, draft_id))


async def publish(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    draft_id: int,
    *,
    even_if_nobody: bool = False,
) -> Draft:
    """Publish the draft: it opens now, or at its opening time; invitations go out then.

    An audience nobody is in yet is refused, unless `even_if_nobody`: the sandbox's demo
    opens before its first student has joined (whoever joins is in "everyone").
    """
    async with db.begin() as session:
        campaign = await _own_draft(session, actor_id, admin_ids, draft_id)
        # Checked again at publishing: a new draft starts with "everyone".
        await _within_scope(
            session, actor_id, admin_ids, campaign.audience_kind, campaign.audience_ref
        )
        count = await session.scalar(
            select(func.count()).select_from(_audience(campaign).subquery())
        )
        if not count and not even_if_nobody:
            raise InvalidInput("broadcasts.nobody")
        now = utcnow()
        if campaign.closes_at is not None and campaign.closes_at <= now:
            raise InvalidInput("surveys.closes_before_opening")
        campaign.published_at = now
        if campaign.opens_at <= now:
            campaign.opens_at = now
        return await _draft_view(session, campaign)


def _audience(campaign: Campaign) -> Select[Any]:
    resolver = RESOLVERS[campaign.audience_kind]
    return resolver(select(User).where(User.onboarded_at.is_not(None)), campaign.audience_ref)


STAFF_ROLES = (Role.ADMIN, Role.ORGANIZER, Role.COACH, Role.JUROR)


def respondents_of(instrument: Instrument) -> str:
    """Whose answers the instrument's campaigns count (its pack's `settings.respondents`)."""
    settings = (instrument.definition or {}).get("settings") or {}
    return str(settings.get("respondents") or "students")


def participants(
    campaign: Campaign, admin_ids: frozenset[int], respondents: str = "students"
) -> Select[Any]:
    """The campaign's audience whose answers its completion rate counts.

    For a students' instrument (the default) its staff are left out: they are reached by the
    invitation too (they may try the survey out), but an organizer reading "6 of 8" when all six
    students answered would chase people who owe nothing. For a staff instrument (the teachers'
    survey of the collaborative environment) only staff count; for "everyone", all but the
    campaign's author.
    """
    staff = select(UserRole.id).where(
        UserRole.user_id == User.id, UserRole.role.in_([r.value for r in STAFF_ROLES])
    )
    audience = _audience(campaign).where(User.id != campaign.created_by_id)
    if respondents == "staff":
        return audience.where(exists(staff) | User.telegram_id.in_(admin_ids))
    if respondents == "everyone":
        return audience
    return audience.where(User.telegram_id.not_in(admin_ids), ~exists(staff))


def _only(user_ids: list[int]) -> Any:
    def narrow(stmt: Select[Any]) -> Select[Any]:
        return stmt.where(User.id.in_(user_ids))

    return narrow


def _not_finished(campaign_id: int) -> Any:
    def narrow(stmt: Select[Any]) -> Select[Any]:
        return stmt.where(
            ~exists(
                select(Attempt.id).where(
                    Attempt.campaign_id == campaign_id,
                    Attempt.user_id == User.id,
                    Attempt.state == SUBMITTED,
                )
            )
        )

    return narrow


def step_due(now: datetime) -> ColumnElement[bool]:
    """The campaigns that may have a step due at `now`: `settle` decides which step, if any.

    Exact for the closing and the invitation. The reminder's time (`closes_at` minus
    `remind_before_hours`) is exact for the hours offered in chat (`REMIND_CHOICES_HOURS`),
    without date arithmetic in SQL that SQLite and PostgreSQL would write differently; a
    reminder of another length (or one that fell before the opening, which is never sent)
    leaves its campaign a candidate that a pass takes and lets go.
    """
    hours = [h for h in REMIND_CHOICES_HOURS if h]
    reminder_time = or_(
        *(
            and_(Campaign.remind_before_hours == h, Campaign.closes_at <= now + timedelta(hours=h))
            for h in hours
        ),
        Campaign.remind_before_hours.not_in(hours),
    )
    return and_(
        Campaign.published_at.is_not(None),
        Campaign.closed_at.is_(None),
        or_(
            Campaign.closes_at <= now,
            and_(Campaign.invited_at.is_(None), Campaign.opens_at <= now),
            and_(
                Campaign.reminded_at.is_(None),
                Campaign.closes_at.is_not(None),
                Campaign.remind_before_hours > 0,
                reminder_time,
            ),
        ),
    )


async def due_steps(
    db: Sessionmaker,
    translations: dict[str, Any],
    default_language: str,
    zone: ZoneInfo,
    *,
    now: datetime | None = None,
) -> list[CampaignStep]:
    """Queue every timed step that is due: invitations, reminders, closings (exactly once).

    "A due row, claimed once, done once" (`bot.services.due.run_due`): each candidate campaign
    is taken in its own transaction `FOR UPDATE SKIP LOCKED`, its step queued in the outbox and
    marked done (`invited_at`, `reminded_at`, `closed_at`) in that commit. A campaign another
    replica is taking is skipped, and one failing campaign holds back no other. One step per
    campaign and pass: an invitation and a reminder due together go one pass apart.

    Args:
        db: the session factory.
        translations: language -> translator, to write the messages in every language.
        default_language: for recipients without a language of their own.
        zone: the time zone closing times are shown in (the bot's TIMEZONE).
        now: the time the steps are due at (default: now).
    """

    async def settle(
        session: AsyncSession, campaign: Campaign, now: datetime
    ) -> CampaignStep | None:
        instrument = await session.get(Instrument, campaign.instrument_id)
        assert instrument is not None
        titles = dict(instrument.title)
        start = Button(
            {lang: translations[lang].plain("surveys.start_button") for lang in translations},
            data=SurveyStart(campaign.id, BECOMES_PAGE).pack(),
        )
        if campaign.closes_at is not None and campaign.closes_at <= now:
            campaign.closed_at = now
            in_progress = (
                await session.scalars(
                    select(Attempt).where(
                        Attempt.campaign_id == campaign.id, Attempt.state == IN_PROGRESS
                    )
                )
            ).all()
            mid_way = [attempt.user_id for attempt in in_progress]
            for attempt in in_progress:
                attempt.state = CLOSED
            broadcast_id = None
            if mid_way:
                texts = {
                    lang: t("campaigns.closed_notice", title=titles.get(lang) or titles["en"])
                    for lang, t in translations.items()
                }
                broadcast_id = await create_system(
                    db,
                    created_by_id=campaign.created_by_id,
                    audience_kind=campaign.audience_kind,
                    audience_ref=campaign.audience_ref,
                    texts=texts,
                    default_language=default_language,
                    session=session,
                    narrow=_only(mid_way),
                )
            closing = (broadcast_id,) if broadcast_id else ()
            if compiled(instrument).pack.settings.show_results == "on_close":
                finished = (
                    await session.scalars(
                        select(Attempt.user_id)
                        .where(Attempt.campaign_id == campaign.id, Attempt.state == SUBMITTED)
                        .distinct()
                    )
                ).all()
                if finished:
                    texts = {
                        lang: t("campaigns.results_ready", title=titles.get(lang) or titles["en"])
                        for lang, t in translations.items()
                    }
                    ready = await create_system(
                        db,
                        created_by_id=campaign.created_by_id,
                        audience_kind=campaign.audience_kind,
                        audience_ref=campaign.audience_ref,
                        texts=texts,
                        default_language=default_language,
                        session=session,
                        narrow=_only(list(finished)),
                    )
                    closing = (*closing, ready)
            return CampaignStep(campaign.id, StepKind.CLOSE, closing)
        remind_at = (
            campaign.closes_at - timedelta(hours=campaign.remind_before_hours)
            if campaign.closes_at is not None and campaign.remind_before_hours
            else None
        )
        if campaign.invited_at is None and campaign.opens_at <= now:
            campaign.invited_at = now
            kind, key = StepKind.INVITE, "campaigns.invitation"
        elif (
            campaign.reminded_at is None
            and remind_at is not None
            and remind_at <= now
            # A reminder due before the opening would follow the invitation at once.
            and remind_at > campaign.opens_at
        ):
            campaign.reminded_at = now
            kind, key = StepKind.REMIND, "campaigns.reminder"
        else:
            return None  # a candidate with nothing due yet (see `step_due`)
        if kind is StepKind.INVITE and campaign.closes_at is None:
            key = "campaigns.invitation_open"  # "It closes: —" read like a missing date
        texts = {
            lang: t(
                key,
                title=titles.get(lang) or titles["en"],
                closes=_when(campaign.closes_at, zone),
            )
            for lang, t in translations.items()
        }
        # Those who already submitted get neither the invitation nor the reminder.
        broadcast_id = await create_system(
            db,
            created_by_id=campaign.created_by_id,
            audience_kind=campaign.audience_kind,
            audience_ref=campaign.audience_ref,
            texts=texts,
            buttons=(start,),
            default_language=default_language,
            narrow=_not_finished(campaign.id),
            session=session,
        )
        return CampaignStep(campaign.id, kind, (broadcast_id,))

    steps = await run_due(db, DueRows(Campaign, step_due, settle), now=now)
    return [step for step in steps if step is not None]


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    # In the bot's TIMEZONE: all member cities are UTC+5 today (Almaty, Kurgan, Tashkent).
    if moment is None:
        return "—"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


async def close(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], campaign_id: int
) -> None:
    """Close a campaign now: its closing step then tells those mid-way."""
    async with db.begin() as session:
        user, roles = await require(session, actor_id, admin_ids, Role.ADMIN, Role.ORGANIZER)
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None or campaign.published_at is None:
            raise NotFound("surveys.no_campaign")
        if Role.ADMIN not in roles and campaign.created_by_id != user.id:
            raise PermissionDenied("errors.not_allowed")
        if campaign.closed_at is not None:
            raise InvalidInput("campaigns.already_closed")
        campaign.closes_at = utcnow()


def _visible(stmt: Select[Any], user: User, scope: int | None) -> Select[Any]:
    """The campaigns a sender limited to university `scope` (None: no limit) may follow.

    A university's organizer sees their own campaigns and their university's.
    """
    if scope is None:
        return stmt
    return stmt.where(
        (Campaign.created_by_id == user.id)
        | (
            (Campaign.audience_kind == Audience.UNIVERSITY.value)
            & (Campaign.audience_ref == str(scope))
        )
    )


async def followed(
    session: AsyncSession, actor_id: int, admin_ids: frozenset[int], campaign_id: int
) -> Campaign:
    """A published campaign the actor may follow (as `figures` lists them).

    Raises:
        PermissionDenied: not an organizer or admin.
        NotFound: `surveys.no_campaign`, also for a campaign outside the actor's university.
    """
    user, roles = await require(session, actor_id, admin_ids, Role.ADMIN, Role.ORGANIZER)
    scope = await sender_scope(session, user, roles)
    stmt = select(Campaign).where(Campaign.id == campaign_id, Campaign.published_at.is_not(None))
    campaign = await session.scalar(_visible(stmt, user, scope))
    if campaign is None:
        raise NotFound("surveys.no_campaign")
    return campaign


async def figures_of(
    session: AsyncSession, campaign: Campaign, admin_ids: frozenset[int]
) -> list[UniversityFigures]:
    """A campaign's participants, starts and submissions per university."""
    instrument = await session.get(Instrument, campaign.instrument_id)
    respondents = respondents_of(instrument) if instrument is not None else "students"
    audience = participants(campaign, admin_ids, respondents).subquery()
    started = (
        select(Attempt.user_id).where(Attempt.campaign_id == campaign.id).distinct().subquery()
    )
    submitted = (
        select(Attempt.user_id)
        .where(Attempt.campaign_id == campaign.id, Attempt.state == SUBMITTED)
        .distinct()
        .subquery()
    )
    rows = (
        await session.execute(
            select(
                University.name_en,
                University.name_ru,
                University.name_kk,
                func.count(audience.c.id),
                func.count(started.c.user_id),
                func.count(submitted.c.user_id),
            )
            .select_from(audience)
            .join(University, University.id == audience.c.university_id)
            .outerjoin(started, started.c.user_id == audience.c.id)
            .outerjoin(submitted, submitted.c.user_id == audience.c.id)
            .group_by(University.id, University.name_en, University.name_ru, University.name_kk)
            .order_by(University.id)
        )
    ).all()
    per_university = [
        UniversityFigures({"en": en, "ru": ru, "kk": kk}, n, s, d) for en, ru, kk, n, s, d in rows
    ]
    return per_university


async def figures(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], limit: int = 10
) -> list[CampaignFigures]:
    """Recent published campaigns with response counts and completion by university."""
    now = utcnow()
    async with db() as session:
        user, roles = await require(session, actor_id, admin_ids, Role.ADMIN, Role.ORGANIZER)
        scope = await sender_scope(session, user, roles)
        stmt = _visible(select(Campaign).where(Campaign.published_at.is_not(None)), user, scope)
        campaigns = (await session.scalars(stmt.order_by(Campaign.id.desc()).limit(limit))).all()
        result = []
        for campaign in campaigns:
            instrument = await session.get(Instrument, campaign.instrument_id)
            assert instrument is not None
            per_university = await figures_of(session, campaign, admin_ids)
            result.append(
                CampaignFigures(
                    id=campaign.id,
                    title=dict(instrument.title),
                    wave=campaign.wave,
                    state=campaign_state(campaign, now),
                    opens_at=campaign.opens_at,
                    closes_at=campaign.closes_at,
                    audience=sum(u.audience for u in per_university),
                    started=sum(u.started for u in per_university),
                    submitted=sum(u.submitted for u in per_university),
                    by_university=per_university,
                )
            )
        return result


async def ensure_campaign(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], instrument_code: str, wave: str
) -> int | None:
    """Publish an instrument for everyone in `wave` unless the actor already published one.

    The sandbox opens its demo survey this way on every start: composed and published
    through the campaign service, as an organizer's /publish does (a draft, its wave, publish),
    but before anyone has joined, so to an audience still empty. Returns the new campaign's
    id, or None when the actor had published one (open or closed: a campaign they closed
    stays closed); a draft left by a start interrupted before publishing does not count.
    The check and the steps are separate transactions: the sandbox is one process per database.
    """
    async with db() as session:
        user, _ = await require(session, actor_id, admin_ids, Role.ADMIN, Role.ORGANIZER)
        existing = await session.scalar(
            select(Campaign.id)
            .where(
                Campaign.created_by_id == user.id,
                Campaign.instrument_code == instrument_code,
                Campaign.wave == clean_wave(wave),
                Campaign.published_at.is_not(None),
            )
            .limit(1)
        )
    if existing is not None:
        return None
    draft = await new_draft(db, actor_id, admin_ids, instrument_code)
    await update_draft(db, actor_id, admin_ids, draft.id, wave=wave)
    published = await publish(db, actor_id, admin_ids, draft.id, even_if_nobody=True)
    return published.id
