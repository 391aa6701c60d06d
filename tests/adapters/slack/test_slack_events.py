"""Mentions, direct messages and buttons over real HTTP, each answered exactly once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import commands
from storage.memory import MemoryStore
from tests.support.blockkit import assert_block_kit_limits, block_texts
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import (
    CHANNEL_ID,
    SlackSender,
    button_press,
    direct_message,
    mention,
)

if TYPE_CHECKING:
    from .conftest import Seed, Snapshot


def _posts(fake: FakeSlack) -> list[dict]:
    return [call.body for call in fake.api_calls("chat.postMessage")]


async def test_a_mention_redelivered_by_slack_is_answered_once(
    slack: SlackSender, fake: FakeSlack, seed: Seed
) -> None:
    await seed("declare checkout@2.4.0 at 2026-12-03 14:00")
    envelope = mention("status checkout@2.4.0")
    thread = envelope["event"]["ts"]

    first = await slack.event(envelope)
    await fake.wait_for(lambda: len(_posts(fake)) == 1)
    again = await slack.event(envelope, retry_num=1)
    # A later, different mention is answered after the redelivery has been dealt with.
    await slack.event(mention("help"))
    await fake.wait_for(lambda: len(_posts(fake)) == 2)

    assert (first.status, again.status) == (200, 200)
    answers = [post for post in _posts(fake) if post.get("thread_ts") == thread]
    assert len(answers) == 1
    assert answers[0]["channel"] == CHANNEL_ID
    assert_block_kit_limits(answers[0])
    assert answers[0]["blocks"][0]["text"]["text"] == "Release checkout@2.4.0"


async def test_one_message_sent_as_a_mention_and_as_a_direct_message_is_answered_once(
    slack: SlackSender, fake: FakeSlack, store: MemoryStore
) -> None:
    # Mentioning the bot in its DM makes Slack send `app_mention` and `message.im` for one
    # message: two event ids, one channel and ts.
    as_dm = direct_message("declare search@7.1 at 2026-12-01 09:00")
    as_mention = mention(
        "declare search@7.1 at 2026-12-01 09:00", channel=as_dm["event"]["channel"]
    )
    as_mention["event"]["ts"] = as_dm["event"]["ts"]
    assert as_mention["event_id"] != as_dm["event_id"]

    await slack.event(as_mention)
    await slack.event(as_dm)
    # A later, different message is answered after the duplicate has been dealt with.
    await slack.event(direct_message("help"))
    await fake.wait_for(lambda: len(_posts(fake)) == 2)

    cards = [post for post in _posts(fake) if "search@7.1" in block_texts(post)]
    assert len(cards) == 1
    assert [event.action for event in store.data.audit] == ["declared"]


async def test_a_declaring_mention_posts_the_card_to_the_channel_not_the_thread(
    slack: SlackSender, fake: FakeSlack, store: MemoryStore
) -> None:
    await slack.event(mention("declare search@7.1 at 2026-12-01 09:00"))

    await fake.wait_for(lambda: len(_posts(fake)) == 1)
    (post,) = _posts(fake)
    assert "thread_ts" not in post
    assert_block_kit_limits(post)
    assert store.data.releases["search@7.1"].owner == "slack:U04ALICE001"


async def test_an_address_slack_linked_by_itself_is_read_as_typed(
    slack: SlackSender, fake: FakeSlack, store: MemoryStore
) -> None:
    owner = "email:<mailto:bob@example.com|bob@example.com>"  # as Slack sends `bob@example.com`
    await slack.event(mention(f"declare web@1.0 at 2026-12-01 09:00 owner {owner}"))

    await fake.wait_for(lambda: len(_posts(fake)) == 1)
    assert store.data.releases["web@1.0"].owner == "email:bob@example.com"


async def test_a_direct_message_is_answered_in_the_dm(slack: SlackSender, fake: FakeSlack) -> None:
    envelope = direct_message("help")

    await slack.event(envelope)

    await fake.wait_for(lambda: len(_posts(fake)) == 1)
    (post,) = _posts(fake)
    assert post["channel"] == envelope["event"]["channel"]
    assert_block_kit_limits(post)
    assert "releasebot commands" in block_texts(post)


async def test_a_bots_direct_message_is_ignored(
    slack: SlackSender, fake: FakeSlack, snapshot: Snapshot
) -> None:
    from_a_bot = direct_message("declare loop@1")
    from_a_bot["event"]["bot_id"] = "B0OTHERBOT1"
    before = snapshot()

    await slack.event(from_a_bot)
    await slack.event(direct_message("help"))

    await fake.wait_for(lambda: len(_posts(fake)) == 1)
    assert "releasebot commands" in block_texts(_posts(fake)[0])
    assert snapshot() == before


async def test_a_button_runs_its_command_as_the_person_who_pressed_it(
    slack: SlackSender, fake: FakeSlack, seed: Seed, store: MemoryStore
) -> None:
    await seed("declare checkout@2.4.0 at 2026-12-03 14:00")
    press = button_press(commands.dump(commands.Huddle("checkout@2.4.0", "found a bug")))

    answer = await slack.action(press)

    assert (answer.status, answer.text) == (200, "")
    await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    response = fake.responses(answer.response_key)[0].body
    assert response["response_type"] == "ephemeral"
    assert response["replace_original"] is False
    assert_block_kit_limits(response)
    assert "Huddle H1 on checkout@2.4.0 opened" in block_texts(response)
    assert store.data.audit[-1].action == "huddle_opened"
    assert store.data.audit[-1].actor == "slack:U04BOB00002"


async def test_a_button_for_a_command_no_button_carries_changes_nothing(
    slack: SlackSender, fake: FakeSlack, seed: Seed, snapshot: Snapshot
) -> None:
    await seed("declare checkout@2.4.0 at 2026-12-03 14:00")
    before = snapshot()
    press = button_press(commands.dump(commands.Cancel("checkout@2.4.0", "found a bug")))

    answer = await slack.action(press)

    await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    response = fake.responses(answer.response_key)[0].body
    assert "This button is not one I know; type the command" in block_texts(response)
    assert snapshot() == before


async def test_a_button_that_is_not_ours_gets_a_private_error(
    slack: SlackSender, fake: FakeSlack, snapshot: Snapshot
) -> None:
    before = snapshot()

    answer = await slack.action(button_press("rel_0192"))

    await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    response = fake.responses(answer.response_key)[0].body
    assert response["response_type"] == "ephemeral"
    assert block_texts(response).startswith(":x:")
    assert snapshot() == before
