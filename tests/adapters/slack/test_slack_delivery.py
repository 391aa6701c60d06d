"""Getting answers out whatever Slack or the store is doing, and keeping them over a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from adapters import scheduler
from adapters.clock import ManualClock
from adapters.slack import listeners
from storage.memory import MemoryStore
from tests.support.blockkit import assert_block_kit_limits, block_texts, privately_shown
from tests.support.fake_slack import FakeSlack
from tests.support.gated_store import GatedStore
from tests.support.server import RunningBot, running_bot
from tests.support.slack_requests import (
    SIGNING_SECRET,
    SlackSender,
    button_labels,
    click,
    slack_env,
)


@pytest.mark.parametrize("status", [429, 500])
async def test_a_refused_post_is_retried_and_delivered_once(
    slack: SlackSender, fake: FakeSlack, status: int
) -> None:
    # The declare card is the command's own answer, posted straight away by the client that
    # retries by itself; what the outbox delivers is proven in test_slack_faults.py.
    fake.fail_next("chat.postMessage", 1, status=status)

    await slack.slash("declare checkout@2.4.0 at 2026-12-03 14:00")

    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 1)
    attempts = fake.api_calls("chat.postMessage", delivered=False)
    assert [call.status for call in attempts] == [status, 200]
    if status == 429:
        assert attempts[1].at - attempts[0].at >= 1.0  # Retry-After: 1 was honoured
    assert_block_kit_limits(attempts[1].body)


async def test_a_card_the_bot_cannot_post_is_shown_in_channel_through_the_response_url(
    slack: SlackSender, fake: FakeSlack, store: MemoryStore
) -> None:
    fake.fail_next("chat.postMessage", error="not_in_channel")

    answer = await slack.slash("declare checkout@2.4.0 at 2026-12-03 14:00")

    await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    response = fake.responses(answer.response_key)[0].body
    assert response["response_type"] == "in_channel"
    assert_block_kit_limits(response)
    assert fake.api_calls("chat.postMessage") == []
    assert list(store.data.releases) == ["checkout@2.4.0"]

    # A click on it replaces it where it stands, for everyone: no stale button stays live.
    press = click(response, "Approve as qa", user="U0QA00001", name="quinn", ts="1718040999.1")
    clicked = await slack.action(press)
    await fake.wait_for(lambda: len(fake.responses(clicked.response_key)) == 1)
    replaced = fake.responses(clicked.response_key)[0].body
    assert replaced["replace_original"] is True and replaced["response_type"] == "in_channel"
    assert_block_kit_limits(replaced)
    assert "✓ qa: approved by quinn" in block_texts(replaced)
    assert "Approve as qa" not in button_labels(replaced)


async def test_a_slow_read_is_acknowledged_at_once_and_answered_later(
    fake: FakeSlack, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listeners, "ACK_BUDGET_SECONDS", 0.05)
    store = GatedStore()
    async with _slack_to(slack_env(fake), fake, tmp_path, clock=clock, store=store) as (_, slack):
        answer = await slack.slash("help")
        assert (answer.status, answer.text) == (200, "")
        assert fake.responses(answer.response_key) == []

        store.gate.set()

        await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    privately_shown(fake.responses(answer.response_key)[0].body)


async def test_shutdown_cancels_a_late_read_that_outlasts_its_grace(
    fake: FakeSlack, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listeners, "ACK_BUDGET_SECONDS", 0.05)
    monkeypatch.setattr(listeners, "SHUTDOWN_GRACE_SECONDS", 0.05)
    monkeypatch.setattr(scheduler, "STOP_GRACE_SECONDS", 0.05)  # its ticks wait at the gate too
    store = GatedStore()
    async with _slack_to(slack_env(fake), fake, tmp_path, clock=clock, store=store) as (_, slack):
        answer = await slack.slash("help")
        assert (answer.status, answer.text) == (200, "")
    # The bot has shut down with the read still waiting for the store: it was cancelled then,
    # not left running against a closed store.
    assert "AnswerInAck._answer" in store.cancelled
    assert fake.responses(answer.response_key) == []


async def test_shutdown_lets_a_change_under_way_finish_before_the_store_closes(
    fake: FakeSlack, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = GatedStore(writes=True)
    store.open_when_shutdown_waits(
        monkeypatch
    )  # the change is let through only once shutdown waits for it
    async with _slack_to(slack_env(fake), fake, tmp_path, clock=clock, store=store) as (_, slack):
        answer = await slack.slash("declare checkout@2.4.0 at 2026-12-03 14:00")
        assert (answer.status, answer.text) == (200, "")  # acknowledged; the work is under way
        await store.arrived("listener:on_change")
    # Shut down: the declaration was waiting for the store, and was let finish, card and all.
    assert list(store.data.releases) == ["checkout@2.4.0"]
    assert len(fake.api_calls("chat.postMessage")) == 1
    assert "listener:on_change" not in store.cancelled


async def test_shutdown_cancels_a_change_that_outlasts_its_grace(
    fake: FakeSlack, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listeners, "SHUTDOWN_GRACE_SECONDS", 0.05)
    store = GatedStore(writes=True)
    async with _slack_to(slack_env(fake), fake, tmp_path, clock=clock, store=store) as (_, slack):
        await slack.slash("declare checkout@2.4.0 at 2026-12-03 14:00")
        await store.arrived("listener:on_change")
    # Cancelled at shutdown, not left waiting for a store that has closed.
    assert "listener:on_change" in store.cancelled and not store.waiting
    assert not store.data.releases and fake.api_calls("chat.postMessage") == []


async def test_releases_survive_a_restart(
    fake: FakeSlack, clock: ManualClock, tmp_path: Path
) -> None:
    env = slack_env(fake, RELEASEBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'rb.db'}")
    async with _slack_to(env, fake, tmp_path, clock=clock) as (_, slack):
        await slack.slash("declare checkout@2.4.0 at 2026-12-03 14:00")
        await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 1)

    async with _slack_to(env, fake, tmp_path, clock=clock) as (bot, slack):
        status = (await slack.slash("status checkout@2.4.0")).json()
        audit = await _audit_of(bot, "checkout@2.4.0")

    assert status["blocks"][0]["text"]["text"] == "Release checkout@2.4.0"
    assert audit == ["declared"]


@asynccontextmanager
async def _slack_to(
    env: dict[str, str],
    fake: FakeSlack,
    cwd: Path,
    *,
    clock: ManualClock,
    store: MemoryStore | None = None,
) -> AsyncIterator[tuple[RunningBot, SlackSender]]:
    """One lifetime of the bot, and Slack's side pointed at it."""
    async with (
        running_bot(env, cwd=cwd, clock=clock, store=store) as bot,
        aiohttp.ClientSession() as session,
    ):
        yield bot, SlackSender(session, bot.url, SIGNING_SECRET, fake)


async def _audit_of(bot: RunningBot, release: str) -> list[str]:
    async with bot.components.store(read_only=True) as uow:
        return [event.action for event in await uow.audit.for_release(release)]
