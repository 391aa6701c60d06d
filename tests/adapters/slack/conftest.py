"""The bot served on one loopback port, a fake Slack Web API on another, Slack's side in between."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.clock import ManualClock
from bot.domain import Actor, Conversation
from bot.reply import Reply
from storage.base import CardRef
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


class CardWatchingStore(MemoryStore):
    """The in-memory store, telling waiters when a card is remembered.

    The bot remembers a card after Slack has answered chat.postMessage, so the fake's record of
    the post comes first; a test that needs the card remembered waits for that instead.
    """

    def __init__(self) -> None:
        super().__init__()
        self._saved = asyncio.Condition()

    async def save_card(self, card: CardRef) -> None:
        await super().save_card(card)
        async with self._saved:
            self._saved.notify_all()

    async def wait_for_cards(self, count: int, timeout: float = 5) -> list[CardRef]:  # noqa: ASYNC109
        remembered = lambda: len(self.data.cards) >= count  # noqa: E731
        async with self._saved:
            await asyncio.wait_for(self._saved.wait_for(remembered), timeout)
        return list(self.data.cards)


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
