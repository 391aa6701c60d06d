"""Benchmark: signed `/release status` at the bot vs a bare slack-bolt app that only acks.

With 10,000 releases in the embedded SQLite store, fires 2,000 signed slash commands at
concurrency 50 at each server (each a separate process on loopback), interleaved in rounds so
both see the same machine, and prints p50/p99 latency, throughput and their ratios.
Target: p99 ratio <= 1.5 and the bot's p99 under 100 ms.  Run with `make bench`.

It also times `/release help` at the bot in the same rounds: the same HTTP, signature, bolt and
acknowledgement path with no store read and a short reply. Its ratio to the bare app is what the
bot's path costs; the rest of the status ratio is the status card's own work.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from benchmarks._load import (
    PYTHON,
    SIGNING_SECRET,
    Figures,
    MakeRequest,
    fire,
    free_port,
    session,
    signed_slash,
    start_process,
    stop_process,
)
from bot.domain import AuditDraft, ChangeClass, Release, State
from bot.usage import BY_VERB

RELEASES = 10_000
REQUESTS = 2_000
CONCURRENCY = 50
ROUNDS = 10
WARM_UP = 2_000


def release(index: int, now: datetime) -> Release:
    return Release(
        service=f"svc{index % 500}",
        version=f"1.{index // 500}.0",
        state=State.PLANNED,
        change_class=ChangeClass.NORMAL,
        owner="slack:U0BENCH001",
        created_at=now,
        updated_at=now,
        scheduled_at=now + timedelta(hours=index % 2000),
        train="public" if index % 3 else "internal",
    )


async def seed(url: str) -> list[str]:
    from storage.sql import open_store

    store = await open_store(url)
    now, names = datetime.now(UTC), []
    try:
        for start in range(0, RELEASES, 1000):
            async with store() as uow:
                for index in range(start, start + 1000):
                    item = release(index, now)
                    await uow.releases.add(item)
                    await uow.audit.append(
                        AuditDraft("declared", item.owner, "bench", now, item.name)
                    )
                    names.append(item.name)
                await uow.commit()
    finally:
        await store.close()
    return names


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    ok: Callable[[int, bytes], bool]


def bot_ok(code: int, body: bytes) -> bool:
    return code == 200 and b"Release svc" in body


def bare_ok(code: int, _body: bytes) -> bool:
    return code == 200


# What `help declare` answers, and no error reply does.
DECLARE_SUMMARY = BY_VERB["declare"].summary.encode()


def help_ok(code: int, body: bytes) -> bool:
    return code == 200 and DECLARE_SUMMARY in body


@dataclass(frozen=True)
class Results:
    bot: Figures
    bare: Figures
    bot_help: Figures


async def measure(bot: Server, bare: Server, names: list[str]) -> Results:
    """Warm both servers up, then alternate short rounds between them.

    Each server keeps its client's connections from the warm-up on: what is measured is
    answering commands, not opening 50 connections at once, which a round would otherwise
    start with. Short alternating rounds spread the machine's other load over both alike.
    """
    rng = random.Random(7)
    bot_help = Server(bot.url, bot.pid, help_ok)

    def status(_index: int) -> tuple[bytes, dict[str, str]]:
        return signed_slash(f"status {rng.choice(names)}")

    def help_declare(_index: int) -> tuple[bytes, dict[str, str]]:
        return signed_slash("help declare")

    async with session(CONCURRENCY) as to_bot, session(CONCURRENCY) as to_bare:

        async def run(
            server: Server, http: aiohttp.ClientSession, total: int, request: MakeRequest = status
        ) -> Figures:
            return await fire(
                http, server.url, request, total=total, expect=server.ok, pid=server.pid
            )

        await run(bot, to_bot, WARM_UP)
        await run(bare, to_bare, WARM_UP)
        per_round = REQUESTS // ROUNDS
        bot_parts, bare_parts, help_parts = [], [], []
        for _ in range(ROUNDS):
            bare_parts.append(await run(bare, to_bare, per_round))
            bot_parts.append(await run(bot, to_bot, per_round))
            help_parts.append(await run(bot_help, to_bot, per_round, help_declare))
    return Results(_merge(bot_parts), _merge(bare_parts), _merge(help_parts))


def _merge(parts: list[Figures]) -> Figures:
    cpu = [p.cpu_seconds for p in parts]
    return Figures(
        count=sum(p.count for p in parts),
        errors=sum(p.errors for p in parts),
        seconds=sum(p.seconds for p in parts),
        latencies_ms=[x for p in parts for x in p.latencies_ms],
        cpu_seconds=None if None in cpu else sum(c for c in cpu if c is not None),
    )


def main() -> None:
    from storage.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        names = asyncio.run(seed(url))
        api_port, bot_port, bare_port = free_port(), free_port(), free_port()
        api_url = f"http://127.0.0.1:{api_port}/api/"
        env = {
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_BASE_URL": api_url,
            "RELEASEBOT_DATABASE_URL": url,
        }
        processes = [
            start_process([PYTHON, "-m", "benchmarks.fake_web_api", str(api_port)], {}, api_port)
        ]
        try:
            processes.append(
                start_process(
                    [PYTHON, "-m", "adapters.cli", "serve", "--port", str(bot_port)], env, bot_port
                )
            )
            processes.append(
                start_process(
                    [PYTHON, "-m", "benchmarks.bare_bolt", SIGNING_SECRET, api_url, str(bare_port)],
                    {},
                    bare_port,
                )
            )
            bot_server = Server(
                f"http://127.0.0.1:{bot_port}/slack/events", processes[1].pid, bot_ok
            )
            bare_server = Server(
                f"http://127.0.0.1:{bare_port}/slack/events", processes[2].pid, bare_ok
            )
            results = asyncio.run(measure(bot_server, bare_server, names))
        finally:
            for process in reversed(processes):
                stop_process(process)
    report(results)


def report(results: Results) -> None:
    bot, bare, bot_help = results.bot, results.bare, results.bot_help
    print(
        f"/release status, {RELEASES:,} releases in SQLite, {REQUESTS:,} requests each, "
        f"concurrency {CONCURRENCY}"
    )
    print(bare.line("bare slack-bolt (ack only)"))
    print(bot.line("releasebot (status card in the ack)"))
    print(bot_help.line("releasebot /release help declare"))
    print(f"ratio bot/bare: {_ratios(bot, bare)}")
    print(f"ratio help/bare (the bot's path, no store read): {_ratios(bot_help, bare)}")
    print(
        f"target: p99 ratio <= 1.5 ({'met' if bot.p99 / bare.p99 <= 1.5 else 'NOT met'}), "
        f"bot p99 < 100 ms ({'met' if bot.p99 < 100 else 'NOT met'})"
    )


def _ratios(server: Figures, bare: Figures) -> str:
    cpu = ""
    if server.cpu_us is not None and bare.cpu_us is not None:
        cpu = f"  cpu/request {server.cpu_us / bare.cpu_us:.2f}"
    return (
        f"p50 {server.p50 / bare.p50:.2f}  p99 {server.p99 / bare.p99:.2f}  "
        f"throughput {server.throughput / bare.throughput:.2f}{cpu}"
    )


if __name__ == "__main__":
    main()
