"""Simulated people against a small real PTB Application: in-process and end to end over HTTP.

The same little bot (a language picker, an echo, a file receiver) is driven three ways:
updates handed straight to ``process_update`` (the flow-test harness mode), updates fetched by
PTB's own long polling in-process, and the full HTTP path with :class:`RemoteUser` talking to
the control API while the application polls the server like Telegram.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox.emulator import Emulator
from bot.sandbox.request import BASE_FILE_URL, BASE_URL, EmulatorRequest
from bot.sandbox.server import EmulatorServer
from bot.sandbox.users import RemoteUser, SimulatedUser

LANGUAGES = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("✓ Қазақша", callback_data="lang:kk"),
            InlineKeyboardButton("Русский", callback_data="lang:ru"),
        ],
        [InlineKeyboardButton("English", callback_data="lang:en")],
        [InlineKeyboardButton("Website", url="https://ortaq.example")],
    ]
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for the interface language."""
    assert update.message is not None
    await update.message.reply_text(
        "<b>Choose a language</b>", parse_mode="HTML", reply_markup=LANGUAGES
    )


async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Confirm the language and drop the keyboard."""
    query = update.callback_query
    assert query is not None and query.data is not None
    code = query.data.split(":")[1]
    if code not in ("kk", "ru", "en"):
        await query.answer("Unknown button", show_alert=True)
        return
    await query.answer("Saved")
    await query.edit_message_text(f"Language: {code}")


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show a reply keyboard."""
    assert update.message is not None
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Profile"), KeyboardButton("Help")]])
    await update.message.reply_text("Menu", reply_markup=keyboard)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Repeat the text."""
    assert update.message is not None
    await update.message.reply_text(f"You said: {update.message.text}")


async def receive_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the file and report its size."""
    assert update.message is not None and update.message.document is not None
    file = await update.message.document.get_file()
    data = await file.download_as_bytearray()
    await update.message.reply_text(f"Got {update.message.document.file_name}: {len(data)} bytes")


def build(builder: ApplicationBuilder) -> Application:
    app = builder.job_queue(None).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(choose_language, pattern="^lang:"))
    app.add_handler(MessageHandler(filters.Document.ALL, receive_file))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


def in_process_builder(emulator: Emulator) -> ApplicationBuilder:
    return (
        ApplicationBuilder()
        .token(emulator.token)
        .base_url(BASE_URL)
        .base_file_url(BASE_FILE_URL)
        .request(EmulatorRequest(emulator))
        .get_updates_request(EmulatorRequest(emulator))
    )


@pytest.fixture
def emulator() -> Emulator:
    return Emulator()


@pytest.fixture
async def app(emulator: Emulator) -> AsyncIterator[Application]:
    application = build(in_process_builder(emulator))
    async with application:
        yield application


def harness_user(
    app: Application, emulator: Emulator, user_id: int, **kwargs: Any
) -> SimulatedUser:
    async def deliver(update: dict[str, Any]) -> None:
        await app.process_update(Update.de_json(update, app.bot))

    return SimulatedUser(emulator, user_id, deliver=deliver, **kwargs)


async def test_simulated_user_in_harness_mode(app: Application, emulator: Emulator):
    alice = harness_user(app, emulator, 1001, first_name="Aru", language_code="kk")
    await alice.send("/start")
    # When send() returns, the bot has answered: no waiting.
    assert alice.last_text == "Choose a language"
    assert alice.last_buttons == ["✓ Қазақша", "Русский", "English", "Website"]
    assert alice.last_message is not None and alice.last_message.parse_mode == "HTML"

    # No exact label: a unique case-insensitive part of one is enough.
    await alice.tap("қазақша")
    assert alice.last_toast == "Saved"
    assert alice.last_text == "Language: kk" and alice.last_buttons == []

    await alice.send("hello")
    assert alice.texts == ["Language: kk", "You said: hello"]
    assert emulator.pending_updates == 0  # harness mode never queues


