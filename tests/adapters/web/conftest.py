"""The bot serving its REST API on loopback, on the in-memory store and a clock held at NOW,
and a client session to call it with (a module may bring its own `bot`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from adapters.clock import ManualClock
from storage.memory import MemoryStore
from tests.support.people import NOW
from tests.support.rest import TOKEN
from tests.support.server import RunningBot, running_bot


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(
        {"RELEASEBOT_API_TOKEN": TOKEN}, cwd=tmp_path, clock=ManualClock(NOW), store=MemoryStore()
    ) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
