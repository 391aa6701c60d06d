"""Readiness polls with two replicas ticking at once, on the stores two processes can share.

The race this guards against is PostgreSQL's: there both ticks read the polls still to post
before either commits. SQLite takes its write lock at BEGIN, so there the second tick starts
after the first has committed; the test still checks that the outcome is the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from adapters.clock import ManualClock
from adapters.policy_file import load_policy
from bot import commands as c
from bot.reply import Tone
from bot.service import ReleaseBot
from storage.base import Store
from tests.support.people import ALICE, CHANNEL, NOW

POLLS = 20


async def test_two_replicas_ticking_at_once_post_each_poll_card_once(
    store: Store, reopen: Callable[[], Awaitable[Store]]
) -> None:
    other = await reopen()
    policy = load_policy(None, default_timezone="UTC")  # the demo policy
    clock = ManualClock(NOW)
    try:
        first, second = (
            ReleaseBot(unit_of_work=s, clock=clock, policy=lambda: policy) for s in (store, other)
        )
        for n in range(POLLS):
            await first.handle_text(f"declare svc{n}@1 at 2026-12-03 10:00", ALICE, CHANNEL)
            await first.handle_text(f"poll svc{n}@1 at +10m", ALICE, CHANNEL)
        clock.advance(timedelta(minutes=11))
        waiting, _ = await store.outbox_depth()

        ticks = await asyncio.gather(
            first.handle(c.PollTick(), ALICE), second.handle(c.PollTick(), ALICE)
        )

        assert [t.tone for t in ticks if t.tone is Tone.ERROR] == []  # both ticks did their part
        assert (await store.outbox_depth())[0] - waiting == POLLS  # one card each, no more
    finally:
        await other.close()
