"""The outbox's Slack sender against the fake Web API: each kind of message goes to the right
method, and each failure is sorted into "retry later" (with Slack's Retry-After) or "never"."""

from __future__ import annotations

import socket
from dataclasses import replace
from types import SimpleNamespace

import pytest
from slack_sdk.errors import SlackApiError

from adapters.clock import ManualClock
from adapters.delivery import RetryLater, Undeliverable
from adapters.policy_file import load_policy
from adapters.settings import SlackSettings
from adapters.slack.home import SlackHome
from adapters.slack.sender import (
    MAX_RETRY_AFTER_SECONDS,
    SlackSender,
    build_delivery_client,
    refusal,
)
from bot.domain import Conversation
from bot.outbox import Delivery, Outgoing
from bot.reply import Action, Reply, Section
from storage.base import PageRef, Store
from storage.memory import MemoryStore
from tests.storage.factories import declare, release
from tests.support.blockkit import assert_block_kit_limits, block_texts
from tests.support.fake_slack import FakeSlack
from tests.support.people import NOW
from tests.support.slack_requests import CHANNEL_ID, button_labels

CHANNEL = Conversation("slack", CHANNEL_ID)
NOTICE = Reply(title="checkout@2.4.0 is deploying")
# 60 sections: more than Slack's 50 blocks, so it goes out as two messages.
LONG = Reply(title="Long", sections=tuple(Section(f"Part {n}", ("x",)) for n in range(60)))


def sender_for(
    fake: FakeSlack, *, timeout: float = 5, url: str | None = None, store: Store | None = None
) -> SlackSender:
    settings = SlackSettings(bot_token="xoxb-test", api_base_url=url or fake.api_base_url)
    policy = load_policy(None, default_timezone="UTC")  # the demo policy
    pages_from = store or MemoryStore()
    home = SlackHome(store=pages_from, clock=ManualClock(NOW), policy=lambda: policy)
    return SlackSender(build_delivery_client(settings, timeout=timeout), home)


def parts(fake: FakeSlack) -> list[str]:
    """The first block's text of each message posted, in the order they arrived."""
    return [c.body["blocks"][0]["text"]["text"] for c in fake.api_calls("chat.postMessage")]


async def test_a_post_goes_to_the_channel_and_returns_its_ts(fake: FakeSlack) -> None:
    ts = await sender_for(fake).send(Outgoing(CHANNEL, NOTICE))

    (call,) = fake.api_calls("chat.postMessage")
    assert call.body["channel"] == CHANNEL_ID
    assert "thread_ts" not in call.body
    assert ts == call.answer["ts"]
    assert_block_kit_limits(call.body)


async def test_a_post_in_a_thread_carries_its_thread_ts(fake: FakeSlack) -> None:
    await sender_for(fake).send(Outgoing(CHANNEL, NOTICE, thread="1718040563.000001"))

    (call,) = fake.api_calls("chat.postMessage")
    assert call.body["thread_ts"] == "1718040563.000001"


async def test_a_reply_of_several_messages_is_posted_in_order_and_known_by_the_first(
    fake: FakeSlack,
) -> None:
    ts = await sender_for(fake).send(Outgoing(CHANNEL, LONG))

    first, second = fake.api_calls("chat.postMessage")
    assert ts == first.answer["ts"]
    assert parts(fake) == ["Long", "*Part 49*\nx"]
    for call in (first, second):
        assert_block_kit_limits(call.body)


async def test_a_page_refused_part_way_is_retried_without_posting_the_others_again(
    fake: FakeSlack,
) -> None:
    sender, message = sender_for(fake), Outgoing(CHANNEL, LONG)
    fake.fail_next("chat.postMessage", status=429, retry_after=7, after=1)
    with pytest.raises(RetryLater):
        await sender.send(message)
    assert [call.status for call in fake.calls] == [200, 429]

    ts = await sender.send(message)  # the worker's retry

    first, _ = fake.api_calls("chat.postMessage")  # each page once
    assert ts == first.answer["ts"]
    assert parts(fake) == ["Long", "*Part 49*\nx"]


async def test_an_update_too_long_for_one_message_is_cut_and_keeps_its_buttons(
    fake: FakeSlack,
) -> None:
    buttons = (Action("Approve as qa", "{}"), Action("Reject as qa", "{}"))
    card = replace(LONG, actions=buttons)
    message = Outgoing(CHANNEL, card, kind=Delivery.UPDATE, target="1718040563.000042")

    assert await sender_for(fake).send(message) is None

    (call,) = fake.api_calls("chat.update")  # one message replaced: the card's own
    assert (call.body["channel"], call.body["ts"]) == (CHANNEL_ID, "1718040563.000042")
    assert_block_kit_limits(call.body)
    text = block_texts(call.body)
    assert text.startswith("Long\n*Part 0*")
    assert "Too long for one message: some of its lines are cut here." in text
    assert button_labels(call.body) == ["Approve as qa", "Reject as qa"]


async def test_an_ephemeral_notice_goes_to_the_slack_user_of_the_principal(
    fake: FakeSlack,
) -> None:
    message = Outgoing(CHANNEL, NOTICE, kind=Delivery.EPHEMERAL, target="slack:U0OWNER01")

    await sender_for(fake).send(message)

    (call,) = fake.api_calls("chat.postEphemeral")
    assert (call.body["channel"], call.body["user"]) == (CHANNEL_ID, "U0OWNER01")


