"""The resource bank's shared pieces: loading rows, rights, and the views people see.

`views_of` builds `ResourceView`s for any number of resources in a few queries (uses, ratings,
the viewer's own use and rating, discipline and university names). Rights: contributors are
coaches, organizers and admins, and students while the AppSetting `bank.students_contribute`
is on; moderators are organizers (of the resource's university, or consortium-wide) and
admins.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessionmaker
from bot.services import InvalidInput, NotFound, PermissionDenied
from bot.services.resource_fields import (
    CODE_ALPHABET,
    CONTRIBUTORS,
    EDITABLE,
    MODERATORS,
    STUDENTS_CONTRIBUTE,
    Kind,
    Level,
    ResourceView,
    State,
)
from bot.services.roles import Role, require, roles_of
from models import (
    AppSetting,
    Discipline,
    Resource,
    ResourceRating,
    ResourceUse,
    University,
    User,
    UserRole,
    utcnow,
)

# --- loading, rights and views ------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


async def load_user(session: AsyncSession, telegram_id: int) -> User:
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise PermissionDenied("errors.not_allowed")
    return user


async def load_resource(
    session: AsyncSession, resource_id: int, *, lock: bool = False
) -> Resource:
    stmt = select(Resource).where(Resource.id == resource_id)
    if lock:
        stmt = stmt.with_for_update()
    resource = await session.scalar(stmt)
    if resource is None:
        raise NotFound("bank.not_found")
    return resource


async def organizer_scopes(session: AsyncSession, user: User) -> list[int | None]:
    """The universities the person is an organizer of (None: the whole consortium)."""
    return list(
        (
            await session.scalars(
                select(UserRole.university_id).where(
                    UserRole.user_id == user.id, UserRole.role == Role.ORGANIZER.value
                )
            )
        ).all()
    )


def moderates(roles: set[Role], scopes: Sequence[int | None], university_id: int | None) -> bool:
    """Admins moderate every resource; organizers their university's (all when consortium-wide)."""
    if Role.ADMIN in roles:
        return True
    return any(scope is None or scope == university_id for scope in scopes)


async def may_moderate_row(
    session: AsyncSession, user: User, admin_ids: frozenset[int], resource: Resource
) -> bool:
    roles = await roles_of(session, user, admin_ids)
    if not roles.intersection(MODERATORS):
        return False
    return moderates(roles, await organizer_scopes(session, user), resource.university_id)


async def university_names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, dict]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.scalars(select(University).where(University.id.in_(wanted)))
    return {u.id: {"kk": u.name_kk, "ru": u.name_ru, "en": u.name_en} for u in rows}


async def views_of(
    session: AsyncSession,
    resources: Sequence[Resource],
    viewer: User | None,
    *,
    with_file: bool = False,
    with_contributor: bool = False,
) -> list[ResourceView]:
    """Views of `resources` with their numbers, in a few queries whatever their count."""
    if not resources:
        return []
    ids = [r.id for r in resources]
    uses = dict(
        (
            await session.execute(
                select(ResourceUse.resource_id, func.count())
                .where(ResourceUse.resource_id.in_(ids))
                .group_by(ResourceUse.resource_id)
            )
        ).all()
    )
    ratings = {
        rid: (int(n), float(mean) if mean is not None else None)
        for rid, n, mean in (
            await session.execute(
                select(
                    ResourceRating.resource_id,
                    func.count(),
                    func.avg(ResourceRating.rating),
                )
                .where(ResourceRating.resource_id.in_(ids))
                .group_by(ResourceRating.resource_id)
            )
        ).all()
    }
    mine_used: set[int] = set()
    mine_rated: dict[int, tuple[int, str | None]] = {}
    if viewer is not None:
        mine_used = set(
            (
                await session.scalars(
                    select(ResourceUse.resource_id).where(
                        ResourceUse.resource_id.in_(ids), ResourceUse.user_id == viewer.id
                    )
                )
            ).all()
        )
        mine_rated = {
            rid: (int(rating), comment)
            for rid, rating, comment in (
                await session.execute(
                    select(
                        ResourceRating.resource_id, ResourceRating.rating, ResourceRating.comment
                    ).where(
                        ResourceRating.resource_id.in_(ids), ResourceRating.user_id == viewer.id
                    )
                )
            ).all()
        }
    disciplines = {
        d.id: d
        for d in (
            await session.scalars(
                select(Discipline).where(
                    Discipline.id.in_({r.discipline_id for r in resources if r.discipline_id})
                )
            )
        ).all()
    }
    universities = await university_names(session, (r.university_id for r in resources))
    names: dict[int, str] = {}
    if with_contributor:
        names = dict(
            (
                await session.execute(
                    select(User.id, User.first_name).where(
                        User.id.in_({r.contributor_id for r in resources if r.contributor_id})
                    )
                )
            ).all()
        )
    views = []
    for r in resources:
        n, mean = ratings.get(r.id, (0, None))
        discipline = disciplines.get(r.discipline_id) if r.discipline_id else None
        mine = mine_rated.get(r.id)
        views.append(
            ResourceView(
                id=r.id,
                code=r.code,
                state=State(r.state),
                step=r.step,
                title=dict(r.title or {}),
                description=dict(r.description or {}),
                discipline_id=r.discipline_id,
                discipline_name=dict(discipline.name) if discipline else None,
                kind=Kind(r.kind) if r.kind else None,
                languages=tuple(r.languages or ()),
                level=Level(r.level) if r.level else None,
                license=r.license,
                authors=r.authors,
                university_id=r.university_id,
                university_name=universities.get(r.university_id) if r.university_id else None,
                contributor_id=r.contributor_id,
                file_name=r.file_name,
                mime_type=r.mime_type,
                file_size=r.file_size,
                has_file=r.file_id is not None,
                url=r.url,
                submitted_at=r.submitted_at,
                approved_at=r.approved_at,
                moderation_comment=r.moderation_comment,
                uses=int(uses.get(r.id, 0)),
                ratings=n,
                rating_mean=mean,
                my_rating=mine[0] if mine else None,
                used_by_me=r.id in mine_used,
                file_id=r.file_id if with_file else None,
                contributor_name=names.get(r.contributor_id) if r.contributor_id else None,
                my_comment=mine[1] if mine else None,
            )
        )
    return views


