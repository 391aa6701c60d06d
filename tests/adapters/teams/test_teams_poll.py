"""A readiness poll end to end on Teams over real HTTP (issue 5): the poll card is a new post in
the channel, put there by the outbox and remembered; answers are clicks on it (Action.Execute,
*Blocked* through its card input) that show the clicker the new card and change everyone's copy
through the outbox; the scheduler's tick reminds who has not answered, and at the deadline the
channel and the owner's personal chat get the escalation and the card loses its buttons.

Every outbox delivery is driven by `deliver` (conftest), so each "exactly one PUT" or "nothing
else was posted" is read once the worker has had its chance, not after a guess at how long.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.clock import ManualClock
from bot import commands
from bot.domain import Actor
from storage.base import CardRef
from storage.memory import MemoryStore
from tests.support.fake_connector import FakeConnector, Recorded
from tests.support.server import RunningBot
from tests.support.teams_activities import (
    CHANNEL,
    INSTALLED,
    TeamsClient,
    activity,
    card_text,
    clicked_on,
    fixture,
    mentioning_bot,
    pressed,
)

from .conftest import UNAUTHENTICATED

RELEASE = "checkout@2.4.0"
# Declared for 22 h from the test's now: answers are due 2 h before, reminders every 4 h.
RELEASE_AT = "2026-11-27 10:00"
UNTIL_DEADLINE = timedelta(hours=20)
SCHEDULER = Actor("releasebot", "releasebot", "system")

ADA_AAD = fixture(CHANNEL)["from"]["aadObjectId"]  # who sends the fixtures' activities
BOB_AAD = "3c4d5e6f-7a8b-4c9d-8e0f-00000000b002"
CAROL_AAD = "5e6f7a8b-9c0d-4e1f-8a2b-00000000c003"  # never answers
GRACE_AAD = "0f1e2d3c-4b5a-4697-8877-665544332211"  # owns the release; not asked
ADA, BOB, CAROL, GRACE = (f"teams:{aad}" for aad in (ADA_AAD, BOB_AAD, CAROL_AAD, GRACE_AAD))
NAMES = {ADA: "Ada Lovelace", BOB: "Bob Kahn", CAROL: "Carol Shaw", GRACE: "Grace Hopper"}
GRACE_CHAT = "a:1gRaCePeRsOnAlChAt0123456789abcdefghijklmnopqrstuvwxyzABCDEFG-hijk"

THREAD = fixture(CHANNEL)["conversation"]["id"]  # where the release is declared
CHANNEL_ID = THREAD.split(";messageid=")[0]
BLOCKED_BY = "The migration was never run on a replica"
# The sign-off roles of a normal release (qa, eng) hold Teams principals, and a Slack one that a
# poll in a Teams channel does not ask; reminders every 4 h, answers due 2 h before the release.
POLICY = f"""
timezone: Europe/London
roles:
  qa: ["{ADA}", "{CAROL}", "slack:U0QA00001"]
  eng: ["{BOB}"]
  ops: ["{GRACE}"]
classes:
  standard: {{signoffs: [], gates: {{}}}}
  normal:
    signoffs: [qa, eng]
    gates: {{min_coverage: 80, max_open_blockers: 0, max_open_criticals: 0}}
  emergency: {{signoffs: [ops], gates: {{}}, retro_review_hours: 48}}
