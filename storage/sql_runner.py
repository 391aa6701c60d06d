"""Tiny statement runners, so one repository implementation serves the async and inline paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from sqlalchemy import Connection, Executable, Row
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

Params = Mapping[str, Any] | None


def insert_for(dialect: str) -> Any:
    """The dialect's INSERT construct, which offers ON CONFLICT on both SQLite and PostgreSQL."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class Runner(Protocol):
    """One open connection inside one transaction."""

    @property
    def dialect(self) -> str: ...

    async def fetch_one(self, stmt: Executable, params: Params = None) -> Row[Any] | None: ...

    async def fetch_all(self, stmt: Executable, params: Params = None) -> Sequence[Row[Any]]: ...

    async def execute(self, stmt: Executable, params: Params = None) -> int:
        """Run a write; the number of rows it touched."""
        ...

    def savepoint(self) -> Any:
        """An async context manager: a nested transaction, undone alone when its body raises."""
        ...

    async def commit(self) -> None: ...

    async def close(self) -> None:
        """Roll back whatever is uncommitted and give the connection back."""
        ...


class AsyncRunner:
    """Statements over an AsyncConnection: writers everywhere, readers on PostgreSQL."""

    def __init__(self, conn: AsyncConnection, *, on_close: Callable[[], None] | None = None):
        self._conn = conn
        self._on_close = on_close

    @property
    def dialect(self) -> str:
        return self._conn.dialect.name

    async def fetch_one(self, stmt: Executable, params: Params = None) -> Row[Any] | None:
        return (await self._conn.execute(stmt, params)).first()

    async def fetch_all(self, stmt: Executable, params: Params = None) -> Sequence[Row[Any]]:
        return (await self._conn.execute(stmt, params)).all()

    async def execute(self, stmt: Executable, params: Params = None) -> int:
        return (await self._conn.execute(stmt, params)).rowcount

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        async with self._conn.begin_nested():
            yield

    async def commit(self) -> None:
        await self._conn.commit()

    async def close(self) -> None:
        # Shielded: a task cancelled while leaving its unit of work must still roll back and
        # release the SQLite write lock, or the next writer would wait for busy_timeout.
        await asyncio.shield(self._finish())

    async def _finish(self) -> None:
        try:
            await self._conn.close()
        finally:
            if self._on_close is not None:
                self._on_close()


class InlineRunner:
    """Statements over a sync Connection, run right here on the event-loop thread (SQLite reads)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> str:
        return self._conn.dialect.name

    async def fetch_one(self, stmt: Executable, params: Params = None) -> Row[Any] | None:
        return self._conn.execute(stmt, params).first()

    async def fetch_all(self, stmt: Executable, params: Params = None) -> Sequence[Row[Any]]:
        return self._conn.execute(stmt, params).all()

    async def execute(self, stmt: Executable, params: Params = None) -> int:
        return self._conn.execute(stmt, params).rowcount

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        with self._conn.begin_nested():
            yield

    async def commit(self) -> None:
        self._conn.commit()

    async def close(self) -> None:
        self._conn.close()
