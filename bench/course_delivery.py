"""Lessons due at the same minute: N scheduled learners, and a few tapping Next meanwhile.

Prepares a fresh SQLite file (migrations, the default content with the course `dlt_course`),
then bulk-inserts N onboarded learners enrolled on the scheduled pace with their first lesson
due a few seconds ago (all at the same minute), and a few "tappers" enrolled self-paced. Starts
the Bot API emulator over HTTP enforcing Telegram's limits (30 messages/s overall, 1/s per chat
with a burst of 4, 429 with `retry_after` beyond) and runs the real bot process
(`python -m bot`) against it. The bot's lesson duty finds the N learners due and queues each
one's "your lesson is ready" message in the outbox; the benchmark measures at the emulator:

(a) the time from the first to the last lesson message delivered, against the theoretical
    minimum N/30 s, with 429s (per chat: learners and tappers apart), duplicates (a learner
    with two lesson messages) and losses (none) counted;
(b) meanwhile, each tapper opens lesson 1 and taps Next through it as fast as the bot answers
    (answering its check the first time), over and over until the last lesson message landed:
    p50/p95 of the time from a tap to the bot's reply that completes it (the next step, with
    its button, on screen).

    .venv/bin/python bench/course_delivery.py --learners 600 --tappers 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.callbacks import LessonOpen  # noqa: E402
from bot.db import create_engine, make_sessionmaker, migrate  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.sandbox.emulator import Emulator  # noqa: E402
from bot.sandbox.faults import Limits  # noqa: E402
from bot.sandbox.server import EmulatorServer  # noqa: E402
from bot.sandbox.users import SimulatedUser  # noqa: E402
from bot.services.content import load_defaults_if_empty  # noqa: E402

COURSE = "dlt_course"
FIRST_LEARNER = 100_000
FIRST_TAPPER = 800_000
DUE_AGO = 5.0  # seconds: the lessons fell due this long before the bot starts
STEP_TIMEOUT = 60.0

_t = I18n("kk").translator("en")
NEXT = _t.plain("course.next")
CHECK = _t.plain("course.check_header")


class Stalled(RuntimeError):
    """A tapper's step did not progress within STEP_TIMEOUT."""


def _sql_time(moment: datetime) -> str:
    """A UTC time as SQLite stores `UTCDateTime` (naive, space-separated)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


async def prepare(url: str) -> None:
    """Migrate and load the default content (the course among it)."""
    await asyncio.to_thread(migrate, url)  # Alembic's env.py runs its own event loop
    engine = create_engine(url)
    try:
        outcome = await load_defaults_if_empty(make_sessionmaker(engine))
        if outcome is None or not outcome.ok:
            raise SystemExit(f"default content did not load: {outcome and outcome.errors}")
    finally:
        await engine.dispose()


def seed(db_path: Path, learners: int, tappers: int) -> dict[int, int]:
    """Bulk-insert learners (scheduled, due now) and tappers (self-paced); tapper -> enrolment."""
    now = datetime.now(UTC)
    stamp = _sql_time(now)
    due = _sql_time(now - timedelta(seconds=DUE_AGO))
    con = sqlite3.connect(db_path)
    try:
        course_id = con.execute(
            "SELECT id FROM course WHERE code = ? ORDER BY version DESC LIMIT 1", (COURSE,)
        ).fetchone()[0]
        people = [
            (FIRST_LEARNER + i, f"L{i}", random.choice(["kk", "ru", "en"]))
            for i in range(learners)
        ] + [(FIRST_TAPPER + i, f"T{i}", "en") for i in range(tappers)]
        con.executemany(
            "INSERT INTO app_user (telegram_id, first_name, language, consent, university_id,"
            " group_name, onboarded_at, reachable, created_at, updated_at)"
            " VALUES (?, ?, ?, 1, 1, 'G-1', ?, 1, ?, ?)",
            [(tid, name, lang, stamp, stamp, stamp) for tid, name, lang in people],
        )
        ids = dict(con.execute("SELECT telegram_id, id FROM app_user").fetchall())
        # Local hour 9:00 on every day: the lesson after the one due now is tomorrow's.
        rows = [
            (
                ids[FIRST_LEARNER + i] if i < learners else ids[FIRST_TAPPER + i - learners],
                "scheduled" if i < learners else "self",
                due if i < learners else None,
            )
            for i in range(learners + tappers)
        ]
        con.executemany(
            "INSERT INTO enrolment (user_id, course_code, course_id, pace, hour, minute,"
            " weekdays, lesson_index, next_due_at, nudges, last_active_at, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, 9, 0, 127, 0, ?, 1, ?, ?, ?)",
            [(uid, COURSE, course_id, pace, at, stamp, stamp, stamp) for uid, pace, at in rows],
        )
        con.commit()
        enrolments = dict(
            con.execute(
                "SELECT u.telegram_id, e.id FROM enrolment e JOIN app_user u ON u.id = e.user_id"
                " WHERE u.telegram_id >= ?",
                (FIRST_TAPPER,),
            ).fetchall()
        )
    finally:
        con.close()
    return enrolments


def db_figures(db_path: Path) -> dict[str, Any]:
    """What the database says after the run: deliveries by state, lessons marked delivered."""
    con = sqlite3.connect(db_path, timeout=30)
    try:
        states = dict(
            con.execute("SELECT state, COUNT(*) FROM delivery GROUP BY state").fetchall()
        )
        delivered = con.execute(
            "SELECT COUNT(*) FROM lesson_progress WHERE delivered_at IS NOT NULL"
        ).fetchone()[0]
        still_due = con.execute(
            "SELECT COUNT(*) FROM enrolment WHERE pace = 'scheduled' AND next_due_at <= ?",
            (_sql_time(datetime.now(UTC)),),
        ).fetchone()[0]
    finally:
        con.close()
    return {"deliveries": states, "lessons marked delivered": delivered, "still due": still_due}


async def start_bot(env: dict[str, str], workdir: Path) -> asyncio.subprocess.Process:
    """Start `python -m bot` with its output in a log file."""
    log = (workdir / "bot.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=workdir,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    log.close()
    return proc


async def until(emulator: Emulator, user: SimulatedUser, check: Callable[[], bool]) -> None:
    """Wait on the chat's activity signal until `check()` holds (STEP_TIMEOUT at most)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STEP_TIMEOUT
    while not check():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise Stalled(
                f"tapper {user.user_id}: no reply within {STEP_TIMEOUT:g} s; "
                f"last bot message: {user.last_text!r}, buttons {user.last_buttons}"
            )
        seen = emulator.activity(user.user_id)
        try:
            await emulator.wait_activity(user.user_id, seen, timeout=max(0.1, remaining))
        except TimeoutError:
            continue


