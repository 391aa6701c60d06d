"""The composition root: everything is built here from a Settings object, nothing at import."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.cards import CardKeeper
from adapters.clock import SystemClock
from adapters.delivery import DeliveryWorker
from adapters.policy_file import PolicyHolder
from adapters.scheduler import Scheduler, occurrences
from adapters.settings import Settings
from adapters.smoke import HttpSmokeProbe, SmokeRunner
from adapters.web.telemetry import Telemetry
from bot.ports import Clock
from bot.service import ReleaseBot
from storage.base import Store


@dataclass(frozen=True, slots=True)
class Components:
    settings: Settings
    store: Store
    bot: ReleaseBot
    clock: Clock
    policy: PolicyHolder
    cards: CardKeeper
    delivery: DeliveryWorker
    scheduler: Scheduler
    telemetry: Telemetry
    smoke: SmokeRunner


async def build(
    settings: Settings, *, clock: Clock | None = None, store: Store | None = None
) -> Components:
    """Wire the bot; tests pass fakes for the clock or the store through the same function."""
    policy = PolicyHolder(settings.policy_file, default_timezone=settings.timezone)
    clock = clock or SystemClock()
    if store is None:
        from storage.sql import open_store

        store = await open_store(settings.database_url)
    bot = ReleaseBot(
        unit_of_work=store,
        clock=clock,
        policy=policy,
        public_url=settings.public_url,
        sync_times=occurrences,
    )
    cards = CardKeeper(store, bot)
    delivery = DeliveryWorker(store, clock)
    return Components(
        settings=settings,
        store=store,
        bot=bot,
        clock=clock,
        policy=policy,
        cards=cards,
        delivery=delivery,
        scheduler=Scheduler(bot, store, clock),
        telemetry=Telemetry(clock),
        smoke=SmokeRunner(bot, store, HttpSmokeProbe(clock), clock),
    )
