"""The newest message this process sent to each chat, to know whether a page is still last.

A survey's page is edited in place after a typed answer only while it is the last message the
bot sent to the chat (`handlers.surveys`): then the student's own message, right below it, is
removed and the page, now showing the next question, is the bottom of the chat again. Any
other message sent since (an error reply, a broadcast, a lesson) means the page is no longer
where the student looks, and the next question goes in a new message instead.

Every Bot API call passes `bot.floodguard.FloodGuard`, which records here the id of each
message a call created, from the answer PTB has already parsed (no second parse). Only this
process's sends are seen: after a restart nothing is known (a new message, as before), and a
message another replica sent to the chat is not seen (the page is then edited where it is,
above that message; the student's answer is still taken and stored once). The record is
bounded: the chats least recently written to are forgotten first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

# Calls that create messages besides the `send*` family (sendChatAction creates none).
_CREATING = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})
CAPACITY = 100_000  # chats remembered; about 10 MB at most


def creates_messages(endpoint: str) -> bool:
    """Whether a call to `endpoint` posts new messages in a chat."""
    return (endpoint.startswith("send") and endpoint != "sendChatAction") or (
        endpoint in _CREATING
    )


class ChatTail:
    """The id of the newest message sent to each chat by this process (see the module)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        """Remember at most `capacity` chats."""
        self.capacity = capacity
        self._newest: OrderedDict[int, int] = OrderedDict()

    def record(self, endpoint: str, data: dict[str, Any], result: object) -> None:
        """Note the messages a successful call to `endpoint` with `data` created (`result`)."""
        if not creates_messages(endpoint):
            return
        try:
            chat_id = int(data["chat_id"])
        except (KeyError, TypeError, ValueError):  # a channel's @name: not a private chat
            return
        results = result if isinstance(result, list) else [result]
        ids = [
            r["message_id"]
            for r in results
            if isinstance(r, dict) and isinstance(r.get("message_id"), int)
        ]
        if ids:
            self.sent(chat_id, max(ids))

    def sent(self, chat_id: int, message_id: int) -> None:
        """Note that `message_id` was sent to `chat_id` (the newer of it and the one known)."""
        known = self._newest.pop(chat_id, None)
        self._newest[chat_id] = message_id if known is None else max(known, message_id)
        if len(self._newest) > self.capacity:
            self._newest.popitem(last=False)

    def newest(self, chat_id: int) -> int | None:
        """The newest message this process sent to `chat_id`, if it knows one."""
        return self._newest.get(chat_id)

    def is_last(self, chat_id: int, message_id: int) -> bool:
        """Whether `message_id` is the newest message this process knows it sent there."""
        return self._newest.get(chat_id) == message_id
