"""Python work per survey answer in the services: function calls and CPU of `rate` and `seen`.

Prepares a fresh SQLite file (migrated, the default content, N onboarded students, a campaign
of `dlt_pre`), starts an attempt for each student and answers every question through the
services (`bot.services.surveys`), the agreement items with `rate(..., 4)`. Prints, for the
agreement answers and for the person read of every update (`users.seen` with nothing changed):

- Python function calls per call, counted by cProfile (deterministic: compare two trees with
  it, the machine's load does not change it);
- CPU ms per call without the profiler (noisy on a shared machine).

    .venv/bin/python bench/answer_path.py --students 100
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/profile.py would shadow the standard library's `profile`, which cProfile imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.db import create_engine, make_sessionmaker, migrate  # noqa: E402
from bot.services import surveys as svc  # noqa: E402
from bot.services import users  # noqa: E402
from bot.services.content import load_defaults_if_empty  # noqa: E402
from tests import factories  # noqa: E402

ADMIN = 1
FIRST = 100


class Meter:
    """CPU seconds and (when profiling) function calls spent inside `measure` blocks."""

    def __init__(self, profile: bool) -> None:
        self.profiler = cProfile.Profile() if profile else None
        self.cpu = 0.0
        self.count = 0

    async def measure(self, call: Callable[[], Awaitable[Any]]) -> Any:
        started = time.process_time()
        if self.profiler is not None:
            self.profiler.enable()
        try:
            return await call()
        finally:
            if self.profiler is not None:
                self.profiler.disable()
            self.cpu += time.process_time() - started
            self.count += 1

    def calls(self) -> float:
        assert self.profiler is not None
        return pstats.Stats(self.profiler).total_calls / max(1, self.count)  # type: ignore[attr-defined]


async def run(students: int, profile: bool) -> tuple[Meter, Meter]:
    """Answer the survey for every student; the meters of `seen` and of the Likert answers."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/answers.db"
        await asyncio.to_thread(migrate, url)
        engine = create_engine(url)
        db = make_sessionmaker(engine)
        await load_defaults_if_empty(db)
        admins = frozenset({ADMIN})
        await factories.student(db, ADMIN, admins, first_name="Admin")
        campaign = await factories.campaign(db, ADMIN, admins, "dlt_pre", "pre")
        campaign_id = campaign if isinstance(campaign, int) else campaign.id
        ids = range(FIRST, FIRST + students)
        for telegram_id in ids:
            await factories.student(
                db, telegram_id, admins, first_name="S", telegram_language="en"
            )
        seen, rate = Meter(profile), Meter(profile)
        for telegram_id in list(ids)[:10]:  # warm the statement caches
            await users.seen(
                db,
                telegram_id,
                first_name="S",
                username=None,
                telegram_language="en",
                admin_ids=admins,
            )
        for telegram_id in ids:
            await seen.measure(
                lambda t=telegram_id: users.seen(
                    db,
                    t,
                    first_name="S",
                    username=None,
                    telegram_language="en",
                    admin_ids=admins,
                )
            )
            screen = await svc.start(db, telegram_id, campaign_id, "en")
            while screen.kind == "item" and screen.item is not None:
                kind, step, attempt = screen.item.kind, screen.index, screen.attempt_id
                if kind == "likert":
                    screen = await rate.measure(
                        lambda t=telegram_id, a=attempt, s=step: svc.rate(db, t, a, s, 4)
                    )
                elif kind == "info":
                    screen = await svc.pass_info(db, telegram_id, attempt, step)
                elif kind == "single":
                    screen = await svc.choose(db, telegram_id, attempt, step, 0)
                elif kind == "multiple":
                    await svc.tick(db, telegram_id, attempt, step, 0, on=True)
                    screen = await svc.confirm_selection(db, telegram_id, attempt, step)
                else:
                    typed = await svc.answer_typed(db, telegram_id, attempt, "5", lambda _: True)
                    screen = typed.following
        await engine.dispose()
    return seen, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    args = parser.parse_args()
    profiled = asyncio.run(run(args.students, profile=True))
    timed = asyncio.run(run(args.students, profile=False))
    print(f"{'call':36} {'count':>7} {'calls/call':>11} {'CPU ms/call':>12}")
    for name, p, t in zip(
        ("users.seen (nothing changed)", "surveys.rate (an agreement item)"),
        profiled,
        timed,
        strict=True,
    ):
        print(f"{name:36} {t.count:7d} {p.calls():11.0f} {1000 * t.cpu / t.count:12.3f}")


if __name__ == "__main__":
    main()
