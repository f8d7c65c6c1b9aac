"""Background work: one job per key, a bound on how many run at once, errors reported.

Also: the runner, not the export service, relaxes the process-wide garbage collector.
"""

from __future__ import annotations

import asyncio
import gc
import logging

from bot.jobs.background import Background, relaxed_gc


async def test_one_job_per_key_and_at_most_the_slots_at_once():
    work = Background(slots=2)
    release = asyncio.Event()
    running: list[str] = []
    most = 0

    def job(name: str):
        async def run() -> None:
            nonlocal most
            running.append(name)
            most = max(most, len(running))
            await release.wait()
            running.remove(name)

        return run

    assert work.start("a", job("a")) and work.start("b", job("b")) and work.start("c", job("c"))
    assert not work.start("a", job("a again"))  # a second tap while the first runs
    for _ in range(5):
        await asyncio.sleep(0)  # let the tasks reach the semaphore (no wall clock involved)
    assert sorted(running) == ["a", "b"] and work.busy("c")
    release.set()
    await work.idle()
    assert most == 2 and not work.tasks and work.start("a", job("a"))
    await work.idle()


async def test_a_failing_job_is_logged_and_frees_its_key(caplog):
    work = Background()

    async def broken() -> None:
        raise ValueError("boom")

    with caplog.at_level(logging.ERROR):
        assert work.start("k", broken)
        await work.idle()
    assert "background job k failed" in caplog.text and not work.busy("k")


async def test_stop_cancels_what_still_runs():
    work = Background()
    never = asyncio.Event()
    work.start("k", never.wait)
    await asyncio.sleep(0)
    await work.stop()
    assert not work.tasks


async def test_a_failing_job_goes_to_its_report_and_frees_its_key(caplog):
    work = Background()
    reported: list[BaseException] = []

    async def broken() -> None:
        raise ValueError("boom")

    async def report(error: BaseException) -> None:
        reported.append(error)

    assert work.start("k", broken, on_error=report)
    await work.idle()
    assert [str(e) for e in reported] == ["boom"] and not work.busy("k")

    async def report_fails(error: BaseException) -> None:
        raise RuntimeError("the report failed too")

    with caplog.at_level(logging.ERROR):
        assert work.start("k", broken, on_error=report_fails)
        await work.idle()
    assert "failed, and so did its report" in caplog.text and "boom" in caplog.text
    assert not work.busy("k")


def test_the_garbage_collector_is_relaxed_only_while_relaxed_jobs_run():
    before = gc.get_threshold()
    with relaxed_gc():
        with relaxed_gc():  # two exports at once
            assert gc.get_threshold()[0] >= 50_000
        assert gc.get_threshold()[0] >= 50_000  # the other one still runs
    assert gc.get_threshold() == before


async def test_the_runner_decides_to_relax_the_collector():
    work = Background()
    before = gc.get_threshold()
    seen: dict[str, int] = {}

    def job(name: str):
        async def run() -> None:
            seen[name] = gc.get_threshold()[0]

        return run

    work.start("plain", job("plain"))
    await work.idle()
    work.start("relaxed", job("relaxed"), relax_gc=True)
    await work.idle()
    assert seen == {"plain": before[0], "relaxed": max(before[0], 50_000)}
    assert gc.get_threshold() == before
