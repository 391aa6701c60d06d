"""An in-memory store whose reads wait until the test opens a gate: a store that is slow today."""

from __future__ import annotations

import asyncio

import pytest

from adapters.tasks import InFlight
from storage.memory import MemoryStore, MemoryUnitOfWork


class GatedStore(MemoryStore):
    """Read-only units of work wait at `gate` (with `writes`, the others instead).

    `reading` is set once a unit of work waits at the gate; `waiting` holds the tasks waiting
    there now. `cancelled` names each task whose unit of work was cancelled at the gate twice
    over: by its coroutine (e.g. `AnswerInAck._answer`) and by its task name (e.g. the
    `listener:on_change` the Slack adapter gives a listener's task).
    """

    def __init__(self, *, writes: bool = False) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.reading = asyncio.Event()
        self.waiting: list[asyncio.Task[object]] = []
        self.cancelled: list[str] = []
        self.writes = writes
        self._arrivals = asyncio.Condition()

    def __call__(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        return _GatedUnitOfWork(self, read_only=read_only)

    def open_when_shutdown_waits(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Open the gate only once the server's shutdown waits for the work under way: what
        waits here then finishes inside the shutdown's grace."""
        finish = InFlight.finish

        async def finish_opening_the_gate(in_flight: InFlight, grace: float) -> None:
            self.gate.set()
            await finish(in_flight, grace)

        monkeypatch.setattr(InFlight, "finish", finish_opening_the_gate)

    async def arrived(self, name: str) -> None:
        """Wait until a task called `name` (its coroutine's name or its own) is at the gate."""
        async with self._arrivals:
            await self._arrivals.wait_for(lambda: any(name in _names(t) for t in self.waiting))

    async def _wait_at_the_gate(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.reading.set()
        async with self._arrivals:
            self.waiting.append(task)
            self._arrivals.notify_all()
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled.extend(_names(task))
            raise
        finally:
            self.waiting.remove(task)


def _names(task: asyncio.Task[object]) -> tuple[str, str]:
    return task.get_coro().__qualname__, task.get_name()


class _GatedUnitOfWork(MemoryUnitOfWork):
    def __init__(self, store: GatedStore, *, read_only: bool) -> None:
        super().__init__(store.data, read_only=read_only)
        self._store = store if read_only != store.writes else None

    async def __aenter__(self) -> MemoryUnitOfWork:
        if self._store is not None:
            await self._store._wait_at_the_gate()
        return await super().__aenter__()
