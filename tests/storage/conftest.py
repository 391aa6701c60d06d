"""One store fixture over every backend: the in-memory twin, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from bot.audit import GENESIS_HASH
from storage.base import Store
from storage.memory import MemoryStore
from storage.migrate import upgrade
from storage.sql import open_store
from tests.support.postgres import asyncpg_dsn, create_database, drop_database

# Empties every table the store writes, and puts the audit chain back at its start (its head
# row afresh: a tampering test deletes it).
_RESET_POSTGRES = f"""
TRUNCATE release, signoff, readiness_signal, freeze_window, audit_event, delivery,
    conversation_ref, posted_card, personal_page, outbox, risk, decision, huddle, change_item,
    sync, occurrence, poll, poll_answer, deployment, incident, smoke_check RESTART IDENTITY;
DELETE FROM audit_head;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}');
"""


@dataclass(frozen=True)
class Backend:
    """How to open (and re-open) one kind of store for a test."""

    name: str
    url: str | None = None

    @property
    def persistent(self) -> bool:
        return self.url is not None

    async def open(self) -> Store:
        return MemoryStore() if self.url is None else await open_store(self.url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, migrated once and copied per test (migrating costs more)."""
    path = tmp_path_factory.mktemp("template") / "releasebot.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One migrated database for the session; each test empties it first."""
    url = asyncio.run(create_database())
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(drop_database(url))


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    name = request.param
    if name == "memory":
        return Backend(name)
    if name == "sqlite":
        path = tmp_path / "releasebot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return Backend(name, f"sqlite+aiosqlite:///{path}")
    return Backend(name, request.getfixturevalue("postgres_database"))


@pytest.fixture
def reopen(backend: Backend) -> Callable[[], Awaitable[Store]]:
    """Opens the test's store again, over the same data (after it closed, or beside it);
    skips for the in-memory store, whose data lives in the one object."""
    if not backend.persistent:
        pytest.skip("a second in-memory store would not share the first one's data")
    return backend.open


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    if backend.name == "postgres":
        assert backend.url is not None
        conn = await asyncpg.connect(asyncpg_dsn(backend.url))
        try:
            await conn.execute(_RESET_POSTGRES)
        finally:
            await conn.close()
    opened = await backend.open()
    try:
        yield opened
    finally:
        await opened.close()
