"""Domain objects as the JSON the REST API promises."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.assessment import Assessment
from bot.domain import AuditEvent, Release
from bot.gates import GateResult
from bot.risks import Risk
from bot.signoffs import SignOff


def moment(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def release(item: Release) -> dict[str, Any]:
    return {
        "name": item.name,
        "service": item.service,
        "version": item.version,
        "state": item.state.value,
        "class": item.change_class.value,
        "scheduled_at": moment(item.scheduled_at),
        "train": item.train,
        "env": item.env,
        "owner": item.owner,
        "created_at": moment(item.created_at),
        "updated_at": moment(item.updated_at),
        "review_due_at": moment(item.review_due_at),
        "reviewed_by": item.reviewed_by,
    }


def risk(item: Risk) -> dict[str, Any]:
    return {
        "id": item.label,
        "release": item.release,
        "origin": item.origin,
        "severity": item.severity.value,
        "description": item.description,
        "raised_by": item.raised_by,
        "raised_at": moment(item.raised_at),
    }


def signoff(item: SignOff) -> dict[str, Any]:
    return {
        "role": item.role,
        "by": item.principal,
        "name": item.display_name,
        "verdict": item.verdict.value,
        "at": moment(item.at),
        "note": item.note,
        "stale": item.stale,
    }


def gate(result: GateResult) -> dict[str, Any]:
    return {"gate": result.gate, "pass": result.passed, "reason": result.reason}


def gate_verdict(assessment: Assessment) -> dict[str, Any]:
    """The CI gate: may this release go out to production now? See
    `Assessment.promotion_check` for the rule; `reasons` says why not in `deploy`'s words and
    `skipped` what an emergency change being deployed goes past."""
    readiness = assessment.readiness
    check = assessment.promotion_check()
    return {
        "release": assessment.release.name,
        "pass": check.allowed,
        "state": assessment.release.state.value,
        "readiness_index": readiness.index,
        "gates": [gate(r) for r in readiness.results],
        "failing": [gate(r) for r in readiness.failing],
        "missing_signoffs": list(assessment.missing),
        "reasons": list(check.refused),
        "skipped": list(check.skipped),
    }


def release_detail(assessment: Assessment) -> dict[str, Any]:
    return {
        **release(assessment.release),
        "signoffs": [signoff(s) for s in assessment.signoffs],
        "readiness_index": assessment.readiness.index,
        "gates": [gate(r) for r in assessment.readiness.results],
        "missing_signoffs": list(assessment.missing),
    }


AUDIT_COLUMNS = (
    "seq",
    "at",
    "action",
    "actor",
    "surface",
    "release",
    "before",
    "after",
    "detail",
    "prev_hash",
    "hash",
)


def audit_event(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": moment(event.at),
        "action": event.action,
        "actor": event.actor,
        "surface": event.surface,
        "release": event.release,
        "before": event.before,
        "after": event.after,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def audit_csv(events: Sequence[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    for event in events:
        row = audit_event(event)
        writer.writerow(
            json.dumps(row[c], sort_keys=True) if isinstance(row[c], dict) else row[c]
            for c in AUDIT_COLUMNS
        )
    return out.getvalue()
