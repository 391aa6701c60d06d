"""Steps the Slack sign-off tests share: declare, press a button, open the reject modal.

Every click is built from the blocks the bot really posted (the button's own value), and every
message or modal the bot sends is checked against Block Kit's limits on the way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.base import CardRef
from tests.support.blockkit import assert_block_kit_limits, assert_modal_limits, block_texts
from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_requests import CHANNEL_ID, Answer, SlackSender, click

if TYPE_CHECKING:
    from .conftest import CardWatchingStore

RELEASE = "checkout@2.4.0"
QA, ENG, BOTH, NOBODY = "U0QA00001", "U0ENG0001", "U0BOTH0001", "U0NOBODY1"
NAMES = {QA: "quinn", ENG: "erin", BOTH: "sam", NOBODY: "nick"}
# The demo policy's shape, plus one person in two roles (one person may fill only one).
POLICY = f"""
timezone: Europe/London
roles:
  qa: ["slack:{QA}", "slack:{BOTH}"]
  eng: ["slack:{ENG}", "slack:{BOTH}"]
  ops: ["slack:U0OPS0001"]
classes:
  standard: {{signoffs: [], gates: {{}}}}
  normal:
    signoffs: [qa, eng]
    gates: {{min_coverage: 80, max_open_blockers: 0, max_open_criticals: 0}}
  emergency: {{signoffs: [ops], gates: {{}}, retro_review_hours: 48}}
rules: {{forbid_self_approval: true}}
"""


def policy_env(tmp_path: Path) -> dict[str, str]:
    """Settings that point the bot at POLICY."""
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return {"RELEASEBOT_POLICY_FILE": str(path)}


def updates(fake: FakeSlack) -> list[Call]:
    """Every chat.update the bot made, each checked against Block Kit's limits."""
    calls = fake.api_calls("chat.update")
    for call in calls:
        assert_block_kit_limits(call.body)
    return calls


async def declared(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore, **who: Any
) -> Call:
    """`/release declare` in the channel; the card is posted, and remembered where it is."""
    await slack.slash(f"declare {RELEASE} at 2026-12-03 14:00", **who)
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 1)
    posted = fake.api_calls("chat.postMessage")[0]
    assert_block_kit_limits(posted.body)
    remembered = await store.wait_for_cards(1)
    assert remembered == [CardRef(RELEASE, "slack", CHANNEL_ID, posted.answer["ts"])]
    return posted


async def covered(slack: SlackSender, fake: FakeSlack) -> None:
    """Coverage passes its gate (a text command, which updates the card too)."""
    seen = len(updates(fake))
    await slack.slash(f"signal {RELEASE} coverage=92")
    await fake.wait_for(lambda: len(fake.api_calls("chat.update")) == seen + 1)


async def press(slack: SlackSender, message: Any, label: str, user: str, **extra: Any) -> Answer:
    answer = await slack.action(click(message, label, user=user, name=NAMES[user], **extra))
    assert (answer.status, answer.text) == (200, "")  # acknowledged at once, and empty
    return answer


async def approved_by(slack: SlackSender, fake: FakeSlack, card: Call, user: str) -> Call:
    """`user` presses "Approve as …" for their role; returns the card as it was updated."""
    seen = len(updates(fake))
    role = "qa" if user in (QA, BOTH) else "eng"
    await press(slack, card, f"Approve as {role}", user)
    await fake.wait_for(lambda: len(fake.api_calls("chat.update")) == seen + 1)
    return updates(fake)[-1]


async def private_answer(fake: FakeSlack, answer: Answer) -> dict[str, Any]:
    """The one message shown to the clicker alone at the click's response_url."""
    await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    body = fake.responses(answer.response_key)[0].body
    assert body["response_type"] == "ephemeral"
    assert body["replace_original"] is False
    assert_block_kit_limits(body)
    return body


async def opened_modal(slack: SlackSender, fake: FakeSlack, card: Call, user: str) -> Any:
    """`user` presses "Reject as qa": the bot opens a modal, which is returned."""
    answer = await press(slack, card, "Reject as qa", user)
    await fake.wait_for(lambda: len(fake.api_calls("views.open")) == 1)
    (opened,) = fake.api_calls("views.open")
    assert opened.body["trigger_id"]  # the click's own, which Slack needs within 3 s
    assert fake.responses(answer.response_key) == []
    view = opened.body["view"]
    assert_modal_limits(view)
    return view


def actions(store: CardWatchingStore) -> list[str]:
    return [event.action for event in store.data.audit]


def shows(call: Call, ts: str) -> str:
    """The text of an update of the card at `ts` in the channel."""
    assert (call.body["channel"], call.body["ts"]) == (CHANNEL_ID, ts)
    return block_texts(call.body)
