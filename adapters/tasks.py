"""Ending background work at shutdown, before what it uses (the store, HTTP sessions) closes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


async def finish_or_cancel(tasks: Iterable[asyncio.Task[Any]], grace: float) -> None:
    """Give `tasks` `grace` seconds to finish, cancel those still running, and return once
    every one is over.

    Over, not merely cancelled: a task cancelled later, once the store's connections are gone,
    can wait for them for ever and hang shutdown.
    """
    running = set(tasks)
    if not running:
        return
    _finished, late = await asyncio.wait(running, timeout=grace)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late)
