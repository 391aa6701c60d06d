"""A bot with something on every dashboard page: releases, a risk, a freeze, a sync, events."""

from __future__ import annotations

from bot.domain import Actor
from bot.service import ReleaseBot
from tests.support import metrics_data as data
from tests.support.people import ALICE, CHANNEL, NOW

API = Actor("api:rest", "REST API", "api")
DECLARED = "checkout@2.4.0"
DECLARED_DAY = "2026-12-03"  # 14:00 in the zone of RELEASEBOT_TIMEZONE (UTC by default)


async def fill(bot: ReleaseBot) -> None:
    for text in (
        f"declare {DECLARED} at {DECLARED_DAY} 14:00 train public env prod",
        f"risk {DECLARED} high cache stampede under load",
        "freeze 2026-12-20 18:00 2027-01-04 08:00 holidays",
        "sync weekdays 09:30",
        "declare search@7 class standard",
        "deploy search@7",
    ):
        reply = await bot.handle_text(text, ALICE, CHANNEL)
        assert reply.problem is None, reply.title
    for item in data.DEPLOYS:
        await bot.handle(data.deploy_command(item, NOW), API)
    for case in data.INCIDENTS:
        await bot.handle(data.incident_command(case, NOW), API)
