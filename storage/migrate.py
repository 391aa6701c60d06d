"""Schema migrations through Alembic's API, configured in code (no alembic.ini needed).

Synchronous on purpose: the migration environment runs its own event loop, so call these
before the application's loop starts (the CLI) or from a worker thread
(`await asyncio.to_thread(upgrade, url)`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.sql_engine import async_url, sqlite_path

SCRIPT_LOCATION = "storage:migrations"


def alembic_config(url: str) -> Config:
    """An Alembic Config for `url`, pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # ConfigParser reads `%` as interpolation; a password like `p%40ss` must survive it.
    plain = async_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", plain.replace("%", "%%"))
    return config


def _sqlite_file(url: str) -> Path | None:
    parsed = async_url(url)
    path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    return None if path is None else Path(path)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (creating a SQLite file's folder if needed)."""
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Take the database at `url` back to `revision` (`base` drops every table)."""
    command.downgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    """The revision the database at `url` is at, or None before the first migration."""
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        return None  # reading must not leave an empty database file behind
    return asyncio.run(_current(url))


async def _current(url: str) -> str | None:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_revision_of)
    finally:
        await engine.dispose()


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
