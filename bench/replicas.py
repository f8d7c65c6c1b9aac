"""Updates per second with one and with two replicas: webhook mode on PostgreSQL.

Starts a throwaway PostgreSQL server (tests/pg/server.py: it needs PostgreSQL's programs on
this machine, as the pg tests do), then for 1 and 2 replicas: a fresh database (migrated, the
default content), that many `python -m bot` processes in webhook mode, and the Bot API
emulator over HTTP delivering the updates to them in turn (bot.sandbox.webhook, standing in for
the load balancer). N users onboard at once (/start, language, consent, university, group: 5
updates each); every user sends their next update once the previous one was answered 200.
Prints updates/s (all updates over the wall time from the first to the last answer) and p50/p99
of an update's time from being queued to its 200.

    .venv/bin/python bench/replicas.py --users 100

Each replica handles every update under the cross-replica guard (bot/replicas.py: an advisory
lock and the handled_update row), and a replica is one Python process: on a machine with more
cores than replicas, a second replica adds CPU; on a small machine the database and the
emulator share the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.db import create_engine, make_sessionmaker, migrate_async  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.sandbox.emulator import Emulator  # noqa: E402
from bot.sandbox.server import EmulatorServer  # noqa: E402
from bot.sandbox.users import SimulatedUser  # noqa: E402
from bot.services.content import load_defaults_if_empty  # noqa: E402
from tests.e2e.process import BotProcess, bot_env  # noqa: E402
from tests.pg import server as pg  # noqa: E402

UNIVERSITY = "Zhetysu University named after I. Zhansugurov"
SECRET = "bench-replicas-secret_0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def onboard(server: EmulatorServer, user: SimulatedUser, latencies: list[float]) -> None:
    """One user's onboarding, each update timed from queued to answered."""
    t = I18n("kk").translator("en")

    async def act(action) -> None:
        start = time.perf_counter()
        try:
            await action
        except AssertionError as error:
            raise AssertionError(f"{error}; the chat ends with {user.texts[-3:]}") from None
        await server.webhook.wait_idle(user.user_id, timeout=120)
        latencies.append(time.perf_counter() - start)

    await act(user.send("/start"))
    await act(user.tap("English"))
    await act(user.tap(t.plain("onboarding.consent_yes")))
    await act(user.tap(next(b for b in user.last_buttons if UNIVERSITY in b)))
    await act(user.send("Pedagogy, PO-21"))
    assert t.plain("menu.profile") in user.last_buttons, user.last_text


async def phase(server_pg: pg.Server, replicas: int, users: int, workdir: Path) -> dict:
    name = f"bench_{replicas}"
    await pg.create_database(server_pg, name)
    url = server_pg.url(name)
    await migrate_async(url)
    engine = create_engine(url)
    await load_defaults_if_empty(make_sessionmaker(engine))
    await engine.dispose()
    emulator = Emulator()
    ports = [free_port() for _ in range(replicas)]
    targets = tuple(f"http://127.0.0.1:{port}/telegram/webhook" for port in ports)
    async with EmulatorServer(emulator, webhook_targets=targets) as server:
        assert server.url is not None
        processes = []
        for n, port in enumerate(ports):
            home = workdir / f"{name}-{n}"
            home.mkdir()
            env = bot_env(
                home / "unused.db",
                server.url,
                emulator.token,
                DATABASE_URL=url,
                BOT_MODE="webhook",
                WEBHOOK_URL="https://bot.example.org/telegram/webhook",
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_LISTEN=f"127.0.0.1:{port}",
                LOG_LEVEL="WARNING",
            )
            processes.append(BotProcess(env, home))
        for process in processes:
            await process.start()
        try:
            await emulator.wait_webhook(timeout=60)
            # Every replica answers before the clock starts (the first is the one that set
            # the webhook; the others may still be starting).
            warm = [SimulatedUser(emulator, 1_000 + n, "W", "en") for n in range(replicas * 2)]
            for user in warm:
                await user.send("/start")
                await server.webhook.wait_idle(user.user_id, timeout=120)
            people = [SimulatedUser(emulator, 10_000 + n, "U", "en") for n in range(users)]
            latencies: list[float] = []
            start = time.perf_counter()
            await asyncio.gather(*(onboard(server, user, latencies) for user in people))
            elapsed = time.perf_counter() - start
        finally:
            for process in processes:
                await process.stop()
        stats = server.webhook.stats
    latencies.sort()
    return {
        "replicas": replicas,
        "updates": len(latencies),
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "by_target": sorted(stats.by_target.values()),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--replicas", default="1,2", help="comma-separated counts to try")
    args = parser.parse_args()
    server_pg = pg.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{os.cpu_count()} CPUs; {args.users} users onboarding, 5 updates each")
            for count in (int(n) for n in args.replicas.split(",")):
                row = await phase(server_pg, count, args.users, Path(tmp))
                print(
                    f"{row['replicas']} replica(s): {row['updates']} updates in "
                    f"{row['seconds']:.1f} s = {row['per_second']:.0f} updates/s; "
                    f"p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms; "
                    f"answered per replica {row['by_target']}"
                )
    finally:
        server_pg.stop()


if __name__ == "__main__":
    asyncio.run(main())
