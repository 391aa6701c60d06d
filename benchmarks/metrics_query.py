"""Benchmark: the 90-day metrics query on PostgreSQL with 100,000 deployments and 10,000 incidents.

Creates a fresh database on the server at RELEASEBOT_BENCH_POSTGRES_URL (default: the test
server, postgresql+asyncpg://postgres@127.0.0.1:5432/test), migrates it, loads the rows with
COPY, ANALYZEs, then times the metrics report the REST API and the dashboard ask for (a tally
per service plus the per-day series) over the last 90 days, overall and for one service.
Prints the median of several runs. Target: under 100 ms. Run with `make bench-metrics`.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy.engine import make_url

from bot.handlers.metrics import load_report
from bot.metrics import MetricsWindow
from storage.migrate import upgrade
from storage.sql import SqlStore, open_store

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEPLOYMENTS = 100_000
INCIDENTS = 10_000
SERVICES = 200
HISTORY_DAYS = 730  # the rows spread over two years, so 90 days is about an eighth of them
RUNS = 25
WARM_UP = 3
TARGET_MS = 100.0
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
STATUSES = ("success",) * 17 + ("failure", "failure", "rolled_back")


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def maintenance(base: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn(make_url(base).set(database="postgres")))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def deployment_rows(rng: random.Random) -> list[tuple[object, ...]]:
    rows = []
    for index in range(DEPLOYMENTS):
        finished = NOW - timedelta(seconds=rng.uniform(0, HISTORY_DAYS * 86400))
        changes = rng.randint(0, 6)
        lead = sum(rng.uniform(600, 5 * 86400) for _ in range(changes))
        rows.append(
            (
                f"svc{index % SERVICES}",
                f"1.{index}",
                rng.choice(("prod", "prod", "staging")),
                rng.choice(STATUSES),
                finished - timedelta(minutes=rng.randint(2, 40)),
                finished,
                changes,
                lead,
                None,
            )
        )
    return rows


def incident_rows(rng: random.Random) -> list[tuple[object, ...]]:
    rows = []
    for index in range(INCIDENTS):
        opened = NOW - timedelta(seconds=rng.uniform(0, HISTORY_DAYS * 86400))
        resolved = opened + timedelta(minutes=rng.randint(5, 3000)) if rng.random() < 0.95 else None
        attributed = f"svc{index % SERVICES}@1.{index}" if rng.random() < 0.6 else None
        rows.append(
            (
                None,
                f"svc{index % SERVICES}",
                f"sev{rng.randint(1, 4)}",
                opened,
                resolved,
                attributed,
            )
        )
    return rows


async def load(url: str) -> None:
    rng = random.Random(6)
    conn = await asyncpg.connect(dsn(url))
    try:
        await conn.copy_records_to_table(
            "deployment",
            records=deployment_rows(rng),
            columns=[
                "service",
                "version",
                "environment",
                "status",
                "started_at",
                "finished_at",
                "changes",
                "lead_seconds",
                "release",
            ],
        )
        await conn.copy_records_to_table(
            "incident",
            records=incident_rows(rng),
            columns=["key", "service", "severity", "opened_at", "resolved_at", "release"],
        )
        await conn.execute("ANALYZE deployment; ANALYZE incident")
    finally:
        await conn.close()


async def median_ms(run: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    for _ in range(WARM_UP):
        await run()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


async def report(store: SqlStore, service: str | None) -> object:
    async with store(read_only=True) as uow:
        return await load_report(uow, MetricsWindow.last(90, NOW, service), daily=True)


async def main() -> None:
    base = os.environ.get("RELEASEBOT_BENCH_POSTGRES_URL", DEFAULT_URL)
    name = f"releasebot_bench_{uuid.uuid4().hex[:10]}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    await maintenance(base, f'CREATE DATABASE "{name}"')
    try:
        await asyncio.to_thread(upgrade, url)
        started = time.perf_counter()
        await load(url)
        print(
            f"loaded {DEPLOYMENTS:,} deployments and {INCIDENTS:,} incidents "
            f"in {time.perf_counter() - started:.1f} s"
        )
        store = await open_store(url)
        try:
            await measure(store)
        finally:
            await store.close()
    finally:
        await maintenance(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def measure(store: SqlStore) -> None:
    for label, service in (("all services", None), ("one service", "svc7")):
        median, worst = await median_ms(lambda s=service: report(store, s))
        verdict = "OK" if median < TARGET_MS else "OVER TARGET"
        print(
            f"90-day metrics, {label}: median {median:.1f} ms, worst {worst:.1f} ms "
            f"over {RUNS} runs (target < {TARGET_MS:.0f} ms) {verdict}"
        )


if __name__ == "__main__":
    asyncio.run(main())
