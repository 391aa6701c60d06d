"""Calling the REST API of a running bot, as CI and monitoring do."""

from __future__ import annotations

from typing import Any

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
