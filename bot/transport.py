"""A leaner Bot API transport for PTB: `telegram.request.BaseRequest` on aiohttp.

PTB's own transport (`HTTPXRequest`) goes through httpx, httpcore, h11 and anyio for every
call; `bench/surveys.py --profile` showed that stack among the largest costs of an update.
`AiohttpRequest` keeps PTB's contract and behaviour and changes only the HTTP client:

- one `aiohttp.ClientSession` per request object, opened by `initialize()` inside the running
  loop and closed by `shutdown()`, over one keep-alive connection pool of
  `connection_pool_size` connections (a caller over it waits for a free one, as with httpx);
- the timeouts PTB passes mean what they mean for `HTTPXRequest`: `connect_timeout` to open a
  connection, `read_timeout` between two pieces of the answer (getUpdates adds its long-poll
  time to it), `pool_timeout` plus `connect_timeout` to get a connection out of the pool;
  aiohttp has no separate write timeout, so `write_timeout` (and `media_write_timeout` for
  uploads) bounds the whole request together with the others;
- parameters go as one JSON object of the JSON values PTB encoded (`application/json`, which
  the Bot API takes as it takes a form: every value a string, objects JSON-serialized), or as
  `multipart/form-data` when there are files. `HTTPXRequest` form-encodes them instead;
  percent-encoding a page's Kazakh or Russian text was 3 % of the bot's CPU in the profile
  of `bench/surveys.py`, where `json.dumps` is C code, and the body is half as long;
- a proxy given as `proxy=`, or else the usual `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/
  `NO_PROXY` environment variables, is used; the environment is read once per session and host,
  not per call (aiohttp's `trust_env` reads it, and `~/.netrc`, in a worker thread twice per
  call, which the profile showed as a sixth of the bot's CPU);
- errors become what PTB's own transport raises: `telegram.error.TimedOut` for every
  timeout (a full pool included, with PTB's message), `telegram.error.NetworkError` for any
  other failure of the connection, chained to aiohttp's exception.

`build_request(kind, ...)` picks the transport named by `BOT_API_TRANSPORT`.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

__all__ = ["AiohttpRequest", "TransportName", "build_request"]

TransportName = Literal["aiohttp", "httpx"]

_POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. "
    "Request was *not* sent to Telegram. Consider adjusting the connection "
    "pool size or the pool timeout."
)


class AiohttpRequest(BaseRequest):
    """PTB's `BaseRequest` on one aiohttp `ClientSession` with a keep-alive connection pool."""

    __slots__ = (
        "_connect_timeout",
        "_in_flight",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxies",
        "_proxy",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        proxy: str | None = None,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        # The environment's proxy for each (scheme, host) called, decided once.
        self._proxies: dict[tuple[str, str], str | None] = {}
        # Requests holding or waiting for a connection: more than the pool means waiting.
        self._in_flight = 0

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, which PTB adds to getUpdates' long-poll timeout."""
        return self._read_timeout

    @property
    def pool_size(self) -> int:
        """How many connections the pool keeps open at most."""
        return self._pool_size

    async def initialize(self) -> None:
        """Open the session and its connection pool (in the running event loop)."""
        if self._session is not None and not self._session.closed:
            return
        connector = aiohttp.TCPConnector(
            limit=self._pool_size,
            # Every call goes to the one Bot API host: the pool's limit is the host's.
            limit_per_host=0,
            # Telegram's servers keep a connection open for a while; reuse it rather than
            # paying a new TCP (and TLS) handshake per call.
            keepalive_timeout=30,
            enable_cleanup_closed=False,
        )
        self._proxies.clear()  # the environment is read again for a new session
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            trust_env=False,
            # PTB parses the payload itself; aiohttp's cookie jar has nothing to keep.
            cookie_jar=aiohttp.DummyCookieJar(),
            raise_for_status=False,
        )

    async def shutdown(self) -> None:
        """Close the session and its connections; a second call does nothing."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

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
        """One HTTP request: `(status, body)`, or TimedOut / NetworkError as PTB's transport."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._read_timeout
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if files else self._write_timeout
        # Small form posts get a bound on the whole request in place of a write timeout;
        # uploads and downloads may take long while data moves, as with httpx.
        bounded = method == "POST" and not files
        timeout = aiohttp.ClientTimeout(
            total=(
                _sum(read_timeout, write_timeout, connect_timeout, pool_timeout)
                if bounded
                else None
            ),
            connect=_sum(pool_timeout, connect_timeout),
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        data: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            if files:
                data = _form(request_data)
            else:
                data = json.dumps(request_data.json_parameters, ensure_ascii=False).encode()
                headers = {"Content-Type": "application/json"}
        queued = self._in_flight >= self._pool_size
        self._in_flight += 1
        try:
            async with session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=timeout,
                proxy=self._proxy_for(url),
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as err:
            # aiohttp's `connect` covers waiting for a pooled connection and opening one: a
            # connection timeout while the pool was full is the pool's, as httpx tells it.
            if isinstance(err, aiohttp.ConnectionTimeoutError) and queued:
                raise TimedOut(message=_POOL_TIMEOUT_MESSAGE) from err
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        finally:
            self._in_flight -= 1

    def _proxy_for(self, url: str) -> str | None:
        """The proxy given, or the environment's for this URL's scheme and host (or None)."""
        if self._proxy is not None:
            return self._proxy
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self._proxies:
            proxies = urllib.request.getproxies_environment()
            proxy = proxies.get(parts.scheme) or proxies.get("all")
            bypass = urllib.request.proxy_bypass(parts.netloc)  # NO_PROXY
            self._proxies[key] = None if bypass else proxy
        return self._proxies[key]


def _sum(*values: float | None) -> float | None:
    """The sum of the timeouts, or None (no limit) if any of them is None."""
    if any(v is None for v in values):
        return None
    return float(sum(v for v in values if v is not None))


def _form(request_data: RequestData) -> aiohttp.FormData:
    """`multipart/form-data` as HTTPXRequest builds it: JSON-encoded fields, then the files."""
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form


def build_request(
    kind: TransportName,
    *,
    connection_pool_size: int,
    read_timeout: float | None = 5.0,
    proxy: str | None = None,
) -> BaseRequest:
    """The request object for `kind`, PTB's defaults otherwise.

    `httpx` gives PTB's own `HTTPXRequest` (what PTB builds when no request is passed).
    """
    if kind == "aiohttp":
        return AiohttpRequest(
            connection_pool_size=connection_pool_size, read_timeout=read_timeout, proxy=proxy
        )
    return HTTPXRequest(
        connection_pool_size=connection_pool_size, read_timeout=read_timeout, proxy=proxy
    )
