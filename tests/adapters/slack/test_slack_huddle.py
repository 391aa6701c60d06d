"""A whole risk huddle on Slack over real HTTP (issue 4): the huddle card posted through the
outbox and remembered, decisions through the buttons and the rationale modal, both cards
updated in place, the outcome posted, and the gate following the decisions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from storage.base import CardRef
from tests.support.blockkit import assert_block_kit_limits, assert_modal_limits, block_texts
from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_requests import (
    CHANNEL_ID,
    SlackSender,
    button_labels,
    mention,
    view_submission,
)

from .signoff_steps import ENG, NAMES, QA, RELEASE, actions, covered, declared, policy_env, press

if TYPE_CHECKING:
    from .conftest import CardWatchingStore

HUDDLE = "huddle:1"


@pytest.fixture
def extra_env(tmp_path: Path) -> dict[str, str]:
    return policy_env(tmp_path)


async def test_a_whole_huddle_decides_in_place_and_the_gate_follows(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    release_ts = (await declared(slack, fake, store)).answer["ts"]
    await covered(slack, fake)
    await _raise_risks(slack, fake)

    huddle = await _opened_huddle(slack, fake, store)
    await _discussed_in_its_thread(slack, fake, huddle)

    # R1: Blocker, through the modal; a first try without a rationale is refused there.
    view = await _decision_modal(slack, fake, huddle, "R1: Blocker", ENG)
    await _refused_without_rationale(slack, fake, store, view)
    card = await _submitted(slack, fake, view, "Double charges are unacceptable", ENG, huddle)
    assert "R1 [high] Payment retries may double charge — blocker by erin: Double charges" in (
        block_texts(card.body)
    )
    # A blocker can still be accepted or deferred from the card; R2 is open to all three.
    assert button_labels(card.body) == [
        "R1: Accept risk",
        "R1: Defer",
        "R2: Blocker",
        "R2: Accept risk",
        "R2: Defer",
    ]
    assert "R1 [high] Payment retries may double charge — blocker" in _latest(fake, release_ts)

    # R2: Accept risk, from the card as it now stands; only R1's buttons are left.
    view = await _decision_modal(slack, fake, card, "R2: Accept risk", QA)
    card = await _submitted(slack, fake, view, "Cosmetic; fixed in 2.4.1", QA, huddle)
    assert "R2 [low] Receipt typo — accepted by quinn: Cosmetic; fixed in 2.4.1" in (
        block_texts(card.body)
    )
    assert button_labels(card.body) == ["R1: Accept risk", "R1: Defer"]

    outcome = await _closed(slack, fake)
    assert "R1 [high] Payment retries may double charge — blocker by erin" in outcome
    assert "R2 [low] Receipt typo — accepted by quinn" in outcome

    assert await _gate(slack) == "Gates for checkout@2.4.0: fail"
    await _decide_by_text(slack, fake, "R1 accept Behind a flag until the fix ships")
    assert await _gate(slack) == "Gates for checkout@2.4.0: pass"
    assert actions(store).count("decided") == 3


async def test_two_forms_opened_from_one_button_record_the_decision_once(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    huddle = await _huddle_on_two_risks(slack, fake, store)
    first = await _decision_modal(slack, fake, huddle, "R2: Accept risk", QA)
    second = await _decision_modal(slack, fake, huddle, "R2: Accept risk", QA)  # a double click
    await _submitted(slack, fake, first, "Cosmetic; fixed in 2.4.1", QA, huddle)
    updated, told = len(fake.api_calls("chat.update")), len(fake.api_calls("chat.postEphemeral"))

    reason = "Cosmetic; fixed in 2.4.1"
    answer = await slack.submit(view_submission(second, reason, user=QA, name=NAMES[QA]))

    assert (answer.status, answer.text) == (200, "")
    await fake.wait_for(lambda: len(fake.api_calls("chat.postEphemeral")) == told + 1)
    private = fake.api_calls("chat.postEphemeral")[-1].body
    assert private["user"] == QA
    assert block_texts(private).startswith("Nothing changed: you already made that decision on R2")
    assert len(store.data.tables.decisions) == 1 and actions(store).count("decided") == 1
    assert len(fake.api_calls("chat.update")) == updated


async def test_cancelling_the_release_closes_its_huddle_and_its_buttons_decide_nothing(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    huddle = await _huddle_on_two_risks(slack, fake, store)
    view = await _decision_modal(slack, fake, huddle, "R1: Accept risk", QA)  # opened before
    seen = len(fake.api_calls("chat.update"))

    await slack.slash(f"cancel {RELEASE} postponed to January")

    await fake.wait_for(lambda: len(fake.api_calls("chat.update")) == seen + 2)
    closed = _latest(fake, huddle.answer["ts"])
    assert closed.startswith(f":white_check_mark: Risk huddle H1: {RELEASE} (closed)")
    assert f"Closed: {RELEASE} is cancelled" in closed
    last = [c for c in fake.api_calls("chat.update") if c.body["ts"] == huddle.answer["ts"]][-1]
    assert button_labels(last.body) == []
    told = len(fake.api_calls("chat.postEphemeral"))
    submitted = await slack.submit(view_submission(view, "fine", user=QA, name=NAMES[QA]))
    assert (submitted.status, submitted.text) == (200, "")
    await fake.wait_for(lambda: len(fake.api_calls("chat.postEphemeral")) == told + 1)
    refusal = block_texts(fake.api_calls("chat.postEphemeral")[-1].body)
    assert f"R1 is on {RELEASE}, which is cancelled" in refusal
    assert store.data.tables.decisions == []
    assert actions(store)[-2:] == ["cancelled", "huddle_closed"]
    reopened = await slack.slash(f"huddle {RELEASE}")  # and none opens again
    await fake.wait_for(lambda: len(fake.responses(reopened.response_key)) == 1)
    answer = block_texts(fake.responses(reopened.response_key)[0].body)
    assert f"{RELEASE} is cancelled: there is nothing left to decide on it" in answer
    assert actions(store)[-1] == "huddle_closed"


async def _huddle_on_two_risks(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> Call:
    """The release's card in the channel, two risks on it, and the huddle card posted."""
    await declared(slack, fake, store)
    await _raise_risks(slack, fake)
    return await _opened_huddle(slack, fake, store)


