"""The emulator's webhook delivery (bot.sandbox.webhook), against small aiohttp receivers.

Tried: updates POSTed in turn to two targets with the secret of setWebhook; a chat's updates in
order; a target answering 500 or gone retried on the next; duplicates on purpose reaching both
targets; a receiver with another secret refusing, and that showing in getWebhookInfo and the
stats; a Bot API call in a webhook answer carried out; the control routes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox.emulator import Emulator
from bot.sandbox.server import EmulatorServer
from bot.sandbox.webhook import SECRET_HEADER

SECRET = "the-secret_123"


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records what it gets and answers `status`."""

    def __init__(self, secret: str = SECRET, status: int = 200, answer: Any = None) -> None:
        self.secret = secret
        self.status = status
        self.answer = answer
        self.got: list[dict[str, Any]] = []
        self.changed = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return web.Response(status=401)
        if given != self.secret:
            return web.Response(status=403)
        self.got.append(await request.json())
        self.changed.set()
        if self.answer is not None:
            return web.json_response(self.answer, status=self.status)
        return web.Response(status=self.status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Any]]:
    made: list[Receiver] = []

    async def make(**kwargs: Any) -> Receiver:
        receiver = Receiver(**kwargs)
        await receiver.start()
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        await receiver.stop()


async def _until(check: Callable[[], bool], *events: asyncio.Event, timeout: float = 10) -> None:
    """Wait (on the receivers' signals, with a deadline) until `check()` holds."""
    async with asyncio.timeout(timeout):
        while not check():
            waits = [asyncio.ensure_future(e.wait()) for e in events]
            _done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            for event in events:
                event.clear()


def _set_webhook(emulator: Emulator, secret: str = SECRET) -> None:
    assert emulator._set_webhook(
        {"url": "https://bot.example.org/hook", "secret_token": secret}, {}
    )


def _ids(receiver: Receiver) -> list[int]:
    return [update["update_id"] for update in receiver.got]


async def test_updates_go_to_the_targets_in_turn_with_the_secret(receivers):
    """Six people write once each: three updates reach each target, in turn."""
    emulator = Emulator()
    first, second = await receivers(), await receivers()
    async with EmulatorServer(emulator, webhook_targets=(first.url, second.url)) as server:
        for n in range(6):
            emulator.add_user(100 + n, "P")
        updates = [emulator.post_message(100 + n, "hi") for n in range(6)]
        assert server.webhook.stats.posts == 0  # nothing until the bot set its webhook
        _set_webhook(emulator)
        await _until(lambda: len(first.got) + len(second.got) == 6, first.changed, second.changed)
        assert len(first.got) == 3 and len(second.got) == 3
        assert sorted(_ids(first) + _ids(second)) == sorted(u["update_id"] for u in updates)
        await server.webhook.wait_idle()
        assert server.webhook.stats.delivered == 6
        # Telegram's getUpdates is closed while a webhook is set.
        status, _body = await emulator.call(emulator.token, "getUpdates", {}, {})
        assert status == 409


async def test_a_failing_target_is_retried_on_the_next_and_a_chat_keeps_its_order(receivers):
    """One target answers 500, another is gone: every update still arrives, once, in order."""
    emulator = Emulator()
    good, failing = await receivers(), await receivers(status=500)
    gone = await receivers()
    await gone.stop()
    async with EmulatorServer(
        emulator, webhook_targets=(failing.url, gone.url, good.url)
    ) as server:
        emulator.add_user(200, "P")
        _set_webhook(emulator)
        sent = [emulator.post_message(200, str(n))["update_id"] for n in range(5)]
        await server.webhook.wait_idle(200)
        assert _ids(good) == sent
        stats = server.webhook.stats
        assert stats.delivered == 5 and stats.retries >= 5
        assert stats.failures["500"] >= 1 and stats.failures["connection"] >= 1
        info = (await emulator.call(emulator.token, "getWebhookInfo", {}, {}))[1]["result"]
        assert info["last_error_message"].startswith(("Wrong response", "Connection failed"))


async def test_duplicates_on_purpose_reach_both_targets(receivers):
    """With duplicate_rate 1 every update reaches both targets at once; the rate is seeded."""
    emulator = Emulator()
    first, second = await receivers(), await receivers()
    async with EmulatorServer(
        emulator, webhook_targets=(first.url, second.url), duplicate_rate=1.0, seed=7
    ) as server:
        emulator.add_user(300, "P")
        _set_webhook(emulator)
        sent = [emulator.post_message(300, str(n))["update_id"] for n in range(3)]
        await server.webhook.wait_idle()
        assert _ids(first) == _ids(second) == sent
        assert server.webhook.stats.duplicates == 3 and server.webhook.stats.delivered == 3


async def test_a_replica_with_another_secret_is_refused_and_it_shows(receivers):
    """setWebhook's secret differs from the one a receiver checks: 403 each time, counted and
    reported by getWebhookInfo; once a correctly configured target is added, it arrives."""
    emulator = Emulator()
    misconfigured = await receivers(secret="another-secret")
    async with EmulatorServer(emulator, webhook_targets=(misconfigured.url,)) as server:
        assert server.url is not None
        emulator.add_user(400, "P")
        _set_webhook(emulator)
        update = emulator.post_message(400, "hi")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while server.webhook.stats.refused_secret < 2:
            assert loop.time() < deadline, server.webhook.stats
            await emulator.wait_updates(deadline - loop.time())
        info = (await emulator.call(emulator.token, "getWebhookInfo", {}, {}))[1]["result"]
        assert info["last_error_message"] == "Wrong response from the webhook: 403 Forbidden"
        assert not misconfigured.got and server.webhook.stats.delivered == 0
        good = await receivers()
        async with aiohttp.ClientSession() as http:
            async with http.delete(
                f"{server.url}/sandbox/webhook/targets", json={"url": misconfigured.url}
            ) as response:
                assert response.status == 200
            async with http.post(
                f"{server.url}/sandbox/webhook/targets", json={"url": good.url}
            ) as response:
                assert response.status == 201
            await server.webhook.wait_idle()
            assert _ids(good) == [update["update_id"]]
            async with http.get(f"{server.url}/sandbox/webhook") as response:
                state = await response.json()
            assert state["refused_secret"] >= 2 and state["delivered"] == 1
            assert state["targets"] == [good.url]
            async with http.put(
                f"{server.url}/sandbox/webhook", json={"duplicate_rate": 2}
            ) as response:
                assert response.status == 400


async def test_a_call_in_the_webhook_answer_is_carried_out(receivers):
    """The bot answers the update with sendMessage in the response body: the person sees it."""
    emulator = Emulator()
    answer = {"method": "sendMessage", "chat_id": 500, "text": "answered in the response"}
    receiver = await receivers(answer=answer)
    async with EmulatorServer(emulator, webhook_targets=(receiver.url,)) as server:
        emulator.add_user(500, "P")
        seen = emulator.activity(500)
        _set_webhook(emulator)
        emulator.post_message(500, "hi")
        await server.webhook.wait_idle()
        assert emulator.activity(500) > seen
        assert emulator.last_bot_message(500).text == "answered in the response"
        assert server.webhook.stats.delivered == 1
