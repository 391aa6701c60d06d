"""Sign-offs on Slack over real HTTP: Approve buttons and the Reject modal update the posted
card in place (chat.update); a refused click is told to the clicker alone and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.domain import State
from bot.signoffs import Verdict
from tests.support.blockkit import assert_block_kit_limits, block_texts
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import CHANNEL_ID, SlackSender, button_labels, view_submission

from .signoff_steps import (
    BOTH,
    ENG,
    NOBODY,
    QA,
    RELEASE,
    actions,
    approved_by,
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


# --- the button flow -----------------------------------------------------------------------


async def test_a_text_command_updates_the_posted_card_in_place(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)

    await covered(slack, fake)

    (update,) = updates(fake)
    assert "✓ coverage 92 ≥ 80" in shows(update, card.answer["ts"])
    assert len(fake.api_calls("chat.postMessage")) == 1


async def test_approve_buttons_update_the_card_until_the_release_is_approved(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)
    ts = card.answer["ts"]
    await covered(slack, fake)
    assert button_labels(card.body) == [
        "Approve as qa",
        "Reject as qa",
        "Approve as eng",
        "Reject as eng",
    ]

    after_qa = await approved_by(slack, fake, card, QA)

    assert "✓ qa: approved by quinn" in shows(after_qa, ts)
    assert "… eng: waiting" in shows(after_qa, ts)
    assert button_labels(after_qa.body) == ["Approve as eng", "Reject as eng"]
    assert store.data.releases[RELEASE].state is State.PLANNED

    after_eng = await approved_by(slack, fake, after_qa, ENG)

    assert "✓ eng: approved by erin" in shows(after_eng, ts)
    assert after_eng.body["blocks"][1]["fields"][0]["text"] == "*State*\napproved"
    assert button_labels(after_eng.body) == []
    assert store.data.releases[RELEASE].state is State.APPROVED
    assert actions(store) == ["declared", "signal", "signed_off", "signed_off", "approved"]
    # The card changed where it stands; the one new message is the approval's announcement.
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 2)
    card_post, announcement = fake.api_calls("chat.postMessage")
    assert card_post == card
    assert announcement.body["channel"] == CHANNEL_ID
    assert f"{RELEASE} is approved" in block_texts(announcement.body)


async def test_a_sign_off_made_stale_by_a_reschedule_is_struck_through_on_the_card(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)
    await approved_by(slack, fake, card, QA)
    seen = len(updates(fake))

    await slack.slash(f"reschedule {RELEASE} 2026-12-04 14:00")

    await fake.wait_for(lambda: len(updates(fake)) == seen + 1)
    card_now = shows(updates(fake)[-1], card.answer["ts"])
    assert "~qa: ✓ approved by quinn~ — stale, waiting again" in card_now
    assert button_labels(updates(fake)[-1].body)[:2] == ["Approve as qa", "Reject as qa"]


# --- the reject modal ----------------------------------------------------------------------


async def test_reject_opens_a_modal_and_its_reason_lands_on_the_card(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)
    ts = card.answer["ts"]

    view = await opened_modal(slack, fake, card, QA)

    (question,) = view["blocks"]
    assert question["type"] == "input" and question["optional"] is False
    assert question["label"]["text"] == f"Why do you reject {RELEASE} as qa?"
    assert question["element"]["type"] == "plain_text_input"
    assert question["element"]["multiline"] is True
    assert view["title"]["text"] == "Reject as qa"

    submitted = view_submission(view, "Flaky payment tests", user=QA, name="quinn")
    answer = await slack.submit(submitted)

    assert (answer.status, answer.text) == (200, "")  # an empty answer closes the modal
    await fake.wait_for(lambda: len(fake.api_calls("chat.update")) == 1)
    (update,) = updates(fake)
    assert "✗ qa: rejected by quinn — Flaky payment tests" in shows(update, ts)
    (signoff,) = store.data.tables.signoffs
    assert (signoff.role, signoff.verdict, signoff.note) == (
        "qa",
        Verdict.REJECTED,
        "Flaky payment tests",
    )
    assert actions(store) == ["declared", "signed_off"]
    detail = store.data.audit[-1].detail
    assert (detail["verdict"], detail["note"]) == ("rejected", "Flaky payment tests")
    assert fake.api_calls("chat.postEphemeral") == []


@pytest.mark.parametrize("reason", [None, "", "  \n "], ids=["untouched", "empty", "blank"])
async def test_a_rejection_without_a_reason_keeps_the_modal_open_and_changes_nothing(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore, reason: str | None
) -> None:
    card = await declared(slack, fake, store)
    view = await opened_modal(slack, fake, card, QA)
    audit = actions(store)

    answer = await slack.submit(view_submission(view, reason, user=QA, name="quinn"))

    assert answer.status == 200
    body = answer.json()
    assert body["response_action"] == "errors"
    (block_id,) = body["errors"]
    assert block_id == view["blocks"][0]["block_id"]
    assert body["errors"][block_id]
    assert store.data.tables.signoffs == []
    assert actions(store) == audit
    assert fake.api_calls("chat.update") == []


async def test_a_refused_rejection_is_told_to_the_submitter_alone(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)
    view = await opened_modal(slack, fake, card, NOBODY)

    answer = await slack.submit(view_submission(view, "I do not like it", user=NOBODY, name="nick"))

    assert (answer.status, answer.text) == (200, "")
    await fake.wait_for(lambda: len(fake.api_calls("chat.postEphemeral")) == 1)
    (told,) = fake.api_calls("chat.postEphemeral")
    assert (told.body["channel"], told.body["user"]) == (CHANNEL_ID, NOBODY)
    assert_block_kit_limits(told.body)
    assert "You are not a member of the qa role" in block_texts(told.body)
    assert store.data.tables.signoffs == []
    assert actions(store) == ["declared", "refused"]
    assert fake.api_calls("chat.update") == []


# --- refusals ------------------------------------------------------------------------------


async def test_the_owner_may_not_approve_their_own_release(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store, user=QA, user_name="quinn")

    answer = await press(slack, card, "Approve as qa", QA)

    refusal = await private_answer(fake, answer)
    assert "the policy forbids signing off your own release" in block_texts(refusal)
    _assert_refused_only(fake, store, audit_before=["declared"], updates_before=0)


async def test_someone_in_no_sign_off_role_may_not_approve(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)

    answer = await press(slack, card, "Approve as qa", NOBODY)

    refusal = await private_answer(fake, answer)
    assert "You are not a member of the qa role" in block_texts(refusal)
    _assert_refused_only(fake, store, audit_before=["declared"], updates_before=0)


async def test_one_person_may_not_fill_a_second_role(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)
    after_qa = await approved_by(slack, fake, card, BOTH)
    audit = actions(store)

    answer = await press(slack, after_qa, "Approve as eng", BOTH)

    refusal = await private_answer(fake, answer)
    assert "You already signed as qa; one person fills one role" in block_texts(refusal)
    _assert_refused_only(fake, store, audit_before=audit, updates_before=1, signoffs=1)


async def test_a_second_identical_click_changes_nothing(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)
    await approved_by(slack, fake, card, QA)
    audit = actions(store)

    # The same press again, from the card as it was before the first one updated it.
    answer = await press(slack, card, "Approve as qa", QA)

    said = await private_answer(fake, answer)
    assert "Nothing changed: you already approved as qa" in block_texts(said)
    assert len(store.data.tables.signoffs) == 1
    assert actions(store) == audit  # a repeat is no attempt to refuse: nothing is recorded
    assert len(updates(fake)) == 1


def _assert_refused_only(
    fake: FakeSlack,
    store: CardWatchingStore,
    *,
    audit_before: list[str],
    updates_before: int,
    signoffs: int = 0,
) -> None:
    """The refused attempt is audited once, and nothing else changed or was sent."""
    assert actions(store) == [*audit_before, "refused"]
    assert len(store.data.tables.signoffs) == signoffs
    assert len(updates(fake)) == updates_before
    assert len(fake.api_calls("chat.postMessage")) == 1
    assert fake.api_calls("chat.postEphemeral") == []
