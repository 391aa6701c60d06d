"""The outbox worker against fake senders, with time moved by hand instead of slept."""

from __future__ import annotations

from datetime import timedelta

from adapters.clock import ManualClock
from adapters.delivery import DeliveryPolicy, DeliveryWorker, RetryLater, Undeliverable
from bot.domain import Conversation
from bot.outbox import Delivery, Outgoing
from bot.reply import Reply
from storage.base import CardRef
from storage.memory import MemoryStore
from tests.support.people import NOW

SLACK = Conversation("slack", "C0RELEASES")
OTHER = Conversation("slack", "C0OTHER")


class FakeSender:
    """Answers from a script of outcomes; records what it was asked to send."""

    def __init__(self, *script: Exception | str | None) -> None:
        self.script = list(script)
        self.sent: list[Outgoing] = []

    async def send(self, message: Outgoing) -> str | None:
        outcome = self.script.pop(0) if self.script else None
        if isinstance(outcome, Exception):
            raise outcome
        self.sent.append(message)
        return outcome


async def queue(store: MemoryStore, *messages: Outgoing) -> None:
    async with store() as uow:
        for message in messages:
            await uow.outbox.add(message, at=NOW)
        await uow.commit()


def worker(
    store: MemoryStore, clock: ManualClock, sender: FakeSender, **policy: int
) -> DeliveryWorker:
    delivery = DeliveryWorker(store, clock, policy=DeliveryPolicy(**policy), jitter=lambda: 1.0)
    delivery.register("slack", sender)
    return delivery


def message(title: str, where: Conversation = SLACK, **options: str) -> Outgoing:
    return Outgoing(where, Reply(title=title), **options)  # type: ignore[arg-type]


async def test_each_message_is_delivered_once_in_order_per_conversation() -> None:
    store, clock, sender = MemoryStore(), ManualClock(NOW), FakeSender()
    await queue(store, message("1"), message("a", OTHER), message("2"), message("3"))
    assert await worker(store, clock, sender).run_once() == 4
    assert [m.reply.title for m in sender.sent if m.conversation == SLACK] == ["1", "2", "3"]
    assert await worker(store, clock, sender).run_once() == 0
    assert await store.outbox_depth() == (0, 0)


async def test_retry_after_is_honoured_and_order_holds_meanwhile() -> None:
    store, clock = MemoryStore(), ManualClock(NOW)
    sender = FakeSender(RetryLater("429 ratelimited", after=30))
    await queue(store, message("first"), message("second"))
    delivery = worker(store, clock, sender)
    await delivery.run_once()
    assert sender.sent == []  # "second" waits behind "first"
    clock.advance(timedelta(seconds=29))
    await delivery.run_once()
    assert sender.sent == []
    clock.advance(timedelta(seconds=1))
    await delivery.run_once()
    assert [m.reply.title for m in sender.sent] == ["first", "second"]


async def test_failures_back_off_exponentially_then_dead_letter() -> None:
    store, clock = MemoryStore(), ManualClock(NOW)
    sender = FakeSender(*(TimeoutError("slow") for _ in range(4)))
    await queue(store, message("doomed"), message("next"))
    delivery = worker(store, clock, sender, max_attempts=4)
    waits = []
    for _ in range(4):
        await delivery.run_once()
        [due] = [q.next_at for q in store.data.outbox if q.message.reply.title == "doomed"]
        waits.append((due - clock.now()).total_seconds())
        clock.set(due)
    assert waits[:3] == [1.0, 2.0, 4.0]
    [dead] = await store.dead_letters()
    assert dead.item.message.reply.title == "doomed" and "gave up after 4 attempts" in dead.error
    assert [m.reply.title for m in sender.sent] == ["next"]  # the conversation moved on


async def test_a_refusal_is_dead_lettered_at_once_and_stays_visible() -> None:
    store, clock = MemoryStore(), ManualClock(NOW)
    await queue(store, message("x"))
    await worker(store, clock, FakeSender(Undeliverable("channel_not_found"))).run_once()
    assert await store.outbox_depth() == (0, 1)
    assert (await store.dead_letters())[0].error == "channel_not_found"


async def test_a_new_worker_after_a_restart_finishes_the_job() -> None:
    store, clock = MemoryStore(), ManualClock(NOW)
    await queue(store, message("x"))
    await worker(store, clock, FakeSender(RetryLater("500", after=5))).run_once()
    clock.advance(timedelta(seconds=5))
    restarted = FakeSender()
    await worker(store, clock, restarted).run_once()
    assert [m.reply.title for m in restarted.sent] == ["x"]


async def test_a_posted_card_is_remembered_and_the_worker_wakes_on_commit() -> None:
    store, clock, sender = MemoryStore(), ManualClock(NOW), FakeSender("1718.0001")
    delivery = worker(store, clock, sender)
    await queue(store, message("card", remember_as="a@1"))
    assert delivery._wake.is_set()
    await delivery.run_once()
    assert await store.cards_of("a@1") == [CardRef("a@1", "slack", SLACK.id, "1718.0001")]
    assert sender.sent[0].kind is Delivery.POST


async def test_rate_limits_wait_as_long_as_asked_until_the_message_expires() -> None:
    store, clock = MemoryStore(), ManualClock(NOW)
    sender = FakeSender(*(RetryLater("429", after=3600) for _ in range(30)))
    await queue(store, message("patient"))
    delivery = worker(store, clock, sender, max_attempts=3)
    for _ in range(24):
        await delivery.run_once()
        clock.advance(timedelta(hours=1))
    assert await store.outbox_depth() == (1, 0)  # 24 rate limits in a day: still waiting
    clock.advance(timedelta(hours=1))
    await delivery.run_once()
    [dead] = await store.dead_letters()
    assert "gave up after 25 attempts: 429" in dead.error
