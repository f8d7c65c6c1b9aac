"""Charts drawn in worker processes (bot/services/chart_pool.py), with real processes.

A spy function cannot be sent to another process, so what is compared is the result: the same
chart drawn in a worker and in this process gives the same PNG bytes, and the pid a worker
reports is not this process's.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import build_application, on_stop
from bot.services import chart_pool
from bot.services.charts import ScaleBar, render_scales, render_scales_async
from bot.services.course_stats import (
    course_stats,
    render_course_chart,
    render_course_chart_async,
)
from tests.conftest import make_settings

BARS = [
    ScaleBar("Цифрлық сауаттылық", 3.7, 2.9),
    ScaleBar("Мотивация", 4.2, 4.0),
    ScaleBar("Ынтымақтастық", 2.5, None),
]
KWARGS = {"maximum": 5.0, "minimum": 1.0, "previous_label": "Бұрын", "current_label": "Қазір"}


@pytest.fixture
def pool() -> Iterator[None]:
    """One chart worker for the test, and back to drawing in a thread after it."""
    chart_pool.configure(1)
    yield
    chart_pool.configure(0)


async def test_a_chart_drawn_in_a_worker_is_the_chart_drawn_here(pool):
    """Tried: the survey results chart through the pool, against a render in this process."""
    png = await render_scales_async("Нәтижелер", BARS, language="kk", **KWARGS)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert png == render_scales("Нәтижелер", BARS, language="kk", **KWARGS)
    worker = await chart_pool.run(os.getpid)
    assert worker != os.getpid()
    # The same worker draws the next chart: the pool is kept, not started per chart.
    assert await chart_pool.run(os.getpid) == worker
    await chart_pool.shutdown()


async def test_warm_starts_every_worker_before_the_first_chart():
    """Tried: two workers warmed (as the bot's start-up does), then a chart; no workers."""
    chart_pool.configure(2)
    try:
        assert await chart_pool.warm() >= 1  # the workers that answered (one may answer both)
        executor = chart_pool._POOL.executor
        assert executor is not None
        started = set(executor._processes)  # the processes the warm-up started
        assert len(started) == 2
        worker = await chart_pool.run(os.getpid)
        assert worker in started  # drawn by a worker already running, none started for it
        # The workers yield the CPU to the bot: their priority is lower than this process's.
        here = os.nice(0)
        assert await chart_pool.run(os.nice, 0) == min(19, here + chart_pool.WORKER_NICENESS)
        assert set(executor._processes) == started
    finally:
        await chart_pool.shutdown()
        chart_pool.configure(0)
    assert await chart_pool.warm() == 0  # in a thread: nothing to start


async def test_ctrl_c_while_the_workers_start_does_not_reach_them():
    """Tried: SIGINT to each worker the moment the warm-up started it (as Ctrl-C in a terminal
    signals the whole process group, right after `python -m bot` started its workers). Before,
    a worker still importing its modules died with a KeyboardInterrupt traceback and the pool
    broke; now the workers are born ignoring SIGINT, and the warm-up and a chart go through."""
    chart_pool.configure(2)
    try:
        warming = asyncio.ensure_future(chart_pool.warm())
        await asyncio.sleep(0)  # the warm-up submits its calls: the workers are being started
        executor = chart_pool._POOL.executor
        assert executor is not None and executor._processes
        for pid in list(executor._processes):
            os.kill(pid, signal.SIGINT)
        assert await warming >= 1
        assert await chart_pool.run(os.getpid) in executor._processes
    finally:
        await chart_pool.shutdown()
        chart_pool.configure(0)


async def test_other_charts_go_through_the_pool_too(pool, db):
    """Tried: /course_stats's chart (its statistics, dataclasses, sent to the worker)."""
    from tests.services.test_course_data import ADMINS, T0, _scores, seeded

    await seeded(db)
    await _scores(db, 111111111, "dlt_pre", 2.0)
    await _scores(db, 111111111, "dlt_post", 3.5)
    stats = await course_stats(db, 1, ADMINS, "demo_course", now=T0 + timedelta(days=3))
    png = await render_course_chart_async(stats, "ru")
    assert png.startswith(b"\x89PNG") and png == render_course_chart(stats, "ru")
    await chart_pool.shutdown()


async def test_without_workers_charts_are_drawn_in_a_thread():
    chart_pool.configure(0)
    assert await chart_pool.run(os.getpid) == os.getpid()
    assert await chart_pool.run(threading.get_ident) != threading.get_ident()
    png = await render_scales_async("T", BARS, **KWARGS)
    assert png == render_scales("T", BARS, **KWARGS)


async def test_a_worker_that_dies_costs_no_chart(pool):
    """Tried: the worker is killed; that call is drawn in a thread, the next in a new worker."""
    first = await chart_pool.run(os.getpid)
    os.kill(first, signal.SIGKILL)
    assert await chart_pool.run(os.getpid) == os.getpid()  # in a thread, not lost
    second = await chart_pool.run(os.getpid)
    assert second not in (first, os.getpid())
    await chart_pool.shutdown()


async def test_the_application_configures_the_pool_and_stops_it(tmp_path: Path, db_path: Path):
    """Tried: CHART_WORKERS from the settings; the application's stop ends the workers."""
    app = build_application(make_settings(db_path, bot_token="123456:ABCDEFGHIJ", chart_workers=2))
    try:
        assert chart_pool.workers() == 2
        worker = await chart_pool.run(os.getpid)
        await on_stop(app)
        with pytest.raises(ProcessLookupError):
            os.kill(worker, 0)  # ended and reaped
    finally:
        chart_pool.configure(0)
        await app.bot_data.engine.dispose()
    with pytest.raises(ValueError):
        chart_pool.configure(-1)


ROOT = Path(__file__).resolve().parents[2]
_KILLED_BOT = """
import asyncio, os, sys, time
from bot.services import chart_pool

async def main():
    chart_pool.configure(1)
    print(await chart_pool.run(os.getpid), flush=True)

asyncio.run(main())
time.sleep(600)
"""


async def test_a_worker_ends_when_the_bot_is_killed(tmp_path):
    """Tried: a process that starts a chart worker, killed with SIGKILL (it cannot end its
    workers). Before, the worker waited for work forever; now it sees its parent gone and
    ends within its check's interval (a guard of 60 s, not a speed target)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _KILLED_BOT,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 120)
    worker = int(line)
    assert _alive(worker)
    process.kill()
    await process.wait()
    deadline = asyncio.get_running_loop().time() + 60
    while _alive(worker) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, ended and not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
