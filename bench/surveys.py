"""Throughput of the real bot process: N simulated users taking the pre survey at once.

Prepares a fresh SQLite file in this process (migrations, the default content packs, N
onboarded students and one admin, a published `dlt_pre` campaign whose invitation is marked as
sent so the bot broadcasts nothing), starts the Bot API emulator over HTTP on 127.0.0.1 with a
configurable latency on every call, runs `python -m bot` against it, and lets N users take the
survey at the same time through the chat: /surveys, the campaign button, Continue on the
intro, then every question by its buttons (the first option; the first tick then Done; 4 on
agreement scales; "5" typed for numbers and text), and Submit on the review screen. Then runs
a bare PTB echo bot against the same emulator settings, N users sending 5 messages each.
Prints updates/s and p50/p99 of the time from a user's action to the bot's answer that
completes it (the next question on screen: its page edited or a new message; for Submit, the
results chart), figures per kind of
step, and checks the database: every student has one submitted attempt, all with as many
answers as questions they answered.

    .venv/bin/python bench/surveys.py --users 50 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from bench.throughput import run_phase  # noqa: E402  (one way to run a bot under load)
from bot.db import create_engine, make_sessionmaker, migrate  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.sandbox.emulator import Emulator, MessageRecord  # noqa: E402
from bot.sandbox.users import SimulatedUser  # noqa: E402
from bot.services.content import load_defaults_if_empty  # noqa: E402
from bot.services.universities import list_universities  # noqa: E402
from models import Campaign, utcnow  # noqa: E402
from tests import factories  # noqa: E402  (people and the campaign, through the services)

ADMIN = 900001
FIRST_STUDENT = 10_000
CAMPAIGN = "▶ What I know"
GROUP = "Pedagogy, PO-21"
STEP_TIMEOUT = 60.0
MAX_SCREENS = 200  # a survey longer than this is a loop, not a survey

_t = I18n("kk").translator("en")
CONTINUE = _t.plain("surveys.continue")
DONE = _t.plain("surveys.done")
SKIP = _t.plain("surveys.skip")
BACK = _t.plain("surveys.back")
SUBMIT = _t.plain("surveys.submit")
START = _t.plain("surveys.start_button")
THANKS = _t.plain("surveys.thanks")


class Stalled(RuntimeError):
    """A user's step did not progress within STEP_TIMEOUT."""


async def prepare(url: str, students: int, *, invited: bool = True) -> int:
    """Migrate, load the default packs, seed onboarded students and an admin, open a campaign.

    `invited`: its invitations count as sent; else the bot sends them when it starts. Returns
    the campaign id.
    """
    # Alembic's env.py runs its own event loop: not in this one.
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    try:
        db = make_sessionmaker(engine)
        outcome = await load_defaults_if_empty(db)
        if outcome is None or not outcome.ok:
            raise SystemExit(f"default content did not load: {outcome and outcome.errors}")
        admins = frozenset({ADMIN})
        universities = len(await list_universities(db))
        people = [(ADMIN, "Admin")] + [(FIRST_STUDENT + i, f"U{i}") for i in range(students)]
        for n, (telegram_id, name) in enumerate(people):
            # The same name and language the simulated user sends, so the bot's first
            # sight of them changes nothing.
            await factories.student(
                db,
                telegram_id,
                admins,
                university=n % universities,
                language="en",
                group=GROUP,
                first_name=name,
                telegram_language="en",
            )
        # Composed and published as an organizer's /publish does.
        campaign_id = await factories.campaign(db, ADMIN, admins, "dlt_pre", "pre")
        if not invited:
            return campaign_id
        # Invitations count as sent: the bot must not broadcast to the students meanwhile.
        async with db.begin() as session:
            await session.execute(
                update(Campaign).where(Campaign.id == campaign_id).values(invited_at=utcnow())
            )
        return campaign_id
    finally:
        await engine.dispose()


