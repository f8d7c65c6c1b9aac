"""`python3 dev.py run`: the one command a newcomer types, stopped with Ctrl-C."""

from __future__ import annotations

import importlib.util
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from tests.e2e.process import ROOT, bot_env

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups and SIGINT: POSIX")


def _dev_stamp_exists() -> bool:
    """Whether .venv is dev.py's and up to date (else dev.py would reinstall it first)."""
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    return bool(dev._stamp().exists())


def _wait_for(proc: subprocess.Popen, needle: bytes, timeout: float = 90.0) -> bytes:
    """Read the child's stdout until `needle` appears (a guard deadline, no sleeping)."""
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{needle!r} never appeared in:\n{seen.decode()}")
        ready, _, _ = select.select([proc.stdout], [], [], remaining)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"stdout closed before {needle!r}:\n{seen.decode()}")
            seen += chunk
    return seen


def test_ctrl_c_stops_dev_py_run_quietly(tmp_path):
    """Ctrl-C (SIGINT to the terminal's whole process group) ends the sandbox with no traceback.

    Tried: dev.py waited for `python -m bot` with `subprocess.call`, so the same Ctrl-C raised
    KeyboardInterrupt in dev.py itself: a traceback, and the bot killed 0.25 s later in the
    middle of its own clean shutdown.
    """
    if not _dev_stamp_exists():
        pytest.skip("the .venv was not made by dev.py for this pyproject.toml")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "dev.py"), "run", "sandbox", "--port", "0"],
        cwd=tmp_path,
        env=bot_env(tmp_path / "ortaq.db", None, None),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own group, as a terminal's foreground job
    )
    try:
        _wait_for(proc, b"emulator at")
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stderr = err.decode(errors="replace")
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert proc.returncode == 0, stderr
