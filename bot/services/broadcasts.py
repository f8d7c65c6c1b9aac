"""Broadcasts: drafting, confirming, the outbox of deliveries, progress, cancel and recovery.

Who receives a broadcast is an audience of `bot.services.audiences`; what it says is parsed
and checked by `bot.services.broadcast_content`. This module keeps the broadcast's life: a
draft its sender fills in step by step, the confirmation that snapshots the recipients, and
the outbox that the sending workers (`bot.jobs.broadcasts`) drain.

The outbox protocol (DESIGN.md invariant 5):
1. On confirmation every recipient becomes a `delivery` row (`pending`, or `skipped` when the
   user is known to be unreachable), in the same transaction that moves the broadcast out of
   `draft`, so a double confirm cannot create a second set.
2. A sender *claims* one delivery (`pending` -> `sending`, committed) right before calling
   Telegram, and records the outcome right after (`sent` with Telegram's message id, `failed`
   with the reason, `skipped` for a user who blocked the bot or deleted the chat).
3. At start-up, deliveries still `sending` are the one unavoidable window: Telegram may have
   accepted the message while the bot died before recording it, and the Bot API cannot be
   asked. They become `uncertain` and are not sent again: a duplicate in thousands of
   students' chats is worse than an unconfirmed message, which the report lists by name so the
   sender can follow up. The window is one in-flight request per sending worker.

A scheduled broadcast is a due row (`bot.services.due`): `start_due` moves each one whose time
has come from `scheduled` to `sending` exactly once, whichever process gets there first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot import sqlite_driver
from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound, PermissionDenied, audiences
from bot.services.broadcast_content import Button, Content
from bot.services.due import DueRows, run_due
from bot.services.roles import Role, require
from models import Broadcast, Delivery, University, User, utcnow

SENDERS = (Role.ADMIN, Role.ORGANIZER, Role.COACH)


class State(StrEnum):
    """Life of a broadcast."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryState(StrEnum):
    """Life of one delivery."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class BroadcastView:
    """A broadcast as shown to its sender."""

    id: int
    state: State
    audience_kind: str | None
    audience_ref: str | None
    content: Content | None
    created_by_id: int | None
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    progress_chat_id: int | None
    progress_message_id: int | None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every recipient."""
        return sum(self.counts.values())

    @property
    def remaining(self) -> int:
        """Recipients not handled yet."""
        return self.counts.get("pending", 0) + self.counts.get("sending", 0)


@dataclass(frozen=True, slots=True)
class Task:
    """One claimed delivery, ready to send."""

    delivery_id: int
    broadcast_id: int
    chat_id: int
    language: str
    payload: dict[str, Any] | None = None  # the recipient's own message (`queue_personal`)


@dataclass(frozen=True, slots=True)
class Failure:
    """A recipient who did not get the message, for the sender's report."""

    telegram_id: int
    first_name: str
    university: str | None
    state: str
    reason: str | None


# --- drafting -------------------------------------------------------------------------------


def can_broadcast(roles: set[Role] | frozenset[Role]) -> bool:
    """Coaches, organizers and admins may broadcast."""
    return bool(set(roles).intersection(SENDERS))


async def _own_draft(
    session: AsyncSession, actor_id: int, admin_ids: frozenset[int], broadcast_id: int
) -> tuple[Broadcast, User, set[Role]]:
    user, roles = await require(session, actor_id, admin_ids, *SENDERS)
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.created_by_id != user.id:
        raise NotFound("broadcasts.not_found")
    if broadcast.state != State.DRAFT:
        raise InvalidInput("broadcasts.already_confirmed")
    return broadcast, user, roles


async def create_draft(db: Sessionmaker, actor_id: int, admin_ids: frozenset[int]) -> int:
    """Start a new broadcast draft for the actor; returns its id."""
    async with db.begin() as session:
        user, _ = await require(session, actor_id, admin_ids, *SENDERS)
        broadcast = Broadcast(created_by_id=user.id, state=State.DRAFT.value, texts={}, buttons=[])
        session.add(broadcast)
        await session.flush()
        return broadcast.id


