"""/bank_stats for organizers and admins: each university's contribution to the resource bank.

For a period (`since` inclusive, `until` exclusive, either open), per member university U:

- approved(U): U's resources approved in the period and still approved, also by kind and by
  discipline;
- uses(U): people who first used one of U's approved resources in the period (a person counts
  once per resource, `resource_use`), and of them uses_by_others(U): people whose own
  university is another member university (people with no university are in `uses` only:
  nobody can say whose they are);
- ratings(U) and mean_rating(U): the ratings of U's approved resources as they stand, given or
  last changed in the period, and their mean (1..5; None with no rating);
- the two contribution shares, both shown, neither folded into the other:

      share_resources(U) = approved(U) / Σ_V approved(V)
      share_uses(U)      = uses_by_others(U) / Σ_V uses_by_others(V)

  over the member universities V (resources of no university, such as the bank's demo
  content, count for none and are left out of both sums; `unassigned` counts them). A share is
  None when its sum is 0. The first says how much of the bank a university wrote, the second
  how much of what the consortium's universities take from each other comes from it; a
  university's own people using its resources count in neither.

Who sees it: organizers (every university's figures: the shares compare universities) and
admins; the rights are read from the database on every call. The chart is drawn like
`bot.services.charts` (matplotlib's object API on Agg, DejaVu Sans for the Kazakh letters).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import aliased

from bot.db import Sessionmaker
from bot.services import chart_pool
from bot.services.charts import (
    CURRENT_COLOR,
    DPI,
    FONT_FAMILY,
    GRID_COLOR,
    PREVIOUS_COLOR,
    TEXT_COLOR,
    WIDTH_IN,
)
from bot.services.resource_fields import MODERATORS, State, pick
from bot.services.roles import require
from models import Discipline, Resource, ResourceRating, ResourceUse, University, User


@dataclass(frozen=True)
class UniversityContribution:
    """One university's figures for the period (see the module's docstring for each)."""

    university_id: int
    code: str
    name: dict[str, str]  # language -> name
    country: str
    approved: int
    by_kind: dict[str, int]  # kind -> approved
    by_discipline: dict[int | None, int]  # discipline id (None: none) -> approved
    uses: int
    uses_by_others: int
    ratings: int
    rating_mean: float | None
    share_resources: float | None  # 0..1
    share_uses: float | None  # 0..1


@dataclass(frozen=True)
class BankStats:
    """Every member university's contribution for one period, largest share of resources first."""

    since: datetime | None
    until: datetime | None
    universities: list[UniversityContribution]
    approved: int  # Σ approved over the universities
    uses_by_others: int  # Σ uses_by_others over the universities
    unassigned: int  # resources approved in the period with no university (the demo content)
    disciplines: dict[int, dict[str, str]] = field(default_factory=dict)  # id -> names


def _within(column: Any, since: datetime | None, until: datetime | None) -> ColumnElement[bool]:
    conditions = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return and_(True, *conditions)


