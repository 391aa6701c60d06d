"""Knowing when the outbox is quiet, without sleeping.

The server runs its own delivery worker, so a test that moves the clock and calls `run_once()`
may find the message already taken by that worker, still on its way. `Watched` wraps a store and
counts the messages claimed and not yet settled (delivered, retried later or dead-lettered);
`deliver_due` returns once every message due by the clock has been tried by one worker or the
other and nothing is in flight, so what a test reads next is the whole story.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from adapters.delivery import DeliveryWorker
from bot.ports import UnitOfWork
from storage.base import OutboxItem, Outcome, Store


class Watched:
    """A Store (any: memory, SQLite) whose outbox claims and outcomes can be awaited."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.claims = 0  # claims ever made, by any worker on this store
        self.in_flight = 0
        self._quiet = asyncio.Condition()

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        return self.inner(read_only=read_only)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxItem]:
        items = await self.inner.claim_due(now, limit=limit, lease=lease)
        self.claims += len(items)
        self.in_flight += len(items)
        return items

    async def settle(self, outcomes: Sequence[Outcome]) -> None:
        try:
            await self.inner.settle(outcomes)
        finally:
            async with self._quiet:
                self.in_flight -= len(outcomes)
                self._quiet.notify_all()

    async def settled(self) -> None:
        """Return when no claimed message is waiting for its outcome."""
        async with self._quiet:
            await self._quiet.wait_for(lambda: self.in_flight == 0)


async def deliver_due(delivery: DeliveryWorker, store: Watched) -> None:
    """Try everything due now (and what that queues), then wait until nothing is in flight."""
    async with asyncio.timeout(10):  # a bound for a broken test, not a wait for anything
        while True:
            await store.settled()
            claims = store.claims
            await delivery.run_once()
            await store.settled()
            if store.claims == claims:  # nobody found anything more to send
                return
