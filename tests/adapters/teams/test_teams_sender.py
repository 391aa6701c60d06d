"""The Teams sender (the outbox's way into Teams) against the fake connector over real HTTP:
where each kind of message goes, what each connector answer means to the outbox, one attempt
per call, and a reply too large for one message split across several, nothing dropped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from adapters.clock import ManualClock
from adapters.delivery import RetryLater, Undeliverable
from adapters.settings import TeamsSettings
from adapters.teams import connector as teams_connector
from adapters.teams.endpoint import build_adapter
from adapters.teams.sender import TeamsSender
from bot.domain import Conversation
from bot.outbox import Delivery, Outgoing
from bot.reply import Reply, Section
from storage.base import CardRef
from storage.memory import MemoryStore
from tests.support.fake_connector import FakeConnector
from tests.support.people import NOW
from tests.support.teams_activities import (
    CHANNEL,
    GROUP_CHAT,
    INSTALLED,
    TeamsClient,
    activity,
    card_text,
    execute,
    fixture,
)

THREAD = fixture(CHANNEL)["conversation"]["id"]  # a reply chain: …@thread.tacv2;messageid=…
CHANNEL_ID = THREAD.split(";messageid=")[0]
GROUP = fixture(GROUP_CHAT)["conversation"]["id"]
PERSONAL_CHAT = fixture(INSTALLED)["conversation"]["id"]
ADA = "teams:6a3a8f2c-4b1e-4c2d-9e8f-00000000a001"
CARD = Reply(title="Release checkout@2.4.0", sections=(Section("Risks", ("none",)),))


def sender(store: MemoryStore, clock: ManualClock) -> TeamsSender:
    adapter = build_adapter(TeamsSettings(allow_unauthenticated=True))
    return TeamsSender(adapter, "", store, clock)


async def heard_in_thread(teams: TeamsClient) -> None:
    """The bot hears from the channel thread (a click it answers in the HTTP body alone), and
    so keeps that conversation's reference."""
    await teams.invoke(execute(teams.connector.service_url, {"rb": "not ours"}))
    assert teams.connector.requests == []


def teams_at(conversation_id: str) -> Conversation:
    return Conversation("teams", conversation_id)


async def test_a_post_in_a_channel_thread_starts_a_new_post_in_the_channel(
    teams: TeamsClient, store: MemoryStore, clock: ManualClock, connector: FakeConnector
) -> None:
    await heard_in_thread(teams)

    sent = await sender(store, clock).send(Outgoing(teams_at(THREAD), CARD))

    [post] = connector.requests
    assert post.path == f"/v3/conversations/{CHANNEL_ID}/activities"  # no ;messageid=
    assert post.body["conversation"]["id"] == CHANNEL_ID and "replyToId" not in post.body
    assert (post.status, sent) == (201, post.sent_id)
    assert "Release checkout@2.4.0" in card_text(post.cards[0])


async def test_a_post_with_a_thread_replies_in_that_thread(
    teams: TeamsClient, store: MemoryStore, clock: ManualClock, connector: FakeConnector
) -> None:
    await heard_in_thread(teams)

    await sender(store, clock).send(Outgoing(teams_at(THREAD), CARD, thread="1740000009999"))

    [post] = connector.requests
    assert post.path == f"/v3/conversations/{CHANNEL_ID};messageid=1740000009999/activities"


async def test_a_post_in_a_group_chat_just_joins_the_chat(
    teams: TeamsClient, store: MemoryStore, clock: ManualClock, connector: FakeConnector
) -> None:
    await teams.say(GROUP_CHAT, "help")  # the bot hears from the chat (and answers)

    await sender(store, clock).send(Outgoing(teams_at(GROUP), CARD))

    post = connector.requests[-1]
    assert post.path == f"/v3/conversations/{GROUP}/activities" and post.status == 201


async def test_an_update_puts_the_target_activity_with_the_new_card(
    teams: TeamsClient, store: MemoryStore, clock: ManualClock, connector: FakeConnector
) -> None:
    await heard_in_thread(teams)
    update = Outgoing(teams_at(THREAD), CARD, kind=Delivery.UPDATE, target="1740000009123")

    assert await sender(store, clock).send(update) is None

    [put] = connector.requests
    assert (put.method, put.path) == ("PUT", f"/v3/conversations/{THREAD}/activities/1740000009123")
    assert put.body["id"] == "1740000009123" and "replyToId" not in put.body
    assert "Release checkout@2.4.0" in card_text(put.cards[0])


async def test_an_ephemeral_notice_goes_to_the_persons_personal_chat(
    teams: TeamsClient, store: MemoryStore, clock: ManualClock, connector: FakeConnector
) -> None:
    await teams.post(activity(INSTALLED, connector.service_url))  # Ada installs the app
    notice = Outgoing(teams_at(THREAD), Reply(title="Only you"), Delivery.EPHEMERAL, target=ADA)

    sent = await sender(store, clock).send(notice)

    [post] = connector.requests
    assert post.path == f"/v3/conversations/{PERSONAL_CHAT}/activities" and sent == post.sent_id


async def test_an_ephemeral_notice_for_someone_without_a_personal_chat_is_undeliverable(
    teams: TeamsClient, store: MemoryStore, clock: ManualClock, connector: FakeConnector
) -> None:
    await heard_in_thread(teams)
    notice = Outgoing(teams_at(THREAD), Reply(title="Only you"), Delivery.EPHEMERAL, target=ADA)

    with pytest.raises(Undeliverable, match=f"no ephemeral messages, and {ADA} has no personal"):
        await sender(store, clock).send(notice)

    assert connector.requests == []


