"""DORA and release metrics, each with the numerator and denominator it comes from.

The store only counts and sums (a `Tally` per service, aggregated in the database); every
ratio is taken here, once, so the chat reply, the REST API and the dashboard agree.

The window is [since, until] with until = now and since = now − days. What each metric counts:

- deployment frequency = deployments finished in the window / days in the window.
  A deployment is one (service, environment, version, start): reported twice, it counts once.
- lead time for change = Σ (deployment finished − commit time) / number of commits,
  over successful deployments finished in the window; in hours.
- change failure rate = deployments whose status is failure or rolled_back / deployments.
- time to restore = Σ (resolved − opened) / incidents, over incidents resolved in the window;
  in hours. Incidents not yet resolved do not count.
- rollback frequency = deployments whose status is rolled_back / deployments.
- defect leakage = incidents opened in the window attributed to a release / releases deployed,
  where a release is deployed when a deployment of its version finished in the window with
  status success or rolled_back (it reached the environment); counted once per version.

A metric whose denominator is zero has no value (shown as "n/a"), never a made-up zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class MetricsWindow:
    since: datetime
    until: datetime
    service: str | None = None
    environment: str | None = None

    @classmethod
    def last(
        cls, days: int, now: datetime, service: str | None = None, environment: str | None = None
    ) -> MetricsWindow:
        return cls(now - timedelta(days=days), now, service, environment)

    @property
    def days(self) -> float:
        return (self.until - self.since).total_seconds() / 86400

    @property
    def first_midnight(self) -> datetime:
        """The start (UTC) of the calendar day the window starts on: the daily series counts
        calendar days from it, so that each day's label is the day its deployments finished."""
        return self.since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    @property
    def calendar_days(self) -> int:
        """How many (UTC) calendar days the window touches: the daily series' length."""
        return (self.until.astimezone(UTC).date() - self.first_midnight.date()).days + 1


@dataclass(frozen=True, slots=True)
class Tally:
    """What the store counts for one service in a window; every field adds up across services."""

    deployments: int = 0
    failed: int = 0  # status failure
    rolled_back: int = 0  # status rolled_back
    succeeded: int = 0  # status success
    changes: int = 0  # commits shipped by successful deployments
    lead_seconds: float = 0.0  # Σ (finished − commit) over those commits
    releases_deployed: int = 0  # distinct versions that reached the environment
    incidents_opened: int = 0
    incidents_attributed: int = 0  # opened in the window and attributed to a release
    incidents_resolved: int = 0
    restore_seconds: float = 0.0  # Σ (resolved − opened) over incidents resolved in the window

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True, slots=True)
class DayCount:
    """Deployments of one status finished on day `day` of the window: 0 is the (UTC) calendar
    day the window starts on, whose first hours may lie before it."""

    day: int
    status: str
    count: int


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    label: str
    numerator: float
    denominator: float
    unit: str  # "per day", "hours" or "ratio"
    numerator_label: str
    denominator_label: str

    @property
    def value(self) -> float | None:
        if not self.denominator:
            return None
        return self.numerator / self.denominator


@dataclass(frozen=True, slots=True)
class MetricsReport:
    window: MetricsWindow
    overall: tuple[Metric, ...]
    by_service: tuple[tuple[str, tuple[Metric, ...]], ...]
    daily: tuple[DayCount, ...] = field(default=())

    def metric(self, key: str) -> Metric:
        return next(m for m in self.overall if m.key == key)

    def day_label(self, day: int) -> date:
        return (self.window.first_midnight + timedelta(days=day)).date()


def metrics_of(tally: Tally, days: float) -> tuple[Metric, ...]:
    """The six metrics of one tally over a window of `days` days."""
    deployments = float(tally.deployments)
    return (
        Metric(
            "deployment_frequency",
            "Deployment frequency",
            deployments,
            days,
            "per day",
            "deployments",
            "days",
        ),
        Metric(
            "lead_time",
            "Lead time for change",
            tally.lead_seconds / HOUR,
            tally.changes,
            "hours",
            "commit-to-deploy hours",
            "changes",
        ),
        Metric(
            "change_failure_rate",
            "Change failure rate",
            tally.failed + tally.rolled_back,
            deployments,
            "ratio",
            "failed or rolled-back deployments",
            "deployments",
        ),
        Metric(
            "time_to_restore",
            "Time to restore",
            tally.restore_seconds / HOUR,
            tally.incidents_resolved,
            "hours",
            "hours to resolve",
            "incidents resolved",
        ),
        Metric(
            "rollback_frequency",
            "Rollback frequency",
            tally.rolled_back,
            deployments,
            "ratio",
            "rolled-back deployments",
            "deployments",
        ),
        Metric(
            "defect_leakage",
            "Defect leakage",
            tally.incidents_attributed,
            tally.releases_deployed,
            "ratio",
            "incidents attributed to a release",
            "releases deployed",
        ),
    )


def build_report(
    window: MetricsWindow, tallies: Mapping[str, Tally], daily: Sequence[DayCount] = ()
) -> MetricsReport:
    total = sum(tallies.values(), Tally())
    services = tuple((name, metrics_of(tallies[name], window.days)) for name in sorted(tallies))
    return MetricsReport(window, metrics_of(total, window.days), services, tuple(daily))


def format_value(metric: Metric) -> str:
    value = metric.value
    if value is None:
        return "n/a"
    if metric.unit == "ratio":
        return f"{value:.0%}" if value <= 1 else f"{value:.2f}"
    if metric.unit == "hours":
        return f"{value:.1f} h"
    return f"{value:.2f}/day"


def format_fraction(metric: Metric) -> str:
    """`2 failed or rolled-back deployments / 8 deployments`: the numbers people can check."""
    return (
        f"{_number(metric.numerator)} {metric.numerator_label} / "
        f"{_number(metric.denominator)} {metric.denominator_label}"
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