async def test_tap_explains_what_is_missing(app: Application, emulator: Emulator):
    alice = harness_user(app, emulator, 1001)
    await alice.send("/start")
    with pytest.raises(AssertionError, match=r"no button 'Deutsch'.*'Русский'"):
        await alice.tap("Deutsch")
    with pytest.raises(AssertionError, match="url button"):
        await alice.tap("Website")
    await alice.send("/start")
    # "English" is on both keyboards: the newest message wins.
    newest = alice.last_message
    assert newest is not None
    update = await alice.tap("English")
    assert update["callback_query"]["message"]["message_id"] == newest.message_id


async def test_forged_and_stale_callbacks(app: Application, emulator: Emulator):
    alice = harness_user(app, emulator, 1001)
    await alice.send("/start")
    message = alice.last_message
    assert message is not None
    await alice.tap_data("lang:xx", message.message_id)
    assert emulator.callback_answers(1001)[-1]["show_alert"] is True
    assert alice.last_toast == "Unknown button"
    with pytest.raises(LookupError):
        await alice.tap_data("lang:kk", 999)


async def test_reply_keyboard_buttons_send_their_label(app: Application, emulator: Emulator):
    alice = harness_user(app, emulator, 1001)
    await alice.send("/menu")
    assert alice.last_buttons == ["Profile", "Help"]
    await alice.tap("help")
    assert alice.last_text == "You said: Help"


async def test_upload_in_harness_mode(app: Application, emulator: Emulator):
    alice = harness_user(app, emulator, 1001)
    await alice.upload("essay.txt", b"x" * 1234, "text/plain", caption="entry")
    assert alice.last_text == "Got essay.txt: 1234 bytes"
    assert emulator.chat(1001)[0].caption == "entry"


async def test_queue_mode_with_ptb_polling(emulator: Emulator):
    application = build(in_process_builder(emulator))
    alice = SimulatedUser(emulator, 1001, "Alice")
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=10)
        try:
            await alice.send("/start")
            reply = await alice.wait_reply(timeout=10)
            assert reply is not None and reply.content == "Choose a language"
            await alice.tap("English")
            # The tap is answered twice: a toast, then the edit.
            await alice.wait_reply(timeout=10, actions=2)
            assert alice.last_toast == "Saved" and alice.last_text == "Language: en"
        finally:
            await application.updater.stop()
            await application.stop()


async def test_wait_reply_times_out_with_a_diagnosis(emulator: Emulator):
    alice = SimulatedUser(emulator, 1001, "Alice")
    await alice.send("/start")  # queued, and nobody polls
    with pytest.raises(TimeoutError, match="still queued — is the bot polling"):
        await alice.wait_reply(timeout=0)


@pytest.fixture
async def served(emulator: Emulator) -> AsyncIterator[tuple[str, Application]]:
    """The emulator over HTTP and the little bot long-polling it through HTTPXRequest."""
    async with EmulatorServer(emulator) as server:
        assert server.url is not None
        builder = (
            ApplicationBuilder()
            .token(emulator.token)
            .base_url(f"{server.url}/bot")
            .base_file_url(f"{server.url}/file/bot")
        )
        application = build(builder)
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=10)
            try:
                yield server.url, application
            finally:
                await application.updater.stop()
                await application.stop()


async def test_remote_user_end_to_end(served: tuple[str, Application], emulator: Emulator):
    url, _ = served
    async with httpx.AsyncClient(trust_env=False) as client:
        ready = await client.get(f"{url}/sandbox/polling", params={"timeout": 10})
        assert ready.status_code == 200 and ready.json()["pollers"] >= 1
        async with RemoteUser(url, 2001, "Bek", "ru", client=client) as bek:
            await bek.send("/start")
            await bek.wait_reply()
            assert bek.last_text == "Choose a language"
            assert bek.last_buttons == ["✓ Қазақша", "Русский", "English", "Website"]
            await bek.tap("Русский")
            await bek.wait_reply(actions=2)
            assert bek.last_text == "Language: ru" and bek.last_toast == "Saved"
            with pytest.raises(AssertionError, match="no button 'Deutsch'"):
                await bek.tap("Deutsch")

            await bek.upload("scores.csv", b"a,b\n1,2\n", "text/csv")
            await bek.wait_reply()
            assert bek.last_text == "Got scores.csv: 8 bytes"
            await bek.send("hi")
            await bek.wait_reply()
            assert bek.texts[-1] == "You said: hi"
    assert emulator.stats.calls["getUpdates"] >= 1


