"""The SQL store (SQLite or PostgreSQL): units of work plus the few store-level operations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ports import (
    AuditLog,
    ChangeRepository,
    DecisionRepository,
    DeploymentRepository,
    FreezeRepository,
    HuddleRepository,
    IncidentRepository,
    MetricsReader,
    OccurrenceRepository,
    OutboxRepository,
    PersonalPages,
    PollRepository,
    PostedCards,
    ReleaseRepository,
    RiskRepository,
    SignalRepository,
    SignOffRepository,
    SmokeRepository,
    SyncRepository,
)
from storage import sql_outbox
from storage.base import CardRef, DeadLetter, OutboxItem, Outcome, PageRef
from storage.sql_engine import Engines, create_engines
from storage.sql_metrics import SqlMetrics
from storage.sql_observe import SqlDeployments, SqlIncidents, SqlSmokeChecks
from storage.sql_outbox import SqlCards, SqlOutbox, SqlPages
from storage.sql_readiness import SqlFreezes, SqlSignals, SqlSignOffs
from storage.sql_repos import SqlAudit, SqlReleases
from storage.sql_risks import SqlChanges, SqlDecisions, SqlHuddles, SqlRisks
from storage.sql_runner import AsyncRunner, InlineRunner, Runner, insert_for
from storage.sql_schedules import SqlOccurrences, SqlPolls, SqlSyncs
from storage.sqlite_reads import PLAIN_REPOSITORIES
from storage.sqlite_snapshot import SnapshotReader, SnapshotRunner
from storage.tables import conversation_ref, delivery, posted_card

Opener = Callable[[], Awaitable[Runner]]
_PING = text("SELECT 1")


Build = Callable[[Runner, bool], object]
# How each repository of a unit of work is built from its connection (and read_only).
_REPOSITORIES: dict[str, Build] = {
    "releases": lambda db, read_only: SqlReleases(db, read_only=read_only),
    "signoffs": lambda db, _: SqlSignOffs(db),
    "signals": lambda db, _: SqlSignals(db),
    "freezes": lambda db, _: SqlFreezes(db),
    "risks": lambda db, _: SqlRisks(db),
    "decisions": lambda db, _: SqlDecisions(db),
    "huddles": lambda db, _: SqlHuddles(db),
    "changes": lambda db, _: SqlChanges(db),
    "syncs": lambda db, _: SqlSyncs(db),
    "occurrences": lambda db, _: SqlOccurrences(db),
    "polls": lambda db, _: SqlPolls(db),
    "cards": lambda db, _: SqlCards(db),
    "pages": lambda db, _: SqlPages(db),
    "outbox": lambda db, _: SqlOutbox(db),
    "audit": lambda db, _: SqlAudit(db),
    "deployments": lambda db, _: SqlDeployments(db),
    "incidents": lambda db, _: SqlIncidents(db),
    "metrics": lambda db, _: SqlMetrics(db),
    "smoke": lambda db, _: SqlSmokeChecks(db),
}


class SqlUnitOfWork:
    """One transaction on one connection: opened on entry, rolled back on exit unless committed."""

    releases: ReleaseRepository
    signoffs: SignOffRepository
    signals: SignalRepository
    freezes: FreezeRepository
    risks: RiskRepository
    decisions: DecisionRepository
    huddles: HuddleRepository
    changes: ChangeRepository
    syncs: SyncRepository
    occurrences: OccurrenceRepository
    polls: PollRepository
    cards: PostedCards
    pages: PersonalPages
    outbox: OutboxRepository
    audit: AuditLog
    deployments: DeploymentRepository
    incidents: IncidentRepository
    metrics: MetricsReader
    smoke: SmokeRepository

    def __init__(
        self, opener: Opener, *, read_only: bool, listeners: Sequence[Callable[[], None]] = ()
    ) -> None:
        self._opener = opener
        self._read_only = read_only
        self._listeners = listeners
        self._db: Runner | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        for name in _REPOSITORIES:  # entered again: drop the last transaction's repositories
            self.__dict__.pop(name, None)
        self._db = await self._opener()
        return self

    def __getattr__(self, name: str) -> object:
        # Repositories are built on first use: a unit of work touches a few of its nineteen,
        # and building them all up front was a tenth of what a status card costs.
        build = _REPOSITORIES.get(name)
        db = self.__dict__.get("_db")
        if build is None or db is None:
            raise AttributeError(f"{type(self).__name__} has no {name!r} (or is not open)")
        plain = PLAIN_REPOSITORIES.get(name) if isinstance(db, SnapshotRunner) else None
        repository = plain(db, self._read_only) if plain else build(db, self._read_only)
        setattr(self, name, repository)
        return repository

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        if self._db is None:
            raise RuntimeError("commit outside `async with`: the unit of work is not open")
        await self._db.commit()
        outbox = self.__dict__.get("outbox")  # never built: nothing was queued
        if isinstance(outbox, SqlOutbox) and outbox.queued:
            for listener in self._listeners:
                listener()


class SqlStore:
    """storage.base.Store over SQLAlchemy Core; build it with `open_store`."""

    def __init__(self, engines: Engines, snapshot: SnapshotReader | None = None) -> None:
        self._engines = engines
        self._snapshot = snapshot
        # SQLite admits one writer at a time anyway. Queueing this process's writers on a lock
        # hands the file lock over at once, instead of each waiter sleeping in busy_timeout.
        self._write_lock = asyncio.Lock() if engines.dialect == "sqlite" else None
        self._listeners: list[Callable[[], None]] = []

    def on_outbox_commit(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        opener = self._open_read_only if read_only else self._open_writer
        return SqlUnitOfWork(opener, read_only=read_only, listeners=self._listeners)

    async def claim_delivery(self, key: str, *, at: datetime) -> bool:
        """True the first time `key` is claimed, False ever after, across processes."""
        stmt = insert_for(self._engines.dialect)(delivery).values(key=key, claimed_at=at)
        async with self._transaction() as db:
            return await db.execute(stmt.on_conflict_do_nothing(index_elements=["key"])) == 1

    async def save_conversation_ref(self, conversation_id: str, reference: dict[str, Any]) -> None:
        stmt = insert_for(self._engines.dialect)(conversation_ref).values(
            conversation_id=conversation_id, reference=reference, updated_at=datetime.now(UTC)
        )
        fresh = {"reference": stmt.excluded.reference, "updated_at": stmt.excluded.updated_at}
        upsert = stmt.on_conflict_do_update(index_elements=["conversation_id"], set_=fresh)
        async with self._transaction() as db:
            await db.execute(upsert)

    async def conversation_ref(self, conversation_id: str) -> dict[str, Any] | None:
        stmt = select(conversation_ref.c.reference).where(
            conversation_ref.c.conversation_id == conversation_id
        )
        db = await self._open_reader()
        try:
            row = await db.fetch_one(stmt)
        finally:
            await db.close()
        return None if row is None else dict(row.reference)

    async def save_card(self, card: CardRef) -> None:
        async with self._transaction() as db:
            await _remember(db, card, datetime.now(UTC))

    async def show_on_page(self, page: PageRef, releases: Collection[str]) -> None:
        # Read first: opening the App Home tab mostly shows what it showed, and then needs no
        # write transaction (on SQLite, the one writer's lock).
        db = await self._open_reader()
        try:
            shown = await sql_outbox.offered_on(db, page)
        finally:
            await db.close()
        if shown == set(releases):
            return
        async with self._transaction() as db:
            await sql_outbox.show_on_page(db, page, releases)

    async def cards_of(self, release: str) -> list[CardRef]:
        columns = (posted_card.c.platform, posted_card.c.conversation_id, posted_card.c.message_id)
        stmt = (
            select(*columns)
            .where(posted_card.c.release == release)
            .order_by(posted_card.c.posted_at, *columns)
        )
        db = await self._open_reader()
        try:
            rows = await db.fetch_all(stmt)
        finally:
            await db.close()
        return [CardRef(release, r.platform, r.conversation_id, r.message_id) for r in rows]

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxItem]:
        async with self._transaction() as db:
            return await sql_outbox.claim_due(db, now, limit=limit, lease=lease)

    async def settle(self, outcomes: Sequence[Outcome]) -> None:
        # One transaction for a whole round of sends: a commit per message was most of a
        # fan-out's cost on SQLite.
        async with self._transaction() as db:
            for outcome in outcomes:
                await sql_outbox.record(db, outcome)
                await self._remember_posted(db, outcome)

    async def _remember_posted(self, db: Runner, outcome: Outcome) -> None:
        subject, where = outcome.item.message.remember_as, outcome.item.message.conversation
        if subject and outcome.message_id and not outcome.dead and outcome.retry_at is None:
            card = CardRef(subject, where.platform, where.id, outcome.message_id)
            await _remember(db, card, outcome.at)

    async def delivered(self, item: OutboxItem, *, message_id: str | None, at: datetime) -> None:
        await self.settle([Outcome(item, at, message_id=message_id)])

    async def retry_later(self, item: OutboxItem, *, at: datetime, error: str) -> None:
        await self.settle([Outcome(item, at, retry_at=at, error=error)])

    async def dead_letter(self, item: OutboxItem, *, error: str, at: datetime) -> None:
        await self.settle([Outcome(item, at, error=error, dead=True)])

    async def outbox_depth(self) -> tuple[int, int]:
        # A read: /metrics asks on every scrape, and must not take SQLite's write lock.
        db = await self._open_reader()
        try:
            return await sql_outbox.depth(db)
        finally:
            await db.close()

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        db = await self._open_reader()
        try:
            return await sql_outbox.dead_letters(db, limit)
        finally:
            await db.close()

    async def ping(self) -> None:
        db = await self._open_reader()
        try:
            await db.fetch_one(_PING)
        finally:
            await db.close()

    async def close(self) -> None:
        if self._snapshot is not None:
            self._snapshot.close()
        await self._engines.dispose()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Runner]:
        db = await self._open_writer()
        try:
            yield db
            await db.commit()
        finally:
            await db.close()

    async def _open_writer(self) -> Runner:
        lock = self._write_lock
        if lock is None:
            return AsyncRunner(await self._begin())
        await lock.acquire()
        try:
            return AsyncRunner(await self._begin(), on_close=lock.release)
        except BaseException:
            lock.release()
            raise

    async def _begin(self) -> AsyncConnection:
        # Begin now, not at the first statement: on SQLite this takes the write lock up front.
        conn = await self._engines.writer.connect()
        try:
            await conn.begin()
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _open_read_only(self) -> Runner:
        # SQLite: the store's own read connection when it is free (storage/sqlite_snapshot.py).
        lent = None if self._snapshot is None else self._snapshot.begin()
        return lent or await self._open_reader()

    async def _open_reader(self) -> Runner:
        reader = self._engines.reader
        if isinstance(reader, Engine):
            # SQLite: the sync engine, inline on the loop thread (see sql_engine.sqlite_engines).
            return InlineRunner(reader.connect())
        return AsyncRunner(await reader.connect())


async def _remember(db: Runner, card: CardRef, at: datetime) -> None:
    stmt = insert_for(db.dialect)(posted_card).values(
        platform=card.platform,
        conversation_id=card.conversation_id,
        message_id=card.message_id,
        release=card.release,
        posted_at=at,
    )
    await db.execute(stmt.on_conflict_do_nothing())


async def open_store(url: str) -> SqlStore:
    """The store at `url` (`sqlite+aiosqlite:///…` or `postgresql+asyncpg://…`).

    The schema must be in place already: run `storage.migrate.upgrade(url)` first.
    """
    engines = create_engines(url)
    if not isinstance(engines.reader, Engine):
        return SqlStore(engines)
    # SQLite: connect the writer once before any reader, so WAL mode is on from the first read.
    conn = await engines.writer.connect()
    await conn.close()
    return SqlStore(engines, SnapshotReader(engines.reader))
