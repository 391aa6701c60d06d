"""Benchmark: one reminder fanned out to 1,000 channels through the outbox.

The fake Web API (its own process) takes 50 ms per call; the worker delivers with concurrency
20, so the ideal is 1000 × 50 ms / 20 = 2.5 s. Prints the time and its ratio to the ideal
(target ≤ 1.3). The store is the embedded SQLite one, as `make run` uses.
Run with `make bench`.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from adapters.clock import SystemClock
from adapters.delivery import DeliveryPolicy, DeliveryWorker
from adapters.policy_file import load_policy
from adapters.settings import SlackSettings
from adapters.slack.home import SlackHome
from adapters.slack.sender import SlackSender, build_delivery_client
from benchmarks._load import PYTHON, free_port, start_process, stop_process
from bot.domain import Conversation
from bot.outbox import Outgoing
from bot.reply import Reply, Section

CHANNELS = 1000
LATENCY = 0.050
CONCURRENCY = 20
IDEAL = CHANNELS * LATENCY / CONCURRENCY


async def queue_reminders(url: str) -> None:
    from storage.sql import open_store

    store = await open_store(url)
    reminder = Reply(title="Release sync — Mon 09:30", sections=(Section(None, ("a@1 · …",)),))
    try:
        async with store() as uow:
            for n in range(CHANNELS):
                message = Outgoing(Conversation("slack", f"C{n:05d}"), reminder)
                await uow.outbox.add(message, at=datetime.now(UTC))
            await uow.commit()
    finally:
        await store.close()


async def deliver(url: str, api_url: str) -> tuple[float, tuple[int, int]]:
    from storage.sql import open_store

    store = await open_store(url)
    try:
        worker = DeliveryWorker(
            store, SystemClock(), policy=DeliveryPolicy(concurrency=CONCURRENCY)
        )
        settings = SlackSettings(bot_token="xoxb-bench", api_base_url=api_url)
        client = build_delivery_client(settings)
        # As the server does (adapters/slack/endpoint.py): one HTTP session for every call.
        client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(client.timeout))
        demo = load_policy(None, default_timezone="UTC")
        home = SlackHome(store=store, clock=SystemClock(), policy=lambda: demo)
        worker.register("slack", SlackSender(client, home))
        started = time.perf_counter()
        await worker.run_once()
        elapsed = time.perf_counter() - started
        await client.session.close()
        return elapsed, await store.outbox_depth()
    finally:
        await store.close()


def main() -> None:
    from storage.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'fanout.db'}"
        upgrade(url)
        asyncio.run(queue_reminders(url))
        port = free_port()
        api = start_process(
            [PYTHON, "-m", "benchmarks.slow_web_api", str(port), str(LATENCY)], {}, port
        )
        try:
            seconds, (waiting, dead) = asyncio.run(deliver(url, f"http://127.0.0.1:{port}/api/"))
        finally:
            stop_process(api)
    print(
        f"fan-out: {CHANNELS:,} channels, {LATENCY * 1000:.0f} ms per call, "
        f"concurrency {CONCURRENCY}"
    )
    print(
        f"delivered in {seconds:.2f} s (ideal {IDEAL:.2f} s), ratio {seconds / IDEAL:.2f} "
        f"(target <= 1.3: {'met' if seconds / IDEAL <= 1.3 else 'NOT met'}); "
        f"left waiting {waiting}, dead-lettered {dead}"
    )


if __name__ == "__main__":
    main()