async def view_of(
    session: AsyncSession, resource: Resource, viewer: User | None, **options: bool
) -> ResourceView:
    return (await views_of(session, [resource], viewer, **options))[0]


# --- who may contribute ----------------------------------------------------------------------


async def students_may_contribute(session: AsyncSession) -> bool:
    setting = await session.get(AppSetting, STUDENTS_CONTRIBUTE)
    return bool(setting is not None and setting.value)


async def students_contribute(db: Sessionmaker) -> bool:
    """Whether the organizers let students contribute."""
    async with db() as session:
        return await students_may_contribute(session)


async def require_contributor(
    session: AsyncSession, telegram_id: int, admin_ids: frozenset[int]
) -> tuple[User, set[Role]]:
    user = await load_user(session, telegram_id)
    roles = await roles_of(session, user, admin_ids)
    if not roles.intersection(CONTRIBUTORS) and not await students_may_contribute(session):
        raise PermissionDenied("bank.not_contributor")
    return user, roles


async def may_contribute(db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int]) -> bool:
    """Coaches, organizers and admins may; students too while the organizers allow it."""
    async with db() as session:
        try:
            await require_contributor(session, telegram_id, admin_ids)
        except PermissionDenied:
            return False
        return True


async def may_moderate(db: Sessionmaker, telegram_id: int, admin_ids: frozenset[int]) -> bool:
    """Whether the person is an organizer or an admin (they see a moderation queue)."""
    async with db() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        if user is None:
            return False
        return bool((await roles_of(session, user, admin_ids)).intersection(MODERATORS))


async def set_students_contribute(
    db: Sessionmaker, actor_id: int, admin_ids: frozenset[int], on: bool
) -> bool:
    """Let students contribute (or stop them); organizers and admins. The new value.

    Raises:
        PermissionDenied: `errors.not_allowed`.
    """
    async with db.begin() as session:
        user, _ = await require(session, actor_id, admin_ids, *MODERATORS)
        setting = await session.get(AppSetting, STUDENTS_CONTRIBUTE)
        if setting is None:
            setting = AppSetting(key=STUDENTS_CONTRIBUTE, value=bool(on))
            session.add(setting)
        setting.value = bool(on)
        setting.updated_by_id = user.id
        setting.updated_at = utcnow()
        return bool(on)


async def own_editable(
    session: AsyncSession, telegram_id: int, admin_ids: frozenset[int], resource_id: int
) -> tuple[Resource, User, set[Role]]:
    user, roles = await require_contributor(session, telegram_id, admin_ids)
    resource = await load_resource(session, resource_id, lock=True)
    if resource.contributor_id != user.id:
        raise PermissionDenied("bank.not_yours")
    if resource.state not in EDITABLE:
        raise InvalidInput("bank.not_editable")
    return resource, user, roles


def missing(resource: Resource | ResourceView) -> list[str]:
    """The required fields a resource still lacks, in the steps' order ("file": a file or link)."""
    lacks = []
    if not resource.title:
        lacks.append("title")
    if resource.discipline_id is None:
        lacks.append("discipline")
    if not resource.kind:
        lacks.append("kind")
    if not resource.languages:
        lacks.append("languages")
    if not resource.level:
        lacks.append("level")
    if not resource.license:
        lacks.append("license")
    has_file = (
        resource.has_file if isinstance(resource, ResourceView) else resource.file_id is not None
    )
    if not has_file and not resource.url:
        lacks.append("file")
    return lacks
