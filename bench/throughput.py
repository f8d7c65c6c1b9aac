"""Throughput of the real bot process: N simulated users onboarding at once.

Starts the Bot API emulator over HTTP on 127.0.0.1 with a configurable latency on every call,
runs `python -m bot` against it (a real process, a fresh SQLite file), and lets N users go
through onboarding at the same time (/start, language, consent, university, group: 5 updates
each). Then runs a bare PTB echo bot against the same emulator settings, N users sending 5
messages each. Prints updates/s and p50/p99 of the time from a user's action to the bot's
answer that completes it.

    .venv/bin/python bench/throughput.py --users 200 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import ProcessTreeCpu  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.sandbox.emulator import Emulator  # noqa: E402
from bot.sandbox.server import EmulatorServer  # noqa: E402
from bot.sandbox.users import SimulatedUser  # noqa: E402

UNIVERSITY = "Zhetysu University named after I. Zhansugurov"


async def until(emulator: Emulator, user: SimulatedUser, check: Callable[[], bool]) -> None:
    """Wait on the chat's activity signal until `check()` holds (60 s at most)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while not check():
        seen = emulator.activity(user.user_id)
        await emulator.wait_activity(user.user_id, seen, timeout=max(0.1, deadline - loop.time()))


async def timed(latencies: list[float], action: Awaitable[object], done: Awaitable[None]) -> None:
    """Record the time from an action to the state that completes it."""
    start = time.perf_counter()
    await action
    await done
    latencies.append(time.perf_counter() - start)


async def onboard(emulator: Emulator, user: SimulatedUser, latencies: list[float]) -> None:
    """One user's onboarding, every step timed."""
    t = I18n("kk").translator("en")
    yes = t.plain("onboarding.consent_yes")
    ask_group = "faculty and group"
    menu = t.plain("menu.profile")
    await timed(
        latencies,
        user.send("/start"),
        until(emulator, user, lambda: "English" in " ".join(user.last_buttons)),
    )
    await timed(
        latencies, user.tap("English"), until(emulator, user, lambda: yes in user.last_buttons)
    )
    await timed(
        latencies,
        user.tap(yes),
        until(emulator, user, lambda: any(UNIVERSITY in b for b in user.last_buttons)),
    )
    await timed(
        latencies,
        user.tap(UNIVERSITY),
        until(emulator, user, lambda: ask_group in (user.last_text or "")),
    )
    await timed(
        latencies,
        user.send("Pedagogy, PO-21"),
        until(emulator, user, lambda: menu in user.last_buttons),
    )


async def echo_round(emulator: Emulator, user: SimulatedUser, latencies: list[float]) -> None:
    """One user's five messages to the echo bot, each timed until its echo."""
    for i in range(5):
        text = f"hello {user.user_id} {i}"
        await timed(
            latencies,
            user.send(text),
            until(emulator, user, lambda text=text: user.last_text == text),
        )


