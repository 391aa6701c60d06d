"""Refreshing the posted cards of a release without letting it hold up Teams' answer.

Teams wants an invoke answered within a few seconds, and CardKeeper.refresh updates every copy on
every platform, one request each, where a throttled Slack client may wait out a Retry-After. So a
refresh runs as a task: the caller waits for it only up to a budget, and a slow refresh finishes
after the answer.

Refreshes of one release never overlap: a request that arrives while one runs makes it run once
more when it ends. Each pass reads the release as it is then, so the last PUT always carries the
latest state, however the decisions interleave; overlapping passes could land an older card last.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from storage.base import CardRef

log = logging.getLogger(__name__)

ANSWER_BUDGET = 1.5  # seconds a refresh may delay an answer to Teams
SHUTDOWN_BUDGET = 10.0  # seconds pending refreshes get when the server stops


class Refreshes(Protocol):
    """What CardKeeper offers here: re-render every posted card of a release."""

    async def refresh(self, release: str, *, skip: CardRef | None = None) -> None: ...


class CardRefresher:
    def __init__(self, keeper: Refreshes) -> None:
        self._keeper = keeper
        self._running: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()

    async def refresh(
        self, release: str, *, skip: CardRef | None = None, within: float = ANSWER_BUDGET
    ) -> None:
        """Refresh the cards of `release` (all but `skip`), waiting for it at most `within` s."""
        task = self._running.get(release)
        if task is None:
            task = asyncio.create_task(self._run(release, skip), name=f"refresh {release}")
            self._running[release] = task
        else:
            self._again.add(release)  # the running pass may have read the release too early
        # Unlike wait_for, wait leaves the task running when the budget runs out.
        await asyncio.wait([task], timeout=within)

    async def drain(self) -> None:
        """Wait until no refresh is running (tests, and a clean shutdown)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def close(self, within: float = SHUTDOWN_BUDGET) -> None:
        """Let pending refreshes finish within `within` seconds, then cancel what is left."""
        try:
            await asyncio.wait_for(self.drain(), within)
        except TimeoutError:
            log.warning("Teams: gave up on %d card refresh(es) at shutdown", len(self._running))
            for task in list(self._running.values()):
                task.cancel()

    async def _run(self, release: str, skip: CardRef | None) -> None:
        try:
            await self._pass(release, skip)
            while release in self._again:
                self._again.discard(release)
                await self._pass(release, None)  # a later request has no card to skip
        finally:
            del self._running[release]
            self._again.discard(release)

    async def _pass(self, release: str, skip: CardRef | None) -> None:
        try:
            await self._keeper.refresh(release, skip=skip)
        except Exception:
            # CardKeeper already survives a failing publisher; this is the store failing.
            log.exception("Teams: could not refresh the cards of %s", release)