async def set_audience(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    broadcast_id: int,
    kind: str,
    ref: str | None,
) -> int:
    """Choose the audience; returns how many people are in it.

    Raises:
        InvalidInput: unknown audience, or one with nobody in it.
        PermissionDenied: a university-scoped sender choosing beyond their university; the
            registrants of an event the sender does not manage (`events.not_yours`).
    """
    async with db.begin() as session:
        broadcast, user, roles = await _own_draft(session, actor_id, admin_ids, broadcast_id)
        await audiences.check_audience(session, kind, ref)
        await audiences.check_sender(
            session, user, roles, kind, ref, scope_key="broadcasts.own_university_only"
        )
        count = await audiences.count(session, kind, ref)
        if count == 0:
            raise InvalidInput("broadcasts.nobody")
        broadcast.audience_kind = kind
        broadcast.audience_ref = ref
        return count


async def set_content(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    broadcast_id: int,
    content: Content,
) -> None:
    """Store validated content in the draft."""
    async with db.begin() as session:
        broadcast, _, _ = await _own_draft(session, actor_id, admin_ids, broadcast_id)
        broadcast.content_kind = content.kind
        broadcast.texts = dict(content.texts)
        broadcast.file_id = content.file_id
        broadcast.file_name = content.file_name


async def set_buttons(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    broadcast_id: int,
    buttons: tuple[Button, ...],
) -> None:
    """Store the link buttons of the draft (an empty tuple removes them)."""
    async with db.begin() as session:
        broadcast, _, _ = await _own_draft(session, actor_id, admin_ids, broadcast_id)
        broadcast.buttons = [_button_json(b) for b in buttons]


def _button_json(button: Button) -> dict[str, Any]:
    data: dict[str, Any] = {"label": button.label}
    if button.url:
        data["url"] = button.url
    if button.data:
        data["data"] = button.data
    return data


async def create_system(
    db: Sessionmaker,
    *,
    created_by_id: int | None,
    audience_kind: str,
    audience_ref: str | None,
    texts: dict[str, str],
    buttons: tuple[Button, ...] = (),
    default_language: str,
    narrow: Callable[[Select[Any]], Select[Any]] | None = None,
    session: AsyncSession | None = None,
) -> int:
    """A broadcast the bot itself sends (invitations, reminders): snapshotted and sending.

    `narrow` restricts the audience further (e.g. to people who have not finished a survey).
    With `session`, it joins the caller's transaction, so the caller's own mark ("invited")
    and the outbox commit together: the message goes out exactly once.
    """
    if session is None:
        async with db.begin() as own:
            return await create_system(
                db,
                created_by_id=created_by_id,
                audience_kind=audience_kind,
                audience_ref=audience_ref,
                texts=texts,
                buttons=buttons,
                default_language=default_language,
                narrow=narrow,
                session=own,
            )
    broadcast = Broadcast(
        created_by_id=created_by_id,
        state=State.SENDING.value,
        audience_kind=audience_kind,
        audience_ref=audience_ref,
        content_kind="text",
        texts=dict(texts),
        buttons=[_button_json(b) for b in buttons],
        started_at=utcnow(),
    )
    session.add(broadcast)
    await session.flush()
    stmt = audiences.members(audience_kind, audience_ref)
    if narrow is not None:
        stmt = narrow(stmt)
    recipients = stmt.subquery()
    # A row per member of the audience (thousands): off the event loop's thread on SQLite.
    with sqlite_driver.in_thread():
        await session.execute(
            insert(Delivery).from_select(
                ["broadcast_id", "user_id", "chat_id", "language", "state", "error"],
                select(
                    literal(broadcast.id, Delivery.broadcast_id.type),
                    recipients.c.id,
                    recipients.c.telegram_id,
                    func.coalesce(recipients.c.language, default_language),
                    _reachable_state(recipients.c.reachable),
                    _reachable_error(recipients.c.reachable),
                ),
            )
        )
    return broadcast.id


