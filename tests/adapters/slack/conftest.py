"""The bot served on one loopback port, a fake Slack Web API on another, Slack's side in between."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.clock import ManualClock
from bot.domain import Actor, Conversation
from bot.reply import Reply
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


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def bot(
    fake: FakeSlack, clock: ManualClock, store: MemoryStore, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    async with running_bot(slack_env(fake), cwd=tmp_path, clock=clock, store=store) as running:
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
