"""Inline mode in the sandbox emulator, driven by a real PTB ``Bot`` in-process and over HTTP.

A person types ``@bot query``; the bot answers with ``answerInlineQuery``, which the emulator
checks as Telegram does (at most 50 results, ids of 1..64 bytes and unique, the fields each
type requires, the message text, the keyboard, ``next_offset``, the results button, one answer
per query); the person then chooses a result, which is posted "via @bot" into their chat with
the bot (the bot receives it) or into another chat (kept as a shared message).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
)
from telegram.error import BadRequest

from bot.sandbox.emulator import Emulator
from bot.sandbox.request import BASE_FILE_URL, BASE_URL, EmulatorRequest
from bot.sandbox.server import EmulatorServer

ALICE = 1001


@pytest.fixture
def emulator() -> Emulator:
    emulator = Emulator(inline_feedback=True)
    emulator.add_user(ALICE, "Alice", language_code="kk", username="alice")
    return emulator


@pytest.fixture(params=["in_process", "http"])
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
            over_http = Bot(emulator.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
            async with over_http:
                yield over_http


def article(result_id: str, title: str = "Title", text: str = "<b>Card</b>") -> Any:
    return InlineQueryResultArticle(
        result_id,
        title,
        InputTextMessageContent(text, parse_mode="HTML"),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("Open", url="https://t.me/ortaq_bot?start=r-abc")]]
        ),
    )


async def _query(bot: Bot, emulator: Emulator, text: str, **kwargs: Any) -> Any:
    update = emulator.post_inline_query(ALICE, text, **kwargs)
    [received] = await bot.get_updates(offset=update["update_id"], timeout=0)
    await bot.get_updates(offset=update["update_id"] + 1, timeout=0)  # confirm it
    return received.inline_query


async def test_inline_query_round_trip_and_choosing(bot: Bot, emulator: Emulator):
    """Tried: getMe says inline is on; a query reaches the bot (cut to 256 characters as the
    app does), the answer is recorded with its results, next page and button; choosing a
    result in another chat keeps the card with its URL button and tells the bot (feedback on);
    choosing it in the bot's own chat gives the bot a message "via @bot"."""
    assert (await bot.get_me()).supports_inline_queries is True
    query = await _query(bot, emulator, "x" * 300, chat_type="private")
    assert query.query == "x" * 256 and query.from_user.id == ALICE
    assert query.chat_type == "private"
    before = emulator.activity(ALICE)
    assert await query.answer(
        [article("r-1", "One"), article("r-2", "Two")],
        cache_time=0,
        is_personal=True,
        next_offset="10",
        button=InlineQueryResultsButton("Open the bot", start_parameter="bank"),
    )
    answer = emulator.inline_answer(ALICE)
    assert answer is not None and answer.answered and answer.titles == ["One", "Two"]
    assert answer.next_offset == "10" and answer.is_personal and answer.cache_time == 0
    assert answer.button == {"text": "Open the bot", "start_parameter": "bank"}
    assert emulator.activity(ALICE) == before + 1

    shared, update = emulator.choose_inline_result(ALICE, "r-2", chat="Colleague")
    assert shared.record.text == "Card" and shared.record.entities
    assert shared.record.via_bot == emulator.bot_user and shared.chat == "Colleague"
    assert shared.record.inline_keyboard[0][0]["url"] == "https://t.me/ortaq_bot?start=r-abc"
    assert shared.inline_message_id is not None
    assert update is not None
    [chosen] = await bot.get_updates(offset=update["update_id"], timeout=0)
    assert chosen.chosen_inline_result.result_id == "r-2"
    assert chosen.chosen_inline_result.inline_message_id == shared.inline_message_id
    with pytest.raises(LookupError, match="no inline result 'r-9'"):
        emulator.choose_inline_result(ALICE, "r-9")

    query = await _query(bot, emulator, "own chat")
    await query.answer([article("a")])
    shared, update = emulator.choose_inline_result(ALICE, "a")
    assert update is not None and shared.chat == "bot"
    [received] = await bot.get_updates(offset=update["update_id"], timeout=0)
    assert received.message.via_bot.id == emulator.bot_id
    assert received.message.text == "Card" and received.message.chat.id == ALICE
    assert emulator.shared_messages(ALICE)[-1] is shared


