"""The answer of a platform endpoint that is not set up to take requests on this server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.Response]]


def unavailable(message: str) -> Handler:
    """A handler answering every request 503 with `message` (what is missing, or where the
    platform is served instead), so a misdirected request learns why and changes nothing."""

    async def answer(_request: web.Request) -> web.Response:
        return web.json_response({"error": message}, status=503)

    return answer
