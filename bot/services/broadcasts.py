"""Broadcasts: drafting, audiences, the outbox of deliveries, progress, cancel and recovery.

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
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, insert, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LANGUAGES
from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound, PermissionDenied
from bot.services.roles import Role, require
from bot.services.universities import COUNTRIES, get_active
from bot.text import clean_block, clean_line, is_blank
from models import Broadcast, Delivery, University, User, UserRole, utcnow

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
BUTTONS_MAX = 6
LABEL_MAX = 64
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


class Audience(StrEnum):
    """Who a broadcast goes to. Features that own other audiences add resolvers below."""

    ALL = "all"
    UNIVERSITY = "university"
    COUNTRY = "country"


# An audience resolver narrows a select of users; `ref` is the audience's parameter.
Resolver = Callable[[Select[Any], str | None], Select[Any]]


def _everyone(stmt: Select[Any], ref: str | None) -> Select[Any]:
    return stmt


def _university(stmt: Select[Any], ref: str | None) -> Select[Any]:
    university_id = int(ref) if ref and ref.isdigit() else -1
    return stmt.where(User.university_id == university_id)


def _country(stmt: Select[Any], ref: str | None) -> Select[Any]:
    return stmt.join(University, University.id == User.university_id).where(
        University.country == (ref or "")
    )


RESOLVERS: dict[str, Resolver] = {
    Audience.ALL.value: _everyone,
    Audience.UNIVERSITY.value: _university,
    Audience.COUNTRY.value: _country,
}


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a broadcast message: a link, or (bot-made messages) a callback."""

    label: str | dict[str, str]  # one label, or one per language
    url: str | None = None
    data: str | None = None

    def label_for(self, language: str, default: str) -> str:
        """The label in `language`."""
        if isinstance(self.label, str):
            return self.label
        return (
            self.label.get(language) or self.label.get(default) or next(iter(self.label.values()))
        )


@dataclass(frozen=True, slots=True)
class Content:
    """What a broadcast says, in one or more languages."""

    kind: str  # "text", "photo" or "document"
    texts: dict[str, str]
    file_id: str | None = None
    file_name: str | None = None
    buttons: tuple[Button, ...] = ()

    def text_for(self, language: str, default: str) -> str:
        """The text in `language`, else in the default language, else the first given."""
        if not self.texts:
            return ""
        return (
            self.texts.get(language) or self.texts.get(default) or next(iter(self.texts.values()))
        )


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


async def sender_scope(session: AsyncSession, user: User, roles: set[Role]) -> int | None:
    """The university a non-admin sender is limited to (None: the whole consortium)."""
    if Role.ADMIN in roles:
        return None
    scopes = (
        await session.scalars(
            select(UserRole.university_id).where(
                UserRole.user_id == user.id,
                UserRole.role.in_([Role.ORGANIZER.value, Role.COACH.value]),
            )
        )
    ).all()
    # Any consortium-wide role lifts the limit; otherwise the one university of the role.
    if not scopes or any(s is None for s in scopes):
        return None
    return scopes[0]


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


async def check_audience(session: AsyncSession, kind: str, ref: str | None) -> None:
    """Refuse an unknown audience, or a university or country that does not exist.

    `ref` comes from a button, so it is never trusted to be a number or a known code.
    """
    if kind not in RESOLVERS:
        raise InvalidInput("broadcasts.unknown_audience")
    if kind == Audience.UNIVERSITY:
        if not ref or not ref.isdigit() or len(ref) > 12:
            raise InvalidInput("broadcasts.unknown_audience")
        await get_active(session, int(ref))
    elif kind == Audience.COUNTRY and ref not in COUNTRIES:
        raise InvalidInput("broadcasts.unknown_audience")


async def create_draft(db: Sessionmaker, actor_id: int, admin_ids: frozenset[int]) -> int:
    """Start a new broadcast draft for the actor; returns its id."""
    async with db.begin() as session:
        user, _ = await require(session, actor_id, admin_ids, *SENDERS)
        broadcast = Broadcast(created_by_id=user.id, state=State.DRAFT.value, texts={}, buttons=[])
        session.add(broadcast)
        await session.flush()
        return broadcast.id


