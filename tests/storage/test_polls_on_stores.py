"""Readiness polls on every store, with two replicas ticking at once where the store persists."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import yaml

from adapters.clock import ManualClock
from bot import commands as c
from bot.policy import parse_policy
from bot.service import ReleaseBot
from storage.base import Store
from tests.support.people import ALICE, CHANNEL, NOW

DEMO = Path(__file__).parents[2] / "adapters" / "demo_policy.yaml"
POLLS = 20


async def test_two_replicas_ticking_at_once_post_each_poll_card_once(
    store: Store, reopen: Callable[[], Awaitable[Store]]
) -> None:
    other = await reopen()
    policy = parse_policy(yaml.safe_load(DEMO.read_text()))
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

        await asyncio.gather(first.handle(c.PollTick(), ALICE), second.handle(c.PollTick(), ALICE))

        assert (await store.outbox_depth())[0] - waiting == POLLS  # one card each, no more
    finally:
        await other.close()
