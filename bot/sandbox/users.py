"""Simulated people for tests: they write, press buttons, upload files and read the replies.

:class:`SimulatedUser` drives an :class:`~bot.sandbox.emulator.Emulator` in the same process.
With ``deliver`` (the in-process harness hands each update straight to
``Application.process_update``) every action returns once the bot has fully handled it; without
it the update is queued for getUpdates and the test awaits :meth:`SimulatedUser.wait_reply`.

:class:`RemoteUser` offers the same verbs over the emulator server's HTTP control API, for
end-to-end tests of the real bot process::

    alice = SimulatedUser(emulator, 1001, "Alice", "kk", deliver=harness.deliver)
    await alice.send("/start")
    await alice.tap("Қазақша")
    assert "Сәлем" in alice.last_text
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bot.sandbox.emulator import Button, Emulator, InlineAnswer, MessageRecord, SharedMessage

__all__ = ["RemoteUser", "SimulatedUser"]

Deliver = Callable[[dict[str, Any]], Awaitable[None]]
_START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _labels(markup: dict[str, Any] | None) -> list[str]:
    if not markup:
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [
        button if isinstance(button, str) else button["text"] for row in rows for button in row
    ]


class SimulatedUser:
    """One person in a private chat with the bot, driven in-process."""

    def __init__(
        self,
        emulator: Emulator,
        user_id: int,
        first_name: str = "Alice",
        language_code: str = "en",
        *,
        deliver: Deliver | None = None,
        username: str | None = None,
        last_name: str | None = None,
    ) -> None:
        self.emulator = emulator
        self.user_id = user_id
        self.deliver = deliver
        self.user = emulator.add_user(
            user_id,
            first_name,
            language_code=language_code,
            username=username,
            last_name=last_name,
        )
        self._since = emulator.activity(user_id)

    def __repr__(self) -> str:
        return f"SimulatedUser({self.user_id}, {self.user['first_name']!r})"

    # --- actions -------------------------------------------------------------------------

    async def _act(self, post: Callable[[bool], dict[str, Any]]) -> dict[str, Any]:
        # Remember where the chat stood first, so wait_reply sees only what this caused.
        self._since = self.emulator.activity(self.user_id)
        if self.deliver is None:
            return post(True)
        update = post(False)
        await self.deliver(update)
        return update

    async def send(self, text: str) -> dict[str, Any]:
        """Write ``text`` to the bot; return the Update."""
        return await self._act(
            lambda enqueue: self.emulator.post_message(self.user_id, text, enqueue=enqueue)
        )

    async def tap(self, label: str, *, message_id: int | None = None) -> dict[str, Any]:
        """Press the button labelled ``label`` (exact, else a unique case-insensitive part).

        Searches bot messages from the newest up (or only ``message_id``) and the reply
        keyboard, whose buttons send their label as a message (see
        :meth:`Emulator.find_button`). Raises AssertionError listing the visible buttons when
        there is no such button.
        """
        try:
            button = self.emulator.find_button(self.user_id, label, message_id=message_id)
        except LookupError as error:
            raise AssertionError(str(error)) from None
        return await self.press(button)

    async def press(self, button: Button) -> dict[str, Any]:
        """Press a button found with :meth:`Emulator.find_button`."""
        if button.kind == "reply":
            return await self.send(button.label)
        if button.kind != "callback" or button.message_id is None:
            raise AssertionError(
                f"button {button.label!r} is a {button.kind} button; it sends no callback"
            )
        message_id, data = button.message_id, str(button.data)
        return await self.tap_data(data, message_id)

    async def tap_data(self, callback_data: str, message_id: int) -> dict[str, Any]:
        """Send a callback with arbitrary data from a bot message (forged or stale buttons)."""
        return await self._act(
            lambda enqueue: self.emulator.post_callback(
                self.user_id, message_id, callback_data, enqueue=enqueue
            )
        )

    async def upload(
        self,
        filename: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Send a file (a document) to the bot."""
        return await self._act(
            lambda enqueue: self.emulator.post_document(
                self.user_id, filename, content, mime_type, caption=caption, enqueue=enqueue
            )
        )

    async def upload_photo(
        self, content: bytes, caption: str | None = None, filename: str = "photo.jpg"
    ) -> dict[str, Any]:
        """Send a picture as a photo."""
        return await self._act(
            lambda enqueue: self.emulator.post_photo(
                self.user_id, filename, content, caption=caption, enqueue=enqueue
            )
        )

    async def inline(
        self, query: str, *, offset: str = "", chat_type: str = "sender"
    ) -> InlineAnswer:
        """Type ``@bot query`` (in the chat with the bot, unless ``chat_type`` says where).

        Returns the query with the bot's answer (its ``results``, ``next_offset``, ``button``);
        without ``deliver``, await :meth:`wait_reply` before reading ``answered``.
        """
        update = await self._act(
            lambda enqueue: self.emulator.post_inline_query(
                self.user_id, query, offset=offset, chat_type=chat_type, enqueue=enqueue
            )
        )
        answer = self.emulator.inline_answer(self.user_id, update["inline_query"]["id"])
        assert answer is not None
        return answer

    async def choose(
        self, result_id: str, *, chat: str | None = None, query_id: str | None = None
    ) -> SharedMessage:
        """Tap the inline result ``result_id`` of the latest answered query: post it "via @bot".

        Into the chat with the bot when the query was typed there and ``chat`` is None (the
        bot receives it), else into the chat called ``chat`` (see
        :meth:`Emulator.choose_inline_result`).
        """
        shared: list[SharedMessage] = []

        def post(enqueue: bool) -> dict[str, Any]:
            message, update = self.emulator.choose_inline_result(
                self.user_id, result_id, query_id=query_id, chat=chat, enqueue=enqueue
            )
            shared.append(message)
            return update or {}

        self._since = self.emulator.activity(self.user_id)
        if self.deliver is None:
            post(True)
        else:
            update = post(False)
            if update:
                await self.deliver(update)
        return shared[0]

    async def open_link(self, url: str) -> dict[str, Any]:
        """Open a ``t.me/<bot>?start=<payload>`` link: the app sends ``/start <payload>``.

        Raises AssertionError for a link that is not a deep link to this bot.
        """
        parts = urlsplit(url)
        bot = str(self.emulator.bot_user["username"])
        path = parts.path.strip("/")
        start = parse_qs(parts.query).get("start", [""])[0]
        if (
            parts.scheme not in ("https", "http")
            or parts.netloc not in ("t.me", "telegram.me")
            or path.casefold() != bot.casefold()
        ):
            raise AssertionError(f"{url!r} is not a link to @{bot}")
        if start and not _START_PAYLOAD.fullmatch(start):
            raise AssertionError(f"{url!r}: Telegram refuses the start parameter {start!r}")
        return await self.send(f"/start {start}" if start else "/start")

    async def wait_reply(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109 - mirrors Emulator.wait_activity
        *,
        actions: int = 1,
    ) -> MessageRecord | None:
        """Wait until the bot did ``actions`` things in this chat since the last action.

        An action is a send, edit, delete or callback answer (a tap answered with a toast and
        an edit is two). Returns the newest bot message; raises TimeoutError describing the
        silence.
        """
        await self.emulator.wait_activity(self.user_id, self._since + actions - 1, timeout)
        return self.last_message

    def block(self) -> None:
        """Block the bot (its next writes answer 403 until this user writes again)."""
        self.emulator.block(self.user_id)

    # --- what the person sees ------------------------------------------------------------

    @property
    def messages(self) -> list[MessageRecord]:
        """Return the bot's visible messages, oldest first."""
        return self.emulator.bot_messages(self.user_id)

    @property
    def last_message(self) -> MessageRecord | None:
        """Return the newest visible bot message."""
        return self.emulator.last_bot_message(self.user_id)

    @property
    def last_text(self) -> str | None:
        """Return the visible text (or caption) of the newest bot message."""
        message = self.last_message
        return message.content if message is not None else None

    @property
    def last_buttons(self) -> list[str]:
        """Return the button labels of the newest bot message, flattened."""
        message = self.last_message
        return self.buttons_of(message) if message is not None else []

    @staticmethod
    def buttons_of(message: MessageRecord) -> list[str]:
        """Return the button labels of ``message``, flattened row by row."""
        return _labels(message.reply_markup)

    @property
    def texts(self) -> list[str]:
        """Return the text or caption of every visible bot message, oldest first."""
        return [message.content for message in self.messages if message.content is not None]

    @property
    def toasts(self) -> list[str]:
        """Return the callback answers shown to this user, oldest first."""
        return self.emulator.toasts(self.user_id)

    @property
    def last_toast(self) -> str | None:
        """Return the newest callback answer text, if any."""
        toasts = self.toasts
        return toasts[-1] if toasts else None


