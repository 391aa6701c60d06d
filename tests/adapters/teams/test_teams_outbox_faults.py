"""Faults at the fake connector (issue 5, Teams): whatever the connector answers — 429 with
Retry-After, 412, 502, 504, 500, no answer in time — and across a restart of the bot in the
middle of the retries, every message reaches Teams exactly once, in order.

Time is the test's ManualClock: it is moved past each Retry-After or back-off, never slept out,
and `deliver_due` waits until the worker (the server's own, or this test's call) has settled
every message that was due.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from adapters.clock import ManualClock
from adapters.teams import connector as teams_connector
from bot.domain import Conversation
from bot.outbox import Outgoing
from bot.reply import Reply
from storage.memory import MemoryStore
from storage.migrate import upgrade
from storage.sql import open_store
from tests.support.fake_connector import FakeConnector
from tests.support.people import NOW
from tests.support.server import RunningBot, running_bot
from tests.support.teams_activities import (
    CHANNEL,
    TeamsClient,
    activity,
    card_text,
    execute,
    fixture,
    mentioning_bot,
)

from .conftest import UNAUTHENTICATED
from .outbox_watch import Watched, deliver_due

THREAD = fixture(CHANNEL)["conversation"]["id"]
CHANNEL_POSTS = f"/v3/conversations/{THREAD.split(';messageid=')[0]}/activities"
AFTER_ANY_BACKOFF = timedelta(seconds=301)  # the worker's longest back-off is 300 s


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connector that does not answer is given up on after 0.2 s, not 15 s."""
    monkeypatch.setattr(teams_connector, "TIMEOUT", (1.0, 0.2))


def a_post(method: str, segments: tuple[str, ...]) -> bool:
    """Faults aimed at new posts in the channel, not at anything else the bot sends."""
    return method == "POST" and "/" + "/".join(segments) == CHANNEL_POSTS


def notice(number: int) -> Outgoing:
    return Outgoing(Conversation("teams", THREAD), Reply(title=f"Notice {number}"))


async def queue(store: Watched | MemoryStore, *messages: Outgoing) -> None:
    async with store() as uow:
        for message in messages:
            await uow.outbox.add(message, at=NOW)
        await uow.commit()


def arrived(connector: FakeConnector) -> list[str]:
    """The notices the connector accepted, in the order it accepted them."""
    posts = connector.delivered(lambda r: r.method == "POST" and r.path == CHANNEL_POSTS)
    return [card_text(r.cards[0]) for r in posts]


def attempts(connector: FakeConnector, title: str) -> list[int]:
    """The answers the connector gave to each attempt to post `title` (0: no answer)."""
    return [r.status for r in connector.requests if r.cards and title in card_text(r.cards[0])]


async def hear_in_thread(
    session: aiohttp.ClientSession, bot: RunningBot, connector: FakeConnector
) -> None:
    """The bot hears from the channel thread (a click answered in the HTTP body alone)."""
    client = TeamsClient(session=session, bot_url=bot.url, connector=connector)
    await client.invoke(execute(connector.service_url, {"rb": "not ours"}))


async def test_every_kind_of_refusal_is_retried_until_each_message_arrives_once_in_order(
    teams: TeamsClient,
    server: RunningBot,
    store: MemoryStore,
    clock: ManualClock,
    connector: FakeConnector,
    deliver: Callable[[], Awaitable[None]],
) -> None:
    await hear_in_thread(teams.session, server, connector)
    connector.fail_next(1, status=429, retry_after="5", when=a_post)
    for status in (412, 502, 504, 500):
        connector.fail_next(1, status=status, when=a_post)
    connector.hang_next(1, when=a_post)
    await queue(store, notice(1), notice(2), notice(3))

    await deliver()
    clock.advance(timedelta(seconds=4))
    await deliver()
    assert attempts(connector, "Notice 1") == [429]  # Retry-After 5 s is not over
    clock.advance(timedelta(seconds=1))
    for _ in range(6):
        await deliver()
        clock.advance(AFTER_ANY_BACKOFF)

    assert attempts(connector, "Notice 1") == [429, 412, 502, 504, 500, 0, 201]
    assert arrived(connector) == ["Notice 1", "Notice 2", "Notice 3"]  # once each, in order
    assert await store.outbox_depth() == (0, 0)


async def test_an_answer_the_connector_does_not_take_in_time_is_delivered_by_the_outbox(
    teams: TeamsClient,
    clock: ManualClock,
    connector: FakeConnector,
    deliver: Callable[[], Awaitable[None]],
) -> None:
    connector.hang_next(1)  # the reply to the message, in the turn
    payload = activity(CHANNEL, connector.service_url, text=mentioning_bot("help"))

    answer = await teams.post(payload)

    assert answer.status == 201  # the turn ended after the client's timeout, not the fake's
    [hung] = connector.requests
    assert (hung.status, hung.activity_id) == (0, payload["id"])
    clock.advance(AFTER_ANY_BACKOFF)
    await deliver()
    [late] = connector.delivered()
    in_thread = f"/v3/conversations/{THREAD}/activities"  # still in the thread it answers
    assert (late.path, late.cards) == (in_thread, hung.cards)


@asynccontextmanager
async def bot_on(url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[RunningBot]:
    """`releasebot serve` over the SQLite database at `url`, its store watched."""
    store = Watched(await open_store(url))
    env = {**UNAUTHENTICATED, "RELEASEBOT_DATABASE_URL": url}
    async with running_bot(env, cwd=tmp_path, clock=clock, store=store) as running:  # type: ignore[arg-type]
        yield running


async def test_a_restart_in_the_middle_of_retries_delivers_each_message_once(
    tmp_path: Path,
    clock: ManualClock,
    session: aiohttp.ClientSession,
    connector: FakeConnector,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'releasebot.db'}"
    await asyncio.to_thread(upgrade, url)
    connector.fail_next(1, status=429, retry_after="30", when=a_post)
    connector.fail_next(1, status=502, when=a_post)

    async with bot_on(url, tmp_path, clock) as first:
        await hear_in_thread(session, first, connector)
        store = first.components.store
        assert isinstance(store, Watched)
        await queue(store, notice(1), notice(2))
        await deliver_due(first.components.delivery, store)
        clock.advance(timedelta(seconds=30))
        await deliver_due(first.components.delivery, store)
        assert attempts(connector, "Notice 1") == [429, 502]
    # The first bot is gone with both notices still queued; a new one starts on the same file.
    clock.advance(AFTER_ANY_BACKOFF)
    async with bot_on(url, tmp_path, clock) as second:
        store = second.components.store
        assert isinstance(store, Watched)
        await deliver_due(second.components.delivery, store)
        assert await store.outbox_depth() == (0, 0)

    assert attempts(connector, "Notice 1") == [429, 502, 201]
    assert attempts(connector, "Notice 2") == [201]
    assert arrived(connector) == ["Notice 1", "Notice 2"]
