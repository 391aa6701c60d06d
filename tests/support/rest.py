"""Calling the REST API of a running bot, as CI and monitoring do."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from storage.memory import MemoryStore
from tests.support.server import RunningBot

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = AUTH,
    json: Any = None,
) -> tuple[int, Any]:
    """The status and the body (parsed when it is JSON) of one request, with the token unless
    `headers` says otherwise."""
    async with http.request(method, url, headers=headers, json=json) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


def store_of(bot: RunningBot) -> MemoryStore:
    """The in-memory store a test bot runs on, to look at what a call changed."""
    store = bot.components.store
    assert isinstance(store, MemoryStore)
    return store


async def status_of_raw_get(url: str, header: bytes) -> int:
    """The status of a GET of `url` carrying one header line of raw bytes, which need not be
    UTF-8: no HTTP client library sends such a header, but anyone on the network can."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
        writer.write(request.encode() + header + b"\r\n\r\n")
        status_line = await reader.readline()
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])
