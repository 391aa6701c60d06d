"""Risks, the decisions taken on them, huddles and change items (SPEC §4.4)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Outcome(StrEnum):
    BLOCKER = "blocker"
    ACCEPT = "accept"
    DEFER = "defer"


class RiskStatus(StrEnum):
    OPEN = "open"
    BLOCKER = "blocker"
    ACCEPTED = "accepted"
    DEFERRED = "deferred"


@dataclass(frozen=True, slots=True)
class Risk:
    id: int
    release: str | None  # where it lives now; None while deferred with no release to go to
    origin: str  # the release it was raised on
    severity: Severity
    description: str
    raised_by: str
    raised_at: datetime

    @property
    def label(self) -> str:
        return f"R{self.id}"


@dataclass(frozen=True, slots=True)
class Decision:
    """A judgement on a risk; never edited — a later one supersedes it, both stay."""

    risk_id: int
    release: str | None
    outcome: Outcome
    rationale: str
    decided_by: str
    decided_name: str
    decided_at: datetime
    expires_at: datetime | None = None


def status(decisions: Sequence[Decision], now: datetime) -> RiskStatus:
    """A risk's standing from its decisions (oldest first): an expired acceptance reopens it."""
    if not decisions:
        return RiskStatus.OPEN
    latest = decisions[-1]
    if latest.outcome is Outcome.BLOCKER:
        return RiskStatus.BLOCKER
    if latest.outcome is Outcome.DEFER:
        return RiskStatus.DEFERRED
    if latest.expires_at is not None and latest.expires_at <= now:
        return RiskStatus.OPEN
    return RiskStatus.ACCEPTED


@dataclass(frozen=True, slots=True)
class RiskView:
    risk: Risk
    status: RiskStatus
    decision: Decision | None


def views(risks: Iterable[Risk], decisions: Iterable[Decision], now: datetime) -> list[RiskView]:
    by_risk: dict[int, list[Decision]] = {}
    for decision in sorted(decisions, key=lambda d: d.decided_at):
        by_risk.setdefault(decision.risk_id, []).append(decision)
    result = []
    for risk in sorted(risks, key=lambda r: r.id):
        # Decisions are about the risk on one release: a deferred risk starts afresh on the next.
        history = [d for d in by_risk.get(risk.id, []) if d.release == risk.release]
        result.append(RiskView(risk, status(history, now), history[-1] if history else None))
    return result


@dataclass(frozen=True, slots=True)
class Huddle:
    id: int
    release: str
    topic: str | None
    opened_by: str
    opened_at: datetime
    conversation_platform: str | None
    conversation_id: str | None
    closed_at: datetime | None = None

    @property
    def label(self) -> str:
        return f"H{self.id}"

    @property
    def subject(self) -> str:
        """The key its posted cards are remembered under."""
        return f"huddle:{self.id}"


@dataclass(frozen=True, slots=True)
class ChangeItem:
    release: str
    title: str
    kind: str
    squad: str | None
    link: str | None
    author: str | None
    merged_at: datetime | None
