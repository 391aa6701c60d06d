"""Ports for deployments, incidents, smoke checks and metrics (part of bot/ports.py's set)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from bot.metrics import DayCount, MetricsWindow, Tally
from bot.observe import Deployment, Incident, SmokeCheck, SmokeResult

__all__ = [
    "DeploymentRepository",
    "IncidentRepository",
    "MetricsReader",
    "SmokeProbe",
    "SmokeRepository",
]


class DeploymentRepository(Protocol):
    async def record(self, deployment: Deployment) -> tuple[Deployment, bool]:
        """Insert, or update the one with the same service, environment, version and start;
        the stored deployment (with its id) and whether it is new."""
        ...

    async def of_service(
        self, service: str, *, since: datetime, until: datetime, limit: int = 50
    ) -> Sequence[Deployment]:
        """Deployments of `service` finished in [since, until], newest first."""
        ...

    async def of_release(
        self, service: str, version: str, *, for_update: bool = False
    ) -> Sequence[Deployment]:
        """Every deployment of `service@version`, newest first; `for_update` holds other
        writers of them off until commit."""
        ...


class IncidentRepository(Protocol):
    async def record(self, incident: Incident) -> tuple[Incident, bool]:
        """Insert, or (same `key`) update; the stored incident and whether it is new."""
        ...

    async def by_key(self, key: str, *, for_update: bool = False) -> Incident | None:
        """The incident its reporter knows as `key`; `for_update` holds other writers of it
        off until commit."""
        ...

    async def recent(self, *, since: datetime, limit: int = 50) -> Sequence[Incident]:
        """Incidents opened since `since`, or still unresolved, newest first."""
        ...


class MetricsReader(Protocol):
    """Counts for the metrics, aggregated where the data lives (bot/metrics.py says what)."""

    async def tallies(self, window: MetricsWindow) -> Mapping[str, Tally]:
        """One tally per service with deployments or incidents in the window."""
        ...

    async def daily(self, window: MetricsWindow) -> Sequence[DayCount]:
        """Deployments per day of the window and status."""
        ...


class SmokeRepository(Protocol):
    async def add(self, release: str, results: Sequence[SmokeResult], *, at: datetime) -> None:
        """Keep one run of the release's smoke checks, recorded at `at`."""
        ...

    async def latest(self, release: str) -> Sequence[SmokeResult]:
        """The results of the latest run of the release's smoke checks, in policy order."""
        ...


class SmokeProbe(Protocol):
    """Runs one smoke check over the network; an adapter, since the core does no I/O."""

    async def check(self, check: SmokeCheck) -> SmokeResult: ...
