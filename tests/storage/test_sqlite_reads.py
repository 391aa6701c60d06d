"""SQLite's fast read path: plain SQL on the store's read connection, same answers as SQLAlchemy.

A read-only unit of work that starts while the read connection is lent out takes the pooled
SQLAlchemy path, so holding one open is how these tests get both paths side by side.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot.domain import SignalValue
from bot.ports import ReleaseQuery, UnitOfWork
from bot.risks import Severity
from bot.signoffs import SignOff, Verdict
from storage.base import Store
from storage.sql import open_store
from storage.sqlite_plain import DIALECT, utc_from_text, utc_to_text
from storage.sqlite_reads import PlainReleases
from storage.tables import UTCDateTime
from tests.storage.factories import T0, declare, draft, read, release

NAME = "checkout@2.4.0"
HOUR = timedelta(hours=1)
PARIS = timezone(timedelta(hours=1))


@pytest.fixture
async def store(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Store]:
    path = tmp_path / "releasebot.db"
    shutil.copyfile(sqlite_template, path)
    opened = await open_store(f"sqlite+aiosqlite:///{path}")
    try:
        yield opened
    finally:
        await opened.close()


def on_read_connection(uow: UnitOfWork) -> bool:
    return isinstance(uow.releases, PlainReleases)


async def given_one_of_everything(store: Store) -> None:
    """Rows with every kind of value: times given in another zone, NULLs, booleans, JSON."""
    await declare(store, release(), release("bare@1", scheduled_at=None, channel=None, env=None))
    async with store() as uow:
        for stale, note in ((True, None), (False, "ok")):
            await uow.signoffs.add(
                SignOff(NAME, "qa", "slack:U0QA1", "QA", Verdict.APPROVED, T0, note, stale)
            )
        await uow.signals.add(SignalValue(NAME, "coverage", 80, T0.astimezone(PARIS), "ci"))
        await uow.signals.add(SignalValue(NAME, "coverage", 82.5, T0 + HOUR, "ci"))
        await uow.freezes.add(starts_at=T0, ends_at=T0 + HOUR, reason=None, created_by="x")
        await uow.risks.add(
            release=NAME, severity=Severity.HIGH, description="db", raised_by="x", raised_at=T0
        )
        await uow.audit.append(draft("noted", before=None, detail={"n": [1, "é"]}))
        await uow.commit()


async def everything_read_by(uow: UnitOfWork) -> list[object]:
    return [
        await uow.releases.get(NAME),
        await uow.releases.get("bare@1"),
        await uow.releases.get("ghost@1"),
        await uow.signoffs.for_release(NAME),
        await uow.signals.latest(NAME),
        await uow.freezes.overlapping(T0 - HOUR, T0 + HOUR),
        await uow.freezes.get(1),
        await uow.freezes.get(99),
        await uow.risks.on_release(NAME),
        await uow.risks.on_release("bare@1"),
        await uow.audit.for_release(NAME),
        await uow.audit.all(),
        await uow.audit.head(),
    ]


async def test_plain_reads_answer_exactly_what_sqlalchemy_answers(store: Store) -> None:
    await given_one_of_everything(store)
    async with store(read_only=True) as plain, store(read_only=True) as pooled:
        assert on_read_connection(plain) and not on_read_connection(pooled)
        assert await everything_read_by(plain) == await everything_read_by(pooled)


async def test_plain_reads_return_aware_utc_times(store: Store) -> None:
    await given_one_of_everything(store)
    async with store(read_only=True) as uow:
        assert on_read_connection(uow)
        found = await uow.releases.get(NAME)
        signoffs = await uow.signoffs.for_release(NAME)
        freezes = await uow.freezes.overlapping(T0, T0)
    assert found is not None and found.created_at == T0
    moments = [found.created_at, found.scheduled_at, signoffs[0].at, freezes[0].ends_at]
    assert all(m is not None and m.utcoffset() == timedelta(0) for m in moments)


async def test_the_read_connection_serves_one_unit_of_work_after_another(store: Store) -> None:
    await declare(store, release())
    for _ in range(3):
        async with store(read_only=True) as uow:
            assert on_read_connection(uow)
            assert await uow.releases.get(NAME) == release()


async def test_the_read_connection_is_given_back_after_an_error_or_a_cancellation(
    store: Store,
) -> None:
    await declare(store, release())
    with pytest.raises(LookupError):
        async with store(read_only=True) as uow:
            assert on_read_connection(uow)
            raise LookupError("the handler failed")
    inside = asyncio.Event()

    async def stuck() -> None:
        async with store(read_only=True) as uow:
            assert on_read_connection(uow)
            await uow.releases.get(NAME)
            inside.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with store(read_only=True) as uow:
        assert on_read_connection(uow)


async def test_reads_through_sqlalchemy_share_the_snapshot_of_the_plain_ones(store: Store) -> None:
    await declare(store, release())
    async with store(read_only=True) as uow:
        assert on_read_connection(uow)
        await uow.releases.get(NAME)  # plain SQL: the snapshot starts here
        await declare(store, release("billing@1.0"))
        # `find` goes through SQLAlchemy, on the same connection and in the same snapshot.
        assert [r.name for r in await uow.releases.find(ReleaseQuery())] == [NAME]
        assert await uow.releases.get("billing@1.0") is None
        assert len(await uow.audit.all()) == 1
    assert await read(store, "billing@1.0") is not None


async def test_a_write_slipped_into_a_read_only_unit_of_work_fails(store: Store) -> None:
    async with store(read_only=True) as uow:
        assert on_read_connection(uow)
        with pytest.raises(OperationalError, match="readonly"):
            await uow.signoffs.mark_stale(NAME)
    async with store(read_only=True) as uow:
        assert on_read_connection(uow)  # and the connection is still good
        assert await uow.releases.get(NAME) is None


async def test_a_unit_of_work_on_another_thread_takes_a_pooled_connection(store: Store) -> None:
    await declare(store, release())

    def elsewhere() -> tuple[bool, object]:
        async def look() -> tuple[bool, object]:
            async with store(read_only=True) as uow:
                return on_read_connection(uow), await uow.releases.get(NAME)

        return asyncio.run(look())

    assert await asyncio.to_thread(elsewhere) == (False, release())


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # no microseconds: still written out
        datetime(2026, 11, 26, 16, 14, 45, 123456, tzinfo=UTC),
        datetime(2026, 7, 1, 9, 0, 0, 7, tzinfo=PARIS),  # another offset: stored as UTC
    ],
)
def test_plain_times_are_written_and_read_as_sqlalchemy_does(moment: datetime) -> None:
    column_type = UTCDateTime().dialect_impl(DIALECT)
    as_sqlalchemy_writes = column_type.bind_processor(DIALECT)(moment)
    assert utc_to_text(moment) == as_sqlalchemy_writes  # so text order stays time order
    as_sqlalchemy_reads = column_type.result_processor(DIALECT, None)(as_sqlalchemy_writes)
    assert utc_from_text(as_sqlalchemy_writes) == as_sqlalchemy_reads == moment
    assert utc_from_text(None) is None and utc_to_text(None) is None


def test_plain_times_refuse_a_naive_datetime_as_sqlalchemy_does() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        utc_to_text(datetime(2026, 1, 1, 12, 0))