def answered_after(user: SimulatedUser, message_id: int) -> Callable[[], bool]:
    """The newest bot message is newer than `message_id` and carries buttons."""

    def check() -> bool:
        last = user.last_message
        return last is not None and last.message_id > message_id and bool(last.buttons)

    return check


async def tap_through(
    emulator: Emulator,
    user: SimulatedUser,
    enrolment: int,
    stop: asyncio.Event,
    taps: dict[str, list[float]],
    gap: float,
) -> None:
    """Open lesson 1 and tap Next through it as fast as the bot answers, until `stop`.

    `gap`: at least this many seconds from one tap to the next (0: at once).
    """
    previous = 0.0

    async def act(kind: str, data: str | None, label: str | None) -> None:
        """One tap, timed until the bot's reply with its buttons is on screen."""
        nonlocal previous
        last = user.last_message
        mid = last.message_id if last is not None else 0
        wait = previous + gap - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)  # a reader's pause, not a timing assumption
        start = previous = time.perf_counter()
        if data is not None:
            await user.tap_data(data, mid)
        else:
            assert label is not None
            await user.tap(label, message_id=mid)
        await until(emulator, user, answered_after(user, mid))
        taps[kind].append(time.perf_counter() - start)

    start = time.perf_counter()
    await user.send("/course")
    await until(emulator, user, answered_after(user, 0))
    taps["/course"].append(time.perf_counter() - start)
    while not stop.is_set():
        await act("Open (lesson 1)", LessonOpen(enrolment, 0).pack(), None)
        while not stop.is_set():
            last = user.last_message
            assert last is not None
            if NEXT in last.buttons:
                await act("Next", None, NEXT)
            elif CHECK in (last.content or ""):
                await act("check answer", None, last.buttons[0])
            else:  # the lesson is complete: what comes next is offered; start it again
                break


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of sorted `values` (nearest rank, as throughput.py)."""
    return values[min(len(values) - 1, int(len(values) * q))]


def log_problems(path: Path) -> list[str]:
    """ERROR/CRITICAL lines and tracebacks of the bot's log."""
    if not path.exists():
        return []
    return [
        line
        for line in path.read_text(errors="replace").splitlines()
        if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
    ]