rules: {{forbid_self_approval: true}}
polls: {{remind_every_hours: 4, deadline_hours: 2}}
"""
BUTTONS = ["Ready", "Not ready", "Blocked"]

Deliver = Callable[[], Awaitable[None]]


@pytest.fixture
def bot_env(tmp_path: Path) -> dict[str, str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return {**UNAUTHENTICATED, "RELEASEBOT_POLICY_FILE": str(policy)}


async def test_a_poll_is_answered_in_place_reminds_and_escalates(
    teams: TeamsClient,
    server: RunningBot,
    store: MemoryStore,
    clock: ManualClock,
    deliver: Deliver,
) -> None:
    await _installed_personally(teams, store, GRACE, GRACE_CHAT)
    await _say(teams, f"declare {RELEASE} at {RELEASE_AT} owner {GRACE}")
    poll = await _opened_poll(teams, store, deliver)
    assert _answers(poll.cards[0]) == [f"… {who}: no answer yet" for who in (ADA, CAROL, BOB)]

    card = await _answered(teams, poll, deliver, "Ready", ADA)
    assert f"✓ {NAMES[ADA]}: ready" in _answers(card)  # by name, not the opaque object id
    assert _titles(card) == BUTTONS  # still open for the others

    card = await _answered(teams, poll, deliver, "Blocked", BOB, typed=f"  {BLOCKED_BY} ")
    assert f"✗ {NAMES[BOB]}: blocked — {BLOCKED_BY}" in _answers(card)
    assert _answers(card)[1] == f"… {CAROL}: no answer yet"
    (risk,) = store.data.tables.risks.values()
    assert risk.description == f"Blocked (poll P1): {BLOCKED_BY}"
    assert risk.raised_by == BOB
    assert [e.action for e in store.data.audit].count("poll_answered") == 2

    clock.advance(timedelta(hours=4, minutes=1))
    (reminder,) = await _ticked(server, teams.connector, deliver)
    text = card_text(reminder.cards[0])
    assert text.startswith(f"Reminder: readiness poll P1 for {RELEASE}")
    assert f"Still waiting for {CAROL}" in text  # only who has not answered
    assert ADA not in text and BOB not in text
    assert "actions" not in reminder.cards[0]

    clock.advance(UNTIL_DEADLINE)
    puts = len(_puts_of(teams.connector, poll))
    (escalation,) = await _ticked(server, teams.connector, deliver)
    said = card_text(escalation.cards[0])
    assert said.startswith(f"! No readiness answer for {RELEASE} from {CAROL}")
    assert "Poll P1 passed its deadline." in said
    (owner,) = _posts_to(teams.connector, GRACE_CHAT)  # Teams' nearest to an ephemeral
    assert owner.cards == escalation.cards and owner.body.get("replyToId") is None
    (closed,) = _puts_of(teams.connector, poll)[puts:]
    assert _titles(closed.cards[0]) == []  # nobody answers a poll past its deadline
    assert f"… {CAROL}: no answer yet" in _answers(closed.cards[0])
    assert await store.outbox_depth() == (0, 0)  # all delivered, nothing dead-lettered
    assert [r for r in teams.connector.requests if not 200 <= r.status < 300] == []

    sent = len(teams.connector.requests)
    assert await _ticked(server, teams.connector, deliver) == []  # escalated once, for good
    assert len(teams.connector.requests) == sent


async def test_an_owner_without_a_personal_chat_is_dead_lettered_with_the_reason(
    teams: TeamsClient,
    server: RunningBot,
    store: MemoryStore,
    clock: ManualClock,
    deliver: Deliver,
) -> None:
    """Teams has no ephemeral messages: with no personal chat to use instead, the owner's
    notice is kept, dead, saying why; the channel still gets the escalation."""
    await _say(teams, f"declare {RELEASE} at {RELEASE_AT} owner {GRACE}")
    await _opened_poll(teams, store, deliver)

    clock.advance(UNTIL_DEADLINE + timedelta(minutes=1))
    (escalation,) = await _ticked(server, teams.connector, deliver)

    assert card_text(escalation.cards[0]).startswith(f"! No readiness answer for {RELEASE}")
    (dead,) = await store.dead_letters()
    assert dead.item.message.target == GRACE
    assert f"{GRACE} has no personal chat with releasebot" in dead.error
    assert await store.outbox_depth() == (0, 1)


@pytest.mark.parametrize(
    ("who", "label", "typed", "why"),
    [
        (GRACE, "Ready", None, f"This poll asks the sign-off roles of {RELEASE}"),
        (BOB, "Blocked", "   ", "Say what blocks the release"),
    ],
    ids=["not-asked", "blocked-without-reason"],
)
async def test_a_refused_answer_shows_the_clicker_the_poll_card_with_why_on_top(
    teams: TeamsClient,
    store: MemoryStore,
    deliver: Deliver,
    who: str,
    label: str,
    typed: str | None,
    why: str,
) -> None:
    await _say(teams, f"declare {RELEASE} at {RELEASE_AT} owner {GRACE}")
    poll = await _opened_poll(teams, store, deliver)
    sent, answered = len(teams.connector.requests), len(store.data.audit)

    card = await teams.invoke(_click(teams, poll, label, who, typed))

    notice, *rest = card["body"]
    assert notice["type"] == "Container" and why in card_text({"body": [notice]})
    # Below it the poll card as everyone sees it, buttons and all: the clicker may answer again.
    assert rest == poll.cards[0]["body"] and card["actions"] == poll.cards[0]["actions"]
    await deliver()
    assert len(teams.connector.requests) == sent and await store.outbox_depth() == (0, 0)
    assert "poll_answered" not in [e.action for e in store.data.audit[answered:]]
    assert store.data.tables.risks == {}


async def _installed_personally(
    teams: TeamsClient, store: MemoryStore, who: str, chat: str
) -> None:
    """`who` installs releasebot personally: the reference of their chat with it, `chat`, is
    kept under their name, where a notice for them alone goes."""
    payload = activity(INSTALLED, teams.connector.service_url)
    aad = who.removeprefix("teams:")
    payload["from"] = {"id": f"29:{aad}", "aadObjectId": aad}
    payload["conversation"]["id"] = chat
    answer = await teams.post(payload)
    assert answer.status == 201
    assert store.data.conversation_refs[who]["conversation"]["id"] == chat


async def _say(teams: TeamsClient, command: str) -> Recorded:
    """Ada's `@releasebot <command>` in the channel thread; the bot's answer in the thread."""
    return await teams.say(CHANNEL, mentioning_bot(command))


async def _opened_poll(teams: TeamsClient, store: MemoryStore, deliver: Deliver) -> Recorded:
    """`@releasebot poll`: said in the thread, and the card posted anew by the outbox."""
    answer = await _say(teams, f"poll {RELEASE}")
    assert card_text(answer.cards[0]).startswith(f"✓ Readiness poll P1 for {RELEASE} opens now")
    assert "actions" not in answer.cards[0]  # the card to answer on is the new post
    await deliver()
    (poll,) = _new_posts(teams.connector)
    (card,) = poll.cards
    assert card_text(card).startswith(f"Readiness poll P1: {RELEASE}\nAnswer by ")
    assert _titles(card) == BUTTONS
    blocked = card["actions"][2]
    assert blocked["type"] == "Action.ShowCard"  # Blocked asks for the reason first
    (reason,) = blocked["card"]["body"]
    assert (reason["label"], reason["isRequired"]) == (f"What blocks {RELEASE}?", True)
    assert CardRef("poll:1", "teams", THREAD, str(poll.sent_id)) in store.data.cards
    return poll


async def _answered(
    teams: TeamsClient,
    poll: Recorded,
    deliver: Deliver,
    label: str,
    who: str,
    typed: str | None = None,
) -> dict[str, Any]:
    """`who` clicks `label` on the poll post: they see the new card at once (HTTP 200), and
    everyone's copy is PUT to it through the outbox, once; nothing else is said."""
    posts, puts = len(teams.connector.posted()), len(_puts_of(teams.connector, poll))

    card = await teams.invoke(_click(teams, poll, label, who, typed))

    assert card_text(card).startswith(f"Readiness poll P1: {RELEASE}")  # the clicked card
    await deliver()
    (put,) = _puts_of(teams.connector, poll)[puts:]
    assert put.path == f"/v3/conversations/{THREAD}/activities/{poll.sent_id}"
    assert put.status == 200 and put.cards == [card]  # everyone sees what the clicker saw
    assert len(teams.connector.posted()) == posts  # no message besides the card's change
    return card


