"""Post-release smoke checks against a real local HTTP server: results on the card, and
*Roll back* / *Open huddle* when one fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web

from adapters.clock import ManualClock
from adapters.smoke import HttpSmokeProbe
from bot import commands as c
from bot.domain import State
from bot.observe import SmokeCheck
from bot.reply import Reply, Style, Tone
from storage.base import CardRef
from storage.memory import MemoryStore
from tests.support.people import ALICE, CHANNEL, NOW
from tests.support.rest import store_of
from tests.support.server import RunningBot, running_bot

DEMO = Path(__file__).parents[3] / "adapters" / "demo_policy.yaml"
Start = Callable[[list[dict[str, Any]]], AbstractAsyncContextManager[RunningBot]]


@pytest.fixture
async def target() -> AsyncIterator[str]:
    """The service under test: /ok answers 200, /broken 503, /slow too late."""

    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def broken(_request: web.Request) -> web.Response:
        return web.Response(status=503)

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/broken", broken)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def start(tmp_path: Path) -> Start:
    """The bot, with smoke checks for `checkout` in its policy file."""

    @asynccontextmanager
    async def started(checks: list[dict[str, Any]]) -> AsyncIterator[RunningBot]:
        policy = yaml.safe_load(DEMO.read_text())
        policy["observability"] = {"smoke_checks": {"checkout": checks}}
        path = tmp_path / "policy.yaml"
        path.write_text(yaml.safe_dump(policy))
        env = {"RELEASEBOT_POLICY_FILE": str(path), "RELEASEBOT_API_TOKEN": "t"}
        store = MemoryStore()
        async with running_bot(env, cwd=tmp_path, clock=ManualClock(NOW), store=store) as bot:
            yield bot

    return started


async def deployed_release(bot: RunningBot, name: str = "checkout@1.2") -> None:
    for text in (f"declare {name} class standard", f"deploy {name}", f"deployed {name}"):
        reply = await bot.components.bot.handle_text(text, ALICE, CHANNEL)
        assert reply.tone is not Tone.ERROR, reply.title


def smoke_reports(bot: RunningBot) -> list[Reply]:
    return [
        q.message.reply
        for q in store_of(bot).data.outbox
        if q.message.reply.title.startswith("Smoke checks")
    ]


async def test_a_failing_check_lands_on_the_card_and_offers_the_way_back(
    start: Start, target: str
) -> None:
    checks = [
        {"url": f"{target}/ok"},
        {"url": f"{target}/broken", "expect_status": 200},
        {"url": f"{target}/slow", "timeout_seconds": 0.2},
    ]
    async with start(checks) as bot:
        card = CardRef("checkout@1.2", "slack", "C0RELEASES", "1700000000.000100")
        await bot.components.store.save_card(card)
        await deployed_release(bot)
        # The server's own runner may get there first (the commit kicked it): either way, once.
        await bot.components.smoke.run_due()
        assert await bot.components.smoke.run_due() == []
        [report] = smoke_reports(bot)
        assert report.tone is Tone.ERROR and report.title == "Smoke checks of checkout@1.2 failed"
        lines = report.sections[0].lines
        assert report.sections[0].title == "Smoke checks 1/3 passed"
        assert lines[0] == f"✓ {target}/ok: HTTP 200 (expected 200)"
        assert lines[1] == f"✗ {target}/broken: HTTP 503 (expected 200) — got 503"
        assert lines[2] == f"✗ {target}/slow: no answer (expected 200) — no answer within 0.2 s"
        updates = [
            q.message for q in store_of(bot).data.outbox if q.message.target == card.message_id
        ]
        assert updates[-1].reply.sections[-1] == report.sections[0]  # the card shows the results
        rollback, huddle = report.actions
        assert (rollback.label, rollback.style, rollback.asks_for) == (
            "Roll back",
            Style.DANGER,
            "reason",
        )
        assert huddle.label == "Open huddle"
        await press(bot, rollback.command, reason="checkout returns 503")
        assert store_of(bot).data.releases["checkout@1.2"].state is State.ROLLED_BACK
        await press(bot, huddle.command)
        assert store_of(bot).data.tables.huddles
        assert "smoke_checked" in [e.action for e in store_of(bot).data.audit]


async def press(bot: RunningBot, button: str, **fields: str) -> None:
    """What a surface does with a button: load its command, fill what it asked for, run it."""
    command = replace(c.load(button), **fields)
    reply = await bot.components.bot.handle(command, ALICE, CHANNEL)
    assert reply.problem is None, reply.title


async def test_passing_checks_offer_nothing_more(start: Start, target: str) -> None:
    async with start([{"url": f"{target}/ok"}]) as bot:
        await deployed_release(bot)
        await bot.components.smoke.run_due()
        [report] = smoke_reports(bot)
        assert report.tone is Tone.SUCCESS and not report.actions
        async with bot.components.store(read_only=True) as uow:
            [result] = await uow.smoke.latest("checkout@1.2")
        assert result.passed and result.status == 200


async def test_releases_of_other_services_and_not_deployed_are_left_alone(
    start: Start, target: str
) -> None:
    async with start([{"url": f"{target}/ok"}]) as bot:
        await deployed_release(bot, "search@7")
        await bot.components.bot.handle_text("declare checkout@2 class standard", ALICE, CHANNEL)
        assert await bot.components.smoke.run_due() == []


async def test_a_deployment_event_sets_the_checks_off_in_the_running_server(
    start: Start, target: str
) -> None:
    async with start([{"url": f"{target}/ok"}]) as bot:
        for text in ("declare checkout@1.2 class standard", "deploy checkout@1.2"):
            await bot.components.bot.handle_text(text, ALICE, None)  # no channel, no outbox
        body = {
            "service": "checkout",
            "version": "1.2",
            "environment": "prod",
            "status": "success",
            "started_at": (NOW - timedelta(minutes=9)).isoformat(),
            "finished_at": NOW.isoformat(),
        }
        async with (
            aiohttp.ClientSession(headers={"Authorization": "Bearer t"}) as http,
            http.post(f"{bot.url}/api/v1/deployments", json=body) as response,
        ):
            assert response.status == 201
        for _ in range(100):  # the runner was kicked: well under its 5 s poll
            async with bot.components.store(read_only=True) as uow:
                if await uow.smoke.latest("checkout@1.2"):
                    break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the smoke checks did not run after the deployment event")


async def test_the_probe_reports_a_refused_connection(target: str) -> None:
    probe = HttpSmokeProbe(ManualClock(NOW))
    refused = await probe.check(SmokeCheck("http://127.0.0.1:9/", 200, 1.0))
    assert not refused.passed and refused.status is None
    assert refused.detail.startswith("request failed")
    moved = await probe.check(SmokeCheck(f"{target}/ok", 200, 1.0))
    assert moved.passed and moved.checked_at == NOW
