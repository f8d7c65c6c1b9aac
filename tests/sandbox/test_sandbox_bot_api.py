"""A real PTB ``Bot`` against the sandbox emulator, in-process and over HTTP on 127.0.0.1.

Every test runs three times (``bot`` is parametrised), so the in-process adapter and the aiohttp
server are held to the same Bot API behaviour and Telegram's exact error wording, over HTTP both
through PTB's own httpx transport and through the bot's aiohttp one (``bot.transport``).
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.sandbox.emulator import Emulator, Limits
from bot.sandbox.request import BASE_FILE_URL, BASE_URL, EmulatorRequest
from bot.sandbox.server import EmulatorServer
from bot.transport import AiohttpRequest

ALICE = 1001
BOB = 1002

PNG_16x32 = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x20" + b"\0" * 16


def ptb_message(description: str) -> str:
    """What PTB makes of Telegram's description (it strips "Bad Request: ", capitalises)."""
    stripped = description.removeprefix("Bad Request: ")
    return stripped.capitalize() if stripped != description else description


def seconds(value: int | dtm.timedelta) -> int:
    return int(value.total_seconds()) if isinstance(value, dtm.timedelta) else int(value)


def retry_after_of(error: RetryAfter) -> int:
    with warnings.catch_warnings():
        # PTB 22 warns about int time periods; the value is what matters here.
        warnings.simplefilter("ignore")
        return seconds(error.retry_after)


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


@pytest.fixture
def emulator() -> Emulator:
    emulator = Emulator()
    emulator.add_user(ALICE, "Alice", language_code="kk", username="alice")
    emulator.add_user(BOB, "Bob", language_code="ru")
    return emulator


@pytest.fixture(params=["in_process", "http", "aiohttp"])
async def bot(request: pytest.FixtureRequest, emulator: Emulator) -> AsyncIterator[Bot]:
    if request.param == "in_process":
        in_process = Bot(
            emulator.token,
            base_url=BASE_URL,
            base_file_url=BASE_FILE_URL,
            request=EmulatorRequest(emulator),
            get_updates_request=EmulatorRequest(emulator),
        )
        async with in_process:
            yield in_process
    else:
        async with EmulatorServer(emulator) as server:
            url = server.url
            transport: dict[str, Any] = {}
            if request.param == "aiohttp":
                transport = {
                    "request": AiohttpRequest(),
                    "get_updates_request": AiohttpRequest(connection_pool_size=1),
                }
            over_http = Bot(
                emulator.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot", **transport
            )
            async with over_http:
                yield over_http


async def test_get_me_is_the_emulated_bot(bot: Bot, emulator: Emulator):
    me = await bot.get_me()
    assert me.id == emulator.bot_id == 100000001
    assert me.is_bot and me.username == "ortaq_bot" and me.first_name == "Ortaq"
    assert emulator.stats.calls["getMe"] >= 1


async def test_send_edit_delete_round_trip(bot: Bot, emulator: Emulator):
    sent = await bot.send_message(
        ALICE, "Сәлем, <b>Alice</b>!", parse_mode="HTML", reply_markup=keyboard([("Go", "go")])
    )
    assert sent.text == "Сәлем, Alice!"
    assert sent.from_user.id == emulator.bot_id and sent.chat.id == ALICE
    assert sent.chat.type == "private" and sent.chat.username == "alice"
    assert sent.entities[0].type == "bold" and sent.entities[0].offset == 7
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "go"
    record = emulator.last_bot_message(ALICE)
    assert record is not None and record.source == "Сәлем, <b>Alice</b>!"
    assert record.parse_mode == "HTML" and record.buttons == ["Go"]

    edited = await bot.edit_message_text(
        "Next", ALICE, sent.message_id, reply_markup=keyboard([("Back", "back")])
    )
    assert edited.text == "Next" and edited.edit_date is not None
    assert emulator.last_bot_message(ALICE).buttons == ["Back"]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Next", ALICE, sent.message_id, reply_markup=keyboard([("Back", "back")])
        )

    # An edit that does not repeat the keyboard removes it, as Telegram does.
    await bot.edit_message_text("Next!", ALICE, sent.message_id)
    assert emulator.last_bot_message(ALICE).reply_markup is None

    with pytest.raises(BadRequest) as not_modified:
        await bot.edit_message_text("Next!", ALICE, sent.message_id)
    assert not_modified.value.message.startswith("Message is not modified: specified new")

    markup = await bot.edit_message_reply_markup(
        ALICE, sent.message_id, reply_markup=keyboard([("A", "a"), ("B", "b")])
    )
    assert [b.text for b in markup.reply_markup.inline_keyboard[0]] == ["A", "B"]

    assert await bot.delete_message(ALICE, sent.message_id) is True
    assert emulator.bot_messages(ALICE) == []
    assert emulator.chat(ALICE)[0].deleted and emulator.chat(ALICE)[0].edited == 3
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("again", ALICE, sent.message_id)


