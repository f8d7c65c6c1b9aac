"""The webhook, /healthz and /metrics over real HTTP on 127.0.0.1 (bot.webserver, bot.metrics).

The application is the harness's (the real bot against the in-process emulator); the web
server is the one `BOT_MODE=webhook` runs, on a free port. Updates are made by the emulator's
simulated users and posted to the webhook as Telegram would post them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from bot.config import ConfigError, Settings
from bot.metrics import Metrics, update_kind
from bot.sandbox.harness import Harness
from bot.sandbox.users import SimulatedUser
from bot.sandbox.webhook import carry_out
from bot.services.due import DUE_OBSERVER, DueRows, run_due
from bot.webserver import SECRET_HEADER, WebServer, serve
from models.broadcast import Broadcast
from tests.conftest import make_settings

SECRET = "s3cret-Token_for-tests"
PATH = "/tg/hook"


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[Harness]:
    async with Harness(settings) as h:
        yield h
        assert not h.errors, f"handlers raised: {h.errors!r}"


@pytest.fixture
async def server(harness: Harness) -> AsyncIterator[WebServer]:
    assert harness.app is not None
    web = WebServer(harness.app, webhook_path=PATH, secret=SECRET)
    await web.start("127.0.0.1", 0)
    yield web
    await web.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def webhook_user(
    harness: Harness, server: WebServer, http: aiohttp.ClientSession, user_id: int
) -> SimulatedUser:
    """A user whose every action is posted to the webhook with the right secret."""

    async def post(update: dict[str, Any]) -> None:
        async with http.post(
            f"{server.url}{PATH}", json=update, headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 200, await response.text()
            await carry_out(harness.emulator, await response.read())  # as Telegram does

    return SimulatedUser(harness.emulator, user_id, "Alice", "en", deliver=post)


def sample(text_: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    head = f"{name}{{{wanted}}}" if labels else name
    for line in text_.splitlines():
        if line.startswith(head + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_an_update_posted_with_the_secret_is_handled_before_the_answer(
    harness: Harness, server: WebServer, http: aiohttp.ClientSession
):
    alice = webhook_user(harness, server, http, 5001)
    await alice.send("/start")
    # Answered 200 only once handled: the bot's reply is already in the chat.
    assert alice.last_text, "the bot had not answered /start when the webhook returned"


async def test_a_button_press_is_answered_in_the_webhook_response(
    harness: Harness, server: WebServer, http: aiohttp.ClientSession
):
    """Tried: the language buttons of /start pressed over the webhook, a message, and a press
    answered with a notice (a forged button). Each press is answered in the response (one
    request fewer: the bot made no answerCallbackQuery request), the notice reaches the
    person, and a message's response has no body."""
    alice = webhook_user(harness, server, http, 5006)
    update = harness.emulator.post_message(5006, "/start", enqueue=False)
    async with http.post(
        f"{server.url}{PATH}", json=update, headers={SECRET_HEADER: SECRET}
    ) as response:
        assert response.status == 200 and await response.read() == b""
    language = next(b for b in alice.last_buttons if "English" in b)
    pressed = harness.emulator.find_button(5006, language)
    update = harness.emulator.post_callback(5006, pressed.message_id, pressed.data, enqueue=False)
    async with http.post(
        f"{server.url}{PATH}", json=update, headers={SECRET_HEADER: SECRET}
    ) as response:
        assert response.status == 200
        call = await response.json()
    assert call["method"] == "answerCallbackQuery"
    assert call["callback_query_id"] == update["callback_query"]["id"]
    await carry_out(harness.emulator, json.dumps(call).encode())
    await alice.tap_data("forged:data", pressed.message_id)
    t = harness.app.bot_data.i18n.translator("en")
    assert alice.last_toast == t.plain("errors.stale_button")
    metrics = await (await http.get(f"{server.url}/metrics")).text()
    assert sample(metrics, "ortaq_bot_api_calls_total", method="answerCallbackQuery") == 0
    assert sample(metrics, "ortaq_bot_api_answers_in_response_total") == 2
    assert harness.emulator.stats.calls["answerCallbackQuery"] == 2


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({SECRET_HEADER: "wrong"}, 403), ({SECRET_HEADER: SECRET + "x"}, 403)],
    ids=["no secret", "wrong secret", "longer secret"],
)
async def test_a_post_without_the_right_secret_is_refused_and_not_handled(
    harness: Harness,
    server: WebServer,
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    status: int,
):
    user = harness.emulator.add_user(5002, "Mallory", language_code="en")
    update = harness.emulator.post_message(5002, "/start", enqueue=False)
    async with http.post(f"{server.url}{PATH}", json=update, headers=headers) as response:
        assert response.status == status
    assert user is not None
    answers = [m for m in harness.emulator.chat(5002) if m.from_bot]
    assert not answers, "a refused update reached the bot"
    metrics = await (await http.get(f"{server.url}/metrics")).text()
    assert sample(metrics, "ortaq_updates_handled_total", kind="message") == 0


