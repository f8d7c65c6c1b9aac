"""Updates read without what nobody reads: a survey button's page, parsed once less.

A press on a survey button arrives with the whole message it was pressed under: a page of up
to 3,600 characters with a bold entity for every answer recorded on it and the question's
buttons. PTB turns all of that into objects (`MessageEntity`, `InlineKeyboardButton`, ...)
before any handler runs, on every answer; `bench/surveys.py --profile` put `Message.de_json`
at about 7% of the event loop's time. The survey handlers (`handlers/surveys.py`) read only
the pressed message's id, its chat and whether it is protected; they draw the page again from
the database and never look at its entities or its buttons.

So for a callback query whose data is a survey button (`SURVEY_PREFIX`), `lean(update)` drops
`entities` and `reply_markup` from the pressed message's JSON before PTB parses it. The text
stays (it is one string, and `update.effective_message.text` keeps its meaning); `text_html`
of such a message would read as plain text, which no survey handler uses. Any other update
is left exactly as Telegram sent it.

`LeanUpdates(request)` wraps the request object PTB uses for getUpdates and leans every update
of its answers; in webhook mode `bot.webserver` calls `lean` on the posted update.
"""

from __future__ import annotations

from typing import Any

from telegram._utils.types import JSONDict
from telegram.request import BaseRequest, RequestData

__all__ = ["SURVEY_PREFIX", "LeanUpdates", "lean"]

# The data of every survey button starts so (`bot.callbacks`: SurveyStart "s:c", ...).
SURVEY_PREFIX = "s:"

# What a survey handler never reads of the pressed message.
_UNREAD = ("entities", "reply_markup")


def lean(update: Any) -> None:
    """Drop from a survey button press (a raw update) what its handlers never read, in place."""
    if not isinstance(update, dict):
        return
    query = update.get("callback_query")
    if not isinstance(query, dict):
        return
    data = query.get("data")
    message = query.get("message")
    if isinstance(data, str) and data.startswith(SURVEY_PREFIX) and isinstance(message, dict):
        for key in _UNREAD:
            message.pop(key, None)


class LeanUpdates(BaseRequest):
    """PTB's getUpdates request object, its answers leaned (see the module's docstring).

    Every call goes to `inner` unchanged; the answer is parsed as PTB parses it (none of our
    request objects parses otherwise), then leaned.
    """

    __slots__ = ("inner",)

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        """The inner request's default read timeout (PTB adds the long poll to it)."""
        return self.inner.read_timeout

    async def initialize(self) -> None:
        """Open the inner request."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Close the inner request."""
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """The inner request's answer, as it gives it."""
        return await self.inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """The JSON answer (parsed as PTB parses it), each update in a list result leaned."""
        parsed = BaseRequest.parse_json_payload(payload)
        result = parsed.get("result")
        if isinstance(result, list):
            for update in result:
                lean(update)
        return parsed
