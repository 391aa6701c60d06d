"""An in-memory store whose reads wait until the test opens a gate: a store that is slow today."""

from __future__ import annotations

import asyncio

from storage.memory import MemoryStore, MemoryUnitOfWork


class GatedStore(MemoryStore):
    """Read-only units of work wait at `gate` (with `writes`, the others instead).

    `reading` is set once a unit of work waits at the gate; `waiting` counts those waiting
    now; `cancelled` names the coroutine of each task whose unit of work was cancelled there
    (e.g. `AnswerInAck._answer`).
    """

    def __init__(self, *, writes: bool = False) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.reading = asyncio.Event()
        self.cancelled: list[str] = []
        self.waiting = 0
        self.writes = writes

    def __call__(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        return _GatedUnitOfWork(self, read_only=read_only)


class _GatedUnitOfWork(MemoryUnitOfWork):
    def __init__(self, store: GatedStore, *, read_only: bool) -> None:
        super().__init__(store.data, read_only=read_only)
        self._store = store if read_only != store.writes else None

    async def __aenter__(self) -> MemoryUnitOfWork:
        if self._store is not None:
            await self._wait_at_the_gate(self._store)
        return await super().__aenter__()

    @staticmethod
    async def _wait_at_the_gate(store: GatedStore) -> None:
        store.reading.set()
        store.waiting += 1
        try:
            await store.gate.wait()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            store.cancelled.append(task.get_coro().__qualname__ if task else "?")
            raise
        finally:
            store.waiting -= 1
