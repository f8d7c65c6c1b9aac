"""The resource bank (issue 14): contributing, finding, using and rating resources.

A contributor (a coach, an organizer, an admin; students too while the organizers' switch
`bank.students_contribute` is on) drafts a resource step by step (`start_draft`, `set_field`):
each field is checked when it is given, and the step the conversation is at is stored on the
row (`Resource.step`), so a restart loses nothing. The steps, in order: title, description
(optional), discipline (one of the list or a new name proposed), kind, languages, level,
license (required), authors (optional), university (the contributor's unless they choose
another), and the resource itself: a file (Telegram's `file_id`, at most 20 MB, of an allowed
type) and/or a link. Then a preview, and `submit`.

Moderation: a submitted resource is pending; the organizers
of its university and the admins are told; they approve it, ask for changes with a comment
(the contributor edits it and submits again) or reject it with a comment; the contributor is
told. Only approved resources are visible to others.

Using and rating: `open_resource` records one use per person (`resource_use`, however often
they open it); `rate` accepts 1..5 and an optional comment from someone who used it, and a
second rating replaces the first. Each view carries the number of people who used it, the
number of ratings and their mean.

Messages the bot sends on its own (a resource to moderate, a decision to its contributor) are
queued as one personal broadcast per operation, in the transaction that makes the change; the
caller starts the broadcast whose id it gets back (`Notified.broadcast_id`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from math import ceil
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound, PermissionDenied
from bot.services.resource_fields import (
    AUTHORS_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    DISCIPLINE_NAME_MAX,
    EDITABLE,
    FIELDS,
    FILE_TYPES,
    KIND_LABELS,
    LEVEL_LABELS,
    LICENSES,
    MISSING,
    MODERATORS,
    OPTIONAL,
    PER_PAGE_MAX,
    STATE_LABELS,
    STEPS,
    TITLE_MAX,
    DisciplineView,
    FileInfo,
    Kind,
    Level,
    Notified,
    Page,
    ResourceView,
    State,
    check_file,
    check_license,
    check_link,
    parse_enum,
    parse_languages,
    parse_texts,
    pick,
)
from bot.services.resource_moderation import (
    approve,
    ask_changes,
    moderation_queue,
    reject,
    submit,
)
from bot.services.resource_views import (
    load_resource,
    load_user,
    may_contribute,
    may_moderate,
    may_moderate_row,
    missing,
    new_code,
    organizer_scopes,
    own_editable,
    require_contributor,
    set_students_contribute,
    students_contribute,
    view_of,
    views_of,
)
from bot.services.roles import Role, require
from bot.text import clean_block, clean_line
from models import (
    Discipline,
    Resource,
    ResourceRating,
    ResourceUse,
    University,
    User,
    utcnow,
)

# The bank's service API in one place: the moderation functions live in resource_moderation,
# the values and checks in resource_fields, the rights and views in resource_views.
__all__ = [
    "KIND_LABELS",
    "LEVEL_LABELS",
    "LICENSES",
    "STATE_LABELS",
    "STEPS",
    "DisciplineView",
    "FileInfo",
    "Kind",
    "Level",
    "Notified",
    "Page",
    "ResourceView",
    "State",
    "approve",
    "approve_discipline",
    "ask_changes",
    "browse",
    "discard_draft",
    "disciplines",
    "get",
    "may_contribute",
    "may_moderate",
    "missing",
    "moderation_queue",
    "my_drafts",
    "my_resources",
    "open_resource",
    "pick",
    "propose_discipline",
    "rate",
    "reject",
    "set_field",
    "set_students_contribute",
    "start_draft",
    "students_contribute",
    "submit",
]

# --- disciplines -------------------------------------------------------------------------------


def _discipline_view(row: Discipline) -> DisciplineView:
    return DisciplineView(row.id, row.code, dict(row.name or {}), bool(row.approved))


async def disciplines(db: Sessionmaker, *, pending: bool = False) -> list[DisciplineView]:
    """The disciplines of the list (`pending`: the proposed ones waiting instead), by code."""
    async with db() as session:
        rows = await session.scalars(
            select(Discipline)
            .where(Discipline.approved.is_(not pending))
            .order_by(Discipline.code)
        )
        return [_discipline_view(row) for row in rows]


async def _propose(session: AsyncSession, user: User, name: str | Mapping[str, str]) -> Discipline:
    names = parse_texts(name, line=True, limit=DISCIPLINE_NAME_MAX)
    wanted = {n.casefold() for n in names.values()}
    for row in await session.scalars(select(Discipline)):
        if wanted & {str(n).casefold() for n in (row.name or {}).values()}:
            return row  # the same name is the same discipline, proposed or not
    row = Discipline(code=f"p-{new_code()}", name=names, approved=False, proposed_by_id=user.id)
    session.add(row)
    await session.flush()
    return row


async def propose_discipline(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int], name: str
) -> DisciplineView:
    """Propose a new discipline (a contributor); an existing one of that name is given back.

    Raises:
        PermissionDenied: `bank.not_contributor`.
        InvalidInput: `bank.empty_text`, `bank.text_too_long`.
    """
    async with db.begin() as session:
        user, _ = await require_contributor(session, telegram_id, admin_ids)
        return _discipline_view(await _propose(session, user, name))


async def approve_discipline(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], discipline_id: int
) -> DisciplineView:
    """Add a proposed discipline to the list (organizers, admins).

    Raises:
        PermissionDenied: `errors.not_allowed`.
        NotFound: `bank.discipline_not_found`.
    """
    async with db.begin() as session:
        await require(session, actor_id, admin_ids, *MODERATORS)
        row = await session.get(Discipline, discipline_id)
        if row is None:
            raise NotFound("bank.discipline_not_found")
        row.approved = True
        return _discipline_view(row)


# --- drafting --------------------------------------------------------------------------------


async def start_draft(
    db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int]
) -> ResourceView:
    """Start a draft at its first step, of the contributor's university.

    Raises:
        PermissionDenied: `bank.not_contributor` (a student while students may not).
    """
    async with db.begin() as session:
        user, _ = await require_contributor(session, telegram_id, admin_ids)
        resource = Resource(
            code=new_code(),
            state=State.DRAFT.value,
            step=STEPS[0],
            title={},
            description={},
            languages=[],
            university_id=user.university_id,
            contributor_id=user.id,
            extra={},
        )
        session.add(resource)
        await session.flush()
        return await view_of(session, resource, user)


async def my_drafts(db: Sessionmaker, telegram_id: int) -> list[ResourceView]:
    """The person's resources still theirs to edit (drafts, changes asked), newest first."""
    async with db() as session:
        user = await load_user(session, telegram_id)
        rows = (
            await session.scalars(
                select(Resource)
                .where(Resource.contributor_id == user.id, Resource.state.in_(EDITABLE))
                .order_by(Resource.updated_at.desc(), Resource.id.desc())
            )
        ).all()
        return await views_of(session, rows, user)


