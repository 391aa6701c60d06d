"""The PostgreSQL server tests run against: where it is, whether it answers, throwaway databases.

Without a server the PostgreSQL cases skip, except in CI (`CI=true`), where they fail: a CI run
that silently skipped them would prove nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 3.0


def postgres_url() -> str:
    """The SQLAlchemy URL of the test server (env RELEASEBOT_TEST_POSTGRES_URL)."""
    return os.environ.get("RELEASEBOT_TEST_POSTGRES_URL", DEFAULT_URL)


def unavailable(reason: str) -> None:
    """Skip the test, or fail it in CI where PostgreSQL must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def asyncpg_dsn(url: str | URL) -> str:
    """The libpq-style DSN asyncpg takes for a SQLAlchemy URL."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


async def require_postgres(url: str | None = None) -> str:
    """The server's URL once it has answered; skips (or fails in CI) when it does not."""
    url = url or postgres_url()
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url), timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        shown = make_url(url).render_as_string(hide_password=True)
        unavailable(f"PostgreSQL is not reachable at {shown}: {error}")
    else:
        await conn.close()
    return url


async def create_database(url: str | None = None) -> str:
    """A new, empty database on the server; its SQLAlchemy URL."""
    base = make_url(await require_postgres(url))
    name = f"releasebot_test_{uuid.uuid4().hex[:12]}"
    await _maintenance(base, f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    """Drop a database made by `create_database`, even with connections still open."""
    parsed = make_url(url)
    await _maintenance(parsed, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


@asynccontextmanager
async def fresh_database(url: str | None = None) -> AsyncIterator[str]:
    """A throwaway database for the duration of the block."""
    created = await create_database(url)
    try:
        yield created
    finally:
        await drop_database(created)


async def _maintenance(url: URL, sql: str) -> None:
    # CREATE/DROP DATABASE cannot run inside the database concerned, nor in a transaction.
    conn = await asyncpg.connect(asyncpg_dsn(url.set(database="postgres")))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
