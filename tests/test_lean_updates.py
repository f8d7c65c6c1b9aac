"""Survey button presses are parsed without the page's entities and buttons (bot/lean_updates)."""

from __future__ import annotations

import copy
import json

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.lean_updates import LeanUpdates, lean


def _press(data: str) -> dict:
    return {
        "update_id": 7,
        "callback_query": {
            "id": "q1",
            "from": {"id": 5, "is_bot": False, "first_name": "Aru"},
            "chat_instance": "c",
            "data": data,
            "message": {
                "message_id": 30,
                "date": 0,
                "chat": {"id": 5, "type": "private"},
                "text": "Survey\n✓ 1. Question — Answer",
                "entities": [{"type": "bold", "offset": 20, "length": 6}],
                "has_protected_content": True,
                "reply_markup": {"inline_keyboard": [[{"text": "4", "callback_data": data}]]},
            },
        },
    }


def test_a_survey_press_loses_only_what_its_handlers_never_read():
    """Tried: a survey button (data "s:l:..."); entities and buttons go, and what the survey
    handlers read (the message's id, chat, protection, the text, the data) stays."""
    update = _press("s:l:12:3:4:0")
    lean(update)
    message = update["callback_query"]["message"]
    assert "entities" not in message and "reply_markup" not in message
    parsed = Update.de_json(update, None)
    assert parsed.callback_query.data == "s:l:12:3:4:0"
    assert parsed.callback_query.message.message_id == 30
    assert parsed.callback_query.message.chat.id == 5
    assert parsed.callback_query.message.has_protected_content
    assert parsed.effective_message.text == "Survey\n✓ 1. Question — Answer"


def test_everything_else_is_left_as_telegram_sent_it():
    """Tried: another feature's button ("sw:..." is not a survey's "s:"), a message, an
    inline query, junk: each is unchanged."""
    others = [
        _press("sw:1"),
        _press("m:open"),
        {
            "update_id": 8,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 5, "type": "private"},
                "text": "hi",
                "entities": [{"type": "bold", "offset": 0, "length": 2}],
            },
        },
        {"update_id": 9, "callback_query": {"id": "q", "data": "s:l:1", "inline_message_id": "x"}},
        {"update_id": 10, "callback_query": "junk"},
        "junk",
    ]
    for other in others:
        before = copy.deepcopy(other)
        lean(other)
        assert other == before


class _Canned(BaseRequest):
    """A request answering every call with one canned body; counts what it was asked."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.calls: list[str] = []
        self.opened = self.closed = False

    @property
    def read_timeout(self) -> float | None:
        return 7.0

    async def initialize(self) -> None:
        self.opened = True

    async def shutdown(self) -> None:
        self.closed = True

    async def do_request(self, url, method, request_data: RequestData | None = None, **_):
        self.calls.append(url)
        return 200, self.body


async def test_the_polling_request_leans_every_update_and_passes_the_rest_through():
    """Tried: a getUpdates answer with a survey press and a message through `LeanUpdates`:
    the press is leaned, the message is not; opening, closing, the read timeout and the call
    itself are the inner request's."""
    message = {
        "update_id": 8,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "text": "hi",
        },
    }
    body = json.dumps({"ok": True, "result": [_press("s:o:1:2:0:0"), message]}).encode()
    inner = _Canned(body)
    request = LeanUpdates(inner)
    await request.initialize()
    assert request.read_timeout == 7.0
    result = await request.post("http://api/bot1:x/getUpdates")
    assert "entities" not in result[0]["callback_query"]["message"]
    assert result[1] == message
    assert inner.calls == ["http://api/bot1:x/getUpdates"]
    await request.shutdown()
    assert inner.opened and inner.closed
