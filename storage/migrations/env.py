"""Alembic environment: runs migrations over the store's async engine (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.sql_engine import async_url, configure_sqlite

config = context.config
target_metadata = SQLModel.metadata
# Any constant will do, as long as nothing else in the database takes the same advisory lock.
_MIGRATION_LOCK_ID = 0x7265_6C62  # "relb"


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: call storage.migrate.upgrade(url)")
    return url


def run_migrations_offline() -> None:
    """Emit the SQL instead of running it (`alembic upgrade --sql`)."""
    url = async_url(_url())
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode writes migrations that way.
        render_as_batch=is_sqlite,
        # With the store's BEGIN recipe SQLite DDL is transactional: all or nothing.
        transactional_ddl=True if is_sqlite else None,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Replicas starting together all run `db upgrade`: one migrates, the others wait
            # here and then find nothing left to do. Released when the transaction ends.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
            )
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = _engine()
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def _engine() -> AsyncEngine:
    """A throwaway engine; on SQLite with the store's transaction recipe and WAL mode."""
    url = async_url(_url())
    engine = create_async_engine(url, poolclass=NullPool)
    if url.get_backend_name() == "sqlite":
        configure_sqlite(
            engine.sync_engine, begin="BEGIN IMMEDIATE", pragmas=("PRAGMA journal_mode = WAL",)
        )
    return engine


def run_migrations_online() -> None:
    # upgrade() is called before the event loop starts or in a worker thread, so no loop runs here.
    asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
