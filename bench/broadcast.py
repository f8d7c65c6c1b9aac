"""Broadcast throughput and exactly-once delivery across a SIGKILL, on the real bot process.

Seeds N onboarded students into a fresh SQLite database, starts the Bot API emulator over
HTTP enforcing Telegram's limits (30 messages/s overall, 1/s per chat, answering 429 beyond),
runs `python -m bot` against it, and has an admin compose and send a broadcast to everyone
through the chat, as a person would. At a random moment the bot is killed with SIGKILL and
started again; the broadcast must finish. Prints the achieved rate as a fraction of the limit
(while sending, the restart gap excluded), the 429s received, and per recipient how many
copies arrived: duplicates (more than one) and losses (none).

    .venv/bin/python bench/broadcast.py --recipients 2000
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
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import TELEGRAM_LIMITS, compose_broadcast, start_process  # noqa: E402
from bot.db import migrate  # noqa: E402
from bot.sandbox.emulator import Emulator  # noqa: E402
from bot.sandbox.server import EmulatorServer  # noqa: E402
from bot.sandbox.users import SimulatedUser  # noqa: E402

ADMIN = 900001
TEXT = "Reminder: the webinar “Digital educational platforms” starts tomorrow at 15:00."


def seed(db_path: Path, recipients: int) -> list[int]:
    """Migrate and insert the admin and `recipients` onboarded students directly."""
    migrate(f"sqlite+aiosqlite:///{db_path}")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    con = sqlite3.connect(db_path)
    ids = [100_000 + i for i in range(recipients)]
    rows = [(ADMIN, "Admin", "en")] + [
        (i, f"S{i}", random.choice(["kk", "ru", "en"])) for i in ids
    ]
    con.executemany(
        "INSERT INTO app_user (telegram_id, first_name, language, consent, university_id,"
        " group_name, onboarded_at, reachable, created_at, updated_at)"
        " VALUES (?, ?, ?, 1, 1, 'G-1', ?, 1, ?, ?)",
        [(tid, name, lang, now, now, now) for tid, name, lang in rows],
    )
    con.commit()
    con.close()
    return ids


def broadcast_state(db_path: Path) -> str | None:
    """The newest broadcast's state, read while the bot writes (WAL allows it)."""
    con = sqlite3.connect(db_path, timeout=30)
    try:
        row = con.execute("SELECT state FROM broadcast ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None
    finally:
        con.close()


def counts(db_path: Path) -> dict[str, int]:
    """Delivery states of the newest broadcast."""
    con = sqlite3.connect(db_path, timeout=30)
    try:
        rows = con.execute(
            "SELECT state, COUNT(*) FROM delivery WHERE broadcast_id ="
            " (SELECT MAX(id) FROM broadcast) GROUP BY state"
        ).fetchall()
        return dict(rows)
    finally:
        con.close()


async def start_bot(env: dict[str, str], workdir: Path, run: int) -> asyncio.subprocess.Process:
    """Start `python -m bot` with its output in bot-<run>.log."""
    return await start_process([sys.executable, "-m", "bot"], env, workdir, f"bot-{run}.log")


async def main() -> None:
    """Run the scenario and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per API call")
    parser.add_argument("--no-kill", action="store_true", help="do not SIGKILL the bot")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    keep = os.environ.get("BENCH_KEEP")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        db_path = workdir / "broadcast.db"
        for old in workdir.glob("broadcast.db*"):
            old.unlink()
        ids = await asyncio.to_thread(seed, db_path, args.recipients)
        # Telegram tolerates short bursts in one chat (a reply and the next question), so the
        # per-chat bucket holds a few messages; the 1/s average is enforced all the same.
        emulator = Emulator(limits=TELEGRAM_LIMITS)
        for i in ids:
            emulator.add_user(i, f"S{i}")
        admin = SimulatedUser(emulator, ADMIN, "Admin", "en")
        async with EmulatorServer(emulator) as server:
            env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
            env.update(
                BOT_TOKEN=emulator.token,
                BOT_API_URL=str(server.url),
                ADMIN_IDS=str(ADMIN),
                DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
                PSEUDONYM_KEY="bench-key-123",
                LOG_LEVEL="INFO",
                PYTHONPATH=str(ROOT),
            )
            proc = await start_bot(env, workdir, 1)
            await emulator.wait_polling(timeout=120)
            emulator.latency = args.latency
            total = args.recipients + 1  # the admin is in "everyone" too
            send_label = await compose_broadcast(emulator, admin, TEXT, total)
            # A person reads the preview before pressing Send; composing sent the admin's
            # chat a burst of replies, and its per-chat bucket refills meanwhile.
            await asyncio.sleep(4)
            emulator.reset_stats()
            started = time.monotonic()
            await admin.tap(send_label)
            expected = total / 30
            kill_at = None
            if not args.no_kill:
                await asyncio.sleep(rng.uniform(0.15, 0.85) * expected)
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
                kill_at = time.monotonic()
                proc = await start_bot(env, workdir, 2)
            restarted = time.monotonic()
            while broadcast_state(db_path) != "done":
                if time.monotonic() - started > expected * 3 + 120:
                    raise SystemExit(f"broadcast did not finish; see {workdir}")
                await asyncio.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 60)
        state = counts(db_path)
    times = emulator.stats.all_send_times
    recipient_times = sorted(
        ts
        for chat, stamps in emulator.stats.send_times.items()
        if chat in set(ids)
        for ts in stamps
    )
    copies = {i: len(emulator.stats.send_times.get(i, [])) for i in ids}
    duplicates = sum(1 for c in copies.values() if c > 1)
    lost = sum(1 for c in copies.values() if c == 0)
    if kill_at is not None:
        before = [x for x in recipient_times if x <= kill_at]
        after = [x for x in recipient_times if x > restarted]
        sending_time = (before[-1] - before[0] if len(before) > 1 else 0) + (
            after[-1] - after[0] if len(after) > 1 else 0
        )
        gap = (after[0] - before[-1]) if before and after else 0.0
    else:
        sending_time = recipient_times[-1] - recipient_times[0]
        gap = 0.0
    rate = (len(recipient_times) - (2 if kill_at else 1)) / sending_time
    print(
        f"recipients: {args.recipients} students (+ the sender), limit 30 msg/s, "
        f"{args.latency * 1000:.0f} ms per API call, {os.cpu_count()} cores"
    )
    if kill_at is not None:
        print(f"SIGKILL: at {kill_at - started:.1f} s, restart gap {gap:.1f} s")
    else:
        print("SIGKILL: no")
    print(f"achieved rate while sending: {rate:.2f} msg/s = {rate / 30:.3f} of the limit")
    print(f"429 answers received: {emulator.stats.too_many_requests}")
    print(f"duplicates: {duplicates}, lost: {lost}, messages sent in total: {len(times)}")
    print(f"outbox states: {state}")


if __name__ == "__main__":
    asyncio.run(main())
