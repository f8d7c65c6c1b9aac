"""The resource search on PostgreSQL can read migration 0014's GIN index, not every row."""

from __future__ import annotations

from sqlalchemy import text

from bot.services import resource_search


async def test_the_search_query_uses_the_gin_index(db):
    """The plan of the search's own query names ix_resource_search: its expression and its
    predicate are the index's. A test database is too small for the planner to prefer any
    index, so (in a transaction rolled back after) sequential and plain index scans are
    discouraged and the other index on `state` is set aside: a GIN index is read by a bitmap
    scan, and an expression that differed by one character would read it only for its
    predicate, every approved row, the match left to a filter."""
    query = text("EXPLAIN " + resource_search._POSTGRESQL)
    values = {"query": resource_search.tsquery(["open"]), "limit": 10, "offset": 0}
    async with db() as session:
        for setting in ("enable_seqscan", "enable_indexscan"):
            await session.execute(text(f"SET LOCAL {setting} = off"))
        await session.execute(text("DROP INDEX ix_resource_state_university_id"))
        plan = "\n".join((await session.scalars(query, values)).all())
        await session.rollback()
    lines = plan.splitlines()
    scan = next(n for n, line in enumerate(lines) if "Index Scan on ix_resource_search" in line)
    # The match itself is the index's condition (not a filter over every approved row, which
    # is what a partial index read for its predicate alone would give).
    assert "Index Cond:" in lines[scan + 1] and "@@" in lines[scan + 1], plan