async def run_phase(
    name: str,
    command: list[str],
    env: dict[str, str],
    users: int,
    latency: float,
    scenario: Callable[[Emulator, SimulatedUser, list[float]], Awaitable[None]],
    workdir: Path,
    *,
    first_user: int = 10_000,
    also_known: tuple[int, ...] = (),
    profile: Path | None = None,
) -> dict[str, float]:
    """Start an emulator and the bot process, run the scenario for every user at once.

    Users are `first_user`, `first_user + 1`, ...; `also_known` are people the bot may write
    to without taking part (an admin seeded in its database). `profile`: a file for py-spy's
    samples of the bot process (every thread, CPU only, raw collapsed stacks), taken from the
    moment the bot polls until it exits; the sampler's own CPU then counts as the bot's, so
    the CPU figures of a profiled run are not comparable.
    """
    emulator = Emulator()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    sampler: asyncio.subprocess.Process | None = None
    async with EmulatorServer(emulator) as server:
        env = {**env, "BOT_TOKEN": emulator.token, "BOT_API_URL": str(server.url)}
        log = (workdir / f"{name}.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=workdir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        try:
            await emulator.wait_polling(timeout=120)
            if profile is not None:
                sampler = await start_sampler(proc.pid, profile)
            # Latency applies once the bot is up, so start-up is not part of the figures.
            emulator.latency = latency
            people = [SimulatedUser(emulator, first_user + i, f"U{i}", "en") for i in range(users)]
            for telegram_id in also_known:
                emulator.add_user(telegram_id, "Known")
            latencies: list[float] = []
            tree = ProcessTreeCpu(proc.pid)  # the bot and its workers (charts)
            sampling = asyncio.create_task(tree.run())
            load_before = tree.sample()
            start = time.perf_counter()
            await asyncio.gather(*(scenario(emulator, p, latencies) for p in people))
            elapsed = time.perf_counter() - start
            load_cpu = tree.sample() - load_before
            sampling.cancel()
            threads = thread_cpu(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
            if sampler is not None:
                await sampler.wait()  # py-spy writes its file when the process is gone
            log.close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    bot_cpu = (children.ru_utime + children.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    harness_cpu = (own.ru_utime + own.ru_stime) - (self_before.ru_utime + self_before.ru_stime)
    latencies.sort()
    if threads:
        main_thread = threads.pop(proc.pid, 0.0)
        print(
            f"{name}: CPU by thread at the end of the load: main {main_thread:.1f} s, "
            f"{len(threads)} other thread(s) {sum(threads.values()):.1f} s (largest "
            f"{max(threads.values(), default=0.0):.1f} s)"
        )
    return {
        # CPU of the whole bot process (start-up included) and of this process (emulator,
        # HTTP server, simulated users), per update.
        "bot_cpu_ms": bot_cpu / len(latencies) * 1000,
        # CPU of the bot and its worker processes from the first update to the last answer:
        # what an update costs, without the start-up (imports, migrations, content, the chart
        # workers' imports) that the whole-process figure spreads over the updates of the run.
        "load_cpu_ms": load_cpu / len(latencies) * 1000,
        "harness_cpu_ms": harness_cpu / len(latencies) * 1000,
        "updates": len(latencies),
        "seconds": elapsed,
        "updates_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each live thread of process `pid` (Linux; else {})."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    seconds: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        seconds[int(task.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


async def start_sampler(pid: int, out: Path) -> asyncio.subprocess.Process:
    """py-spy sampling process `pid` (all threads, only while on CPU) into `out`."""
    py_spy = Path(sys.executable).with_name("py-spy")
    return await asyncio.create_subprocess_exec(
        str(py_spy) if py_spy.exists() else "py-spy",
        *("record", "--pid", str(pid), "--format", "raw", "--full-filenames", "--threads"),
        *("--rate", "250", "--nonblocking", "--output", str(out)),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def main() -> None:
    """Run both phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API call")
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
        ortaq_env = {**base_env, "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db"}
        print(
            f"{args.users} users, {args.latency * 1000:.0f} ms per Bot API call, "
            f"python {sys.version.split()[0]}, {os.cpu_count()} cores"
        )
        results = {
            "ortaq (onboarding, 5 updates/user)": await run_phase(
                "ortaq",
                [sys.executable, "-m", "bot"],
                ortaq_env,
                args.users,
                args.latency,
                onboard,
                workdir,
            ),
            "bare PTB echo bot, sequential (default)": await run_phase(
                "echo",
                [sys.executable, str(ROOT / "bench" / "echo_bot.py")],
                base_env,
                args.users,
                args.latency,
                echo_round,
                workdir,
            ),
            "bare PTB echo bot, concurrent_updates=32": await run_phase(
                "echo32",
                [sys.executable, str(ROOT / "bench" / "echo_bot.py")],
                {**base_env, "ECHO_CONCURRENT": "32"},
                args.users,
                args.latency,
                echo_round,
                workdir,
            ),
        }
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


if __name__ == "__main__":
    asyncio.run(main())
