"""Moderating the resource bank: submitting, the queue, approve / ask for changes / reject.

A contributor submits a complete draft (or a resource sent back for changes): it is pending,
and the organizers of its university, the consortium-wide organizers and the admins are told
in their language. A moderator (an organizer of that university, a consortium-wide organizer,
an admin; every other person is refused, whatever button they press) approves it (visible to
everyone and searchable from then on; a discipline proposed with it joins the list), asks for
changes with a comment (the contributor edits it and submits again) or rejects it with a
comment. The contributor is told each decision. A decision is taken once: a second one on the
same resource is refused (`bank.not_pending`), the row locked while it is made.

The notices are one personal broadcast per operation, queued in the transaction that makes
the change; the caller starts the broadcast (`Notified.broadcast_id`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.i18n import I18n
from bot.services import InvalidInput, PermissionDenied, audiences
from bot.services.broadcasts import open_personal_in, queue_personal
from bot.services.resource_fields import (
    COMMENT_MAX,
    DECISION_NOTICES,
    LICENSES,
    MISSING,
    MODERATORS,
    Notified,
    ResourceView,
    State,
    pick,
)
from bot.services.resource_views import (
    load_resource,
    missing,
    moderates,
    organizer_scopes,
    own_editable,
    view_of,
    views_of,
)
from bot.services.roles import Role, require
from bot.text import clean_block, is_blank
from models import (
    Discipline,
    Resource,
    User,
    UserRole,
    utcnow,
)

# --- notices ---------------------------------------------------------------------------------


class _Notices:
    """The personal broadcast of one operation's notices, opened at the first one."""

    def __init__(self, session: AsyncSession, resource: Resource, i18n: I18n):
        self.session = session
        self.resource = resource
        self.i18n = i18n
        self.broadcast_id: int | None = None

    async def tell(
        self,
        user: User,
        key: str,
        *,
        button: tuple[str, str] | None = None,
        **values: Any,
    ) -> None:
        """Queue `key` to `user` in their language, with the resource's title and code."""
        if self.broadcast_id is None:
            ref = None if self.resource.university_id is None else str(self.resource.university_id)
            self.broadcast_id = await open_personal_in(
                self.session,
                audience_kind=(
                    audiences.Audience.ALL.value
                    if ref is None
                    else audiences.Audience.UNIVERSITY.value
                ),
                audience_ref=ref,
            )
        language = user.language or self.i18n.default_language
        t = self.i18n.translator(language)
        text = t(key, title=pick(self.resource.title, language), code=self.resource.code, **values)
        buttons = ((t.plain(button[0]), button[1]),) if button else ()
        await queue_personal(
            self.session,
            self.broadcast_id,
            user,
            text=text,
            buttons=buttons,
            default_language=self.i18n.default_language,
        )


async def _moderators(
    session: AsyncSession, university_id: int | None, admin_ids: frozenset[int]
) -> list[User]:
    """The organizers of the university (and consortium-wide ones) and the admins."""
    organizer = (UserRole.role == Role.ORGANIZER.value) & (
        UserRole.university_id.is_(None)
        if university_id is None
        else or_(UserRole.university_id.is_(None), UserRole.university_id == university_id)
    )
    ids = set((await session.scalars(select(UserRole.user_id).where(organizer))).all())
    rows = list(await session.scalars(select(User).where(User.id.in_(ids))))
    if admin_ids:
        rows += list(await session.scalars(select(User).where(User.telegram_id.in_(admin_ids))))
    unique = {row.id: row for row in rows}
    return [unique[k] for k in sorted(unique)]


async def submit(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    resource_id: int,
    *,
    i18n: I18n,
    button_data: str | None = None,
    now: datetime | None = None,
) -> Notified:
    """Submit the draft (or the changed resource) for moderation: pending.

    The organizers of its university (and consortium-wide ones) and the admins are told in
    their language, with a button (`button_data`, labelled `bank.review_button`) if given; the
    contributor is not told of their own resource.

    Raises:
        InvalidInput: `bank.not_editable` (submitted already: a double tap), `MISSING[field]`
            for the first required field missing (`bank.license_required` for the license).
    """
    now = now or utcnow()
    async with db.begin() as session:
        resource, user, _ = await own_editable(session, telegram_id, admin_ids, resource_id)
        lacks = missing(resource)
        if lacks:
            first = lacks[0]
            raise InvalidInput(
                MISSING[first],
                licenses=", ".join(LICENSES),
            )
        resource.state = State.PENDING.value
        resource.step = None
        resource.submitted_at = now
        extra = dict(resource.extra or {})
        extra.pop("back", None)
        resource.extra = extra
        await session.flush()
        notices = _Notices(session, resource, i18n)
        for moderator in await _moderators(session, resource.university_id, admin_ids):
            if moderator.id == user.id:
                continue
            await notices.tell(
                moderator,
                "bank.notice_submitted",
                button=("bank.review_button", button_data) if button_data else None,
                name=user.first_name,
            )
        return Notified(await view_of(session, resource, user), notices.broadcast_id)


