"""Charts drawn in a small pool of worker processes, off the event loop and off the GIL.

A results chart costs a tenth to a quarter of a second of CPU in matplotlib the first time a
survey's frame is drawn in a process, and about 30 ms after that (`bot.services.charts` keeps
the frame). In a thread of the bot's own process it held the GIL for that time, so 50
students submitting at once slowed every other student's next question. Here a chart is
drawn by one of `CHART_WORKERS` processes (`concurrent.futures.ProcessPoolExecutor`), and the
bot's process only waits for the PNG bytes.

- `configure(workers)` is called by `bot.app.build_application` with `CHART_WORKERS`; nothing
  starts then. The bot's start-up calls `warm()` in the background: the workers start and
  import matplotlib (about a second of CPU each) while the bot is idle, not when a lecture
  hall's first students submit and wait. Otherwise the pool starts at the first chart (`run`).
  `shutdown()` (at the application's stop) ends them. 0 workers, or a pool never configured
  (a command-line tool, a test), draws in a thread as before.
- Workers are started with `spawn`, never `fork`: the bot's process has threads (the database
  driver's, the executor's), and a forked copy of a process with threads may hang on a lock
  one of them held. So a function run in the pool, and its arguments and result, must be
  picklable: a module-level function (e.g. `charts.render_scales`) and plain values.
- Workers run at a lower priority (`WORKER_NICENESS`): a wave of Submits draws its charts with
  the CPU the answers and the scores leave, so everyone else's next question comes first.
- A worker that dies (killed, out of memory) breaks the pool: that chart is drawn in a thread
  and the next one starts a new pool.
- A worker ends itself when the bot that started it is gone without ending it (killed with
  SIGKILL, by the out-of-memory killer, a replica's crash): it checks its parent every
  `PARENT_CHECK` seconds in a thread of its own. Otherwise each killed bot left its workers
  waiting for work forever, holding their memory.

The pool is the process's, like the garbage collector's settings: one per process, whichever
application configured it last.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

__all__ = ["configure", "run", "shutdown", "warm", "workers"]

logger = logging.getLogger(__name__)

# How much lower the workers' priority is than the bot's (nice(2): 0 normal, 19 lowest).
WORKER_NICENESS = 10
PARENT_CHECK = 2.0  # seconds between a worker's checks that the bot is still there

P = ParamSpec("P")
R = TypeVar("R")


class _Pool:
    """The process's chart workers: their number and, once started, the executor."""

    def __init__(self) -> None:
        self.workers = 0
        self.executor: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        if self.executor is None:
            self.executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
            )
        return self.executor

    def drop(self) -> ProcessPoolExecutor | None:
        executor, self.executor = self.executor, None
        return executor


_POOL = _Pool()


def _start_worker() -> None:
    """In a new worker: leave Ctrl-C to the bot, yield the CPU to it, end with it, charts."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(
        target=_end_with_parent, args=(os.getppid(),), name="chart-parent", daemon=True
    ).start()
    # When 50 students submit at once, the charts must not take the CPU from the answers and
    # the scores of everyone else: the workers run at a lower priority than the bot.
    with contextlib.suppress(OSError, AttributeError):  # not on every platform
        os.nice(WORKER_NICENESS)
    importlib.import_module("bot.services.charts")


def _end_with_parent(parent: int) -> None:
    """End this worker once its parent is gone (the worker is then another process's child)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK)
    os._exit(0)  # nothing of the bot's to finish here: its charts had nobody to go to


def workers() -> int:
    """How many worker processes charts are drawn in (0: in a thread)."""
    return _POOL.workers


def configure(count: int) -> None:
    """Draw charts in `count` processes from now on (0: in a thread); starts nothing.

    A pool already running with another number of workers is ended; the next chart starts
    the new one.
    """
    if count < 0:
        raise ValueError("the number of chart workers cannot be negative")
    if count != _POOL.workers:
        old = _POOL.drop()
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)
    _POOL.workers = count


async def run(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`function(*args, **kwargs)` in a chart worker (or a thread with none); its result.

    `function`, its arguments and its result must be picklable when there are workers.
    """
    call = functools.partial(function, *args, **kwargs)
    if _POOL.workers == 0:
        return await asyncio.to_thread(call)
    executor = _POOL.get()
    try:
        with _born_ignoring_ctrl_c():
            future = asyncio.get_running_loop().run_in_executor(executor, call)
        return await future
    except BrokenProcessPool:
        logger.warning("a chart worker died; drawing this chart in a thread", exc_info=True)
        if _POOL.executor is executor:
            _POOL.drop()
            executor.shutdown(wait=False, cancel_futures=True)
        return await asyncio.to_thread(call)


@contextlib.contextmanager
def _born_ignoring_ctrl_c() -> Iterator[None]:
    """Workers started inside ignore SIGINT from their first instruction.

    Ctrl-C in a terminal signals the whole process group, the workers too. The initializer
    makes a worker ignore it, but only after the worker has imported its modules: a Ctrl-C
    in that second (the workers start with the bot) printed a KeyboardInterrupt traceback
    from each. A signal ignored when a process is started stays ignored in it, and Python
    installs its KeyboardInterrupt handler only where SIGINT is not ignored: so SIGINT is
    ignored here while the executor may start workers (submitting starts them), and given
    back at once. Only the main thread may change it; elsewhere this does nothing.
    """
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _ready() -> int:
    """Run in a worker to start it: its process id (its initializer imported the charts)."""
    return os.getpid()


async def warm() -> int:
    """Start every worker now (each imports matplotlib once); how many answered.

    A worker up first may answer for another still starting. Best effort: a pool that
    cannot start, or one shut down meanwhile, is started again by the first chart.
    """
    if _POOL.workers == 0:
        return 0
    executor = _POOL.get()
    loop = asyncio.get_running_loop()
    # As many calls at once as there are workers: none is idle yet, so each starts one.
    with _born_ignoring_ctrl_c():
        calls = [loop.run_in_executor(executor, _ready) for _ in range(_POOL.workers)]
    done = await asyncio.gather(*calls, return_exceptions=True)
    started = len({pid for pid in done if isinstance(pid, int)})
    logger.info("%d chart worker(s) ready", started)
    return started


async def shutdown() -> None:
    """End the workers (a chart being drawn is finished first); the next chart starts anew."""
    executor = _POOL.drop()
    if executor is not None:
        # Joining processes blocks: not on the event loop.
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