async def test_a_body_that_is_no_update_is_refused(server: WebServer, http: aiohttp.ClientSession):
    for body in (b"not json", b"[1, 2]", b'{"no": "update_id"}'):
        async with http.post(
            f"{server.url}{PATH}", data=body, headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 400, body


async def test_metrics_count_the_update_its_latency_and_the_api_calls(
    harness: Harness, server: WebServer, http: aiohttp.ClientSession
):
    before = await (await http.get(f"{server.url}/metrics")).text()
    assert sample(before, "ortaq_updates_handled_total", kind="message") == 0
    alice = webhook_user(harness, server, http, 5003)
    await alice.send("/start")
    await alice.send("/help")
    async with http.get(f"{server.url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        after = await response.text()
    assert sample(after, "ortaq_updates_handled_total", kind="message") == 2
    assert sample(after, "ortaq_update_handling_seconds_count", kind="message") == 2
    assert sample(after, "ortaq_bot_api_calls_total", method="sendMessage") >= 2
    assert sample(after, "ortaq_last_update_handled_timestamp_seconds") > 0
    assert "ortaq_outbox_pending 0.0" in after


async def test_api_errors_and_429s_are_counted_by_method(harness: Harness):
    from telegram.error import RetryAfter

    metrics = Metrics()
    metrics.api_error("sendMessage", RetryAfter(3))
    metrics.api_error("sendMessage", ValueError("x"))
    rendered = metrics.render().decode()
    assert sample(rendered, "ortaq_bot_api_flood_waits_total", method="sendMessage") == 1
    assert (
        sample(rendered, "ortaq_bot_api_errors_total", method="sendMessage", error="RetryAfter")
        == 1
    )
    # Each application has its own registry: another one starts from zero.
    assert 'error="RetryAfter"' not in Metrics().render().decode()


async def test_duties_count_passes_and_rows(harness: Harness, http: aiohttp.ClientSession):
    assert harness.app is not None
    metrics = harness.app.bot_data.metrics
    assert metrics is not None
    await harness.run_jobs()
    rendered = metrics.render().decode()
    assert sample(rendered, "ortaq_duty_passes_total", duty="course-lessons", outcome="ok") == 1
    # run_due tells the observer a pass sets what it found due and what it settled.
    db = harness.app.bot_data.db
    assert db is not None
    async with db.begin() as session:
        session.add_all([Broadcast(state="test-due"), Broadcast(state="test-due")])

    async def settle(session: Any, row: Broadcast, now: Any) -> int:
        row.state = "done"
        return row.id

    rows = DueRows(Broadcast, lambda now: Broadcast.state == "test-due", settle)
    seen: list[tuple[str, int, int]] = []
    token = DUE_OBSERVER.set(lambda *args: seen.append(args))
    try:
        assert len(await run_due(db, rows)) == 2
        assert await run_due(db, rows) == []
    finally:
        DUE_OBSERVER.reset(token)
    assert seen == [("broadcast", 2, 2), ("broadcast", 0, 0)]
    metrics.due_rows(*seen[0])
    rendered = metrics.render().decode()
    assert sample(rendered, "ortaq_duty_rows_due_total", table="broadcast") == 2
    assert sample(rendered, "ortaq_duty_rows_done_total", table="broadcast") == 2
    # A tick while a pass runs is late.
    jobs = harness.app.bot_data.jobs
    lock = jobs._locks["course-lessons"]
    async with lock:
        assert jobs.tick("course-lessons") is None
    assert sample(metrics.render().decode(), "ortaq_duty_late_ticks_total", duty="course-lessons")


async def test_healthz_is_200_at_head_or_ahead_and_503_when_a_migration_is_missing(
    harness: Harness, server: WebServer, http: aiohttp.ClientSession
):
    async with http.get(f"{server.url}/healthz") as response:
        report = await response.json()
        assert response.status == 200, report
    assert report["database"] == "ok"
    assert report["migrations"] == "at head"
    assert report["outbox_pending"] == 0
    assert report["last_update_at"] is None
    alice = webhook_user(harness, server, http, 5004)
    await alice.send("/start")
    report = await (await http.get(f"{server.url}/healthz")).json()
    assert report["last_update_at"] is not None
    # The database one migration behind the code, as after deploying code before migrating.
    assert harness.app is not None and harness.app.bot_data.engine is not None
    async with harness.app.bot_data.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0013'"))
    async with http.get(f"{server.url}/healthz") as response:
        report = await response.json()
        assert response.status == 503
    assert report["migrations"] == "behind"
    assert report["revision"] == ["0013"]
    assert report["status"] == "unhealthy"
    # A newer release migrated it (a revision this code does not know): by the expand/contract
    # rule the old replicas keep serving during a rolling upgrade.
    async with harness.app.bot_data.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    async with http.get(f"{server.url}/healthz") as response:
        report = await response.json()
        assert response.status == 200, report
    assert report["migrations"] == "ahead"
    # Never migrated: no revision at all.
    async with harness.app.bot_data.engine.begin() as conn:
        await conn.execute(text("DELETE FROM alembic_version"))
    async with http.get(f"{server.url}/healthz") as response:
        assert response.status == 503
        assert (await response.json())["migrations"] == "behind"


async def test_healthz_is_503_when_the_database_is_unreachable(
    harness: Harness, server: WebServer, http: aiohttp.ClientSession, tmp_path: Path
):
    assert harness.app is not None and harness.app.bot_data.engine is not None
    # An engine whose "file" is a folder: every connection fails.
    from bot.db import create_engine

    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path}")
    real = harness.app.bot_data.engine
    harness.app.bot_data.engine = broken
    try:
        async with http.get(f"{server.url}/healthz") as response:
            report = await response.json()
            assert response.status == 503
        assert report["database"] == "unreachable"
        assert report["error"]
    finally:
        harness.app.bot_data.engine = real
        await broken.dispose()


def test_the_update_kind_is_telegrams_field_name(harness: Harness):
    from telegram import Update

    assert harness.app is not None
    message = harness.emulator.post_message(
        harness.emulator.add_user(5005, "Bo")["id"], "hi", enqueue=False
    )
    assert update_kind(Update.de_json(message, harness.app.bot)) == "message"
    assert update_kind(object()) == "object"


async def test_webhook_mode_sets_the_webhook_with_the_secret_and_allowed_updates(
    db_path: Path, harness: Harness
):
    """`serve` in webhook mode: setWebhook as configured, and stop leaves the webhook set."""
    from bot.app import build_application
    from bot.sandbox.request import EmulatorRequest

    emulator = harness.emulator
    settings = make_settings(
        db_path,
        bot_mode="webhook",
        webhook_url="https://bot.example.org/tg/hook",
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1:0",
    )
    app = build_application(
        settings,
        token=emulator.token,
        request=EmulatorRequest(emulator),
        base_url=EmulatorRequest.BASE_URL,
        base_file_url=EmulatorRequest.BASE_FILE_URL,
        autorun_jobs=False,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, app, stop))
    for _ in range(1000):
        if emulator.webhook["url"] or task.done():
            break
        await asyncio.sleep(0)  # yield to the serving task, no wall-clock wait
    if not emulator.webhook["url"]:
        await asyncio.wait_for(_until(lambda: bool(emulator.webhook["url"])), 30)
    assert emulator.webhook["url"] == "https://bot.example.org/tg/hook"
    assert emulator.webhook["secret_token"] == SECRET
    assert "message" in emulator.webhook["allowed_updates"]
    assert "callback_query" in emulator.webhook["allowed_updates"]
    stop.set()
    await asyncio.wait_for(task, 60)
    assert emulator.webhook["url"], "deleteWebhook was called on stop"


