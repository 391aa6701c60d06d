"""Role members named by email (SPEC §4.2) sign off from Slack: the bot asks Slack for the
clicker's address (users.info, with users:read.email) and remembers it for a while."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.blockkit import block_texts
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackSender

from .signoff_steps import (
    ENG,
    NOBODY,
    QA,
    RELEASE,
    actions,
    approved_by,
    covered,
    declared,
    press,
    private_answer,
    shows,
)

if TYPE_CHECKING:
    from .conftest import CardWatchingStore

POLICY = f"""
timezone: Europe/London
roles:
  qa: ["email:Quinn@Example.com"]
  eng: ["slack:{ENG}"]
  ops: ["email:ops@example.com"]
classes:
  standard: {{signoffs: []}}
  normal: {{signoffs: [qa, eng], gates: {{min_coverage: 80}}}}
  emergency: {{signoffs: [ops], retro_review_hours: 48}}
"""


@pytest.fixture
def extra_env(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return {"RELEASEBOT_POLICY_FILE": str(path)}


async def test_a_member_named_by_email_signs_off_from_slack(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    fake.emails.update({QA: "quinn@example.com", NOBODY: "nick@example.com"})
    card = await declared(slack, fake, store)
    await covered(slack, fake)

    after_qa = await approved_by(slack, fake, card, QA)
    refused = await private_answer(fake, await press(slack, after_qa, "Approve as eng", NOBODY))
    await slack.slash(f"status {RELEASE}", user=QA, user_name="quinn")  # no lookup for a read
    again = await slack.slash(f"approve {RELEASE}", user=QA, user_name="quinn")
    await fake.wait_for(lambda: len(fake.responses(again.response_key)) == 1)

    assert "qa: approved by quinn" in shows(after_qa, card.answer["ts"])
    assert "You are not a member of the eng role" in block_texts(refused)
    [answered] = fake.responses(again.response_key)
    assert "Nothing changed: you already approved as qa" in block_texts(answered.body)
    looked_up = [call.body["user"] for call in fake.api_calls("users.info")]
    assert sorted(looked_up) == [NOBODY, QA]  # each once: the answer is remembered
    assert actions(store).count("signed_off") == 1


async def test_without_an_address_the_member_is_not_recognised(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)  # users.info shows no email for anyone

    refused = await private_answer(fake, await press(slack, card, "Approve as qa", QA))

    assert "You are not a member of the qa role" in block_texts(refused)
    assert store.data.tables.signoffs == []