async def _raise_risks(slack: SlackSender, fake: FakeSlack) -> None:
    seen = len(fake.api_calls("chat.update"))
    await slack.slash(f"risk {RELEASE} high Payment retries may double charge")
    await slack.slash(f"risk {RELEASE} low Receipt typo")
    # Each risk updates the release card in place, in the order they were raised.
    await fake.wait_for(lambda: len(fake.api_calls("chat.update")) == seen + 2)
    assert "R2 [low] Receipt typo — open" in block_texts(fake.api_calls("chat.update")[-1].body)


async def _opened_huddle(slack: SlackSender, fake: FakeSlack, store: CardWatchingStore) -> Call:
    """`/release huddle`: the card goes to the channel through the outbox, and is remembered."""
    answer = await slack.slash(f"huddle {RELEASE} Ship on Thursday?")
    assert (answer.status, answer.text) == (200, "")
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 2)
    posted = fake.api_calls("chat.postMessage")[1]
    assert posted.body["channel"] == CHANNEL_ID and "thread_ts" not in posted.body
    assert_block_kit_limits(posted.body)
    assert block_texts(posted.body).startswith("Risk huddle H1: checkout@2.4.0\nShip on Thursday?")
    assert len(button_labels(posted.body)) == 6  # Blocker / Accept risk / Defer for R1 and R2
    remembered = await store.wait_for_cards(2)
    assert CardRef(HUDDLE, "slack", CHANNEL_ID, posted.answer["ts"]) in remembered
    return posted


async def _discussed_in_its_thread(slack: SlackSender, fake: FakeSlack, huddle: Call) -> None:
    """A mention in the huddle's thread is answered in that thread."""
    envelope = mention(f"decisions {RELEASE}", user=QA)
    envelope["event"]["thread_ts"] = huddle.answer["ts"]
    await slack.event(envelope)
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 3)
    answer = fake.api_calls("chat.postMessage")[2].body
    assert answer["thread_ts"] == huddle.answer["ts"]
    assert "No decisions yet." in block_texts(answer)


