"""The due-row pattern: one row that fails does not hold back the rows after it."""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.services.due import DueRows, run_due
from models import University


async def test_a_failing_row_is_logged_and_the_others_are_settled(db, caplog):
    """Review: the first row whose work raised stopped the pass, so every later due row (ordered
    by id) waited behind it forever. Tried: the lowest id fails; the others still settle."""
    async with db() as session:
        ids = sorted((await session.scalars(select(University.id))).all())
    assert len(ids) >= 3
    failing = ids[0]

    async def settle(session, row, now):
        if row.id == failing:
            raise RuntimeError("this row's work fails")
        return row.id

    rows = DueRows(University, lambda now: University.id > 0, settle)
    with caplog.at_level(logging.ERROR):
        settled = await run_due(db, rows)
    assert settled == ids[1:]
    assert "could not be settled" in caplog.text