async def test_message_ids_grow_per_chat_across_both_sides(bot: Bot, emulator: Emulator):
    emulator.post_message(ALICE, "hello")
    first = await bot.send_message(ALICE, "one")
    second = await bot.send_message(ALICE, "two", reply_parameters=ReplyParameters(1))
    other = await bot.send_message(BOB, "one")
    assert (first.message_id, second.message_id, other.message_id) == (2, 3, 1)
    assert second.reply_to_message.text == "hello"
    assert [r.from_bot for r in emulator.chat(ALICE)] == [False, True, True]


Call = Callable[[Bot, Emulator], Awaitable[Any]]


async def _send(bot: Bot, emulator: Emulator, **kwargs: Any) -> Any:
    return await bot.send_message(**{"chat_id": ALICE, "text": "hi", **kwargs})


async def _blocked(bot: Bot, emulator: Emulator) -> Any:
    emulator.block(ALICE)
    return await _send(bot, emulator)


async def _deleted_chat(bot: Bot, emulator: Emulator) -> Any:
    emulator.delete_chat(ALICE)
    return await _send(bot, emulator)


async def _not_started(bot: Bot, emulator: Emulator) -> Any:
    emulator.add_user(2001, "Dana", started=False)
    return await bot.send_message(2001, "hi")


async def _edit_missing(bot: Bot, emulator: Emulator) -> Any:
    return await bot.edit_message_text("x", ALICE, 999)


async def _delete_missing(bot: Bot, emulator: Emulator) -> Any:
    return await bot.delete_message(ALICE, 999)


async def _edit_users_message(bot: Bot, emulator: Emulator) -> Any:
    emulator.post_message(ALICE, "mine")
    return await bot.edit_message_text("yours", ALICE, 1)


ERRORS: list[tuple[str, Call, type[TelegramError], str]] = [
    (
        "unknown chat",
        lambda b, e: b.send_message(424242, "hi"),
        BadRequest,
        "Bad Request: chat not found",
    ),
    ("deleted chat", _deleted_chat, BadRequest, "Bad Request: chat not found"),
    ("blocked", _blocked, Forbidden, "Forbidden: bot was blocked by the user"),
    (
        "never started",
        _not_started,
        Forbidden,
        "Forbidden: bot can't initiate conversation with a user",
    ),
    (
        "empty text",
        lambda b, e: _send(b, e, text=" \n "),
        BadRequest,
        "Bad Request: message text is empty",
    ),
    (
        "empty after markup",
        lambda b, e: _send(b, e, text="<b></b>", parse_mode="HTML"),
        BadRequest,
        "Bad Request: message text is empty",
    ),
    (
        "too long",
        lambda b, e: _send(b, e, text="я" * 4097),
        BadRequest,
        "Bad Request: message is too long",
    ),
    (
        "caption too long",
        lambda b, e: b.send_document(ALICE, b"data", filename="a.txt", caption="x" * 1025),
        BadRequest,
        "Bad Request: message caption is too long",
    ),
    (
        "callback data over 64 bytes",
        # 33 Cyrillic letters are 66 bytes in UTF-8.
        lambda b, e: _send(b, e, reply_markup=keyboard([("Go", "ә" * 33)])),
        BadRequest,
        "Bad Request: BUTTON_DATA_INVALID",
    ),
    (
        "unclosed HTML tag",
        lambda b, e: _send(b, e, text="<b>bold", parse_mode="HTML"),
        BadRequest,
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
    ),
    (
        "unknown HTML tag",
        lambda b, e: _send(b, e, text="a<br>b", parse_mode="HTML"),
        BadRequest,
        'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 1',
    ),
    (
        "unescaped MarkdownV2",
        lambda b, e: _send(b, e, text="Score: 4.5", parse_mode="MarkdownV2"),
        BadRequest,
        (
            "Bad Request: can't parse entities: Character '.' is reserved and must be escaped "
            "with the preceding '\\'"
        ),
    ),
    ("edit missing", _edit_missing, BadRequest, "Bad Request: message to edit not found"),
    ("delete missing", _delete_missing, BadRequest, "Bad Request: message to delete not found"),
    ("edit user's", _edit_users_message, BadRequest, "Bad Request: message can't be edited"),
    (
        "unknown callback query",
        lambda b, e: b.answer_callback_query("123456"),
        BadRequest,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    ),
    (
        "unknown file id",
        lambda b, e: b.get_file("AgADnope"),
        BadRequest,
        "Bad Request: wrong file identifier/HTTP URL specified",
    ),
    (
        "resend unknown file id",
        lambda b, e: b.send_document(ALICE, "BQADnope"),
        BadRequest,
        "Bad Request: wrong file identifier/HTTP URL specified",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "description"),
    [pytest.param(call, error, description, id=name) for name, call, error, description in ERRORS],
)
async def test_telegram_errors_reach_ptb_as_its_exceptions(
    bot: Bot, emulator: Emulator, call: Call, error: type[TelegramError], description: str
):
    with pytest.raises(error) as caught:
        await call(bot, emulator)
    assert type(caught.value) is error
    assert caught.value.message == ptb_message(description)


