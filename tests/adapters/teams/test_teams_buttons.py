"""Card buttons over real HTTP: Action.Execute invokes answered in the HTTP body, Action.Submit."""

from __future__ import annotations

import json
from typing import Any

from bot import commands
from storage.memory import MemoryStore
from tests.support.teams_activities import (
    CHANNEL,
    EXECUTE,
    SUBMIT,
    TeamsClient,
    activity,
    card_text,
    execute,
    fixture,
    mentioning_bot,
    submit,
)

OWNER = "teams:0f1e2d3c-4b5a-4697-8877-665544332211"  # not Ada, so Ada (qa) may sign off


async def declare(teams: TeamsClient, release: str = "checkout@2.4.0") -> dict[str, Any]:
    """Declare `release` from a channel; return the release card the bot posted."""
    text = mentioning_bot(f"declare {release} at 2026-12-03 14:00 owner {OWNER}")
    reply = await teams.say(CHANNEL, text)
    return reply.cards[0]


def action_titled(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(action for action in card["actions"] if action["title"] == title)


def status_data(release: str) -> dict[str, str]:
    return {"rb": commands.dump(commands.Status(release))}


async def test_action_execute_status_is_answered_with_the_card_in_the_http_body(
    teams: TeamsClient,
) -> None:
    await declare(teams)

    card = await teams.invoke(execute(teams.connector.service_url, status_data("checkout@2.4.0")))

    assert "Release checkout@2.4.0" in card_text(card)
    assert card["version"] == "1.5"
    assert len(teams.connector.posted()) == 1  # only the declare: the invoke answers in its body


async def test_clicking_approve_on_the_posted_card_signs_off_as_the_clicker(
    teams: TeamsClient, store: MemoryStore
) -> None:
    posted = await declare(teams)
    approve = action_titled(posted, "Approve as qa")

    card = await teams.invoke(execute(teams.connector.service_url, approve["data"]))

    assert "✓ qa: approved by Ada Lovelace" in card_text(card)
    assert "Approve as qa" not in [action["title"] for action in card.get("actions", [])]
    assert [e.action for e in store.data.audit].count("declared") == 1
    assert len(store.data.audit) > 1


async def test_reject_asks_for_a_reason_and_the_typed_text_becomes_the_reason(
    teams: TeamsClient,
) -> None:
    posted = await declare(teams)
    show = action_titled(posted, "Reject as qa")
    assert show["type"] == "Action.ShowCard"
    text_input = show["card"]["body"][0]
    data = {**show["card"]["actions"][0]["data"], text_input["id"]: "coverage is 60%"}

    card = await teams.invoke(execute(teams.connector.service_url, data))

    assert "✗ qa: rejected by Ada Lovelace — coverage is 60%" in card_text(card)


async def test_a_recorded_foreign_action_gets_a_card_saying_so_and_changes_nothing(
    teams: TeamsClient, store: MemoryStore
) -> None:
    payload = activity(EXECUTE, teams.connector.service_url)  # data {"release": "1.4.2", …}

    card = await teams.invoke(payload)

    assert "not one of releasebot's" in card_text(card)
    assert card["body"][0]["color"] == "Attention"
    assert store.data.releases == {} and store.data.audit == []


async def test_tampered_button_data_gets_a_card_saying_so(teams: TeamsClient) -> None:
    payload = execute(teams.connector.service_url, {"rb": '{"c":"Nope","release":"x@1"}'})

    card = await teams.invoke(payload)

    assert "not one of releasebot's" in card_text(card)


FORGED_DECLARE = '{"c":"Declare","release":"Evil Name@1 2","owner":"nobody"}'


async def test_button_data_for_a_command_no_button_carries_changes_nothing(
    teams: TeamsClient, store: MemoryStore
) -> None:
    payload = execute(teams.connector.service_url, {"rb": FORGED_DECLARE})

    card = await teams.invoke(payload)

    assert "not one of releasebot's" in card_text(card)
    assert store.data.releases == {} and store.data.audit == []


async def test_a_button_naming_no_known_answer_gets_a_clear_card_and_changes_nothing(
    teams: TeamsClient, store: MemoryStore
) -> None:
    await declare(teams)
    before = (dict(store.data.releases), list(store.data.audit))
    forged = {"c": "AnswerPoll", "poll_id": 1, "answer": "maybe", "reason": ""}

    card = await teams.invoke(execute(teams.connector.service_url, {"rb": json.dumps(forged)}))

    assert "'maybe' is not an answer to a poll" in card_text(card)
    assert (dict(store.data.releases), list(store.data.audit)) == before


async def test_an_invoke_we_do_not_handle_gets_501(teams: TeamsClient) -> None:
    payload = activity(EXECUTE, teams.connector.service_url)
    payload["name"] = "composeExtension/query"

    answer = await teams.post(payload)

    assert answer.status == 501


async def test_action_submit_runs_the_command_and_replies_with_a_card(teams: TeamsClient) -> None:
    await declare(teams)

    reply = await teams.send(submit(teams.connector.service_url, status_data("checkout@2.4.0")))

    assert "Release checkout@2.4.0" in card_text(reply.cards[0])


async def test_a_recorded_foreign_submit_gets_a_card_saying_so(teams: TeamsClient) -> None:
    payload = activity(SUBMIT, teams.connector.service_url)
    assert payload["value"] == fixture(SUBMIT)["value"]

    reply = await teams.send(payload)

    assert "not one of releasebot's" in card_text(reply.cards[0])
