"""Run the bot's real aiohttp server on a loopback port for a test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from adapters.bootstrap import Components, build
from adapters.http import create_app
from adapters.settings import load_settings
from bot.ports import Clock
from storage.base import Store


@dataclass
class RunningBot:
    url: str
    components: Components


@asynccontextmanager
async def running_bot(
    env: Mapping[str, str],
    *,
    cwd: Path,
    clock: Clock | None = None,
    store: Store | None = None,
) -> AsyncIterator[RunningBot]:
    """Build the bot from `env` exactly as `releasebot serve` does and serve it on 127.0.0.1."""
    settings = load_settings(env, cwd=cwd)
    if store is None and settings.is_embedded:
        import asyncio

        from storage.migrate import upgrade

        await asyncio.to_thread(upgrade, settings.database_url)
    components = await build(settings, clock=clock, store=store)
    runner = web.AppRunner(create_app(components), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield RunningBot(url=f"http://127.0.0.1:{port}", components=components)
    finally:
        await runner.cleanup()
