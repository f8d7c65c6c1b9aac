"""Database statements and Bot API calls per survey answer, step by step, in one process.

Takes the default pre survey (`dlt_pre`) once through the in-process harness (the real
application, the emulator, a fresh migrated SQLite file): /surveys, the campaign button,
Continue, every question by its buttons (the first option; the first tick then Done; 4 on
agreement scales; "5" typed for numbers and text), and Submit. A `before_cursor_execute`
listener on the bot's engine counts the SQL statements each update runs (BEGIN and COMMIT
are not statements here), and the emulator counts the Bot API calls. Prints, per kind of
step, the mean statements and calls per update, and the totals for a button answer.

Deterministic (no timing): run it before and after a change to compare.

    .venv/bin/python bench/survey_statements.py
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.surveys import (  # noqa: E402  (the same reading of a screen as the load bench)
    BACK,
    CAMPAIGN,
    CONTINUE,
    DONE,
    MAX_SCREENS,
    SKIP,
    SUBMIT,
    screen_of,
)
from bot.db import create_engine, make_sessionmaker, migrate  # noqa: E402
from bot.sandbox.harness import Harness  # noqa: E402
from bot.sandbox.users import SimulatedUser  # noqa: E402
from bot.services.content import load_defaults_if_empty  # noqa: E402
from tests import factories  # noqa: E402
from tests.conftest import make_settings  # noqa: E402

ADMIN = 900001
STUDENT = 10_000
BUTTON_ANSWERS = ("single choice", "agreement scale: 4", "multiple: Done")


async def prepare(url: str) -> None:
    """Migrate, load the default packs, one onboarded student, a published pre campaign."""
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    try:
        db = make_sessionmaker(engine)
        outcome = await load_defaults_if_empty(db)
        if outcome is None or not outcome.ok:
            raise SystemExit(f"default content did not load: {outcome and outcome.errors}")
        admins = frozenset({ADMIN})
        await factories.student(db, ADMIN, admins, first_name="Admin", telegram_language="en")
        await factories.student(
            db, STUDENT, admins, first_name="Student", telegram_language="en", group="G-1"
        )
        await factories.campaign(db, ADMIN, admins, "dlt_pre", "pre")
    finally:
        await engine.dispose()


async def run(show: str | None = None) -> dict[str, Any]:
    """Take the survey once; statements and calls per update, by kind of step.

    `show`: print the SQL of the first update of that kind of step.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        await prepare(url)
        settings = make_settings(path, admin_ids=str(ADMIN))
        async with Harness(settings) as harness:
            engine = harness.app.bot_data.engine
            assert engine is not None
            counted = [0]
            printing = [False]

            def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
                counted[0] += 1
                if printing[0]:
                    print("   ", " ".join(statement.split())[:200])

            event.listen(engine.sync_engine, "before_cursor_execute", count)
            user = harness.user(STUDENT, "Student", "en")
            statements: dict[str, list[int]] = defaultdict(list)
            calls: dict[str, Counter[str]] = defaultdict(Counter)
            updates: Counter[str] = Counter()

            async def act(kind: str, action: Any) -> None:
                before, api = counted[0], Counter(harness.emulator.stats.calls)
                printing[0] = kind == show and not updates[kind]
                if printing[0]:
                    print(f"SQL of {kind}:")
                await action
                printing[0] = False
                statements[kind].append(counted[0] - before)
                calls[kind].update(Counter(harness.emulator.stats.calls) - api)
                updates[kind] += 1

            await act("/surveys", user.send("/surveys"))
            await act("open the campaign", user.tap(CAMPAIGN))
            for _ in range(MAX_SCREENS):
                message = user.last_message
                assert message is not None
                mid = message.message_id
                buttons = SimulatedUser.buttons_of(message)
                kind = screen_of(message)
                if kind == "info":
                    await act("intro: Continue", user.tap(CONTINUE, message_id=mid))
                elif kind == "single":
                    first = next(b for b in buttons if b not in (BACK, SKIP))
                    await act("single choice", user.tap(first, message_id=mid))
                elif kind == "multiple":
                    tick = next(b for b in buttons if b.startswith("☐ "))
                    await act("multiple: tick", user.tap(tick, message_id=mid))
                    await act("multiple: Done", user.tap(DONE, message_id=mid))
                elif kind == "likert":
                    await act("agreement scale: 4", user.tap("4", message_id=mid))
                elif kind == "typed":
                    await act("typed: 5", user.send("5"))
                elif kind == "review":
                    await act("Submit", user.tap(SUBMIT, message_id=mid))
                    break
                else:
                    raise SystemExit(f"unexpected screen {kind}: {user.last_text!r}")
            event.remove(engine.sync_engine, "before_cursor_execute", count)
            assert not harness.errors, harness.errors
    return {"statements": statements, "calls": calls, "updates": updates}


def report(figures: dict[str, Any]) -> None:
    """Print the figures as a table."""
    statements, calls, updates = figures["statements"], figures["calls"], figures["updates"]
    print(f"{'step':<22}{'updates':>8}{'SQL/update':>12}  Bot API calls/update")
    for kind, counts in statements.items():
        n = updates[kind]
        api = ", ".join(f"{m} {c / n:.2g}" for m, c in sorted(calls[kind].items()))
        print(f"{kind:<22}{n:>8}{statistics.mean(counts):>12.2f}  {api}")
    button = [c for kind in BUTTON_ANSWERS for c in statements.get(kind, [])]
    n = sum(updates[kind] for kind in BUTTON_ANSWERS)
    sends = sum(calls[kind]["sendMessage"] for kind in BUTTON_ANSWERS)
    edits = sum(calls[kind]["editMessageText"] for kind in BUTTON_ANSWERS)
    print(
        f"button answers: {n}, SQL statements per answer {statistics.mean(button):.2f}, "
        f"sendMessage per answer {sends / n:.2f}, editMessageText per answer {edits / n:.2f}"
    )


def main() -> None:
    """Parse the (no) arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", help="print the SQL of the first step of this kind")
    args = parser.parse_args()
    report(asyncio.run(run(args.show)))


if __name__ == "__main__":
    main()
