"""The bot served on one loopback port, a fake Bot Connector on another, Teams' side in between.

Every card the bot sends in these tests is checked against the Adaptive Card 1.5 schema: replies
as `TeamsClient` fetches them, invoke bodies in `TeamsClient.invoke`, and at teardown every card
the fake connector received, fetched or not.

The server runs its outbox worker in the background, as in production; the store it is given is
`Watched`, so `deliver` can make sure everything due has been tried before a test looks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from adapters.clock import ManualClock
from storage.memory import MemoryStore
from tests.support.adaptive_cards import assert_valid_card
from tests.support.fake_connector import FakeConnector, fake_connector
from tests.support.people import NOW
from tests.support.server import RunningBot, running_bot
from tests.support.teams_activities import TeamsClient

from .outbox_watch import Watched, deliver_due

UNAUTHENTICATED = {"TEAMS_ALLOW_UNAUTHENTICATED": "1"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with fake_connector() as fake:
        yield fake
        for card in fake.all_cards():
            assert_valid_card(card)


@pytest.fixture
def bot_env() -> dict[str, str]:
    """The environment the bot is served with; override it to serve another policy."""
    return dict(UNAUTHENTICATED)


@pytest.fixture
async def server(
    tmp_path: Path, clock: ManualClock, store: MemoryStore, bot_env: dict[str, str]
) -> AsyncIterator[RunningBot]:
    watched = Watched(store)
    async with running_bot(bot_env, cwd=tmp_path, clock=clock, store=watched) as running:  # type: ignore[arg-type]
        yield running


@pytest.fixture
def deliver(server: RunningBot) -> Callable[[], Awaitable[None]]:
    """Deliver every outbox message due by the test's clock; return when none is in flight."""
    store = server.components.store
    assert isinstance(store, Watched)
    return lambda: deliver_due(server.components.delivery, store)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def teams(
    session: aiohttp.ClientSession, server: RunningBot, connector: FakeConnector
) -> TeamsClient:
    return TeamsClient(session=session, bot_url=server.url, connector=connector)
