"""The in-memory twins of the deployment, incident, smoke-check and metrics repositories.

MemoryMetrics counts in Python exactly what storage/sql_metrics.py counts in SQL; the contract
tests hold the two to the same answers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bot.metrics import DayCount, MetricsWindow, Tally
from bot.observe import Deployment, DeployStatus, Incident, SmokeResult
from storage.memory_tables import Tables

REACHED = (DeployStatus.SUCCESS, DeployStatus.ROLLED_BACK)


def _newest_first(items: Iterable[Deployment]) -> list[Deployment]:
    return sorted(items, key=lambda d: (d.finished_at, d.id), reverse=True)


class MemoryDeployments:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def record(self, item: Deployment) -> tuple[Deployment, bool]:
        same = [d for d in self._tables.deployments.values() if d.identity == item.identity]
        created = not same
        stored = replace(item, id=same[0].id if same else self._tables.next_id("deployment"))
        self._tables.deployments[stored.id] = stored
        return stored, created

    async def of_service(
        self, service: str, *, since: datetime, until: datetime, limit: int = 50
    ) -> Sequence[Deployment]:
        found = (
            d
            for d in self._tables.deployments.values()
            if d.service == service and since <= d.finished_at <= until
        )
        return _newest_first(found)[:limit]

    async def of_release(
        self, service: str, version: str, *, for_update: bool = False
    ) -> Sequence[Deployment]:
        found = (
            d
            for d in self._tables.deployments.values()
            if d.service == service and d.version == version
        )
        return _newest_first(found)


class MemoryIncidents:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def record(self, item: Incident) -> tuple[Incident, bool]:
        same = [
            i for i in self._tables.incidents.values() if item.key is not None and i.key == item.key
        ]
        created = not same
        stored = replace(item, id=same[0].id if same else self._tables.next_id("incident"))
        self._tables.incidents[stored.id] = stored
        return stored, created

    async def by_key(self, key: str, *, for_update: bool = False) -> Incident | None:
        return next((i for i in self._tables.incidents.values() if i.key == key), None)

    async def recent(self, *, since: datetime, limit: int = 50) -> Sequence[Incident]:
        found = [
            i
            for i in self._tables.incidents.values()
            if i.opened_at >= since or i.resolved_at is None
        ]
        return sorted(found, key=lambda i: (i.opened_at, i.id), reverse=True)[:limit]


class MemorySmokeChecks:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, release: str, results: Sequence[SmokeResult], *, at: datetime) -> None:
        self._tables.smoke.extend((release, at, result) for result in results)

    async def latest(self, release: str) -> Sequence[SmokeResult]:
        runs = [(at, result) for name, at, result in self._tables.smoke if name == release]
        if not runs:
            return []
        last = max(at for at, _ in runs)
        return [result for at, result in runs if at == last]


class MemoryMetrics:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def _deployments(self, window: MetricsWindow) -> list[Deployment]:
        return [
            d
            for d in self._tables.deployments.values()
            if window.since <= d.finished_at <= window.until
            and window.service in (None, d.service)
            and window.environment in (None, d.environment)
        ]

    async def tallies(self, window: MetricsWindow) -> Mapping[str, Tally]:
        found: dict[str, Tally] = defaultdict(Tally)
        by_service: dict[str, list[Deployment]] = defaultdict(list)
        for item in self._deployments(window):
            by_service[item.service].append(item)
        for service, items in by_service.items():
            found[service] += _deployment_tally(items)
        for incident in self._tables.incidents.values():
            if window.service in (None, incident.service):
                found[incident.service] += _incident_tally(incident, window)
        return {service: tally for service, tally in found.items() if tally != Tally()}

    async def daily(self, window: MetricsWindow) -> Sequence[DayCount]:
        counts: dict[tuple[int, str], int] = defaultdict(int)
        for item in self._deployments(window):
            day = int((item.finished_at - window.first_midnight).total_seconds() // 86400)
            counts[(day, item.status.value)] += 1
        return [DayCount(day, status, n) for (day, status), n in sorted(counts.items())]


def _deployment_tally(items: list[Deployment]) -> Tally:
    succeeded = [d for d in items if d.status is DeployStatus.SUCCESS]
    return Tally(
        deployments=len(items),
        failed=sum(1 for d in items if d.status is DeployStatus.FAILURE),
        rolled_back=sum(1 for d in items if d.status is DeployStatus.ROLLED_BACK),
        succeeded=len(succeeded),
        changes=sum(d.changes for d in succeeded),
        lead_seconds=sum(d.lead_seconds for d in succeeded),
        releases_deployed=len({d.version for d in items if d.status in REACHED}),
    )


def _incident_tally(item: Incident, window: MetricsWindow) -> Tally:
    opened = window.since <= item.opened_at <= window.until
    resolved = item.resolved_at is not None and window.since <= item.resolved_at <= window.until
    restore = (item.resolved_at - item.opened_at).total_seconds() if item.resolved_at else 0.0
    return Tally(
        incidents_opened=int(opened),
        incidents_attributed=int(opened and item.release is not None),
        incidents_resolved=int(resolved),
        restore_seconds=restore if resolved else 0.0,
    )