async def my_resources(db: Sessionmaker, telegram_id: int) -> list[ResourceView]:
    """Everything the person contributed, in any state, newest first."""
    async with db() as session:
        user = await load_user(session, telegram_id)
        rows = (
            await session.scalars(
                select(Resource)
                .where(Resource.contributor_id == user.id)
                .order_by(Resource.created_at.desc(), Resource.id.desc())
            )
        ).all()
        return await views_of(session, rows, user)


def _next_step(field: str) -> str:
    step = "file" if field == "url" else field
    index = STEPS.index(step)
    return STEPS[min(index + 1, len(STEPS) - 1)] if step != "file" else "preview"


async def _apply(
    session: AsyncSession, resource: Resource, user: User, roles: set[Role], field: str, value: Any
) -> None:
    """Check `value` for `field` and store it (None: skip an optional field / remove it)."""
    if value is None and field not in OPTIONAL:
        raise InvalidInput(
            MISSING.get(field, "bank.bad_field"),
            licenses=", ".join(LICENSES),
        )
    if field == "title":
        resource.title = parse_texts(value, line=True, limit=TITLE_MAX)
    elif field == "description":
        resource.description = (
            {} if value is None else parse_texts(value, line=False, limit=DESCRIPTION_MAX)
        )
    elif field == "discipline":
        if isinstance(value, int) and not isinstance(value, bool):
            row = await session.get(Discipline, value)
            if row is None or not (row.approved or row.proposed_by_id == user.id):
                raise InvalidInput("bank.discipline_not_found")
        else:
            row = await _propose(session, user, str(value))
        resource.discipline_id = row.id
    elif field == "kind":
        resource.kind = parse_enum(Kind, value, "bank.bad_kind").value
    elif field == "languages":
        resource.languages = list(parse_languages(value))
    elif field == "level":
        resource.level = parse_enum(Level, value, "bank.bad_level").value
    elif field == "license":
        resource.license = check_license(str(value))
    elif field == "authors":
        text = clean_line(str(value)) if value is not None else ""
        if len(text) > AUTHORS_MAX:
            raise InvalidInput(
                "bank.text_too_long", limit=AUTHORS_MAX, length=len(text), section=""
            )
        resource.authors = text or None
    elif field == "university":
        await _set_university(session, resource, user, roles, value)
    elif field == "file":
        if value is None:
            resource.file_id = resource.file_unique_id = resource.file_name = None
            resource.mime_type = None
            resource.file_size = None
        else:
            if not isinstance(value, FileInfo):
                raise InvalidInput("bank.bad_file_type", types=", ".join(sorted(FILE_TYPES)))
            info = check_file(value)
            resource.file_id = info.file_id
            resource.file_unique_id = info.file_unique_id
            resource.file_name = info.name
            resource.mime_type = info.mime_type
            resource.file_size = info.size
    elif field == "url":
        resource.url = None if value is None or not str(value).strip() else check_link(str(value))


