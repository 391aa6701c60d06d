"""A risk huddle on Teams over real HTTP (issue 4): the huddle card is a new post in the channel,
decisions are made on it through its card input, and it changes for everyone through the outbox.

Outbox deliveries are driven by `deliver` (conftest), so every "nothing more was sent" is read
after the worker has had its chance, not after a guess at how long it takes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.teams.cards import ON_KEY
from storage.base import CardRef
from storage.memory import MemoryStore
from tests.support.fake_connector import FakeConnector, Recorded
from tests.support.teams_activities import (
    CHANNEL,
    TeamsClient,
    card_text,
    clicked_on,
    fixture,
    mentioning_bot,
    pressed,
)

RELEASE = "payments@3.1.0"
GRACE = "teams:0f1e2d3c-4b5a-4697-8877-665544332211"  # the owner, so Ada may sign off
THREAD = fixture(CHANNEL)["conversation"]["id"]
CHANNEL_ID = THREAD.split(";messageid=")[0]
RATIONALE = "the migration locks the orders table for 20 minutes at peak"
R1 = "R1 [high] payment migration may lock the orders table"
R1_BLOCKER = f"{R1} — blocker by Ada Lovelace: {RATIONALE}"

Deliver = Callable[[], Awaitable[None]]


async def say(teams: TeamsClient, command: str) -> Recorded:
    """`@releasebot <command>` in the channel thread; the bot's answer in the thread."""
    return await teams.say(CHANNEL, mentioning_bot(command))


def new_posts(connector: FakeConnector) -> list[Recorded]:
    """Messages the bot posted into the channel itself (not into a thread)."""
    channel = f"/v3/conversations/{CHANNEL_ID}/activities"
    return connector.delivered(lambda r: r.method == "POST" and r.path == channel)


def titles(card: dict[str, Any]) -> list[str]:
    return [action["title"] for action in card.get("actions", [])]


@pytest.fixture
async def huddle(teams: TeamsClient, deliver: Deliver) -> Recorded:
    """A release with two risks and an open huddle; the huddle card as the worker posted it."""
    await say(teams, f"declare {RELEASE} at 2026-12-03 14:00 owner {GRACE}")
    await say(teams, f"signal {RELEASE} coverage=91")  # so only the risks decide the gate
    await say(teams, f"risk {RELEASE} high payment migration may lock the orders table")
    await say(teams, f"risk {RELEASE} low typo in the changelog")
    answer = await say(teams, f"huddle {RELEASE} go/no-go for Thursday")
    # In the thread, a word that the huddle is open; not a second copy of the card to keep true.
    assert "H1" in card_text(answer.cards[0]) and "actions" not in answer.cards[0]
    await deliver()
    [post] = new_posts(teams.connector)
    return post


def in_post(post: Recorded) -> dict[str, Any]:
    """The conversation of a click on `post`: the reply chain the post started."""
    conversation = dict(fixture(CHANNEL)["conversation"])
    conversation["id"] = f"{CHANNEL_ID};messageid={post.sent_id}"
    return conversation


async def decide_on(teams: TeamsClient, post: Recorded, title: str, typed: str) -> dict[str, Any]:
    data = pressed(post.cards[0], title, typed)
    url = teams.connector.service_url
    return await teams.invoke(clicked_on(url, in_post(post), str(post.sent_id), data))


async def test_the_huddle_card_is_a_new_post_in_the_channel_and_remembered(
    huddle: Recorded, store: MemoryStore
) -> None:
    text = card_text(huddle.cards[0])
    assert "Risk huddle H1: payments@3.1.0" in text and "go/no-go for Thursday" in text
    assert f"{R1} — open" in text
    assert titles(huddle.cards[0]) == [
        f"R{n}: {choice}" for n in (1, 2) for choice in ("Blocker", "Accept risk", "Defer")
    ]
    show = huddle.cards[0]["actions"][0]
    assert show["type"] == "Action.ShowCard"  # choosing asks for the rationale first
    assert show["card"]["body"][0]["isRequired"] is True
    huddle_cards = [card for card in store.data.cards if card.release == "huddle:1"]
    assert huddle_cards == [CardRef("huddle:1", "teams", THREAD, str(huddle.sent_id))]