# --- messages that differ per recipient ------------------------------------------------------
#
# A lesson or a nudge is one person's own message (their lesson, a button naming their
# enrolment). Queued as a single-recipient broadcast each, 5,000 lessons due at 9:00 were 5,000
# broadcasts, each with its own task, counts and report: the bot spent its CPU on bookkeeping
# and sent at half the gateway's rate. Instead a duty opens one *personal* broadcast per pass
# (`open_personal`), adds each recipient's own message to it as a delivery with a payload
# inside the transaction that claims the recipient's row (`queue_personal`), and starts it once.


async def open_personal(
    db: Sessionmaker, *, audience_kind: str, audience_ref: str | None = None
) -> int:
    """Open an empty system broadcast, sending, for deliveries that carry their own message.

    Committed at once, before any delivery is added: a delivery queued in another transaction
    can then always point at it, and a crash leaves at worst an empty broadcast that the
    sending closes at once (`finish_if_done`), or that `recover` resumes with what it holds.
    """
    async with db.begin() as session:
        return await open_personal_in(
            session, audience_kind=audience_kind, audience_ref=audience_ref
        )


async def open_personal_in(
    session: AsyncSession, *, audience_kind: str, audience_ref: str | None = None
) -> int:
    """`open_personal` in the caller's transaction: all or nothing commits.

    For a caller that queues every delivery in that same transaction (an event's notices to its
    registrants).
    """
    broadcast = Broadcast(
        created_by_id=None,
        state=State.SENDING.value,
        audience_kind=audience_kind,
        audience_ref=audience_ref,
        content_kind="text",
        texts={},
        buttons=[],
        started_at=utcnow(),
    )
    session.add(broadcast)
    await session.flush()
    return broadcast.id


async def queue_personal(
    session: AsyncSession,
    broadcast_id: int,
    user: User,
    *,
    text: str,
    buttons: tuple[tuple[str, str], ...] = (),
    default_language: str,
    links: tuple[tuple[str, str], ...] = (),
) -> None:
    """Queue `user`'s own message in the personal broadcast, in the caller's transaction.

    `buttons` are (label, callback data) pairs, one per row, already in the user's language;
    `links` are (label, URL) pairs, one per row after them (an event's Join button).
    A user known to be unreachable is recorded as skipped, as a broadcast's snapshot does.
    """
    reachable = bool(user.reachable)
    session.add(
        Delivery(
            broadcast_id=broadcast_id,
            user_id=user.id,
            chat_id=user.telegram_id,
            language=user.language or default_language,
            state=(DeliveryState.PENDING if reachable else DeliveryState.SKIPPED).value,
            error=None if reachable else "unreachable",
            payload={
                "text": text,
                "buttons": [{"label": label, "data": data} for label, data in buttons]
                + [{"label": label, "url": url} for label, url in links],
            },
        )
    )


def _content(broadcast: Broadcast) -> Content | None:
    if not broadcast.content_kind:
        return None
    return Content(
        kind=broadcast.content_kind,
        texts=dict(broadcast.texts or {}),
        file_id=broadcast.file_id,
        file_name=broadcast.file_name,
        buttons=tuple(
            Button(b["label"], b.get("url"), b.get("data")) for b in broadcast.buttons or []
        ),
    )


async def _counts(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Delivery.state, func.count())
        .where(Delivery.broadcast_id == broadcast_id)
        .group_by(Delivery.state)
    )
    return {str(state): int(count) for state, count in rows.all()}


async def _view(session: AsyncSession, broadcast: Broadcast) -> BroadcastView:
    return BroadcastView(
        id=broadcast.id,
        state=State(broadcast.state),
        audience_kind=broadcast.audience_kind,
        audience_ref=broadcast.audience_ref,
        content=_content(broadcast),
        created_by_id=broadcast.created_by_id,
        scheduled_at=broadcast.scheduled_at,
        started_at=broadcast.started_at,
        finished_at=broadcast.finished_at,
        progress_chat_id=broadcast.progress_chat_id,
        progress_message_id=broadcast.progress_message_id,
        counts=await _counts(session, broadcast.id),
    )


async def get_draft(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], broadcast_id: int
) -> tuple[BroadcastView, int]:
    """The draft and its current recipient count, for the preview."""
    async with db() as session:
        broadcast, _, _ = await _own_draft(session, actor_id, admin_ids, broadcast_id)
        if broadcast.audience_kind is None or broadcast.content_kind is None:
            raise InvalidInput("broadcasts.incomplete")
        count = await audiences.count(session, broadcast.audience_kind, broadcast.audience_ref)
        return await _view(session, broadcast), count