async def _set_university(
    session: AsyncSession, resource: Resource, user: User, roles: set[Role], value: Any
) -> None:
    """Set the university a resource counts for: the contributor's by default.

    Another one only for admins and consortium-wide organizers (a resource counts in its
    university's contribution).
    """
    if value is None:
        resource.university_id = user.university_id
        return
    try:
        wanted = int(value)
    except (TypeError, ValueError):
        raise InvalidInput("bank.bad_university") from None
    if await session.get(University, wanted) is None:
        raise InvalidInput("bank.bad_university")
    if wanted != user.university_id:
        scopes = await organizer_scopes(session, user)
        if Role.ADMIN not in roles and None not in scopes and wanted not in scopes:
            raise PermissionDenied("bank.own_university_only")
    resource.university_id = wanted


async def set_field(
    db: Sessionmaker,
    telegram_id: int,
    admin_ids: frozenset[int],
    resource_id: int,
    field: str,
    value: Any,
) -> ResourceView:
    """Set one field of the contributor's draft (or of a resource sent back for changes).

    Fields and values: `title`, `description` (typed text with optional [kk]/[ru]/[en]
    sections, or language -> text; None skips the description), `discipline` (an id of the
    list, or a new name: proposed), `kind` (`Kind`), `languages` (`kk, ru` or a list),
    `level` (`Level`), `license` (one of `LICENSES`: required), `authors` (text; None: none),
    `university` (an id; None: the contributor's), `file` (a `FileInfo`; None removes it),
    `url` (a link; None removes it), and `step` (go to a step: the preview's Edit buttons).

    The draft moves to the next step; a field edited from the preview returns to the preview.
    Bad input raises its own message and changes nothing.

    Raises:
        PermissionDenied: `bank.not_yours`, `bank.not_contributor`, `bank.own_university_only`.
        InvalidInput: `bank.not_editable`, `bank.bad_field`, and each field's own message.
    """
    if field not in FIELDS:
        raise InvalidInput("bank.bad_field")
    async with db.begin() as session:
        resource, user, roles = await own_editable(session, telegram_id, admin_ids, resource_id)
        extra = dict(resource.extra or {})
        if field == "step":
            if value not in STEPS:
                raise InvalidInput("bank.bad_field")
            if resource.step == "preview" and value != "preview":
                extra["back"] = "preview"
            else:
                extra.pop("back", None)
            resource.step = str(value)
        else:
            await _apply(session, resource, user, roles, field, value)
            if extra.pop("back", None) == "preview":
                resource.step = "preview"
            elif resource.step != "preview":
                resource.step = _next_step(field)
        resource.extra = extra
        await session.flush()
        return await view_of(session, resource, user, with_file=True)


