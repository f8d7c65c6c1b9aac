"""The consortium's shared resource bank: disciplines, resources, their uses and ratings.

A member university contributes a resource (a file kept as Telegram's `file_id`, and/or a
link) with its metadata; organizers moderate it (approved, changes asked with a comment, or
rejected), and only approved resources are visible to others. Each person's use of a resource
is one row (counted once per person, however often they open it), each person's rating one row
(changeable). The contribution of a university is computed from these rows for a period.
Full-text search over titles and descriptions in kk/ru/en (migration 0014): `search_title`
and `search_description` hold every language's text case-folded in Python (set here before
every insert and update, so no writer can forget them), because PostgreSQL folds Cyrillic and
Kazakh letters only under a non-C locale; SQLite's FTS5 table and PostgreSQL's GIN index are
built on them.

`AppSetting` holds switches organizers change in chat (e.g. whether students may contribute).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin, UTCDateTime


class Discipline(IdMixin, TimestampMixin, Base):
    """A discipline resources belong to: kept by organizers, or proposed by a contributor."""

    __tablename__ = "discipline"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # language -> name
    approved: Mapped[bool] = mapped_column(Boolean, default=True)  # False: proposed, pending
    proposed_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL")
    )


class Resource(IdMixin, TimestampMixin, Base):
    """One contributed resource: its metadata, its file and/or link, and its moderation."""

    __tablename__ = "resource"
    __table_args__ = (Index("ix_resource_state_university_id", "state", "university_id"),)

    code: Mapped[str] = mapped_column(String(16), unique=True)  # deep links: ?start=r-<code>
    # draft, pending, changes (asked for changes), approved, rejected
    state: Mapped[str] = mapped_column(String(16), default="draft")
    step: Mapped[str | None] = mapped_column(String(24))  # the contribution conversation's step
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    discipline_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("discipline.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str | None] = mapped_column(String(24))  # textbook, method, lesson_plan, ...
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)  # of the resource itself
    level: Mapped[str | None] = mapped_column(String(16))  # bachelor, master, school
    license: Mapped[str | None] = mapped_column(String(40))
    authors: Mapped[str | None] = mapped_column(String(500))
    university_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("university.id", ondelete="SET NULL"), index=True
    )
    contributor_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL"), index=True
    )
    file_id: Mapped[str | None] = mapped_column(String(256))
    file_unique_id: Mapped[str | None] = mapped_column(String(128))
    file_name: Mapped[str | None] = mapped_column(String(256))
    mime_type: Mapped[str | None] = mapped_column(String(128))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    url: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderated_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL")
    )
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderation_comment: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the full-text index reads: every language's text, case-folded (see the docstring).
    search_title: Mapped[str | None] = mapped_column(Text)
    search_description: Mapped[str | None] = mapped_column(Text)


class ResourceUse(IdMixin, Base):
    """One person's use of one resource: counted once, however often they open it."""

    __tablename__ = "resource_use"
    __table_args__ = (UniqueConstraint("resource_id", "user_id"),)

    resource_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("resource.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened: Mapped[int] = mapped_column(Integer, default=1)  # how many times, for the record


class ResourceRating(IdMixin, TimestampMixin, Base):
    """One person's rating of one resource (1-5, an optional comment), changeable."""

    __tablename__ = "resource_rating"
    __table_args__ = (UniqueConstraint("resource_id", "user_id"),)

    resource_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("resource.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)


class AppSetting(Base):
    """A switch organizers change in chat, by key (e.g. `bank.students_contribute`)."""

    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# The search index of migration 0014 is no model: SQLite's FTS5 table (and the shadow tables
# FTS5 keeps beside it) and PostgreSQL's GIN expression index. Schema comparisons (Alembic's
# autogenerate, tests/test_migrations.py, tests/pg) leave them out by name.
SEARCH_TABLE = "resource_fts"
SEARCH_INDEX = "ix_resource_search"


def outside_models(name: str | None, type_: str, parent_names: Any = None) -> bool:
    """True for the search index's own tables and index, which no model describes."""
    if name is None:
        return False
    if type_ == "table":
        return name == SEARCH_TABLE or name.startswith(f"{SEARCH_TABLE}_")
    return type_ == "index" and name == SEARCH_INDEX


def include_name(name: str | None, type_: str, parent_names: Any = None) -> bool:
    """Alembic's `include_name`: everything but the search index (`outside_models`)."""
    return not outside_models(name, type_, parent_names)


def folded(texts: Mapping[str, str] | None) -> str:
    """Every language's text of a title or description, NFC and case-folded, one string."""
    return " ".join(
        unicodedata.normalize("NFC", str(text)).casefold()
        for text in (texts or {}).values()
        if text
    )


@event.listens_for(Resource, "before_insert")
@event.listens_for(Resource, "before_update")
def _fold_for_search(_mapper: Any, _connection: Any, resource: Resource) -> None:
    """Keep the search columns in step with the title and description on every ORM write."""
    resource.search_title = folded(resource.title)
    resource.search_description = folded(resource.description)
