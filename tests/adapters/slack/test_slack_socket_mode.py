"""Slack over Socket Mode: with SLACK_APP_TOKEN the bot opens a WebSocket to the fake Slack and
takes commands down it, answering as it does over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.clock import ManualClock
from adapters.settings import load_settings
from adapters.slack.socket_mode import CONNECTING
from bot.domain import State
from storage.memory import MemoryStore
from tests.support.blockkit import block_texts, privately_shown
from tests.support.fake_slack import SOCKET_MODE, FakeSlack
from tests.support.gated_store import GatedStore
from tests.support.server import RunningBot, running_bot
from tests.support.slack_requests import CHANNEL_ID, click, fixture, mention

from .conftest import ALICE

APP_TOKEN = "xapp-1-A0RELEASE-1-socket"


def socket_env(fake: FakeSlack) -> dict[str, str]:
    """Socket Mode needs no signing secret: only the app token and the bot token."""
    return {
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_BASE_URL": fake.api_base_url,
    }


@pytest.fixture
async def bot(
    fake: FakeSlack, store: MemoryStore, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    async with running_bot(socket_env(fake), cwd=tmp_path, clock=clock, store=store) as running:
        yield running


def slash(text: str, fake: FakeSlack) -> dict[str, Any]:
    """A slash command's payload as Socket Mode carries it: the HTTP form's fields, as JSON."""
    return {**fixture("slash_command_release.json"), "text": text, "response_url": fake.url}


async def test_the_bot_connects_with_its_app_token(bot: RunningBot, fake: FakeSlack) -> None:
    await fake.wait_for(lambda: bool(fake.open_sockets))
    (opened,) = fake.api_calls("apps.connections.open")
    assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    assert len(fake.api_calls(SOCKET_MODE)) == 1


async def test_a_read_is_answered_in_the_acknowledgement(bot: RunningBot, fake: FakeSlack) -> None:
    await bot.components.bot.handle_text("declare checkout@2.4.0 at 2026-12-03 14:00", ALICE)

    ack = await fake.envelope("slash_commands", slash("status checkout@2.4.0", fake))

    assert "Release checkout@2.4.0" in privately_shown(ack["payload"])


async def test_a_declaration_is_acknowledged_then_its_card_posted(
    bot: RunningBot, fake: FakeSlack, store: MemoryStore
) -> None:
    ack = await fake.envelope("slash_commands", slash("declare search@7.1 at +2d", fake))

    assert "payload" not in ack  # an empty acknowledgement: the card follows in the channel
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 1)
    (posted,) = fake.api_calls("chat.postMessage")
    assert posted.body["channel"] == CHANNEL_ID
    assert posted.headers["Authorization"] == "Bearer xoxb-test"  # the bot's token posts
    assert "Release search@7.1" in block_texts(posted.body)
    assert store.data.releases["search@7.1"].state is State.PLANNED


async def test_a_button_pressed_on_the_card_updates_it_in_place(
    bot: RunningBot, fake: FakeSlack, store: MemoryStore
) -> None:
    await fake.envelope("slash_commands", slash("declare search@7.1 at +2d", fake))
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 1)
    (card,) = fake.api_calls("chat.postMessage")

    press = click(card, "Approve as qa", user="U0QA00001", name="quinn")
    ack = await fake.envelope("interactive", {**press, "response_url": fake.url})

    assert "payload" not in ack
    await fake.wait_for(lambda: len(fake.api_calls("chat.update")) == 1)
    (update,) = fake.api_calls("chat.update")
    assert update.body["ts"] == card.answer["ts"]
    assert "✓ qa: approved by quinn" in block_texts(update.body)
    assert [s.role for s in store.data.tables.signoffs] == ["qa"]


async def test_a_mention_is_answered_in_its_thread(bot: RunningBot, fake: FakeSlack) -> None:
    envelope = mention("help status")

    ack = await fake.envelope("events_api", envelope)

    assert "payload" not in ack
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 1)
    (answer,) = fake.api_calls("chat.postMessage")
    assert answer.body["thread_ts"] == envelope["event"]["ts"]
    assert "status <service@version>" in block_texts(answer.body)


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(
    bot: RunningBot, fake: FakeSlack, store: MemoryStore
) -> None:
    ack = await fake.envelope("slash_commands", slash("declare checkout@2.4.0 at never", fake))

    assert "'never' is not a time I can read" in privately_shown(ack["payload"])
    assert not store.data.releases and not store.data.audit


async def test_http_is_refused_without_a_signing_secret(bot: RunningBot) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{bot.url}/slack/events", data=b"command=/release&text=help") as answer,
    ):
        assert answer.status == 503
        assert "Socket Mode" in (await answer.json())["error"]


async def test_stopping_the_server_closes_the_connection(
    fake: FakeSlack, store: MemoryStore, tmp_path: Path
) -> None:
    async with running_bot(socket_env(fake), cwd=tmp_path, store=store):
        await fake.wait_for(lambda: bool(fake.open_sockets))
    await fake.wait_for(lambda: not fake.open_sockets)


async def test_a_command_under_way_at_shutdown_still_sends_its_acknowledgement(
    fake: FakeSlack, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = GatedStore()
    store.open_when_shutdown_waits(monkeypatch)  # the read goes on only once shutdown waits for it
    async with running_bot(socket_env(fake), cwd=tmp_path, clock=clock, store=store) as bot:
        await bot.components.bot.handle_text("declare checkout@2.4.0 at 2026-12-03 14:00", ALICE)
        status = slash("status checkout@2.4.0", fake)
        acked = asyncio.ensure_future(fake.envelope("slash_commands", status))
        await store.arrived("AnswerInAck._answer")
    # Shut down with the read waiting for the store: its answer still went back on the socket.
    assert "Release checkout@2.4.0" in privately_shown((await acked)["payload"])
    assert not fake.open_sockets


async def test_stopping_while_slack_refuses_the_connection_ends_cleanly(
    fake: FakeSlack, store: MemoryStore, tmp_path: Path
) -> None:
    fake.fail_next("apps.connections.open", times=1000, status=500)  # Slack having trouble
    async with running_bot(socket_env(fake), cwd=tmp_path, store=store):
        await fake.wait_for(lambda: bool(fake.api_calls("apps.connections.open", delivered=False)))
    # The server stopped in the client's 10 s pause between attempts: a client that never
    # connected (no socket, no receiving tasks) is stopped without error or a second try.
    assert len(fake.api_calls("apps.connections.open", delivered=False)) == 1
    assert not fake.sockets


async def test_an_app_token_slack_refuses_is_reported_once_and_not_tried_again(
    fake: FakeSlack, store: MemoryStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next("apps.connections.open", times=1000, error="invalid_auth")
    async with running_bot(socket_env(fake), cwd=tmp_path, store=store):
        await fake.wait_for(lambda: bool(fake.api_calls("apps.connections.open", delivered=False)))
        connecting = [task for task in asyncio.all_tasks() if task.get_name() == CONNECTING]
        # It gives up at once; the SDK alone would wait 10 s and try again, for ever.
        await asyncio.wait_for(asyncio.gather(*connecting), timeout=5)
    refused = [r for r in caplog.records if "Slack refused SLACK_APP_TOKEN" in r.getMessage()]
    assert [r.getMessage() for r in refused] == [
        "Slack refused SLACK_APP_TOKEN (invalid_auth): Slack stays off until it is replaced "
        "and releasebot restarted"
    ]
    assert not [r for r in caplog.records if r.exc_info]  # no stack trace in the log
    assert len(fake.api_calls("apps.connections.open", delivered=False)) == 1
    assert not fake.sockets


def test_socket_mode_needs_only_the_bot_token_besides_the_app_token() -> None:
    assert load_settings({"SLACK_APP_TOKEN": APP_TOKEN}).slack.missing == ["SLACK_BOT_TOKEN"]
    over_http = load_settings({"SLACK_BOT_TOKEN": "xoxb-test"}).slack
    assert over_http.missing == ["SLACK_SIGNING_SECRET"] and not over_http.socket_mode
