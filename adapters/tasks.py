"""Ending background work at shutdown, before what it uses (the store, HTTP sessions) closes."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

Listener = Callable[..., Awaitable[None]]


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


class InFlight:
    """Work still under way when the server stops: tasks started here, and listeners that
    bolt runs in tasks of its own after their acknowledgement (a change a person asked for).

    `finish` lets them end before what they use closes, instead of their being cut off
    against a closed store, or left running after it.
    """

    def __init__(self) -> None:
        # Referenced here too: the event loop holds tasks only weakly.
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        self._add(asyncio.ensure_future(work))

    def hold_current_task(self, name: str) -> None:
        """Count the task running now as under way until it ends, named `name` (for logs)."""
        task = asyncio.current_task()
        if task is not None:
            task.set_name(name)
            self._add(task)

    def track(self, listener: Listener) -> Listener:
        """`listener`, its task counted as under way and named after it while it runs. bolt
        reads the arguments it asks for from the function `functools.wraps` points it to."""

        @functools.wraps(listener)
        async def tracked(**arguments: Any) -> None:
            self.hold_current_task(f"listener:{listener.__name__}")
            await listener(**arguments)

        return tracked

    async def finish(self, grace: float) -> None:
        """Let what is under way finish, then cancel the rest: `grace` seconds in all, for
        what was running when this began and what it started meanwhile (further pages)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while (running := self._running()) and (left := deadline - loop.time()) > 0:
            await asyncio.wait(running, timeout=left)
        await finish_or_cancel(self._running(), 0)

    def _running(self) -> set[asyncio.Task[Any]]:
        # Never the task waiting here: it would wait for itself.
        current = asyncio.current_task()
        return {task for task in self._tasks if task is not current}

    def _add(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
