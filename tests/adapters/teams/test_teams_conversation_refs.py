"""Conversation references: stored when the bot arrives or first hears from a conversation,
and good enough to post proactively through the fake connector."""

from __future__ import annotations

import pytest

from adapters.settings import TeamsSettings
from adapters.teams.bot import card_message
from adapters.teams.endpoint import build_adapter
from adapters.teams.proactive import DeliveryFailed, send_to_conversation
from bot.reply import Reply, Tone
from storage.memory import MemoryStore
from tests.support.adaptive_cards import assert_valid_card
from tests.support.fake_connector import FakeConnector
from tests.support.teams_activities import (
    BOT_ADDED,
    INSTALLED,
    PERSONAL,
    TeamsClient,
    activity,
    fixture,
)

PERSONAL_CHAT = "a:1pErSoNaLcHaTiDxYz0123456789abcdefghijklmnopqrstuvwxyzABCDEFG-hijk"
TEAM = "19:Xq1w2E3r4T5y6U7i8O9p0aSdFgHjKl@thread.tacv2"
TENANT = "f3b2c1d0-1111-4222-8333-444455556666"


async def test_installation_update_add_stores_the_reference_and_says_nothing(
    teams: TeamsClient, store: MemoryStore
) -> None:
    assert fixture(INSTALLED)["conversation"]["id"] == PERSONAL_CHAT
    answer = await teams.post(activity(INSTALLED, teams.connector.service_url))

    assert answer.status == 201
    reference = store.data.conversation_refs[PERSONAL_CHAT]
    assert reference["serviceUrl"] == teams.connector.service_url
    assert reference["channelId"] == "msteams"
    assert reference["bot"]["id"] == "28:00000000-0000-4000-8000-00000000b075"
    assert reference["user"]["aadObjectId"] == "6a3a8f2c-4b1e-4c2d-9e8f-00000000a001"
    assert reference["conversation"] == {
        "conversationType": "personal",
        "tenantId": TENANT,
        "id": PERSONAL_CHAT,
    }
    assert teams.connector.requests == []


async def test_installation_update_remove_stores_nothing(
    teams: TeamsClient, store: MemoryStore
) -> None:
    payload = activity(INSTALLED, teams.connector.service_url)
    payload["action"] = "remove"

    await teams.post(payload)

    assert store.data.conversation_refs == {}


async def test_bot_added_to_a_team_stores_the_reference(
    teams: TeamsClient, store: MemoryStore
) -> None:
    assert fixture(BOT_ADDED)["conversation"]["id"] == TEAM
    await teams.post(activity(BOT_ADDED, teams.connector.service_url))

    reference = store.data.conversation_refs[TEAM]
    assert reference["conversation"]["id"] == TEAM
    assert "activityId" not in reference  # botbuilder leaves it out for conversationUpdate


async def test_someone_else_added_stores_nothing(teams: TeamsClient, store: MemoryStore) -> None:
    payload = activity(BOT_ADDED, teams.connector.service_url)
    payload["membersAdded"] = [{"id": "29:someone-else"}]

    await teams.post(payload)

    assert store.data.conversation_refs == {}


async def test_the_first_message_stores_the_reference_and_later_ones_leave_it(
    teams: TeamsClient, store: MemoryStore
) -> None:
    first = activity(PERSONAL, teams.connector.service_url, text="help")
    await teams.send(first)
    await teams.say(PERSONAL, "help")

    reference = store.data.conversation_refs[first["conversation"]["id"]]
    assert reference["activityId"] == first["id"]


async def test_proactive_send_through_a_stored_reference_reaches_the_connector(
    teams: TeamsClient, store: MemoryStore, connector: FakeConnector
) -> None:
    await teams.post(activity(INSTALLED, connector.service_url))
    adapter = build_adapter(TeamsSettings(allow_unauthenticated=True))
    reminder = card_message(Reply(title="Release sync in 10 minutes", tone=Tone.WARNING))

    sent_id = await send_to_conversation(
        adapter, "", store.data.conversation_refs[PERSONAL_CHAT], reminder
    )

    request = await connector.wait_for(lambda r: r.method == "POST")
    assert request.path == f"/v3/conversations/{PERSONAL_CHAT}/activities"
    assert request.activity_id is None  # a new message, not a reply
    assert sent_id is not None and sent_id.isdigit()
    assert request.body["recipient"]["aadObjectId"] == "6a3a8f2c-4b1e-4c2d-9e8f-00000000a001"
    assert request.body["conversation"]["tenantID"] == TENANT  # botbuilder's spelling
    assert "Authorization" not in request.headers  # empty app id: no token
    assert_valid_card(request.cards[0])


async def test_a_throttled_proactive_send_raises_for_the_caller_to_retry(
    teams: TeamsClient, store: MemoryStore, connector: FakeConnector
) -> None:
    await teams.post(activity(INSTALLED, connector.service_url))
    adapter = build_adapter(TeamsSettings(allow_unauthenticated=True))
    connector.fail_next(1, status=429, retry_after="2")

    reminder = card_message(Reply(title="Reminder: code freeze for checkout@2.4.0 in 1h"))

    with pytest.raises(DeliveryFailed) as refused:
        await send_to_conversation(
            adapter, "", store.data.conversation_refs[PERSONAL_CHAT], reminder
        )

    assert (refused.value.status, refused.value.retry_after) == (429, 2.0)
    assert [r.status for r in connector.requests] == [429]  # botbuilder does not retry
