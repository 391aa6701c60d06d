"""The dashboard in real headless Chromium: no console errors, the calendar, the charts, a phone.

One screenshot of each page is kept under test-artifacts/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.clock import ManualClock
from storage.memory import MemoryStore
from tests.support.browser import ConsoleWatch, chromium, screenshot
from tests.support.dashboard_data import DECLARED, DECLARED_DAY, fill
from tests.support.people import NOW
from tests.support.server import RunningBot, running_bot

TOKEN = "browser-token"
PAGES = {
    "board": "/",
    "calendar-month": "/calendar?date=2026-12-01",
    "calendar-week": "/calendar?view=week&date=2026-12-03",
    "risks": "/risks",
    "release": f"/releases/{DECLARED}",
    "metrics": "/stats",
}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    env = {"RELEASEBOT_API_TOKEN": TOKEN}
    async with running_bot(env, cwd=tmp_path, clock=ManualClock(NOW), store=MemoryStore()) as bot:
        await fill(bot.components.bot)
        yield bot


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def signed_in_page(browser: Any, bot: RunningBot, **options: Any) -> Any:
    """A page whose first visit carries the token: the dashboard turns it into a cookie."""
    page = await (await browser.new_context(**options)).new_page()
    await page.goto(f"{bot.url}/?token={TOKEN}")
    return page


async def test_every_page_loads_without_console_errors(browser: Any, bot: RunningBot) -> None:
    page = await signed_in_page(browser, bot, viewport={"width": 1280, "height": 900})
    watch = ConsoleWatch(page)
    for name, path in PAGES.items():
        response = await page.goto(bot.url + path, wait_until="load")
        assert response is not None and response.status == 200, name
        assert await page.locator("main h1").count() == 1, name
        await screenshot(page, f"dashboard-{name}")
        assert watch.take() == [], name


async def test_the_calendar_shows_the_declared_release_on_its_day(
    browser: Any, bot: RunningBot
) -> None:
    page = await signed_in_page(browser, bot)
    for view in ("month", "week"):
        await page.goto(f"{bot.url}/calendar?view={view}&date={DECLARED_DAY}")
        entry = page.locator(f'[data-day="{DECLARED_DAY}"] [data-release="{DECLARED}"]')
        await entry.wait_for(state="visible")
        assert (await entry.inner_text()).strip() == f"14:00 {DECLARED}"
        assert await page.locator(f'[data-release="{DECLARED}"]').count() == 1


async def test_the_charts_render(browser: Any, bot: RunningBot) -> None:
    page = await signed_in_page(browser, bot)
    watch = ConsoleWatch(page)
    await page.goto(f"{bot.url}/stats")
    for canvas in ("deployments-chart", "failure-chart"):
        drawn = await page.evaluate(DRAWN_PIXELS, canvas)
        assert drawn["chart"] is True, canvas
        assert drawn["pixels"] > 500, canvas
    labels = await page.evaluate(
        "Chart.getChart('deployments-chart').data.datasets.map(d => d.label)"
    )
    assert labels == ["success", "failure", "rolled back"]
    assert watch.take() == []


# Whether Chart.js owns the canvas, and how many of its pixels are not blank.
DRAWN_PIXELS = """
(id) => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) drawn++; }
  return { chart: Chart.getChart(canvas) !== undefined, pixels: drawn };
}
"""


async def test_on_a_phone_nothing_is_wider_than_the_screen(browser: Any, bot: RunningBot) -> None:
    page = await signed_in_page(browser, bot, viewport=PHONE, device_scale_factor=2, is_mobile=True)
    for name, path in PAGES.items():
        await page.goto(bot.url + path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} is {width}px wide"
    await page.goto(f"{bot.url}/calendar?date=2026-12-01")
    await screenshot(page, "dashboard-calendar-phone")


async def test_without_the_token_the_browser_is_asked_for_it(browser: Any, bot: RunningBot) -> None:
    page = await (await browser.new_context()).new_page()
    watch = ConsoleWatch(page)
    await page.goto(f"{bot.url}/risks")
    assert page.url.endswith("/login?next=%2Frisks")
    await screenshot(page, "dashboard-login")
    await page.fill("input[name=token]", TOKEN)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{bot.url}/risks")
    assert await page.locator("main h1").inner_text() == "Risk board"
    assert watch.take() == []
