"""Deployments, incidents, smoke checks and the metrics' counts, alike on every store."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.metrics import MetricsWindow, Tally
from bot.observe import Deployment, DeployStatus, Incident, SmokeResult
from storage.base import Store
from tests.storage.factories import T0
from tests.support import metrics_data as data

H = timedelta(hours=1)


def deployment(version: str = "1.0", **changes: object) -> Deployment:
    base = Deployment("checkout", version, "prod", DeployStatus.SUCCESS, T0 - H, T0, 2, 3600.5)
    return replace(base, **changes)  # type: ignore[arg-type]


async def load_data_set(store: Store) -> None:
    async with store() as uow:
        for item in data.DEPLOYS:
            await uow.deployments.record(data.deployment(item, T0))
        for case in data.INCIDENTS:
            await uow.incidents.record(data.incident(case, T0))
        await uow.commit()


async def test_a_deployment_round_trips_and_a_second_report_updates_it(store: Store) -> None:
    async with store() as uow:
        first, created = await uow.deployments.record(deployment(release="checkout@1.0"))
        await uow.commit()
    assert created and first.id > 0
    rolled = deployment(status=DeployStatus.ROLLED_BACK, finished_at=T0 + H, changes=0)
    async with store() as uow:
        again, created_again = await uow.deployments.record(rolled)
        await uow.commit()
    assert not created_again and again.id == first.id
    async with store(read_only=True) as uow:
        found = await uow.deployments.of_release("checkout", "1.0")
    assert found == [replace(rolled, id=first.id)]
    assert found[0].finished_at.utcoffset() == timedelta(0)


async def test_deployments_of_a_service_in_a_window_come_newest_first(store: Store) -> None:
    async with store() as uow:
        for hours, version in ((5, "1.0"), (1, "1.2"), (3, "1.1"), (30, "0.9")):
            moment = T0 - hours * H
            await uow.deployments.record(deployment(version, started_at=moment, finished_at=moment))
        await uow.deployments.record(deployment("7", service="search"))
        await uow.commit()
    async with store(read_only=True) as uow:
        found = await uow.deployments.of_service("checkout", since=T0 - 24 * H, until=T0)
        limited = await uow.deployments.of_service("checkout", since=T0 - 24 * H, until=T0, limit=1)
    assert [d.version for d in found] == ["1.2", "1.1", "1.0"]
    assert [d.version for d in limited] == ["1.2"]


async def test_incidents_with_a_key_are_updated_and_without_one_always_added(store: Store) -> None:
    opened = Incident("checkout", "sev1", T0, key="PD-42")
    async with store() as uow:
        first, created = await uow.incidents.record(opened)
        resolved, created_again = await uow.incidents.record(
            replace(opened, resolved_at=T0 + H, release="checkout@1.0")
        )
        anonymous = [await uow.incidents.record(Incident("search", "sev3", T0)) for _ in range(2)]
        await uow.commit()
    assert created and not created_again and resolved.id == first.id
    assert resolved.resolved_at == T0 + H and resolved.release == "checkout@1.0"
    assert [made for _, made in anonymous] == [True, True]
    assert anonymous[0][0].id != anonymous[1][0].id
    async with store(read_only=True) as uow:
        recent = await uow.incidents.recent(since=T0 - H)
        assert await uow.incidents.by_key("PD-42") == resolved
        assert await uow.incidents.by_key("PD-43") is None
    assert {i.id for i in recent} == {first.id, anonymous[0][0].id, anonymous[1][0].id}


async def test_the_latest_smoke_run_is_kept_in_order(store: Store) -> None:
    def result(url: str, passed: bool, status: int | None = 200) -> SmokeResult:
        return SmokeResult(url, 200, status, passed, "" if passed else "timed out", T0)

    async with store() as uow:
        await uow.smoke.add("checkout@1.0", [result("http://a/", False, None)], at=T0)
        later = [result("http://b/", True), result("http://a/", False, 503)]
        await uow.smoke.add("checkout@1.0", later, at=T0 + H)
        await uow.commit()
    async with store(read_only=True) as uow:
        assert await uow.smoke.latest("checkout@1.0") == later
        assert await uow.smoke.latest("checkout@2.0") == []


async def test_metrics_counts_match_the_hand_counted_data_set(store: Store) -> None:
    await load_data_set(store)
    async with store(read_only=True) as uow:
        tallies = await uow.metrics.tallies(MetricsWindow.last(data.DAYS, T0))
        daily = await uow.metrics.daily(MetricsWindow.last(data.DAYS, T0))
    assert set(tallies) == set(data.TALLIES)
    for service, expected in data.TALLIES.items():
        assert_tally(tallies[service], expected)
    assert tuple(daily) == data.DAILY


async def test_metrics_narrow_to_one_service_and_one_environment(store: Store) -> None:
    await load_data_set(store)
    window = MetricsWindow.last(data.DAYS, T0, service="checkout", environment="staging")
    async with store(read_only=True) as uow:
        tallies = await uow.metrics.tallies(window)
        daily = await uow.metrics.daily(window)
    assert set(tallies) == {"checkout"}
    # The environment narrows deployments only: incidents have none.
    expected = Tally(
        deployments=1,
        succeeded=1,
        changes=1,
        lead_seconds=3600,
        releases_deployed=1,
        incidents_opened=2,
        incidents_attributed=1,
        incidents_resolved=2,
        restore_seconds=146 * 3600,
    )
    assert_tally(tallies["checkout"], expected)
    assert [(d.day, d.status) for d in daily] == [(27, "success")]


async def test_no_events_count_nothing(store: Store) -> None:
    async with store(read_only=True) as uow:
        assert await uow.metrics.tallies(MetricsWindow.last(90, T0)) == {}
        assert list(await uow.metrics.daily(MetricsWindow.last(90, T0))) == []


def assert_tally(found: Tally, expected: Tally) -> None:
    # SQLite does instant arithmetic in floating-point Julian days: good to well under 10 ms.
    assert found.lead_seconds == pytest.approx(expected.lead_seconds, abs=0.01)
    assert found.restore_seconds == pytest.approx(expected.restore_seconds, abs=0.01)
    exact = replace(found, lead_seconds=expected.lead_seconds)
    assert replace(exact, restore_seconds=expected.restore_seconds) == expected
