"""Replies about deployments, incidents, smoke checks and metrics. No I/O."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import commands
from bot.metrics import Metric, MetricsReport, format_fraction, format_value
from bot.observe import Deployment, DeployStatus, Incident, SmokeResult
from bot.reply import Action, Fact, Reply, Section, Style, Tone
from bot.when import format_moment

MAX_LISTED = 25
STATUS_MARKS = {
    DeployStatus.SUCCESS: "✓",
    DeployStatus.FAILURE: "✗",
    DeployStatus.ROLLED_BACK: "↩",
}


def metrics_reply(report: MetricsReport, service: str | None, days: int) -> Reply:
    scope = service or "all services"
    lines = tuple(_metric_line(m) for m in report.overall)
    sections = [Section(None, lines)]
    if service is None and len(report.by_service) > 1:
        sections.append(Section("By service", _service_lines(report)))
    return Reply(
        title=f"Metrics for {scope}, last {days} days",
        sections=tuple(sections),
        notes=("Definitions: see README › Metrics.",),
    )


def _metric_line(metric: Metric) -> str:
    return f"{metric.label}: {format_value(metric)} ({format_fraction(metric)})"


def _service_lines(report: MetricsReport) -> tuple[str, ...]:
    lines = []
    for name, metrics in report.by_service[:MAX_LISTED]:
        shown = {m.key: format_value(m) for m in metrics}
        lines.append(
            f"{name}: {shown['deployment_frequency']} deploys · "
            f"failure {shown['change_failure_rate']} · lead {shown['lead_time']} · "
            f"restore {shown['time_to_restore']}"
        )
    return tuple(lines)


def deployment_line(item: Deployment, zone: ZoneInfo, now: datetime | None = None) -> str:
    line = (
        f"{STATUS_MARKS[item.status]} {item.name} → {item.environment} · {item.status.label} · "
        f"finished {format_moment(item.finished_at, zone)}"
    )
    if now is not None:
        line += f" ({_ago(now - item.finished_at)})"
    return line


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min before"
    return f"{minutes // 60} h {minutes % 60:02d} min before"


class Report(enum.Enum):
    """What a reported deployment or incident was to the store; its value is the verb."""

    NEW = "recorded"
    UPDATED = "updated"
    REPEATED = "already recorded"


# The fact naming what the report was: the REST API answers 201 for a new one.
REPORT_FACT = "Report"


def deployment_recorded(item: Deployment, report: Report, notes: Sequence[str]) -> Reply:
    tone = Tone.SUCCESS if item.status is DeployStatus.SUCCESS else Tone.WARNING
    return Reply(
        title=f"Deployment of {item.name} to {item.environment} {report.value}: "
        f"{item.status.label}",
        tone=tone,
        facts=(Fact(REPORT_FACT, report.name.lower()),),
        notes=tuple(notes),
    )


def correlation(
    incident: Incident, deployments: Sequence[Deployment], hours: float, zone: ZoneInfo
) -> Reply:
    """What changed on the service before the incident: the first question anyone asks."""
    window = f"{hours:g} h"
    title = f"Incident on {incident.service} ({incident.severity})"
    if deployments:
        lines = tuple(
            deployment_line(d, zone, incident.opened_at) for d in deployments[:MAX_LISTED]
        )
        section = Section(f"Deployments of {incident.service} in the {window} before", lines)
    else:
        section = Section(None, (f"No deployments of {incident.service} in the {window} before.",))
    return Reply(
        title=title,
        tone=Tone.ERROR,
        facts=_incident_facts(incident, zone),
        sections=(section,),
    )


def _incident_facts(incident: Incident, zone: ZoneInfo) -> tuple[Fact, ...]:
    facts = [Fact("Opened", format_moment(incident.opened_at, zone))]
    if incident.release:
        facts.append(Fact("Attributed to", incident.release))
    if incident.key:
        facts.append(Fact("Reference", incident.key))
    return tuple(facts)


INCIDENT_FACT = "Incident"


def incident_recorded(incident: Incident, report: Report) -> Reply:
    state = "resolved" if incident.resolved_at else "open"
    return Reply(
        title=f"Incident {incident.label} on {incident.service} {report.value} ({state})",
        facts=(Fact(INCIDENT_FACT, incident.label), Fact(REPORT_FACT, report.name.lower())),
    )


def smoke_section(results: Sequence[SmokeResult]) -> Section:
    passed = sum(1 for r in results if r.passed)
    lines = tuple(_smoke_line(r) for r in results)
    return Section(f"Smoke checks {passed}/{len(results)} passed", lines)


def _smoke_line(result: SmokeResult) -> str:
    got = "no answer" if result.status is None else f"HTTP {result.status}"
    mark = "✓" if result.passed else "✗"
    return f"{mark} {result.url}: {got} (expected {result.expected}){_detail(result)}"


def _detail(result: SmokeResult) -> str:
    return f" — {result.detail}" if result.detail and not result.passed else ""


def smoke_actions(release: str) -> tuple[Action, ...]:
    """What people do next when a fresh release fails its checks."""
    rollback = commands.Rollback(release=release, reason="")
    huddle = commands.Huddle(release=release, topic="Smoke checks failed")
    return (
        Action(
            "Roll back",
            commands.dump(rollback),
            Style.DANGER,
            asks_for="reason",
            prompt=f"Why roll back {release}?",
        ),
        Action("Open huddle", commands.dump(huddle), Style.PRIMARY),
    )


def smoke_report(release: str, results: Sequence[SmokeResult]) -> Reply:
    failed = any(not r.passed for r in results)
    verdict = "failed" if failed else "passed"
    return Reply(
        title=f"Smoke checks of {release} {verdict}",
        tone=Tone.ERROR if failed else Tone.SUCCESS,
        sections=(smoke_section(results),),
        actions=smoke_actions(release) if failed else (),
    )