async def discard_draft(db: Sessionmaker, telegram_id: int, resource_id: int) -> None:
    """Delete the person's own draft (never submitted).

    Raises:
        PermissionDenied: `bank.not_yours`. InvalidInput: `bank.not_editable`.
    """
    async with db.begin() as session:
        user = await load_user(session, telegram_id)
        resource = await load_resource(session, resource_id, lock=True)
        if resource.contributor_id != user.id:
            raise PermissionDenied("bank.not_yours")
        if resource.state != State.DRAFT.value:
            raise InvalidInput("bank.not_editable")
        await session.delete(resource)


# --- finding ---------------------------------------------------------------------------------


def _language_filter(language: str) -> Any:
    """Resources in `language`: the JSON list's text holds `"kk"`.

    Portable; codes are checked to be two letters, so nothing in them is a LIKE wildcard.
    """
    return cast(Resource.languages, String).like(f'%"{language}"%')


async def browse(
    db: Sessionmaker,
    telegram_id: int,
    *,
    discipline_id: int | None = None,
    kind: Kind | str | None = None,
    language: str | None = None,
    university_id: int | None = None,
    page: int = 0,
    per_page: int = 5,
) -> Page:
    """Approved resources, newest first, filtered; one page (a page past the end: the last).

    Raises:
        InvalidInput: `bank.bad_kind`, `bank.bad_languages` (a filter naming nothing).
    """
    per_page = max(1, min(per_page, PER_PAGE_MAX))
    async with db() as session:
        viewer = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        stmt = select(Resource).where(Resource.state == State.APPROVED.value)
        if discipline_id is not None:
            stmt = stmt.where(Resource.discipline_id == discipline_id)
        if kind is not None:
            stmt = stmt.where(Resource.kind == parse_enum(Kind, kind, "bank.bad_kind").value)
        if language is not None:
            (code,) = parse_languages([language])
            stmt = stmt.where(_language_filter(code))
        if university_id is not None:
            stmt = stmt.where(Resource.university_id == university_id)
        total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        pages = max(1, ceil(total / per_page))
        page = max(0, min(page, pages - 1))
        rows = (
            await session.scalars(
                stmt.order_by(Resource.approved_at.desc(), Resource.id.desc())
                .offset(page * per_page)
                .limit(per_page)
            )
        ).all()
        return Page(await views_of(session, rows, viewer), total, page, pages)


async def _visible(
    session: AsyncSession, resource: Resource, user: User | None, admin_ids: frozenset[int]
) -> bool:
    """Approved resources to everyone; others to their contributor and their moderators."""
    if resource.state == State.APPROVED.value:
        return True
    if user is None:
        return False
    if resource.contributor_id == user.id:
        return True
    return await may_moderate_row(session, user, admin_ids, resource)


