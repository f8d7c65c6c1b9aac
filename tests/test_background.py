"""Background work: one job per key, a bound on how many run at once, errors contained."""

from __future__ import annotations

import asyncio
import logging

from bot.jobs.background import Background


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
