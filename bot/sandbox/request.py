"""PTB networking backend that talks to the sandbox emulator in-process, with no sockets.

:class:`EmulatorRequest` implements :class:`telegram.request.BaseRequest`, so a real
``telegram.Bot`` / ``Application`` runs unchanged against :class:`~bot.sandbox.emulator.Emulator`:
PTB still builds the request, and still parses Telegram's JSON answer and raises
``BadRequest`` / ``Forbidden`` / ``RetryAfter`` from the status code, exactly as over HTTP.
Wire it with the URLs below::

    bot = Bot(token, base_url=BASE_URL, base_file_url=BASE_FILE_URL,
              request=EmulatorRequest(emulator), get_updates_request=EmulatorRequest(emulator))

or ``ApplicationBuilder().base_url(BASE_URL).base_file_url(BASE_FILE_URL).request(...)``.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import httpx
from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from bot.sandbox.emulator import Emulator, UploadedFile
from bot.sandbox.faults import NetworkFault

__all__ = ["BASE_FILE_URL", "BASE_URL", "EmulatorRequest"]

# The host is never resolved: only the path, which mirrors Telegram's, is read.
BASE_URL = "http://sandbox.local/bot"
BASE_FILE_URL = "http://sandbox.local/file/bot"

_NOT_FOUND = json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()


class EmulatorRequest(BaseRequest):
    """Route PTB's Bot API calls and file downloads to an :class:`Emulator` in this process."""

    __slots__ = ("_read_timeout", "emulator")

    BASE_URL: ClassVar[str] = BASE_URL
    """Pass to ``base_url`` (also importable from this module)."""
    BASE_FILE_URL: ClassVar[str] = BASE_FILE_URL
    """Pass to ``base_file_url``."""

    def __init__(self, emulator: Emulator, *, read_timeout: float | None = 5.0) -> None:
        self.emulator = emulator
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        """Return the default read timeout PTB adds to getUpdates' long-poll timeout."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open: the emulator lives in this process."""

    async def shutdown(self) -> None:
        """Nothing to close."""

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
        """Answer one request from the emulator: ``(status, payload bytes)``."""
        path = urlsplit(url).path
        if path.startswith("/file/bot"):
            return self._download(path.removeprefix("/file/bot"))
        if not path.startswith("/bot"):
            return 404, _NOT_FOUND
        token, _, api_method = unquote(path.removeprefix("/bot")).partition("/")
        params = dict(request_data.parameters) if request_data else {}
        files = _files_of(request_data) if request_data and request_data.contains_files else {}
        try:
            status, body = await self.emulator.call(token, api_method, params, files)
        except NetworkFault as fault:
            # The fault fires before the method runs, like a connection that never opened:
            # chained as httpx's connect error, as PTB's real transport would report it.
            raise NetworkError(str(fault)) from httpx.ConnectError(str(fault))
        # Serialised like a real answer so PTB's own JSON parsing and error mapping run.
        return status, json.dumps(body).encode()

    def _download(self, rest: str) -> tuple[int, bytes]:
        # PTB percent-encodes the whole path (File._get_encoded_url), the token's ":" too.
        token, _, file_path = unquote(rest).partition("/")
        content = self.emulator.download(file_path)
        if token != self.emulator.token or content is None:
            return 404, _NOT_FOUND
        return 200, content


def _files_of(request_data: RequestData) -> dict[str, UploadedFile]:
    """Collect uploads as multipart would carry them: part name -> (filename, bytes, mime)."""
    files: dict[str, UploadedFile] = {}
    for part, (filename, content, mime_type) in request_data.multipart_data.items():
        # InputFile(read_file_handle=False) hands over an open file object instead of bytes.
        data = content if isinstance(content, bytes) else content.read()
        files[part] = UploadedFile(data, filename, mime_type)
    return files
