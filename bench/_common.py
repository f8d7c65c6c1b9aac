"""Pieces the benchmarks share: the bot process, its CPU, waiting on a chat, composing a broadcast.

Each benchmark runs the real bot (`python -m bot`) against the Bot API emulator over HTTP; these
helpers start and stop that process, measure its CPU (with any worker processes it starts, read
from /proc), wait on a chat's activity signal with a deadline, and compose a broadcast to
everyone in chat as an admin does.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.i18n import I18n  # noqa: E402
from bot.sandbox.emulator import Emulator  # noqa: E402
from bot.sandbox.faults import Limits  # noqa: E402
from bot.sandbox.users import SimulatedUser  # noqa: E402

# Telegram's flood limits as the benchmarks enforce them: 30 new messages/s overall, 1/s per
# chat with a burst of 4 (a reply and the next question), 429 with retry_after beyond.
TELEGRAM_LIMITS = Limits(global_per_second=30, per_chat_per_second=1, per_chat_burst=4)

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Stalled(RuntimeError):
    """A simulated person's step did not progress within its deadline."""


def base_env() -> dict[str, str]:
    """The environment every bot process of a benchmark starts from."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(
        PYTHONPATH=str(ROOT),
        LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        PSEUDONYM_KEY="bench-key-123",
    )
    return env


async def start_process(
    command: list[str], env: dict[str, str], workdir: Path, log_name: str
) -> asyncio.subprocess.Process:
    """Start `command` in `workdir` with stdout and stderr in `workdir/log_name`."""
    with (workdir / log_name).open("wb") as log:
        return await asyncio.create_subprocess_exec(
            *command,
            cwd=workdir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )


async def stop_process(proc: asyncio.subprocess.Process, timeout: float = 60) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
    if proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process, from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after the last one.
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


class ProcessTreeCpu:
    """CPU seconds used by a process and every process it started (a chart pool, say).

    Linux only (/proc). Sample now and then while the tree runs: a worker that ends between
    two samples loses at most its CPU since the last sample.
    """

    def __init__(self, pid: int) -> None:
        self.root = pid
        self.seen: dict[int, float] = {}

    def sample(self) -> float:
        """Read the tree now; return its CPU seconds so far (ended workers included)."""
        parents: dict[int, list[int]] = {}
        times: dict[int, float] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            stat = _proc_stat(int(entry.name))
            if stat is not None:
                parents.setdefault(stat[0], []).append(int(entry.name))
                times[int(entry.name)] = stat[1]
        todo = [self.root]
        while todo:
            pid = todo.pop()
            if pid in times:
                self.seen[pid] = times[pid]
            todo.extend(parents.get(pid, ()))
        return self.total

    @property
    def total(self) -> float:
        """CPU seconds at the last sample."""
        return sum(self.seen.values())

    @property
    def processes(self) -> int:
        """How many processes of the tree were seen."""
        return len(self.seen)

    async def run(self, every: float = 0.5) -> None:
        """Sample every `every` seconds until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(every)


async def wait_until(
    emulator: Emulator,
    chat_id: int,
    check: Callable[[], bool],
    timeout: float,
    describe: Callable[[], str],
) -> None:
    """Wait on the chat's activity signal until `check()` holds; Stalled after `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise Stalled(f"chat {chat_id}: no progress within {timeout:g} s: {describe()}")
        seen = emulator.activity(chat_id)
        try:
            await emulator.wait_activity(chat_id, seen, timeout=max(0.05, remaining))
        except TimeoutError:
            continue


async def compose_broadcast(
    emulator: Emulator, admin: SimulatedUser, text: str, total: int, timeout: float = 60
) -> str:
    """Compose a broadcast of `text` to everyone in chat, as a person would; stop before Send.

    `total`: the people "everyone" holds (the Send button names the count). Returns the Send
    button's label, for the caller to press when it wants the broadcast to start.
    """
    t = I18n("kk").translator("en")

    async def until(check: Callable[[], bool]) -> None:
        await wait_until(
            emulator,
            admin.user_id,
            check,
            timeout,
            lambda: f"composing a broadcast; last: {admin.last_text!r} {admin.last_buttons}",
        )

    await admin.send("/broadcast")
    await until(lambda: "Everyone" in admin.last_buttons)
    await admin.tap("Everyone")
    await until(lambda: "Now send the message" in (admin.last_text or ""))
    await admin.send(text)
    await until(lambda: "No buttons" in admin.last_buttons)
    await admin.tap("No buttons")
    send_label = t.plain("broadcasts.send_now", count=total)
    await until(lambda: send_label in admin.last_buttons)
    return send_label


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of sorted `values`, nearest rank (as throughput.py); 0 when empty."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * q))]


def log_problems(path: Path) -> list[str]:
    """ERROR/CRITICAL lines and tracebacks of a bot log."""
    if not path.exists():
        return []
    return [
        line
        for line in path.read_text(errors="replace").splitlines()
        if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
    ]
