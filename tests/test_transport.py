"""The aiohttp Bot API transport (bot/transport.py) against local HTTP servers on 127.0.0.1.

The Bot API itself (every method, uploads, downloads, Telegram's errors) is exercised through
this transport by tests/sandbox/test_sandbox_bot_api.py; here: what is the transport's own
business. Timeouts are made to fire with a server that never answers and timeouts of a few
milliseconds: nothing waits on a clock, and nothing asserts on time.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.app import build_application
from bot.floodguard import may_have_arrived, never_sent
from bot.lean_updates import LeanUpdates
from bot.sandbox.emulator import Emulator
from bot.sandbox.server import EmulatorServer
from bot.transport import AiohttpRequest, build_request
from tests.conftest import make_settings

OK = json.dumps({"ok": True, "result": True}).encode()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """A one-route-for-everything HTTP server on 127.0.0.1; yields its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def transport(**kwargs: object) -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(**kwargs)  # type: ignore[arg-type]
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


def free_port() -> int:
    """A port nothing listens on (taken and released at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_real_bot_talks_to_the_emulator_through_it():
    """Tried: the whole PTB Bot over the transport: getMe, a message, the bot's own updates."""
    emulator = Emulator()
    emulator.add_user(5, "Ann")
    async with EmulatorServer(emulator) as server:
        bot = Bot(
            emulator.token,
            base_url=f"{server.url}/bot",
            base_file_url=f"{server.url}/file/bot",
            request=AiohttpRequest(),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
        )
        async with bot:
            assert (await bot.get_me()).id == emulator.bot_id
            sent = await bot.send_message(5, "Сәлем, <b>Ann</b>", parse_mode="HTML")
            assert sent.text == "Сәлем, Ann"
            assert emulator.last_bot_message(5).source == "Сәлем, <b>Ann</b>"


async def test_parameters_are_sent_as_one_json_object_of_json_values():
    """Tried: a text in Kazakh and a chat id, then a keyboard, without files: a JSON object
    whose values are the strings a form would carry (objects JSON-serialized), not escaped;
    the User-Agent."""
    seen: list[tuple[str, str, dict[str, str]]] = []

    async def record(request: web.Request) -> web.Response:
        raw = await request.read()
        assert "Сәлем".encode() in raw or b"reply_markup" in raw  # UTF-8, not \\u escapes
        seen.append((request.content_type, request.headers["User-Agent"], json.loads(raw)))
        return web.Response(body=OK)

    plain = RequestData(
        [RequestParameter.from_input("chat_id", 5), RequestParameter.from_input("text", "Сәлем")]
    )
    markup = RequestParameter.from_input("reply_markup", {"inline_keyboard": []})
    async with serving(record) as url, transport() as request:
        assert await request.do_request(f"{url}/botT/sendMessage", "POST", plain) == (200, OK)
        assert await request.do_request(
            f"{url}/botT/sendMessage", "POST", RequestData([markup])
        ) == (200, OK)
    assert seen[0] == (
        "application/json",
        AiohttpRequest.USER_AGENT,
        {"chat_id": "5", "text": "Сәлем"},
    )
    assert seen[1][2] == {"reply_markup": '{"inline_keyboard": []}'}


async def test_uploads_are_multipart_with_the_files(tmp_path: Path):
    from telegram import InputFile

    got: dict[str, str] = {}

    async def record(request: web.Request) -> web.Response:
        assert request.content_type == "multipart/form-data"
        form = await request.post()
        for k, v in form.items():
            got[k] = (
                v if isinstance(v, str) else f"{v.filename}|{v.content_type}|{v.file.read()!r}"
            )
        return web.Response(body=OK)

    data = RequestData(
        [
            RequestParameter.from_input("chat_id", 5),
            RequestParameter.from_input("document", InputFile(b"a,b\n1,2\n", filename="t.csv")),
        ]
    )
    async with serving(record) as url, transport() as request:
        assert (await request.do_request(f"{url}/botT/sendDocument", "POST", data))[0] == 200
    assert got["chat_id"] == "5"
    assert got["document"] == "t.csv|text/csv|b'a,b\\n1,2\\n'"