async def test_a_conversation_the_bot_never_heard_from_is_undeliverable(
    store: MemoryStore, clock: ManualClock
) -> None:
    with pytest.raises(Undeliverable, match="no conversation reference for 19:"):
        await sender(store, clock).send(Outgoing(teams_at(THREAD), CARD))


async def test_a_personal_page_is_undeliverable_in_teams_which_has_none(
    teams: TeamsClient, store: MemoryStore, clock: ManualClock, connector: FakeConnector
) -> None:
    await heard_in_thread(teams)
    page = Outgoing(Conversation("teams", ADA.removeprefix("teams:")), CARD, Delivery.PAGE)

    with pytest.raises(Undeliverable, match="no own page"):
        await sender(store, clock).send(page)

    assert connector.requests == []


RETRY = [429, 412, 500, 502, 503, 504]


@pytest.mark.parametrize("status", RETRY)
async def test_a_connector_that_says_later_gets_a_retry_later_after_one_attempt(
    teams: TeamsClient,
    store: MemoryStore,
    clock: ManualClock,
    connector: FakeConnector,
    status: int,
) -> None:
    await heard_in_thread(teams)
    connector.fail_next(1, status=status, retry_after="7")
    update = Outgoing(teams_at(THREAD), CARD, kind=Delivery.UPDATE, target="1740000009123")

    with pytest.raises(RetryLater, match=f"answered {status}") as later:
        await sender(store, clock).send(update)  # a PUT: the one botbuilder would retry itself

    assert later.value.after == (7.0 if status == 429 else None)
    assert [r.status for r in connector.requests] == [status]


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_a_connector_that_says_never_gets_undeliverable(
    teams: TeamsClient,
    store: MemoryStore,
    clock: ManualClock,
    connector: FakeConnector,
    status: int,
) -> None:
    await heard_in_thread(teams)
    connector.fail_next(1, status=status)

    with pytest.raises(Undeliverable, match=f"answered {status} \\(InternalError: injected"):
        await sender(store, clock).send(Outgoing(teams_at(THREAD), CARD))

    assert len(connector.requests) == 1


async def test_a_connector_that_does_not_answer_in_time_gets_a_retry_later(
    teams: TeamsClient,
    store: MemoryStore,
    clock: ManualClock,
    connector: FakeConnector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(teams_connector, "TIMEOUT", (1.0, 0.2))
    await heard_in_thread(teams)
    connector.hang_next(1)

    with pytest.raises(RetryLater, match="unreachable"):
        await sender(store, clock).send(Outgoing(teams_at(THREAD), CARD))

    assert [r.status for r in connector.requests] == [0]  # asked once, never answered


async def queue(store: MemoryStore, *messages: Outgoing) -> None:
    async with store() as uow:
        for message in messages:
            await uow.outbox.add(message, at=NOW)
        await uow.commit()


def long_reply(lines: int) -> Reply:
    items = tuple(f"change {n:03}: " + "x" * 200 for n in range(lines))
    return Reply(title="Release notes: checkout@2.4.0", sections=(Section("Fixes", items),))


async def test_a_reply_too_large_for_one_message_is_posted_in_parts_in_the_first_ones_thread(
    teams: TeamsClient,
    store: MemoryStore,
    connector: FakeConnector,
    deliver: Callable[[], Awaitable[None]],
) -> None:
    await heard_in_thread(teams)
    await queue(store, Outgoing(teams_at(THREAD), long_reply(300), remember_as="notes:1"))

    await deliver()

    first, *rest = connector.delivered()
    assert first.path == f"/v3/conversations/{CHANNEL_ID}/activities"
    assert len(rest) >= 2
    assert {r.path for r in rest} == {
        f"/v3/conversations/{CHANNEL_ID};messageid={first.sent_id}/activities"
    }
    shown = "\n".join(card_text(card) for r in [first, *rest] for card in r.cards)
    where = [shown.find(f"change {n:03}: ") for n in range(300)]
    assert all(shown.count(f"change {n:03}: ") == 1 for n in range(300))  # every line, once
    assert where == sorted(where)  # in order
    assert store.data.cards == [CardRef("notes:1", "teams", THREAD, str(first.sent_id))]
    assert await store.outbox_depth() == (0, 0)


async def test_a_part_refused_after_the_first_is_queued_and_nothing_is_posted_twice(
    teams: TeamsClient,
    store: MemoryStore,
    clock: ManualClock,
    connector: FakeConnector,
    deliver: Callable[[], Awaitable[None]],
) -> None:
    await heard_in_thread(teams)
    connector.fail_next(1, status=503, when=lambda _, path: ";messageid=" in path[2])  # part 2
    await queue(store, Outgoing(teams_at(THREAD), long_reply(300)))

    await deliver()
    clock.advance(timedelta(seconds=301))
    await deliver()

    statuses = [r.status for r in connector.requests]
    assert statuses[:2] == [201, 503] and set(statuses[2:]) == {201}
    shown = "\n".join(card_text(r.cards[0]) for r in connector.delivered())
    assert [shown.count(f"change {n:03}: ") for n in range(300)] == [1] * 300
    assert await store.outbox_depth() == (0, 0)
