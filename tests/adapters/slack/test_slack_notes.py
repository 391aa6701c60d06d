"""Release notes of 200 change items across 6 squads, on Slack (issue 4): shown to the asker at
the response_url and published to the channel through the outbox, split across messages when
Block Kit needs it, every message within its limits and every change item shown exactly once."""

from __future__ import annotations

import itertools

import pytest

from bot import commands
from tests.support.blockkit import assert_block_kit_limits, block_texts
from tests.support.fake_slack import FakeSlack
from tests.support.server import RunningBot
from tests.support.slack_requests import CHANNEL_ID, SlackSender

from .conftest import ALICE, CardWatchingStore, Seed

RELEASE = "checkout@2.4.0"
SQUADS = ("payments", "search", "identity", "mobile", "platform", "growth")
KINDS = ("feature", "fix", "chore")
ITEMS = 200


def change_items(filler: str) -> tuple[tuple[str, str, str, str, str, str], ...]:
    """200 items, kinds and squads interleaved; each title unique and in no other title."""
    kinds_and_squads = itertools.cycle(itertools.product(KINDS, SQUADS))
    return tuple(
        (
            f"CHG-{n:03d} {filler}",
            kind,
            squad,
            f"https://git.example.com/shop/pull/{n}",
            f"dev{n % 17}",
            "2026-11-20T10:00:00+00:00",
        )
        for n, (kind, squad) in zip(range(1, ITEMS + 1), kinds_and_squads, strict=False)
    )


# Real titles, and titles long enough that the notes outgrow one message's 50 blocks.
FILLERS = {
    "short-titles": "Retry the card authorisation once on a gateway timeout",
    "long-titles": " ".join(["Rework the checkout flow so that partial refunds settle"] * 12),
}


@pytest.fixture(params=list(FILLERS))
async def items(request: pytest.FixtureRequest, bot: RunningBot, seed: Seed) -> list[str]:
    """The release with its 200 change items; returns their titles."""
    await seed(f"declare {RELEASE} at 2026-12-03 14:00")
    changes = change_items(FILLERS[request.param])
    added = await bot.components.bot.handle(commands.AddChanges(RELEASE, changes), ALICE)
    assert added.problem is None, added.title
    return [title for title, *_ in changes]


async def test_notes_are_answered_within_block_kit_and_nothing_is_dropped(
    slack: SlackSender, fake: FakeSlack, items: list[str]
) -> None:
    answer = await slack.slash(f"notes {RELEASE}")

    assert (answer.status, answer.text) == (200, "")
    pages = await _answers(fake, answer.response_key, expected=_pages_needed(items))
    for page in pages:
        assert page["response_type"] == "ephemeral"
    _assert_each_item_once(pages, items)


async def test_published_notes_reach_the_channel_within_block_kit_and_nothing_is_dropped(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore, items: list[str]
) -> None:
    answer = await slack.slash(f"notes {RELEASE} publish")

    await store.settled(1)  # the worker has sent every page of the one queued message
    pages = [call.body for call in fake.api_calls("chat.postMessage")]
    assert len(pages) == _pages_needed(items)
    assert all(page["channel"] == CHANNEL_ID for page in pages)
    _assert_each_item_once(pages, items)
    (said,) = await _answers(fake, answer.response_key, expected=1)
    assert f"Release notes of {RELEASE} published" in block_texts(said)


def _pages_needed(items: list[str]) -> int:
    # Short titles fit one message; the long ones need more than Slack's 50 blocks.
    return 1 if len(items[0]) < 100 else 2


async def _answers(fake: FakeSlack, key: str | None, *, expected: int) -> list[dict]:
    await fake.wait_for(lambda: len(fake.responses(key)) == expected)
    return [call.body for call in fake.responses(key)]


def _assert_each_item_once(pages: list[dict], titles: list[str]) -> None:
    for page in pages:
        assert_block_kit_limits(page)
    shown = "\n".join(block_texts(page) for page in pages)
    assert shown.startswith(f"Release notes: {RELEASE}")
    assert {title: shown.count(title) for title in titles} == dict.fromkeys(titles, 1)
    groups = [f"*{kind} · {squad}*" for kind in ("Features", "Fixes", "Chores") for squad in SQUADS]
    assert all(group in shown for group in groups)
