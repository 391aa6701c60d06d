"""Readiness gates: pure functions of the latest signals and open risks that explain themselves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.policy import ClassPolicy


@dataclass(frozen=True, slots=True)
class GateResult:
    gate: str
    passed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Readiness:
    results: tuple[GateResult, ...]
    index: int

    @property
    def failing(self) -> tuple[GateResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def passed(self) -> bool:
        return not self.failing


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the gates look at: the latest value of each signal and the open risks."""

    signals: Mapping[str, float]
    # Labels (R1, R2…) of the risks whose latest decision is `blocker`.
    blocker_risks: tuple[str, ...] = ()
    open_critical_risks: int = 0


@dataclass(frozen=True, slots=True)
class SignalDomain:
    """The values one known signal can take; anything else is a typo or a broken CI job."""

    wording: str  # finishes "coverage must be …"
    whole: bool = False
    high: float | None = None  # every domain starts at 0

    def admits(self, value: float) -> bool:
        if value < 0 or (self.high is not None and value > self.high):
            return False
        return not self.whole or value.is_integer()


COUNT = SignalDomain("a whole number ≥ 0", whole=True)
PERCENT = SignalDomain("a percentage from 0 to 100", high=100)

# Every signal a gate reads, in one place, so that recording one can refuse a value the gate
# would misread (a negative count would cancel out open risks). Other keys are kept as sent.
SIGNALS: Mapping[str, SignalDomain] = {
    "coverage": PERCENT,
    "deploy_success": PERCENT,
    "open_blockers": COUNT,
    "open_criticals": COUNT,
}


def signal_problem(key: str, value: float, typed: str) -> str | None:
    """Why `value` (written `typed`) cannot be a `key` signal, or None when it can."""
    domain = SIGNALS.get(key)
    if domain is None or domain.admits(value):
        return None
    return f"{key} must be {domain.wording}, not {typed}"


# An open blocker risk fails readiness whatever gates the class names and however high its
# `max_open_blockers` (SPEC §4.1, §4.4); where that gate already fails, it says enough.
BLOCKER_RISKS = "blocker_risks"


def evaluate(rules: ClassPolicy, evidence: Evidence) -> Readiness:
    results = tuple(GATES[gate](threshold, evidence) for gate, threshold in rules.gates.items())
    if evidence.blocker_risks and not any(
        r.gate == "max_open_blockers" and not r.passed for r in results
    ):
        results += (_blocker_risks(evidence.blocker_risks),)
    return Readiness(results, _index(results, rules.weights))


def _blocker_risks(labels: tuple[str, ...]) -> GateResult:
    """Only ever failing: shown when a blocker risk is open, and absent when none is."""
    if len(labels) == 1:
        return GateResult(BLOCKER_RISKS, False, f"blocker risk {labels[0]} is open")
    return GateResult(BLOCKER_RISKS, False, f"blocker risks {', '.join(labels)} are open")


def _index(results: tuple[GateResult, ...], weights: Mapping[str, float]) -> int:
    if not results:
        return 100
    total = sum(weights.get(r.gate, 1.0) for r in results)
    passing = sum(weights.get(r.gate, 1.0) for r in results if r.passed)
    return round(100 * passing / total) if total else 100


def _at_least(gate: str, signal: str, threshold: float, evidence: Evidence) -> GateResult:
    """A gate over the latest value of one signal, which must have arrived."""
    value = evidence.signals.get(signal)
    if value is None:
        return GateResult(gate, False, f"no {signal} signal yet (needs ≥ {threshold:g})")
    if value < threshold:
        return GateResult(gate, False, f"{signal} {value:g} < {threshold:g}")
    return GateResult(gate, True, f"{signal} {value:g} ≥ {threshold:g}")


def _min_coverage(threshold: float, evidence: Evidence) -> GateResult:
    return _at_least("min_coverage", "coverage", threshold, evidence)


def _min_deploy_success(threshold: float, evidence: Evidence) -> GateResult:
    # CI reports how its deployments of this release went (e.g. to staging), in percent.
    return _at_least("min_deploy_success", "deploy_success", threshold, evidence)


def _at_most(gate: str, label: str, count: int, threshold: float) -> GateResult:
    passed = count <= threshold
    return GateResult(gate, passed, f"{label} {count} {'≤' if passed else '>'} {threshold:g}")


def _max_open_blockers(threshold: float, evidence: Evidence) -> GateResult:
    count = int(evidence.signals.get("open_blockers", 0)) + len(evidence.blocker_risks)
    return _at_most("max_open_blockers", "open blockers", count, threshold)


def _max_open_criticals(threshold: float, evidence: Evidence) -> GateResult:
    count = int(evidence.signals.get("open_criticals", 0)) + evidence.open_critical_risks
    return _at_most("max_open_criticals", "open criticals", count, threshold)


GATES = {
    "min_coverage": _min_coverage,
    "min_deploy_success": _min_deploy_success,
    "max_open_blockers": _max_open_blockers,
    "max_open_criticals": _max_open_criticals,
}
