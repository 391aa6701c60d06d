"""`metrics [service] [days]`: DORA and release metrics with their numerators and denominators."""

from __future__ import annotations

from bot import commands as c
from bot.handlers.base import Context, handles
from bot.metrics import MetricsReport, MetricsWindow, build_report
from bot.observe_presenters import metrics_reply
from bot.ports import UnitOfWork
from bot.reply import Reply


@handles(c.Metrics, read_only=True)
async def metrics(cmd: c.Metrics, ctx: Context) -> Reply:
    window = MetricsWindow.last(cmd.days, ctx.now, cmd.service)
    return metrics_reply(await load_report(ctx.uow, window), cmd.service, cmd.days)


async def load_report(
    uow: UnitOfWork, window: MetricsWindow, *, daily: bool = False
) -> MetricsReport:
    """The report over `window`, counted by the store; `daily` adds the per-day series."""
    tallies = await uow.metrics.tallies(window)
    series = await uow.metrics.daily(window) if daily else ()
    return build_report(window, tallies, series)