async def test_limits_count_visible_characters(bot: Bot, emulator: Emulator):
    # Tags do not count towards 4096; entities &amp; count as one character.
    sent = await _send(bot, emulator, text="<b>" + "x" * 4095 + "&amp;</b>", parse_mode="HTML")
    assert len(sent.text) == 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await _send(bot, emulator, text="<b>" + "x" * 4096 + "&amp;</b>", parse_mode="HTML")
    # 64 bytes of callback data is fine (32 Cyrillic letters).
    await _send(bot, emulator, reply_markup=keyboard([("Go", "ә" * 32)]))


async def test_blocked_user_is_unblocked_by_writing(bot: Bot, emulator: Emulator):
    emulator.block(ALICE)
    with pytest.raises(Forbidden):
        await bot.send_message(ALICE, "reminder")
    emulator.post_message(ALICE, "/start")
    assert (await bot.send_message(ALICE, "welcome back")).text == "welcome back"


async def test_wrong_token_and_unknown_method(bot: Bot, emulator: Emulator):
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHologram", api_kwargs={"chat_id": ALICE})
    # Method names are case-insensitive, as on Telegram.
    me = await bot.do_api_request("GETME")
    assert me["username"] == "ortaq_bot"
    if isinstance(bot.request, EmulatorRequest):
        intruder = Bot(
            "999:wrong",
            base_url=BASE_URL,
            base_file_url=BASE_FILE_URL,
            request=EmulatorRequest(emulator),
        )
    else:
        url = bot.base_url.removesuffix(f"/bot{emulator.token}")
        intruder = Bot("999:wrong", base_url=f"{url}/bot", request=HTTPXRequest())
    try:
        with pytest.raises(InvalidToken, match="Unauthorized"):
            await intruder.get_me()
    finally:
        # Closed here: an uninitialised Bot's shutdown leaves its HTTP client to the GC, whose
        # unclosed socket then failed whichever test ran next (warnings are errors).
        await intruder.request.shutdown()


async def test_inline_keyboard_and_callback_round_trip(bot: Bot, emulator: Emulator):
    sent = await bot.send_message(
        ALICE, "Language?", reply_markup=keyboard([("Қазақша", "lang:kk"), ("Русский", "lang:ru")])
    )
    update = emulator.post_callback(ALICE, sent.message_id, "lang:kk")
    [received] = await bot.get_updates(timeout=0)
    assert received.update_id == update["update_id"]
    query = received.callback_query
    assert query.data == "lang:kk" and query.from_user.id == ALICE
    assert query.message.message_id == sent.message_id and query.message.text == "Language?"
    assert query.message.reply_markup == sent.reply_markup and query.chat_instance

    before = emulator.activity(ALICE)
    assert await query.answer("Saved ✓") is True
    assert emulator.toasts(ALICE) == ["Saved ✓"] and emulator.activity(ALICE) == before + 1
    # A query is answered once; the second answer is refused like an unknown id.
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("again")
    await query.edit_message_text("Тіл: қазақша")
    assert emulator.last_bot_message(ALICE).content == "Тіл: қазақша"
    assert emulator.last_bot_message(ALICE).inline_keyboard == []


