"""`python -m bot` in webhook mode: setWebhook at start, updates posted over HTTP, health, stop."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox.emulator import Emulator
from bot.sandbox.server import EmulatorServer
from bot.sandbox.users import SimulatedUser
from tests.e2e.process import BotProcess, bot_env

SECRET = "e2e-webhook-secret_0123456789"
HOOK_URL = "https://bot.example.org/telegram/webhook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_takes_updates_with_the_secret_and_serves_health(tmp_path: Path):
    emulator = Emulator()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with EmulatorServer(emulator) as server, aiohttp.ClientSession() as http:
        assert server.url is not None
        env = bot_env(
            tmp_path / "ortaq.db",
            server.url,
            emulator.token,
            BOT_MODE="webhook",
            WEBHOOK_URL=HOOK_URL,
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        )
        bot = BotProcess(env, tmp_path)
        await bot.start()
        try:
            await emulator.wait_webhook(timeout=60)
        except TimeoutError:
            raise AssertionError(bot.log()) from None
        # setWebhook as configured: the secret, every update type, pending updates kept.
        assert emulator.webhook["url"] == HOOK_URL
        assert emulator.webhook["secret_token"] == SECRET
        assert {"message", "callback_query", "inline_query"} <= set(
            emulator.webhook["allowed_updates"]
        )

        async def post(update: dict[str, Any]) -> None:
            async with http.post(
                f"{base}/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ) as response:
                assert response.status == 200, await response.text()

        alice = SimulatedUser(emulator, 700, "Alice", "en", deliver=post)
        await alice.send("/start")
        # Answered 200 once handled: the language question is already in the chat.
        assert "English" in " ".join(alice.last_buttons), bot.log()
        await alice.tap("English")
        assert alice.last_buttons, bot.log()

        # Someone who does not know the secret is refused and reaches nobody.
        mallory = emulator.add_user(701, "Mallory", language_code="en")
        forged = emulator.post_message(mallory["id"], "/start", enqueue=False)
        async with http.post(f"{base}/telegram/webhook", json=forged) as response:
            assert response.status == 401
        async with http.post(
            f"{base}/telegram/webhook",
            json=forged,
            headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
        ) as response:
            assert response.status == 403
        assert not [m for m in emulator.chat(701) if m.from_bot]

        async with http.get(f"{base}/healthz") as response:
            report = json.loads(await response.text())
            assert response.status == 200, report
        assert report["database"] == "ok" and report["migrations"] == "at head"
        assert report["last_update_at"] is not None
        async with http.get(f"{base}/metrics") as response:
            metrics = await response.text()
        assert 'ortaq_updates_handled_total{kind="message"} 1.0' in metrics
        assert 'ortaq_updates_handled_total{kind="callback_query"} 1.0' in metrics

        assert await bot.stop() == 0, bot.log()
        # Stopping one replica leaves the webhook to the others.
        assert emulator.webhook["url"] == HOOK_URL
        log = bot.log()
        assert emulator.token not in log and SECRET not in log


async def test_webhook_mode_without_a_secret_refuses_to_start(tmp_path: Path):
    env = bot_env(
        tmp_path / "ortaq.db",
        "http://127.0.0.1:9",
        "123456:" + "A" * 35,
        BOT_MODE="webhook",
        WEBHOOK_URL=HOOK_URL,
    )
    bot = BotProcess(env, tmp_path)
    await bot.start()
    assert bot.proc is not None
    assert await bot.proc.wait() == 2
    assert "WEBHOOK_SECRET: required when BOT_MODE=webhook" in bot.log()


async def test_the_emulator_delivers_by_webhook_and_a_secret_mismatch_shows(tmp_path: Path):
    """The emulator's own webhook delivery to the real process: a message queued by a person
    is POSTed with setWebhook's secret and answered. When another replica sets the webhook with
    another secret (two replicas configured apart), this replica refuses the deliveries: 403,
    counted and shown in getWebhookInfo, and the update waits; set right again, it arrives."""
    emulator = Emulator()
    port = free_port()
    target = f"http://127.0.0.1:{port}/telegram/webhook"
    async with EmulatorServer(emulator, webhook_targets=(target,)) as server:
        assert server.url is not None
        env = bot_env(
            tmp_path / "ortaq.db",
            server.url,
            emulator.token,
            BOT_MODE="webhook",
            WEBHOOK_URL=HOOK_URL,
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        )
        bot = BotProcess(env, tmp_path)
        await bot.start()
        try:
            await emulator.wait_webhook(timeout=60)
            alice = SimulatedUser(emulator, 710, "Alice", "en")
            await alice.send("/start")
            await server.webhook.wait_idle(710, timeout=30)
            assert "English" in " ".join(alice.last_buttons), bot.log()

            emulator.webhook["secret_token"] = "set-by-a-replica-configured-apart"
            await alice.tap("English")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while server.webhook.stats.refused_secret < 2:
                assert loop.time() < deadline, server.webhook.stats
                await emulator.wait_updates(deadline - loop.time())
            _status, body = await emulator.call(emulator.token, "getWebhookInfo", {}, {})
            assert body["result"]["last_error_message"] == (
                "Wrong response from the webhook: 403 Forbidden"
            )
            assert emulator.queued_for(710) == 0 and not server.webhook.idle(710)  # retrying

            emulator.webhook["secret_token"] = SECRET
            await server.webhook.wait_idle(710, timeout=30)
            assert alice.last_buttons, bot.log()
        finally:
            assert await bot.stop() == 0, bot.log()
