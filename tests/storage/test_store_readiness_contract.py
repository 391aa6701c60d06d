"""The store contract for sign-offs, signals, freezes and row locks, on every backend."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from bot.domain import SignalValue
from bot.signoffs import SignOff, Verdict
from storage.base import Store
from tests.storage.factories import T0, declare, is_utc, read, release

HOUR = timedelta(hours=1)


def signoff(role: str = "qa", rel: str = "checkout@2.4.0", **changes: object) -> SignOff:
    base = SignOff(
        release=rel,
        role=role,
        principal=f"slack:U0{role.upper()}0001",
        display_name=f"{role} lead",
        verdict=Verdict.APPROVED,
        at=T0,
        note="looks good",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def signal(key: str, value: float, at_hours: int, rel: str = "checkout@2.4.0") -> SignalValue:
    return SignalValue(release=rel, key=key, value=value, at=T0 + at_hours * HOUR, source="ci")


# Row locks


async def test_writers_holding_the_row_lock_never_collide(store: Store) -> None:
    await declare(store, release())

    async def bump(i: int) -> None:
        async with store() as uow:
            current = await uow.releases.get("checkout@2.4.0", for_update=True)
            assert current is not None
            await uow.releases.update(current.changed(at=T0 + i * HOUR, env=f"env{i}"))
            await uow.commit()

    await asyncio.gather(*(bump(i) for i in range(10)))
    found = await read(store, "checkout@2.4.0")
    assert found is not None and found.revision == 11


async def test_a_read_only_lookup_may_ask_for_the_lock(store: Store) -> None:
    await declare(store, release())
    async with store(read_only=True) as uow:
        assert await uow.releases.get("checkout@2.4.0", for_update=True) == release()


async def test_the_retrospective_review_fields_round_trip(store: Store) -> None:
    owed = release(review_due_at=T0 + 48 * HOUR, reviewed_by="slack:U0OPS0001")
    await declare(store, owed)
    found = await read(store, owed.name)
    assert found == owed and found is not None and is_utc(found.review_due_at)


# Sign-offs


async def test_signoffs_come_back_oldest_first_per_release(store: Store) -> None:
    given = [signoff("qa"), signoff("eng", at=T0 - HOUR), signoff("qa", rel="billing@1")]
    given.append(signoff("qa", verdict=Verdict.REJECTED, note=None))
    async with store() as uow:
        for item in given:
            await uow.signoffs.add(item)
        await uow.commit()
    async with store(read_only=True) as uow:
        mine = await uow.signoffs.for_release("checkout@2.4.0")
    assert mine == [given[0], given[1], given[3]]
    assert all(is_utc(s.at) for s in mine)


async def test_marking_stale_counts_only_the_current_signoffs(store: Store) -> None:
    async with store() as uow:
        for item in (signoff("qa"), signoff("eng"), signoff("qa", rel="billing@1")):
            await uow.signoffs.add(item)
        assert await uow.signoffs.mark_stale("checkout@2.4.0") == 2
        assert await uow.signoffs.mark_stale("checkout@2.4.0") == 0
        await uow.commit()
    async with store(read_only=True) as uow:
        assert [s.stale for s in await uow.signoffs.for_release("checkout@2.4.0")] == [True, True]
        assert [s.stale for s in await uow.signoffs.for_release("billing@1")] == [False]


async def test_signoffs_are_not_kept_without_commit(store: Store) -> None:
    async with store() as uow:
        await uow.signoffs.add(signoff())
    async with store(read_only=True) as uow:
        assert await uow.signoffs.for_release("checkout@2.4.0") == []


# Signals


async def test_the_latest_signal_per_key_wins_by_time_then_arrival(store: Store) -> None:
    arrivals = [
        signal("coverage", 82.5, at_hours=2),
        signal("coverage", 70.0, at_hours=1),  # older, though it arrived later
        signal("open_blockers", 3, at_hours=1),
        signal("open_blockers", 0, at_hours=1),  # same time: the later arrival wins
        signal("coverage", 99.0, at_hours=5, rel="billing@1"),
    ]
    async with store() as uow:
        for item in arrivals:
            await uow.signals.add(item)
        await uow.commit()
    async with store(read_only=True) as uow:
        assert await uow.signals.latest("checkout@2.4.0") == {
            "coverage": 82.5,
            "open_blockers": 0,
        }
        assert await uow.signals.latest("nothing@0") == {}


# Freeze windows


async def test_freezes_are_numbered_kept_and_removed(store: Store) -> None:
    async with store() as uow:
        first = await uow.freezes.add(
            starts_at=T0, ends_at=T0 + HOUR, reason="holidays", created_by="slack:U0OPS0001"
        )
        second = await uow.freezes.add(
            starts_at=T0, ends_at=T0 + HOUR, reason=None, created_by="slack:U0OPS0001"
        )
        await uow.commit()
    assert second.id > first.id and first.label == f"F{first.id}"
    async with store() as uow:
        assert await uow.freezes.get(first.id) == first
        await uow.freezes.remove(second.id)
        third = await uow.freezes.add(
            starts_at=T0, ends_at=T0 + HOUR, reason=None, created_by="slack:U0OPS0001"
        )
        await uow.commit()
    async with store(read_only=True) as uow:
        assert await uow.freezes.get(second.id) is None
    assert third.id > second.id  # an id, once shown in an audit trail, never names another


async def test_overlapping_freezes_share_an_instant_and_come_soonest_first(store: Store) -> None:
    spans = [(0, 2), (3, 5), (-4, -1), (1, 3)]
    async with store() as uow:
        for start, end in spans:
            await uow.freezes.add(
                starts_at=T0 + start * HOUR,
                ends_at=T0 + end * HOUR,
                reason=None,
                created_by="console:me",
            )
        await uow.commit()
    async with store(read_only=True) as uow:
        hits = await uow.freezes.overlapping(T0 + 2 * HOUR, T0 + 3 * HOUR)
        before = await uow.freezes.overlapping(T0 - 6 * HOUR, T0 - 4 * HOUR)
        gap = await uow.freezes.overlapping(T0 - HOUR, T0 - HOUR / 2)
    # A window ending at 2h does not cover 2h; one starting at 3h does cover 3h.
    assert [(f.starts_at - T0) / HOUR for f in hits] == [1, 3]
    assert [(f.starts_at - T0) / HOUR for f in before] == [-4]
    assert gap == []