async def test_a_decision_through_the_card_input_updates_the_huddle_card_for_everyone(
    teams: TeamsClient, huddle: Recorded, store: MemoryStore, deliver: Deliver
) -> None:
    card = await decide_on(teams, huddle, "R1: Blocker", RATIONALE)

    text = card_text(card)
    assert R1_BLOCKER in text
    assert "Risk huddle H1" in text  # the clicked card, not the release card
    # The blocker can still be accepted or deferred from the card.
    assert titles(card) == [
        "R1: Accept risk",
        "R1: Defer",
        "R2: Blocker",
        "R2: Accept risk",
        "R2: Defer",
    ]
    await deliver()
    [put] = [r for r in teams.connector.updated() if r.activity_id == huddle.sent_id]
    assert put.path == f"/v3/conversations/{THREAD}/activities/{huddle.sent_id}"
    assert put.status == 200 and put.cards == [card]
    [decision] = store.data.tables.decisions
    assert (decision.outcome.value, decision.rationale) == ("blocker", RATIONALE)


@pytest.mark.parametrize("typed", ["", "   ", None])
async def test_a_decision_without_a_rationale_is_refused_and_changes_nothing(
    teams: TeamsClient, huddle: Recorded, store: MemoryStore, deliver: Deliver, typed: str | None
) -> None:
    sent, audited = len(teams.connector.requests), len(store.data.audit)

    card = await decide_on(teams, huddle, "R2: Accept risk", typed or "")

    notice, *rest = card["body"]
    assert "A decision needs a rationale" in card_text({"body": [notice]})
    assert "Risk huddle H1" in card_text({"body": rest})  # the huddle card, buttons and all
    assert "R2: Accept risk" in titles(card)
    await deliver()
    assert store.data.tables.decisions == [] and len(store.data.audit) == audited
    assert len(teams.connector.requests) == sent and await store.outbox_depth() == (0, 0)


async def test_the_gate_fails_on_the_blocker_the_close_posts_the_outcome_and_accepting_passes(
    teams: TeamsClient, huddle: Recorded, deliver: Deliver
) -> None:
    await decide_on(teams, huddle, "R1: Blocker", RATIONALE)

    failing = card_text((await say(teams, f"gate {RELEASE}")).cards[0])
    assert "Gates for payments@3.1.0: fail" in failing and "open blockers 1 > 0" in failing

    await say(teams, f"huddle close {RELEASE}")
    await deliver()
    first, outcome = new_posts(teams.connector)
    assert first.sent_id == huddle.sent_id
    summary = card_text(outcome.cards[0])
    assert "Huddle H1 on payments@3.1.0 closed" in summary
    assert R1_BLOCKER in summary
    assert "1 risk(s) still undecided." in summary
    closed = [r for r in teams.connector.updated() if r.activity_id == huddle.sent_id][-1]
    assert "(closed)" in card_text(closed.cards[0]) and titles(closed.cards[0]) == []

    await say(teams, "decide R1 accept fix ships in 3.1.1; the table lock is off-peak only")
    passing = card_text((await say(teams, f"gate {RELEASE}")).cards[0])
    assert "Gates for payments@3.1.0: pass" in passing and "open blockers 0 ≤ 0" in passing


async def test_the_card_input_text_is_kept_exactly_and_the_text_twin_agrees(
    teams: TeamsClient, huddle: Recorded
) -> None:
    await decide_on(teams, huddle, "R2: Defer", "  next train *please*  ")

    log = card_text((await say(teams, f"decisions {RELEASE}")).cards[0])
    assert "R2 defer by Ada Lovelace: next train *please*" in log


@pytest.mark.parametrize(
    "on", ["huddle:²", "huddle:99999999999999999999", "huddle:" + "9" * 5000, "poll:x"]
)
async def test_a_click_naming_a_card_that_cannot_exist_still_gets_its_answer(
    teams: TeamsClient, huddle: Recorded, store: MemoryStore, on: str
) -> None:
    data = pressed(huddle.cards[0], "R1: Blocker", RATIONALE)
    data[ON_KEY] = on  # what the card carried was changed on the way

    card = await teams.invoke(
        clicked_on(teams.connector.service_url, in_post(huddle), str(huddle.sent_id), data)
    )

    assert R1_BLOCKER in card_text(card)  # the decision's own answer, as for no card at all
    [decision] = store.data.tables.decisions
    assert decision.rationale == RATIONALE
