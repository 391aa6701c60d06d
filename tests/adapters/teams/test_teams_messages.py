"""Messages from Teams over real HTTP: personal chat, channel and group-chat @mentions."""

from __future__ import annotations

import pytest

from storage.memory import MemoryStore
from tests.support.teams_activities import (
    CHANNEL,
    GROUP_CHAT,
    PERSONAL,
    TeamsClient,
    activity,
    card_text,
    mentioning_bot,
)

ADA = "teams:6a3a8f2c-4b1e-4c2d-9e8f-00000000a001"
GRACE_AAD = "0f1e2d3c-4b5a-4697-8877-665544332211"


async def test_personal_help_is_answered_with_one_card_replying_to_the_message(
    teams: TeamsClient,
) -> None:
    payload = activity(PERSONAL, teams.connector.service_url, text="help")

    reply = await teams.send(payload)

    conversation = payload["conversation"]["id"]
    assert reply.path == f"/v3/conversations/{conversation}/activities/{payload['id']}"
    assert reply.status == 201
    assert reply.body["type"] == "message"
    assert reply.body["conversation"]["conversationType"] == "personal"
    assert len(reply.cards) == 1
    assert "releasebot commands" in card_text(reply.cards[0])
    assert "declare <service@version>" in card_text(reply.cards[0])
    assert reply.body["summary"].startswith("releasebot commands")
    assert len(teams.connector.posted()) == 1


async def test_personal_status_of_an_unknown_release_says_so(teams: TeamsClient) -> None:
    reply = await teams.say(PERSONAL, "status checkout@9.9.9")

    assert "There is no release checkout@9.9.9" in card_text(reply.cards[0])


async def test_channel_declare_strips_the_mention_stores_the_release_and_audits_once(
    teams: TeamsClient, store: MemoryStore
) -> None:
    reply = await teams.say(CHANNEL, mentioning_bot("declare checkout@2.4.0 at 2026-12-03 14:00\n"))

    assert "Release checkout@2.4.0" in card_text(reply.cards[0])
    release = store.data.releases["checkout@2.4.0"]
    assert release.owner == ADA
    assert release.channel is not None and release.channel.platform == "teams"
    assert [event.action for event in store.data.audit] == ["declared"]
    assert store.data.audit[0].actor == ADA and store.data.audit[0].surface == "teams"


async def test_declared_from_teams_then_status_finds_it(teams: TeamsClient) -> None:
    await teams.say(CHANNEL, mentioning_bot("declare checkout@2.4.0 at 2026-12-03 14:00"))

    reply = await teams.say(PERSONAL, "status checkout@2.4.0")

    text = card_text(reply.cards[0])
    assert "Release checkout@2.4.0" in text
    assert "State: planned" in text
    assert "Thu 3 Dec 2026 14:00" in text


async def test_group_chat_help_is_answered_with_the_mention_stripped(teams: TeamsClient) -> None:
    reply = await teams.say(GROUP_CHAT, mentioning_bot("help"))

    assert reply.body["conversation"]["conversationType"] == "groupChat"
    assert "releasebot commands" in card_text(reply.cards[0])


async def test_a_mention_of_someone_else_becomes_their_teams_principal(
    teams: TeamsClient, store: MemoryStore
) -> None:
    payload = activity(
        CHANNEL,
        teams.connector.service_url,
        text=mentioning_bot("declare search@1.0.0 owner <at>Grace Hopper</at>"),
    )
    payload["entities"].append(
        {
            "type": "mention",
            "text": "<at>Grace Hopper</at>",
            "mentioned": {"id": "29:grace", "name": "Grace Hopper", "aadObjectId": GRACE_AAD},
        }
    )

    await teams.send(payload)

    assert store.data.releases["search@1.0.0"].owner == f"teams:{GRACE_AAD}"


BAD_INPUT = [
    pytest.param(mentioning_bot(""), "The command is empty", id="empty-after-mention"),
    pytest.param(mentioning_bot("   \n "), "The command is empty", id="blank-after-mention"),
    pytest.param(mentioning_bot("frobnicate checkout@1.0"), "Unknown command", id="unknown-verb"),
    pytest.param(
        mentioning_bot("declare checkout@2.4.0 at 2026-13-45 25:00"), "2026-13-45", id="bad-date"
    ),
    pytest.param(mentioning_bot("déclare ✨@1.0 🚀"), "Unknown command 'déclare'", id="unicode"),
    pytest.param(mentioning_bot("declare ✨🚀@1.0"), "is not a service name", id="unicode-release"),
    pytest.param(
        mentioning_bot("declare checkout@1.0 " + "x" * 5000), "too long", id="5000-characters"
    ),
]


@pytest.mark.parametrize(("text", "problem"), BAD_INPUT)
async def test_bad_input_gets_a_clear_card_and_changes_nothing(
    teams: TeamsClient, store: MemoryStore, text: str, problem: str
) -> None:
    reply = await teams.say(CHANNEL, text)

    card = reply.cards[0]
    assert problem in card_text(card)
    assert card["body"][0]["color"] == "Attention"
    assert store.data.releases == {}
    assert store.data.audit == []


async def test_markdown_in_user_text_is_shown_literally(teams: TeamsClient) -> None:
    reply = await teams.say(PERSONAL, "status *bold*@[x](http://evil.example)")

    title_and_more = [block["text"] for block in reply.cards[0]["body"]]
    assert any("\\*bold\\*" in text for text in title_and_more)
    assert not any("[x](" in text for text in title_and_more)