async def _decision_modal(
    slack: SlackSender, fake: FakeSlack, card: Call, label: str, user: str
) -> Any:
    """`user` presses a decision button: a modal asks for the rationale."""
    opened = len(fake.api_calls("views.open"))
    await press(slack, card, label, user, ts=card.body.get("ts") or card.answer["ts"])
    await fake.wait_for(lambda: len(fake.api_calls("views.open")) == opened + 1)
    view = fake.api_calls("views.open")[-1].body["view"]
    assert_modal_limits(view)
    (question,) = view["blocks"]
    assert question["label"]["text"].startswith(f"Why {label.split(': ')[1].lower()} for ")
    return view


async def _refused_without_rationale(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore, view: Any
) -> None:
    before = (actions(store), len(fake.calls), list(store.data.tables.decisions))
    answer = await slack.submit(view_submission(view, "  ", user=ENG, name=NAMES[ENG]))
    assert answer.json()["response_action"] == "errors"  # the modal stays open, says why
    assert (actions(store), len(fake.calls), list(store.data.tables.decisions)) == before


async def _submitted(
    slack: SlackSender, fake: FakeSlack, view: Any, rationale: str, user: str, huddle: Call
) -> Call:
    """Submit the rationale; returns the huddle card as chat.update replaced it."""
    seen, told = len(fake.api_calls("chat.update")), len(fake.api_calls("chat.postEphemeral"))
    answer = await slack.submit(view_submission(view, rationale, user=user, name=NAMES[user]))
    assert (answer.status, answer.text) == (200, "")  # closes the modal
    # The huddle card, then the release card: both replaced where they stand.
    await fake.wait_for(lambda: len(fake.api_calls("chat.update")) == seen + 2)
    huddle_update, release_update = fake.api_calls("chat.update")[seen:]
    assert huddle_update.body["ts"] == huddle.answer["ts"]
    for update in (huddle_update, release_update):
        assert update.body["channel"] == CHANNEL_ID
        assert_block_kit_limits(update.body)
    # The huddle card shows no gates, so the decider alone also sees the release card it changed.
    await fake.wait_for(lambda: len(fake.api_calls("chat.postEphemeral")) == told + 1)
    private = fake.api_calls("chat.postEphemeral")[-1].body
    assert private["user"] == user and _heading(private) == f"Release {RELEASE}"
    assert f"by {NAMES[user]} — {rationale}" in block_texts(private)
    return huddle_update


def _latest(fake: FakeSlack, ts: str) -> str:
    """What the message at `ts` shows after its latest update."""
    return block_texts([c for c in fake.api_calls("chat.update") if c.body["ts"] == ts][-1].body)


async def _closed(slack: SlackSender, fake: FakeSlack) -> str:
    """`/release huddle close`: the outcome is posted to the channel."""
    posts = len(fake.api_calls("chat.postMessage"))
    await slack.slash(f"huddle close {RELEASE}")
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == posts + 1)
    outcome = fake.api_calls("chat.postMessage")[-1].body
    assert outcome["channel"] == CHANNEL_ID and "thread_ts" not in outcome
    assert_block_kit_limits(outcome)
    assert _heading(outcome) == "Huddle H1 on checkout@2.4.0 closed"
    return block_texts(outcome)


async def _gate(slack: SlackSender) -> str:
    body = (await slack.slash(f"gate {RELEASE}")).json()  # a read: answered in the ack
    assert_block_kit_limits(body)
    return _heading(body)


def _heading(message: dict[str, Any]) -> str:
    """A message's header without the emoji of its tone."""
    heading = str(message["blocks"][0]["text"]["text"])
    return heading.split(": ", 1)[1] if heading.startswith(":") else heading


async def _decide_by_text(slack: SlackSender, fake: FakeSlack, text: str) -> None:
    answer = await slack.slash(f"decide {text}", user=ENG, user_name=NAMES[ENG])
    await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    assert "R1: accept by erin" in block_texts(fake.responses(answer.response_key)[0].body)