async def test_reply_keyboard_is_kept_on_the_chat(bot: Bot, emulator: Emulator):
    markup = ReplyKeyboardMarkup([[KeyboardButton("Share"), KeyboardButton("Skip")]])
    sent = await bot.send_message(ALICE, "Phone?", reply_markup=markup)
    # Telegram does not echo reply keyboards in the Message; the chat shows them.
    assert sent.reply_markup is None
    assert emulator.visible_buttons(ALICE) == ["Share", "Skip"]
    button = emulator.find_button(ALICE, "skip")
    assert (button.kind, button.label) == ("reply", "Skip")


async def test_document_upload_get_file_and_download(bot: Bot, emulator: Emulator):
    content = b"id,score\n1,5\n"
    sent = await bot.send_document(
        ALICE,
        InputFile(content, filename="scores.csv"),
        caption="<i>Export</i>",
        parse_mode="HTML",
    )
    document = sent.document
    assert document.file_name == "scores.csv" and document.mime_type == "text/csv"
    assert document.file_size == len(content) and sent.caption == "Export"
    assert sent.caption_entities[0].type == "italic"

    file = await bot.get_file(document.file_id)
    assert file.file_path.endswith(".csv") and file.file_size == len(content)
    buffer = io.BytesIO()
    await file.download_to_memory(buffer)
    assert buffer.getvalue() == content

    # Re-sending by file_id reuses the stored file, as Telegram does.
    again = await bot.send_document(BOB, document.file_id)
    assert again.document.file_unique_id == document.file_unique_id

    await bot.edit_message_caption(ALICE, sent.message_id, caption="Export v2")
    assert emulator.last_bot_message(ALICE).caption == "Export v2"


async def test_user_upload_reaches_the_bot_and_downloads(bot: Bot, emulator: Emulator):
    payload = bytes(range(256)) * 40
    emulator.post_document(ALICE, "essay.pdf", payload, "application/pdf", caption="My entry")
    [update] = await bot.get_updates(timeout=0)
    document = update.message.document
    assert (document.file_name, document.mime_type) == ("essay.pdf", "application/pdf")
    assert update.message.caption == "My entry"
    file = await document.get_file()
    assert bytes(await file.download_as_bytearray()) == payload


async def test_photos_both_ways(bot: Bot, emulator: Emulator):
    sent = await bot.send_photo(ALICE, PNG_16x32, caption="chart")
    assert (sent.photo[-1].width, sent.photo[-1].height) == (16, 32)
    emulator.post_photo(ALICE, "p.png", PNG_16x32)
    [update] = await bot.get_updates(timeout=0)
    file = await update.message.photo[-1].get_file()
    assert bytes(await file.download_as_bytearray()) == PNG_16x32


async def test_videos_upload_reuse_url_and_limits(bot: Bot, emulator: Emulator):
    """sendVideo: an upload returns a Video (ids, declared length and size, mime type) and
    counts as an upload; the file_id sends it again without one; a served URL is fetched, an
    unknown file_id or URL is refused in Telegram's words; it counts against the chat's flood
    limit like the other sends.
    """
    content = b"\x00\x00\x00\x18ftypmp42" + b"\0" * 64
    sent = await bot.send_video(
        ALICE,
        InputFile(content, filename="intro.mp4"),
        caption="<b>Intro</b>",
        parse_mode="HTML",
        duration=12,
        width=640,
        height=360,
        reply_markup=keyboard([("Next", "n")]),
    )
    video = sent.video
    assert video.file_id and video.file_unique_id and video.file_size == len(content)
    assert (seconds(video.duration), video.width, video.height) == (12, 640, 360)
    assert video.mime_type == "video/mp4" and sent.caption == "Intro"
    record = emulator.last_bot_message(ALICE)
    assert record.video["file_id"] == video.file_id and record.buttons == ["Next"]
    assert emulator.stats.uploads["sendVideo"] == 1

    again = await bot.send_video(BOB, video.file_id, caption="again")
    assert again.video.file_unique_id == video.file_unique_id
    assert seconds(again.video.duration) == 12
    assert emulator.stats.calls["sendVideo"] == 2 and emulator.stats.uploads["sendVideo"] == 1
    await bot.edit_message_caption(BOB, again.message_id, caption="edited")
    assert emulator.last_bot_message(BOB).caption == "edited"

    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_video(ALICE, "BAACnot-a-file")
    with pytest.raises(BadRequest, match="Failed to get http url content"):
        await bot.send_video(ALICE, "https://example.org/missing.mp4")
    emulator.serve_url("https://example.org/talk.mp4", content, "talk.mp4", "video/mp4")
    fetched = await bot.send_video(ALICE, "https://example.org/talk.mp4")
    assert fetched.video.file_name == "talk.mp4" and fetched.video.file_size == len(content)

    emulator.clock = lambda: 100.0  # a stopped clock: the second send lands in the same second
    emulator.limits = Limits(per_chat_per_second=1)
    await bot.send_video(ALICE, video.file_id)
    with pytest.raises(RetryAfter):
        await bot.send_video(ALICE, video.file_id)
    assert emulator.stats.rate_limited == 1


