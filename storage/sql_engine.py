"""Engines for the SQL store: URL handling, SQLite pragmas and transaction control, pool sizing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool

BUSY_TIMEOUT_MS = 5000
# A WAL reader waits only in rare, brief moments (another process recovering the log, say);
# the reader runs on the event-loop thread, where any wait stalls every request, so bound it.
READER_BUSY_TIMEOUT_MS = 500

# Drivers we run on, by backend; a bare `sqlite:///` or `postgresql://` URL is taken to mean these.
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(url: str | URL) -> URL:
    """`url` with the async driver the store uses for its backend."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.set(drivername=_ASYNC_DRIVERS[backend])


def sqlite_path(url: str | URL) -> str | None:
    """The file behind a SQLite URL, or None for an in-memory or URI-style database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


@dataclass(frozen=True, slots=True)
class Engines:
    """The writer always speaks asyncio; the reader is sync for SQLite (see `sqlite_engines`)."""

    writer: AsyncEngine
    reader: Engine | AsyncEngine

    @property
    def dialect(self) -> str:
        return self.writer.dialect.name

    async def dispose(self) -> None:
        await self.writer.dispose()
        if isinstance(self.reader, Engine):
            self.reader.dispose()


def create_engines(url: str) -> Engines:
    """The engines for `url` (SQLite or PostgreSQL), configured for the store."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sqlite_engines(parsed)
    return postgres_engines(parsed)


def postgres_engines(url: URL) -> Engines:
    # Sized for one replica serving chat traffic; pre-ping costs a round trip per checkout.
    writer = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=False)
    # Readers share the pool. A read-only REPEATABLE READ transaction gives a unit of work one
    # consistent snapshot and makes PostgreSQL refuse any write slipped into it.
    reader = writer.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return Engines(writer=writer, reader=reader)


def sqlite_engines(url: URL) -> Engines:
    """An aiosqlite writer and a plain pysqlite reader over the same file.

    Writes go through aiosqlite so a writer waiting on SQLite's lock never blocks the event
    loop. Reads are the hot path (`status` on every slash command): through aiosqlite each
    statement hops to a worker thread and back, which measured ≈3.5× slower end to end than a
    direct lookup. An indexed read on a local file takes microseconds, and in WAL mode readers
    never wait for writers and see a consistent snapshot of committed data, so the reader runs
    synchronously on the event-loop thread.
    """
    writer = create_async_engine(url)
    configure_sqlite(writer.sync_engine, begin="BEGIN IMMEDIATE", pragmas=_WRITER_PRAGMAS)
    # max_overflow=-1: a checkout on the loop thread must never wait for another coroutine to
    # give a connection back (that coroutine could not run while we wait: a deadlock).
    reader = create_engine(
        url.set(drivername="sqlite"), poolclass=QueuePool, pool_size=8, max_overflow=-1
    )
    configure_sqlite(reader, begin="BEGIN", pragmas=_READER_PRAGMAS)
    return Engines(writer=writer, reader=reader)


# WAL lets readers work while a writer holds the lock; the mode persists in the file.
_WRITER_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    # In WAL mode NORMAL is crash-safe for the application (a power cut may lose the newest
    # commits, never corrupt the file) and spares an fsync on every commit.
    "PRAGMA synchronous = NORMAL",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys = ON",
)
# The reader never writes; query_only turns a slip into an error instead of a lost change.
_READER_PRAGMAS = (
    f"PRAGMA busy_timeout = {READER_BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys = ON",
    "PRAGMA query_only = ON",
)


def configure_sqlite(engine: Engine, *, begin: str, pragmas: tuple[str, ...] = ()) -> None:
    """SQLAlchemy's documented recipe: sqlite3 stops issuing BEGIN itself, we issue `begin`.

    The driver's own implicit BEGIN is deferred and skipped for SELECT, which breaks snapshot
    reads and lets two writers both read before either can write. `BEGIN IMMEDIATE` takes the
    write lock up front, so a writer waits (busy_timeout) instead of failing mid-transaction.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)