@pytest.mark.parametrize(
    ("results", "error"),
    [
        ([article(str(i)) for i in range(51)], "RESULTS_TOO_MUCH"),
        ([article("x" * 65)], "RESULT_ID_INVALID"),
        ([article("same"), article("same")], "RESULT_ID_DUPLICATE"),
        (
            [{"type": "article", "id": "1", "input_message_content": {"message_text": "x"}}],
            'Can\'t find field "title"',
        ),
        (
            [{"type": "article", "id": "1", "title": "T"}],
            'Can\'t find field "input_message_content"',
        ),
        ([{"type": "nonsense", "id": "1"}], 'type "nonsense" is unsupported'),
        (
            [
                {
                    "type": "article",
                    "id": "1",
                    "title": "T",
                    "input_message_content": {"message_text": "<b>open", "parse_mode": "HTML"},
                }
            ],
            "Can't parse entities",
        ),
        (
            [
                {
                    "type": "article",
                    "id": "1",
                    "title": "T",
                    "input_message_content": {"message_text": "   "},
                }
            ],
            "MESSAGE_EMPTY",
        ),
        (
            [
                {
                    "type": "article",
                    "id": "1",
                    "title": "T",
                    "input_message_content": {"message_text": "x" * 4097},
                }
            ],
            "MESSAGE_TOO_LONG",
        ),
        (
            [
                {
                    "type": "article",
                    "id": "1",
                    "title": "T",
                    "input_message_content": {"message_text": "x"},
                    "reply_markup": {"inline_keyboard": [[{"text": "Open", "url": "ftp://x"}]]},
                }
            ],
            "BUTTON_URL_INVALID",
        ),
        (
            [{"type": "document", "id": "1", "title": "T", "document_url": "https://x/y.pdf"}],
            'Can\'t find field "mime_type"',
        ),
    ],
)
async def test_answers_telegram_refuses(bot: Bot, emulator: Emulator, results, error):
    """Tried: each malformed answer is refused with Telegram's wording, and the query can
    still be answered properly afterwards (a refused answer is no answer)."""
    query = await _query(bot, emulator, "q")
    raw = [r if isinstance(r, dict) else r.to_dict() for r in results]
    with pytest.raises(BadRequest, match="(?i)" + re.escape(error)):
        await bot._post("answerInlineQuery", {"inline_query_id": query.id, "results": raw})
    assert not emulator.inline_answer(ALICE).answered
    assert await query.answer([])
    assert emulator.inline_answer(ALICE).answered and emulator.inline_answer(ALICE).results == []


async def test_answer_once_offset_button_and_inline_off(bot: Bot, emulator: Emulator):
    """Tried: a second answer and an unknown query id are "query is too old"; next_offset over
    64 bytes and a bad start parameter refused; with inline mode off nobody can type a query."""
    query = await _query(bot, emulator, "q")
    with pytest.raises(BadRequest, match=r"(?i)NEXT_OFFSET_INVALID"):
        await query.answer([], next_offset="9" * 65)
    with pytest.raises(BadRequest, match=r"(?i)START_PARAM_INVALID"):
        await query.answer([], button=InlineQueryResultsButton("Go", start_parameter="a b"))
    assert await query.answer([article("1")])
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer([article("1")])
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_inline_query("123", [])
    emulator.inline = False
    assert (await bot.get_me()).supports_inline_queries is False
    with pytest.raises(LookupError, match="setinline"):
        emulator.post_inline_query(ALICE, "q")


async def test_control_routes_play_inline_mode(emulator: Emulator):
    """Tried: over the sandbox's HTTP control API a script types an inline query, the bot (a
    PTB Bot over HTTP) answers it, the script reads the answer and chooses a result into a
    group; a query nobody typed and an unknown result are 404s with the reason."""
    async with EmulatorServer(emulator) as server:
        url = server.url
        bot = Bot(emulator.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
        async with bot, httpx.AsyncClient(base_url=url, trust_env=False) as client:
            missing = await client.get(f"/sandbox/users/{ALICE}/inline")
            assert missing.status_code == 404 and "typed no inline query" in missing.text
            typed = await client.post(f"/sandbox/users/{ALICE}/inline", json={"query": "plan"})
            assert typed.status_code == 200 and typed.json()["update"]["inline_query"]["query"]
            [update] = await bot.get_updates(timeout=0)
            await update.inline_query.answer([article("a", "Plan")])
            answer = (await client.get(f"/sandbox/users/{ALICE}/inline")).json()
            assert answer["answered"] and answer["results"][0]["title"] == "Plan"
            chosen = await client.post(
                f"/sandbox/users/{ALICE}/inline/choose", json={"result_id": "a", "chat": "Group"}
            )
            shared = chosen.json()["shared"]
            assert shared["chat"] == "Group" and shared["record"]["text"] == "Card"
            assert shared["record"]["via_bot"]["id"] == emulator.bot_id
            unknown = await client.post(
                f"/sandbox/users/{ALICE}/inline/choose", json={"result_id": "zz"}
            )
            assert unknown.status_code == 404 and "no inline result 'zz'" in unknown.text
