"""The store contract, run alike against the in-memory twin, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta, timezone

import pytest

from bot.audit import GENESIS_HASH, verify_chain
from bot.domain import AlreadyExists, ConcurrentChange, State
from bot.ports import ReleaseQuery
from storage.base import CardRef, PageRef, Store
from tests.storage.factories import T0, declare, draft, is_utc, names, read, release

# Releases


async def test_add_then_get_round_trips_every_field(store: Store) -> None:
    original = release()
    await declare(store, original)
    found = await read(store, original.name)
    assert found == original
    assert found is not None
    assert is_utc(found.created_at) and is_utc(found.scheduled_at)


async def test_unscheduled_release_without_channel_round_trips(store: Store) -> None:
    bare = release("billing@1.0", scheduled_at=None, train=None, env=None, channel=None)
    await declare(store, bare)
    assert await read(store, "billing@1.0") == bare
    assert await read(store, "billing@9.9") is None


async def test_times_in_another_zone_come_back_as_the_same_instant(store: Store) -> None:
    paris = T0.astimezone(timezone(timedelta(hours=1)))
    await declare(store, release(scheduled_at=paris, created_at=paris, updated_at=paris))
    found = await read(store, "checkout@2.4.0")
    assert found is not None and found.scheduled_at == T0 and found.created_at == T0


async def test_duplicate_add_is_refused_and_the_first_stays(store: Store) -> None:
    await declare(store, release())
    async with store() as uow:
        with pytest.raises(AlreadyExists, match=r"checkout@2\.4\.0 is already declared"):
            await uow.releases.add(release(owner="slack:U0INTRUDR"))
        # The refusal does not spoil the transaction: it can still record it.
        await uow.audit.append(draft("declare refused"))
        await uow.commit()
    assert (await read(store, "checkout@2.4.0")) == release()
    async with store(read_only=True) as uow:
        assert [e.action for e in await uow.audit.all()] == ["declare", "declare refused"]


async def test_update_over_the_current_revision_is_stored(store: Store) -> None:
    await declare(store, release())
    approved = release().changed(at=T0 + timedelta(hours=1), state=State.APPROVED)
    async with store() as uow:
        await uow.releases.update(approved)
        await uow.commit()
    assert await read(store, "checkout@2.4.0") == approved
    assert approved.revision == 2


async def test_update_over_a_stale_revision_is_refused(store: Store) -> None:
    await declare(store, release())
    first = release().changed(at=T0, state=State.APPROVED)
    async with store() as uow:
        await uow.releases.update(first)
        await uow.commit()
    async with store() as uow:
        with pytest.raises(ConcurrentChange):
            await uow.releases.update(release().changed(at=T0, state=State.CANCELLED))
        with pytest.raises(ConcurrentChange):
            await uow.releases.update(release("ghost@1").changed(at=T0))
    assert await read(store, "checkout@2.4.0") == first


# Finding releases

DAY = timedelta(days=1)


async def given_a_calendar(store: Store) -> None:
    await declare(
        store,
        release("web@3", scheduled_at=T0 + 3 * DAY, train="Public"),
        release("api@2", scheduled_at=T0 + DAY, state=State.APPROVED),
        release("zeta@1", scheduled_at=T0 + 2 * DAY, state=State.CANCELLED),
        release("alpha@1", scheduled_at=T0 + 2 * DAY),
        release("later@1", scheduled_at=None),
        release("api@1", scheduled_at=T0 - DAY, state=State.VERIFIED),
    )


async def test_find_everything_soonest_first_unscheduled_last(store: Store) -> None:
    await given_a_calendar(store)
    expected = ["api@1", "api@2", "alpha@1", "zeta@1", "web@3", "later@1"]
    assert await names(store, ReleaseQuery()) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (ReleaseQuery(states=frozenset({State.PLANNED})), ["alpha@1", "web@3", "later@1"]),
        (ReleaseQuery(states=frozenset({State.APPROVED, State.VERIFIED})), ["api@1", "api@2"]),
        (ReleaseQuery(states=frozenset()), []),
        (ReleaseQuery(train="Public"), ["web@3"]),
        (ReleaseQuery(service="api"), ["api@1", "api@2"]),
        (ReleaseQuery(scheduled_from=T0 + DAY), ["api@2", "alpha@1", "zeta@1", "web@3", "later@1"]),
        (ReleaseQuery(scheduled_until=T0 + DAY, include_unscheduled=False), ["api@1", "api@2"]),
        (
            ReleaseQuery(scheduled_from=T0, scheduled_until=T0 + 2 * DAY),
            ["api@2", "alpha@1", "zeta@1", "later@1"],
        ),
        (ReleaseQuery(include_unscheduled=False), ["api@1", "api@2", "alpha@1", "zeta@1", "web@3"]),
        (ReleaseQuery(limit=2), ["api@1", "api@2"]),
        (ReleaseQuery(service="api", train="Public"), []),
    ],
)
async def test_find_narrows_by_every_field(
    store: Store, query: ReleaseQuery, expected: list[str]
) -> None:
    await given_a_calendar(store)
    assert await names(store, query) == expected


# Transactions


async def test_nothing_is_visible_after_leaving_without_commit(store: Store) -> None:
    async with store() as uow:
        await uow.releases.add(release())
        await uow.audit.append(draft())
        assert await uow.releases.get("checkout@2.4.0") is not None
    assert await read(store, "checkout@2.4.0") is None
    async with store(read_only=True) as uow:
        assert await uow.audit.all() == []


async def test_an_error_rolls_back_the_change_and_its_audit_together(store: Store) -> None:
    await declare(store, release())
    with pytest.raises(LookupError):
        async with store() as uow:
            await uow.releases.update(release().changed(at=T0, state=State.APPROVED))
            await uow.audit.append(draft("approve"))
            raise LookupError("the handler failed before commit")
    assert await read(store, "checkout@2.4.0") == release()
    async with store(read_only=True) as uow:
        assert [e.action for e in await uow.audit.all()] == ["declare"]


async def test_read_only_unit_of_work_refuses_to_commit(store: Store) -> None:
    async with store(read_only=True) as uow:
        with pytest.raises(RuntimeError):
            await uow.commit()


async def test_a_reader_sees_committed_data_while_a_writer_is_open(store: Store) -> None:
    await declare(store, release())
    async with store() as writer:
        await writer.releases.update(release().changed(at=T0, state=State.APPROVED))
        found = await asyncio.wait_for(read(store, "checkout@2.4.0"), timeout=2)
        assert found is not None and found.state is State.PLANNED
        await writer.commit()
    found = await read(store, "checkout@2.4.0")
    assert found is not None and found.state is State.APPROVED


# Audit


async def test_audit_events_chain_in_order(store: Store) -> None:
    async with store() as uow:
        first = await uow.audit.append(draft())
        second = await uow.audit.append(draft("approve", at=T0 + timedelta(seconds=5)))
        await uow.audit.append(draft("freeze", rel=None, before=None, after=None, detail={}))
        await uow.commit()
    async with store() as uow:
        await uow.audit.append(draft("deploy", rel="billing@1.0"))
        await uow.commit()
    async with store(read_only=True) as uow:
        events = await uow.audit.all()
        mine = await uow.audit.for_release("checkout@2.4.0")
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert verify_chain(events) is None
    assert events[:2] == [first, second] and second.prev_hash == first.hash
    assert [e.action for e in mine] == ["declare", "approve"]
    assert events[0].at == T0.replace(microsecond=0) and is_utc(events[0].at)


async def test_the_audit_head_is_the_last_event_seen_by_its_own_transaction(store: Store) -> None:
    async with store(read_only=True) as uow:
        assert await uow.audit.head() == (0, GENESIS_HASH)
    async with store() as uow:
        await uow.audit.append(draft())
        last = await uow.audit.append(draft("approve"))
        assert await uow.audit.head() == (2, last.hash)
        await uow.commit()
    async with store() as uow:
        await uow.audit.append(draft("deploy"))  # never committed
    async with store(read_only=True) as uow:
        assert await uow.audit.head() == (2, last.hash)


async def test_audit_times_in_another_zone_still_verify_after_a_reread(store: Store) -> None:
    tokyo = T0.astimezone(timezone(timedelta(hours=9)))
    async with store() as uow:
        await uow.audit.append(draft(at=tokyo))
        await uow.commit()
    async with store(read_only=True) as uow:
        events = await uow.audit.all()
    assert verify_chain(events) is None and events[0].at == T0.replace(microsecond=0)


# Concurrency


async def test_concurrent_writers_each_land_and_the_chain_holds(store: Store) -> None:
    items = [release(f"svc{i}@1.0") for i in range(20)]
    await asyncio.gather(*(declare(store, item) for item in items))
    assert len(await names(store, ReleaseQuery())) == 20
    async with store(read_only=True) as uow:
        events = await uow.audit.all()
    assert [e.seq for e in events] == list(range(1, 21))
    assert verify_chain(events) is None


async def test_the_same_release_declared_at_once_is_won_by_exactly_one(store: Store) -> None:
    tries = [release(owner=f"slack:U{i:08d}") for i in range(10)]
    results = await asyncio.gather(*(declare(store, t) for t in tries), return_exceptions=True)
    losers = [r for r in results if isinstance(r, AlreadyExists)]
    assert results.count(None) == 1 and len(losers) == 9
    winner = tries[results.index(None)]
    assert await read(store, winner.name) == winner
    async with store(read_only=True) as uow:
        assert len(await uow.audit.all()) == 1


# Store-level operations


async def test_a_delivery_is_claimed_once(store: Store) -> None:
    assert await store.claim_delivery("Ev0001", at=T0) is True
    assert await store.claim_delivery("Ev0001", at=T0) is False
    assert await store.claim_delivery("Ev0002", at=T0) is True


async def test_a_delivery_claimed_at_once_is_won_by_exactly_one(store: Store) -> None:
    results = await asyncio.gather(*(store.claim_delivery("Ev9", at=T0) for _ in range(10)))
    assert sorted(results) == [False] * 9 + [True]


async def test_conversation_references_are_saved_replaced_and_read(store: Store) -> None:
    assert await store.conversation_ref("19:abc@thread.v2") is None
    await store.save_conversation_ref("19:abc@thread.v2", {"serviceUrl": "https://a", "n": 1})
    await store.save_conversation_ref("19:abc@thread.v2", {"serviceUrl": "https://b", "n": 2})
    await store.save_conversation_ref("19:other", {"serviceUrl": "https://c"})
    assert await store.conversation_ref("19:abc@thread.v2") == {"serviceUrl": "https://b", "n": 2}


async def test_posted_cards_are_remembered_once_per_message(store: Store) -> None:
    slack = CardRef("a@1", "slack", "C0RELEASES", "1718040800.123459")
    teams = CardRef("a@1", "teams", "19:abc@thread.v2", "1740000009003")
    other = CardRef("b@1", "slack", "C0RELEASES", "1718040900.000001")
    for card in (slack, teams, slack, other):
        await store.save_card(card)
    assert await store.cards_of("a@1") == [slack, teams]
    assert await store.cards_of("b@1") == [other]
    assert await store.cards_of("zzz@9") == []


async def pages_showing(store: Store, release: str) -> list[PageRef]:
    async with store(read_only=True) as uow:
        return list(await uow.pages.showing(release))


async def test_a_page_offers_the_releases_it_last_showed_and_no_others(store: Store) -> None:
    ana, bo = PageRef("slack", "U0ANA0001"), PageRef("slack", "U0BO00001")
    await store.show_on_page(ana, ["a@1", "b@1"])
    await store.show_on_page(bo, ["a@1", "a@1"])
    assert await pages_showing(store, "a@1") == [ana, bo]
    await store.show_on_page(bo, ["a@1"])  # published again showing the same
    assert await pages_showing(store, "a@1") == [ana, bo]
    await store.show_on_page(ana, ["b@1", "c@1"])  # published again: a@1 is gone from it
    assert await pages_showing(store, "a@1") == [bo]
    assert await pages_showing(store, "c@1") == [ana]
    await store.show_on_page(bo, [])
    assert await pages_showing(store, "a@1") == []
    assert await pages_showing(store, "b@1") == [ana]


async def test_ping_answers(store: Store) -> None:
    await store.ping()


async def test_data_survives_closing_and_reopening(
    store: Store, reopen: Callable[[], Awaitable[Store]]
) -> None:
    await declare(store, release())
    await store.claim_delivery("Ev1", at=T0)
    await store.save_conversation_ref("conv", {"id": "conv"})
    await store.close()
    reopened = await reopen()
    try:
        assert await read(reopened, "checkout@2.4.0") == release()
        assert await reopened.claim_delivery("Ev1", at=T0) is False
        assert await reopened.conversation_ref("conv") == {"id": "conv"}
        async with reopened(read_only=True) as uow:
            assert verify_chain(await uow.audit.all()) is None
    finally:
        await reopened.close()