async def test_long_polling_wakes_on_a_new_update(bot: Bot, emulator: Emulator):
    assert await bot.get_updates(timeout=0) == ()
    polling = asyncio.create_task(bot.get_updates(timeout=30))
    await emulator.wait_polling(timeout=5)
    assert emulator.pollers == 1
    update = emulator.post_message(ALICE, "/start abc")
    [received] = await asyncio.wait_for(polling, 5)
    assert received.update_id == update["update_id"]
    assert received.message.text == "/start abc"
    assert received.message.entities[0].type == "bot_command"
    assert received.message.entities[0].length == len("/start")

    # Unconfirmed updates come again; an offset confirms and drops them.
    assert len(await bot.get_updates(timeout=0)) == 1
    second = emulator.post_message(BOB, "привет")
    assert len(await bot.get_updates(timeout=0)) == 2
    remaining = await bot.get_updates(offset=received.update_id + 1, timeout=0)
    assert [u.update_id for u in remaining] == [second["update_id"]]
    assert await bot.get_updates(offset=second["update_id"] + 1, timeout=0) == ()
    assert emulator.pending_updates == 0


async def test_get_updates_limit_negative_offset_and_allowed_updates(bot: Bot, emulator: Emulator):
    for n in range(5):
        emulator.post_message(ALICE, f"m{n}")
    assert len(await bot.get_updates(limit=2, timeout=0)) == 2
    last_two = await bot.get_updates(offset=-2, timeout=0)
    assert [u.message.text for u in last_two] == ["m3", "m4"]
    await bot.get_updates(
        offset=last_two[-1].update_id + 1, timeout=0, allowed_updates=["message"]
    )
    sent = await bot.send_message(ALICE, "menu", reply_markup=keyboard([("x", "x")]))
    emulator.post_callback(ALICE, sent.message_id, "x")  # filtered: only messages allowed
    emulator.post_message(ALICE, "kept")
    assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["kept"]


async def test_webhook_is_stored_and_blocks_get_updates(bot: Bot, emulator: Emulator):
    assert (await bot.get_webhook_info()).url == ""
    await bot.set_webhook("https://ortaq.example/hook", allowed_updates=["message"])
    info = await bot.get_webhook_info()
    assert info.url == "https://ortaq.example/hook" and info.allowed_updates == ("message",)
    with pytest.raises(TelegramError, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates(timeout=0)
    emulator.post_message(ALICE, "hi")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == ()


async def test_commands_per_scope_and_language(bot: Bot, emulator: Emulator):
    default = [BotCommand("start", "Start"), BotCommand("help", "Help")]
    kazakh = [BotCommand("start", "Бастау")]
    assert await bot.set_my_commands(default)
    assert await bot.set_my_commands(kazakh, language_code="kk")
    assert await bot.set_my_commands(
        [BotCommand("jury", "Jury")], scope=BotCommandScopeChat(BOB), language_code="ru"
    )
    assert await bot.get_my_commands() == tuple(default)
    assert await bot.get_my_commands(language_code="kk") == tuple(kazakh)
    assert await bot.get_my_commands(language_code="ru") == ()
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
    # What each person's app shows: chat scope, then all private chats, then default.
    assert [c["command"] for c in emulator.menu_commands(ALICE)] == ["start"]
    assert emulator.menu_commands(ALICE)[0]["description"] == "Бастау"
    assert [c["command"] for c in emulator.menu_commands(BOB)] == ["jury"]
    assert await bot.delete_my_commands(language_code="kk")
    assert await bot.get_my_commands(language_code="kk") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "Capitalised")])


