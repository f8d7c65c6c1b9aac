"""The sandbox Bot API: in-memory Telegram state and the semantics of the methods Ortaq uses.

:class:`Emulator` is transport-free. Adapters feed it calls — :mod:`bot.sandbox.request`
in-process for PTB, :mod:`bot.sandbox.server` over HTTP — through :meth:`Emulator.call`,
which answers ``(http_status, telegram_json_body)`` exactly as Telegram would, including
Telegram's own error wording, so the bot's error handling is exercised for real.

Besides the Bot API it offers two test-facing surfaces:

* the *simulation* API — what a person does in the Telegram app (:meth:`Emulator.add_user`,
  :meth:`~Emulator.post_message`, :meth:`~Emulator.post_callback`,
  :meth:`~Emulator.post_document`, :meth:`~Emulator.block`, typing ``@bot query`` with
  :meth:`~Emulator.post_inline_query` and choosing a result with
  :meth:`~Emulator.choose_inline_result`, ...);
* the *observation* API — what that person sees (:meth:`Emulator.chat`,
  :meth:`~Emulator.bot_messages`, :meth:`~Emulator.toasts`, :meth:`~Emulator.activity`,
  :meth:`~Emulator.wait_activity`, the results of an inline query with
  :meth:`~Emulator.inline_answer`, the cards shared with :meth:`~Emulator.shared_messages`).

Only private chats exist (chat id == user id): Ortaq talks to people one to one. An inline
result chosen for "another chat" (a colleague, a group) lands in a chat the bot is not in: the
emulator keeps it as a :class:`SharedMessage` for the test to read and press its URL buttons.
The emulator runs inside one event loop; it is not thread-safe. Every call is O(1) in the size
of the history so benchmarks can push thousands of messages per second through it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import struct
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import Any

from bot.sandbox import markup
from bot.sandbox.faults import (
    ApiError,
    Fault,
    Faults,
    Limits,
    NetworkFault,
    RateLimiter,
)

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Button",
    "Emulator",
    "InlineAnswer",
    "Limits",
    "MessageRecord",
    "NetworkFault",
    "SharedMessage",
    "Stats",
    "StoredFile",
    "UploadedFile",
]

DEFAULT_TOKEN = "100000001:SANDBOX-token"

# Telegram's documented limits (see DESIGN.md "Telegram facts").
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
KEYBOARD_BUTTON_LIMIT = 100
UPLOAD_LIMIT = 50 * 1024 * 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024
INLINE_QUERY_LIMIT = 256  # characters the app sends after "@bot " (it cuts the rest)
INLINE_RESULTS_LIMIT = 50  # results one answerInlineQuery may carry
INLINE_RESULT_ID_LIMIT = 64  # bytes of a result's id
INLINE_OFFSET_LIMIT = 64  # bytes of next_offset

# Telegram's own descriptions, verbatim, so code matching on them behaves as in production.
CHAT_NOT_FOUND = "Bad Request: chat not found"
BLOCKED = "Forbidden: bot was blocked by the user"
NOT_STARTED = "Forbidden: bot can't initiate conversation with a user"
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
INLINE_RESULT_INVALID = "Bad Request: can't parse inline query result: "
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

# Parameters whose form-encoded (string) values must be converted back to their JSON types.
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "reply_to_message_id",
        "message_thread_id",
        "max_connections",
        "duration",
        "width",
        "height",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "reply_parameters",
        "link_preview_options",
        "media",
        "message_ids",
        "results",
        "button",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "disable_content_type_detection",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_caption_above_media",
        "disable_web_page_preview",
        "allow_paid_broadcast",
        "is_personal",
    }
)
# Flood control applies to what lands in a chat, like Telegram's per-chat limits.
_RATE_LIMITED = frozenset(
    {"sendMessage", "sendDocument", "sendPhoto", "sendVideo", "copyMessage", "forwardMessage"}
)
# What each kind of stored file is called in ids, paths and messages.
_FILE_ID_PREFIX = {"photo": "AgACAgIAAxkBAAI", "video": "BAACAgIAAxkBAAI"}
_FILE_FOLDER = {"photo": "photos", "video": "videos"}
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
        "web_app",
    }
)
_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
# Inline query results: the fields each type requires besides `type` and `id` (Bot API);
# a cached result (`*_file_id`) needs fewer than one given by URL.
_INLINE_RESULT_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    # type: alternatives, the first that matches the result's own fields is checked
    "article": (("title", "input_message_content"),),
    "photo": (("photo_file_id",), ("photo_url", "thumbnail_url")),
    "gif": (("gif_file_id",), ("gif_url", "thumbnail_url")),
    "mpeg4_gif": (("mpeg4_file_id",), ("mpeg4_url", "thumbnail_url")),
    "video": (("video_file_id", "title"), ("video_url", "mime_type", "thumbnail_url", "title")),
    "audio": (("audio_file_id",), ("audio_url", "title")),
    "voice": (("voice_file_id", "title"), ("voice_url", "title")),
    "document": (("document_file_id", "title"), ("document_url", "title", "mime_type")),
    "sticker": (("sticker_file_id",),),
    "location": (("latitude", "longitude", "title"),),
    "venue": (("latitude", "longitude", "title", "address"),),
    "contact": (("phone_number", "first_name"),),
    "game": (("game_short_name",),),
}
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?")


@dataclass(slots=True)
class UploadedFile:
    """A file as it arrives in a request: what multipart/form-data carries."""

    content: bytes
    filename: str = "file"
    mime_type: str = "application/octet-stream"


@dataclass(slots=True)
class StoredFile:
    """A file Telegram keeps: reachable by file_id (getFile) and by file_path (download)."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str
    kind: str
    width: int = 0
    height: int = 0
    duration: int = 0

    def document(self) -> dict[str, Any]:
        """Return the Telegram ``Document`` object."""
        document: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
        }
        if self.file_name:
            document["file_name"] = self.file_name
        if self.mime_type:
            document["mime_type"] = self.mime_type
        return document

    def photo(self) -> list[dict[str, Any]]:
        """Return the Telegram ``PhotoSize`` list (one size: the emulator does not resample)."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.content),
                "width": self.width,
                "height": self.height,
            }
        ]

    def video(self) -> dict[str, Any]:
        """Return the Telegram ``Video`` object (size and length as the sender declared)."""
        video: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "width": self.width,
            "height": self.height,
            "duration": self.duration,
        }
        if self.file_name:
            video["file_name"] = self.file_name
        if self.mime_type:
            video["mime_type"] = self.mime_type
        return video

    def file(self) -> dict[str, Any]:
        """Return the Telegram ``File`` object getFile answers."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


