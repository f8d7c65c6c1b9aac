"""Start the real bot process (`python -m bot`) against an emulator served over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from bot.sandbox.emulator import Emulator
from bot.sandbox.users import SimulatedUser

ROOT = Path(__file__).resolve().parents[2]


def bot_env(db_path: Path, emulator_url: str | None, token: str | None, **extra: str) -> dict:
    """The environment of a bot process: only what the test sets, plus PATH and the like."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "SYSTEMROOT"}}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
        PSEUDONYM_KEY="e2e-pseudonym-key",
        ADMIN_IDS="900001",
        LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        # One chart worker process (started with the bot) instead of two: the same code,
        # less CPU for the suite's many process starts.
        CHART_WORKERS="1",
    )
    if emulator_url:
        env["BOT_API_URL"] = emulator_url
    if token:
        env["BOT_TOKEN"] = token
    env.update(extra)
    return env


class BotProcess:
    """`python -m bot` as a child process, with its output kept in files."""

    def __init__(
        self, env: dict, workdir: Path, args: tuple[str, ...] = (), *, pipe_stdout: bool = False
    ):
        """Prepare to run `python -m bot ARGS` in `workdir` (which has no .env)."""
        self.pipe_stdout = pipe_stdout
        self.env = env
        self.workdir = workdir
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None
        self.runs = 0

    async def start(self) -> None:
        """Start the process."""
        self.runs += 1
        out = (self.workdir / f"bot-{self.runs}.out").open("wb")
        err = (self.workdir / f"bot-{self.runs}.err").open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *self.args,
            cwd=self.workdir,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if self.pipe_stdout else out,
            stderr=err,
        )
        out.close()
        err.close()

    def log(self) -> str:
        """Everything the process wrote to stderr so far, for failure messages."""
        path = self.workdir / f"bot-{self.runs}.err"
        return path.read_text(errors="replace") if path.exists() else ""

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode or 0


async def wait_until(
    user: SimulatedUser, emulator: Emulator, check: Callable[[], bool], timeout: float = 30.0
) -> None:
    """Wait (on the emulator's activity signal, not a clock) until `check()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"condition not met; last bot text: {user.last_text!r}")
        seen = emulator.activity(user.user_id)
        try:
            await emulator.wait_activity(user.user_id, seen, timeout=remaining)
        except TimeoutError:
            if not check():
                raise