@pytest.mark.parametrize("target", ["teams:6a3a8f2c", "email:a@b.example", "slack:", None])
async def test_an_ephemeral_notice_for_someone_not_on_slack_is_undeliverable(
    fake: FakeSlack, target: str | None
) -> None:
    message = Outgoing(CHANNEL, NOTICE, kind=Delivery.EPHEMERAL, target=target)

    with pytest.raises(Undeliverable):
        await sender_for(fake).send(message)

    assert fake.calls == []


async def test_a_429_is_handed_to_the_worker_with_its_retry_after_and_not_retried_here(
    fake: FakeSlack,
) -> None:
    fake.fail_next("chat.postMessage", 1, status=429, retry_after=30)

    with pytest.raises(RetryLater) as raised:
        await sender_for(fake).send(Outgoing(CHANNEL, NOTICE))

    assert raised.value.after == 30
    assert len(fake.calls) == 1  # slack-sdk's own retry handlers are off


async def test_a_page_is_the_persons_app_home_published_afresh(fake: FakeSlack) -> None:
    changed = Reply(title="checkout@2.4.0 changed", subject="checkout@2.4.0")
    page = Outgoing(Conversation("slack", "U0QA00001"), changed, kind=Delivery.PAGE)

    assert await sender_for(fake).send(page) is None

    (view,) = fake.published("U0QA00001")
    assert view["type"] == "home"
    assert "Nothing is waiting for your sign-off." in block_texts(view)


async def test_a_page_slack_rate_limits_is_retried_later_with_its_retry_after(
    fake: FakeSlack,
) -> None:
    fake.fail_next("views.publish", 1, status=429, retry_after=12)
    page = Outgoing(Conversation("slack", "U0QA00001"), NOTICE, kind=Delivery.PAGE)

    with pytest.raises(RetryLater) as raised:
        await sender_for(fake).send(page)

    assert raised.value.after == 12


async def test_a_page_slack_refuses_for_good_offers_nothing_to_refresh_after(
    fake: FakeSlack,
) -> None:
    store = MemoryStore()
    await declare(store, release("checkout@2.4.0", owner="slack:U0ENG0001"))  # quinn signs it
    fake.fail_next("views.publish", error="user_not_found")
    page = Outgoing(Conversation("slack", "U0QA00001"), NOTICE, kind=Delivery.PAGE)

    with pytest.raises(Undeliverable, match="user_not_found"):
        await sender_for(fake, store=store).send(page)

    async with store(read_only=True) as uow:
        assert await uow.pages.showing("checkout@2.4.0") == []
    await sender_for(fake, store=store).send(page)  # published when Slack takes it again
    async with store(read_only=True) as uow:
        assert await uow.pages.showing("checkout@2.4.0") == [PageRef("slack", "U0QA00001")]


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_is_retried_later(fake: FakeSlack, status: int) -> None:
    fake.fail_next("chat.update", 1, status=status)
    message = Outgoing(CHANNEL, NOTICE, kind=Delivery.UPDATE, target="1.2")

    with pytest.raises(RetryLater) as raised:
        await sender_for(fake).send(message)

    assert raised.value.after is None  # the worker's back-off decides
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    "error", ["internal_error", "fatal_error", "service_unavailable", "request_timeout"]
)
async def test_slacks_own_transient_errors_are_retried_later(fake: FakeSlack, error: str) -> None:
    fake.fail_next("chat.postMessage", error=error)

    with pytest.raises(RetryLater):
        await sender_for(fake).send(Outgoing(CHANNEL, NOTICE))


@pytest.mark.parametrize(
    "error",
    [
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "msg_too_long",
        "message_not_found",
        "cant_update_message",
        "invalid_auth",
    ],
)
async def test_a_permanent_refusal_is_undeliverable(fake: FakeSlack, error: str) -> None:
    fake.fail_next("chat.update", error=error)
    message = Outgoing(CHANNEL, NOTICE, kind=Delivery.UPDATE, target="1.2")

    with pytest.raises(Undeliverable, match=error):
        await sender_for(fake).send(message)

    assert len(fake.calls) == 1


async def test_a_call_slower_than_the_timeout_is_retried_later(fake: FakeSlack) -> None:
    fake.delay_next("chat.postMessage", 1.0)

    with pytest.raises(RetryLater, match="Timeout"):
        await sender_for(fake, timeout=0.2).send(Outgoing(CHANNEL, NOTICE))

    await fake.wait_for(lambda: len(fake.calls) == 1)
    assert fake.calls[0].status == 499  # the fake saw the client give up: nothing was posted


async def test_a_refused_connection_is_retried_later(fake: FakeSlack) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    sender = sender_for(fake, url=f"http://127.0.0.1:{port}/api/")

    with pytest.raises(RetryLater):
        await sender.send(Outgoing(CHANNEL, NOTICE))


@pytest.mark.parametrize(
    ("header", "after"),
    [("12", 12.0), ("-3", 0.0), ("999999", MAX_RETRY_AFTER_SECONDS), ("inf", None), ("soon", None)],
)
def test_a_garbled_retry_after_neither_stalls_nor_breaks_the_retry(
    header: str, after: float | None
) -> None:
    response = SimpleNamespace(
        status_code=429, headers={"Retry-After": header}, data={"ok": False, "error": "ratelimited"}
    )

    verdict = refusal(SlackApiError("ratelimited", response))

    assert isinstance(verdict, RetryLater) and verdict.after == after
