"""The bot served on one loopback port, a fake Slack Web API on another, Slack's side in between."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.clock import ManualClock
from bot.domain import Actor, Conversation
from bot.reply import Reply
from storage.base import CardRef, Outcome
from storage.memory import MemoryStore
from tests.support.fake_slack import FakeSlack, fake_slack
from tests.support.people import NOW
from tests.support.server import RunningBot, running_bot
from tests.support.slack_requests import (
    ALICE_ID,
    ALICE_NAME,
    CHANNEL_ID,
    SIGNING_SECRET,
    SlackSender,
    slack_env,
)

ALICE = Actor(f"slack:{ALICE_ID}", ALICE_NAME, "slack")
CHANNEL = Conversation("slack", CHANNEL_ID)
Seed = Callable[[str], Awaitable[Reply]]
Snapshot = Callable[[], tuple[Any, ...]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with fake_slack() as running:
        yield running


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


class Watch:
    """Wakes waiters whenever the store remembers a card or the outbox worker settles a send.

    The worker records the outcome of a send after Slack has answered, so the fake's record of
    the call comes first; a test that moves the clock for a retry must wait for the outcome, or
    the retry would be scheduled from the moved clock.
    """

    def __init__(self) -> None:
        self.settled = 0  # sends the worker has recorded: delivered, to retry or dead
        self._changed = asyncio.Condition()

    async def note(self, *, settled: bool) -> None:
        async with self._changed:
            self.settled += settled
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5) -> None:  # noqa: ASYNC109
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)


class CardWatchingStore(MemoryStore):
    """The in-memory store, telling waiters when a card is remembered, a send settled or an
    incoming event claimed."""

    def __init__(self) -> None:
        super().__init__()
        self.watch = Watch()
        self.claims: Counter[str] = Counter()  # attempts to claim each delivery key

    async def claim_delivery(self, key: str, *, at: datetime) -> bool:
        claimed = await super().claim_delivery(key, at=at)
        self.claims[key] += 1
        await self.watch.note(settled=False)
        return claimed

    async def claimed(self, key: str, times: int) -> None:
        """Wait until `key` has been claimed, or refused as taken, `times` times in all."""
        await self.watch.wait_for(lambda: self.claims[key] >= times)

    async def save_card(self, card: CardRef) -> None:
        await super().save_card(card)
        await self.watch.note(settled=False)

    async def settle(self, outcomes: Sequence[Outcome]) -> None:
        await super().settle(outcomes)
        for _ in outcomes:
            await self.watch.note(settled=True)

    async def wait_for_cards(self, count: int, timeout: float = 5) -> list[CardRef]:  # noqa: ASYNC109
        await self.watch.wait_for(lambda: len(self.data.cards) >= count, timeout)
        return list(self.data.cards)

    async def drained(self) -> None:
        """Wait until the worker has settled every message queued so far."""
        await self.watch.wait_for(lambda: all(q.status != "pending" for q in self.data.outbox))

    async def settled(self, count: int) -> None:
        """Wait until the worker has recorded the outcome of `count` sends in all."""
        await self.watch.wait_for(lambda: self.watch.settled >= count)


@pytest.fixture
def store() -> CardWatchingStore:
    return CardWatchingStore()


@pytest.fixture
def extra_env() -> dict[str, str]:
    """More settings for the bot; a test module overrides it, e.g. with its own policy file."""
    return {}


@pytest.fixture
async def bot(
    fake: FakeSlack,
    clock: ManualClock,
    store: MemoryStore,
    tmp_path: Path,
    extra_env: dict[str, str],
) -> AsyncIterator[RunningBot]:
    env = slack_env(fake, **extra_env)
    async with running_bot(env, cwd=tmp_path, clock=clock, store=store) as running:
        yield running


@pytest.fixture
async def slack(bot: RunningBot, fake: FakeSlack) -> AsyncIterator[SlackSender]:
    async with aiohttp.ClientSession() as session:
        yield SlackSender(session, bot.url, SIGNING_SECRET, fake)


@pytest.fixture
def seed(bot: RunningBot) -> Seed:
    """Run a command through the core directly, to set the scene for a Slack request."""

    async def run(text: str) -> Reply:
        return await bot.components.bot.handle_text(text, ALICE, CHANNEL)

    return run


@pytest.fixture
def snapshot(store: MemoryStore) -> Snapshot:
    """Everything a command could change: releases and their tables, audit trail, cards."""
    return lambda: (store.data.tables.copy(), list(store.data.audit), list(store.data.cards))
