"""Deployments, incidents and smoke-check results over SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update

from bot.observe import Deployment, DeployStatus, Incident, SmokeResult
from storage.sql_runner import Runner, insert_for
from storage.tables import deployment, incident, smoke_check

_d, _i, _s = deployment.c, incident.c, smoke_check.c
_IDENTITY = ["service", "environment", "version", "started_at"]
_SAME_DEPLOYMENT = and_(
    _d.service == bindparam("match_service"),
    _d.environment == bindparam("match_environment"),
    _d.version == bindparam("match_version"),
    _d.started_at == bindparam("match_started_at"),
)
_UPDATE_DEPLOYMENT = update(deployment).where(_SAME_DEPLOYMENT).returning(_d.id)
_OF_SERVICE = (
    select(deployment)
    .where(
        _d.service == bindparam("service"),
        _d.finished_at >= bindparam("since"),
        _d.finished_at <= bindparam("until"),
    )
    .order_by(_d.finished_at.desc(), _d.id.desc())
    .limit(bindparam("limit"))
)
_OF_RELEASE = (
    select(deployment)
    .where(_d.service == bindparam("service"), _d.version == bindparam("version"))
    .order_by(_d.finished_at.desc(), _d.id.desc())
)
_LOCK_OF_RELEASE = _OF_RELEASE.with_for_update()
_INSERT_INCIDENT = insert(incident).returning(incident)
_UPDATE_INCIDENT = update(incident).where(_i.key == bindparam("match_key")).returning(incident)
_INCIDENT_BY_KEY = select(incident).where(_i.key == bindparam("key"))
# PostgreSQL locks the rows found (SQLite's writer holds the whole file already).
_LOCK_INCIDENT_BY_KEY = _INCIDENT_BY_KEY.with_for_update()
_RECENT_INCIDENTS = (
    select(incident)
    .where(or_(_i.opened_at >= bindparam("since"), _i.resolved_at.is_(None)))
    .order_by(_i.opened_at.desc(), _i.id.desc())
    .limit(bindparam("limit"))
)
_INSERT_SMOKE = insert(smoke_check)
_LATEST_RUN = select(func.max(_s.run_at)).where(_s.release == bindparam("release"))
_LATEST_SMOKE = (
    select(smoke_check)
    .where(_s.release == bindparam("release"), _s.run_at == _LATEST_RUN.scalar_subquery())
    .order_by(_s.id)
)


def to_deployment(row: Any) -> Deployment:
    return Deployment(
        service=row.service,
        version=row.version,
        environment=row.environment,
        status=DeployStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        changes=row.changes,
        lead_seconds=row.lead_seconds,
        release=row.release,
        id=row.id,
    )


def to_incident(row: Any) -> Incident:
    return Incident(
        service=row.service,
        severity=row.severity,
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        release=row.release,
        key=row.key,
        id=row.id,
    )


class SqlDeployments:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def record(self, item: Deployment) -> tuple[Deployment, bool]:
        values = {
            "status": item.status.value,
            "finished_at": item.finished_at,
            "changes": item.changes,
            "lead_seconds": item.lead_seconds,
            "release": item.release,
        }
        identity = {k: getattr(item, k) for k in _IDENTITY}
        # ON CONFLICT DO NOTHING, then UPDATE: two reports of one deployment racing each other
        # end as one row on both databases, whichever commits first.
        stmt = insert_for(self._db.dialect)(deployment).values(**identity, **values)
        inserted = await self._db.fetch_one(
            stmt.on_conflict_do_nothing(index_elements=_IDENTITY).returning(_d.id)
        )
        if inserted is not None:
            return replace(item, id=inserted.id), True
        match = {f"match_{k}": v for k, v in identity.items()}
        row = await self._db.fetch_one(_UPDATE_DEPLOYMENT.values(**values), match)
        assert row is not None  # the conflicting row exists: we just collided with it
        return replace(item, id=row.id), False

    async def of_service(
        self, service: str, *, since: datetime, until: datetime, limit: int = 50
    ) -> Sequence[Deployment]:
        params = {"service": service, "since": since, "until": until, "limit": limit}
        return [to_deployment(r) for r in await self._db.fetch_all(_OF_SERVICE, params)]

    async def of_release(
        self, service: str, version: str, *, for_update: bool = False
    ) -> Sequence[Deployment]:
        params = {"service": service, "version": version}
        stmt = _LOCK_OF_RELEASE if for_update else _OF_RELEASE
        return [to_deployment(r) for r in await self._db.fetch_all(stmt, params)]


class SqlIncidents:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def record(self, item: Incident) -> tuple[Incident, bool]:
        values = {
            "service": item.service,
            "severity": item.severity,
            "opened_at": item.opened_at,
            "resolved_at": item.resolved_at,
            "release": item.release,
        }
        if item.key is None:
            row = await self._db.fetch_one(_INSERT_INCIDENT.values(key=None, **values))
            assert row is not None
            return to_incident(row), True
        stmt = insert_for(self._db.dialect)(incident).values(key=item.key, **values)
        row = await self._db.fetch_one(
            stmt.on_conflict_do_nothing(index_elements=["key"]).returning(incident)
        )
        if row is not None:
            return to_incident(row), True
        row = await self._db.fetch_one(_UPDATE_INCIDENT.values(**values), {"match_key": item.key})
        assert row is not None
        return to_incident(row), False

    async def by_key(self, key: str, *, for_update: bool = False) -> Incident | None:
        stmt = _LOCK_INCIDENT_BY_KEY if for_update else _INCIDENT_BY_KEY
        row = await self._db.fetch_one(stmt, {"key": key})
        return None if row is None else to_incident(row)

    async def recent(self, *, since: datetime, limit: int = 50) -> Sequence[Incident]:
        rows = await self._db.fetch_all(_RECENT_INCIDENTS, {"since": since, "limit": limit})
        return [to_incident(r) for r in rows]


class SqlSmokeChecks:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def add(self, release: str, results: Sequence[SmokeResult], *, at: datetime) -> None:
        for result in results:
            values = {
                "release": release,
                "run_at": at,
                "url": result.url,
                "expected": result.expected,
                "status": result.status,
                "passed": result.passed,
                "detail": result.detail,
                "checked_at": result.checked_at,
            }
            await self._db.execute(_INSERT_SMOKE, values)

    async def latest(self, release: str) -> Sequence[SmokeResult]:
        rows = await self._db.fetch_all(_LATEST_SMOKE, {"release": release})
        return [
            SmokeResult(r.url, r.expected, r.status, bool(r.passed), r.detail, r.checked_at)
            for r in rows
        ]