async def test_chat_action_get_chat_copy_forward_and_bot_texts(bot: Bot, emulator: Emulator):
    assert await bot.send_chat_action(ALICE, "typing")
    assert emulator.last_chat_action(ALICE) == "typing"
    chat = await bot.get_chat(ALICE)
    assert (chat.id, chat.type, chat.first_name, chat.username) == (
        ALICE,
        "private",
        "Alice",
        "alice",
    )
    original = await bot.send_message(ALICE, "<b>Notice</b>", parse_mode="HTML")
    copied = await bot.copy_message(BOB, ALICE, original.message_id)
    assert emulator.last_bot_message(BOB).message_id == copied.message_id
    assert emulator.last_bot_message(BOB).content == "Notice"
    forwarded = await bot.forward_message(BOB, ALICE, original.message_id)
    assert forwarded.forward_origin.sender_user.id == emulator.bot_id
    protected = await bot.send_message(ALICE, "secret", protect_content=True)
    with pytest.raises(BadRequest, match="Message can't be copied"):
        await bot.copy_message(BOB, ALICE, protected.message_id)
    assert await bot.set_my_description("Ortaq bot", language_code="en")
    assert await bot.set_my_short_description("Short")
    assert await bot.set_my_name("Ortaq")
    assert (await bot.get_my_description(language_code="en")).description == "Ortaq bot"
    assert emulator.bot_texts[("short_description", "")] == "Short"


# PTB itself reads RetryAfter.retry_after as an int when building the error, and warns.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
@pytest.mark.parametrize(
    ("kind", "options", "error", "message"),
    [
        ("retry_after", {"retry_after": 7}, RetryAfter, None),
        ("server_error", {}, NetworkError, "Internal Server Error"),
        ("server_error", {"status": 502}, NetworkError, "Bad Gateway"),
        ("blocked", {}, Forbidden, "Forbidden: bot was blocked by the user"),
        ("chat_not_found", {}, BadRequest, "Chat not found"),
        ("network", {}, NetworkError, None),
    ],
)
async def test_fault_injection(
    bot: Bot,
    emulator: Emulator,
    kind: str,
    options: dict[str, Any],
    error: type[TelegramError],
    message: str | None,
):
    emulator.faults.add("sendMessage", kind=kind, times=2, **options)
    for _ in range(2):
        with pytest.raises(error) as caught:
            await bot.send_message(ALICE, "hi")
        assert type(caught.value) is error
        if message is not None:
            assert caught.value.message == message
        if kind == "retry_after":
            assert retry_after_of(caught.value) == 7
    # Other methods are untouched, and the fault is spent after `times` calls.
    assert (await bot.get_me()).is_bot
    assert (await bot.send_message(ALICE, "hi")).text == "hi"
    assert emulator.stats.faults_fired[kind] == 2
    # A network fault fails before the method runs: nothing reached the chat.
    assert len(emulator.bot_messages(ALICE)) == 1
    if kind == "retry_after":
        assert emulator.stats.too_many_requests == 2


async def test_fault_for_one_chat_and_latency(bot: Bot, emulator: Emulator):
    emulator.faults.add(kind="blocked", chat_id=BOB, times=-1)
    assert await bot.send_message(ALICE, "fine")
    for _ in range(3):
        with pytest.raises(Forbidden):
            await bot.send_message(BOB, "no")
    emulator.faults.clear()
    assert await bot.send_message(BOB, "now fine")

    emulator.faults.add("getMe", kind="latency", delay=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bot.get_me()
    assert loop.time() - started >= 0.045
    assert emulator.stats.faults_fired["latency"] == 1

    emulator.latency = 0.02  # every call, every method
    started = loop.time()
    await bot.send_message(ALICE, "slow")
    assert loop.time() - started >= 0.015
    emulator.latency = 0.0
    emulator.reset_stats()
    assert emulator.stats.sent_messages == 0 and not emulator.stats.faults_fired
