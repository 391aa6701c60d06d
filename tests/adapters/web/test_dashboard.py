"""The dashboard over plain HTTP: every page answers, and the token guards it when set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from adapters.clock import ManualClock
from adapters.web.dashboard_auth import COOKIE, safe_next
from storage.memory import MemoryStore
from tests.support.dashboard_data import DECLARED, DECLARED_DAY, fill
from tests.support.people import NOW
from tests.support.server import RunningBot, running_bot

TOKEN = "dash-token"
PAGES = (
    "/",
    "/calendar",
    "/calendar?view=week&date=2026-11-30",
    "/risks",
    f"/releases/{DECLARED}",
    "/stats",
)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot({}, cwd=tmp_path, clock=ManualClock(NOW), store=MemoryStore()) as bot:
        await fill(bot.components.bot)
        yield bot


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[RunningBot]:
    env = {"RELEASEBOT_API_TOKEN": TOKEN}
    async with running_bot(env, cwd=tmp_path, clock=ManualClock(NOW), store=MemoryStore()) as bot:
        yield bot


async def text_of(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url, allow_redirects=False) as response:
        return response.status, await response.text()


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_answers_with_html(bot: RunningBot, path: str) -> None:
    async with aiohttp.ClientSession() as http:
        status, html = await text_of(http, bot.url + path)
    assert status == 200 and html.startswith("<!doctype html>")
    assert '<meta name="viewport"' in html


async def test_the_pages_show_what_the_store_holds(bot: RunningBot) -> None:
    async with aiohttp.ClientSession() as http:
        _, board = await text_of(http, f"{bot.url}/")
        _, month = await text_of(http, f"{bot.url}/calendar?date=2026-12-10")
        _, risks = await text_of(http, f"{bot.url}/risks")
        _, detail = await text_of(http, f"{bot.url}/releases/{DECLARED}")
        _, stats = await text_of(http, f"{bot.url}/stats")
    assert (
        f'data-release="{DECLARED}"'
        in board.split('data-state="planned"')[1].split("</section>")[0]
    )
    day = month.split(f'data-day="{DECLARED_DAY}"')[1].split("</div>\n  <div")[0]
    assert f"14:00 {DECLARED}" in day
    assert 'class="day frozen' in month.split('data-day="2026-12-21"')[0].rsplit("<div", 1)[1]
    assert "R1 · high" in risks and "cache stampede under load" in risks
    assert "declared" in detail and "risk_raised" in detail  # the audit trail
    assert "2 failed or rolled-back deployments / 6 deployments" in stats
    assert "vendor/chart.umd.min.js" in stats


async def test_unknown_release_and_bad_dates_are_refused(bot: RunningBot) -> None:
    async with aiohttp.ClientSession() as http:
        assert (await text_of(http, f"{bot.url}/releases/nobody@1"))[0] == 404
        assert (await text_of(http, f"{bot.url}/calendar?date=2026-02-30"))[0] == 400
        for far in ("date=9999-12-31", "date=0001-01-01", "view=week&date=9999-12-30"):
            status, text = await text_of(http, f"{bot.url}/calendar?{far}")
            assert (status, text) == (400, "date must fall in the years 1970–2999")
        assert (await text_of(http, f"{bot.url}/calendar?date=2999-12-31"))[0] == 200
        for days in ("0", "%C2%B2"):
            assert (await text_of(http, f"{bot.url}/stats?days={days}"))[0] == 400


def browser_like() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies from an IP address (127.0.0.1), as browsers do.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_with_a_token_set_the_dashboard_asks_for_it(guarded: RunningBot) -> None:
    url = guarded.url
    async with browser_like() as http:
        status, _ = await text_of(http, f"{url}/risks")
        assert status == 303
        async with http.post(f"{url}/login", data={"token": "nope", "next": "/risks"}) as wrong:
            assert wrong.status == 401 and "not right" in await wrong.text()
        async with http.post(
            f"{url}/login", data={"token": TOKEN, "next": "/risks"}, allow_redirects=False
        ) as right:
            assert right.status == 303 and right.headers["Location"] == "/risks"
            assert right.cookies[COOKIE].value != TOKEN  # the cookie is not the API token
        assert (await text_of(http, f"{url}/risks"))[0] == 200
        # The cookie opens the dashboard, not the REST API.
        assert (await text_of(http, f"{url}/api/v1/releases"))[0] == 401


async def test_a_link_with_the_token_signs_in_and_drops_it(guarded: RunningBot) -> None:
    async with browser_like() as http:
        async with http.get(
            f"{guarded.url}/calendar?view=week&token={TOKEN}", allow_redirects=False
        ) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/calendar?view=week"
        assert (await text_of(http, f"{guarded.url}/calendar?view=week"))[0] == 200


def test_sign_in_only_sends_people_back_to_this_site() -> None:
    assert safe_next("/stats?days=7") == "/stats?days=7"
    for elsewhere in ("//evil.example/", "https://evil.example/", "", None):
        assert safe_next(elsewhere) == "/"
