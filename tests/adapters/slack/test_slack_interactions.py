"""More ways a release card meets Slack: clicks at once, text commands, private cards, and
modals that Slack will not open or that come back altered."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.blockkit import assert_block_kit_limits, block_texts
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackSender, button_labels, mention, view_submission

from .signoff_steps import (
    ENG,
    QA,
    RELEASE,
    actions,
    covered,
    declared,
    opened_modal,
    policy_env,
    press,
    private_answer,
    shows,
    updates,
)

if TYPE_CHECKING:
    from .conftest import CardWatchingStore


@pytest.fixture
def extra_env(tmp_path: Path) -> dict[str, str]:
    return policy_env(tmp_path)


async def test_concurrent_clicks_are_all_recorded_and_the_card_ends_up_true(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)
    await covered(slack, fake)

    # Ten presses by one person and one by another, all at once.
    presses = [press(slack, card, "Approve as qa", QA) for _ in range(10)]
    answers = await asyncio.gather(*presses, press(slack, card, "Approve as eng", ENG))

    keys = [answer.response_key for answer in answers]
    # Nine repeats are told so privately; the two that counted show on the card instead.
    await fake.wait_for(lambda: sum(len(fake.responses(key)) for key in keys) == 9)
    await fake.wait_for(lambda: button_labels(updates(fake)[-1].body) == [])
    said = [block_texts(fake.responses(key)[0].body) for key in keys if fake.responses(key)]
    assert len(said) == 9 and all("Nothing changed" in text for text in said)
    signed = sorted((s.role, s.principal) for s in store.data.tables.signoffs)
    assert signed == [("eng", f"slack:{ENG}"), ("qa", f"slack:{QA}")]
    assert actions(store).count("signed_off") == 2
    assert "*State*\napproved" in block_texts(updates(fake)[-1].body)


async def test_an_approval_by_mention_updates_the_card_too(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)

    await slack.event(mention(f"approve {RELEASE}", user=QA))

    await fake.wait_for(lambda: len(fake.api_calls("chat.update")) == 1)
    assert "✓ qa: approved by" in shows(updates(fake)[0], card.answer["ts"])
    # The answer in the thread is a card too, remembered so it stays true as well.
    assert len(store.data.cards) == 2


async def test_a_click_on_a_private_card_replaces_it_where_it_stands(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)
    private = (await slack.slash(f"status {RELEASE}")).json()

    answer = await press(
        slack, private, "Approve as qa", QA, ts="1718049999.000001", ephemeral=True
    )

    await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    replaced = fake.responses(answer.response_key)[0].body
    assert (replaced["response_type"], replaced["replace_original"]) == ("ephemeral", True)
    assert_block_kit_limits(replaced)
    assert "✓ qa: approved by quinn" in block_texts(replaced)
    # …and the card in the channel is updated for everyone.
    await fake.wait_for(lambda: len(fake.api_calls("chat.update")) == 1)
    assert "✓ qa: approved by quinn" in shows(updates(fake)[0], card.answer["ts"])


async def test_a_modal_slack_will_not_open_is_explained_to_the_clicker(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)
    fake.fail_next("views.open", error="expired_trigger_id")

    answer = await press(slack, card, "Reject as qa", QA)

    said = await private_answer(fake, answer)
    assert "I could not open the form; please press it again" in block_texts(said)
    assert actions(store) == ["declared"]


async def test_a_form_that_is_not_ours_keeps_the_modal_open_and_changes_nothing(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)
    view = await opened_modal(slack, fake, card, QA)
    submitted = view_submission(view, "Flaky payment tests", user=QA, name="quinn")
    submitted["view"]["private_metadata"] = '{"command": "{}", "field": "reason"}'

    answer = await slack.submit(submitted)

    body = answer.json()
    assert body["response_action"] == "errors"
    assert "out of date" in body["errors"][view["blocks"][0]["block_id"]]
    assert actions(store) == ["declared"]
    assert fake.api_calls("chat.update") == []
