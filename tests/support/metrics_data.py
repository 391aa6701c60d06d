"""A small, hand-counted set of deployments and incidents, and what the metrics must say of it.

Times are relative to `now`; the window is the 30 days before it. Every event sits an hour
off a day boundary so that day buckets never depend on rounding. The counts below were worked
out by hand from the table, not by running the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import commands as c
from bot.metrics import DayCount, Tally
from bot.observe import Deployment, DeployStatus, Incident, lead_time

DAYS = 30
H = timedelta(hours=1)
D = timedelta(days=1)


@dataclass(frozen=True)
class Deploy:
    service: str
    version: str
    environment: str
    status: str
    finished_ago: timedelta  # before now
    commits_before: tuple[float, ...]  # hours before `finished`, one per commit


DEPLOYS = (
    Deploy("checkout", "1.0", "prod", "success", 20 * D - H, (4, 6)),  # lead 10 h over 2
    Deploy("checkout", "1.1", "prod", "failure", 10 * D - H, (1,)),  # lead not counted
    # Reported as success, then again as rolled_back: one deployment, one rollback.
    Deploy("checkout", "1.2", "prod", "success", 5 * D - H, (1, 2, 3)),
    Deploy("checkout", "1.2", "prod", "rolled_back", 5 * D - H, (1, 2, 3)),
    Deploy("checkout", "1.3", "staging", "success", 3 * D - H, (1,)),  # lead 1 h
    Deploy("checkout", "1.3", "prod", "success", 2 * D - H, (2,)),  # lead 2 h
    Deploy("checkout", "0.9", "prod", "success", 40 * D - H, (20,) * 5),  # before the window
    Deploy("payments", "2.0", "prod", "success", 1 * D - H, ()),  # no commits known
)


@dataclass(frozen=True)
class Case:
    service: str
    severity: str
    opened_ago: timedelta
    resolved_ago: timedelta | None
    release: str | None


INCIDENTS = (
    Case("checkout", "sev2", 5 * D - 2 * H, 5 * D - 4 * H, "checkout@1.2"),  # 2 h to restore
    Case("checkout", "sev1", 1 * D - H, None, None),  # still open: no time to restore
    Case("checkout", "sev3", 35 * D, 29 * D, None),  # opened before, resolved inside: 144 h
    Case("search", "sev2", 3 * D - H, 3 * D - H - H / 2, "search@7"),  # 0.5 h
    Case("payments", "sev2", 40 * D, 39 * D, "payments@1.0"),  # wholly before the window
)

CHECKOUT = Tally(
    deployments=5,  # 1.0, 1.1, 1.2 (once), 1.3 staging, 1.3 prod
    failed=1,
    rolled_back=1,
    succeeded=3,
    changes=4,  # 2 + 1 + 1
    lead_seconds=13 * 3600,  # 10 h + 1 h + 2 h
    releases_deployed=3,  # versions 1.0, 1.2, 1.3 reached an environment
    incidents_opened=2,
    incidents_attributed=1,
    incidents_resolved=2,
    restore_seconds=146 * 3600,
)
PAYMENTS = Tally(deployments=1, succeeded=1, releases_deployed=1)
SEARCH = Tally(
    incidents_opened=1, incidents_attributed=1, incidents_resolved=1, restore_seconds=1800
)
TALLIES = {"checkout": CHECKOUT, "payments": PAYMENTS, "search": SEARCH}
# Day 0 is the first 24 h of the window.
DAILY = (
    DayCount(10, "success", 1),
    DayCount(20, "failure", 1),
    DayCount(25, "rolled_back", 1),
    DayCount(27, "success", 1),
    DayCount(28, "success", 1),
    DayCount(29, "success", 1),
)


def started(item: Deploy, now: datetime) -> datetime:
    return now - item.finished_ago - 10 * timedelta(minutes=1)


def commit_times(item: Deploy, now: datetime) -> list[datetime]:
    finished = now - item.finished_ago
    return [finished - timedelta(hours=h) for h in item.commits_before]


def deployment(item: Deploy, now: datetime) -> Deployment:
    finished = now - item.finished_ago
    lead = lead_time(finished, commit_times(item, now))
    return Deployment(
        item.service,
        item.version,
        item.environment,
        DeployStatus(item.status),
        started(item, now),
        finished,
        lead.changes,
        lead.seconds,
    )


def deploy_command(item: Deploy, now: datetime) -> c.RecordDeployment:
    return c.RecordDeployment(
        service=item.service,
        version=item.version,
        environment=item.environment,
        status=item.status,
        started_at=started(item, now),
        finished_at=now - item.finished_ago,
        commits=tuple(m.isoformat() for m in commit_times(item, now)),
    )


def incident(case: Case, now: datetime) -> Incident:
    resolved = now - case.resolved_ago if case.resolved_ago is not None else None
    return Incident(case.service, case.severity, now - case.opened_ago, resolved, case.release)


def incident_command(case: Case, now: datetime) -> c.RecordIncident:
    item = incident(case, now)
    return c.RecordIncident(
        service=item.service,
        severity=item.severity,
        opened_at=item.opened_at,
        resolved_at=item.resolved_at,
        release=item.release,
    )
