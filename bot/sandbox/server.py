"""The sandbox emulator over real HTTP on 127.0.0.1 (aiohttp), plus a JSON control API.

The real bot process talks to :class:`EmulatorServer` exactly as to Telegram — point PTB's
``base_url`` at ``{url}/bot`` and ``base_file_url`` at ``{url}/file/bot`` — so end-to-end
tests, benchmarks and fault drills exercise the production HTTP stack (HTTPXRequest,
timeouts, multipart uploads). Bot API routes accept what Telegram accepts: query string,
``application/json``, ``x-www-form-urlencoded`` and ``multipart/form-data``.

Under ``/sandbox`` a control API lets scripts and tests act as users and inspect the result:

==========  ==========================================  ======================================
POST        /sandbox/users                              {id, first_name, language_code, ...}
POST        /sandbox/users/{id}/messages                {text}
POST        /sandbox/users/{id}/callbacks               {message_id, data}
POST        /sandbox/users/{id}/tap                     {label, message_id?}; 404 lists labels
POST        /sandbox/users/{id}/documents               multipart: file, caption?
POST        /sandbox/users/{id}/photos                  multipart: file, caption?
POST        /sandbox/users/{id}/block|unblock|delete    the user blocks / unblocks / deletes
GET         /sandbox/users/{id}/chat                    message records
GET         /sandbox/users/{id}/buttons|toasts          visible buttons / callback answers
GET         /sandbox/users/{id}/activity                {activity}
GET         /sandbox/users/{id}/wait?since=N&timeout=S  long-poll until activity > N (408)
GET         /sandbox/polling?timeout=S                  wait until the bot long-polls (408)
POST        /sandbox/faults                             {method, kind, times, ...}; DELETE clears
PUT         /sandbox/limits                             {global_per_second, per_chat_per_second}
PUT         /sandbox/latency                            {seconds}
GET         /sandbox/stats                              call counts, 429s, sends, peak rate
POST        /sandbox/webhook/targets                    {url}: deliver there too; DELETE drops
PUT         /sandbox/webhook                            {duplicate_rate, seed?}
GET         /sandbox/webhook                            targets, delivery stats, last error
==========  ==========================================  ======================================

Once the bot calls ``setWebhook``, queued updates are POSTed to the webhook *targets* in turn
(:mod:`bot.sandbox.webhook`): a test facility standing in for the load balancer in front of
the one URL Telegram knows, with retries, duplicates on purpose and the secret header.

User actions answer ``{"update": ..., "activity": N}`` where ``N`` is the chat's activity
counter *before* the action, so a client can wait for the reply without a race.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web

from bot.sandbox.emulator import Emulator, UploadedFile
from bot.sandbox.faults import FAULT_KINDS, Limits, NetworkFault
from bot.sandbox.webhook import WebhookDelivery

__all__ = ["EmulatorServer"]

logger = logging.getLogger(__name__)

# Telegram accepts uploads up to 50 MB; leave room for the multipart envelope so the emulator,
# not aiohttp, is the one answering "too large" in Telegram's words.
_MAX_BODY = 52 * 1024 * 1024

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


class EmulatorServer:
    """Serve one :class:`Emulator` over HTTP; start it inside the running event loop."""

    def __init__(
        self,
        emulator: Emulator,
        *,
        webhook_targets: tuple[str, ...] = (),
        duplicate_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        """Serve `emulator`; once a webhook is set, POST its updates to `webhook_targets`."""
        self.emulator = emulator
        self.webhook = WebhookDelivery(
            emulator, webhook_targets, duplicate_rate=duplicate_rate, seed=seed
        )
        self.url: str | None = None
        self._runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 picks a free port); return the base URL."""
        if self._runner is not None:
            raise RuntimeError("the sandbox server is already running")
        app = web.Application(client_max_size=_MAX_BODY)
        self._add_routes(app)
        # handler_cancellation: a client that gives up on a long poll frees its handler;
        # a short shutdown_timeout: pending long polls must not hold stop() for a minute.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        await self.webhook.start()
        bound_host, bound_port = runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        logger.info("sandbox Bot API listening on %s", self.url)
        return self.url

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await self.webhook.stop()
            await runner.cleanup()
        self.url = None

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _add_routes(self, app: web.Application) -> None:
        user = "/sandbox/users/{user_id:-?[0-9]+}"
        routes: list[tuple[str, str, _Handler]] = [
            ("*", "/bot{token}/{method}", self._bot_api),
            ("GET", "/file/bot{token}/{path:.+}", self._file),
            ("POST", "/sandbox/users", self._add_user),
            ("POST", user + "/messages", self._message),
            ("POST", user + "/callbacks", self._callback),
            ("POST", user + "/tap", self._tap),
            ("POST", user + "/documents", self._document),
            ("POST", user + "/photos", self._photo),
            ("POST", user + "/inline", self._inline_query),
            ("GET", user + "/inline", self._inline_answer),
            ("POST", user + "/inline/choose", self._inline_choose),
            ("POST", user + "/block", self._block),
            ("POST", user + "/unblock", self._unblock),
            ("POST", user + "/delete", self._delete_chat),
            ("GET", user + "/chat", self._chat),
            ("GET", user + "/buttons", self._buttons),
            ("GET", user + "/toasts", self._toasts),
            ("GET", user + "/activity", self._activity),
            ("GET", user + "/wait", self._wait),
            ("GET", "/sandbox/polling", self._polling),
            ("POST", "/sandbox/faults", self._add_fault),
            ("DELETE", "/sandbox/faults", self._clear_faults),
            ("PUT", "/sandbox/limits", self._set_limits),
            ("PUT", "/sandbox/latency", self._set_latency),
            ("GET", "/sandbox/stats", self._stats),
            ("POST", "/sandbox/webhook/targets", self._add_target),
            ("DELETE", "/sandbox/webhook/targets", self._remove_target),
            ("PUT", "/sandbox/webhook", self._set_webhook_delivery),
            ("GET", "/sandbox/webhook", self._webhook_state),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, self._guarded(handler))

    def _guarded(self, handler: _Handler) -> _Handler:
        # Simulation mistakes (unknown user, bad JSON) become clean 4xx answers for scripts.
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except LookupError as error:
                return _error(404, str(error.args[0] if error.args else error))
            except (ValueError, TypeError) as error:
                return _error(400, str(error))

        return guarded

    # --- Bot API ---------------------------------------------------------------------------

    async def _bot_api(self, request: web.Request) -> web.StreamResponse:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.body_exists:
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    return web.json_response(
                        {
                            "ok": False,
                            "error_code": 400,
                            "description": "Bad Request: invalid JSON",
                        },
                        status=400,
                    )
                if isinstance(body, dict):
                    params.update(body)
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, web.FileField):
                        files[name] = UploadedFile(
                            value.file.read(), value.filename, value.content_type
                        )
                    elif isinstance(value, str):
                        params[name] = value
                    else:
                        params[name] = bytes(value).decode("utf-8", "replace")
        call = self.emulator.call(
            request.match_info["token"], request.match_info["method"], params, files
        )
        try:
            if request.match_info["method"].lower() == "getupdates":
                status, body = await call
            else:
                # Like Telegram, a request that arrived is carried out even if the client
                # goes away before the answer (a bot killed mid-request): only the long poll
                # is abandoned with its client.
                status, body = await asyncio.shield(call)
        except NetworkFault:
            # Close without answering: the client sees the connection drop mid-request.
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPInternalServerError() from None
        return web.json_response(body, status=status)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        content = self.emulator.download(request.match_info["path"])
        if request.match_info["token"] != self.emulator.token or content is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=content, content_type="application/octet-stream")

    # --- control API -------------------------------------------------------------------------

    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        if not request.body_exists:
            return {}
        try:
            body = await request.json()
        except json.JSONDecodeError as error:
            raise ValueError(f"request body is not JSON: {error}") from None
        if not isinstance(body, dict):
            raise ValueError("request body must be a JSON object")
        return body

    @staticmethod
    def _user_id(request: web.Request) -> int:
        return int(request.match_info["user_id"])

    def _acted(self, before: int, update: dict[str, Any]) -> web.Response:
        return web.json_response({"update": update, "activity": before})

    async def _add_user(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        if "id" not in body or "first_name" not in body:
            raise ValueError("a user needs at least id and first_name")
        user = self.emulator.add_user(
            int(body["id"]),
            str(body["first_name"]),
            language_code=body.get("language_code", "en"),
            username=body.get("username"),
            last_name=body.get("last_name"),
            started=bool(body.get("started", True)),
        )
        return web.json_response(user)

    async def _message(self, request: web.Request) -> web.StreamResponse:
        user_id, body = self._user_id(request), await self._json(request)
        if not isinstance(body.get("text"), str):
            raise ValueError("a message needs text")
        before = self.emulator.activity(user_id)
        update = self.emulator.post_message(user_id, body["text"])
        return self._acted(before, update)

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        user_id, body = self._user_id(request), await self._json(request)
        before = self.emulator.activity(user_id)
        update = self.emulator.post_callback(user_id, int(body["message_id"]), str(body["data"]))
        return self._acted(before, update)

    async def _tap(self, request: web.Request) -> web.StreamResponse:
        user_id, body = self._user_id(request), await self._json(request)
        label = str(body.get("label", ""))
        message_id = body.get("message_id")
        try:
            button = self.emulator.find_button(
                user_id, label, message_id=int(message_id) if message_id is not None else None
            )
        except LookupError as error:
            return _error(404, str(error), labels=self.emulator.visible_buttons(user_id))
        before = self.emulator.activity(user_id)
        if button.kind == "callback" and button.message_id is not None:
            update = self.emulator.post_callback(user_id, button.message_id, str(button.data))
        elif button.kind == "reply":
            update = self.emulator.post_message(user_id, button.label)
        else:
            return _error(
                409, f"button {button.label!r} is a {button.kind} button, not a callback"
            )
        return self._acted(before, update)

    async def _upload(self, request: web.Request, kind: str) -> web.StreamResponse:
        user_id = self._user_id(request)
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise ValueError("send the file as the multipart field 'file'")
        caption = form.get("caption")
        caption_text = caption if isinstance(caption, str) and caption else None
        content = upload.file.read()
        before = self.emulator.activity(user_id)
        post = self.emulator.post_photo if kind == "photo" else self.emulator.post_document
        update = post(
            user_id,
            upload.filename,
            content,
            upload.content_type or "application/octet-stream",
            caption=caption_text,
        )
        return self._acted(before, update)

    async def _document(self, request: web.Request) -> web.StreamResponse:
        return await self._upload(request, "document")

    async def _photo(self, request: web.Request) -> web.StreamResponse:
        return await self._upload(request, "photo")

    async def _inline_query(self, request: web.Request) -> web.StreamResponse:
        user_id, body = self._user_id(request), await self._json(request)
        if not isinstance(body.get("query", ""), str):
            raise ValueError("an inline query needs query text")
        before = self.emulator.activity(user_id)
        update = self.emulator.post_inline_query(
            user_id,
            str(body.get("query", "")),
            offset=str(body.get("offset", "")),
            chat_type=str(body.get("chat_type", "sender")),
        )
        return self._acted(before, update)

    async def _inline_answer(self, request: web.Request) -> web.StreamResponse:
        user_id = self._user_id(request)
        query_id = request.query.get("query_id")
        answer = self.emulator.inline_answer(user_id, query_id)
        if answer is None:
            return _error(404, f"user {user_id} typed no inline query")
        return web.json_response(asdict(answer))

    async def _inline_choose(self, request: web.Request) -> web.StreamResponse:
        user_id, body = self._user_id(request), await self._json(request)
        if not isinstance(body.get("result_id"), str):
            raise ValueError("choosing needs the result_id")
        chat = body.get("chat")
        before = self.emulator.activity(user_id)
        shared, update = self.emulator.choose_inline_result(
            user_id,
            body["result_id"],
            query_id=body.get("query_id"),
            chat=str(chat) if chat is not None else None,
        )
        return web.json_response({"shared": asdict(shared), "update": update, "activity": before})

    async def _block(self, request: web.Request) -> web.StreamResponse:
        self.emulator.block(self._user_id(request))
        return web.json_response({"ok": True})

    async def _unblock(self, request: web.Request) -> web.StreamResponse:
        self.emulator.unblock(self._user_id(request))
        return web.json_response({"ok": True})

    async def _delete_chat(self, request: web.Request) -> web.StreamResponse:
        self.emulator.delete_chat(self._user_id(request))
        return web.json_response({"ok": True})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        records = self.emulator.chat(self._user_id(request))
        return web.json_response([record.as_dict() for record in records])

    async def _buttons(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.emulator.visible_buttons(self._user_id(request)))

    async def _toasts(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.emulator.callback_answers(self._user_id(request)))

    async def _activity(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"activity": self.emulator.activity(self._user_id(request))})

    async def _wait(self, request: web.Request) -> web.StreamResponse:
        user_id = self._user_id(request)
        since = int(request.query.get("since", self.emulator.activity(user_id)))
        timeout = float(request.query.get("timeout", 10))
        try:
            activity = await self.emulator.wait_activity(user_id, since, timeout)
        except TimeoutError as error:
            return _error(408, str(error), activity=self.emulator.activity(user_id))
        return web.json_response({"activity": activity})

    async def _polling(self, request: web.Request) -> web.StreamResponse:
        timeout = float(request.query.get("timeout", 10))
        try:
            await self.emulator.wait_polling(timeout)
        except TimeoutError as error:
            return _error(408, str(error))
        return web.json_response({"pollers": self.emulator.pollers})

    async def _add_fault(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        kind = body.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {sorted(FAULT_KINDS)}")
        chat_id = body.get("chat_id")
        fault = self.emulator.faults.add(
            body.get("method"),
            kind=kind,
            times=int(body.get("times", 1)),
            retry_after=int(body.get("retry_after", 1)),
            status=int(body.get("status", 500)),
            delay=float(body.get("delay", 0.0)),
            chat_id=int(chat_id) if chat_id is not None else None,
        )
        return web.json_response(
            {"method": fault.method, "kind": fault.kind, "times": fault.times}, status=201
        )

    async def _clear_faults(self, request: web.Request) -> web.StreamResponse:
        self.emulator.faults.clear()
        return web.json_response({"ok": True})

    async def _set_limits(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        fields = ("global_per_second", "per_chat_per_second", "global_burst", "per_chat_burst")
        values = {name: body.get(name) for name in fields}
        self.emulator.limits = Limits(**values) if any(values.values()) else None
        return web.json_response(dict(values))

    async def _set_latency(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        self.emulator.latency = float(body.get("seconds", 0.0))
        return web.json_response({"seconds": self.emulator.latency})

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        stats = self.emulator.stats.as_dict()
        stats["pending_updates"] = self.emulator.pending_updates
        stats["pollers"] = self.emulator.pollers
        return web.json_response(stats)

    # --- webhook delivery ----------------------------------------------------------------------

    async def _add_target(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        self.webhook.add_target(str(body.get("url", "")))
        return web.json_response({"targets": self.webhook.targets}, status=201)

    async def _remove_target(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        self.webhook.remove_target(str(body.get("url", "")))
        return web.json_response({"targets": self.webhook.targets})

    async def _set_webhook_delivery(self, request: web.Request) -> web.StreamResponse:
        body = await self._json(request)
        rate = float(body.get("duplicate_rate", self.webhook.duplicate_rate))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("duplicate_rate is a probability, 0 to 1")
        self.webhook.duplicate_rate = rate
        if "seed" in body:
            self.webhook.random.seed(int(body["seed"]))
        return web.json_response({"duplicate_rate": rate})

    async def _webhook_state(self, request: web.Request) -> web.StreamResponse:
        error = self.emulator.webhook_error
        return web.json_response(
            {
                "url": self.emulator.webhook["url"],
                "targets": self.webhook.targets,
                "duplicate_rate": self.webhook.duplicate_rate,
                "pending_updates": self.emulator.pending_updates,
                "in_flight": self.webhook.in_flight,
                "last_error_message": error[1] if error else None,
                **self.webhook.stats.as_dict(),
            }
        )
