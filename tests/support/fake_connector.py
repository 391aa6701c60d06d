"""A fake Bot Framework Connector on 127.0.0.1: records what the bot sends, answers like Teams.

Answers follow ../shared/fixtures/teams/08 and 09 and are recorded with each request: 201 {"id"}
for a POSTed activity, 200 {"id"} for PUT, 200 for DELETE, 201 {"id", "activityId"} for POST
/v3/conversations. `fail_next` injects 429s (with Retry-After), 412s or 5xx; `hang_next` leaves
requests unanswered (recorded with status 0) until the connector stops, so that the bot's client
times out; either may be aimed at the requests `when` picks. A refused or unanswered request
delivers nothing: `delivered` lists what the connector accepted. `wait_for` wakes on every
recorded request instead of sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import web

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass(frozen=True)
class Recorded:
    """One request the bot made, with the path decoded (botbuilder URL-encodes the ids)."""

    method: str
    path: str
    segments: tuple[str, ...]
    body: Any
    headers: dict[str, str]
    status: int
    answer: Any = None  # the JSON the fake answered with, e.g. {"id": <new activity id>}

    @property
    def conversation_id(self) -> str | None:
        return self.segments[2] if len(self.segments) > 2 else None

    @property
    def activity_id(self) -> str | None:
        """The id after …/activities/, i.e. the replyToId of a reply or the id of an update."""
        return self.segments[4] if len(self.segments) > 4 else None

    @property
    def sent_id(self) -> str | None:
        """The id the connector gave a posted activity, as the bot learns it."""
        return self.answer.get("id") if isinstance(self.answer, dict) else None

    @property
    def cards(self) -> list[dict[str, Any]]:
        attachments = self.body.get("attachments") if isinstance(self.body, dict) else None
        return [a["content"] for a in attachments or [] if a.get("contentType") == ADAPTIVE_CARD]


# Picks the requests a fault is for, from their method and decoded path segments.
Aim = Callable[[str, tuple[str, ...]], bool]
NO_ANSWER = 0  # the status recorded for a request the connector never answered


@dataclass(frozen=True)
class Fault:
    status: int
    retry_after: str | None
    when: Aim | None = None

    def applies(self, method: str, segments: tuple[str, ...]) -> bool:
        return self.when is None or self.when(method, segments)


class FakeConnector:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.url = ""
        self._faults: list[Fault] = []
        self._ids = itertools.count(1740000009001)
        self._changed = asyncio.Condition()
        self._released = asyncio.Event()
        # Conversation members by id, as GET …/members/{id} shows them (TeamsChannelAccount).
        self.members: dict[str, dict[str, Any]] = {}

    @property
    def service_url(self) -> str:
        """What to put in an activity's serviceUrl (Teams sends it with a trailing slash)."""
        return self.url + "/"

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 429,
        retry_after: str | None = "2",
        when: Aim | None = None,
    ) -> None:
        """Answer the next `count` requests (that `when` picks) with `status`; a 429 carries
        Retry-After, as Teams' does."""
        after = retry_after if status == 429 else None
        self._faults.extend(Fault(status, after, when) for _ in range(count))

    def hang_next(self, count: int = 1, *, when: Aim | None = None) -> None:
        """Leave the next `count` requests (that `when` picks) unanswered until the end."""
        self.fail_next(count, status=NO_ANSWER, when=when)

    def release(self) -> None:
        """Let go of every unanswered request (they get a 504 nobody waits for any more)."""
        self._released.set()

    def delivered(self, predicate: Callable[[Recorded], bool] = lambda _: True) -> list[Recorded]:
        """The requests the connector accepted (2xx) that match `predicate`."""
        return [r for r in self.requests if 200 <= r.status < 300 and predicate(r)]

    # A plain `timeout` argument reads best at the call sites of a test helper.
    async def wait_for(
        self,
        predicate: Callable[[Recorded], bool],
        timeout: float = 5,  # noqa: ASYNC109
    ) -> Recorded:
        """The first recorded request matching `predicate`, waiting for it if need be."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self._first(predicate) is not None)
        found = self._first(predicate)
        assert found is not None
        return found

    def posted(self) -> list[Recorded]:
        """The activities the bot posted (answered or not)."""
        return [r for r in self.requests if r.method == "POST" and "activities" in r.segments]

    def updated(self) -> list[Recorded]:
        """The activities the bot replaced (PUT), answered or not."""
        return [r for r in self.requests if r.method == "PUT"]

    def all_cards(self) -> list[dict[str, Any]]:
        return [card for request in self.requests for card in request.cards]

    def _first(self, predicate: Callable[[Recorded], bool]) -> Recorded | None:
        return next((r for r in self.requests if predicate(r)), None)

    async def handle(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        fault = self._fault_for(request.method, _segments(request))
        if fault is not None and fault.status == NO_ANSWER:
            await self._record(request, body, NO_ANSWER, None)
            await self._released.wait()
            return web.Response(status=504)
        response = _fault_response(fault) if fault else self._answer(request.method, request)
        answer = json.loads(response.text) if response.text else None
        await self._record(request, body, response.status, answer)
        return response

    def _fault_for(self, method: str, segments: tuple[str, ...]) -> Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.applies(method, segments):
                return self._faults.pop(index)
        return None

    def _answer(self, method: str, request: web.Request) -> web.Response:
        segments = _segments(request)
        if method == "POST" and segments == ("v3", "conversations"):
            conversation = f"19:created-{next(self._ids)}@thread.tacv2"
            return web.json_response(
                {"id": conversation, "activityId": str(next(self._ids))}, status=201
            )
        if method == "POST" and "activities" in segments:
            return web.json_response({"id": str(next(self._ids))}, status=201)
        if method == "PUT":
            return web.json_response({"id": segments[-1]}, status=200)
        if method == "DELETE":
            return web.Response(status=200)
        if method == "GET" and segments[-2:-1] == ("members",) and segments[-1] in self.members:
            return web.json_response(self.members[segments[-1]])
        return web.json_response({"error": {"code": "NotFound"}}, status=404)

    async def _record(self, request: web.Request, body: Any, status: int, answer: Any) -> None:
        segments = _segments(request)
        recorded = Recorded(
            method=request.method,
            path="/" + "/".join(segments),
            segments=segments,
            body=body,
            headers=dict(request.headers),
            status=status,
            answer=answer,
        )
        async with self._changed:
            self.requests.append(recorded)
            self._changed.notify_all()


async def _json_body(request: web.Request) -> Any:
    text = await request.text()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _segments(request: web.Request) -> tuple[str, ...]:
    # Split before decoding: a conversation id may hold an encoded '/'.
    raw = request.raw_path.split("?", 1)[0]
    return tuple(unquote(part) for part in raw.split("/") if part)


def _fault_response(fault: Fault) -> web.Response:
    if fault.status == 429:
        body = {"error": {"code": "Throttled", "message": "Too many requests"}}
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
        return web.json_response(body, status=429, headers=headers)
    body = {"error": {"code": "InternalError", "message": "injected fault"}}
    return web.json_response(body, status=fault.status)


@asynccontextmanager
async def fake_connector() -> AsyncIterator[FakeConnector]:
    """A running fake connector on a random loopback port."""
    connector = FakeConnector()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", connector.handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    connector.url = f"http://127.0.0.1:{port}"
    try:
        yield connector
    finally:
        connector.release()
        await runner.cleanup()
