"""`GET /metrics`: Prometheus text from each app's own registry."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from adapters.clock import ManualClock
from bot import commands as c
from bot.domain import Actor
from storage.memory import MemoryStore
from tests.support.people import ALICE, CHANNEL, NOW
from tests.support.server import RunningBot, running_bot

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def get(http: aiohttp.ClientSession, url: str, **kw: object) -> int:
    async with http.get(url, **kw) as response:  # type: ignore[arg-type]
        await response.read()
        return response.status


async def scrape(
    http: aiohttp.ClientSession, bot: RunningBot
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with http.get(f"{bot.url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_requests_outbox_scheduler_and_gates_are_measured(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    env = {"RELEASEBOT_API_TOKEN": TOKEN}
    async with (
        running_bot(env, cwd=tmp_path, clock=clock, store=MemoryStore()) as bot,
        aiohttp.ClientSession() as http,
    ):
        await bot.components.bot.handle_text("declare a@1", ALICE, CHANNEL)
        assert await get(http, f"{bot.url}/api/v1/releases/a@1/gate", headers=AUTH) == 409
        assert await get(http, f"{bot.url}/api/v1/releases", headers=AUTH) == 200
        assert await get(http, f"{bot.url}/api/v1/releases") == 401
        async with http.post(f"{bot.url}/slack/events") as response:
            assert response.status == 503  # Slack is not configured: still counted
        async with http.post(f"{bot.url}/api/messages") as response:
            assert response.status == 503
        assert await get(http, f"{bot.url}/healthz") == 200
        bot.components.scheduler.last_tick = NOW - timedelta(seconds=42)
        api = Actor("api:rest", "REST API", "api")
        await bot.components.bot.handle(c.RecordIncident("a", "sev1", NOW), api)  # posts in chat
        await wait_for_dead_letter(bot)
        found = await scrape(http, bot)
    assert found[("releasebot_http_requests_total", (("code", "409"), ("surface", "api")))] == 1
    assert found[("releasebot_http_requests_total", (("code", "200"), ("surface", "api")))] == 1
    assert found[("releasebot_http_requests_total", (("code", "401"), ("surface", "api")))] == 1
    assert found[("releasebot_http_requests_total", (("code", "503"), ("surface", "slack")))] == 1
    assert found[("releasebot_http_requests_total", (("code", "503"), ("surface", "teams")))] == 1
    assert found[("releasebot_http_requests_total", (("code", "200"), ("surface", "web")))] == 1
    assert found[("releasebot_http_request_duration_seconds_count", (("surface", "api"),))] == 3
    assert found[("releasebot_gate_results_total", (("result", "fail"),))] == 1
    assert found[("releasebot_gate_results_total", (("result", "pass"),))] == 0
    assert found[("releasebot_outbox_messages", (("state", "waiting"),))] == 0
    assert found[("releasebot_outbox_messages", (("state", "dead"),))] == 1  # no Slack sender
    assert found[("releasebot_scheduler_lag_seconds", ())] == 42


async def wait_for_dead_letter(bot: RunningBot) -> None:
    for _ in range(200):
        if await bot.components.store.outbox_depth() == (0, 1):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"outbox is {await bot.components.store.outbox_depth()}")


async def test_two_apps_in_one_process_count_apart(tmp_path: Path) -> None:
    async with (
        running_bot({}, cwd=tmp_path, store=MemoryStore()) as one,
        running_bot({}, cwd=tmp_path, store=MemoryStore()) as two,
        aiohttp.ClientSession() as http,
    ):
        for _ in range(3):
            await get(http, f"{one.url}/healthz")
        first, second = await scrape(http, one), await scrape(http, two)
    key = ("releasebot_http_requests_total", (("code", "200"), ("surface", "web")))
    assert first[key] == 3 and key not in second


class StoreGoingDown(MemoryStore):
    """A store whose outbox cannot be read while `down` is set, as when the database is."""

    down = False

    async def outbox_depth(self) -> tuple[int, int]:
        if self.down:
            raise ConnectionRefusedError("the database is not answering")
        return await super().outbox_depth()


async def test_a_store_that_is_down_leaves_out_only_the_outbox_series(tmp_path: Path) -> None:
    store = StoreGoingDown()
    waiting = ("releasebot_outbox_messages", (("state", "waiting"),))
    served = ("releasebot_http_requests_total", (("code", "200"), ("surface", "web")))
    async with (
        running_bot({}, cwd=tmp_path, store=store) as bot,
        aiohttp.ClientSession() as http,
    ):
        assert waiting in await scrape(http, bot)
        assert await get(http, f"{bot.url}/healthz") == 200
        store.down = True
        during = await scrape(http, bot)
        store.down = False
        after = await scrape(http, bot)
    assert waiting not in during and during[served] == 1
    assert after[waiting] == 0
