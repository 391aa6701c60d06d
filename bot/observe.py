"""Deployments, incidents and smoke checks (SPEC §4.6): the events that tell how releases land.

Plain data and the few rules that belong to it. How they are counted into metrics is in
bot/metrics.py; how they are stored is the store's business.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain import DomainError


class DeployStatus(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    ROLLED_BACK = "rolled_back"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Deployment:
    """One deployment of `service@version` to an environment, as a pipeline reported it.

    A deployment is known by its service, environment, version and start: reporting it again
    (a retry, or a later `rolled_back`) updates it, so it is counted once.
    """

    service: str
    version: str
    environment: str
    status: DeployStatus
    started_at: datetime
    finished_at: datetime
    # Lead time, kept as the sum over its changes so metrics can sum it again in the database.
    changes: int = 0
    lead_seconds: float = 0.0
    # The declared release it deployed, when there was one.
    release: str | None = None
    id: int = 0

    @property
    def name(self) -> str:
        return f"{self.service}@{self.version}"

    @property
    def identity(self) -> tuple[str, str, str, datetime]:
        """What tells one deployment from another: a report with the same is the same one."""
        return (self.service, self.version, self.environment, self.started_at)


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident on a service; `key` is the reporter's own id, so updates find it again."""

    service: str
    severity: str
    opened_at: datetime
    resolved_at: datetime | None = None
    release: str | None = None
    key: str | None = None
    id: int = 0

    @property
    def label(self) -> str:
        return f"I{self.id}"


@dataclass(frozen=True, slots=True)
class SmokeCheck:
    """A post-release check from the policy: GET `url`, expect `expect_status` in time."""

    url: str
    expect_status: int = 200
    timeout_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class SmokeResult:
    url: str
    expected: int
    status: int | None  # None when no answer came (timeout, refused connection)
    passed: bool
    detail: str
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class LeadTime:
    changes: int
    seconds: float


def lead_time(finished_at: datetime, commits: Iterable[datetime]) -> LeadTime:
    """Commit-to-deploy time summed over the changes a deployment shipped."""
    moments = list(commits)
    return LeadTime(len(moments), sum((finished_at - m).total_seconds() for m in moments))


# How far ahead of our clock a reporter's clock may run before its times are taken as wrong.
CLOCK_SKEW = timedelta(minutes=5)


def check_deployment_times(started_at: datetime, finished_at: datetime, now: datetime) -> None:
    """A deployment is reported once it has finished: one that finishes later is a mistake,
    and would count in the metrics of days still to come."""
    if finished_at < started_at:
        raise DomainError("finished_at is before started_at")
    if finished_at > now + CLOCK_SKEW:
        raise DomainError("finished_at is in the future: report a deployment once it is over")


def check_incident_times(opened_at: datetime, resolved_at: datetime | None, now: datetime) -> None:
    if resolved_at is not None and resolved_at < opened_at:
        raise DomainError("resolved_at is before opened_at")
    if opened_at > now + CLOCK_SKEW or (resolved_at is not None and resolved_at > now + CLOCK_SKEW):
        raise DomainError("an incident cannot open or be resolved in the future")


def check_commits(finished_at: datetime, commits: Iterable[datetime]) -> None:
    """A commit cannot be deployed before it was made: a later one is a reporting mistake."""
    late = [m for m in commits if m > finished_at]
    if late:
        raise DomainError(f"commit at {late[0].isoformat()} is after the deployment finished")
