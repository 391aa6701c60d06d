"""A fake Slack Web API (and response_url sink) on 127.0.0.1 that records every call."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "slack"
RESPONSES = json.loads((FIXTURES / "webapi_fake_responses.json").read_text())
RESPONSE_URL = "response"
SOCKET_MODE = "socket-mode"
FAULT_BODIES = {
    429: RESPONSES["_errors"]["rate_limited"]["body"],
    500: {"ok": False, "error": "internal_error"},
}


@dataclass(frozen=True)
class Call:
    """One request the fake received: a Web API method, or `response` for a response_url."""

    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200
    key: str | None = None
    # What the fake answered (e.g. the `ts` of a posted message); None for refused calls.
    answer: Any = None


class FakeSlack:
    """Answers `POST /api/<method>` like Slack and `POST /response/<key>` like a response_url;
    hands out a Socket Mode WebSocket (`apps.connections.open`) and sends envelopes down it."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.url = ""
        self.sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._envelopes = itertools.count(1)
        self._changed = asyncio.Condition()
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self._stamps = itertools.count(1)
        # Users' profile emails, as users.info shows them to an app with users:read.email.
        self.emails: dict[str, str] = {}

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.url}/{RESPONSE_URL}/{key}"

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        status: int = 429,
        error: str | None = None,
        retry_after: int = 1,
        after: int = 0,
    ) -> None:
        """Answer `times` calls of `method`, after letting `after` more through, with `status`
        (429 comes with a Retry-After of `retry_after` seconds), or, given `error` (e.g.
        not_in_channel: the fixture's body when it has one), with Slack's `ok: false` for it."""
        fault = Fault(200, error, retry_after) if error else Fault(status, None, retry_after)
        self._faults[method].extend([Fault()] * after + [fault] * times)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the next `times` calls of `method` for `seconds` before Slack takes them in.

        A client that gives up meanwhile leaves a call that never reached Slack: it is recorded
        with status 499 (nothing posted, no ts), as a gateway in front of Slack would drop it.
        """
        self._delays[method].extend([seconds] * times)

    def api_calls(self, method: str, *, delivered: bool = True) -> list[Call]:
        """Calls of a Web API method; by default only those answered with success."""
        return [
            call
            for call in self.calls
            if call.method == method and (call.status == 200 or not delivered)
        ]

    def published(self, user: str | None = None) -> list[dict[str, Any]]:
        """The views published to App Home tabs (all, or those of one user), oldest first."""
        calls = self.api_calls("views.publish")
        return [call.body["view"] for call in calls if user is None or call.body["user_id"] == user]

    def responses(self, key: str | None = None) -> list[Call]:
        """Posts to response URLs (all, or those of one key)."""
        return [
            call
            for call in self.calls
            if call.method == RESPONSE_URL and (key is None or call.key == key)
        ]

    # A timeout argument, not asyncio.timeout(): a test states how long it will wait, per call.
    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5) -> None:  # noqa: ASYNC109
        """Wait until `predicate()` holds; it is re-checked after every recorded call."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                seen = [(call.method, call.status) for call in self.calls]
                raise AssertionError(f"timed out after {timeout}s; calls so far: {seen}") from None

    @property
    def open_sockets(self) -> list[web.WebSocketResponse]:
        return [socket for socket in self.sockets if not socket.closed]

    async def envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        timeout: float = 5,  # noqa: ASYNC109 - as in wait_for
    ) -> dict[str, Any]:
        """Send a Socket Mode envelope (`slash_commands`, `interactive`, `events_api`) down the
        bot's connection, as Slack does, and return the bot's acknowledgement of it."""
        await self.wait_for(lambda: bool(self.open_sockets), timeout)
        envelope_id = f"envelope-{next(self._envelopes)}"
        acked = self._acks[envelope_id] = asyncio.get_running_loop().create_future()
        await self.open_sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
            }
        )
        try:
            return await asyncio.wait_for(acked, timeout)
        except TimeoutError:
            raise AssertionError(f"no acknowledgement of {kind} within {timeout}s") from None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post(f"/{RESPONSE_URL}/{{key}}", self._response_url)
        app.router.add_get(f"/{SOCKET_MODE}", self._socket_mode)
        return app

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        """The Socket Mode connection: greets the bot, then takes its acknowledgements."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await self._record(Call(SOCKET_MODE, {}, dict(request.headers), time.monotonic()))
        await socket.send_json({"type": "hello", "num_connections": len(self.open_sockets)})
        try:
            async for message in socket:
                ack = json.loads(message.data)
                waiting = self._acks.pop(ack.get("envelope_id", ""), None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(ack)
        finally:
            async with self._changed:  # a wait_for on open_sockets sees the bot hang up
                self._changed.notify_all()
        return socket

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await _parsed(request)
        if self._delays[method]:
            await asyncio.sleep(self._delays[method].popleft())  # Slack being slow, on purpose
            if _hung_up(request):
                await self._record(Call(method, body, dict(request.headers), time.monotonic(), 499))
                return web.Response(status=499)
        fault = self._faults[method].popleft() if self._faults[method] else Fault()
        recorded = 400 if fault.error else fault.status  # an `ok: false` is no delivery either
        template = RESPONSES.get(method, {"body": {"ok": True}})
        delivered = fault.error is None and fault.status == 200
        answer = self._answer(method, template, body) if delivered else None
        call = Call(method, body, dict(request.headers), time.monotonic(), recorded, answer=answer)
        await self._record(call)
        if answer is None:
            return _refusal(fault)
        return web.json_response(answer, headers=template.get("headers"))

    def _answer(self, method: str, template: dict[str, Any], args: dict[str, Any]) -> Any:
        """The fixture's body for `method` with the request's arguments filled in."""
        answer = _fill(copy.deepcopy(template["body"]), args)
        if method == "apps.connections.open":
            answer = {"ok": True, "url": self.url.replace("http", "ws", 1) + f"/{SOCKET_MODE}"}
        if method == "chat.postMessage":
            answer["ts"] = answer["message"]["ts"] = f"1718040563.{next(self._stamps):06d}"
        if method == "users.info" and args.get("user") in self.emails:
            answer["user"]["profile"] = {"email": self.emails[args["user"]]}
        return answer

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await _parsed(request)
        key = request.match_info["key"]
        await self._record(
            Call(RESPONSE_URL, body, dict(request.headers), time.monotonic(), key=key)
        )
        return web.Response(text="ok")


@dataclass(frozen=True)
class Fault:
    """How the fake answers one call: an HTTP status, or Slack's `ok: false` with `error`."""

    status: int = 200
    error: str | None = None
    retry_after: int = 1