async def confirm(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    broadcast_id: int,
    *,
    default_language: str,
    scheduled_at: datetime | None = None,
    progress_chat_id: int | None = None,
) -> BroadcastView:
    """Confirm the draft: snapshot its recipients and start it now or at `scheduled_at`.

    Raises:
        InvalidInput: already confirmed (a double tap), incomplete, nobody left in the
            audience, or a time in the past.
    """
    now = utcnow()
    if scheduled_at is not None and scheduled_at <= now:
        raise InvalidInput("broadcasts.time_past")
    async with db.begin() as session:
        broadcast, _, _ = await _own_draft(session, actor_id, admin_ids, broadcast_id)
        if broadcast.audience_kind is None or broadcast.content_kind is None:
            raise InvalidInput("broadcasts.incomplete")
        # The conditional update is the guard against a double confirm racing this one.
        moved = await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.state == State.DRAFT.value)
            .values(
                state=(State.SCHEDULED if scheduled_at else State.SENDING).value,
                scheduled_at=scheduled_at,
                started_at=None if scheduled_at else now,
                progress_chat_id=progress_chat_id,
            )
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise InvalidInput("broadcasts.already_confirmed")
        audience = audiences.members(broadcast.audience_kind, broadcast.audience_ref)
        recipients = audience.subquery()
        language = func.coalesce(recipients.c.language, default_language)
        state = _reachable_state(recipients.c.reachable)
        # A row per member of the audience (thousands): off the event loop's thread on SQLite.
        with sqlite_driver.in_thread():
            await session.execute(
                insert(Delivery).from_select(
                    ["broadcast_id", "user_id", "chat_id", "language", "state", "error"],
                    select(
                        literal(broadcast_id, Delivery.broadcast_id.type),
                        recipients.c.id,
                        recipients.c.telegram_id,
                        language,
                        state,
                        _reachable_error(recipients.c.reachable),
                    ),
                )
            )
        counts = await _counts(session, broadcast_id)
        if not counts:
            raise InvalidInput("broadcasts.nobody")
        await session.refresh(broadcast)
        return await _view(session, broadcast)


def _reachable_state(reachable: ColumnElement[bool]) -> ColumnElement[str]:
    return case(
        (reachable.is_(True), literal(DeliveryState.PENDING.value)),
        else_=literal(DeliveryState.SKIPPED.value),
    )


def _reachable_error(reachable: ColumnElement[bool]) -> ColumnElement[str | None]:
    return case((reachable.is_(True), null()), else_=literal("unreachable"))


async def set_progress_message(
    db: Sessionmaker, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    """Remember the sender's progress message so a restarted bot keeps editing it."""
    async with db.begin() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is not None:
            broadcast.progress_chat_id = chat_id
            broadcast.progress_message_id = message_id


# --- sending --------------------------------------------------------------------------------


async def claim_next(db: Sessionmaker, broadcast_id: int) -> Task | None:
    """Claim the next pending delivery of a broadcast that is sending, or None when none."""
    async with db.begin() as session:
        state = await session.scalar(select(Broadcast.state).where(Broadcast.id == broadcast_id))
        if state not in (State.SENDING, State.DONE):
            return None
        # Lowest id first; SKIP LOCKED lets several PostgreSQL replicas share one broadcast.
        delivery = await session.scalar(
            select(Delivery)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.state == DeliveryState.PENDING.value,
            )
            .order_by(Delivery.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if delivery is None:
            return None
        if state == State.DONE:
            # A personal broadcast another replica found empty and closed while a duty's pass
            # was still queueing into it: open it again for what was queued after.
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id)
                .values(state=State.SENDING.value, finished_at=None)
            )
        delivery.state = DeliveryState.SENDING.value
        delivery.attempts += 1
        delivery.claimed_at = utcnow()
        return Task(
            delivery.id, broadcast_id, delivery.chat_id, delivery.language, delivery.payload
        )


