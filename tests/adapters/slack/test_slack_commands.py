"""`/release …` over real HTTP: reads answer in the ack, writes post cards or respond later."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from bot.domain import State
from bot.usage import BY_VERB
from storage.memory import MemoryStore
from tests.support.blockkit import assert_block_kit_limits, block_texts, privately_shown
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import CHANNEL_ID, SlackSender

if TYPE_CHECKING:
    from .conftest import Seed, Snapshot


async def test_help_answers_in_the_acknowledgement(slack: SlackSender) -> None:
    answer = await slack.slash("help")

    assert answer.status == 200
    assert "declare &lt;service@version&gt;" in privately_shown(answer.json())


async def test_declare_posts_the_release_card_to_the_channel(
    slack: SlackSender, fake: FakeSlack, store: MemoryStore
) -> None:
    answer = await slack.slash("declare checkout@2.4.0 at 2026-12-03 14:00 train Public")

    assert (answer.status, answer.text) == (200, "")
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 1)
    posted = fake.api_calls("chat.postMessage")[0].body
    assert posted["channel"] == CHANNEL_ID
    assert "thread_ts" not in posted
    assert_block_kit_limits(posted)
    assert posted["blocks"][0]["text"]["text"] == "Release checkout@2.4.0"
    assert "<@U04ALICE001>" in block_texts(posted)
    assert list(store.data.releases) == ["checkout@2.4.0"]
    assert [event.action for event in store.data.audit] == ["declared"]


async def test_status_shows_the_card_in_the_acknowledgement(slack: SlackSender, seed: Seed) -> None:
    await seed("declare checkout@2.4.0 at 2026-12-03 14:00")

    answer = await slack.slash("status checkout@2.4.0")

    body = answer.json()
    assert "planned" in privately_shown(body)
    assert body["blocks"][0]["text"]["text"] == "Release checkout@2.4.0"


async def test_list_and_calendar_answer_in_the_acknowledgement(
    slack: SlackSender, seed: Seed
) -> None:
    await seed("declare checkout@2.4.0 at 2026-12-03 14:00")
    await seed("declare search@7.1 at 2026-11-30 09:00")
    await seed("sync mon 09:30")

    listed, calendar = (await slack.slash("list")).json(), (await slack.slash("calendar")).json()

    for body in (listed, calendar):
        assert_block_kit_limits(body)
    shown = block_texts(listed)
    assert shown.index("search@7.1") < shown.index("checkout@2.4.0")
    days = block_texts(calendar)
    monday = "*Mon 30 Nov*\n09:00 search@7.1 (planned)\n09:30 release sync S1 (mon 09:30)"
    assert monday in days and "checkout@2.4.0" in days
    assert "*Mon 7 Dec*\n09:30 release sync S1 (mon 09:30)" in days


async def test_cancel_answers_at_the_response_url(
    slack: SlackSender, fake: FakeSlack, seed: Seed, store: MemoryStore
) -> None:
    await seed("declare checkout@2.4.0 at 2026-12-03 14:00")

    answer = await slack.slash("cancel checkout@2.4.0 payments freeze")

    assert (answer.status, answer.text) == (200, "")
    await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    response = fake.responses(answer.response_key)[0].body
    assert "Cancelled by alice: payments freeze" in privately_shown(response)
    assert store.data.releases["checkout@2.4.0"].state is State.CANCELLED
    assert [event.action for event in store.data.audit] == ["declared", "cancelled"]


async def test_reschedule_answers_at_the_response_url(
    slack: SlackSender, fake: FakeSlack, seed: Seed, store: MemoryStore
) -> None:
    await seed("declare checkout@2.4.0 at 2026-12-03 14:00")

    answer = await slack.slash("reschedule checkout@2.4.0 2026-12-04 10:00")

    await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    assert_block_kit_limits(fake.responses(answer.response_key)[0].body)
    moved = store.data.releases["checkout@2.4.0"].scheduled_at
    assert moved == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert store.data.audit[-1].action == "rescheduled"


async def test_a_service_named_payload_is_not_mistaken_for_a_button_press(
    slack: SlackSender, fake: FakeSlack, store: MemoryStore
) -> None:
    await slack.slash("declare payload-svc@1.0")
    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 1)

    status = (await slack.slash("status payload-svc@1.0")).json()

    assert list(store.data.releases) == ["payload-svc@1.0"]
    assert status["blocks"][0]["text"]["text"] == "Release payload-svc@1.0"


DECLARE_USAGE = BY_VERB["declare"].line
HELP_USAGE = BY_VERB["help"].line


@pytest.mark.parametrize(
    ("text", "problem", "usage"),
    [
        ("", "The command is empty", HELP_USAGE),
        ("frobnicate a@1", "Unknown command 'frobnicate'", HELP_USAGE),
        ("declare a@1 at 2026-13-45 10:00", "'2026-13-45' is not a calendar date", DECLARE_USAGE),
        ("déclare ünïcode@1 🚀", "did you mean 'declare'?", DECLARE_USAGE),
        ("declare " + "x" * 4992, "The command is too long (5,000 characters", DECLARE_USAGE),
        (
            f"declare svc@1.{'x' * 980} at 2026-12-03 14:00",
            "The version is too long (982 characters; the limit is 100)",
            DECLARE_USAGE,
        ),
    ],
    ids=["empty", "unknown-verb", "bad-date", "unicode", "5000-chars", "long-name"],
)
async def test_bad_input_gets_a_clear_private_answer_and_changes_nothing(
    slack: SlackSender,
    fake: FakeSlack,
    seed: Seed,
    snapshot: Snapshot,
    text: str,
    problem: str,
    usage: str,
) -> None:
    await seed("declare checkout@2.4.0 at 2026-12-03 14:00")
    before = snapshot()

    answer = await slack.slash(text)

    assert answer.status == 200
    body = answer.json()
    shown = privately_shown(body)
    assert problem in shown
    # The usage line of the nearest command (its <…> escaped for Slack).
    assert f"Usage: `{usage}`" in html.unescape(shown)
    assert body["blocks"][0]["text"]["text"].startswith(":x:")
    assert snapshot() == before
    assert fake.api_calls("chat.postMessage") == []


async def test_a_refused_write_is_answered_privately_and_changes_nothing(
    slack: SlackSender, fake: FakeSlack, snapshot: Snapshot
) -> None:
    before = snapshot()

    answer = await slack.slash("cancel ghost@1.0 no reason")

    await fake.wait_for(lambda: len(fake.responses(answer.response_key)) == 1)
    response = fake.responses(answer.response_key)[0].body
    assert "There is no release ghost@1.0" in privately_shown(response)
    assert snapshot() == before
