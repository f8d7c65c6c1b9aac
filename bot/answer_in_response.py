"""Answering a pressed button in the webhook response itself, saving a Bot API request.

Telegram lets a bot answer a webhook request with one Bot API call in the body
(`{"method": "answerCallbackQuery", ...}`). Every button press is answered
(`bot.replies.toast`, to stop the button's spinner and perhaps show a notice); in webhook mode
that answer rides on the response instead of costing a request of its own: `bot.webserver`
opens a *slot* for the update's callback query (`answering`), `toast` puts the answer in it
(`defer`), and the response carries it once the handlers are done, so after every write of
the update was committed.

The spinner then turns until the handlers end. Where a handler goes on with slow work after
its answer (drawing a chart), it calls `flush` first, which sends the answer as a request at
once. A slot is closed when the response is built: an answer from work the update started in
the background (which inherits the context) is sent as a request, as are an answer to
another query and a second answer. Polling and the sandbox harness open no slot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import TelegramError

METHOD = "answerCallbackQuery"


@dataclass
class Slot:
    """The answer to one callback query, waiting for the webhook response."""

    query_id: str
    answer: dict[str, Any] | None = None  # the Bot API call, once given
    open: bool = True  # False once the response was built (or the answer sent)


_SLOT: ContextVar[Slot | None] = ContextVar("answer_in_response", default=None)


@contextmanager
def answering(update: Update) -> Iterator[Slot | None]:
    """Open a slot for the update's callback query (None for other updates) while handling it."""
    query = update.callback_query
    if query is None:
        yield None
        return
    slot = Slot(str(query.id))
    token = _SLOT.set(slot)
    try:
        yield slot
    finally:
        slot.open = False
        _SLOT.reset(token)


def defer(query_id: str, text: str | None) -> bool:
    """Keep the answer to `query_id` for the response; False when it must be sent now."""
    slot = _SLOT.get()
    if slot is None or not slot.open or slot.query_id != str(query_id) or slot.answer:
        return False
    slot.answer = {"method": METHOD, "callback_query_id": slot.query_id}
    if text:
        slot.answer["text"] = text
    return True


async def flush(update: Update) -> None:
    """Send a kept answer now, before slow work: the button's spinner stops at once."""
    slot = _SLOT.get()
    query = update.callback_query
    if slot is None or not slot.open or slot.answer is None or query is None:
        return
    answer, slot.open = slot.answer, False
    try:
        await query.answer(answer.get("text"))
    except TelegramError:  # the press is handled; only its notice is lost
        return


def body(slot: Slot | None) -> dict[str, Any] | None:
    """The Bot API call the response carries, if the handlers left one."""
    if slot is None or not slot.open:
        return None
    slot.open = False
    return slot.answer