async def _until(check: Any) -> None:
    while not check():
        await asyncio.sleep(0)


def test_webhook_mode_refuses_to_start_without_url_or_secret(db_path: Path):
    with pytest.raises(ConfigError, match="WEBHOOK_URL: required when BOT_MODE=webhook"):
        make_settings(db_path, bot_mode="webhook", webhook_secret=SECRET)
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET: required when BOT_MODE=webhook"):
        make_settings(db_path, bot_mode="webhook", webhook_url="https://bot.example.org/tg")
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET: expected 1-256"):
        make_settings(
            db_path, bot_mode="webhook", webhook_url="https://b.example.org/", webhook_secret="a b"
        )
    with pytest.raises(ConfigError, match="WEBHOOK_URL: expected a public https://"):
        make_settings(
            db_path, bot_mode="webhook", webhook_url="http://b.example.org/", webhook_secret="ab"
        )
    with pytest.raises(ConfigError, match="WEBHOOK_URL: /healthz and /metrics"):
        make_settings(
            db_path,
            bot_mode="webhook",
            webhook_url="https://b.example.org/metrics",
            webhook_secret="ab",
        )
    with pytest.raises(ConfigError, match="WEBHOOK_LISTEN: expected host:port"):
        make_settings(db_path, webhook_listen="8080")
    with pytest.raises(ConfigError, match="HEALTH_LISTEN: expected host:port"):
        make_settings(db_path, health_listen="localhost")
    polling = make_settings(db_path)
    assert polling.bot_mode == "polling" and polling.webhook_url is None
    hook = make_settings(
        db_path, bot_mode="Webhook", webhook_url="https://b.example.org", webhook_secret="ab"
    )
    assert hook.webhook_path == "/"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_polling_mode_serves_health_on_health_listen(
    db_path: Path, harness: Harness, http: aiohttp.ClientSession
):
    """`serve` in polling mode: the updater polls, /healthz and /metrics on HEALTH_LISTEN."""
    from bot.app import build_application
    from bot.sandbox.request import EmulatorRequest

    emulator = harness.emulator
    port = _free_port()
    settings = make_settings(db_path, health_listen=f"127.0.0.1:{port}")
    app = build_application(
        settings,
        token=emulator.token,
        request=EmulatorRequest(emulator),
        get_updates_request=EmulatorRequest(emulator),
        base_url=EmulatorRequest.BASE_URL,
        base_file_url=EmulatorRequest.BASE_FILE_URL,
        autorun_jobs=False,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, app, stop))
    try:
        await emulator.wait_polling(timeout=60)
        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200, await response.text()
        async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert "ortaq_outbox_pending" in await response.text()
        # No webhook route in polling mode.
        async with http.post(f"http://127.0.0.1:{port}/", json={}) as response:
            assert response.status in (404, 405)
        assert not emulator.webhook["url"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_a_taken_address_stops_the_start_and_closes_the_app(db_path: Path, harness: Harness):
    import socket

    from bot.app import build_application
    from bot.sandbox.request import EmulatorRequest

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(
            db_path,
            bot_mode="webhook",
            webhook_url="https://bot.example.org/tg",
            webhook_secret=SECRET,
            webhook_listen=f"127.0.0.1:{port}",
        )
        app = build_application(
            settings,
            token=harness.emulator.token,
            request=EmulatorRequest(harness.emulator),
            base_url=EmulatorRequest.BASE_URL,
            base_file_url=EmulatorRequest.BASE_FILE_URL,
            autorun_jobs=False,
        )
        with pytest.raises(OSError):
            await serve(settings, app, asyncio.Event())
    assert not app.running
    assert not harness.emulator.webhook["url"], "setWebhook before anyone listened"


async def test_outbound_messages_are_counted_by_outcome(harness: Harness):
    from bot.gateway import Outgoing

    assert harness.app is not None
    data = harness.app.bot_data
    assert data.gateway is not None and data.metrics is not None
    harness.user(5010)
    assert (await data.gateway.send(Outgoing(chat_id=5010, text="hi"))).outcome == "sent"
    assert (await data.gateway.send(Outgoing(chat_id=5999, text="hi"))).outcome == (
        "chat_not_found"
    )
    rendered = data.metrics.render().decode()
    assert sample(rendered, "ortaq_outbound_messages_total", outcome="sent") == 1
    assert sample(rendered, "ortaq_outbound_messages_total", outcome="chat_not_found") == 1
    assert sample(rendered, "ortaq_bot_api_calls_total", method="sendMessage") == 2
    assert (
        sample(rendered, "ortaq_bot_api_errors_total", method="sendMessage", error="BadRequest")
        == 1
    )
