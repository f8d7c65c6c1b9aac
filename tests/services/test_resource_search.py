"""Free-text search of the resource bank (bot/services/resource_search.py) on a real database:
three languages, ranking, prefixes, only approved resources, and whatever people type (FTS
syntax, SQL, 300 characters and more) treated as plain text."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.services import resources as bank
from bot.services.resource_search import DOCUMENT, QUERY_MAX, fts5_query, search, tsquery, words
from models import Resource
from tests.services.test_resources import ADMINS, COACH, I18N, ORG0, STUDENT, complete, world

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


async def publish(db, title, description=None, *, at=NOW, **fields):
    """An approved resource with this title and description (typed with [kk]/[ru]/[en])."""
    view = await complete(db, title=title, description=description, **fields)
    await bank.submit(db, COACH, ADMINS, view.id, i18n=I18N)
    await bank.approve(db, ORG0, ADMINS, view.id, i18n=I18N, now=at)
    return view.id


async def found(db, query, **options):
    """The ids the search finds for `query`, best first (the shipped resources, which belong
    to no university and hold common words, left out)."""
    views = await search(db, STUDENT, query, **options)
    return [view.id for view in views if view.university_id is not None]


async def test_a_resource_is_found_in_each_of_its_languages(db):
    """A resource titled in kk, ru and en is found by a word of each title, whatever case it is
    typed in, Kazakh letters included; and by a word of its description."""
    await world(db)
    made = await publish(
        db,
        "[kk] Мұғалімдерге арналған жасанды интеллект\n"
        "[ru] Искусственный интеллект для учителей\n"
        "[en] Artificial intelligence for teachers",
        "[en] Prompts, ethics and classroom cases",
    )
    for query in ("жасанды", "ИНТЕЛЛЕКТ", "Искусственный", "teachers", "мұғалімдерге", "ethics"):
        assert await found(db, query) == [made], query


async def test_every_word_must_match_and_the_last_is_a_prefix(db):
    """Two words find only resources holding both; the last word typed halfway (inline typing)
    still finds; a word in the middle typed halfway does not."""
    await world(db)
    python = await publish(db, "[en] Python programming basics")
    scratch = await publish(db, "[en] Scratch programming for schools")
    assert set(await found(db, "programming")) == {python, scratch}
    assert await found(db, "programming python") == [python]
    assert await found(db, "python progr") == [python]
    assert await found(db, "scra") == [scratch]
    assert await found(db, "progr python") == []


async def test_title_matches_rank_above_description_matches_and_ties_go_newest_first(db):
    """A word in the title ranks a resource above one with the word only in its description;
    among equals the newest approval comes first."""
    await world(db)
    described = await publish(db, "[en] Lesson plans", "[en] Plans for a robotics club", at=NOW)
    titled = await publish(db, "[en] Robotics for beginners", "[en] Motors and sensors", at=NOW)
    assert await found(db, "robotics") == [titled, described]
    older = await publish(db, "[en] Geometry workbook", at=NOW - timedelta(days=2))
    newer = await publish(db, "[en] Geometry workbook", at=NOW + timedelta(days=2))
    assert await found(db, "geometry") == [newer, older]


async def test_only_approved_resources_are_found(db):
    """A draft and a pending resource are not found; once approved it is; sent back for
    changes it is not (it left the index); an approved one is found after edits elsewhere."""
    await world(db)
    draft = await complete(db, title="[en] Stoichiometry drills")
    assert await found(db, "stoichiometry") == []
    await bank.submit(db, COACH, ADMINS, draft.id, i18n=I18N)
    assert await found(db, "stoichiometry") == []
    await bank.approve(db, ORG0, ADMINS, draft.id, i18n=I18N)
    assert await found(db, "stoichiometry") == [draft.id]
    other = await complete(db, title="[en] Titration lab")
    await bank.submit(db, COACH, ADMINS, other.id, i18n=I18N)
    await bank.ask_changes(db, ORG0, ADMINS, other.id, "Add safety notes", i18n=I18N)
    assert await found(db, "titration") == []


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"unbalanced',
        "NEAR(alpha beta)",
        "alpha OR beta",
        "alpha AND NOT beta",
        "*",
        "alpha*",
        "-alpha",
        "title:alpha",
        "alpha^",
        "(alpha",
        "alpha) OR (1=1",
        "'; DROP TABLE resource; --",
        "x' OR '1'='1",
        "alpha & beta | !gamma <-> delta:*",
        "\\",
        "%_%",
        "\x00alpha",
        "",
        "   ",
    ],
)
async def test_fts_and_sql_syntax_is_treated_as_text(db, query):
    """Quotes, operators, column filters, wildcards, parentheses and SQL typed into the search
    raise nothing and match only the words in them: 'alpha' and 'beta' alone find the
    resource named after them, operators find nothing extra, and the table is still there."""
    await world(db)
    made = await publish(db, "[en] Alpha beta gamma delta")
    result = await found(db, query)
    expected_words = words(query)
    named = {"alpha", "beta", "gamma", "delta"}
    if expected_words and set(expected_words) <= named:
        assert result == [made], query
    else:
        assert made not in result, query
    async with db() as session:
        assert await session.scalar(select(func.count(Resource.id))) > 0


async def test_a_long_query_is_cut_at_300_characters(db):
    """A query of 300+ characters raises nothing: what is past the 300th character is not
    looked at, so a word there neither finds nor hides anything."""
    await world(db)
    made = await publish(db, "[ru] Методика преподавания информатики")
    assert await found(db, "методика" + " " * (QUERY_MAX - 8) + "zzzz") == [made]
    assert await found(db, "ы" * 5000) == []
    assert await found(db, "методика " * 200) == [made]


async def test_paging_through_results(db):
    """`limit` and `offset` page through the results in the same order."""
    await world(db)
    made = [
        await publish(db, f"[en] Zymurgy unit {n}", at=NOW + timedelta(hours=n)) for n in range(5)
    ]
    newest_first = made[::-1]
    assert await found(db, "zymurgy", limit=2) == newest_first[:2]
    assert await found(db, "zymurgy", limit=2, offset=2) == newest_first[2:4]
    assert await found(db, "zymurgy", limit=2, offset=4) == newest_first[4:]
    assert await found(db, "zymurgy", limit=1000) == newest_first


async def test_the_shipped_resources_are_searchable(db):
    """The default content is in the index from the first start: a word of a shipped title."""
    assert await search(db, 1, "OpenStax")
    assert await search(db, 1, "PhET")


def test_queries_are_quoted_for_both_backends():
    """Words are letters and digits only, lower-cased, at most 12; each is quoted for FTS5 and
    for to_tsquery, the last a prefix."""
    assert words('Ünïcode "quoted" AND-or:*  Қазақ_тілі') == [
        "ünïcode",
        "quoted",
        "and",
        "or",
        "қазақ",
        "тілі",
    ]
    assert fts5_query(["a", "b"]) == '"a" "b"*'
    assert tsquery(["a", "b"]) == "'a' & 'b':*"
    assert len(words(" ".join(["w"] * 100))) == 12


def test_the_search_uses_the_expression_of_the_postgresql_index():
    """PostgreSQL uses the GIN index only for its very expression: the search writes the one
    migration 0014 indexes, character for character."""
    path = next((ROOT / "migrations" / "versions").glob("*-0014_resource_search.py"))
    spec = importlib.util.spec_from_file_location("m0014", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.PG_DOCUMENT == DOCUMENT
