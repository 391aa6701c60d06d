"""A readiness poll end to end on Slack over real HTTP (issue 5): the card posted through the
outbox and remembered, answers updating it in place, *Blocked* asking for a reason that becomes
a risk, a reminder of who has not answered, and the escalation to the channel and the owner."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot import commands
from bot.domain import Actor
from storage.base import CardRef
from tests.support.blockkit import assert_block_kit_limits, assert_modal_limits, block_texts
from tests.support.fake_slack import Call, FakeSlack
from tests.support.server import RunningBot
from tests.support.slack_requests import (
    ALICE_ID,
    CHANNEL_ID,
    SlackSender,
    button_labels,
    view_submission,
)

from .signoff_steps import BOTH, ENG, NAMES, QA, RELEASE, policy_env, press

if TYPE_CHECKING:
    from adapters.clock import ManualClock

    from .conftest import CardWatchingStore

SCHEDULER = Actor("releasebot", "releasebot", "system")
# Declared for 22 h from the test's now: answers are due 2 h before, reminders every 4 h.
RELEASE_AT = "2026-11-27 10:00"
UNTIL_DEADLINE = timedelta(hours=20)


@pytest.fixture
def extra_env(tmp_path: Path) -> dict[str, str]:
    return policy_env(tmp_path)


async def test_a_poll_is_answered_in_place_reminds_and_escalates(
    slack: SlackSender,
    fake: FakeSlack,
    bot: RunningBot,
    store: CardWatchingStore,
    clock: ManualClock,
) -> None:
    await slack.slash(f"declare {RELEASE} at {RELEASE_AT}")
    await store.wait_for_cards(1)
    poll = await _opened_poll(slack, fake, store)
    assert _answers(poll) == [f"… <@{who}>: no answer yet" for who in (QA, BOTH, ENG)]

    card = await _answered(slack, fake, poll, "Ready", QA)
    assert f"✓ {NAMES[QA]}: ready" in _answers(card)
    assert button_labels(card.body) == ["Ready", "Not ready", "Blocked"]

    card = await _blocked(slack, fake, card, ENG, "The migration was never run on a replica")
    assert f"✗ {NAMES[ENG]}: blocked — The migration was never run on a replica" in _answers(card)
    (risk,) = store.data.tables.risks.values()
    assert risk.description == "Blocked (poll P1): The migration was never run on a replica"
    assert risk.raised_by == f"slack:{ENG}"

    clock.advance(timedelta(hours=4, minutes=1))
    (reminder,) = await _ticked(bot, fake, posts=1)
    assert block_texts(reminder).startswith("Reminder: readiness poll P1 for checkout@2.4.0")
    assert f"Still waiting for <@{BOTH}>" in block_texts(reminder)  # only who has not answered

    clock.advance(UNTIL_DEADLINE)
    (escalation,) = await _ticked(bot, fake, posts=1)
    assert f"No readiness answer for {RELEASE} from <@{BOTH}>" in block_texts(escalation)
    (owner,) = fake.api_calls("chat.postEphemeral")
    assert (owner.body["channel"], owner.body["user"]) == (CHANNEL_ID, ALICE_ID)
    assert block_texts(owner.body) == block_texts(escalation)
    assert_block_kit_limits(owner.body)
    closed = fake.api_calls("chat.update")[-1]
    assert closed.body["ts"] == poll.answer["ts"] and button_labels(closed.body) == []


async def test_a_blocked_answer_puts_its_risk_on_the_open_huddle_card(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    await slack.slash(f"declare {RELEASE} at {RELEASE_AT}")
    await store.wait_for_cards(1)
    poll = await _opened_poll(slack, fake, store)
    await slack.slash(f"huddle {RELEASE} Go or no go?")
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 3)
    huddle_ts = fake.api_calls("chat.postMessage")[2].answer["ts"]

    await _blocked(slack, fake, poll, ENG, "The migration was never run on a replica")

    def huddle_updates() -> list[Call]:
        return [c for c in fake.api_calls("chat.update") if c.body["ts"] == huddle_ts]

    await fake.wait_for(lambda: len(huddle_updates()) == 1)
    (huddle,) = huddle_updates()
    assert_block_kit_limits(huddle.body)
    risk = "R1 [high] Blocked (poll P1): The migration was never run on a replica — open"
    assert risk in block_texts(huddle.body)
    assert button_labels(huddle.body) == ["R1: Blocker", "R1: Accept risk", "R1: Defer"]


async def _opened_poll(slack: SlackSender, fake: FakeSlack, store: CardWatchingStore) -> Call:
    """`/release poll`: the card goes to the channel through the outbox and is remembered."""
    answer = await slack.slash(f"poll {RELEASE}")
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 2)
    poll = fake.api_calls("chat.postMessage")[1]
    assert poll.body["channel"] == CHANNEL_ID
    assert_block_kit_limits(poll.body)
    assert block_texts(poll.body).startswith(f"Readiness poll P1: {RELEASE}")
    assert button_labels(poll.body) == ["Ready", "Not ready", "Blocked"]
    cards = await store.wait_for_cards(2)
    assert CardRef("poll:1", "slack", CHANNEL_ID, poll.answer["ts"]) in cards
    await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    said = fake.responses(answer.response_key)[0].body
    assert f"Readiness poll P1 for {RELEASE} opens now" in block_texts(said)
    return poll


async def _answered(slack: SlackSender, fake: FakeSlack, card: Call, label: str, user: str) -> Call:
    """`user` presses `label`: the poll card is updated in place, and nothing else is said."""
    seen = len(fake.api_calls("chat.update"))
    answer = await press(slack, card, label, user, ts=_ts(card))
    return await _updated(fake, seen, card, answer.response_key)


async def _blocked(slack: SlackSender, fake: FakeSlack, card: Call, user: str, reason: str) -> Call:
    """`user` presses Blocked, and gives the reason in the modal it opens."""
    await press(slack, card, "Blocked", user, ts=_ts(card))
    await fake.wait_for(lambda: len(fake.api_calls("views.open")) == 1)
    view = fake.api_calls("views.open")[0].body["view"]
    assert_modal_limits(view)
    assert view["blocks"][0]["label"]["text"] == f"What blocks {RELEASE}?"
    seen = len(fake.api_calls("chat.update"))
    answer = await slack.submit(view_submission(view, reason, user=user, name=NAMES[user]))
    assert (answer.status, answer.text) == (200, "")
    return await _updated(fake, seen, card, None)


async def _updated(fake: FakeSlack, seen: int, card: Call, key: str | None) -> Call:
    """The poll card's own update after `seen` (a Blocked answer also updates release cards)."""

    def poll_updates() -> list[Call]:
        return [c for c in fake.api_calls("chat.update")[seen:] if c.body["ts"] == _ts(card)]

    await fake.wait_for(lambda: len(poll_updates()) == 1)
    (update,) = poll_updates()
    assert update.body["channel"] == CHANNEL_ID
    assert_block_kit_limits(update.body)
    # The clicked card itself shows the answer: no private reply besides it.
    assert fake.api_calls("chat.postEphemeral") == []
    assert key is None or fake.responses(key) == []
    return update


async def _ticked(bot: RunningBot, fake: FakeSlack, *, posts: int) -> list[dict[str, Any]]:
    """The scheduler's poll tick, then delivery; returns the messages it posted."""
    before = len(fake.api_calls("chat.postMessage"))
    await bot.components.bot.handle(commands.PollTick(), SCHEDULER)
    await bot.components.delivery.run_once()
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == before + posts)
    new = [call.body for call in fake.api_calls("chat.postMessage")[before:]]
    for message in new:
        assert message["channel"] == CHANNEL_ID
        assert_block_kit_limits(message)
    return new


def _ts(card: Call) -> str:
    """The ts of the poll card, from its post or from an update of it."""
    return str(card.body.get("ts") or card.answer["ts"])


def _answers(card: Call) -> list[str]:
    """The lines of the card's Answers section."""
    (section,) = [
        b for b in card.body["blocks"] if b.get("text", {}).get("text", "").startswith("*Answers*")
    ]
    return str(section["text"]["text"]).split("\n")[1:]
