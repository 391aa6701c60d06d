"""Faults at the fake Web API (issue 5): 429 with Retry-After, 500s, timeouts and a restart in
the middle of retries. Every queued message reaches Slack exactly once, counted at the fake.

Time is moved, not slept: the worker's retries are due by the ManualClock, and the test runs
the worker itself (`run_once`) once the clock has passed Retry-After or the back-off. The
server's own worker runs too; whichever claims a message, the lease lets only one send it, so
every wait below is for an outcome (a recorded send, a call at the fake), never for a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.clock import ManualClock
from adapters.slack import sender
from storage.base import CardRef, Outcome, Store
from storage.migrate import upgrade
from storage.sql import open_store
from tests.support.fake_slack import FakeSlack
from tests.support.server import RunningBot, running_bot
from tests.support.slack_requests import CHANNEL_ID, SIGNING_SECRET, SlackSender, slack_env

from .conftest import ALICE, CHANNEL, CardWatchingStore, Watch

RELEASE = "checkout@2.4.0"
HUDDLE_CARD = "Risk huddle H1: checkout@2.4.0"
BACKOFF_PAST = timedelta(minutes=10)  # beyond any back-off of the worker's policy
CLIENT_TIMEOUT = 0.5  # seconds; the fake answers in milliseconds unless told to stall


@pytest.fixture(autouse=True)
def short_client_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox client's timeout, short so a stalled call times out quickly (set before the
    bot is built: it is read when the Slack endpoint is mounted)."""
    monkeypatch.setattr(sender, "TIMEOUT_SECONDS", CLIENT_TIMEOUT)


async def test_a_429_waits_out_retry_after_then_posts_once(
    slack: SlackSender, fake: FakeSlack, bot: RunningBot, store: CardWatchingStore
) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=30)
    await _open_huddle(bot, slack)
    await store.settled(1)
    assert _attempts(fake) == [429]  # handed back to the worker: slack-sdk did not retry it

    clock = _clock(bot)
    clock.advance(timedelta(seconds=29))
    assert await bot.components.delivery.run_once() == 0  # Retry-After not over yet
    clock.advance(timedelta(seconds=1))
    await bot.components.delivery.run_once()

    await store.settled(2)
    assert _attempts(fake) == [429, 200]
    await _assert_remembered_once(store, fake)


async def test_500s_back_off_and_the_message_is_posted_once(
    slack: SlackSender, fake: FakeSlack, bot: RunningBot, store: CardWatchingStore
) -> None:
    fake.fail_next("chat.postMessage", 3, status=500)
    await _open_huddle(bot, slack)

    for attempt in range(1, 4):
        await store.settled(attempt)
        await _retry_due(bot)

    await store.settled(4)
    assert _attempts(fake) == [500, 500, 500, 200]
    await _assert_remembered_once(store, fake)


async def test_a_call_that_times_out_is_posted_once_on_the_retry(
    slack: SlackSender, fake: FakeSlack, bot: RunningBot, store: CardWatchingStore
) -> None:
    fake.delay_next("chat.postMessage", CLIENT_TIMEOUT * 3)
    await _open_huddle(bot, slack)
    await store.settled(1)  # the client gave up: the worker will retry
    await _retry_due(bot)

    await store.settled(2)
    # The stalled call reaches the fake after the client has gone: nothing was posted by it.
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage", delivered=False)) == 2)
    assert sorted(_attempts(fake)) == [200, 499]
    await _assert_remembered_once(store, fake)


async def test_card_updates_held_up_by_a_429_arrive_once_and_in_order(
    slack: SlackSender, fake: FakeSlack, bot: RunningBot, store: CardWatchingStore
) -> None:
    await slack.slash(f"declare {RELEASE} at 2026-12-03 14:00")
    (card,) = await store.wait_for_cards(1)
    fake.fail_next("chat.update", status=429, retry_after=5)
    await slack.slash(f"signal {RELEASE} coverage=70")
    await store.settled(1)
    # The next update queues behind the refused one: it may not overtake it.
    await slack.slash(f"signal {RELEASE} coverage=92")
    assert await bot.components.delivery.run_once() == 0

    _clock(bot).advance(timedelta(seconds=5))
    await bot.components.delivery.run_once()

    await store.settled(3)
    delivered = fake.api_calls("chat.update")
    assert [call.body["ts"] for call in delivered] == [card.message_id] * 2
    assert ["coverage 70" in call.body["text"] for call in delivered] == [True, False]
    assert "coverage 92" in delivered[-1].body["text"]


