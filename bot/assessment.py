"""Where a release stands: its sign-offs, gates and any freeze, gathered once for every view."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain import DEPLOYABLE_STATES, ChangeClass, Freeze, Release, State
from bot.gates import Evidence, Readiness, evaluate
from bot.observe import SmokeResult
from bot.policy import Policy
from bot.ports import UnitOfWork
from bot.risks import Outcome, RiskStatus, RiskView, Severity, views
from bot.signoffs import SignOff, missing_roles, shortfall

# Smoke checks run once a release is deployed; before that there is nothing to read.
CHECKED = frozenset({State.DEPLOYED, State.VERIFIED, State.ROLLED_BACK})


@dataclass(frozen=True, slots=True)
class DeployCheck:
    """Whether a deploy may start now: why not (`refused`), or what an emergency goes past."""

    refused: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.refused


@dataclass(frozen=True, slots=True)
class Assessment:
    release: Release
    signoffs: tuple[SignOff, ...]
    readiness: Readiness
    missing: tuple[str, ...]
    freeze: Freeze | None
    risks: tuple[RiskView, ...] = ()
    smoke: tuple[SmokeResult, ...] = ()  # the latest smoke checks, once deployed

    @property
    def ready(self) -> bool:
        """Every required sign-off is in and no gate fails: the release may be approved."""
        return not self.missing and self.readiness.passed

    def signoff_shortfall(self) -> list[str]:
        """Who rejected and why, and which sign-offs are still missing."""
        return shortfall(self.missing, self.signoffs)

    def deploy_blockers(self, *, signoffs: bool = True) -> list[str]:
        """Why a non-emergency deploy must wait, in words; empty when it may go. `signoffs`:
        whether a missing sign-off counts (not once deploying: sign-offs are closed then)."""
        reasons = [f"gate {r.gate} fails: {r.reason}" for r in self.readiness.failing]
        if signoffs:
            reasons.extend(self.signoff_shortfall())
        if self.freeze is not None:
            reasons.append(f"freeze {self.freeze.label} is in force{_because(self.freeze)}")
        return reasons

    def deploy_check(self) -> DeployCheck:
        """What the rule of `deploy` (SPEC §4.1) says, once the state allows a deploy at all:
        the blockers, which an emergency change goes past (owing a retrospective review)."""
        blockers = tuple(self.deploy_blockers())
        if self.release.change_class is ChangeClass.EMERGENCY:
            return DeployCheck(skipped=blockers)
        return DeployCheck(refused=blockers)

    def promotion_check(self) -> DeployCheck:
        """What CI asks before it promotes to production: may this release go out now?

        A release goes out once a person has started its deploy (`deploying`), or, for a
        standard or normal change, when `deploy` would start it now; either way nothing may
        block it at this moment (a blocker decided, a freeze begun since the deploy started) —
        except a sign-off gone stale once deploying (change items reported late), since
        sign-offs are closed then and could never be given again.
        An emergency change goes out only once a person has run `deploy`: that is what opens
        its retrospective review. After that, what it goes past is listed, not refused.
        """
        release = self.release
        emergency = release.change_class is ChangeClass.EMERGENCY
        if release.state is State.DEPLOYING and not emergency:
            return DeployCheck(refused=tuple(self.deploy_blockers(signoffs=False)))
        if release.state is State.DEPLOYING:
            return self.deploy_check()
        if release.state not in DEPLOYABLE_STATES:
            return DeployCheck(refused=(f"{release.name} is {release.state.label}",))
        if emergency:
            why = "goes out once someone runs deploy, which opens its retrospective review"
            return DeployCheck(refused=(f"{release.name} is an emergency change: it {why}",))
        return self.deploy_check()


def _because(freeze: Freeze) -> str:
    return f" ({freeze.reason})" if freeze.reason else ""


async def assess(
    uow: UnitOfWork,
    release: Release,
    policy: Policy,
    now: datetime,
    *,
    accepting: Sequence[int] = (),
) -> Assessment:
    """Where `release` stands; `accepting` names risks to treat as accepted (a dry run)."""
    signoffs = tuple(await uow.signoffs.for_release(release.name))
    risks = await risk_views(uow, release.name, now)
    freezes = await uow.freezes.overlapping(now, now)
    evidence = _evidence(await uow.signals.latest(release.name), risks, accepting)
    return Assessment(
        release=release,
        signoffs=signoffs,
        readiness=evaluate(policy.for_class(release.change_class), evidence),
        missing=tuple(missing_roles(release, policy, signoffs)),
        freeze=next((f for f in freezes if f.covers(now)), None),
        risks=tuple(risks),
        smoke=tuple(await uow.smoke.latest(release.name)) if release.state in CHECKED else (),
    )


async def risk_views(uow: UnitOfWork, release: str, now: datetime) -> list[RiskView]:
    risks = await uow.risks.on_release(release)
    if not risks:
        return []
    return views(risks, await uow.decisions.for_risks([r.id for r in risks]), now)


async def huddle_views(uow: UnitOfWork, release: str, now: datetime) -> list[RiskView]:
    """What a huddle on `release` shows: the risks on it, and those deferred away from it,
    each with that deferral (a huddle that deferred a risk must still say so)."""
    here = await risk_views(uow, release, now)
    present = {view.risk.id for view in here}
    # Oldest first: the latest deferral of each risk wins.
    deferrals = {
        d.risk_id: d
        for d in await uow.decisions.for_release(release)
        if d.outcome is Outcome.DEFER and d.risk_id not in present
    }
    away = [
        RiskView(risk, RiskStatus.DEFERRED, decision)
        for risk_id, decision in deferrals.items()
        if (risk := await uow.risks.get(risk_id)) is not None
    ]
    return sorted([*here, *away], key=lambda view: view.risk.id)


def _evidence(
    signals: Mapping[str, float], risks: list[RiskView], accepting: Sequence[int]
) -> Evidence:
    """Open blockers fail readiness; open critical risks count as criticals."""
    live = [v for v in risks if v.risk.id not in accepting]
    blockers = tuple(v.risk.label for v in live if v.status is RiskStatus.BLOCKER)
    criticals = sum(
        1 for v in live if v.risk.severity is Severity.CRITICAL and v.status is RiskStatus.OPEN
    )
    return Evidence(signals=signals, blocker_risks=blockers, open_critical_risks=criticals)