async def record(
    db: Sessionmaker,
    delivery_id: int,
    state: DeliveryState,
    *,
    message_id: int | None = None,
    error: str | None = None,
    unreachable: bool = False,
) -> None:
    """Record the outcome of a claimed delivery; mark the user unreachable if Telegram said so."""
    async with db.begin() as session:
        delivery = await session.get(Delivery, delivery_id)
        if delivery is None:  # the user deleted their data meanwhile
            return
        delivery.state = state.value
        delivery.message_id = message_id
        delivery.error = error[:200] if error else None
        delivery.finished_at = utcnow()
        if unreachable:
            await session.execute(
                update(User).where(User.id == delivery.user_id).values(reachable=False)
            )


async def finish_if_done(db: Sessionmaker, broadcast_id: int) -> BroadcastView | None:
    """Close a sending broadcast with nothing left to send; returns it when closed now."""
    async with db.begin() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None or broadcast.state != State.SENDING:
            return None
        counts = await _counts(session, broadcast_id)
        if counts.get("pending", 0) or counts.get("sending", 0):
            return None
        broadcast.state = State.DONE.value
        broadcast.finished_at = utcnow()
        return await _view(session, broadcast)


async def get(db: Sessionmaker, broadcast_id: int) -> BroadcastView | None:
    """A broadcast with its delivery counts (no permission check: internal use)."""
    async with db() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        return await _view(session, broadcast) if broadcast else None


async def _owned_or_admin(
    session: AsyncSession, actor_id: int, admin_ids: frozenset[int], broadcast_id: int
) -> Broadcast:
    user, roles = await require(session, actor_id, admin_ids, *SENDERS)
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound("broadcasts.not_found")
    if broadcast.created_by_id != user.id and Role.ADMIN not in roles:
        raise PermissionDenied("errors.not_allowed")
    return broadcast


async def cancel(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], broadcast_id: int
) -> BroadcastView:
    """Stop a scheduled or sending broadcast; what was sent stays sent.

    Raises:
        PermissionDenied: neither the sender nor an admin (a forged Cancel button).
        InvalidInput: the broadcast has already finished or was cancelled.
    """
    async with db.begin() as session:
        broadcast = await _owned_or_admin(session, actor_id, admin_ids, broadcast_id)
        if broadcast.state not in (State.SENDING, State.SCHEDULED, State.DRAFT):
            raise InvalidInput("broadcasts.not_running")
        broadcast.state = State.CANCELLED.value
        broadcast.cancelled_at = utcnow()
        await session.execute(
            update(Delivery)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.state == DeliveryState.PENDING.value,
            )
            .values(state=DeliveryState.CANCELLED.value)
        )
        return await _view(session, broadcast)


async def discard(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], broadcast_id: int
) -> None:
    """Throw a draft away; never a confirmed broadcast.

    An old Discard button left in the chat must not cancel a broadcast that is sending or
    scheduled: Cancel on its progress message does that.
    """
    async with db.begin() as session:
        broadcast, _, _ = await _own_draft(session, actor_id, admin_ids, broadcast_id)
        broadcast.state = State.CANCELLED.value
        broadcast.cancelled_at = utcnow()


def _scheduled_and_due(now: datetime) -> ColumnElement[bool]:
    """A scheduled broadcast whose time has come (a cancelled one is no longer scheduled)."""
    return and_(Broadcast.state == State.SCHEDULED.value, Broadcast.scheduled_at <= now)


async def _start_sending(session: AsyncSession, broadcast: Broadcast, now: datetime) -> int:
    """Settle a due scheduled broadcast: it is sending from now on (its deliveries wait)."""
    broadcast.state = State.SENDING.value
    broadcast.started_at = now
    return broadcast.id


SCHEDULED = DueRows(Broadcast, _scheduled_and_due, _start_sending)


async def start_due(db: Sessionmaker, *, now: datetime | None = None) -> list[int]:
    """Move every scheduled broadcast whose time has come to sending, each once; their ids.

    Another replica, or a second pass of this one, finds them sending and starts nothing.
    """
    return await run_due(db, SCHEDULED, now=now)


