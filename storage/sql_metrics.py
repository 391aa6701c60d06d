"""The metrics' counts, aggregated in the database (bot/metrics.py defines what is counted).

Two grouped scans, one per table, each bounded by an index on the time column; the core takes
the ratios. Only the arithmetic on instants differs between the two databases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    extract,
    func,
    literal_column,
    or_,
    select,
)

from bot.metrics import DayCount, MetricsWindow, Tally
from storage.sql_runner import Runner
from storage.tables import deployment, incident

_d, _i = deployment.c, incident.c
_SINCE: BindParameter[Any] = bindparam("since")
_UNTIL: BindParameter[Any] = bindparam("until")
# 1970-01-01 as a Julian day: SQLite's way from a stored instant to seconds since the epoch.
_UNIX_EPOCH_JULIAN_DAY = 2440587.5


def epoch_seconds(column: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return extract("epoch", column)
    return (func.julianday(column) - _UNIX_EPOCH_JULIAN_DAY) * 86400.0


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _sum_if(condition: ColumnElement[bool], value: Any) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, value), else_=0.0)), 0.0)


def _narrowed(stmt: Select[Any], columns: Any, window: MetricsWindow) -> Select[Any]:
    if window.service is not None:
        stmt = stmt.where(columns.service == bindparam("service"))
    return stmt


def deployments_by_service(window: MetricsWindow) -> Select[Any]:
    success = _d.status == "success"
    reached = _d.status.in_(("success", "rolled_back"))
    stmt = select(
        _d.service,
        func.count().label("deployments"),
        _count_if(_d.status == "failure").label("failed"),
        _count_if(_d.status == "rolled_back").label("rolled_back"),
        _count_if(success).label("succeeded"),
        func.coalesce(func.sum(case((success, _d.changes), else_=0)), 0).label("changes"),
        _sum_if(success, _d.lead_seconds).label("lead_seconds"),
        func.count(func.distinct(case((reached, _d.version)))).label("releases_deployed"),
    ).where(_d.finished_at >= _SINCE, _d.finished_at <= _UNTIL)
    if window.environment is not None:
        stmt = stmt.where(_d.environment == bindparam("environment"))
    return _narrowed(stmt, _d, window).group_by(_d.service)


def incidents_by_service(window: MetricsWindow, dialect: str) -> Select[Any]:
    opened = and_(_i.opened_at >= _SINCE, _i.opened_at <= _UNTIL)
    resolved = and_(_i.resolved_at >= _SINCE, _i.resolved_at <= _UNTIL)
    restore = epoch_seconds(_i.resolved_at, dialect) - epoch_seconds(_i.opened_at, dialect)
    stmt = select(
        _i.service,
        _count_if(opened).label("opened"),
        _count_if(and_(opened, _i.release.is_not(None))).label("attributed"),
        _count_if(resolved).label("resolved"),
        _sum_if(resolved, restore).label("restore_seconds"),
    ).where(or_(opened, resolved))
    return _narrowed(stmt, _i, window).group_by(_i.service)


def deployments_by_day(window: MetricsWindow, dialect: str) -> Select[Any]:
    offset = epoch_seconds(_d.finished_at, dialect) - bindparam("since_epoch", type_=Float)
    days = offset / 86400.0
    # floor on PostgreSQL (a cast would round); SQLite's cast truncates, the same for days ≥ 0.
    bucket = func.floor(days) if dialect == "postgresql" else cast(days, Integer)
    stmt = select(bucket.label("bucket"), _d.status, func.count().label("n")).where(
        _d.finished_at >= _SINCE, _d.finished_at <= _UNTIL
    )
    if window.environment is not None:
        stmt = stmt.where(_d.environment == bindparam("environment"))
    return _narrowed(stmt, _d, window).group_by(literal_column("bucket"), _d.status)


def _params(window: MetricsWindow) -> dict[str, Any]:
    params: dict[str, Any] = {"since": window.since, "until": window.until}
    if window.service is not None:
        params["service"] = window.service
    if window.environment is not None:
        params["environment"] = window.environment
    return params


class SqlMetrics:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def tallies(self, window: MetricsWindow) -> Mapping[str, Tally]:
        params = _params(window)
        found: dict[str, dict[str, Any]] = {}
        for row in await self._db.fetch_all(deployments_by_service(window), params):
            found[row.service] = _deployment_counts(row)
        stmt = incidents_by_service(window, self._db.dialect)
        for row in await self._db.fetch_all(stmt, params):
            found.setdefault(row.service, {}).update(_incident_counts(row))
        return {service: Tally(**counts) for service, counts in found.items()}

    async def daily(self, window: MetricsWindow) -> Sequence[DayCount]:
        params = {**_params(window), "since_epoch": window.first_midnight.timestamp()}
        rows = await self._db.fetch_all(deployments_by_day(window, self._db.dialect), params)
        found = [DayCount(int(r.bucket), r.status, int(r.n)) for r in rows]
        return sorted(found, key=lambda c: (c.day, c.status))


def _deployment_counts(row: Any) -> dict[str, Any]:
    return {
        "deployments": int(row.deployments),
        "failed": int(row.failed),
        "rolled_back": int(row.rolled_back),
        "succeeded": int(row.succeeded),
        "changes": int(row.changes),
        "lead_seconds": float(row.lead_seconds),
        "releases_deployed": int(row.releases_deployed),
    }


def _incident_counts(row: Any) -> dict[str, Any]:
    return {
        "incidents_opened": int(row.opened),
        "incidents_attributed": int(row.attributed),
        "incidents_resolved": int(row.resolved),
        "restore_seconds": float(row.restore_seconds),
    }
