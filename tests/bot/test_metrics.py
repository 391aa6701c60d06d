"""`metrics` in chat over the hand-counted data set (tests/support/metrics_data.py)."""

from __future__ import annotations

import pytest

from bot.domain import Actor
from bot.metrics import MetricsWindow, build_report, format_fraction, format_value
from bot.reply import Reply
from bot.service import ReleaseBot
from bot.text import plain_text
from tests.support import metrics_data as data
from tests.support.people import ALICE, CHANNEL, NOW

API = Actor("api:rest", "REST API", "api")


async def feed(bot: ReleaseBot) -> None:
    for item in data.DEPLOYS:
        reply = await bot.handle(data.deploy_command(item, NOW), API)
        assert reply.problem is None, reply.title
    for case in data.INCIDENTS:
        await bot.handle(data.incident_command(case, NOW), API)


async def say(bot: ReleaseBot, text: str) -> Reply:
    return await bot.handle_text(text, ALICE, CHANNEL)


async def test_every_metric_shows_its_value_numerator_and_denominator(bot: ReleaseBot) -> None:
    await feed(bot)
    text = plain_text(await say(bot, "metrics"))
    assert "Metrics for all services, last 30 days" in text
    for line in (
        "Deployment frequency: 0.20/day (6 deployments / 30 days)",
        "Lead time for change: 3.2 h (13 commit-to-deploy hours / 4 changes)",
        "Change failure rate: 33% (2 failed or rolled-back deployments / 6 deployments)",
        "Time to restore: 48.8 h (146.5 hours to resolve / 3 incidents resolved)",
        "Rollback frequency: 17% (1 rolled-back deployments / 6 deployments)",
        "Defect leakage: 50% (2 incidents attributed to a release / 4 releases deployed)",
    ):
        assert line in text
    assert "checkout: 0.17/day deploys · failure 40% · lead 3.2 h · restore 73.0 h" in text


async def test_one_service_and_a_shorter_window(bot: ReleaseBot) -> None:
    await feed(bot)
    text = plain_text(await say(bot, "metrics checkout 4"))
    # In 4 days: 1.3 to staging and to prod, both successes; the open sev1 incident.
    assert "Deployment frequency: 0.50/day (2 deployments / 4 days)" in text
    assert "Lead time for change: 1.5 h (3 commit-to-deploy hours / 2 changes)" in text
    assert "Change failure rate: 0% (0 failed or rolled-back deployments / 2 deployments)" in text
    # The open incident has no time to restore yet, so there is nothing to average.
    assert "Time to restore: n/a (0 hours to resolve / 0 incidents resolved)" in text
    assert "Defect leakage: 0% (0 incidents attributed to a release / 1 releases deployed)" in text


async def test_a_service_without_deployments_has_no_ratios_only_counts(bot: ReleaseBot) -> None:
    await feed(bot)
    text = plain_text(await say(bot, "metrics search"))
    assert "Deployment frequency: 0.00/day (0 deployments / 30 days)" in text
    assert "Change failure rate: n/a (0 failed or rolled-back deployments / 0 deployments)" in text
    assert "Time to restore: 0.5 h (0.5 hours to resolve / 1 incidents resolved)" in text
    assert "Defect leakage: n/a (1 incidents attributed to a release / 0 releases deployed)" in text


async def test_with_no_events_at_all_nothing_is_made_up(bot: ReleaseBot) -> None:
    reply = await say(bot, "metrics 90")
    lines = reply.sections[0].lines
    assert lines[0] == "Deployment frequency: 0.00/day (0 deployments / 90 days)"
    assert all(": n/a (" in line for line in lines[1:])


def test_the_report_sums_services_into_the_overall_figures() -> None:
    window = MetricsWindow.last(data.DAYS, NOW)
    report = build_report(window, data.TALLIES, data.DAILY)
    assert [name for name, _ in report.by_service] == ["checkout", "payments", "search"]
    cfr = report.metric("change_failure_rate")
    assert (cfr.numerator, cfr.denominator) == (2, 6)
    assert cfr.value == pytest.approx(1 / 3)
    assert format_value(report.metric("lead_time")) == "3.2 h"
    assert format_fraction(report.metric("defect_leakage")) == (
        "2 incidents attributed to a release / 4 releases deployed"
    )
    assert report.day_label(0) == window.since.date()