def _click(
    teams: TeamsClient, poll: Recorded, label: str, who: str, typed: str | None = None
) -> dict[str, Any]:
    """The invoke Teams sends when `who` clicks `label` on the poll post (after typing
    `typed` into its input, for a button that has one)."""
    data = pressed(poll.cards[0], label, typed)
    payload = clicked_on(teams.connector.service_url, _in_post(poll), str(poll.sent_id), data)
    aad = who.removeprefix("teams:")
    payload["from"] = {"id": f"29:{aad}", "name": NAMES[who], "aadObjectId": aad}
    return payload


async def _ticked(server: RunningBot, connector: FakeConnector, deliver: Deliver) -> list[Recorded]:
    """The scheduler's poll tick, then delivery; the new posts it made in the channel."""
    before = len(_new_posts(connector))
    await server.components.bot.handle(commands.PollTick(), SCHEDULER)
    await deliver()
    return _new_posts(connector)[before:]


def _in_post(post: Recorded) -> dict[str, Any]:
    """The conversation of a click on `post`: the reply chain the post started."""
    conversation = dict(fixture(CHANNEL)["conversation"])
    conversation["id"] = f"{CHANNEL_ID};messageid={post.sent_id}"
    return conversation


def _new_posts(connector: FakeConnector) -> list[Recorded]:
    """Messages the bot posted into the channel itself (not into a thread)."""
    return _posts_to(connector, CHANNEL_ID)


def _posts_to(connector: FakeConnector, conversation: str) -> list[Recorded]:
    path = f"/v3/conversations/{conversation}/activities"
    return connector.delivered(lambda r: r.method == "POST" and r.path == path)


def _puts_of(connector: FakeConnector, post: Recorded) -> list[Recorded]:
    return [r for r in connector.updated() if r.activity_id == post.sent_id]


def _titles(card: dict[str, Any]) -> list[str]:
    return [action["title"] for action in card.get("actions", [])]


def _answers(card: dict[str, Any]) -> list[str]:
    """The lines of the card's Answers section."""
    (section,) = [
        element
        for element in card["body"]
        if element.get("type") == "Container"
        and element["items"]
        and element["items"][0].get("text") == "Answers"
    ]
    return card_text({"body": section["items"][1:]}).split("\n")
