"""Where the bot's CPU goes: read py-spy's raw samples and group them by library.

`bench/surveys.py --profile FILE` samples the bot process with py-spy (every thread, only
while it runs on a CPU, 250 times a second) from the moment it polls until it exits. This
script prints, for such a file:

- by group, "self": each sample goes to the innermost frame that belongs to a named group
  (a regular expression or a `typing` call made by SQLAlchemy counts as SQLAlchemy; JSON,
  the event loop and the sockets are groups of their own);
- by group, "inclusive": the share of samples with the group anywhere on the stack;
- the top functions, cumulative (anywhere on the stack) and self.

    .venv/bin/python bench/surveys.py --users 50 --latency 0.05 --profile /tmp/before.txt
    .venv/bin/python bench/profile.py /tmp/before.txt
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*):(?P<line>\d+)\)$")

# (group, pattern on the file path); the first match wins.
GROUPS: list[tuple[str, str]] = [
    (
        "HTTP client (httpx, httpcore, h11, anyio)",
        r"/site-packages/(httpx|httpcore|h11|anyio|sniffio)/",
    ),
    (
        "HTTP client (aiohttp, yarl, multidict)",
        r"/site-packages/(aiohttp|yarl|multidict|aiohappyeyeballs|propcache)/",
    ),
    ("PTB (telegram)", r"/site-packages/telegram/"),
    ("JSON (json)", r"/json/|orjson"),
    ("SQLAlchemy", r"/site-packages/sqlalchemy/"),
    ("SQLite driver (aiosqlite, sqlite3)", r"/site-packages/aiosqlite/|/sqlite3/"),
    ("i18n (babel, bot/i18n.py)", r"/site-packages/babel/|/bot/i18n\.py"),
    (
        "charts (matplotlib, numpy, PIL)",
        r"/site-packages/(matplotlib|numpy|PIL|kiwisolver|contourpy)/",
    ),
    ("APScheduler, other libraries", r"/site-packages/"),
    ("Ortaq: handlers/", r"/handlers/"),
    ("Ortaq: bot/services/, bot/content/", r"/bot/(services|content)/"),
    ("Ortaq: bot/ (core), models/", r"/bot/|/models/"),
    (
        "asyncio event loop, selectors, sockets",
        r"/asyncio/|selectors\.py|socket\.py|ssl\.py|<built-in>",
    ),
    ("threads, queues (to_thread, aiosqlite's thread)", r"/threading\.py|/queue\.py|/concurrent/"),
    ("native code (a thread with no Python frame)", r"^\(native code\)$"),
]
GENERIC = "Python standard library (as the caller's)"


def group_of(path: str) -> str | None:
    """The group of a source file, or None for the generic standard library."""
    for name, pattern in GROUPS:
        if re.search(pattern, path):
            return name
    return None


def thread_kind(frames: list[tuple[str, str]]) -> str:
    """Which of the bot's threads a stack is from: py-spy's thread label, else its frames.

    A coroutine resumed by the event loop's C code (a task step) has no `runpy` frame under
    it: its stack starts at the coroutine, so only the label says it ran on the main thread.
    """
    label = frames[0][0] if frames and frames[0][0].startswith("thread (") else ""
    if label:
        frames = frames[1:]
    if label.endswith(": MainThread"):
        if frames and "/sqlalchemy/" in frames[0][1]:
            return "main (event loop), in SQLAlchemy's greenlets"
        if not frames or frames[0][0] == "(native code)":
            return "main (event loop), no Python frame (C code: uvloop, C tasks)"
        return "main (event loop)"
    functions = {func for func, _ in frames[:12]}
    files = " ".join(file for _, file in frames[:12])
    if "_run_module_as_main" in functions or "<module>" in functions:
        return "main (event loop)"
    if frames and "/sqlalchemy/" in frames[0][1]:
        # SQLAlchemy's async layer runs the ORM in greenlets, which py-spy shows as stacks of
        # their own: they run on the main thread, called from the awaiting coroutine.
        return "main (event loop), in SQLAlchemy's greenlets"
    if "_connection_worker_thread" in functions or "aiosqlite" in files:
        return "aiosqlite (the database connection's thread)"
    if "/concurrent/futures/thread.py" in files:
        return "executor threads (asyncio.to_thread: charts, files)"
    if not frames or frames[0][0] == "(native code)":
        return "no Python frame (native code)"
    return "other"


def parse(path: Path) -> list[tuple[list[tuple[str, str]], int]]:
    """Each line of a raw py-spy file: (frames outermost first as (function, file), count)."""
    stacks = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        body, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue  # a function name with a line break in it (Cython) spills onto lines
        frames = []
        for raw in body.split(";"):
            match = _FRAME.match(raw)
            if not raw.strip() or raw.strip() == "()":
                frames.append(("(native code)", "(native code)"))
            elif match:
                frames.append((match["func"], match["file"]))
            else:
                frames.append((raw, raw))
        stacks.append((frames, int(count)))
    return stacks


def short(path: str) -> str:
    """A file path without the site-packages or project prefix."""
    for marker in ("/site-packages/", "/lib/python3.11/", "/wt-p2/", "/main/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def report(path: Path, top: int) -> None:
    """Print the grouped tables and the top functions of one samples file."""
    stacks = parse(path)
    total = sum(count for _, count in stacks)
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    by_thread: Counter[str] = Counter()
    for stack, count in stacks:
        # py-spy --threads: the thread's id comes first.
        by_thread[thread_kind(stack)] += count  # by py-spy's thread label, when it has one
        frames = stack[1:] if stack and stack[0][0].startswith("thread (") else stack
        frames = frames or [("(native code)", "(native code)")]
        groups = [group_of(file) for _, file in frames]
        innermost = next((g for g in reversed(groups) if g is not None), GENERIC)
        own[innermost] += count
        for name in {g for g in groups if g is not None}:
            inclusive[name] += count
        for name in {f"{func} ({short(file)})" for func, file in frames}:
            cumulative[name] += count
        func, file = frames[-1]
        self_time[f"{func} ({short(file)})"] += count
    print(f"{path}: {total} samples ({total / 250:.1f} s of CPU at 250 samples/s)")
    print()
    for kind, count in by_thread.most_common():
        print(f"thread: {kind:47} {100 * count / total:7.1f} %")
    print()
    print(f"{'group':55} {'self %':>7} {'inclusive %':>12}")
    for name, count in own.most_common():
        print(f"{name:55} {100 * count / total:7.1f} {100 * inclusive[name] / total:12.1f}")
    print()
    print(f"top {top} functions, cumulative % (anywhere on the stack)")
    for name, count in cumulative.most_common(top):
        print(f"{100 * count / total:6.1f}  {name}")
    print()
    print(f"top {top} functions, self %")
    for name, count in self_time.most_common(top):
        print(f"{100 * count / total:6.1f}  {name}")


def main() -> None:
    """Report each file given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    for file in args.files:
        report(file, args.top)


if __name__ == "__main__":
    main()
