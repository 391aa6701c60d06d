"""The whole round trip on PostgreSQL: Slack and Teams over HTTP, data kept across a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from storage.migrate import upgrade
from tests.support.blockkit import assert_block_kit_limits
from tests.support.fake_connector import FakeConnector, fake_connector
from tests.support.fake_slack import FakeSlack, fake_slack
from tests.support.postgres import fresh_database
from tests.support.server import running_bot
from tests.support.slack_requests import SIGNING_SECRET, SlackSender, slack_env
from tests.support.teams_activities import TeamsClient, card_text

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database() -> AsyncIterator[str]:
    async with fresh_database() as url:
        await asyncio.to_thread(upgrade, url)
        yield url


@pytest.fixture
async def platforms() -> AsyncIterator[tuple[FakeSlack, FakeConnector]]:
    async with fake_slack() as slack, fake_connector() as connector:
        yield slack, connector


def environment(url: str, slack: FakeSlack) -> dict[str, str]:
    return {**slack_env(slack), "TEAMS_ALLOW_UNAUTHENTICATED": "1", "RELEASEBOT_DATABASE_URL": url}


async def test_slack_and_teams_round_trip_on_postgres_survives_a_restart(
    database: str, platforms: tuple[FakeSlack, FakeConnector], tmp_path: Path
) -> None:
    slack, connector = platforms
    env = environment(database, slack)
    async with running_bot(env, cwd=tmp_path) as bot, aiohttp.ClientSession() as http:
        sender = SlackSender(http, bot.url, SIGNING_SECRET, slack)
        declared = await sender.slash("declare checkout@2.4.0 at 2030-01-07 10:00 train public")
        assert declared.status == 200
        await slack.wait_for(lambda: bool(slack.api_calls("chat.postMessage")))
        card = slack.api_calls("chat.postMessage")[0].body
        assert_block_kit_limits(card)
        assert "checkout@2.4.0" in str(card["blocks"])
        teams = TeamsClient(http, bot.url, connector)
        reply = await teams.say("01_personal_message.json", "status checkout@2.4.0")
        text = card_text(reply.cards[0])
        assert "Release checkout@2.4.0" in text and "planned" in text
    async with running_bot(env, cwd=tmp_path) as bot, aiohttp.ClientSession() as http:
        sender = SlackSender(http, bot.url, SIGNING_SECRET, slack)
        status = await sender.slash("status checkout@2.4.0")
        assert status.status == 200 and "train" in status.text.lower()
        listed = await sender.slash("list all")
        assert "checkout@2.4.0" in listed.text
        async with bot.components.store(read_only=True) as uow:
            [event] = [e for e in await uow.audit.all() if e.action == "declared"]
            assert event.surface == "slack"
