"""The embedded store's read connection: one plain sqlite3 connection, one snapshot at a time.

Read-only units of work on SQLite are the Slack hot path (`/release status` on every command).
They run on one connection the store opens once and uses only on the event-loop thread, so a
unit of work costs no pool checkout and no SQLAlchemy connection; its hot reads skip SQLAlchemy
altogether (storage/sqlite_reads.py).

Each unit of work reads inside its own transaction: `BEGIN` on entry, rolled back on exit. In WAL
mode SQLite fixes a reader's snapshot at the first read of a transaction and keeps it until the
transaction ends, so every read of one unit of work sees the same committed state, while writers
(aiosqlite, in this process or another) go on committing undisturbed. Autocommit reads would each
see the latest commit instead: a release and its sign-offs could then come from two moments.
Between units of work no transaction is open, so the connection pins no old snapshot and never
holds back a WAL checkpoint, and the next unit of work sees everything committed before it began.

One connection serves one unit of work at a time. A read-only unit of work that starts while the
connection is lent out (the holder awaits something that really suspends) or on another thread
takes a pooled connection instead: still correct, only slower.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Executable, Row, create_engine
from sqlalchemy.pool import StaticPool

from storage.sql_runner import InlineRunner, Params
from storage.sqlite_plain import PlainQuery


class SnapshotReader:
    """Owns the dedicated read connection and lends it to one read-only unit of work at a time."""

    def __init__(self, reader: Engine) -> None:
        # Taken from the reader engine, so it carries the reader's pragmas (query_only, the
        # busy timeout) and no BEGIN of the driver's own; detached, so the pool never lends it.
        pooled = reader.raw_connection()
        pooled.detach()
        conn = pooled.dbapi_connection
        assert isinstance(conn, sqlite3.Connection)
        self._conn: sqlite3.Connection = conn
        self._thread: int = threading.get_ident()
        self._lent: bool = False
        self._closed: bool = False
        # SQLAlchemy over this same connection, for the reads not written in plain SQL, so they
        # share the unit of work's snapshot. It gets the connection through `_Borrowed`, which
        # keeps SQLAlchemy's rollback-on-return from ending that snapshot early.
        borrowed = _Borrowed(self._conn)
        self._engine: Engine = create_engine(
            reader.url, creator=lambda: borrowed, poolclass=StaticPool
        )

    def begin(self) -> SnapshotRunner | None:
        """The connection inside a new read transaction; None when it is lent out or closed."""
        if self._lent or self._closed or threading.get_ident() != self._thread:
            return None
        conn = self._conn
        if conn.in_transaction:  # a previous unit of work failed to roll back: finish it now
            conn.rollback()
        conn.execute("BEGIN")
        self._lent = True
        return SnapshotRunner(conn, self._engine, on_close=self._end)

    def close(self) -> None:
        # Read-only units of work that start later take pooled connections, as the store's
        # other reads do after it is closed.
        self._closed = True
        self._engine.dispose()
        self._conn.close()

    def _end(self) -> None:
        try:
            self._conn.rollback()  # nothing to keep: the transaction only read
        finally:
            self._lent = False


class SnapshotRunner:
    """storage.sql_runner.Runner over the lent connection, plus plain queries for the hot reads."""

    def __init__(
        self, conn: sqlite3.Connection, engine: Engine, *, on_close: Callable[[], None]
    ) -> None:
        self._conn = conn
        self._engine = engine
        self._on_close = on_close
        self._sqlalchemy: InlineRunner | None = None

    @property
    def dialect(self) -> str:
        return "sqlite"

    def one(self, query: PlainQuery, params: Params = None) -> Any | None:
        return query.one(self._conn, params)

    def all(self, query: PlainQuery, params: Params = None) -> list[Any]:
        return query.all(self._conn, params)

    async def fetch_one(self, stmt: Executable, params: Params = None) -> Row[Any] | None:
        return await self._through_sqlalchemy().fetch_one(stmt, params)

    async def fetch_all(self, stmt: Executable, params: Params = None) -> Sequence[Row[Any]]:
        return await self._through_sqlalchemy().fetch_all(stmt, params)

    async def execute(self, stmt: Executable, params: Params = None) -> int:
        # A write slipped into a read-only unit of work fails here: the connection is query_only.
        return await self._through_sqlalchemy().execute(stmt, params)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        async with self._through_sqlalchemy().savepoint():
            yield

    async def commit(self) -> None:
        raise RuntimeError("a read-only unit of work cannot commit")

    async def close(self) -> None:
        # Nothing here awaits, so a cancellation cannot cut this short and leave the
        # connection lent out or inside its transaction.
        sqlalchemy, self._sqlalchemy = self._sqlalchemy, None
        try:
            if sqlalchemy is not None:
                await sqlalchemy.close()
        finally:
            self._on_close()

    def _through_sqlalchemy(self) -> InlineRunner:
        if self._sqlalchemy is None:
            connection: Connection = self._engine.connect()
            self._sqlalchemy = InlineRunner(connection)
        return self._sqlalchemy


class _Borrowed:
    """The dedicated connection as SQLAlchemy sees it: it may read, but not end the transaction.

    SQLAlchemy rolls back when its Connection closes and again when the pool takes it back;
    on the real connection either would end the unit of work's snapshot before the unit of work
    does. Transaction control and closing belong to the SnapshotReader.
    """

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None

    def close(self) -> None:
        return None