async def main() -> None:
    """Run the scenario and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--tappers", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per API call")
    parser.add_argument(
        "--tap-gap",
        type=float,
        default=0.0,
        help="seconds at least between a tapper's taps (0: as soon as the bot answered)",
    )
    args = parser.parse_args()
    keep = os.environ.get("BENCH_KEEP")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        db_path = workdir / "course.db"
        for old in workdir.glob("course.db*"):
            old.unlink()
        url = f"sqlite+aiosqlite:///{db_path}"
        await prepare(url)
        enrolments = await asyncio.to_thread(seed, db_path, args.learners, args.tappers)
        learner_ids = [FIRST_LEARNER + i for i in range(args.learners)]
        emulator = Emulator(
            limits=Limits(global_per_second=30, per_chat_per_second=1, per_chat_burst=4)
        )
        for i in learner_ids:
            emulator.add_user(i, f"L{i}")
        tappers = [
            SimulatedUser(emulator, FIRST_TAPPER + i, f"T{i}", "en") for i in range(args.tappers)
        ]
        # 429s per chat: the emulator counts them overall only.
        refused: Counter[int | None] = Counter()
        call = emulator.call

        async def counting_call(
            token: str, method: str, params: dict[str, Any], files: Any = None
        ) -> tuple[int, dict[str, Any]]:
            """The emulator's call, noting the chat of every 429."""
            status, body = await call(token, method, params, files)
            if status == 429:
                chat = params.get("chat_id")
                refused[int(chat) if chat is not None else None] += 1
            return status, body

        emulator.call = counting_call  # type: ignore[method-assign]
        learners = set(learner_ids)
        landed: set[int] = set()
        async with EmulatorServer(emulator) as server:
            env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
            env.update(
                BOT_TOKEN=emulator.token,
                BOT_API_URL=str(server.url),
                ADMIN_IDS="900001",
                DATABASE_URL=url,
                PSEUDONYM_KEY="bench-key-123",
                LOG_LEVEL="INFO",
                PYTHONPATH=str(ROOT),
            )
            launched = time.monotonic()
            proc = await start_bot(env, workdir)
            await emulator.wait_polling(timeout=120)
            polling = time.monotonic()
            emulator.latency = args.latency
            stop = asyncio.Event()
            taps: dict[str, list[float]] = defaultdict(list)
            tapping = [
                asyncio.create_task(
                    tap_through(emulator, user, enrolments[user.user_id], stop, taps, args.tap_gap)
                )
                for user in tappers
            ]
            limit = args.learners / 30 * 3 + 120
            try:
                while len(landed) < len(learners):
                    if time.monotonic() - polling > limit:
                        raise SystemExit(
                            f"only {len(landed)}/{len(learners)} lessons landed in {limit:.0f} s;"
                            f" see {workdir}"
                        )
                    for task in tapping:
                        if task.done() and task.exception() is not None:
                            raise task.exception()  # type: ignore[misc]
                    landed = learners & emulator.stats.send_times.keys()
                    await asyncio.sleep(0.5)
            finally:
                stop.set()
                await asyncio.gather(*tapping, return_exceptions=True)
            # A little longer, so that a second copy of a lesson would be seen.
            await asyncio.sleep(3)
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 60)
        figures = db_figures(db_path)
        problems = log_problems(workdir / "bot.log")
    stamps = sorted(t for i in learner_ids for t in emulator.stats.send_times.get(i, []))
    copies = Counter(len(emulator.stats.send_times.get(i, [])) for i in learner_ids)
    duplicates = sum(n for c, n in copies.items() if c > 1)
    lost = copies.get(0, 0)
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    minimum = (args.learners - 1) / 30  # N messages at 30/s: N - 1 intervals
    learner_429 = sum(n for chat, n in refused.items() if chat in learners)
    tapper_429 = sum(n for chat, n in refused.items() if chat not in learners)
    print(
        f"learners: {args.learners} due at the same minute, tappers: {args.tappers} "
        f"(a tap at least every {args.tap_gap:g} s), "
        f"limit 30 msg/s (1/s per chat, burst 4), {args.latency * 1000:.0f} ms per API call, "
        f"{os.cpu_count()} cores"
    )
    print(
        f"bot start to polling: {polling - launched:.1f} s; polling to the first lesson "
        f"message: {stamps[0] - polling:.1f} s"
    )
    print(
        f"first to last lesson message: {span:.1f} s, theoretical minimum {minimum:.1f} s "
        f"(ratio {span / minimum if minimum else 0:.3f}); rate "
        f"{(len(stamps) - 1) / span if span else 0:.2f} msg/s"
    )
    print(
        f"429s: {learner_429} in learners' chats, {tapper_429} in tappers' chats; "
        f"duplicates: {duplicates}, lost: {lost}"
    )
    for kind in sorted(taps):
        values = sorted(taps[kind])
        print(
            f"tap {kind}: {len(values)} taps, p50 {percentile(values, 0.5) * 1000:.0f} ms, "
            f"p95 {percentile(values, 0.95) * 1000:.0f} ms, max {values[-1] * 1000:.0f} ms"
        )
    print(f"database: {figures}")
    if problems:
        print(f"bot log: {len(problems)} error lines, the first: {problems[0]}")


if __name__ == "__main__":
    asyncio.run(main())