async def until(
    emulator: Emulator, user: SimulatedUser, check: Callable[[], bool], step: str
) -> None:
    """Wait on the chat's activity signal until `check()` holds (STEP_TIMEOUT at most)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STEP_TIMEOUT
    while not check():
        remaining = deadline - loop.time()
        seen = emulator.activity(user.user_id)
        try:
            if remaining <= 0:
                raise TimeoutError
            await emulator.wait_activity(user.user_id, seen, timeout=max(0.1, remaining))
        except TimeoutError:
            raise Stalled(
                f"user {user.user_id}: no progress within {STEP_TIMEOUT:g} s after {step}; "
                f"last bot message: {user.last_text!r}, buttons {user.last_buttons}"
            ) from None


def newer_than(user: SimulatedUser, message_id: int) -> Callable[[], bool]:
    """A bot message newer than `message_id` is the newest one."""

    def check() -> bool:
        last = user.last_message
        return last is not None and last.message_id > message_id

    return check


def moved_on(user: SimulatedUser, message: MessageRecord) -> Callable[[], bool]:
    """The next step is on screen: `message` (a survey page) edited, or a newer message.

    A button answer, or a typed one while the page is the chat's last message, edits the
    page; a full page, a typed answer after another message or the review of a long survey
    start a new one.
    """
    edits = message.edited

    def check() -> bool:
        return message.edited > edits or newer_than(user, message.message_id)()

    return check


def screen_of(message: MessageRecord) -> str:
    """What kind of screen a bot message is, from its text and buttons."""
    buttons = SimulatedUser.buttons_of(message)
    text = message.content or ""
    options = [b for b in buttons if b not in (BACK, SKIP)]
    if message.photo:
        return "chart"
    if SUBMIT in buttons:
        return "review"
    if CONTINUE in buttons:
        return "info"
    if any(b.startswith(("☐ ", "☑ ")) for b in options):
        return "multiple"
    if options and all(b.lstrip("✓").isdigit() for b in options):
        return "likert"
    if options:
        return "single"
    if "number" in text or "Write" in text:
        return "typed"
    if THANKS in text:
        return "thanks"
    return "unknown"


async def take_survey(
    emulator: Emulator,
    user: SimulatedUser,
    latencies: list[float],
    *,
    steps: dict[str, list[float]],
    updates: dict[int, int],
    answered: dict[int, int],
) -> None:
    """One user's survey from /surveys to the results chart, every update timed."""

    async def act(step: str, action: Awaitable[object], done: Callable[[], bool]) -> None:
        start = time.perf_counter()
        await action
        await until(emulator, user, done, step)
        elapsed = time.perf_counter() - start
        latencies.append(elapsed)
        steps[step].append(elapsed)
        updates[user.user_id] += 1

    last_id = user.last_message.message_id if user.last_message else 0
    await act(
        "/surveys",
        user.send("/surveys"),
        lambda: (
            newer_than(user, last_id)()
            and any(CAMPAIGN.casefold() in b.casefold() for b in user.last_buttons)
        ),
    )
    listed = user.last_message
    assert listed is not None
    # The list becomes the survey's first page (edited), or the survey starts below it.
    await act(
        "open the campaign",
        user.tap(CAMPAIGN, message_id=listed.message_id),
        moved_on(user, listed),
    )
    for _ in range(MAX_SCREENS):
        message = user.last_message
        assert message is not None
        mid = message.message_id
        buttons = SimulatedUser.buttons_of(message)
        kind = screen_of(message)
        if kind == "info":
            await act(
                "intro: Continue", user.tap(CONTINUE, message_id=mid), moved_on(user, message)
            )
        elif kind == "single":
            first = next(b for b in buttons if b not in (BACK, SKIP))
            await act("single choice", user.tap(first, message_id=mid), moved_on(user, message))
            answered[user.user_id] += 1
        elif kind == "multiple":
            tick = next(b for b in buttons if b.startswith("☐ "))
            edits = message.edited
            await act(
                "multiple: tick",
                user.tap(tick, message_id=mid),
                lambda message=message, edits=edits: (
                    message.edited > edits and any(b.startswith("☑ ") for b in message.buttons)
                ),
            )
            await act("multiple: Done", user.tap(DONE, message_id=mid), moved_on(user, message))
            answered[user.user_id] += 1
        elif kind == "likert":
            await act("agreement scale: 4", user.tap("4", message_id=mid), moved_on(user, message))
            answered[user.user_id] += 1
        elif kind == "typed":
            await act("typed: 5", user.send("5"), moved_on(user, message))
            answered[user.user_id] += 1
        elif kind == "review":
            # Submitting puts the thanks with the scores on the review (or in a new message),
            # then renders and sends a chart: the update is complete with the chart; the
            # thanks is timed on the way.
            start = time.perf_counter()
            await user.tap(SUBMIT, message_id=mid)
            await until(
                emulator,
                user,
                lambda mid=mid: any(
                    m.message_id >= mid and THANKS in (m.content or "") for m in user.messages
                ),
                "Submit",
            )
            steps["Submit: until the thanks"].append(time.perf_counter() - start)
            await until(
                emulator,
                user,
                lambda mid=mid: any(m.message_id > mid and m.photo for m in user.messages),
                "Submit (chart)",
            )
            elapsed = time.perf_counter() - start
            latencies.append(elapsed)
            steps["Submit: until the chart"].append(elapsed)
            updates[user.user_id] += 1
            return
        else:
            raise Stalled(
                f"user {user.user_id}: unexpected screen ({kind}): {user.last_text!r}"
                f", buttons {buttons}"
            )
    raise Stalled(
        f"user {user.user_id}: the survey did not end after {MAX_SCREENS} screens; "
        f"last bot message: {user.last_text!r}"
    )


