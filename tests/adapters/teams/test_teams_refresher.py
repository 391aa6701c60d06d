"""CardRefresher: refreshes of one release never overlap, and never hold an answer past budget.

The keeper here is a stand-in for CardKeeper whose refreshes wait on a gate the test opens, so
every interleaving is chosen by the test, not by timing.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from adapters.settings import TeamsSettings
from adapters.teams.endpoint import build_adapter
from adapters.teams.publisher import CardNotReachable, TeamsCardPublisher
from adapters.teams.refresher import CardRefresher
from bot.reply import Reply
from storage.base import CardRef
from storage.memory import MemoryStore

CARD = CardRef("checkout@2.4.0", "teams", "19:x@thread.tacv2", "1740000009001")


class GatedKeeper:
    """Records each refresh; each waits until the gate is open, or fails when told to."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started: list[tuple[str, CardRef | None]] = []
        self.finished: list[str] = []
        self.fail = False

    async def refresh(self, release: str, *, skip: CardRef | None = None) -> None:
        self.started.append((release, skip))
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("the store is down")
        self.finished.append(release)


async def test_a_slow_refresh_returns_after_its_budget_and_finishes_later() -> None:
    keeper = GatedKeeper()
    refresher = CardRefresher(keeper)

    await refresher.refresh("checkout@2.4.0", within=0.01)

    assert keeper.finished == []  # the answer did not wait for it...
    keeper.gate.set()
    await refresher.drain()
    assert keeper.finished == ["checkout@2.4.0"]  # ...and it was not cancelled


async def test_requests_during_a_refresh_make_exactly_one_more_pass_after_it() -> None:
    keeper = GatedKeeper()
    refresher = CardRefresher(keeper)
    await refresher.refresh("checkout@2.4.0", skip=CARD, within=0)
    await refresher.refresh("checkout@2.4.0", within=0)
    await refresher.refresh("checkout@2.4.0", skip=CARD, within=0)

    assert keeper.started == [("checkout@2.4.0", CARD)]  # no overlapping pass
    keeper.gate.set()
    await refresher.drain()

    # One more pass, skipping nothing: a later request may come from another card.
    assert keeper.started == [("checkout@2.4.0", CARD), ("checkout@2.4.0", None)]


async def test_different_releases_refresh_side_by_side() -> None:
    keeper = GatedKeeper()
    refresher = CardRefresher(keeper)

    await refresher.refresh("checkout@2.4.0", within=0)
    await refresher.refresh("search@1.0", within=0)

    assert [release for release, _ in keeper.started] == ["checkout@2.4.0", "search@1.0"]
    keeper.gate.set()
    await refresher.drain()


async def test_a_failing_refresh_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    keeper = GatedKeeper()
    keeper.gate.set()
    keeper.fail = True
    refresher = CardRefresher(keeper)

    await refresher.refresh("checkout@2.4.0")
    keeper.fail = False
    await refresher.refresh("checkout@2.4.0")

    assert "could not refresh the cards of checkout@2.4.0" in caplog.text
    assert keeper.finished == ["checkout@2.4.0"]


async def test_close_cancels_what_does_not_finish_in_time() -> None:
    keeper = GatedKeeper()
    refresher = CardRefresher(keeper)
    await refresher.refresh("checkout@2.4.0", within=0)

    await refresher.close(within=0.01)

    await refresher.drain()  # returns: nothing is left running
    assert keeper.finished == []


async def test_the_publisher_refuses_a_card_in_a_conversation_it_cannot_reach() -> None:
    adapter = build_adapter(TeamsSettings(allow_unauthenticated=True))
    publisher = TeamsCardPublisher(adapter, "", MemoryStore())

    with pytest.raises(CardNotReachable, match=re.escape(CARD.conversation_id)):
        await publisher.update_card(CARD, Reply(title="Release checkout@2.4.0"))