@dataclass(slots=True)
class MessageRecord:
    """One message of a chat as the emulator remembers it, the user's or the bot's.

    ``text``/``caption`` hold the *visible* text (markup already parsed, what the person reads);
    ``source`` keeps the string as the bot sent it and ``parse_mode`` how to read it.
    ``entities`` belong to the text, or to the caption of a media message.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    text: str | None = None
    caption: str | None = None
    entities: list[dict[str, Any]] | None = None
    source: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    video: dict[str, Any] | None = None
    protect_content: bool = False
    edited: int = 0
    edit_date: int | None = None
    deleted: bool = False
    reply_to_message_id: int | None = None
    forward_origin: dict[str, Any] | None = None
    via_bot: dict[str, Any] | None = None
    """The bot whose inline result this user's message is ("via @bot")."""

    @property
    def content(self) -> str | None:
        """Return the visible text, or the caption of a media message."""
        return self.text if self.text is not None else self.caption

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """Return the rows of the inline keyboard attached to this message (may be empty)."""
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            rows: list[list[dict[str, Any]]] = self.reply_markup["inline_keyboard"]
            return rows
        return []

    @property
    def buttons(self) -> list[str]:
        """Return the visible labels of this message's keyboard, row by row, flattened."""
        markup_ = self.reply_markup or {}
        rows = markup_.get("inline_keyboard") or markup_.get("keyboard") or []
        return [_button_label(button) for row in rows for button in row]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready copy (the control API's chat transcript)."""
        return asdict(self)


def _button_label(button: Any) -> str:
    # Reply keyboards accept plain strings as buttons, inline keyboards always dicts.
    return button if isinstance(button, str) else str(button.get("text", ""))


@dataclass(frozen=True, slots=True)
class Button:
    """A button found on screen: where it is and what pressing it does."""

    message_id: int | None
    label: str
    kind: str
    """``callback`` (sends callback_data), ``url``, ``reply`` (sends its label), or the
    name of another inline action (``web_app``, ``switch_inline_query``, ...)."""
    data: str | None = None


@dataclass(slots=True)
class InlineAnswer:
    """An inline query a user typed and what the bot answered to it (None until it does)."""

    query_id: str
    user_id: int
    query: str
    offset: str
    chat_type: str
    answered: bool = False
    results: list[dict[str, Any]] = field(default_factory=list)
    cache_time: int | None = None
    is_personal: bool = False
    next_offset: str = ""
    button: dict[str, Any] | None = None

    def result(self, result_id: str) -> dict[str, Any]:
        """Return the result with this id; raise LookupError naming the ids there are."""
        for result in self.results:
            if result.get("id") == result_id:
                return result
        ids = [result.get("id") for result in self.results]
        raise LookupError(f"no inline result {result_id!r} in the answer; results: {ids}")

    @property
    def titles(self) -> list[str]:
        """Return the titles of the results, in the order the app lists them."""
        return [str(result.get("title", "")) for result in self.results]


@dataclass(slots=True)
class SharedMessage:
    """An inline result a user posted into a chat the bot is not in ("via @bot").

    ``record`` is the message as the people of that chat see it (its text, entities and
    keyboard: only URL and other non-callback buttons make sense there, and those are what a
    test presses).
    """

    sender_id: int
    chat: str
    query: str
    result_id: str
    record: MessageRecord
    inline_message_id: str | None = None


@dataclass
class Stats:
    """What the bot did to the emulator, for assertions and benchmark figures."""

    calls: Counter[str] = field(default_factory=Counter)
    # Calls of each method that carried a file in the request body (multipart uploads).
    uploads: Counter[str] = field(default_factory=Counter)
    errors: Counter[int] = field(default_factory=Counter)
    too_many_requests: int = 0
    rate_limited: int = 0
    sent_messages: int = 0
    faults_fired: Counter[str] = field(default_factory=Counter)
    send_times: dict[int, list[float]] = field(default_factory=dict)
    all_send_times: list[float] = field(default_factory=list)

    def record_send(self, chat_id: int, now: float) -> None:
        """Count one message landing in ``chat_id`` at clock time ``now``."""
        self.sent_messages += 1
        self.all_send_times.append(now)
        times = self.send_times.get(chat_id)
        if times is None:
            self.send_times[chat_id] = [now]
        else:
            times.append(now)

    def peak_rate(self, chat_id: int | None = None, window: float = 1.0) -> int:
        """Return the most sends seen within any ``window`` seconds (one chat, or overall)."""
        times = self.all_send_times if chat_id is None else self.send_times.get(chat_id, [])
        best, start = 0, 0
        # Send times are appended in clock order, so a sliding window is linear.
        for end, stamp in enumerate(times):
            while stamp - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary (no per-send timestamps)."""
        return {
            "calls": dict(self.calls),
            "uploads": dict(self.uploads),
            "errors": {str(code): count for code, count in self.errors.items()},
            "too_many_requests": self.too_many_requests,
            "rate_limited": self.rate_limited,
            "sent_messages": self.sent_messages,
            "faults_fired": dict(self.faults_fired),
            "peak_rate": self.peak_rate(),
        }


class _Signal:
    """Wake every current waiter at once; waiters re-check their own condition.

    Futures (one per waiter, created in the waiter's running loop) rather than an
    ``asyncio.Event``: ``notify`` is synchronous so the simulation API can stay plain
    functions, and nothing is bound to a loop that a previous test closed.
    """

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        if self._waiters:
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._waiters.clear()

    async def wait(self, seconds: float) -> bool:
        """Wait for the next notify, at most ``seconds``; tell whether it came."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            async with asyncio.timeout(seconds):
                await waiter
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
        return True


class _Chat:
    """A private chat: the user, the history, and what the user did to the bot."""

    __slots__ = (
        "activity",
        "blocked",
        "callback_answers",
        "chat_dict",
        "chat_instance",
        "deleted",
        "id",
        "last_action",
        "messages",
        "next_message_id",
        "reply_keyboard",
        "signal",
        "started",
        "user",
    )

    def __init__(self, user: dict[str, Any], chat_instance: str, started: bool) -> None:
        self.id: int = user["id"]
        self.user = user
        self.chat_dict = _chat_dict(user)
        self.chat_instance = chat_instance
        self.messages: dict[int, MessageRecord] = {}
        self.next_message_id = 1
        self.blocked = False
        self.deleted = False
        self.started = started
        self.activity = 0
        self.signal = _Signal()
        self.callback_answers: list[dict[str, Any]] = []
        self.reply_keyboard: dict[str, Any] | None = None
        self.last_action: str | None = None


def _chat_dict(user: dict[str, Any]) -> dict[str, Any]:
    chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    for key in ("last_name", "username"):
        if user.get(key):
            chat[key] = user[key]
    return chat


@dataclass(slots=True)
class _CallbackQuery:
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


def _image_size(content: bytes) -> tuple[int, int]:
    """Read width and height from a PNG, GIF or JPEG header; a plausible default otherwise."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    if content[:4] == b"GIF8" and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return int(width), int(height)
    if content.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(content) and content[i] == 0xFF:
            marker = content[i + 1]
            (length,) = struct.unpack(">H", content[i + 2 : i + 4])
            # SOFn markers carry the frame size; C4/C8/CC share the range but are not frames.
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", content[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
    return 512, 512


def _to_int(name: str, value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        if name == "chat_id":
            # "@channelusername" is a valid chat_id form; it just names no private chat.
            return value
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def _coerce(params: dict[str, Any]) -> dict[str, Any]:
    """Bring form-encoded strings back to the JSON types in-process calls already have."""
    out: dict[str, Any] = {}
    for name, raw in params.items():
        if raw is None:
            continue
        value = raw
        if isinstance(raw, str):
            if name in _INT_PARAMS:
                value = _to_int(name, raw)
            elif name in _JSON_PARAMS:
                try:
                    value = json.loads(raw)
                except ValueError:
                    raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
            elif name in _BOOL_PARAMS:
                value = raw.lower() in ("true", "1")
        out[name] = value
    return out


def _inline_only(reply_markup: dict[str, Any] | None) -> dict[str, Any] | None:
    # Only inline keyboards belong to a message; an empty one is no keyboard at all.
    if reply_markup and reply_markup.get("inline_keyboard"):
        return reply_markup
    return None


Handler = Callable[[dict[str, Any], dict[str, UploadedFile]], Any]


class Emulator:
    """An in-memory Telegram Bot API for one bot, with simulated users."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "ortaq_bot",
        bot_first_name: str = "Ortaq",
        *,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        inline: bool = True,
        inline_feedback: bool = False,
        first_update_id: int | None = None,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":")[0])
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.clock = clock
        self.faults = Faults()
        self.latency = 0.0
        """Seconds every call waits before being answered (a slow network)."""
        self.stats = Stats()
        self.users: dict[int, dict[str, Any]] = {}
        self.webhook: dict[str, Any] = {"url": ""}
        self.webhook_error: tuple[int, str] | None = None
        """(unix time, message) of the last failed webhook delivery, as getWebhookInfo says."""
        self.bot_texts: dict[tuple[str, str], str] = {}
        """setMyDescription / setMyShortDescription / setMyName per (kind, language_code)."""
        self.pollers = 0
        """How many getUpdates long polls are waiting right now."""
        self.inline = inline
        """Inline mode is on (BotFather /setinline): people may type ``@bot query``."""
        self.inline_feedback = inline_feedback
        """BotFather /setinlinefeedback: a chosen result is reported (chosen_inline_result)."""
        self._limits: Limits | None = None
        self._limiter: RateLimiter | None = None
        self.limits = limits
        self._chats: dict[int, _Chat] = {}
        self._updates: deque[dict[str, Any]] = deque()
        # The bot records the update ids it handled (bot.replicas), so a new emulator must not
        # number from 1 again: a sandbox run on yesterday's database would be ignored. Like
        # Telegram's, the ids only grow; microseconds since the epoch start each emulator
        # past every id an earlier one gave (unless it gave a million a second).
        self._update_ids = itertools.count(
            time.time_ns() // 1000 if first_update_id is None else first_update_id
        )
        self._allowed_updates: frozenset[str] | None = None
        self._updates_signal = _Signal()
        self._poll_signal = _Signal()
        self._files: dict[str, StoredFile] = {}
        self._paths: dict[str, StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._web: dict[str, UploadedFile] = {}
        self._callbacks: dict[str, _CallbackQuery] = {}
        self._callback_numbers = itertools.count(4_000_000_000_001)
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._inline_queries: dict[str, InlineAnswer] = {}
        self._inline_numbers = itertools.count(7_000_000_000_001)
        self._inline_message_numbers = itertools.count(1)
        self._shared: list[SharedMessage] = []
        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "logOut": self._true,
            "close": self._true,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendVideo": self._send_video,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "getChat": self._get_chat,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "setMyDescription": self._bot_text_setter("description"),
            "setMyShortDescription": self._bot_text_setter("short_description"),
            "setMyName": self._bot_text_setter("name"),
            "getMyDescription": self._bot_text_getter("description"),
            "getMyShortDescription": self._bot_text_getter("short_description"),
            "getMyName": self._bot_text_getter("name"),
        }
        # Telegram matches method names case-insensitively.
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # --- configuration -------------------------------------------------------------------

    @property
    def limits(self) -> Limits | None:
        """Flood limits enforced on sends (None: unlimited, the default)."""
        return self._limits

    @limits.setter
    def limits(self, limits: Limits | None) -> None:
        self._limits = limits
        has_limit = limits and (limits.global_per_second or limits.per_chat_per_second)
        self._limiter = RateLimiter(limits, self.clock) if limits and has_limit else None

    def reset_stats(self) -> None:
        """Start counting afresh (between benchmark phases, say)."""
        self.stats = Stats()

    def serve_url(
        self,
        url: str,
        content: bytes,
        filename: str = "file",
        mime_type: str = "application/octet-stream",
    ) -> None:
        """Let media sent by ``url`` fetch ``content``, as Telegram fetches a public URL.

        The sandbox never leaves the machine: a URL not served here answers Telegram's
        "failed to get HTTP URL content".
        """
        self._web[url] = UploadedFile(bytes(content), filename, mime_type)

    @property
    def methods(self) -> list[str]:
        """Return the Bot API methods the emulator implements."""
        return [name for name, _ in self._methods.values()]

    # --- the Bot API entry point ---------------------------------------------------------

    async def call(
        self,
        token: str,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API request: ``(http_status, body)`` as Telegram would.

        Raises :class:`NetworkFault` when an injected ``network`` fault fires; adapters turn
        that into a connection failure.
        """
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            entry = self._methods.get(method.lower())
            if entry is None:
                raise ApiError(404, "Not Found")
            name, handler = entry
            self.stats.calls[name] += 1
            if files:
                self.stats.uploads[name] += 1
            args = _coerce(params) if params else {}
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            if self.faults.pending:
                fault = self.faults.take(name, args.get("chat_id"))
                if fault is not None:
                    await self._fire(fault, name)
            if self._limiter is not None and name in _RATE_LIMITED:
                try:
                    self._limiter.check(args.get("chat_id"))
                except ApiError:
                    self.stats.rate_limited += 1
                    raise
            result = handler(args, files or {})
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            self.stats.errors[error.status] += 1
            if error.status == 429:
                self.stats.too_many_requests += 1
            return error.status, error.body()
        return 200, {"ok": True, "result": result}

    async def _fire(self, fault: Fault, method: str) -> None:
        self.stats.faults_fired[fault.kind] += 1
        if fault.kind == "latency":
            await asyncio.sleep(fault.delay)
        elif fault.kind == "network":
            raise NetworkFault(f"sandbox: injected network failure on {method}")
        else:
            raise fault.error()

    # --- simulation API: what people do in the Telegram app ------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
        started: bool = True,
    ) -> dict[str, Any]:
        """Create (or update) a person and their private chat with the bot; return the User.

        ``started=False`` models someone who never pressed Start: the bot cannot write to them
        (403) until they send a message, as in Telegram.
        """
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        chat = self._chats.get(user_id)
        if chat is None:
            instance = f"{self.bot_id:x}{user_id:x}"
            self._chats[user_id] = _Chat(user, instance, started)
        else:
            chat.user = user
            chat.chat_dict = _chat_dict(user)
        return user

    def post_message(self, user_id: int, text: str, *, enqueue: bool = True) -> dict[str, Any]:
        """Let the user send ``text``; return the Update (also queued for getUpdates if asked).

        Writing to the bot restarts it for a user who had blocked it or deleted the chat.
        """
        chat = self._revive(user_id)
        entities = None
        command = _LEADING_COMMAND.match(text)
        if command:
            length = markup.utf16_len(command.group())
            entities = [{"type": "bot_command", "offset": 0, "length": length}]
        record = self._add_user_message(chat, text=text, entities=entities)
        return self._emit("message", self._message_dict(chat, record), enqueue)

    def post_callback(
        self, user_id: int, message_id: int, data: str, *, enqueue: bool = True
    ) -> dict[str, Any]:
        """Let the user press a button carrying ``data`` under bot message ``message_id``.

        ``data`` is not checked against the keyboard, so tests can forge or replay presses.
        """
        chat = self._user_chat(user_id)
        record = chat.messages.get(message_id)
        if record is None or record.deleted or not record.from_bot:
            raise LookupError(f"chat {user_id} has no bot message {message_id} to press on")
        query_id = str(next(self._callback_numbers))
        self._callbacks[query_id] = _CallbackQuery(chat.id, message_id, data)
        query = {
            "id": query_id,
            "from": chat.user,
            "message": self._message_dict(chat, record),
            "chat_instance": chat.chat_instance,
            "data": data,
        }
        return self._emit("callback_query", query, enqueue)

    def post_document(
        self,
        user_id: int,
        filename: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        *,
        caption: str | None = None,
        enqueue: bool = True,
    ) -> dict[str, Any]:
        """Let the user send a file; it is stored so getFile and the download work."""
        chat = self._revive(user_id)
        stored = self._store_file(content, filename, mime_type, "document")
        record = self._add_user_message(chat, document=stored.document(), caption=caption)
        return self._emit("message", self._message_dict(chat, record), enqueue)

    def post_photo(
        self,
        user_id: int,
        filename: str,
        content: bytes,
        mime_type: str = "image/jpeg",
        *,
        caption: str | None = None,
        enqueue: bool = True,
    ) -> dict[str, Any]:
        """Let the user send a picture (as a photo, not a file)."""
        chat = self._revive(user_id)
        stored = self._store_file(content, filename, mime_type, "photo")
        record = self._add_user_message(chat, photo=stored.photo(), caption=caption)
        return self._emit("message", self._message_dict(chat, record), enqueue)

    def post_inline_query(
        self,
        user_id: int,
        query: str,
        *,
        offset: str = "",
        chat_type: str = "sender",
        enqueue: bool = True,
    ) -> dict[str, Any]:
        """Let the user type ``@bot query`` in a chat; return the ``inline_query`` Update.

        As the Telegram app does, the query is cut to 256 characters, and it may come from
        someone who never started the bot or who blocked it (inline mode needs neither).
        ``chat_type`` is where it is typed: ``sender`` (the chat with the bot itself),
        ``private``, ``group``, ``supergroup`` or ``channel``. ``offset`` asks for the next
        page (the ``next_offset`` of an earlier answer). Raises LookupError when inline mode
        is off (``inline=False``: BotFather /setinline was never sent).
        """
        if not self.inline:
            raise LookupError("inline mode is off for this bot: BotFather /setinline turns it on")
        if chat_type not in ("sender", "private", "group", "supergroup", "channel"):
            raise ValueError(f"bad chat_type {chat_type!r}")
        chat = self._user_chat(user_id)
        query_id = str(next(self._inline_numbers))
        text = query[:INLINE_QUERY_LIMIT]
        self._inline_queries[query_id] = InlineAnswer(query_id, chat.id, text, offset, chat_type)
        payload = {
            "id": query_id,
            "from": chat.user,
            "query": text,
            "offset": offset,
            "chat_type": chat_type,
        }
        return self._emit("inline_query", payload, enqueue)

    def choose_inline_result(
        self,
        user_id: int,
        result_id: str,
        *,
        query_id: str | None = None,
        chat: str | None = None,
        enqueue: bool = True,
    ) -> tuple[SharedMessage, dict[str, Any] | None]:
        """Let the user tap a result of their (latest, or ``query_id``) answered inline query.

        The result's message is posted "via @bot" from the user: into their chat with the bot
        when ``chat`` is None and the query was typed there (``chat_type`` ``sender``; the bot
        then receives it as a message), else into the chat named ``chat`` (a colleague, a
        group: the bot is not in it, the message is kept for :meth:`shared_messages`). Returns
        the shared message and the Update the bot receives (a ``message`` in its own chat, a
        ``chosen_inline_result`` when inline feedback is on, else None). Articles and cached
        documents and photos are posted; other kinds raise LookupError.
        """
        answer = self._answered_query(user_id, query_id)
        result = answer.result(result_id)
        source = self._user_chat(user_id)
        fields = self._inline_message_fields(result)
        in_bot_chat = chat is None and answer.chat_type == "sender"
        inline_message_id: str | None = None
        if result.get("reply_markup") and not in_bot_chat:
            inline_message_id = f"AgAAAsbx{next(self._inline_message_numbers):08d}"
        if in_bot_chat:
            record = self._add_user_message(self._revive(user_id), via_bot=self.bot_user, **fields)
        else:
            record = MessageRecord(0, 0, False, int(time.time()), via_bot=self.bot_user, **fields)
        shared = SharedMessage(
            user_id, chat or "bot", answer.query, result_id, record, inline_message_id
        )
        self._shared.append(shared)
        update: dict[str, Any] | None = None
        if in_bot_chat:
            update = self._emit("message", self._message_dict(source, record), enqueue)
        elif self.inline_feedback:
            chosen: dict[str, Any] = {
                "result_id": result_id,
                "from": source.user,
                "query": answer.query,
            }
            if inline_message_id is not None:
                chosen["inline_message_id"] = inline_message_id
            update = self._emit("chosen_inline_result", chosen, enqueue)
        return shared, update

    def block(self, user_id: int) -> None:
        """The user blocks the bot: every write to them answers 403."""
        self._user_chat(user_id).blocked = True

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot (without writing to it)."""
        self._user_chat(user_id).blocked = False

    def delete_chat(self, user_id: int) -> None:
        """The user deletes the chat: writes answer "chat not found" until they write again."""
        self._user_chat(user_id).deleted = True

    # --- observation API: what people see ------------------------------------------------

    def chat(self, user_id: int) -> list[MessageRecord]:
        """Return the whole history of the chat, both sides, deleted messages included."""
        return list(self._user_chat(user_id).messages.values())

    def bot_messages(self, user_id: int) -> list[MessageRecord]:
        """Return the bot's messages the user can still see, oldest first."""
        return [
            record
            for record in self._user_chat(user_id).messages.values()
            if record.from_bot and not record.deleted
        ]

    def last_bot_message(self, user_id: int) -> MessageRecord | None:
        """Return the newest visible bot message, if any."""
        for record in reversed(self._user_chat(user_id).messages.values()):
            if record.from_bot and not record.deleted:
                return record
        return None

    def toasts(self, user_id: int) -> list[str]:
        """Return the texts of every callback answer in the chat ("" when none was given)."""
        return [answer["text"] for answer in self._user_chat(user_id).callback_answers]

    def callback_answers(self, user_id: int) -> list[dict[str, Any]]:
        """Return every answerCallbackQuery in the chat: text, show_alert, url, message_id."""
        return list(self._user_chat(user_id).callback_answers)

    def inline_answer(self, user_id: int, query_id: str | None = None) -> InlineAnswer | None:
        """Return the user's latest inline query (or ``query_id``) with the bot's answer.

        None when the user typed none; ``answered`` tells whether the bot answered it.
        """
        if query_id is not None:
            found = self._inline_queries.get(query_id)
            return found if found is not None and found.user_id == user_id else None
        for answer in reversed(self._inline_queries.values()):
            if answer.user_id == user_id:
                return answer
        return None

    def shared_messages(self, user_id: int | None = None) -> list[SharedMessage]:
        """Return the inline results posted (by ``user_id``, or by anyone), oldest first."""
        return [s for s in self._shared if user_id is None or s.sender_id == user_id]

    def activity(self, user_id: int) -> int:
        """Return a counter bumped by each bot send, edit, delete and callback answer here."""
        return self._user_chat(user_id).activity

    def last_chat_action(self, user_id: int) -> str | None:
        """Return the last sendChatAction ("typing", ...) in the chat."""
        return self._user_chat(user_id).last_action

    def is_blocked(self, user_id: int) -> bool:
        """Tell whether the user currently blocks the bot."""
        return self._user_chat(user_id).blocked

    async def wait_activity(
        self,
        user_id: int,
        since: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented contract takes a timeout
    ) -> int:
        """Wait until :meth:`activity` exceeds ``since``; return the new value.

        Raises :class:`TimeoutError` explaining what was (not) seen.
        """
        chat = self._user_chat(user_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while chat.activity <= since:
            remaining = deadline - loop.time()
            if remaining <= 0 or not await chat.signal.wait(remaining):
                if chat.activity > since:
                    break
                raise TimeoutError(self._stall_report(chat, since, timeout))
        return chat.activity

    async def wait_polling(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - as above
        """Wait until some getUpdates long poll is waiting (the bot is up and listening)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.pollers == 0:
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self._poll_signal.wait(remaining):
                if self.pollers:
                    break
                raise TimeoutError(f"no getUpdates long poll started within {timeout:g}s")

    async def wait_webhook(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - as above
        """Wait until a webhook is set (a bot in webhook mode is up and listening)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.webhook["url"]:
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self._poll_signal.wait(remaining):
                if self.webhook["url"]:
                    break
                raise TimeoutError(f"no setWebhook within {timeout:g}s")

    def _stall_report(self, chat: _Chat, since: int, timeout: float) -> str:
        last = self.last_bot_message(chat.id)
        queued = sum(1 for update in self._updates if _update_chat_id(update) == chat.id)
        hint = (
            f"; {queued} update(s) for this user are still queued — is the bot polling?"
            if queued
            else ""
        )
        shown = repr(last.content) if last is not None else "none"
        return (
            f"the bot did nothing in chat {chat.id} within {timeout:g}s "
            f"(activity stayed at {chat.activity}, expected > {since}){hint}; "
            f"last bot message: {shown}"
        )

    def find_button(self, user_id: int, label: str, *, message_id: int | None = None) -> Button:
        """Find a button the user can see, by its exact label or a unique part of it.

        Looks where a person looks: bot messages from the newest up (or only ``message_id``),
        taking on each the button labelled exactly ``label``, else the only one whose label
        contains it case-insensitively; the reply keyboard under the input field counts as
        newest for exact labels and as oldest for partial ones. The scan stops at the first
        message that matches, so a long history costs nothing. Raises :class:`LookupError`
        naming the visible buttons.
        """
        chat = self._user_chat(user_id)
        needle = label.casefold()
        reply_labels: list[str] = []
        if message_id is not None:
            record = chat.messages.get(message_id)
            if record is None or record.deleted or not record.from_bot:
                raise LookupError(f"chat {user_id} has no bot message {message_id}")
            candidates: Iterable[MessageRecord] = (record,)
        else:
            candidates = reversed(chat.messages.values())
            if chat.reply_keyboard:
                rows = chat.reply_keyboard["keyboard"]
                reply_labels = [_button_label(button) for row in rows for button in row]
                if label in reply_labels:
                    return Button(None, label, "reply")
        for record in candidates:
            if not record.from_bot or record.deleted or not record.inline_keyboard:
                continue
            buttons = [button for row in record.inline_keyboard for button in row]
            for button in buttons:
                if button.get("text") == label:
                    return _inline_button(record.message_id, button)
            found = [b for b in buttons if needle in str(b.get("text", "")).casefold()]
            if len(found) > 1:
                labels = [button["text"] for button in found]
                raise LookupError(
                    f"{label!r} matches several buttons on message {record.message_id}: {labels}"
                )
            if found:
                return _inline_button(record.message_id, found[0])
        found_reply = [text for text in reply_labels if needle in text.casefold()]
        if len(found_reply) == 1:
            return Button(None, found_reply[0], "reply")
        visible = self.visible_buttons(user_id)
        raise LookupError(f"no button {label!r} in chat {user_id}; visible buttons: {visible}")

    def visible_buttons(self, user_id: int) -> list[str]:
        """Return the labels of the newest inline keyboard plus the reply keyboard."""
        chat = self._user_chat(user_id)
        labels: list[str] = []
        for record in reversed(chat.messages.values()):
            if record.from_bot and not record.deleted and record.inline_keyboard:
                labels = record.buttons
                break
        if chat.reply_keyboard:
            labels += [_button_label(b) for row in chat.reply_keyboard["keyboard"] for b in row]
        return labels

    def commands(self, scope: str = "default", language_code: str = "") -> list[dict[str, str]]:
        """Return the commands set for exactly this scope key and language."""
        return list(self._commands.get((scope, language_code), []))

    def menu_commands(self, user_id: int) -> list[dict[str, str]]:
        """Return the command menu the user's app shows, resolved in Telegram's order."""
        language = self._user_chat(user_id).user.get("language_code") or ""
        for scope in (f"chat:{user_id}", "all_private_chats", "default"):
            for code in (language, ""):
                commands = self._commands.get((scope, code))
                if commands:
                    return list(commands)
        return []

    def download(self, file_path: str) -> bytes | None:
        """Return the content behind a getFile ``file_path``, or None if unknown."""
        stored = self._paths.get(file_path)
        return stored.content if stored is not None else None

    @property
    def pending_updates(self) -> int:
        """Return how many updates wait for getUpdates (or for a webhook delivery)."""
        return len(self._updates)

    def take_update(self, busy: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """Remove and return the oldest queued update that is not ``busy`` (webhook).

        A webhook delivery (:mod:`bot.sandbox.webhook`) takes updates here rather than through
        getUpdates; skipping a busy chat keeps each chat's updates in order while other chats'
        updates are delivered at once, as Telegram does.
        """
        for index, update in enumerate(self._updates):
            if not busy(update):
                del self._updates[index]
                return update
        return None

    def queued_for(self, chat_id: int) -> int:
        """Return how many queued updates come from the chat ``chat_id``."""
        return sum(1 for update in self._updates if _update_chat_id(update) == chat_id)

    def requeue(self, update: dict[str, Any]) -> None:
        """Put an update taken with :meth:`take_update` back at the front (not delivered)."""
        self._updates.appendleft(update)
        self._updates_signal.notify()

    async def wait_updates(self, seconds: float) -> bool:
        """Wait for a new update, a setWebhook or :meth:`wake_updates`, at most ``seconds``."""
        return await self._updates_signal.wait(seconds)

    def wake_updates(self) -> None:
        """Wake whoever waits in :meth:`wait_updates` (a chat became free)."""
        self._updates_signal.notify()

    # --- internals: chats, messages, updates ---------------------------------------------

    def _user_chat(self, user_id: int) -> _Chat:
        chat = self._chats.get(user_id)
        if chat is None:
            raise LookupError(f"unknown user {user_id}: call add_user() first")
        return chat

    def _revive(self, user_id: int) -> _Chat:
        # In Telegram, writing to a bot (re)starts it: unblocks and restores a deleted chat.
        chat = self._user_chat(user_id)
        chat.blocked = False
        chat.deleted = False
        chat.started = True
        return chat

    def _touch(self, chat: _Chat) -> None:
        chat.activity += 1
        chat.signal.notify()

    def _add_user_message(self, chat: _Chat, **fields: Any) -> MessageRecord:
        record = MessageRecord(chat.next_message_id, chat.id, False, int(time.time()), **fields)
        chat.next_message_id += 1
        chat.messages[record.message_id] = record
        return record

    def _add_bot_message(self, chat: _Chat, **fields: Any) -> MessageRecord:
        record = MessageRecord(chat.next_message_id, chat.id, True, int(time.time()), **fields)
        chat.next_message_id += 1
        chat.messages[record.message_id] = record
        keyboard = record.reply_markup
        if keyboard is not None:
            if "keyboard" in keyboard:
                chat.reply_keyboard = keyboard
            elif keyboard.get("remove_keyboard"):
                chat.reply_keyboard = None
        self.stats.record_send(chat.id, self.clock())
        self._touch(chat)
        return record

    def _emit(self, kind: str, payload: dict[str, Any], enqueue: bool) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        allowed = self._allowed_updates
        if enqueue and (allowed is None or kind in allowed):
            self._updates.append(update)
            self._updates_signal.notify()
        return update

    def _message_dict(
        self, chat: _Chat, record: MessageRecord, *, nested: bool = False
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": record.message_id,
            "from": self.bot_user if record.from_bot else chat.user,
            "chat": chat.chat_dict,
            "date": record.date,
        }
        if record.edit_date is not None:
            message["edit_date"] = record.edit_date
        if record.forward_origin is not None:
            message["forward_origin"] = record.forward_origin
        if record.via_bot is not None:
            message["via_bot"] = record.via_bot
        if record.text is not None:
            message["text"] = record.text
            if record.entities:
                message["entities"] = record.entities
        if record.document is not None:
            message["document"] = record.document
        if record.photo is not None:
            message["photo"] = record.photo
        if record.video is not None:
            message["video"] = record.video
        if record.caption is not None:
            message["caption"] = record.caption
            if record.entities:
                message["caption_entities"] = record.entities
        inline = _inline_only(record.reply_markup)
        if inline is not None:
            message["reply_markup"] = inline
        if record.protect_content:
            message["has_protected_content"] = True
        if record.reply_to_message_id is not None and not nested:
            replied = chat.messages.get(record.reply_to_message_id)
            if replied is not None and not replied.deleted:
                message["reply_to_message"] = self._message_dict(chat, replied, nested=True)
        return message

    # --- internals: validation -----------------------------------------------------------

    def _target_chat(self, params: dict[str, Any], *, write: bool = True) -> _Chat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None or chat.deleted:
            raise ApiError(400, CHAT_NOT_FOUND)
        if write:
            if chat.blocked:
                raise ApiError(403, BLOCKED)
            if not chat.started:
                raise ApiError(403, NOT_STARTED)
        return chat

    def _format(
        self, raw: Any, parse_mode: Any, entities: Any
    ) -> tuple[str, list[dict[str, Any]] | None]:
        text = raw if isinstance(raw, str) else str(raw)
        if entities is not None:
            # Explicit entities win over parse_mode, as in the Bot API.
            if not isinstance(entities, list):
                raise ApiError(400, "Bad Request: can't parse entities JSON object")
            return text, entities or None
        if parse_mode:
            try:
                plain, parsed = markup.parse(text, str(parse_mode))
            except markup.MarkupError as error:
                raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None
            except ValueError:
                raise ApiError(400, "Bad Request: unsupported parse_mode") from None
            return plain, parsed or None
        return text, None

    def _text(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None, str]:
        raw = params.get("text")
        if raw is None or raw == "":
            raise ApiError(400, TEXT_EMPTY)
        plain, entities = self._format(raw, params.get("parse_mode"), params.get("entities"))
        if not plain.strip():
            raise ApiError(400, TEXT_EMPTY)
        if len(plain) > TEXT_LIMIT:
            raise ApiError(400, TEXT_TOO_LONG)
        return plain, entities, str(raw)

    def _caption(
        self, params: dict[str, Any]
    ) -> tuple[str | None, list[dict[str, Any]] | None, str | None]:
        raw = params.get("caption")
        if raw is None or raw == "":
            return None, None, None
        plain, entities = self._format(
            raw, params.get("parse_mode"), params.get("caption_entities")
        )
        if len(plain) > CAPTION_LIMIT:
            raise ApiError(400, CAPTION_TOO_LONG)
        return plain or None, entities, str(raw)

    def _markup(self, value: Any, *, inline: bool = False) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in value:
            rows = value["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: Field \"inline_"
                    'keyboard" must be an Array of Arrays',
                )
            count = 0
            for row in rows:
                for button in row:
                    count += 1
                    _check_inline_button(button)
            if count > KEYBOARD_BUTTON_LIMIT:
                raise ApiError(400, "Bad Request: reply markup is too long")
            return value
        if inline:
            raise ApiError(400, "Bad Request: inline keyboard expected")
        if "keyboard" in value or "remove_keyboard" in value or "force_reply" in value:
            return value
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")

    def _reply_to(self, chat: _Chat, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        allow = bool(params.get("allow_sending_without_reply"))
        message_id = params.get("reply_to_message_id")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply", allow))
        if message_id is None:
            return None
        replied = chat.messages.get(int(message_id))
        if replied is None or replied.deleted:
            if allow:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return replied.message_id

    def _edit_target(self, params: dict[str, Any]) -> tuple[_Chat, MessageRecord]:
        if params.get("inline_message_id") is not None:
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._target_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        record = chat.messages.get(message_id)
        if record is None or record.deleted:
            raise ApiError(400, EDIT_NOT_FOUND)
        if not record.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, record

    def _edited(self, chat: _Chat, record: MessageRecord) -> dict[str, Any]:
        record.edited += 1
        record.edit_date = int(time.time())
        self._touch(chat)
        return self._message_dict(chat, record)

    # --- internals: inline mode ----------------------------------------------------------

    def _answered_query(self, user_id: int, query_id: str | None) -> InlineAnswer:
        answer = self.inline_answer(user_id, query_id)
        if answer is None:
            raise LookupError(f"user {user_id} typed no inline query {query_id or ''}".rstrip())
        if not answer.answered:
            raise LookupError(f"the bot did not answer the inline query {answer.query!r}")
        return answer

    def _inline_message_fields(self, result: dict[str, Any]) -> dict[str, Any]:
        """The message a chosen result posts: its text (or cached file) and its keyboard."""
        kind = result.get("type")
        fields: dict[str, Any] = {"reply_markup": _inline_only(result.get("reply_markup"))}
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            text, entities = self._format(
                content["message_text"], content.get("parse_mode"), content.get("entities")
            )
            fields.update(
                text=text,
                entities=entities,
                source=str(content["message_text"]),
                parse_mode=content.get("parse_mode"),
            )
            return fields
        if kind in ("document", "photo") and f"{kind}_file_id" in result:
            stored = self._files.get(str(result[f"{kind}_file_id"]))
            if stored is None:
                raise LookupError(f"unknown {kind}_file_id in inline result {result.get('id')}")
            caption, entities = None, None
            if result.get("caption"):
                caption, entities = self._format(
                    result["caption"], result.get("parse_mode"), result.get("caption_entities")
                )
            fields.update(caption=caption, entities=entities)
            if kind == "photo":
                fields["photo"] = stored.photo()
            else:
                fields["document"] = stored.document()
            return fields
        raise LookupError(
            f"the emulator posts articles and cached documents and photos, not {kind!r} results"
        )

    def _check_inline_result(self, result: Any, seen: set[str]) -> None:
        """Refuse a result as Telegram does: its type, id and the fields that type requires."""
        if not isinstance(result, dict):
            raise ApiError(400, INLINE_RESULT_INVALID + "InlineQueryResult must be an Object")
        kind = result.get("type")
        if not isinstance(kind, str) or kind not in _INLINE_RESULT_FIELDS:
            raise ApiError(
                400,
                INLINE_RESULT_INVALID + f'type "{kind or ""}" is unsupported for the inline '
                "query result",
            )
        result_id = result.get("id")
        if not isinstance(result_id, str):
            raise ApiError(400, INLINE_RESULT_INVALID + 'Can\'t find field "id"')
        if not 1 <= len(result_id.encode()) <= INLINE_RESULT_ID_LIMIT:
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        if result_id in seen:
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        seen.add(result_id)
        alternatives = _INLINE_RESULT_FIELDS[kind]
        # A cached result is told apart by its *_file_id; the last form is the one by URL.
        required = next((a for a in alternatives if a[0] in result), alternatives[-1])
        for name in required:
            value = result.get(name)
            if value is None or (isinstance(value, str) and not value):
                raise ApiError(400, INLINE_RESULT_INVALID + f'Can\'t find field "{name}"')
        content = result.get("input_message_content")
        if content is not None:
            self._check_input_content(content)
        if result.get("reply_markup") is not None:
            self._markup(result["reply_markup"], inline=True)
        if result.get("caption"):
            plain, _ = self._inline_format(
                result["caption"], result.get("parse_mode"), result.get("caption_entities")
            )
            if len(plain) > CAPTION_LIMIT:
                raise ApiError(400, "Bad Request: MEDIA_CAPTION_TOO_LONG")

    def _inline_format(
        self, raw: Any, parse_mode: Any, entities: Any
    ) -> tuple[str, list[dict[str, Any]] | None]:
        try:
            return self._format(raw, parse_mode, entities)
        except ApiError as error:
            detail = error.description.removeprefix("Bad Request: ")
            raise ApiError(400, INLINE_RESULT_INVALID + detail[:1].upper() + detail[1:]) from None

    def _check_input_content(self, content: Any) -> None:
        if not isinstance(content, dict):
            raise ApiError(400, INLINE_RESULT_INVALID + "InputMessageContent must be an Object")
        if "message_text" in content:
            plain, _ = self._inline_format(
                content["message_text"], content.get("parse_mode"), content.get("entities")
            )
            if not plain.strip():
                raise ApiError(400, "Bad Request: MESSAGE_EMPTY")
            if len(plain) > TEXT_LIMIT:
                raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            return
        # Location, venue, contact and invoice contents: recognised by their own fields.
        if not {"latitude", "phone_number", "payload"}.intersection(content):
            raise ApiError(
                400, INLINE_RESULT_INVALID + "Can't parse InputMessageContent: unknown type"
            )

    def _check_results_button(self, button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise ApiError(400, "Bad Request: can't parse InlineQueryResultsButton JSON object")
        start = button.get("start_parameter")
        if "web_app" in button:
            return
        if not isinstance(start, str) or not _START_PARAMETER.fullmatch(start):
            raise ApiError(400, "Bad Request: START_PARAM_INVALID")

    # --- internals: files ----------------------------------------------------------------

    def _store_file(
        self, content: bytes, filename: str | None, mime_type: str | None, kind: str
    ) -> StoredFile:
        number = next(self._file_numbers)
        # Prefixes mimic real ids (BQAC documents, AgAC photos, BAAC videos) for readable logs.
        prefix = _FILE_ID_PREFIX.get(kind, "BQACAgIAAxkBAAI")
        suffix = PurePosixPath(filename).suffix if filename else ""
        folder = _FILE_FOLDER.get(kind, "documents")
        if kind == "photo":
            suffix = ".jpg"
        stored = StoredFile(
            file_id=f"{prefix}sbx{number:08d}",
            file_unique_id=f"AQADsbx{number:08d}",
            content=bytes(content),
            file_name=filename if kind != "photo" else None,
            mime_type=mime_type if kind != "photo" else None,
            file_path=f"{folder}/file_{number}{suffix}",
            kind=kind,
        )
        if kind == "photo":
            stored.width, stored.height = _image_size(stored.content)
        self._files[stored.file_id] = stored
        self._paths[stored.file_path] = stored
        return stored

    def _input_file(
        self, params: dict[str, Any], files: dict[str, UploadedFile], name: str, kind: str
    ) -> StoredFile:
        value = params.get(name)
        upload = files.get(name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise ApiError(400, f"Bad Request: there is no {name} in the request")
        if upload is not None:
            if not upload.content:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if len(upload.content) > UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            return self._store_file(upload.content, upload.filename, upload.mime_type, kind)
        if isinstance(value, str) and value:
            if value.startswith(("http://", "https://")):
                # The sandbox never leaves the machine: only URLs served by `serve_url`.
                served = self._web.get(value)
                if served is None:
                    raise ApiError(400, "Bad Request: failed to get HTTP URL content")
                return self._store_file(served.content, served.filename, served.mime_type, kind)
            stored = self._files.get(value)
            if stored is None:
                raise ApiError(400, WRONG_FILE)
            return stored
        raise ApiError(400, f"Bad Request: there is no {name} in the request")

    # --- Bot API methods -----------------------------------------------------------------

    def _true(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return True

    def _get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": self.inline,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> list[dict[str, Any]]:
        if self.webhook["url"]:
            raise ApiError(409, WEBHOOK_CONFLICT)
        limit = min(100, max(1, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates")
        if allowed is not None:
            # Like Telegram: remembered, applies to updates created from now on; [] resets.
            self._allowed_updates = frozenset(allowed) or None
        offset = params.get("offset")
        if offset is not None:
            self._confirm(int(offset))
        if not self._updates and timeout > 0:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            self.pollers += 1
            self._poll_signal.notify()
            try:
                while not self._updates:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    await self._updates_signal.wait(remaining)
            finally:
                self.pollers -= 1
        return list(itertools.islice(self._updates, limit))

    def _confirm(self, offset: int) -> None:
        queue = self._updates
        if offset < 0:
            # A negative offset keeps only the last -offset updates and forgets the rest.
            while len(queue) > -offset:
                queue.popleft()
        else:
            while queue and queue[0]["update_id"] < offset:
                queue.popleft()

    def _set_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        url = params.get("url")
        if url is None:
            raise ApiError(400, "Bad Request: bad webhook: URL is empty")
        if url and not str(url).startswith("https://"):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {
            "url": url,
            **{
                key: params[key]
                for key in ("allowed_updates", "max_connections", "secret_token", "ip_address")
                if key in params
            },
        }
        self._poll_signal.notify()  # wakes wait_webhook
        self._updates_signal.notify()  # wakes a webhook delivery (bot.sandbox.webhook)
        return True

    def _delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {"url": ""}
        return True

    def _get_webhook_info(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        for key in ("allowed_updates", "max_connections", "ip_address"):
            if key in self.webhook:
                info[key] = self.webhook[key]
        if self.webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook_error
        return info

    def _send_message(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        chat = self._target_chat(params)
        text, entities, source = self._text(params)
        reply_markup = self._markup(params.get("reply_markup"))
        record = self._add_bot_message(
            chat,
            text=text,
            entities=entities,
            source=source,
            parse_mode=params.get("parse_mode"),
            reply_markup=reply_markup,
            protect_content=bool(params.get("protect_content")),
            reply_to_message_id=self._reply_to(chat, params),
        )
        return self._message_dict(chat, record)

    def _send_media(
        self, params: dict[str, Any], files: dict[str, UploadedFile], kind: str
    ) -> dict[str, Any]:
        chat = self._target_chat(params)
        caption, entities, source = self._caption(params)
        reply_markup = self._markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        stored = self._input_file(params, files, kind, kind)
        media: dict[str, Any]
        if kind == "photo":
            media = {"photo": stored.photo()}
        elif kind == "video":
            if stored.kind != "video":
                # Telegram refuses a file_id of another kind the same way.
                raise ApiError(400, WRONG_FILE)
            # Telegram reads size and length from the file; the emulator takes the declared ones.
            for name in ("duration", "width", "height"):
                if not getattr(stored, name) and isinstance(params.get(name), int):
                    setattr(stored, name, max(0, params[name]))
            media = {"video": stored.video()}
        else:
            media = {"document": stored.document()}
        record = self._add_bot_message(
            chat,
            caption=caption,
            entities=entities,
            source=source,
            parse_mode=params.get("parse_mode"),
            reply_markup=reply_markup,
            protect_content=bool(params.get("protect_content")),
            reply_to_message_id=reply_to,
            **media,
        )
        return self._message_dict(chat, record)

    def _send_document(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        return self._send_media(params, files, "document")

    def _send_photo(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        return self._send_media(params, files, "photo")

    def _send_video(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        return self._send_media(params, files, "video")

    def _edit_message_text(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        chat, record = self._edit_target(params)
        if record.text is None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities, source = self._text(params)
        # Telegram drops the keyboard when an edit does not repeat it.
        reply_markup = _inline_only(self._markup(params.get("reply_markup"), inline=True))
        if (
            text == record.text
            and entities == record.entities
            and reply_markup == _inline_only(record.reply_markup)
        ):
            raise ApiError(400, NOT_MODIFIED)
        record.text, record.entities, record.source = text, entities, source
        record.parse_mode = params.get("parse_mode")
        record.reply_markup = reply_markup
        return self._edited(chat, record)

    def _edit_message_caption(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        chat, record = self._edit_target(params)
        if record.document is None and record.photo is None and record.video is None:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities, source = self._caption(params)
        reply_markup = _inline_only(self._markup(params.get("reply_markup"), inline=True))
        if (
            caption == record.caption
            and entities == record.entities
            and reply_markup == _inline_only(record.reply_markup)
        ):
            raise ApiError(400, NOT_MODIFIED)
        record.caption, record.entities, record.source = caption, entities, source
        record.parse_mode = params.get("parse_mode")
        record.reply_markup = reply_markup
        return self._edited(chat, record)

    def _edit_message_reply_markup(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        chat, record = self._edit_target(params)
        reply_markup = _inline_only(self._markup(params.get("reply_markup"), inline=True))
        if reply_markup == _inline_only(record.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        record.reply_markup = reply_markup
        return self._edited(chat, record)

    def _delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._target_chat(params, write=False)
        record = chat.messages.get(params.get("message_id", 0))
        if record is None or record.deleted:
            raise ApiError(400, DELETE_NOT_FOUND)
        record.deleted = True
        self._touch(chat)
        return True

    def _delete_messages(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._target_chat(params, write=False)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise ApiError(400, "Bad Request: message identifiers are not specified")
        # deleteMessages skips messages it cannot find, per the Bot API.
        for message_id in ids:
            record = chat.messages.get(int(message_id))
            if record is not None and not record.deleted:
                record.deleted = True
                self._touch(chat)
        return True

    def _answer_callback_query(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> bool:
        query = self._callbacks.get(str(params.get("callback_query_id")))
        # A query can be answered once; a second answer is as invalid as an unknown id.
        if query is None or query.answered:
            raise ApiError(400, QUERY_INVALID)
        text = str(params.get("text") or "")
        if len(text) > CALLBACK_ANSWER_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        query.answered = True
        chat = self._chats.get(query.chat_id)
        if chat is not None:
            chat.callback_answers.append(
                {
                    "text": text,
                    "show_alert": bool(params.get("show_alert")),
                    "url": params.get("url"),
                    "message_id": query.message_id,
                    "data": query.data,
                }
            )
            self._touch(chat)
        return True

    def _answer_inline_query(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        answer = self._inline_queries.get(str(params.get("inline_query_id")))
        # Like a callback query, an inline query is answered once (and only a known one).
        if answer is None or answer.answered:
            raise ApiError(400, QUERY_INVALID)
        results = params.get("results")
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > INLINE_RESULTS_LIMIT:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            self._check_inline_result(result, seen)
        next_offset = str(params.get("next_offset") or "")
        if len(next_offset.encode()) > INLINE_OFFSET_LIMIT:
            raise ApiError(400, "Bad Request: NEXT_OFFSET_INVALID")
        button = params.get("button")
        if button is not None:
            self._check_results_button(button)
        cache_time = params.get("cache_time")
        answer.answered = True
        answer.results = list(results)
        answer.cache_time = int(cache_time) if isinstance(cache_time, int) else None
        answer.is_personal = bool(params.get("is_personal"))
        answer.next_offset = next_offset
        answer.button = button
        chat = self._chats.get(answer.user_id)
        if chat is not None:
            self._touch(chat)
        return True

    def _get_file(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise ApiError(400, WRONG_FILE)
        if len(stored.content) > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return stored.file()

    def _scope_key(self, scope: Any) -> str:
        if scope is None:
            return "default"
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("chat", "chat_administrators"):
            return f"{kind}:{scope.get('chat_id')}"
        if kind == "chat_member":
            return f"{kind}:{scope.get('chat_id')}:{scope.get('user_id')}"
        return str(kind)

    def _set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        clean: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not _COMMAND_NAME.fullmatch(name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> list[dict[str, str]]:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return list(self._commands.get(key, []))

    def _delete_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    def _send_chat_action(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._target_chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        chat.last_action = str(action)
        return True

    def _get_chat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._target_chat(params, write=False)
        return {
            **chat.chat_dict,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _source_message(
        self, params: dict[str, Any], missing: str, verb: str
    ) -> tuple[_Chat, MessageRecord]:
        source_chat = self._chats.get(params.get("from_chat_id", 0))
        if source_chat is None or source_chat.deleted:
            raise ApiError(400, CHAT_NOT_FOUND)
        record = source_chat.messages.get(params.get("message_id", 0))
        if record is None or record.deleted:
            raise ApiError(400, f"Bad Request: message to {missing} not found")
        if record.protect_content:
            raise ApiError(400, f"Bad Request: message can't be {verb}")
        return source_chat, record

    def _copy_message(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, int]:
        _, source = self._source_message(params, "copy", "copied")
        chat = self._target_chat(params)
        fields: dict[str, Any] = {
            "text": source.text,
            "caption": source.caption,
            "entities": source.entities,
            "source": source.source,
            "parse_mode": source.parse_mode,
            "document": source.document,
            "photo": source.photo,
            "video": source.video,
        }
        if "caption" in params and source.text is None:
            caption, entities, raw = self._caption(params)
            fields.update(caption=caption, entities=entities, source=raw)
            fields["parse_mode"] = params.get("parse_mode")
        record = self._add_bot_message(
            chat,
            **fields,
            reply_markup=self._markup(params.get("reply_markup")),
            protect_content=bool(params.get("protect_content")),
            reply_to_message_id=self._reply_to(chat, params),
        )
        return {"message_id": record.message_id}

    def _forward_message(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        source_chat, source = self._source_message(params, "forward", "forwarded")
        chat = self._target_chat(params)
        sender = self.bot_user if source.from_bot else source_chat.user
        record = self._add_bot_message(
            chat,
            text=source.text,
            caption=source.caption,
            entities=source.entities,
            source=source.source,
            parse_mode=source.parse_mode,
            document=source.document,
            photo=source.photo,
            video=source.video,
            protect_content=bool(params.get("protect_content")),
            forward_origin={"type": "user", "sender_user": sender, "date": source.date},
        )
        return self._message_dict(chat, record)

    def _bot_text_setter(self, kind: str) -> Handler:
        def setter(params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
            key = (kind, str(params.get("language_code") or ""))
            value = params.get(kind)
            if value:
                self.bot_texts[key] = str(value)
            else:
                self.bot_texts.pop(key, None)
            return True

        return setter

    def _bot_text_getter(self, kind: str) -> Handler:
        def getter(params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, str]:
            language = str(params.get("language_code") or "")
            value = self.bot_texts.get((kind, language), self.bot_texts.get((kind, ""), ""))
            return {kind: value}

        return getter


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise ApiError(
            400, "Bad Request: can't parse inline keyboard button: Text is not a String"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        size = (
            (len(data) if data.isascii() else len(data.encode())) if isinstance(data, str) else 0
        )
        if not 1 <= size <= CALLBACK_DATA_LIMIT:
            raise ApiError(400, BUTTON_DATA_INVALID)
    elif "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
    elif not _INLINE_ACTIONS.intersection(button):
        raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")


def _inline_button(message_id: int, button: dict[str, Any]) -> Button:
    label = str(button.get("text", ""))
    if "callback_data" in button:
        return Button(message_id, label, "callback", button["callback_data"])
    if "url" in button:
        return Button(message_id, label, "url", button["url"])
    kind = next((key for key in button if key in _INLINE_ACTIONS), "unknown")
    return Button(message_id, label, kind)


def _update_chat_id(update: dict[str, Any]) -> int | None:
    message = update.get("message") or update.get("callback_query", {}).get("message")
    return message["chat"]["id"] if message else None
