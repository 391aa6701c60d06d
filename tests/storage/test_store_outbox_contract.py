"""The contract of risks, huddles, change items and the outbox, on every store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.domain import Conversation
from bot.outbox import Delivery, Outgoing
from bot.reply import Action, Fact, Reply, Section, Struck, Style, Tone
from bot.risks import ChangeItem, Decision, Outcome, Severity
from storage.base import CardRef, Store
from tests.storage.factories import low_risk

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
SLACK = Conversation("slack", "C0RELEASES")
TEAMS = Conversation("teams", "19:abc@thread.tacv2")
CARD = Reply(
    title="Release a@1",
    tone=Tone.WARNING,
    summary="s",
    facts=(Fact("State", "planned"),),
    # A struck line too: stored as data, it must come back a Struck, not a dict.
    sections=(Section("Sign-offs", ("… qa: waiting", Struck("eng: ✓ approved", " (stale)"))),),
    actions=(Action("Reject as qa", '{"c":"Reject"}', Style.DANGER, "reason", "Why?"),),
    notes=("n",),
    subject="a@1",
)


async def queue(store: Store, *messages: Outgoing, at: datetime = T0) -> None:
    async with store() as uow:
        for message in messages:
            await uow.outbox.add(message, at=at)
        await uow.commit()


async def test_risks_decisions_huddles_and_changes_round_trip(store: Store) -> None:
    async with store() as uow:
        risk = await uow.risks.add(
            release="a@1",
            severity=Severity.HIGH,
            description="stampede",
            raised_by="slack:U1",
            raised_at=T0,
        )
        decision = Decision(
            risk.id,
            "a@1",
            Outcome.ACCEPT,
            "fine",
            "slack:U2",
            "bob",
            T0 + timedelta(minutes=1),
            T0 + timedelta(days=1),
        )
        await uow.decisions.add(decision)
        huddle = await uow.huddles.add(
            release="a@1", topic="go?", opened_by="slack:U1", opened_at=T0, conversation=SLACK
        )
        change = ChangeItem("a@1", "Pay by link", "feature", "payments", None, "ana", T0)
        await uow.changes.add(change)
        await uow.commit()
    async with store(read_only=True) as uow:
        assert await uow.risks.on_release("a@1") == [risk]
        assert await uow.risks.get(risk.id) == risk
        assert await uow.decisions.for_risks([risk.id]) == [decision]
        assert await uow.decisions.for_release("a@1") == [decision]
        assert await uow.huddles.open_for("a@1") == huddle
        assert await uow.huddles.all_open(limit=5) == [huddle]
        assert await uow.changes.for_release("a@1") == [change]


async def test_moving_a_risk_and_closing_a_huddle(store: Store) -> None:
    async with store() as uow:
        risk = await low_risk(uow, "a@1")
        huddle = await uow.huddles.add(
            release="a@1", topic=None, opened_by="slack:U1", opened_at=T0, conversation=None
        )
        await uow.risks.move(risk.id, None)
        await uow.huddles.close(huddle.id, at=T0)
        await uow.commit()
    async with store(read_only=True) as uow:
        assert await uow.risks.on_release("a@1") == []
        assert [r.id for r in await uow.risks.homeless()] == [risk.id]
        assert await uow.huddles.open_for("a@1") is None
        assert await uow.huddles.all_open(limit=5) == []
        closed = await uow.huddles.get(huddle.id)
        assert closed is not None and closed.closed_at == T0


async def test_a_waiting_risk_is_taken_by_one_release_only(store: Store) -> None:
    async with store() as uow:
        risk = await low_risk(uow, "a@1")
        assert not await uow.risks.take(risk.id, "a@2")  # it does not wait: nothing changes
        assert [r.id for r in await uow.risks.on_release("a@1")] == [risk.id]
        await uow.risks.move(risk.id, None)
        assert await uow.risks.take(risk.id, "a@2")
        assert not await uow.risks.take(risk.id, "a@3")  # taken already
        await uow.commit()
    async with store(read_only=True) as uow:
        assert [r.id for r in await uow.risks.on_release("a@2")] == [risk.id]
        assert await uow.risks.on_release("a@1") == await uow.risks.on_release("a@3") == []


async def test_queued_messages_survive_only_a_commit(store: Store) -> None:
    async with store() as uow:
        await uow.outbox.add(Outgoing(SLACK, CARD), at=T0)  # never committed
    assert await store.outbox_depth() == (0, 0)
    await queue(store, Outgoing(SLACK, CARD, remember_as="a@1"))
    [item] = await store.claim_due(T0, limit=10, lease=LEASE)
    assert item.message == Outgoing(SLACK, CARD, remember_as="a@1")
    assert item.attempts == 0


async def test_each_conversation_delivers_in_order_one_at_a_time(store: Store) -> None:
    first = Outgoing(SLACK, CARD)
    second = Outgoing(SLACK, CARD, kind=Delivery.UPDATE, target="1.2")
    other = Outgoing(TEAMS, CARD)
    await queue(store, first, second, other)
    claimed = await store.claim_due(T0, limit=10, lease=LEASE)
    assert [i.message for i in claimed] == [first, other]
    assert await store.claim_due(T0, limit=10, lease=LEASE) == []  # leased, and second waits
    await store.delivered(claimed[0], message_id="1.2", at=T0)
    [next_one] = await store.claim_due(T0, limit=10, lease=LEASE)
    assert next_one.message == second


async def test_a_retry_waits_its_turn_and_a_lease_expires(store: Store) -> None:
    await queue(store, Outgoing(SLACK, CARD))
    [item] = await store.claim_due(T0, limit=1, lease=LEASE)
    await store.retry_later(item, at=T0 + timedelta(seconds=5), error="429")
    assert await store.claim_due(T0 + timedelta(seconds=4), limit=1, lease=LEASE) == []
    [again] = await store.claim_due(T0 + timedelta(seconds=5), limit=1, lease=LEASE)
    assert again.attempts == 1
    # A worker that dies keeps nothing: its lease runs out and another worker takes over.
    assert await store.claim_due(T0 + timedelta(seconds=6), limit=1, lease=LEASE) == []
    later = T0 + timedelta(seconds=5) + LEASE
    assert [i.id for i in await store.claim_due(later, limit=1, lease=LEASE)] == [again.id]


async def test_a_dead_letter_stays_visible_and_its_conversation_moves_on(store: Store) -> None:
    await queue(store, Outgoing(SLACK, CARD), Outgoing(SLACK, CARD, target="x"))
    [item] = await store.claim_due(T0, limit=1, lease=LEASE)
    await store.dead_letter(item, error="channel_not_found", at=T0)
    assert await store.outbox_depth() == (1, 1)
    [dead] = await store.dead_letters()
    assert (dead.item.id, dead.error) == (item.id, "channel_not_found")
    [after] = await store.claim_due(T0, limit=1, lease=LEASE)
    assert after.message.target == "x"


async def test_a_delivered_post_remembers_its_card(store: Store) -> None:
    await queue(store, Outgoing(TEAMS, CARD, remember_as="a@1"))
    [item] = await store.claim_due(T0, limit=1, lease=LEASE)
    await store.delivered(item, message_id="act-9", at=T0)
    assert await store.cards_of("a@1") == [CardRef("a@1", "teams", TEAMS.id, "act-9")]
    async with store(read_only=True) as uow:
        assert list(await uow.cards.of("a@1")) == [CardRef("a@1", "teams", TEAMS.id, "act-9")]
    assert await store.outbox_depth() == (0, 0)


async def test_workers_claiming_at_once_never_share_a_message(store: Store) -> None:
    await queue(store, *(Outgoing(Conversation("slack", f"C{n}"), CARD) for n in range(20)))
    batches = await asyncio.gather(*(store.claim_due(T0, limit=5, lease=LEASE) for _ in range(8)))
    ids = [item.id for batch in batches for item in batch]
    assert len(ids) == len(set(ids)) == 20