def _refusal(fault: Fault) -> web.Response:
    if fault.error is not None:
        known = RESPONSES["_errors"].get(fault.error)
        return web.json_response(known["body"] if known else {"ok": False, "error": fault.error})
    headers = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
    body = FAULT_BODIES.get(fault.status, {"ok": False})
    return web.json_response(body, status=fault.status, headers=headers)


def _hung_up(request: web.Request) -> bool:
    """Whether the client closed the connection while the fake kept it waiting."""
    return request.transport is None or request.transport.is_closing()


async def _parsed(request: web.Request) -> dict[str, Any]:
    if request.method == "GET":  # slack-sdk reads (users.info) send their arguments so
        return dict(request.query)
    raw = await request.text()
    if not raw:
        return {}
    if request.content_type == "application/json":
        return dict(json.loads(raw))
    return dict(parse_qsl(raw, keep_blank_values=True))


def _fill(value: Any, args: dict[str, Any]) -> Any:
    """Replace `"{name}"` / `"{a.b}"` placeholders with the request's arguments."""
    if isinstance(value, dict):
        return {key: _fill(item, args) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return _lookup(args, value[1:-1])
    return value


def _lookup(args: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(args, str):
            args = json.loads(args) if args.startswith(("{", "[")) else {}
        args = args.get(part) if isinstance(args, dict) else None
    return args


@asynccontextmanager
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A running fake on a random loopback port."""
    fake = FakeSlack()
    runner = web.AppRunner(fake.app(), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        for socket in fake.open_sockets:
            await socket.close()
        await runner.cleanup()
