"""What a read-only unit of work sees, on every backend: one snapshot, taken when it starts reading.

On SQLite read-only units of work share one long-lived connection (storage/sqlite_snapshot.py);
these tests pin down that sharing it changes nothing a caller can see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.domain import SignalValue, State
from bot.ports import ReleaseQuery
from bot.risks import Severity
from bot.signoffs import SignOff, Verdict
from storage.base import Store
from tests.storage.factories import T0, declare, read, release

NAME = "checkout@2.4.0"
DAY = timedelta(days=1)


async def change_everything(store: Store) -> None:
    """Commit, through `store`, a change to every table a status card reads."""
    async with store() as uow:
        await uow.releases.update(release().changed(at=T0, state=State.APPROVED))
        await uow.releases.add(release("billing@1.0"))
        await uow.signoffs.add(
            SignOff(NAME, "qa", "slack:U0QA00001", "QA lead", Verdict.APPROVED, T0)
        )
        await uow.signals.add(SignalValue(NAME, "coverage", 91.0, T0, "ci"))
        await uow.freezes.add(starts_at=T0, ends_at=T0 + DAY, reason="holidays", created_by="x")
        await uow.risks.add(
            release=NAME, severity=Severity.HIGH, description="db", raised_by="x", raised_at=T0
        )
        await uow.commit()


async def test_every_read_of_a_read_only_unit_of_work_sees_one_snapshot(store: Store) -> None:
    await declare(store, release())
    async with store(read_only=True) as uow:
        first = await uow.releases.get(NAME)
        await change_everything(store)  # commits while this unit of work is open
        assert await uow.releases.get(NAME) == first == release()
        assert await uow.signoffs.for_release(NAME) == []
        assert await uow.signals.latest(NAME) == {}
        assert await uow.freezes.overlapping(T0, T0 + DAY) == []
        assert await uow.risks.on_release(NAME) == []
        assert [r.name for r in await uow.releases.find(ReleaseQuery())] == [NAME]
    found = await read(store, NAME)
    assert found is not None and found.state is State.APPROVED


async def test_a_read_only_unit_of_work_opened_meanwhile_sees_the_new_commit(store: Store) -> None:
    await declare(store, release())
    async with store(read_only=True) as first:
        await first.releases.get(NAME)
        await change_everything(store)
        async with store(read_only=True) as second:
            found = await second.releases.get(NAME)
            assert found is not None and found.state is State.APPROVED
            assert len(await second.signoffs.for_release(NAME)) == 1
        found = await first.releases.get(NAME)
        assert found is not None and found.state is State.PLANNED


async def test_many_overlapping_read_only_units_of_work_each_read_right(store: Store) -> None:
    await declare(store, *(release(f"svc{i}@1.0") for i in range(10)))

    async def look(i: int) -> str | None:
        async with store(read_only=True) as uow:
            await asyncio.sleep(0)  # let the others start while this one is open
            found = await uow.releases.get(f"svc{i}@1.0")
            await asyncio.sleep(0)
            return None if found is None else found.name

    assert await asyncio.gather(*(look(i) for i in range(10))) == [f"svc{i}@1.0" for i in range(10)]


async def test_a_failed_read_only_unit_of_work_leaves_the_next_one_reading(store: Store) -> None:
    await declare(store, release())
    with pytest.raises(LookupError):
        async with store(read_only=True) as uow:
            await uow.releases.get(NAME)
            raise LookupError("the handler failed")
    await change_everything(store)
    found = await read(store, NAME)
    assert found is not None and found.state is State.APPROVED


async def test_a_cancelled_read_only_unit_of_work_leaves_the_next_one_reading(
    store: Store,
) -> None:
    await declare(store, release())
    inside = asyncio.Event()

    async def stuck() -> None:
        async with store(read_only=True) as uow:
            await uow.releases.get(NAME)
            inside.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await change_everything(store)
    found = await read(store, NAME)
    assert found is not None and found.state is State.APPROVED


async def test_a_reader_sees_what_another_connection_committed_since_it_last_read(
    store: Store, reopen: Callable[[], Awaitable[Store]]
) -> None:
    await declare(store, release())
    assert await read(store, NAME) == release()  # the store's read connection is open and used
    other = await reopen()  # another store over the same data: other connections, as a process
    try:
        await change_everything(other)
    finally:
        await other.close()
    async with store(read_only=True) as uow:
        found = await uow.releases.get(NAME)
        assert found is not None and found.state is State.APPROVED
        assert await uow.signals.latest(NAME) == {"coverage": 91.0}
        assert [f.reason for f in await uow.freezes.overlapping(T0, T0)] == ["holidays"]
        assert [r.description for r in await uow.risks.on_release(NAME)] == ["db"]