async def test_connections_are_kept_alive_and_reused():
    """Tried: 20 calls one after the other open one connection, not 20."""
    peers: set[object] = set()

    async def record(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername"))  # type: ignore[union-attr]
        return web.Response(body=OK)

    async with serving(record) as url, transport() as request:
        for _ in range(20):
            await request.do_request(f"{url}/botT/getMe", "POST", RequestData())
    assert len(peers) == 1


async def test_a_server_that_does_not_answer_in_time_is_timed_out():
    """Tried: the answer never comes; TimedOut, as PTB's own transport raises, from aiohttp's."""
    never = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response(body=OK)

    async with serving(hang) as url, transport(read_timeout=0.01) as request:
        with pytest.raises(TimedOut) as error:
            await request.do_request(f"{url}/botT/getMe", "POST", RequestData())
        assert isinstance(error.value.__cause__, asyncio.TimeoutError | aiohttp.ClientError)
        # The request had left: the flood guard and the gateway must not send it again.
        assert not never_sent(error.value)
        # The default read timeout yields to the one PTB passes for a call.
        with pytest.raises(TimedOut):
            async with transport() as patient:
                await patient.do_request(
                    f"{url}/botT/getMe", "POST", RequestData(), read_timeout=0.01
                )


async def test_a_full_pool_is_a_pool_timeout():
    """Tried: one connection, held by a call that hangs; the next waits out its pool timeout."""
    never = asyncio.Event()
    arrived = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        arrived.set()
        await never.wait()
        return web.Response(body=OK)

    async with serving(hang) as url, transport(connection_pool_size=1) as request:
        first = asyncio.create_task(
            request.do_request(f"{url}/botT/getUpdates", "POST", RequestData(), read_timeout=None)
        )
        await arrived.wait()
        with pytest.raises(TimedOut, match="Pool timeout") as error:
            await request.do_request(
                f"{url}/botT/getMe", "POST", RequestData(), pool_timeout=0.01, connect_timeout=0
            )
        assert never_sent(error.value)  # it never left: safe to try again
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first


async def test_nothing_listening_is_a_network_error():
    """Tried: a refused connection is NetworkError (not TimedOut), chained to aiohttp's."""
    async with transport() as request:
        with pytest.raises(NetworkError) as error:
            await request.do_request(
                f"http://127.0.0.1:{free_port()}/botT/getMe", "POST", RequestData()
            )
    assert not isinstance(error.value, TimedOut)
    assert error.value.message.startswith("aiohttp.ClientConnectorError")
    assert isinstance(error.value.__cause__, aiohttp.ClientConnectorError)
    assert not may_have_arrived(error.value)  # never connected: safe to try again


async def test_a_connection_dropped_mid_request_may_have_arrived():
    """Tried: the server takes the request and closes without answering (as the emulator's
    network fault does): NetworkError, and the request may have reached Telegram."""

    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.abort()
        raise web.HTTPInternalServerError()

    async with serving(drop) as url, transport() as request:
        with pytest.raises(NetworkError) as error:
            await request.do_request(f"{url}/botT/sendMessage", "POST", RequestData())
    assert not isinstance(error.value, TimedOut)
    assert may_have_arrived(error.value)


async def test_the_proxy_of_the_environment_and_the_one_given_are_used(monkeypatch):
    """Tried: a host that does not resolve, reached only through a local proxy: from
    HTTP_PROXY, then given as `proxy=` (which wins over the environment)."""
    asked: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        asked.append(str(request.url))
        return web.Response(body=OK)

    async with serving(proxy) as url:
        monkeypatch.setenv("HTTP_PROXY", url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with transport() as request:
            status, _ = await request.do_request(
                "http://api.telegram.invalid/botT/getMe", "POST", RequestData()
            )
        assert status == 200
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
        async with transport(proxy=url) as request:
            status, _ = await request.do_request(
                "http://api.telegram.invalid/botT/getChat", "POST", RequestData()
            )
        assert status == 200
    assert asked == [
        "http://api.telegram.invalid/botT/getMe",
        "http://api.telegram.invalid/botT/getChat",
    ]


async def test_no_proxy_hosts_are_called_directly(monkeypatch):
    """Tried: HTTP_PROXY points nowhere, NO_PROXY names the server's host: the call goes
    straight to it."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=OK)

    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with serving(answer) as url, transport() as request:
        assert await request.do_request(f"{url}/botT/getMe", "POST", RequestData()) == (200, OK)


async def test_it_must_be_initialized_and_shuts_down_once():
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/botT/getMe", "POST")
    await request.initialize()
    await request.initialize()  # a second initialize keeps the session
    await request.shutdown()
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/botT/getMe", "POST")
    with pytest.raises(ValueError):
        AiohttpRequest(connection_pool_size=0)


def test_the_setting_picks_the_transport_of_both_requests(tmp_path: Path):
    """Tried: the default (aiohttp) and BOT_API_TRANSPORT=httpx, for calls and for getUpdates."""
    settings = make_settings(tmp_path / "t.db", bot_token="123456:ABCDEFGHIJ")
    assert settings.bot_api_transport == "aiohttp"
    app = build_application(settings)
    assert isinstance(app.bot.request, AiohttpRequest)
    polling = app.bot._request[0]  # getUpdates', its answers leaned (bot.lean_updates)
    assert isinstance(polling, LeanUpdates) and isinstance(polling.inner, AiohttpRequest)
    assert polling.inner.pool_size == 1 and app.bot.request.pool_size >= 256
    httpx = build_application(
        make_settings(tmp_path / "t.db", bot_token="123456:ABCDEFGHIJ", bot_api_transport="httpx")
    )
    assert isinstance(httpx.bot.request, HTTPXRequest)
    assert isinstance(httpx.bot._request[0], LeanUpdates)
    assert isinstance(httpx.bot._request[0].inner, HTTPXRequest)
    assert isinstance(build_request("httpx", connection_pool_size=4), HTTPXRequest)