async def contribution(
    db: Sessionmaker,
    actor_id: int,
    admin_ids: frozenset[int],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> BankStats:
    """The contribution figures of every member university for the period.

    Listed: every active university, and an inactive one with figures; ordered by the share of
    approved resources, then of uses by others, then by code.

    Raises:
        PermissionDenied: not an organizer or admin (`errors.not_allowed`).
    """
    approved_now = Resource.state == State.APPROVED.value
    async with db() as session:
        await require(session, actor_id, admin_ids, *MODERATORS)
        approved_rows = (
            await session.execute(
                select(Resource.university_id, Resource.kind, Resource.discipline_id, func.count())
                .where(approved_now, _within(Resource.approved_at, since, until))
                .group_by(Resource.university_id, Resource.kind, Resource.discipline_id)
            )
        ).all()
        user = aliased(User)
        used = (
            select(
                Resource.university_id,
                func.count(),
                func.count().filter(
                    user.university_id.is_not(None),
                    user.university_id != Resource.university_id,
                ),
            )
            .select_from(ResourceUse)
            .join(Resource, Resource.id == ResourceUse.resource_id)
            .join(user, user.id == ResourceUse.user_id)
            .where(
                approved_now,
                Resource.university_id.is_not(None),
                _within(ResourceUse.first_used_at, since, until),
            )
            .group_by(Resource.university_id)
        )
        uses = {uid: (int(n), int(others)) for uid, n, others in (await session.execute(used))}
        rated = (
            select(Resource.university_id, func.count(), func.avg(ResourceRating.rating))
            .select_from(ResourceRating)
            .join(Resource, Resource.id == ResourceRating.resource_id)
            .where(
                approved_now,
                Resource.university_id.is_not(None),
                _within(ResourceRating.updated_at, since, until),
            )
            .group_by(Resource.university_id)
        )
        ratings = {
            uid: (int(n), float(mean) if mean is not None else None)
            for uid, n, mean in (await session.execute(rated))
        }
        universities = list(await session.scalars(select(University).order_by(University.code)))
        discipline_ids = {d for _, _, d, _ in approved_rows if d is not None}
        disciplines = {
            row.id: dict(row.name or {})
            for row in await session.scalars(
                select(Discipline).where(Discipline.id.in_(discipline_ids))
            )
        }
    return _figures(since, until, approved_rows, uses, ratings, universities, disciplines)


def _figures(
    since: datetime | None,
    until: datetime | None,
    approved_rows: Any,
    uses: dict[int | None, tuple[int, int]],
    ratings: dict[int | None, tuple[int, float | None]],
    universities: list[University],
    disciplines: dict[int, dict[str, str]],
) -> BankStats:
    """The figures and shares, from the grouped counts."""
    by_kind: dict[int, dict[str, int]] = {}
    by_discipline: dict[int, dict[int | None, int]] = {}
    unassigned = 0
    for university_id, kind, discipline_id, n in approved_rows:
        if university_id is None:
            unassigned += int(n)
            continue
        kinds = by_kind.setdefault(university_id, {})
        kinds[kind or ""] = kinds.get(kind or "", 0) + int(n)
        subjects = by_discipline.setdefault(university_id, {})
        subjects[discipline_id] = subjects.get(discipline_id, 0) + int(n)
    known = {u.id for u in universities}
    total_approved = sum(sum(k.values()) for uid, k in by_kind.items() if uid in known)
    total_others = sum(others for uid, (_, others) in uses.items() if uid in known)
    rows = []
    for university in universities:
        approved = sum(by_kind.get(university.id, {}).values())
        n_uses, others = uses.get(university.id, (0, 0))
        n_ratings, mean = ratings.get(university.id, (0, None))
        if not university.active and not (approved or n_uses or n_ratings):
            continue
        rows.append(
            UniversityContribution(
                university_id=university.id,
                code=university.code,
                name={
                    "kk": university.name_kk,
                    "ru": university.name_ru,
                    "en": university.name_en,
                },
                country=university.country,
                approved=approved,
                by_kind=dict(sorted(by_kind.get(university.id, {}).items())),
                by_discipline=dict(by_discipline.get(university.id, {})),
                uses=n_uses,
                uses_by_others=others,
                ratings=n_ratings,
                rating_mean=mean,
                share_resources=approved / total_approved if total_approved else None,
                share_uses=others / total_others if total_others else None,
            )
        )
    rows.sort(key=lambda r: (-(r.share_resources or 0), -(r.share_uses or 0), r.code))
    return BankStats(
        since=since,
        until=until,
        universities=rows,
        approved=total_approved,
        uses_by_others=total_others,
        unassigned=unassigned,
        disciplines=disciplines,
    )


# --- the chart --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, in the viewer's language (the handler translates them)."""

    title: str = "Contribution to the resource bank"
    resources: str = "share of approved resources, %"
    uses: str = "share of uses by other universities, %"
    empty: str = "Nothing approved or used in this period"


_FONT = FontProperties(family=FONT_FAMILY, size=9)
_TITLE_FONT = FontProperties(family=FONT_FAMILY, size=13, weight="bold")
MAX_ROWS = 30  # a guard: far inside Telegram's photo limits


def _wrap(text: str, width: int = 32) -> str:
    """`text` on at most two lines."""
    return "\n".join(textwrap.wrap(" ".join(text.split()), width, max_lines=2, placeholder=" …"))


def render_bank_chart(
    stats: BankStats, language: str = "en", labels: ChartLabels | None = None
) -> bytes:
    """PNG bytes: each university's two shares side by side, in percent."""
    words = labels or ChartLabels()
    rows = [u for u in stats.universities if u.approved or u.uses_by_others][:MAX_ROWS]
    height = max(2.6, 1.6 + 0.5 * len(rows))
    fig = Figure(
        figsize=(WIDTH_IN, height),
        dpi=DPI,
        facecolor="white",
        layout=ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.1),
    )
    FigureCanvasAgg(fig)
    fig.suptitle(
        _wrap(words.title, 60), fontproperties=_TITLE_FONT, color=TEXT_COLOR, parse_math=False
    )
    ax = fig.subplots()
    if not rows:
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            words.empty,
            ha="center",
            va="center",
            fontproperties=_FONT,
            color=TEXT_COLOR,
            parse_math=False,
        )
    else:
        places = range(len(rows))
        resources = [100 * (u.share_resources or 0) for u in rows]
        uses = [100 * (u.share_uses or 0) for u in rows]
        ax.barh([i - 0.19 for i in places], resources, height=0.36, color=PREVIOUS_COLOR, zorder=2)
        ax.barh([i + 0.19 for i in places], uses, height=0.36, color=CURRENT_COLOR, zorder=2)
        top = max(*resources, *uses)
        ax.set_xlim(0, max(10, min(100, math.ceil(top * 1.1))))
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_yticks(
            list(places),
            [_wrap(pick(u.name, language) or u.code) for u in rows],
            fontproperties=_FONT,
            color=TEXT_COLOR,
            parse_math=False,
        )
        ax.tick_params(axis="y", length=0, pad=6)
        ax.tick_params(axis="x", labelsize=9, labelcolor=TEXT_COLOR, labelfontfamily=FONT_FAMILY)
        ax.xaxis.grid(True, color=GRID_COLOR, linewidth=0.8, zorder=0)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        legend = ax.legend(
            [words.resources, words.uses], loc="lower right", frameon=False, prop=_FONT
        )
        for entry in legend.get_texts():
            entry.set_parse_math(False)
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


async def render_bank_chart_async(
    stats: BankStats, language: str = "en", labels: ChartLabels | None = None
) -> bytes:
    """`render_bank_chart` in a chart worker process (`chart_pool`), off the loop and the GIL."""
    return await chart_pool.run(render_bank_chart, stats, language, labels)
