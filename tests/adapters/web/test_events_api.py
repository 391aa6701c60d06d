"""Deployment and incident events, and the metrics, over the REST API on real HTTP."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from adapters.clock import ManualClock
from bot.domain import State
from tests.support import metrics_data as data
from tests.support.people import ALICE, CHANNEL, NOW
from tests.support.rest import TOKEN, call, store_of
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


async def test_a_late_success_report_does_not_undo_a_rollback(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    await bot.components.bot.handle_text("declare checkout@1.2 class standard", ALICE, CHANNEL)
    await bot.components.bot.handle_text("deploy checkout@1.2", ALICE, CHANNEL)
    for status in ("success", "rolled_back"):
        await call(http, "POST", f"{api}/deployments", json=deployment(status=status))
    audited = len(store_of(bot).data.audit)

    status, late = await call(http, "POST", f"{api}/deployments", json=deployment())

    assert status == 200 and late["release"]["state"] == "rolled_back"
    assert late["notes"] == [
        "This deployment of checkout@1.2 to prod was rolled back; "
        "a report of success does not undo that"
    ]
    [stored] = store_of(bot).data.tables.deployments.values()
    assert stored.status.value == "rolled_back" and len(store_of(bot).data.audit) == audited
    _, report = await call(http, "GET", f"{api}/metrics?service=checkout&days=7")
    rollbacks = report["overall"]["rollback_frequency"]
    assert (rollbacks["numerator"], rollbacks["denominator"]) == (1, 1)


async def test_a_deployment_reported_again_unchanged_is_audited_once_and_a_change_with_before(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    first = deployment(status="failure", commits=[(NOW - 5 * H).isoformat()])
    await call(http, "POST", f"{api}/deployments", json=first)

    status, again = await call(http, "POST", f"{api}/deployments", json=first)
    assert status == 200 and again["title"].endswith("already recorded: failure")
    status, _ = await call(http, "POST", f"{api}/deployments", json=deployment())  # now success

    reported = [e for e in store_of(bot).data.audit if e.action == "deployment_reported"]
    assert [e.detail["new"] for e in reported] == [True, False] and status == 200
    assert reported[1].before is not None and reported[1].after is not None
    assert (reported[1].before["status"], reported[1].after["status"]) == ("failure", "success")
    # The retry without commit times kept the lead time of the first report.
    assert reported[1].after["changes"] == 1


async def test_identical_reports_racing_get_one_201(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    incident = {"service": "checkout", "severity": "sev2", "opened_at": NOW.isoformat()}
    posts = [("deployments", deployment()), ("incidents", {**incident, "key": "PD-1"})]
    for path, body in posts:
        answers = await asyncio.gather(
            *(call(http, "POST", f"{api}/{path}", json=body) for _ in range(6))
        )
        assert sorted(status for status, _ in answers) == [200] * 5 + [201], path
    actions = [e.action for e in store_of(bot).data.audit]
    assert actions == ["deployment_reported", "incident_opened"]


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
        (deployment(version="1" * 3000), "the version is too long (3,000 characters"),
        (deployment(service="s" * 101), "the service name is too long (101 characters"),
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


async def test_an_incident_key_stays_with_its_service_and_a_repeat_is_audited_once(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    incident = {"service": "checkout", "severity": "sev1", "opened_at": NOW.isoformat()}
    incident |= {"release": "checkout@1.2", "key": "PD-1"}
    await call(http, "POST", f"{api}/incidents", json=incident)
    status, again = await call(http, "POST", f"{api}/incidents", json=incident)
    assert status == 200 and again["title"] == "Incident I1 on checkout already recorded (open)"

    moved = {**incident, "service": "payments", "release": None}
    status, answer = await call(http, "POST", f"{api}/incidents", json=moved)

    assert status == 400
    assert answer["error"] == (
        "Incident PD-1 is on checkout, not payments: an incident's key stays with its service"
    )
    [stored] = store_of(bot).data.tables.incidents.values()
    assert (stored.service, stored.release) == ("checkout", "checkout@1.2")
    assert [e.action for e in store_of(bot).data.audit] == ["incident_opened"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"opened_at": "9999-12-31T23:59:00-01:00"}, "out of range"),
        ({"release": "checkout@1.2 extra"}, "may not contain spaces"),
        ({"key": "PD-9\n## forged"}, "must be one line"),
        ({"release": "payments@2.0"}, "payments@2.0 is not a release of checkout"),
        ({"opened_at": "2030-01-01T00:00:00Z"}, "cannot open or be resolved in the future"),
        ({"key": "K" * 3000}, "The key is too long (3,000 characters; the limit is 200)"),
        ({"service": "s" * 101}, "The service name is too long"),
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


async def test_deployments_per_day_are_counted_by_the_calendar_day_they_finished(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    # NOW is 12:00 UTC: one finished this morning, one late last night.
    for version, ago in (("1", H), ("2", 13 * H)):
        finished = NOW - ago
        body = deployment(
            version,
            started_at=(finished - H).isoformat(),
            finished_at=finished.isoformat(),
        )
        await call(http, "POST", f"{api}/deployments", json=body)

    _, report = await call(http, "GET", f"{api}/metrics?days=7")
    # A browser signed in with the token's link (kept cookies, as browsers do for 127.0.0.1).
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        aiohttp.ClientSession(cookie_jar=jar) as browser,
        browser.get(f"{bot.url}/stats?days=7&token={TOKEN}") as page,
    ):
        charts = page_json(await page.text(), "chart-data")

    assert report["daily"] == [
        {"date": "2026-11-25", "status": "success", "count": 1},
        {"date": "2026-11-26", "status": "success", "count": 1},
    ]
    chart = charts["deployments"]
    assert chart["labels"][0] == "2026-11-19" and chart["labels"][-1] == "2026-11-26"
    success = next(d["data"] for d in chart["datasets"] if d["label"] == "success")
    assert success[-2:] == [1, 1]


def page_json(html: str, element_id: str) -> Any:
    """The JSON a page carries in `<script type="application/json" id=…>`."""
    opening = f'<script type="application/json" id="{element_id}">'
    return json.loads(html.split(opening, 1)[1].split("</script>", 1)[0])


@pytest.mark.parametrize(
    "query",
    [
        "days=0",
        "days=400",
        "days=x",
        "days=%C2%B2",
        "days=" + "9" * 5000,
        "service=Not%20A%20Service",
    ],
)
async def test_bad_metrics_queries_get_400(
    bot: RunningBot, http: aiohttp.ClientSession, query: str
) -> None:
    status, body = await call(http, "GET", f"{bot.url}/api/v1/metrics?{query}")
    assert status == 400 and body["error"]