async def get(
    db: Sessionmaker,
    telegram_id: int,
    code_or_id: str | int,
    *,
    admin_ids: frozenset[int] = frozenset(),
) -> ResourceView:
    """A resource by its code (a deep link `?start=r-<code>`) or id, if the person may see it.

    Raises:
        NotFound: `bank.not_found` (also for one the person may not see).
    """
    async with db() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        if isinstance(code_or_id, int):
            resource = await session.get(Resource, code_or_id)
        else:
            code = clean_line(str(code_or_id)).lower()
            resource = await session.scalar(select(Resource).where(Resource.code == code))
        if resource is None or not await _visible(session, resource, user, admin_ids):
            raise NotFound("bank.not_found")
        moderator = user is not None and await may_moderate_row(session, user, admin_ids, resource)
        return await view_of(
            session,
            resource,
            user,
            with_file=resource.state == State.APPROVED.value
            or moderator
            or (user is not None and resource.contributor_id == user.id),
            with_contributor=moderator,
        )


async def open_resource(
    db: Sessionmaker,
    telegram_id: int,
    resource_id: int,
    *,
    admin_ids: frozenset[int] = frozenset(),
    now: datetime | None = None,
) -> ResourceView:
    """The resource to send (its `file_id` and link), counting one use per person.

    Opening an approved resource records the person's use once (later openings count in
    `opened`); a moderator or the contributor opening one not approved records nothing.

    Raises:
        NotFound: `bank.not_found`.
    """
    now = now or utcnow()
    async with db.begin() as session:
        user = await load_user(session, telegram_id)
        resource = await load_resource(session, resource_id)
        if not await _visible(session, resource, user, admin_ids):
            raise NotFound("bank.not_found")
        if resource.state == State.APPROVED.value:
            use = await session.scalar(
                select(ResourceUse)
                .where(ResourceUse.resource_id == resource.id, ResourceUse.user_id == user.id)
                .with_for_update()
            )
            if use is None:
                try:
                    async with session.begin_nested():
                        session.add(
                            ResourceUse(
                                resource_id=resource.id,
                                user_id=user.id,
                                first_used_at=now,
                                last_used_at=now,
                                opened=1,
                            )
                        )
                except IntegrityError:  # the same person's other tap, on another replica
                    use = await session.scalar(
                        select(ResourceUse).where(
                            ResourceUse.resource_id == resource.id, ResourceUse.user_id == user.id
                        )
                    )
            if use is not None:
                use.opened = (use.opened or 0) + 1
                use.last_used_at = now
            await session.flush()
        return await view_of(session, resource, user, with_file=True)


async def rate(
    db: Sessionmaker,
    telegram_id: int,
    resource_id: int,
    rating: int,
    comment: str | None = None,
    *,
    now: datetime | None = None,
) -> ResourceView:
    """Rate a resource the person used, 1..5 with an optional comment.

    A second rating replaces the first (its comment too).

    Raises:
        NotFound: `bank.not_found` (not approved).
        InvalidInput: `bank.rate_unused` (never opened), `bank.bad_rating`,
            `bank.text_too_long`.
    """
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput("bank.bad_rating")
    text = clean_block(comment or "")
    if len(text) > COMMENT_MAX:
        raise InvalidInput("bank.text_too_long", limit=COMMENT_MAX, length=len(text), section="")
    async with db.begin() as session:
        user = await load_user(session, telegram_id)
        resource = await load_resource(session, resource_id)
        if resource.state != State.APPROVED.value:
            raise NotFound("bank.not_found")
        used = await session.scalar(
            select(ResourceUse.id).where(
                ResourceUse.resource_id == resource.id, ResourceUse.user_id == user.id
            )
        )
        if used is None:
            raise InvalidInput("bank.rate_unused")
        row = await session.scalar(
            select(ResourceRating)
            .where(ResourceRating.resource_id == resource.id, ResourceRating.user_id == user.id)
            .with_for_update()
        )
        now = now or utcnow()
        if row is None:
            session.add(
                ResourceRating(
                    resource_id=resource.id,
                    user_id=user.id,
                    rating=rating,
                    comment=text or None,
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            row.rating = rating
            row.comment = text or None
            row.updated_at = now
        await session.flush()
        return await view_of(session, resource, user)