# --- moderation -----------------------------------------------------------------------------


async def moderation_queue(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int]
) -> list[ResourceView]:
    """The pending resources the actor may moderate, oldest submission first.

    Organizers: their university's (all for consortium-wide ones); admins: all.

    Raises:
        PermissionDenied: `errors.not_allowed`.
    """
    async with db() as session:
        user, roles = await require(session, actor_id, admin_ids, *MODERATORS)
        stmt = select(Resource).where(Resource.state == State.PENDING.value)
        scopes = await organizer_scopes(session, user)
        if Role.ADMIN not in roles and None not in scopes:
            stmt = stmt.where(Resource.university_id.in_([s for s in scopes if s is not None]))
        rows = (await session.scalars(stmt.order_by(Resource.submitted_at, Resource.id))).all()
        return await views_of(session, rows, user, with_contributor=True)


async def _decide(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    resource_id: int,
    state: State,
    comment: str | None,
    *,
    i18n: I18n,
    button_data: str | None,
    now: datetime | None,
) -> Notified:
    now = now or utcnow()
    async with db.begin() as session:
        user, roles = await require(session, actor_id, admin_ids, *MODERATORS)
        resource = await load_resource(session, resource_id, lock=True)
        if not moderates(roles, await organizer_scopes(session, user), resource.university_id):
            raise PermissionDenied("bank.not_your_university")
        if resource.state != State.PENDING.value:
            raise InvalidInput("bank.not_pending")
        text = clean_block(comment or "")
        if state is not State.APPROVED and (not text or is_blank(text)):
            raise InvalidInput("bank.comment_required")
        if len(text) > COMMENT_MAX:
            raise InvalidInput(
                "bank.text_too_long", limit=COMMENT_MAX, length=len(text), section=""
            )
        resource.state = state.value
        resource.moderated_by_id = user.id
        resource.moderated_at = now
        resource.moderation_comment = text or None
        if state is State.APPROVED:
            resource.approved_at = now
            if resource.discipline_id is not None:
                discipline = await session.get(Discipline, resource.discipline_id)
                if discipline is not None and not discipline.approved:
                    discipline.approved = True  # approving the resource accepts its discipline
        elif state is State.CHANGES:
            resource.step = "preview"
        await session.flush()
        notices = _Notices(session, resource, i18n)
        contributor = (
            await session.get(User, resource.contributor_id) if resource.contributor_id else None
        )
        if contributor is not None and contributor.id != user.id:
            await notices.tell(
                contributor,
                DECISION_NOTICES[state],
                button=(
                    ("bank.edit_button" if state is State.CHANGES else "bank.open_button"),
                    button_data,
                )
                if button_data and state is not State.REJECTED
                else None,
                comment=text,
            )
        return Notified(await view_of(session, resource, user), notices.broadcast_id)


async def approve(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    resource_id: int,
    *,
    i18n: I18n,
    button_data: str | None = None,
    now: datetime | None = None,
) -> Notified:
    """Approve a pending resource: visible to everyone, searchable; the contributor is told.

    A discipline proposed with it joins the list.

    Raises:
        PermissionDenied: not an organizer or admin (`errors.not_allowed`), an organizer of
            another university (`bank.not_your_university`).
        InvalidInput: `bank.not_pending` (decided already).
    """
    return await _decide(
        db,
        actor_id,
        admin_ids,
        resource_id,
        State.APPROVED,
        None,
        i18n=i18n,
        button_data=button_data,
        now=now,
    )


async def ask_changes(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    resource_id: int,
    comment: str,
    *,
    i18n: I18n,
    button_data: str | None = None,
    now: datetime | None = None,
) -> Notified:
    """Send a pending resource back to its contributor with a comment (required).

    Raises: as `approve`, and `bank.comment_required`.
    """
    return await _decide(
        db,
        actor_id,
        admin_ids,
        resource_id,
        State.CHANGES,
        comment,
        i18n=i18n,
        button_data=button_data,
        now=now,
    )


async def reject(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    resource_id: int,
    comment: str,
    *,
    i18n: I18n,
    button_data: str | None = None,
    now: datetime | None = None,
) -> Notified:
    """Reject a pending resource with a comment (required); the contributor is told.

    Raises: as `approve`, and `bank.comment_required`.
    """
    return await _decide(
        db,
        actor_id,
        admin_ids,
        resource_id,
        State.REJECTED,
        comment,
        i18n=i18n,
        button_data=button_data,
        now=now,
    )
