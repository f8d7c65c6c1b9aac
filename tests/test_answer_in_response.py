"""Button answers kept for the webhook response (bot.answer_in_response), and when they are not.

The webhook round trip itself is in tests/test_webserver.py; here the slot's rules, against
the harness's bot and emulator: what a request would have answered is counted at the emulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Update

from bot import answer_in_response as air
from bot.config import Settings
from bot.sandbox.harness import Harness


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[Harness]:
    async with Harness(settings) as h:
        yield h


async def _press(harness: Harness, user_id: int) -> Update:
    """A callback query from a real message of the emulator, as the bot would parse it."""
    harness.emulator.add_user(user_id, "Aru", language_code="en")
    assert harness.app is not None
    sent = await harness.app.bot.send_message(user_id, "Pick", reply_markup=None)
    data = harness.emulator.post_callback(user_id, sent.message_id, "x", enqueue=False)
    return Update.de_json(data, harness.app.bot)


def _answers(harness: Harness) -> int:
    return harness.emulator.stats.calls["answerCallbackQuery"]


async def test_an_answer_is_kept_once_and_given_to_the_response(harness: Harness):
    update = await _press(harness, 6001)
    query_id = update.callback_query.id
    with air.answering(update) as slot:
        assert air.defer(query_id, "Saved")
        assert not air.defer(query_id, "Again")  # a second answer goes as a request
        assert not air.defer("another-query", None)  # so does one to another press
        body = air.body(slot)
    call = {"method": "answerCallbackQuery", "callback_query_id": query_id, "text": "Saved"}
    assert body == call
    assert _answers(harness) == 0


async def test_no_slot_outside_a_webhook_request_and_none_for_a_message(harness: Harness):
    update = await _press(harness, 6002)
    assert not air.defer(update.callback_query.id, None)  # polling, the harness
    message = Update.de_json(
        harness.emulator.post_message(6002, "hi", enqueue=False), harness.app.bot
    )
    with air.answering(message) as slot:
        assert slot is None
        assert air.body(slot) is None


async def test_flush_sends_the_kept_answer_at_once_and_the_response_carries_none(
    harness: Harness,
):
    """Before slow work (a chart) the spinner is stopped by a request."""
    update = await _press(harness, 6003)
    with air.answering(update) as slot:
        assert air.defer(update.callback_query.id, "Thanks")
        await air.flush(update)
        assert _answers(harness) == 1
        assert air.body(slot) is None
    assert harness.emulator.toasts(6003)[-1] == "Thanks"


async def test_work_started_in_the_background_answers_by_request_once_the_response_left(
    harness: Harness,
):
    """A task created while handling inherits the slot; once the response is built the slot
    is closed, so its answer must not wait for a response that already left."""
    update = await _press(harness, 6004)
    started = asyncio.Event()
    go_on = asyncio.Event()
    kept: list[bool] = []

    async def later() -> None:
        started.set()
        await go_on.wait()
        kept.append(air.defer(update.callback_query.id, "Done"))

    with air.answering(update) as slot:
        task = asyncio.create_task(later())
        await started.wait()
        assert air.body(slot) is None
    go_on.set()
    await task
    assert kept == [False]
