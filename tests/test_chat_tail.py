"""bot.chat_tail: the newest message this process sent to each chat."""

from __future__ import annotations

from bot.chat_tail import ChatTail, creates_messages
from bot.floodguard import GATEWAY_CALL, FloodGuard


def test_sends_are_recorded_from_telegrams_answer():
    """Tried: a sendMessage, a sendPhoto, an album's list, a copy: each answer's message id."""
    tail = ChatTail()
    tail.record("sendMessage", {"chat_id": 7, "text": "hi"}, {"message_id": 10})
    assert tail.newest(7) == 10 and tail.is_last(7, 10)
    tail.record("sendPhoto", {"chat_id": 7}, {"message_id": 11})
    assert tail.is_last(7, 11) and not tail.is_last(7, 10)
    tail.record("sendMediaGroup", {"chat_id": 7}, [{"message_id": 13}, {"message_id": 12}])
    assert tail.newest(7) == 13
    tail.record("copyMessage", {"chat_id": "8"}, {"message_id": 3})  # ids may come as text
    assert tail.newest(8) == 3


def test_calls_that_post_nothing_change_nothing():
    """Tried: an edit, a deletion, a chat action, a button's answer, a failed call's answer
    (no message id), a channel's @name, a call without a chat: nothing recorded."""
    tail = ChatTail()
    tail.record("sendMessage", {"chat_id": 7}, {"message_id": 10})
    tail.record("editMessageText", {"chat_id": 7, "message_id": 10}, {"message_id": 10})
    tail.record("deleteMessage", {"chat_id": 7, "message_id": 9}, True)
    tail.record("sendChatAction", {"chat_id": 7, "action": "typing"}, True)
    tail.record("answerCallbackQuery", {"callback_query_id": "1"}, True)
    tail.record("sendMessage", {"chat_id": 7}, True)
    tail.record("sendMessage", {"chat_id": "@news"}, {"message_id": 99})
    tail.record("sendMessage", {}, {"message_id": 99})
    assert tail.newest(7) == 10 and tail.newest(8) is None
    assert creates_messages("sendVideo") and creates_messages("forwardMessage")
    assert not creates_messages("sendChatAction") and not creates_messages("getUpdates")


def test_an_older_answer_arriving_late_does_not_hide_a_newer_message():
    """Tried: two sends to one chat whose answers come back out of order."""
    tail = ChatTail()
    tail.sent(7, 21)
    tail.sent(7, 20)
    assert tail.newest(7) == 21


def test_the_chats_written_to_longest_ago_are_forgotten_first():
    """Tried: four chats in a tail of three, the first written to again before the fourth."""
    tail = ChatTail(capacity=3)
    for chat in (1, 2, 3):
        tail.sent(chat, 100 + chat)
    tail.sent(1, 200)
    tail.sent(4, 104)
    assert tail.newest(2) is None  # forgotten: its page is not known to be last any more
    assert tail.newest(1) == 200 and tail.newest(3) == 103 and tail.newest(4) == 104


async def test_every_call_through_the_flood_guard_is_seen():
    """Tried: a reply sent directly and a broadcast's copy sent by the gateway (which passes
    the guard without its retries): both are the chat's newest message, in turn."""
    tail = ChatTail()
    guard = FloodGuard(tail=tail)

    async def telegram(message_id: int) -> dict[str, int]:
        return {"message_id": message_id}

    data = {"chat_id": 5, "text": "hello"}
    await guard.process_request(telegram, (40,), {}, "sendMessage", data, None)
    assert tail.is_last(5, 40)
    token = GATEWAY_CALL.set(True)
    try:
        await guard.process_request(telegram, (41,), {}, "sendMessage", data, None)
    finally:
        GATEWAY_CALL.reset(token)
    assert tail.is_last(5, 41)
