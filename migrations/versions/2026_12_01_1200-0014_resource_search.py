"""The resource bank's full-text index over approved resources' titles and descriptions.

Reviewed by hand. The search (bot/services/resource_search.py) looks through the titles and
descriptions of approved resources in every language they were given in (kk, ru, en and the
unmarked "*"), ranked, never with LIKE '%...%' over the whole table.

Two columns on `resource`, `search_title` and `search_description`, hold every language's text
NFC-normalised and case-folded in Python (the model sets them before every ORM insert and
update; existing rows are filled here). Folding in Python because PostgreSQL's text search
lower-cases non-ASCII letters only under a non-C locale: on a database created with
`--locale=C` "Искусственный" stayed capitalised in the index and the word typed in any case
was never found. Each backend then indexes these columns, and neither index is a model:
tests/test_migrations.py and tests/pg compare the rest with the models and leave them out by
name (`models.resource.outside_models`).

- SQLite: an FTS5 table `resource_fts` (title, description; rowid = resource.id; the
  unicode61 tokenizer, diacritics removed), kept in sync by three triggers on `resource`: a row
  enters it when it is inserted approved or updated to approved, is replaced when an approved
  row's search texts change, and leaves when it stops being approved or is deleted. Triggers
  rather than the service: every path that writes a resource (moderation, the default content,
  a later admin tool) keeps the index right without knowing it exists. CAUTION: SQLite drops a
  table's triggers with it, so a later migration that recreates `resource` in batch mode must
  create the three triggers again (`_create_triggers`) and refill the index (`_fill_index`).
- PostgreSQL: a GIN expression index `ix_resource_search` on
  setweight(to_tsvector('simple', search_title), 'A') || setweight(to_tsvector('simple',
  search_description), 'B'), partial on state = 'approved': no extra table and nothing more
  to keep in sync; the search writes the same expression so the planner uses it. 'simple'
  because the texts are in three languages and PostgreSQL has no Kazakh stemmer: words are
  matched as written, the last one typed as a prefix.

Downgrade removes the index (and on SQLite the triggers), then the two columns.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 12:00:00.000000
"""

import unicodedata
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must stay character for character what bot/services/resource_search.py searches.
PG_DOCUMENT = (
    "(setweight(to_tsvector('simple'::regconfig, coalesce(search_title, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(search_description, '')), 'B'))"
)


def _folded(texts: Any) -> str:
    """models.resource.folded as of this revision: every language's text, NFC, case-folded."""
    if not isinstance(texts, dict):
        return ""
    return " ".join(
        unicodedata.normalize("NFC", str(text)).casefold() for text in texts.values() if text
    )


def _fill_columns() -> None:
    resource = sa.table(
        "resource",
        sa.column("id", sa.Integer),
        sa.column("title", sa.JSON),
        sa.column("description", sa.JSON),
        sa.column("search_title", sa.Text),
        sa.column("search_description", sa.Text),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(resource.c.id, resource.c.title, resource.c.description))
    for row_id, title, description in rows.all():
        bind.execute(
            resource.update()
            .where(resource.c.id == row_id)
            .values(search_title=_folded(title), search_description=_folded(description))
        )


def _create_triggers() -> None:
    title, description = "new.search_title", "new.search_description"
    op.execute(
        "CREATE TRIGGER resource_fts_insert AFTER INSERT ON resource "
        "WHEN new.state = 'approved' BEGIN "
        "INSERT INTO resource_fts (rowid, title, description) "
        f"VALUES (new.id, {title}, {description}); END"
    )
    op.execute(
        "CREATE TRIGGER resource_fts_update "
        "AFTER UPDATE OF state, search_title, search_description "
        "ON resource BEGIN "
        "DELETE FROM resource_fts WHERE rowid = old.id; "
        "INSERT INTO resource_fts (rowid, title, description) "
        f"SELECT new.id, {title}, {description} WHERE new.state = 'approved'; END"
    )
    op.execute(
        "CREATE TRIGGER resource_fts_delete AFTER DELETE ON resource BEGIN "
        "DELETE FROM resource_fts WHERE rowid = old.id; END"
    )


def _fill_index() -> None:
    op.execute("DELETE FROM resource_fts")
    op.execute(
        "INSERT INTO resource_fts (rowid, title, description) "
        "SELECT id, search_title, search_description FROM resource WHERE state = 'approved'"
    )


def upgrade() -> None:
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("search_description", sa.Text(), nullable=True))
    _fill_columns()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE resource_fts USING fts5("
            "title, description, tokenize = 'unicode61 remove_diacritics 2')"
        )
        _create_triggers()
        _fill_index()
    elif dialect == "postgresql":
        op.execute(
            f"CREATE INDEX ix_resource_search ON resource USING gin ({PG_DOCUMENT}) "
            "WHERE state = 'approved'"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("resource_fts_insert", "resource_fts_update", "resource_fts_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS resource_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_resource_search")
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_column("search_description")
        batch_op.drop_column("search_title")