def _audience_stmt(kind: str, ref: str | None) -> Select[Any]:
    resolver = RESOLVERS.get(kind)
    if resolver is None:
        raise InvalidInput("broadcasts.unknown_audience")
    return resolver(select(User).where(User.onboarded_at.is_not(None)), ref)


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
        PermissionDenied: a university-scoped sender choosing beyond their university.
    """
    async with db.begin() as session:
        broadcast, user, roles = await _own_draft(session, actor_id, admin_ids, broadcast_id)
        await check_audience(session, kind, ref)
        scope = await sender_scope(session, user, roles)
        if scope is not None and not (kind == Audience.UNIVERSITY and ref == str(scope)):
            raise PermissionDenied("broadcasts.own_university_only")
        stmt = _audience_stmt(kind, ref)
        count = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        if count == 0:
            raise InvalidInput("broadcasts.nobody")
        broadcast.audience_kind = kind
        broadcast.audience_ref = ref
        return count


_LANG_MARK = re.compile(r"^\[(kk|ru|en)\][ \t]*\n?", re.MULTILINE)
_TAG = re.compile(r"<[^>]+>")


def visible_length(html_text: str) -> int:
    """Length of an HTML message as Telegram counts it (tags removed, entities decoded)."""
    import html

    return len(html.unescape(_TAG.sub("", html_text)))


_TAG_PARTS = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>")


def _shows_nothing(html_text: str) -> bool:
    """True when the HTML text shows nothing: no visible character once tags are removed."""
    import html

    return is_blank(html.unescape(_TAG.sub("", html_text)))


def _balanced(html_text: str) -> bool:
    """True when every formatting tag opened in the text is closed in it, in order."""
    stack: list[str] = []
    for closing, name in _TAG_PARTS.findall(html_text):
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def split_languages(html_text: str) -> dict[str, str]:
    """Split `[kk] ... [ru] ... [en] ...` sections; text without markers is for everyone.

    Returns:
        language -> text; the key "*" holds text given without any marker.
    """
    marks = list(_LANG_MARK.finditer(html_text))
    if not marks:
        return {"*": clean_block(html_text)}
    texts: dict[str, str] = {}
    lead = clean_block(html_text[: marks[0].start()])
    if not _shows_nothing(lead):
        texts["*"] = lead
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(html_text)
        body = clean_block(html_text[mark.end() : end])
        if not _shows_nothing(body):
            texts[mark.group(1)] = body
    return texts


def build_content(
    kind: str, html_text: str | None, file_id: str | None, file_name: str | None
) -> Content:
    """Validate a message the sender gave as broadcast content.

    Raises:
        InvalidInput: unsupported kind, empty content, text or caption over Telegram's limit.
    """
    if kind not in ("text", "photo", "document"):
        raise InvalidInput("broadcasts.unsupported")
    texts = split_languages(html_text) if html_text and not _shows_nothing(html_text) else {}
    if kind == "text" and not texts:
        raise InvalidInput("broadcasts.empty")
    if kind != "text" and not file_id:
        raise InvalidInput("broadcasts.unsupported")
    limit = TEXT_LIMIT if kind == "text" else CAPTION_LIMIT
    for language, text in texts.items():
        length = visible_length(text)
        if length > limit:
            key = "broadcasts.text_too_long" if kind == "text" else "broadcasts.caption_too_long"
            label = "" if language == "*" else f"[{language}] "
            raise InvalidInput(key, limit=limit, length=length, section=label)
        if _shows_nothing(text):
            raise InvalidInput("broadcasts.empty")
    for language, text in texts.items():
        if not _balanced(text):
            # Formatting that starts in one language's section and ends in another.
            label = "" if language == "*" else f"[{language}] "
            raise InvalidInput("broadcasts.formatting_across", section=label)
    if "*" in texts and len(texts) > 1:
        # Unmarked lead text next to marked sections: treat it as the default-language text
        # only if that language has no section of its own; otherwise it is ambiguous.
        raise InvalidInput("broadcasts.unmarked_text")
    file_name = (clean_line(file_name) or None) if file_name else None
    return Content(kind=kind, texts=texts, file_id=file_id, file_name=file_name)


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


def parse_buttons(text: str) -> tuple[Button, ...]:
    """Parse one `Label | https://link` per line.

    Raises:
        InvalidInput: a line without `|`, a label too long, a link that is not http(s), too many.
    """
    buttons = []
    for line in (clean_line(raw) for raw in text.splitlines()):
        if not line:
            continue
        label, sep, url = (clean_line(part) for part in line.partition("|"))
        if not sep or not label or not url:
            raise InvalidInput("broadcasts.button_format", line=line[:80])
        if len(label) > LABEL_MAX:
            raise InvalidInput("broadcasts.button_label_long", limit=LABEL_MAX)
        if not re.fullmatch(r"https?://[^\s]+\.[^\s]+", url) and not url.startswith("tg://"):
            raise InvalidInput("broadcasts.button_url", url=url[:80])
        buttons.append(Button(label=label, url=url))
    if not buttons:
        raise InvalidInput("broadcasts.button_format", line=text[:80])
    if len(buttons) > BUTTONS_MAX:
        raise InvalidInput("broadcasts.too_many_buttons", limit=BUTTONS_MAX)
    return tuple(buttons)


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
    stmt = _audience_stmt(audience_kind, audience_ref)
    if narrow is not None:
        stmt = narrow(stmt)
    recipients = stmt.subquery()
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
    return {state: count for state, count in rows.all()}


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
        stmt = _audience_stmt(broadcast.audience_kind, broadcast.audience_ref)
        count = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
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
        recipients = _audience_stmt(broadcast.audience_kind, broadcast.audience_ref).subquery()
        language = func.coalesce(recipients.c.language, default_language)
        state = _reachable_state(recipients.c.reachable)
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
        if state != State.SENDING:
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
        delivery.state = DeliveryState.SENDING.value
        delivery.attempts += 1
        delivery.claimed_at = utcnow()
        return Task(delivery.id, broadcast_id, delivery.chat_id, delivery.language)


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


async def start_due(db: Sessionmaker, broadcast_id: int) -> bool:
    """Move a scheduled broadcast whose time has come to sending; True if it moved."""
    async with db.begin() as session:
        result = await session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == broadcast_id,
                Broadcast.state == State.SCHEDULED.value,
                Broadcast.scheduled_at <= utcnow(),
            )
            .values(state=State.SENDING.value, started_at=utcnow())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


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


def available_languages(content: Content) -> list[str]:
    """Languages the content was given in (`*` means one text for everyone)."""
    return [lang for lang in LANGUAGES if lang in content.texts]