async def echo_round(emulator: Emulator, user: SimulatedUser, latencies: list[float]) -> None:
    """One user's five messages to the echo bot, each timed until its echo."""
    for i in range(5):
        text = f"hello {user.user_id} {i}"
        start = time.perf_counter()
        await user.send(text)
        await until(emulator, user, lambda text=text: user.last_text == text, f"echo {i}")
        latencies.append(time.perf_counter() - start)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of sorted `values` (nearest rank, as throughput.py)."""
    return values[min(len(values) - 1, int(len(values) * q))]


def verify(db_path: Path, campaign_id: int, students: int, answered: dict[int, int]) -> bool:
    """Check from the database that every student submitted once, with equal answer counts."""
    con = sqlite3.connect(db_path)
    try:
        rows = con.execute(
            "SELECT u.telegram_id, t.state,"
            " (SELECT COUNT(*) FROM answer a WHERE a.attempt_id = t.id)"
            " FROM attempt t JOIN app_user u ON u.id = t.user_id WHERE t.campaign_id = ?",
            (campaign_id,),
        ).fetchall()
    finally:
        con.close()
    expected = {FIRST_STUDENT + i for i in range(students)}
    submitted: dict[int, list[int]] = defaultdict(list)
    other_states: dict[str, int] = defaultdict(int)
    for telegram_id, state, count in rows:
        if state == "submitted":
            submitted[telegram_id].append(count)
        else:
            other_states[state] += 1
    missing = expected - set(submitted)
    doubled = [tid for tid, counts in submitted.items() if len(counts) > 1]
    counts = sorted({c for cs in submitted.values() for c in cs})
    mismatched = [tid for tid, cs in submitted.items() if cs[-1] != answered.get(tid)]
    print(
        f"database: {len(expected) - len(missing)}/{len(expected)} students have a submitted "
        f"attempt ({len(rows)} attempts in all, other states: {dict(other_states) or 'none'}, "
        f"users with more than one: {len(doubled)})"
    )
    print(
        f"database: answers per submitted attempt: "
        f"{', '.join(str(c) for c in counts) or 'none'}"
        f"{' (equal for every attempt)' if len(counts) == 1 else ' (NOT equal)'}; "
        f"matching the questions each user answered in chat: "
        f"{len(submitted) - len(mismatched)}/{len(submitted)}"
    )
    return not missing and not doubled and len(counts) == 1 and not mismatched


def log_problems(path: Path) -> list[str]:
    """ERROR/CRITICAL lines and tracebacks of a bot log."""
    if not path.exists():
        return []
    lines = path.read_text(errors="replace").splitlines()
    return [
        line
        for line in lines
        if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
    ]


async def main() -> None:
    """Prepare the database, run the three phases, print the figures and the checks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API call")
    parser.add_argument(
        "--profile",
        type=Path,
        help="write py-spy samples of the Ortaq process here (bench/profile.py reads them); "
        "the CPU figures of such a run include the sampler's",
    )
    args = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    base_env.update(
        PYTHONPATH=str(ROOT),
        LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        PSEUDONYM_KEY="bench-key-123",
    )
    keep = os.environ.get("BENCH_KEEP")  # a folder to keep logs and the database in
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        db_path = workdir / "surveys.db"
        for old in workdir.glob("surveys.db*"):
            old.unlink()  # a fresh file every run, also in a kept folder
        url = f"sqlite+aiosqlite:///{db_path}"
        seeding = time.perf_counter()
        campaign_id = await prepare(url, args.users)
        seeding = time.perf_counter() - seeding
        ortaq_env = {**base_env, "DATABASE_URL": url, "ADMIN_IDS": str(ADMIN)}
        print(
            f"{args.users} users, {args.latency * 1000:.0f} ms per Bot API call, "
            f"python {sys.version.split()[0]}, {os.cpu_count()} cores "
            f"(database prepared in {seeding:.1f} s)"
        )
        steps: dict[str, list[float]] = defaultdict(list)
        updates: dict[int, int] = defaultdict(int)
        answered: dict[int, int] = defaultdict(int)
        survey = functools.partial(take_survey, steps=steps, updates=updates, answered=answered)
        ortaq = await run_phase(
            "ortaq",
            [sys.executable, "-m", "bot"],
            ortaq_env,
            args.users,
            args.latency,
            survey,
            workdir,
            first_user=FIRST_STUDENT,
            also_known=(ADMIN,),
            profile=args.profile and args.profile.resolve(),
        )
        ok = verify(db_path, campaign_id, args.users, answered)
        per_user = "/".join(str(c) for c in sorted(set(updates.values())))
        results = {f"ortaq (pre survey, {per_user} updates/user)": ortaq}
        results["bare PTB echo bot, sequential (default)"] = await run_phase(
            "echo",
            [sys.executable, str(ROOT / "bench" / "echo_bot.py")],
            base_env,
            args.users,
            args.latency,
            echo_round,
            workdir,
            first_user=FIRST_STUDENT,
        )
        results["bare PTB echo bot, concurrent_updates=32"] = await run_phase(
            "echo32",
            [sys.executable, str(ROOT / "bench" / "echo_bot.py")],
            {**base_env, "ECHO_CONCURRENT": "32"},
            args.users,
            args.latency,
            echo_round,
            workdir,
            first_user=FIRST_STUDENT,
        )
        problems = log_problems(workdir / "ortaq.log")
    print(
        f"{'run':45} {'updates':>8} {'upd/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'bot CPU ms/upd':>15} {'during load':>12} {'emulator CPU ms/upd':>20}"
    )
    for name, r in results.items():
        print(
            f"{name:45} {r['updates']:8.0f} {r['updates_per_s']:8.1f} "
            f"{r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['bot_cpu_ms']:15.1f} "
            f"{r['load_cpu_ms']:12.1f} {r['harness_cpu_ms']:20.1f}"
        )
    print()
    print(f"{'ortaq step':45} {'count':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for step, values in steps.items():
        values.sort()
        print(
            f"{step:45} {len(values):8d} {statistics.median(values) * 1000:8.1f} "
            f"{percentile(values, 0.99) * 1000:8.1f} {values[-1] * 1000:8.1f}"
        )
    print()
    print(f"updates per user: {per_user} ({len(updates)} users)")
    print(
        f"bot log: {len(problems)} ERROR/CRITICAL/traceback line(s)"
        + (f"; first: {problems[0]}" if problems else "")
    )
    if not ok:
        raise SystemExit("the database check failed")


if __name__ == "__main__":
    asyncio.run(main())
