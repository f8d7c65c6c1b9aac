"""Free-text search over the approved resources' titles and descriptions, in kk, ru and en.

The index is migration 0014's, over `resource.search_title` and `search_description` (every
language's text, case-folded by the model on each write): SQLite's FTS5 table `resource_fts`,
kept by triggers on `resource` (a row is in it exactly while it is approved), and on
PostgreSQL a GIN index on `DOCUMENT` below, partial on approved rows. A Kazakh, Russian or
English word finds the resource whichever language the searcher uses; the words typed are
case-folded the same way, so case never matters, whatever the database's locale.

What people type is only ever text: it is cut to `QUERY_MAX` characters, split into words
(letters and digits; everything else, quotes, `*`, `-`, `:`, parentheses, `AND`/`OR`/`NEAR`
as operators, SQL, separates words and means nothing), and each word is quoted before it
reaches FTS5's MATCH or PostgreSQL's `to_tsquery`, and bound as a parameter. Every word must
be found (AND); the last one is matched as a prefix, so results follow someone typing an inline
query. `AND`, `OR` and `NEAR` typed are words like any other.

Ranked by relevance: BM25 on SQLite (a title word weighs `TITLE_WEIGHT` times a description
word), `ts_rank` on PostgreSQL (titles weighted A, descriptions B); ties newest approved first.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select, text

from bot.db import Sessionmaker
from bot.services.resource_fields import ResourceView, State
from bot.services.resource_views import views_of
from models import Resource, User

QUERY_MAX = 300  # characters of a query looked at; the rest is cut
WORDS_MAX = 12  # words of a query looked at
LIMIT_MAX = 50  # Telegram shows at most 50 inline results
TITLE_WEIGHT = 3.0
_WORD = re.compile(r"[^\W_]+")

# Character for character the expression of migration 0014's index (a test compares them):
# PostgreSQL uses an expression index only for the same expression.
DOCUMENT = (
    "(setweight(to_tsvector('simple'::regconfig, coalesce(search_title, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(search_description, '')), 'B'))"
)

_SQLITE = f"""
SELECT resource.id FROM resource_fts JOIN resource ON resource.id = resource_fts.rowid
WHERE resource_fts MATCH :query AND resource.state = '{State.APPROVED.value}'
ORDER BY bm25(resource_fts, {TITLE_WEIGHT}, 1.0), resource.approved_at DESC, resource.id DESC
LIMIT :limit OFFSET :offset
"""
_POSTGRESQL = f"""
SELECT resource.id FROM resource, to_tsquery('simple'::regconfig, :query) AS query
WHERE resource.state = '{State.APPROVED.value}' AND {DOCUMENT} @@ query
ORDER BY ts_rank({DOCUMENT}, query) DESC, resource.approved_at DESC, resource.id DESC
LIMIT :limit OFFSET :offset
"""


def words(query: str) -> list[str]:
    """The words of a query as searched: letters and digits only, NFC, case-folded, at most 12."""
    typed = unicodedata.normalize("NFC", (query or "")[:QUERY_MAX])
    return [word.casefold() for word in _WORD.findall(typed)][:WORDS_MAX]


def fts5_query(found: list[str]) -> str:
    """An FTS5 MATCH expression: every word quoted (a phrase of one), the last a prefix."""
    quoted = [f'"{word}"' for word in found]
    quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(found: list[str]) -> str:
    """A `to_tsquery` text: every word quoted as a lexeme, joined by &, the last a prefix."""
    quoted = [f"'{word}'" for word in found]
    quoted[-1] += ":*"
    return " & ".join(quoted)


async def search(
    db: Sessionmaker, telegram_id: int, query: str, *, limit: int = 10, offset: int = 0
) -> list[ResourceView]:
    """Approved resources whose title or description holds every word of `query`, best first.

    A query with no word in it (empty, only punctuation or operators' signs) finds nothing.
    `limit` is at most 50; `offset` pages on (an inline query's `next_offset`).
    """
    found = words(query)
    if not found:
        return []
    limit = max(1, min(int(limit), LIMIT_MAX))
    offset = max(0, int(offset))
    async with db() as session:
        postgresql = session.get_bind().dialect.name == "postgresql"
        ids = list(
            (
                await session.scalars(
                    text(_POSTGRESQL if postgresql else _SQLITE),
                    {
                        "query": tsquery(found) if postgresql else fts5_query(found),
                        "limit": limit,
                        "offset": offset,
                    },
                )
            ).all()
        )
        if not ids:
            return []
        viewer = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        rows = {
            r.id: r for r in await session.scalars(select(Resource).where(Resource.id.in_(ids)))
        }
        return await views_of(session, [rows[i] for i in ids if i in rows], viewer)