class RemoteUser:
    """One person driving an :class:`~bot.sandbox.server.EmulatorServer` over its control API.

    Reading properties (``last_text`` ...) use the transcript fetched by the last
    :meth:`wait_reply` or :meth:`refresh`, since a property cannot await.
    """

    def __init__(
        self,
        base_url: str,
        user_id: int,
        first_name: str = "Alice",
        language_code: str = "en",
        *,
        client: httpx.AsyncClient | None = None,
        username: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_id = user_id
        self.profile: dict[str, Any] = {
            "id": user_id,
            "first_name": first_name,
            "language_code": language_code,
            "username": username,
        }
        self._client = client or httpx.AsyncClient(timeout=30.0, trust_env=False)
        self._owns_client = client is None
        self._registered = False
        self._since = 0
        self._chat: list[dict[str, Any]] = []
        self._toasts: list[dict[str, Any]] = []

    async def __aenter__(self) -> RemoteUser:
        await self._register()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this user created it."""
        if self._owns_client:
            await self._client.aclose()

    @property
    def _user_url(self) -> str:
        return f"{self.base_url}/sandbox/users/{self.user_id}"

    async def _register(self) -> None:
        if not self._registered:
            response = await self._client.post(f"{self.base_url}/sandbox/users", json=self.profile)
            response.raise_for_status()
            self._registered = True

    async def _act(self, path: str, **kwargs: Any) -> dict[str, Any]:
        await self._register()
        response = await self._client.post(f"{self._user_url}/{path}", **kwargs)
        body: dict[str, Any] = response.json()
        if response.status_code in (404, 409) and path == "tap":
            raise AssertionError(body["error"])
        response.raise_for_status()
        self._since = int(body["activity"])
        update: dict[str, Any] = body["update"]
        return update

    async def send(self, text: str) -> dict[str, Any]:
        """Write ``text`` to the bot; return the Update."""
        return await self._act("messages", json={"text": text})

    async def tap(self, label: str, *, message_id: int | None = None) -> dict[str, Any]:
        """Press the button labelled ``label`` (see :meth:`SimulatedUser.tap`)."""
        return await self._act("tap", json={"label": label, "message_id": message_id})

    async def tap_data(self, callback_data: str, message_id: int) -> dict[str, Any]:
        """Send a callback with arbitrary data from a bot message."""
        return await self._act("callbacks", json={"message_id": message_id, "data": callback_data})

    async def upload(
        self,
        filename: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Send a file (a document) to the bot."""
        data = {"caption": caption} if caption else None
        return await self._act(
            "documents", files={"file": (filename, content, mime_type)}, data=data
        )

    async def inline(
        self,
        query: str,
        *,
        offset: str = "",
        chat_type: str = "sender",
        timeout: float = 10.0,  # noqa: ASYNC109 - mirrors Emulator.wait_activity
    ) -> dict[str, Any]:
        """Type ``@bot query``, wait for the bot's answer, return it (see SimulatedUser)."""
        update = await self._act(
            "inline", json={"query": query, "offset": offset, "chat_type": chat_type}
        )
        await self.wait_reply(timeout)
        response = await self._client.get(
            f"{self._user_url}/inline", params={"query_id": update["inline_query"]["id"]}
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    async def choose(self, result_id: str, *, chat: str | None = None) -> dict[str, Any]:
        """Choose a result of the latest answered inline query; return the shared message."""
        await self._register()
        response = await self._client.post(
            f"{self._user_url}/inline/choose", json={"result_id": result_id, "chat": chat}
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        self._since = int(body["activity"])
        shared: dict[str, Any] = body["shared"]
        return shared

    async def wait_reply(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109 - mirrors Emulator.wait_activity
        *,
        actions: int = 1,
    ) -> dict[str, Any] | None:
        """Wait until the bot did ``actions`` things since the last action (see SimulatedUser).

        Returns its newest message; raises TimeoutError with the emulator's explanation.
        """
        response = await self._client.get(
            f"{self._user_url}/wait",
            params={"since": self._since + actions - 1, "timeout": timeout},
            timeout=timeout + 10.0,
        )
        if response.status_code == 408:
            raise TimeoutError(response.json()["error"])
        response.raise_for_status()
        await self.refresh()
        return self.last_message

    async def refresh(self) -> None:
        """Fetch the current transcript and callback answers."""
        await self._register()
        chat = await self._client.get(f"{self._user_url}/chat")
        chat.raise_for_status()
        self._chat = chat.json()
        toasts = await self._client.get(f"{self._user_url}/toasts")
        toasts.raise_for_status()
        self._toasts = toasts.json()

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Return the bot's visible messages (records as JSON), oldest first."""
        return [m for m in self._chat if m["from_bot"] and not m["deleted"]]

    @property
    def last_message(self) -> dict[str, Any] | None:
        """Return the newest visible bot message."""
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def last_text(self) -> str | None:
        """Return the visible text (or caption) of the newest bot message."""
        message = self.last_message
        if message is None:
            return None
        text: str | None = message["text"] if message["text"] is not None else message["caption"]
        return text

    @property
    def last_buttons(self) -> list[str]:
        """Return the button labels of the newest bot message, flattened."""
        message = self.last_message
        return self.buttons_of(message) if message is not None else []

    @staticmethod
    def buttons_of(message: dict[str, Any]) -> list[str]:
        """Return the button labels of a message record, flattened row by row."""
        return _labels(message.get("reply_markup"))

    @property
    def texts(self) -> list[str]:
        """Return the text or caption of every visible bot message, oldest first."""
        return [
            m["text"] if m["text"] is not None else m["caption"]
            for m in self.messages
            if m["text"] is not None or m["caption"] is not None
        ]

    @property
    def last_toast(self) -> str | None:
        """Return the newest callback answer text, if any."""
        return self._toasts[-1]["text"] if self._toasts else None
