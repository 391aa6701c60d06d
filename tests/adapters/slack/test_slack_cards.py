"""Refreshing a release's cards from Slack: one pass at a time, later requests share a pass."""

from __future__ import annotations

import asyncio
from collections import Counter

from adapters.slack.cards import SlackCards
from storage.base import CardRef
from storage.memory import MemoryStore

POSTED = CardRef("a@1", "slack", "C04RELEASES", "1718040563.000001")


class _HeldKeeper:
    """A CardKeeper whose refreshes wait until the test lets them finish."""

    def __init__(self) -> None:
        self.passes: list[tuple[str, CardRef | None]] = []
        self.running: Counter[str] = Counter()
        self.most_at_once: Counter[str] = Counter()
        self.hold = asyncio.Event()
        self._started = asyncio.Condition()

    async def remember(self, card: CardRef) -> None:
        raise AssertionError("not used here")

    async def refresh(self, release: str, *, skip: CardRef | None = None) -> None:
        self.running[release] += 1
        self.most_at_once[release] = max(self.most_at_once[release], self.running[release])
        async with self._started:
            self.passes.append((release, skip))
            self._started.notify_all()
        await self.hold.wait()
        self.running[release] -= 1

    async def started(self, count: int) -> None:
        async with self._started:
            await asyncio.wait_for(self._started.wait_for(lambda: len(self.passes) >= count), 5)


async def test_refreshes_of_a_release_never_overlap_and_those_asked_meanwhile_share_one() -> None:
    keeper = _HeldKeeper()
    cards = SlackCards(keeper, MemoryStore())
    first = asyncio.create_task(cards.refresh("a@1", skip=POSTED))
    await keeper.started(1)

    # Two more requests while the first pass runs, and one for another release.
    waiting = [asyncio.create_task(cards.refresh("a@1")) for _ in range(2)]
    other = asyncio.create_task(cards.refresh("b@1"))
    await keeper.started(2)
    keeper.hold.set()
    await asyncio.gather(first, *waiting, other)

    # The first pass could leave out the card just posted; the shared one may not: it stands
    # for requests that need every card. Other releases do not wait.
    assert keeper.passes == [("a@1", POSTED), ("b@1", None), ("a@1", None)]
    assert keeper.most_at_once["a@1"] == 1


async def test_a_refresh_after_the_last_one_finished_runs_a_pass_of_its_own() -> None:
    keeper = _HeldKeeper()
    keeper.hold.set()
    cards = SlackCards(keeper, MemoryStore())

    await cards.refresh("a@1")
    await cards.refresh("a@1", skip=POSTED)

    assert keeper.passes == [("a@1", None), ("a@1", POSTED)]
