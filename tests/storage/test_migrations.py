"""The Alembic migrations build exactly the schema the tables declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (the tables the migrations must match)
from bot.audit import GENESIS_HASH
from storage.migrate import current, downgrade, upgrade
from tests.support.postgres import fresh_database

STORE_TABLES = {
    "release",
    "signoff",
    "readiness_signal",
    "freeze_window",
    "audit_event",
    "audit_head",
    "delivery",
    "conversation_ref",
    "posted_card",
    "personal_page",
    "outbox",
    "risk",
    "decision",
    "huddle",
    "change_item",
    "sync",
    "occurrence",
    "poll",
    "poll_answer",
    "deployment",
    "incident",
    "smoke_check",
}

HEAD = "0005"  # the newest revision; bump with every migration added


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a database with nothing in it (the SQLite file's folder does not exist yet)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'var' / 'releasebot.db'}"
        return
    async with fresh_database() as url:
        yield url


async def on(url: str, look: Any) -> Any:
    """Run `look(sync_connection)` against `url` and return what it found."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


def schema_differences(conn: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(conn), SQLModel.metadata))


def table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def audit_head_rows(conn: Connection) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute(text("SELECT id, seq, hash FROM audit_head"))]


async def test_upgrade_builds_the_declared_schema(empty_database: str) -> None:
    assert await asyncio.to_thread(current, empty_database) is None
    await asyncio.to_thread(upgrade, empty_database)
    assert await asyncio.to_thread(current, empty_database) == HEAD
    assert await on(empty_database, schema_differences) == []
    assert await on(empty_database, audit_head_rows) == [(1, 0, GENESIS_HASH)]


async def test_upgrading_twice_changes_nothing(empty_database: str) -> None:
    await asyncio.to_thread(upgrade, empty_database)
    await asyncio.to_thread(upgrade, empty_database)
    assert await asyncio.to_thread(current, empty_database) == HEAD
    assert await on(empty_database, schema_differences) == []
    assert await on(empty_database, audit_head_rows) == [(1, 0, GENESIS_HASH)]


async def test_downgrade_to_base_removes_every_table(empty_database: str) -> None:
    await asyncio.to_thread(upgrade, empty_database)
    await asyncio.to_thread(downgrade, empty_database, "base")
    assert await asyncio.to_thread(current, empty_database) is None
    assert await on(empty_database, table_names) & STORE_TABLES == set()
    await asyncio.to_thread(upgrade, empty_database)
    assert await on(empty_database, schema_differences) == []


async def upgrade_in_a_process(url: str) -> int:
    """Run `upgrade` the way a replica does: in its own process (Alembic state is per process)."""
    code = "import sys; from storage.migrate import upgrade; upgrade(sys.argv[1])"
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", code, url)
    return await child.wait()


async def test_replicas_upgrading_at_once_all_succeed(empty_database: str) -> None:
    codes = await asyncio.gather(*(upgrade_in_a_process(empty_database) for _ in range(3)))
    assert codes == [0, 0, 0]
    assert await asyncio.to_thread(current, empty_database) == HEAD
    assert await on(empty_database, schema_differences) == []
    assert await on(empty_database, audit_head_rows) == [(1, 0, GENESIS_HASH)]
