"""Deployments, incidents, smoke results and metrics as the JSON the REST API promises."""

from __future__ import annotations

from typing import Any

from adapters.web.serialize import moment
from bot.metrics import Metric, MetricsReport
from bot.observe import Deployment, Incident, SmokeResult


def deployment(item: Deployment) -> dict[str, Any]:
    return {
        "service": item.service,
        "version": item.version,
        "environment": item.environment,
        "status": item.status.value,
        "started_at": moment(item.started_at),
        "finished_at": moment(item.finished_at),
        "changes": item.changes,
        "lead_time_hours": round(item.lead_seconds / item.changes / 3600, 3)
        if item.changes
        else None,
        "release": item.release,
    }


def incident(item: Incident) -> dict[str, Any]:
    return {
        "id": item.label if item.id else None,
        "service": item.service,
        "severity": item.severity,
        "opened_at": moment(item.opened_at),
        "resolved_at": moment(item.resolved_at),
        "release": item.release,
        "key": item.key,
    }


def smoke_result(item: SmokeResult) -> dict[str, Any]:
    return {
        "url": item.url,
        "expected": item.expected,
        "status": item.status,
        "passed": item.passed,
        "detail": item.detail,
        "checked_at": moment(item.checked_at),
    }


def metric(item: Metric) -> dict[str, Any]:
    return {
        "label": item.label,
        "value": item.value,
        "numerator": item.numerator,
        "denominator": item.denominator,
        "unit": item.unit,
        "numerator_label": item.numerator_label,
        "denominator_label": item.denominator_label,
    }


def metrics_report(report: MetricsReport) -> dict[str, Any]:
    window = report.window
    return {
        "window": {
            "since": moment(window.since),
            "until": moment(window.until),
            "days": window.days,
            "service": window.service,
            "environment": window.environment,
        },
        "overall": {m.key: metric(m) for m in report.overall},
        "by_service": {
            name: {m.key: metric(m) for m in metrics} for name, metrics in report.by_service
        },
        "daily": [
            {"date": report.day_label(d.day).isoformat(), "status": d.status, "count": d.count}
            for d in report.daily
        ],
    }