async def recover(db: Sessionmaker) -> tuple[list[int], list[tuple[int, datetime]]]:
    """After a start: settle deliveries caught mid-send, list what to resume and to schedule.

    Returns:
        ids of broadcasts still sending, and (id, time) of scheduled ones.
    """
    async with db.begin() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.state == DeliveryState.SENDING.value)
            .values(state=DeliveryState.UNCERTAIN.value, error="interrupted while sending")
        )
        sending = (
            await session.scalars(
                select(Broadcast.id).where(Broadcast.state == State.SENDING.value)
            )
        ).all()
        scheduled = (
            await session.execute(
                select(Broadcast.id, Broadcast.scheduled_at).where(
                    Broadcast.state == State.SCHEDULED.value
                )
            )
        ).all()
        return list(sending), [(i, at) for i, at in scheduled if at is not None]


# A delivery "sending" this long was claimed by a process that died (a send takes seconds).
STALE_CLAIM = timedelta(minutes=5)
# A sending broadcast with pending deliveries and no claim for this long has lost its sender.
ORPHANED = timedelta(minutes=2)


async def adopt_orphans(db: Sessionmaker, *, now: datetime | None = None) -> list[int]:
    """Settle deliveries a dead replica claimed, and list the broadcasts nobody is sending.

    With several replicas a broadcast is sent by the process that started it (and by any that
    restarted since). When that process is killed, its claimed deliveries stay "sending" and
    its pending ones wait: here the first become unconfirmed, as `recover` does at a start
    (never sent twice), and the broadcasts that are sending, have pending deliveries and had
    none claimed for `ORPHANED` are returned, for this process to send them. Sending a
    broadcast that is in fact alive elsewhere is harmless: replicas share one broadcast.
    """
    now = now or utcnow()
    async with db.begin() as session:
        await session.execute(
            update(Delivery)
            .where(
                Delivery.state == DeliveryState.SENDING.value,
                Delivery.claimed_at < now - STALE_CLAIM,
            )
            .values(state=DeliveryState.UNCERTAIN.value, error="interrupted while sending")
        )
        recent_claim = exists(
            select(Delivery.id).where(
                Delivery.broadcast_id == Broadcast.id, Delivery.claimed_at >= now - ORPHANED
            )
        )
        pending = exists(
            select(Delivery.id).where(
                Delivery.broadcast_id == Broadcast.id,
                Delivery.state == DeliveryState.PENDING.value,
            )
        )
        return list(
            (
                await session.scalars(
                    select(Broadcast.id)
                    .where(
                        Broadcast.state == State.SENDING.value,
                        Broadcast.started_at < now - ORPHANED,
                        pending,
                        ~recent_claim,
                    )
                    .order_by(Broadcast.id)
                )
            ).all()
        )


async def list_recent(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], limit: int = 10
) -> list[BroadcastView]:
    """The actor's recent broadcasts (an admin sees everyone's), newest first."""
    async with db() as session:
        user, roles = await require(session, actor_id, admin_ids, *SENDERS)
        stmt = select(Broadcast).where(Broadcast.state != State.DRAFT.value)
        if Role.ADMIN not in roles:
            stmt = stmt.where(Broadcast.created_by_id == user.id)
        rows = (await session.scalars(stmt.order_by(Broadcast.id.desc()).limit(limit))).all()
        return [await _view(session, b) for b in rows]


async def failures(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], broadcast_id: int
) -> list[Failure]:
    """Recipients who did not get the broadcast (failed, skipped, uncertain), for the report."""
    async with db() as session:
        await _owned_or_admin(session, actor_id, admin_ids, broadcast_id)
        rows = await session.execute(
            select(
                User.telegram_id,
                User.first_name,
                University.name_en,
                Delivery.state,
                Delivery.error,
            )
            .join(User, User.id == Delivery.user_id)
            .outerjoin(University, University.id == User.university_id)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.state.in_(
                    [
                        DeliveryState.FAILED.value,
                        DeliveryState.SKIPPED.value,
                        DeliveryState.UNCERTAIN.value,
                    ]
                ),
            )
            .order_by(Delivery.id)
        )
        return [Failure(*row) for row in rows.all()]
