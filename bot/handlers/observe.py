"""Deployment and incident events (SPEC §4.6): stored, moving releases, correlated in chat."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot import commands as c
from bot import observe_presenters as present
from bot.domain import (
    SERVICE_PATTERN,
    AuditDraft,
    ConcurrentChange,
    Conversation,
    DomainError,
    Release,
    State,
    in_chat,
)
from bot.handlers.base import Context, audit_draft, finish, handles, save
from bot.observe import (
    Deployment,
    DeployStatus,
    Incident,
    check_commits,
    check_deployment_times,
    check_incident_times,
    lead_time,
)
from bot.outbox import Outgoing
from bot.parser import MAX_NAME_PART_LENGTH, ParseError, release_name
from bot.ports import ReleaseQuery
from bot.reply import Reply

MAX_KEY_LENGTH = 200  # an incident key is the reporter's own id: a ticket or alert number
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
# What a reported deployment does to its release: (target state, states it may leave).
MOVES = {
    DeployStatus.SUCCESS: (State.DEPLOYED, (State.DEPLOYING,)),
    DeployStatus.ROLLED_BACK: (State.ROLLED_BACK, (State.DEPLOYING, State.DEPLOYED)),
}


@handles(c.RecordDeployment)
async def record_deployment(cmd: c.RecordDeployment, ctx: Context) -> Reply:
    status = _status(cmd.status)
    _check_names(cmd.service, cmd.version, cmd.environment)
    check_deployment_times(cmd.started_at, cmd.finished_at, ctx.now)
    release = await ctx.uow.releases.get(f"{cmd.service}@{cmd.version}", for_update=True)
    lead = lead_time(cmd.finished_at, await _commit_times(ctx, cmd))
    reported = Deployment(
        service=cmd.service,
        version=cmd.version,
        environment=cmd.environment,
        status=status,
        started_at=cmd.started_at,
        finished_at=cmd.finished_at,
        changes=lead.changes,
        lead_seconds=lead.seconds,
        release=release.name if release else None,
    )
    earlier = await _same_deployment(ctx, reported)
    deployment, notes = _merged(earlier, reported)
    report = present.Report.REPEATED
    if deployment != earlier:  # a repeat writes nothing: no second audit event
        deployment, created = await ctx.uow.deployments.record(deployment)
        if not created and earlier is None:
            # Another report of it was stored after we looked: merge with that one instead.
            raise ConcurrentChange(f"deployment of {deployment.name} reported twice at once")
        report = present.Report.NEW if created else present.Report.UPDATED
        await ctx.uow.audit.append(_deployment_audit(ctx, deployment, release, earlier))
    notes += await _move_release(ctx, release, deployment)
    return present.deployment_recorded(deployment, report, notes)


async def _same_deployment(ctx: Context, reported: Deployment) -> Deployment | None:
    """The deployment stored with the identity of `reported`, if it was reported before;
    locked, so that a report racing this one (a late retry, a rollback) waits for it."""
    deployments = ctx.uow.deployments
    for earlier in await deployments.of_release(
        reported.service, reported.version, for_update=True
    ):
        if earlier.identity == reported.identity:
            return earlier
    return None


def _merged(earlier: Deployment | None, reported: Deployment) -> tuple[Deployment, list[str]]:
    """What to store of a deployment reported (again), and why it is not all of the report.

    A report without any commit times keeps the lead time an earlier one gave: a retry that
    leaves a field out must not wipe what was known. A rollback is final: a success or failure
    report arriving after it (a late retry) would otherwise take it out of the metrics.
    """
    if earlier is None:
        return reported, []
    release = reported.release or earlier.release
    if earlier.status is DeployStatus.ROLLED_BACK and reported.status is not earlier.status:
        note = (
            f"This deployment of {earlier.name} to {earlier.environment} was rolled back; "
            f"a report of {reported.status.label} does not undo that"
        )
        return replace(earlier, release=release), [note]
    if not reported.changes:
        reported = replace(reported, changes=earlier.changes, lead_seconds=earlier.lead_seconds)
    return replace(reported, release=release, id=earlier.id), []


def _status(value: str) -> DeployStatus:
    try:
        return DeployStatus(value)
    except ValueError:
        raise DomainError("status must be success, failure or rolled_back") from None


def _check_length(text: str, what: str, limit: int) -> None:
    # Longer is no name or id, and PostgreSQL cannot index it.
    if len(text) > limit:
        raise DomainError(
            f"the {what} is too long ({len(text):,} characters; the limit is {limit})"
        )


def _check_release(name: str) -> None:
    """`name` checked as chat and the REST API check a release name (bot.parser)."""
    try:
        release_name(name)
    except ParseError as problem:
        raise DomainError(problem.problem) from None


def _check_names(service: str, version: str, environment: str) -> None:
    _check_length(service, "service name", MAX_NAME_PART_LENGTH)
    _check_length(version, "version", MAX_NAME_PART_LENGTH)
    if not SERVICE_PATTERN.fullmatch(service):
        raise DomainError(f"{service!r} is not a service name")
    if not version or any(ch.isspace() for ch in version):
        raise DomainError("version must be non-empty text without spaces")
    if not TOKEN.fullmatch(environment):
        raise DomainError(f"{environment!r} is not an environment name")


async def _commit_times(ctx: Context, cmd: c.RecordDeployment) -> list[datetime]:
    """The pipeline's commit times, or else the merge times of the release's change items."""
    if cmd.commits is not None:
        commits = [datetime.fromisoformat(text) for text in cmd.commits]
        if any(m.tzinfo is None for m in commits):
            raise DomainError("commit times need a UTC offset")
        check_commits(cmd.finished_at, commits)
        return commits
    items = await ctx.uow.changes.for_release(f"{cmd.service}@{cmd.version}")
    # A change merged after the deployment finished was not in it.
    return [i.merged_at for i in items if i.merged_at and i.merged_at <= cmd.finished_at]


def _deployment_audit(
    ctx: Context, deployment: Deployment, release: Release | None, earlier: Deployment | None
) -> AuditDraft:
    """The audit event of a deployment reported; `earlier` is what was stored, if it was."""
    detail = {
        "deployment": f"{deployment.name} → {deployment.environment}",
        "status": deployment.status.value,
        "started_at": deployment.started_at.isoformat(),
        "finished_at": deployment.finished_at.isoformat(),
        "new": earlier is None,
    }
    before = None if earlier is None else _deployment_values(earlier)
    after = _deployment_values(deployment)
    return audit_draft(
        ctx, "deployment_reported", release, detail=detail, before=before, after=after
    )


def _deployment_values(item: Deployment) -> dict[str, object]:
    """What a report of the same deployment may change, as the audit trail keeps it."""
    return {
        "status": item.status.value,
        "finished_at": item.finished_at.isoformat(),
        "changes": item.changes,
        "lead_seconds": item.lead_seconds,
        "release": item.release,
    }


def _next_state(release: Release | None, deployment: Deployment) -> tuple[State | None, str]:
    """Where the reported deployment takes its release (None: nowhere), and why not if not."""
    move = MOVES.get(deployment.status)
    if release is None or move is None or release.state is move[0]:
        return None, ""
    to, allowed = move
    if release.env and release.env != deployment.environment:
        return None, f"{release.name} is for {release.env}; this deployment does not move it"
    if release.state not in allowed:
        needs = " or ".join(s.label for s in allowed)
        return None, (
            f"{release.name} stays {release.state.label}: only a {needs} release becomes {to.label}"
        )
    return to, f"{release.name} is now {to.label}"


async def _move_release(ctx: Context, release: Release | None, deployment: Deployment) -> list[str]:
    """Move a declared release along its lifecycle when the rules allow it; else only say so."""
    to, note = _next_state(release, deployment)
    if release is None or to is None:
        await ctx.uow.commit()
        return [note] if note else []
    moved = release.changed(at=ctx.now, state=to)
    detail = {"source": "deployment", "environment": deployment.environment}
    if to is State.ROLLED_BACK:
        detail["reason"] = f"deployment to {deployment.environment} reported rolled back"
    await save(ctx, to.value, release, moved, **detail)
    await finish(ctx, moved)
    return [note]


@handles(c.RecordIncident)
async def record_incident(cmd: c.RecordIncident, ctx: Context) -> Reply:
    _check_incident(cmd)
    # Locked: a report of the same incident racing this one waits for it.
    earlier = None if cmd.key is None else await ctx.uow.incidents.by_key(cmd.key, for_update=True)
    if earlier is not None and earlier.service != cmd.service:
        raise DomainError(
            f"incident {cmd.key} is on {earlier.service}, not {cmd.service}: "
            "an incident's key stays with its service"
        )
    # Posted again, an incident keeps what the new report leaves out (its resolution, the
    # release at fault): a retry of the first report must not reopen or unattribute it.
    reported = Incident(
        service=cmd.service,
        severity=cmd.severity,
        opened_at=cmd.opened_at,
        resolved_at=cmd.resolved_at or (earlier.resolved_at if earlier else None),
        release=cmd.release or (earlier.release if earlier else None),
        key=cmd.key,
        id=earlier.id if earlier else 0,
    )
    check_incident_times(reported.opened_at, reported.resolved_at, ctx.now)
    # The release this post names: one stored before the check may not pass it, and must not
    # keep the incident from being resolved.
    _check_attribution(cmd.service, cmd.release)
    if reported == earlier:  # a repeat writes nothing: no second audit event
        return present.incident_recorded(earlier, present.Report.REPEATED)
    incident, created = await ctx.uow.incidents.record(reported)
    if not created and earlier is None:
        # Another report with this key was stored after we looked: merge with that one instead.
        raise ConcurrentChange(f"incident {cmd.key} reported twice at once")
    attributed = await ctx.uow.releases.get(cmd.release) if cmd.release else None
    await ctx.uow.audit.append(_incident_audit(ctx, incident, attributed, earlier))
    if created:
        await _correlate(ctx, incident, attributed)
    await ctx.uow.commit()
    return present.incident_recorded(
        incident, present.Report.NEW if created else present.Report.UPDATED
    )


def _check_incident(cmd: c.RecordIncident) -> None:
    _check_length(cmd.service, "service name", MAX_NAME_PART_LENGTH)
    if cmd.key is not None:
        _check_length(cmd.key, "key", MAX_KEY_LENGTH)
    if cmd.release is not None:
        _check_release(cmd.release)
    if not SERVICE_PATTERN.fullmatch(cmd.service):
        raise DomainError(f"{cmd.service!r} is not a service name")
    if not TOKEN.fullmatch(cmd.severity):
        raise DomainError(f"{cmd.severity!r} is not a severity (e.g. sev1, critical)")
    if cmd.key is not None and not cmd.key.strip():
        raise DomainError("key must not be empty")


def _check_attribution(service: str, release: str | None) -> None:
    """The release at fault must be one of the incident's own service: another service's would
    count in that service's defect leakage, and the incident would be posted in its channel."""
    if release is not None and release.partition("@")[0] != service:
        raise DomainError(f"{release} is not a release of {service}")


