"""Conversation references: stored when the bot arrives or first hears from a conversation,
and good enough to post proactively through the fake connector."""

from __future__ import annotations

import pytest

from adapters.clock import ManualClock
from adapters.delivery import RetryLater
from adapters.settings import TeamsSettings
from adapters.teams.endpoint import build_adapter
from adapters.teams.sender import TeamsSender
from bot.domain import Conversation
from bot.outbox import Outgoing
from bot.reply import Reply, Tone
from storage.memory import MemoryStore
from tests.support.adaptive_cards import assert_valid_card
from tests.support.fake_connector import FakeConnector
from tests.support.teams_activities import (
    BOT_ADDED,
    CHANNEL,
    INSTALLED,
    PERSONAL,
    TeamsClient,
    activity,
    fixture,
    mentioning_bot,
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


def sender(store: MemoryStore, clock: ManualClock) -> TeamsSender:
    adapter = build_adapter(TeamsSettings(allow_unauthenticated=True))
    return TeamsSender(adapter, "", store, clock)


async def test_proactive_send_through_a_stored_reference_reaches_the_connector(
    teams: TeamsClient, store: MemoryStore, clock: ManualClock, connector: FakeConnector
) -> None:
    await teams.post(activity(INSTALLED, connector.service_url))
    reminder = Reply(title="Release sync in 10 minutes", tone=Tone.WARNING)

    sent_id = await sender(store, clock).send(
        Outgoing(Conversation("teams", PERSONAL_CHAT), reminder)
    )

    request = await connector.wait_for(lambda r: r.method == "POST")
    assert request.path == f"/v3/conversations/{PERSONAL_CHAT}/activities"
    assert request.activity_id is None  # a new message, not a reply
    assert sent_id is not None and sent_id == request.sent_id
    assert request.body["recipient"]["aadObjectId"] == "6a3a8f2c-4b1e-4c2d-9e8f-00000000a001"
    assert request.body["conversation"]["tenantID"] == TENANT  # botbuilder's spelling
    assert "Authorization" not in request.headers  # empty app id: no token
    assert_valid_card(request.cards[0])


async def test_a_throttled_proactive_send_asks_the_outbox_to_retry_after_the_header(
    teams: TeamsClient, store: MemoryStore, clock: ManualClock, connector: FakeConnector
) -> None:
    await teams.post(activity(INSTALLED, connector.service_url))
    connector.fail_next(1, status=429, retry_after="2")
    reminder = Reply(title="Reminder: code freeze for checkout@2.4.0 in 1h")

    with pytest.raises(RetryLater) as refused:
        await sender(store, clock).send(Outgoing(Conversation("teams", PERSONAL_CHAT), reminder))

    assert refused.value.after == 2.0
    assert "429" in str(refused.value)
    assert [r.status for r in connector.requests] == [429]  # one attempt: no retry inside


async def test_a_personal_chat_is_also_kept_under_its_person_for_what_only_they_may_see(
    teams: TeamsClient, store: MemoryStore
) -> None:
    await teams.post(activity(INSTALLED, teams.connector.service_url))

    refs = store.data.conversation_refs
    assert refs["teams:6a3a8f2c-4b1e-4c2d-9e8f-00000000a001"] == refs[PERSONAL_CHAT]


async def test_a_channel_is_never_kept_under_a_person(
    teams: TeamsClient, store: MemoryStore
) -> None:
    await teams.say(CHANNEL, mentioning_bot("help"))

    assert [key for key in store.data.conversation_refs if key.startswith("teams:")] == []