async def test_control_api(served: tuple[str, Application], emulator: Emulator):
    url, _ = served
    async with httpx.AsyncClient(base_url=url, trust_env=False) as client:
        user = await client.post("/sandbox/users", json={"id": 3001, "first_name": "Cem"})
        assert user.json() == {
            "id": 3001,
            "is_bot": False,
            "first_name": "Cem",
            "language_code": "en",
        }

        sent = await client.post("/sandbox/users/3001/messages", json={"text": "/start"})
        assert sent.status_code == 200 and sent.json()["activity"] == 0
        waited = await client.get("/sandbox/users/3001/wait", params={"since": 0, "timeout": 10})
        assert waited.json() == {"activity": 1}
        assert (await client.get("/sandbox/users/3001/activity")).json() == {"activity": 1}

        missing = await client.post("/sandbox/users/3001/tap", json={"label": "Deutsch"})
        assert missing.status_code == 404
        assert missing.json()["labels"] == ["✓ Қазақша", "Русский", "English", "Website"]

        chat = (await client.get("/sandbox/users/3001/chat")).json()
        assert [m["from_bot"] for m in chat] == [False, True]
        message_id = chat[1]["message_id"]
        tapped = await client.post(
            "/sandbox/users/3001/callbacks", json={"message_id": message_id, "data": "lang:en"}
        )
        assert tapped.json()["update"]["callback_query"]["data"] == "lang:en"
        await client.get("/sandbox/users/3001/wait", params={"since": 1, "timeout": 10})

        nobody = await client.get("/sandbox/users/3001/wait", params={"since": 99, "timeout": 0})
        assert nobody.status_code == 408 and "did nothing" in nobody.json()["error"]
        unknown = await client.post("/sandbox/users/9/messages", json={"text": "hi"})
        assert unknown.status_code == 404 and "add_user" in unknown.json()["error"]

        fault = await client.post(
            "/sandbox/faults", json={"method": "sendMessage", "kind": "blocked", "times": 1}
        )
        assert fault.status_code == 201
        assert len(emulator.faults) == 1
        bad = await client.post("/sandbox/faults", json={"kind": "meteor"})
        assert bad.status_code == 400
        assert (await client.delete("/sandbox/faults")).status_code == 200
        assert len(emulator.faults) == 0

        limits = await client.put("/sandbox/limits", json={"per_chat_per_second": 1})
        assert limits.status_code == 200 and emulator.limits is not None
        await client.put("/sandbox/limits", json={})
        assert emulator.limits is None

        stats = (await client.get("/sandbox/stats")).json()
        assert stats["calls"]["sendMessage"] == 1 and stats["sent_messages"] == 1
        assert stats["calls"]["editMessageText"] == 1 and stats["pollers"] >= 0

        blocked = await client.post("/sandbox/users/3001/block")
        assert blocked.status_code == 200 and emulator.is_blocked(3001)

        download = await client.get(f"/file/bot{emulator.token}/documents/none.txt")
        assert download.status_code == 404


async def test_find_button_looks_from_the_newest_message_up():
    emulator = Emulator()
    emulator.add_user(1, "A")

    async def send(text: str, rows: list[list[dict[str, str]]]) -> None:
        markup = {"inline_keyboard": rows}
        params = {"chat_id": 1, "text": text, "reply_markup": markup}
        assert (await emulator.call(emulator.token, "sendMessage", params))[0] == 200

    await send("old", [[{"text": "English", "callback_data": "old"}]])
    await send("new", [[{"text": "✓ English", "callback_data": "new"}]])
    # What a person sees first is the newest message, even if only part of the label matches.
    assert emulator.find_button(1, "English").data == "new"
    assert emulator.find_button(1, "English", message_id=1).data == "old"
    await send(
        "two",
        [
            [{"text": "Yes, go", "callback_data": "y"}],
            [{"text": "Yes, stop", "callback_data": "n"}],
        ],
    )
    with pytest.raises(LookupError, match="matches several buttons"):
        emulator.find_button(1, "yes")
    assert emulator.find_button(1, "Yes, stop").data == "n"
    with pytest.raises(LookupError, match="visible buttons: \\['Yes, go', 'Yes, stop'\\]"):
        emulator.find_button(1, "Deutsch")