async def test_a_restart_in_the_middle_of_retries_delivers_once_from_the_new_server(
    fake: FakeSlack, clock: ManualClock, tmp_path: Path
) -> None:
    env = slack_env(fake, RELEASEBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'rb.db'}")
    fake.fail_next("chat.postMessage", status=500)
    fake.fail_next("chat.postMessage", status=429, retry_after=60)
    async with _serving(env, fake, tmp_path, clock) as (bot, slack, watch):
        await _open_huddle(bot, slack)
        await watch.wait_for(lambda: watch.settled == 1)
        await _retry_due(bot)
        await watch.wait_for(lambda: watch.settled == 2)  # 500, then 429: stop now

    async with _serving(env, fake, tmp_path, clock) as (bot, _, watch):
        clock.advance(timedelta(seconds=59))
        assert await bot.components.delivery.run_once() == 0
        clock.advance(timedelta(seconds=1))
        await bot.components.delivery.run_once()
        await watch.wait_for(lambda: watch.settled == 1)
        cards = await bot.components.store.cards_of("huddle:1")

    assert _attempts(fake) == [500, 429, 200]
    (posted,) = fake.api_calls("chat.postMessage")
    assert cards == [CardRef("huddle:1", "slack", CHANNEL_ID, posted.answer["ts"])]


async def _open_huddle(bot: RunningBot, slack: SlackSender) -> None:
    """A release with a risk, and `/release huddle`: its card is queued in the outbox."""
    await bot.components.bot.handle_text(f"declare {RELEASE}", ALICE, CHANNEL)
    await bot.components.bot.handle_text(f"risk {RELEASE} high Payment retries", ALICE, CHANNEL)
    answer = await slack.slash(f"huddle {RELEASE}")
    assert (answer.status, answer.text) == (200, "")


def _clock(bot: RunningBot) -> ManualClock:
    clock = bot.components.clock
    assert isinstance(clock, ManualClock)
    return clock


async def _retry_due(bot: RunningBot) -> None:
    """Move past the back-off and deliver what is due."""
    _clock(bot).advance(BACKOFF_PAST)
    await bot.components.delivery.run_once()


def _attempts(fake: FakeSlack) -> list[int]:
    """The status of every chat.postMessage the fake saw, in order."""
    return [call.status for call in fake.api_calls("chat.postMessage", delivered=False)]


async def _assert_remembered_once(store: CardWatchingStore, fake: FakeSlack) -> None:
    (posted,) = fake.api_calls("chat.postMessage")
    assert posted.body["blocks"][0]["text"]["text"] == HUDDLE_CARD
    assert await store.cards_of("huddle:1") == [
        CardRef("huddle:1", "slack", CHANNEL_ID, posted.answer["ts"])
    ]
    assert await store.outbox_depth() == (0, 0)


class _WatchedStore:
    """A store (SQL here) that tells the test when the worker has recorded a send's outcome."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner
        self.watch = Watch()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __call__(self, *, read_only: bool = False) -> Any:
        return self._inner(read_only=read_only)

    async def settle(self, outcomes: Sequence[Outcome]) -> None:
        await self._inner.settle(outcomes)
        for _ in outcomes:
            await self.watch.note(settled=True)


@asynccontextmanager
async def _serving(
    env: dict[str, str], fake: FakeSlack, cwd: Path, clock: ManualClock
) -> AsyncIterator[tuple[RunningBot, SlackSender, Watch]]:
    """One lifetime of `releasebot serve` over the SQLite file in `env`."""
    url = env["RELEASEBOT_DATABASE_URL"]
    await asyncio.to_thread(upgrade, url)
    store = _WatchedStore(await open_store(url))
    async with (
        running_bot(env, cwd=cwd, clock=clock, store=store) as bot,  # type: ignore[arg-type]
        aiohttp.ClientSession() as session,
    ):
        yield bot, SlackSender(session, bot.url, SIGNING_SECRET, fake), store.watch