def _incident_audit(
    ctx: Context, incident: Incident, release: Release | None, earlier: Incident | None
) -> AuditDraft:
    """The audit event of an incident reported; `earlier` is what was stored, if it was."""
    action = "incident_opened" if earlier is None else "incident_updated"
    detail = {"incident": incident.label, "key": incident.key}
    before = None if earlier is None else _incident_values(earlier)
    after = _incident_values(incident)
    return audit_draft(ctx, action, release, detail=detail | after, before=before, after=after)


def _incident_values(item: Incident) -> dict[str, object]:
    """What a report of the same incident may change, as the audit trail keeps it."""
    return {
        "service": item.service,
        "severity": item.severity,
        "opened_at": item.opened_at.isoformat(),
        "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
        "release": item.release,
    }


async def _correlate(ctx: Context, incident: Incident, attributed: Release | None) -> None:
    """Post, where the release at fault is discussed, what was deployed just before."""
    hours = ctx.policy.observability.correlation_hours
    deployments = await ctx.uow.deployments.of_service(
        incident.service,
        since=incident.opened_at - timedelta(hours=hours),
        until=incident.opened_at,
    )
    where = await _incident_channel(ctx, incident, attributed, deployments)
    if where is None:
        return
    reply = present.correlation(incident, deployments, hours, ctx.policy.zone)
    await ctx.uow.outbox.add(Outgoing(where, reply), at=ctx.now)


async def _incident_channel(
    ctx: Context,
    incident: Incident,
    attributed: Release | None,
    deployments: Sequence[Deployment],  # newest first
) -> Conversation | None:
    """The chat channel of the release the incident names (one of its own service: another's
    is not where this service is discussed), else of the release deployed last before it, else
    of the service's latest declared release."""
    if (
        attributed is not None
        and attributed.service == incident.service
        and in_chat(attributed.channel)
    ):
        return attributed.channel
    for name in dict.fromkeys(d.release for d in deployments if d.release is not None):
        release = await ctx.uow.releases.get(name)
        if release is not None and in_chat(release.channel):
            return release.channel
    return await _service_channel(ctx, incident.service)


async def _service_channel(ctx: Context, service: str) -> Conversation | None:
    """The chat channel of the service's latest declared release (the last one declared)."""
    releases = await ctx.uow.releases.find(ReleaseQuery(service=service, limit=1000))
    chatty = [r for r in releases if in_chat(r.channel)]
    if not chatty:
        return None
    return max(chatty, key=lambda r: r.created_at).channel
