"""Flood control in the sandbox: Telegram-style 429s on a controlled clock, and the stats."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from bot.sandbox.emulator import Emulator
from bot.sandbox.faults import Limits
from bot.sandbox.request import BASE_FILE_URL, BASE_URL, EmulatorRequest
from bot.sandbox.server import EmulatorServer

# PTB 22 warns when reading RetryAfter.retry_after as an int; the value is what we check.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class FakeClock:
    """A monotonic clock the test moves by hand: limits are crossed without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def retry_after_of(error: RetryAfter) -> int:
    value = error.retry_after
    return int(value.total_seconds()) if isinstance(value, dtm.timedelta) else int(value)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Emulator:
    emulator = Emulator(limits=Limits(global_per_second=30, per_chat_per_second=1), clock=clock)
    for user_id in range(1, 41):
        emulator.add_user(user_id, f"User {user_id}")
    return emulator


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[Bot]:
    request = EmulatorRequest(emulator)
    async with Bot(
        emulator.token,
        base_url=BASE_URL,
        base_file_url=BASE_FILE_URL,
        request=request,
        get_updates_request=EmulatorRequest(emulator),
    ) as in_process:
        yield in_process


async def test_limits_are_off_by_default():
    emulator = Emulator()
    emulator.add_user(1, "A")
    for n in range(100):
        status, _ = await emulator.call(emulator.token, "sendMessage", {"chat_id": 1, "text": n})
        assert status == 200
    assert emulator.stats.sent_messages == 100 and emulator.stats.too_many_requests == 0


async def test_one_message_per_second_per_chat(bot: Bot, emulator: Emulator, clock: FakeClock):
    await bot.send_message(1, "first")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "too soon")
    assert retry_after_of(caught.value) == 1
    await bot.send_message(2, "another chat is fine")
    clock.advance(1.0)
    await bot.send_message(1, "after waiting")
    assert emulator.stats.rate_limited == 1 and emulator.stats.too_many_requests == 1
    assert [r.text for r in emulator.bot_messages(1)] == ["first", "after waiting"]


async def test_thirty_messages_per_second_overall(bot: Bot, emulator: Emulator, clock: FakeClock):
    for user_id in range(1, 31):
        await bot.send_message(user_id, "broadcast")
    with pytest.raises(RetryAfter):
        await bot.send_message(31, "broadcast")
    clock.advance(0.1)  # three tokens refilled
    for user_id in range(31, 34):
        await bot.send_message(user_id, "broadcast")
    with pytest.raises(RetryAfter):
        await bot.send_message(34, "broadcast")
    assert emulator.stats.peak_rate() == 33
    assert emulator.stats.peak_rate(chat_id=31) == 1


async def test_edits_and_reads_are_not_flood_limited(bot: Bot, emulator: Emulator):
    sent = await bot.send_message(1, "v0")
    for n in range(1, 5):
        await bot.edit_message_text(f"v{n}", 1, sent.message_id)
        await bot.get_me()
    assert emulator.stats.rate_limited == 0


async def test_retry_after_rounds_up_to_whole_seconds(clock: FakeClock):
    emulator = Emulator(limits=Limits(per_chat_per_second=0.25), clock=clock)
    emulator.add_user(1, "A")
    assert (await emulator.call(emulator.token, "sendMessage", {"chat_id": 1, "text": "a"}))[
        0
    ] == 200
    clock.advance(0.5)
    status, body = await emulator.call(emulator.token, "sendMessage", {"chat_id": 1, "text": "b"})
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 4",
        "parameters": {"retry_after": 4},
    }


async def test_limits_can_change_at_run_time_and_over_http(clock: FakeClock):
    emulator = Emulator(clock=clock)
    emulator.add_user(1, "A")
    async with (
        EmulatorServer(emulator) as server,
        Bot(emulator.token, base_url=f"{server.url}/bot") as over_http,
    ):
        await over_http.send_message(1, "a")
        await over_http.send_message(1, "b")
        emulator.limits = Limits(per_chat_per_second=1)
        await over_http.send_message(1, "c")
        with pytest.raises(RetryAfter):
            await over_http.send_message(1, "d")
        emulator.limits = None
        await over_http.send_message(1, "e")
    assert emulator.stats.as_dict()["rate_limited"] == 1
    assert emulator.stats.calls["sendMessage"] == 5 and emulator.stats.sent_messages == 4
