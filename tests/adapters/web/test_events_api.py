"""Deployment and incident events, and the metrics, over the REST API on real HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from adapters.clock import ManualClock
from bot.domain import State
from tests.support import metrics_data as data
from tests.support.people import ALICE, CHANNEL, NOW
from tests.support.rest import call, store_of
from tests.support.server import RunningBot

H = timedelta(hours=1)


def deployment(version: str = "1.2", status: str = "success", **extra: Any) -> dict[str, Any]:
    return {
        "service": "checkout",
        "version": version,
        "environment": "prod",
        "status": status,
        "started_at": (NOW - 2 * H).isoformat(),
        "finished_at": (NOW - H).isoformat(),
        **extra,
    }


async def test_a_deployment_is_recorded_once_and_moves_its_release(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    await bot.components.bot.handle_text("declare checkout@1.2 class standard", ALICE, CHANNEL)
    await bot.components.bot.handle_text("deploy checkout@1.2", ALICE, CHANNEL)
    assert (await call(http, "POST", f"{api}/deployments", json=deployment(), headers=None))[
        0
    ] == 401
    commits = [(NOW - 5 * H).isoformat(), "2026-11-26T08:00:00Z"]
    status, body = await call(http, "POST", f"{api}/deployments", json=deployment(commits=commits))
    assert status == 201 and body["release"] == {"name": "checkout@1.2", "state": "deployed"}
    assert body["notes"] == ["checkout@1.2 is now deployed"]
    status, again = await call(
        http, "POST", f"{api}/deployments", json=deployment("1.2", "rolled_back")
    )
    assert status == 200 and again["release"]["state"] == "rolled_back"
    [stored] = store_of(bot).data.tables.deployments.values()
    # Reported again without commit times: the lead time the first report gave is kept.
    assert stored.status.value == "rolled_back" and stored.changes == 2
    assert store_of(bot).data.releases["checkout@1.2"].state is State.ROLLED_BACK


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({k: v for k, v in deployment().items() if k != "environment"}, "environment is required"),
        (deployment(status="ok"), "status must be success, failure or rolled_back"),
        (deployment(finished_at="yesterday"), "finished_at: "),
        (deployment(finished_at=(NOW - 3 * H).isoformat()), "before started_at"),
        (deployment(finished_at="2030-01-01T00:00:00Z"), "finished_at is in the future"),
        (deployment(commits="abc"), "commits must be a list"),
        (deployment(commits=["soon"]), "commits[0]: 'soon' is not an ISO 8601 instant"),
        (deployment(commits=[NOW.isoformat()]), "after the deployment finished"),
        (deployment(version=12), "version must be a string"),
    ],
)
async def test_bad_deployments_get_400_and_change_nothing(
    bot: RunningBot, http: aiohttp.ClientSession, body: dict[str, Any], problem: str
) -> None:
    status, answer = await call(http, "POST", f"{bot.url}/api/v1/deployments", json=body)
    assert status == 400 and problem.lower() in answer["error"].lower()
    assert not store_of(bot).data.tables.deployments and not store_of(bot).data.audit


async def test_an_incident_is_correlated_then_updated_by_its_key(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    await bot.components.bot.handle_text("declare checkout@1.2 class standard", ALICE, CHANNEL)
    await call(http, "POST", f"{api}/deployments", json=deployment(commits=[]))
    incident = {
        "service": "checkout",
        "severity": "sev1",
        "opened_at": NOW.isoformat(),
        "release": "checkout@1.2",
        "key": "PD-7",
    }
    status, body = await call(http, "POST", f"{api}/incidents", json=incident)
    assert status == 201 and body["incident"]["id"] == "I1"
    assert body["incident"]["resolved_at"] is None
    clock = bot.components.clock
    assert isinstance(clock, ManualClock)
    clock.advance(H)  # it is resolved an hour later
    resolved = {**incident, "resolved_at": (NOW + H).isoformat()}
    status, body = await call(http, "POST", f"{api}/incidents", json=resolved)
    assert status == 200 and body["incident"]["resolved_at"] == "2026-11-26T13:00:00Z"
    [correlation] = [
        q.message for q in store_of(bot).data.outbox if q.message.reply.title.startswith("Incident")
    ]
    assert correlation.conversation == CHANNEL
    assert "checkout@1.2 → prod · success" in correlation.reply.sections[0].lines[0]
    bad = {**incident, "key": "PD-8", "opened_at": "2026-13-01T00:00:00Z"}
    assert (await call(http, "POST", f"{api}/incidents", json=bad))[0] == 400
    # The first report sent again (a retry) neither reopens it nor takes its release away.
    status, body = await call(http, "POST", f"{api}/incidents", json={**incident, "release": None})
    assert status == 200 and body["incident"]["resolved_at"] == "2026-11-26T13:00:00Z"
    assert body["incident"]["release"] == "checkout@1.2"
    [stored] = store_of(bot).data.tables.incidents.values()
    assert (stored.resolved_at, stored.release) == (NOW + H, "checkout@1.2")
    # One posted without a key is answered with the id it was given.
    keyless = {k: v for k, v in incident.items() if k != "key"}
    status, body = await call(http, "POST", f"{api}/incidents", json=keyless)
    assert (
        status == 201 and body["incident"]["id"] == "I2" and body["title"].startswith("Incident I2")
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"opened_at": "9999-12-31T23:59:00-01:00"}, "out of range"),
        ({"release": "checkout@1.2 extra"}, "may not contain spaces"),
        ({"key": "PD-9\n## forged"}, "must be one line"),
        ({"release": "payments@2.0"}, "payments@2.0 is not a release of checkout"),
        ({"opened_at": "2030-01-01T00:00:00Z"}, "cannot open or be resolved in the future"),
    ],
)
async def test_bad_incidents_get_400_and_change_nothing(
    bot: RunningBot, http: aiohttp.ClientSession, change: dict[str, str], problem: str
) -> None:
    incident = {"service": "checkout", "severity": "sev1", "opened_at": NOW.isoformat()}
    body = {**incident, **change}
    status, answer = await call(http, "POST", f"{bot.url}/api/v1/incidents", json=body)
    assert status == 400 and problem in answer["error"], answer
    assert not store_of(bot).data.tables.incidents and not store_of(bot).data.audit


async def test_metrics_over_http_match_the_hand_counted_data_set(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    for item in data.DEPLOYS:
        body = deployment(
            item.version,
            item.status,
            service=item.service,
            environment=item.environment,
            started_at=data.started(item, NOW).isoformat(),
            finished_at=(NOW - item.finished_ago).isoformat(),
            commits=[m.isoformat() for m in data.commit_times(item, NOW)],
        )
        assert (await call(http, "POST", f"{api}/deployments", json=body))[0] in (200, 201)
    for case in data.INCIDENTS:
        item = data.incident(case, NOW)
        body = {"service": item.service, "severity": item.severity}
        body["opened_at"] = item.opened_at.isoformat()
        if item.resolved_at:
            body["resolved_at"] = item.resolved_at.isoformat()
        if item.release:
            body["release"] = item.release
        assert (await call(http, "POST", f"{api}/incidents", json=body))[0] == 201
    status, report = await call(http, "GET", f"{api}/metrics?days=30")
    assert status == 200
    overall = report["overall"]
    assert (
        overall["change_failure_rate"]["numerator"],
        overall["change_failure_rate"]["denominator"],
    ) == (2, 6)
    assert overall["deployment_frequency"]["value"] == pytest.approx(0.2)
    assert overall["lead_time"]["value"] == pytest.approx(3.25)
    assert overall["time_to_restore"]["value"] == pytest.approx(146.5 / 3)
    assert overall["rollback_frequency"]["numerator"] == 1
    assert overall["defect_leakage"]["value"] == pytest.approx(0.5)
    assert set(report["by_service"]) == {"checkout", "payments", "search"}
    assert {"date": "2026-11-06", "status": "success", "count": 1} in report["daily"]
    _, one = await call(http, "GET", f"{api}/metrics?service=search&days=30")
    assert one["overall"]["change_failure_rate"]["value"] is None


@pytest.mark.parametrize(
    "query", ["days=0", "days=400", "days=x", "days=%C2%B2", "service=Not%20A%20Service"]
)
async def test_bad_metrics_queries_get_400(
    bot: RunningBot, http: aiohttp.ClientSession, query: str
) -> None:
    status, body = await call(http, "GET", f"{bot.url}/api/v1/metrics?{query}")
    assert status == 400 and body["error"]
