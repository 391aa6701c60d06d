"""What the dashboard pages show, worked out from domain objects; templates only lay it out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.domain import Freeze, Release, State
from bot.metrics import MetricsReport
from bot.observe import DeployStatus
from bot.risks import RiskStatus, RiskView

BOARD_STATES = tuple(State)
TERMINAL_SHOWN_DAYS = 30
RISK_COLUMNS = (RiskStatus.OPEN, RiskStatus.BLOCKER, RiskStatus.ACCEPTED, RiskStatus.DEFERRED)


@dataclass
class Column:
    state: str
    label: str
    releases: list[Release] = field(default_factory=list)
    hidden: int = 0


def board(releases: Sequence[Release], now: datetime) -> list[Column]:
    """Releases by state; long-finished ones are left off so the board stays about now."""
    columns = {s: Column(s.value, s.label) for s in BOARD_STATES}
    recent = now - timedelta(days=TERMINAL_SHOWN_DAYS)
    for release in releases:
        column = columns[release.state]
        if release.state.is_terminal and release.updated_at < recent:
            column.hidden += 1
        else:
            column.releases.append(release)
    return list(columns.values())


@dataclass(frozen=True)
class Entry:
    """One thing on a calendar day: a release, or a sync occurrence."""

    at: str  # local HH:MM
    label: str
    kind: str  # "release" or "sync"
    state: str = ""
    href: str | None = None
    release: str | None = None


@dataclass
class Day:
    day: date
    in_range: bool
    today: bool
    frozen: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)


def grid_start(anchor: date, view: str) -> date:
    first = anchor.replace(day=1) if view == "month" else anchor
    return first - timedelta(days=first.weekday())


def grid_days(anchor: date, view: str) -> list[date]:
    start = grid_start(anchor, view)
    if view == "week":
        return [start + timedelta(days=n) for n in range(7)]
    next_month = (anchor.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = next_month - timedelta(days=1)
    end = last + timedelta(days=6 - last.weekday())
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def neighbours(anchor: date, view: str) -> tuple[date, date]:
    """The anchors of the previous and the next page (month or week)."""
    if view == "week":
        return anchor - timedelta(days=7), anchor + timedelta(days=7)
    first = anchor.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1), (first + timedelta(days=32)).replace(day=1)


def calendar_title(days: Sequence[date], anchor: date, view: str) -> str:
    if view == "week":
        return f"Week of {days[0].day} {days[0]:%B %Y}"
    return f"{anchor:%B %Y}"


def local_bounds(days: Sequence[date], zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(days[0], time(), zone)
    end = datetime.combine(days[-1] + timedelta(days=1), time(), zone)
    return start, end


def calendar_days(
    days: Sequence[date],
    *,
    anchor: date,
    view: str,
    today: date,
    zone: ZoneInfo,
    releases: Sequence[Release],
    freezes: Sequence[Freeze],
    syncs: Sequence[tuple[str, datetime]] = (),
) -> list[Day]:
    grid = {d: Day(d, view == "week" or d.month == anchor.month, d == today) for d in days}
    for release in releases:
        if release.scheduled_at is not None:
            local = release.scheduled_at.astimezone(zone)
            if local.date() in grid:
                grid[local.date()].entries.append(_release_entry(release, local))
    for label, moment in syncs:
        local = moment.astimezone(zone)
        if local.date() in grid:
            grid[local.date()].entries.append(Entry(f"{local:%H:%M}", label, "sync"))
    for day in grid.values():
        day.entries.sort(key=lambda e: e.at)
        day.frozen = [f.label for f in freezes if _overlaps(f, day.day, zone)]
    return [grid[d] for d in days]


def _release_entry(release: Release, local: datetime) -> Entry:
    return Entry(
        f"{local:%H:%M}",
        release.name,
        "release",
        release.state.value,
        release_href(release.name),
        release.name,
    )


def _overlaps(freeze: Freeze, day: date, zone: ZoneInfo) -> bool:
    start, end = local_bounds([day], zone)
    return freeze.starts_at < end and freeze.ends_at > start


def release_href(name: str) -> str:
    return f"/releases/{quote(name, safe='@/')}"


def risk_columns(views: Sequence[RiskView]) -> list[tuple[str, list[RiskView]]]:
    return [(s.value, [v for v in views if v.status is s]) for s in RISK_COLUMNS]


STATUS_COLOURS = {
    DeployStatus.SUCCESS.value: "#2e7d32",
    DeployStatus.FAILURE.value: "#c62828",
    DeployStatus.ROLLED_BACK.value: "#ef6c00",
}


def chart_data(report: MetricsReport) -> dict[str, object]:
    """The two charts of the metrics page, as data for dashboard.js (Chart.js draws them)."""
    days = report.window.calendar_days
    per_day = {status: [0] * days for status in STATUS_COLOURS}
    for count in report.daily:
        per_day[count.status][count.day] += count.count
    failure = [
        (name, dict((m.key, m.value) for m in metrics)) for name, metrics in report.by_service
    ]
    return {
        "deployments": {
            "labels": [report.day_label(n).isoformat() for n in range(days)],
            "datasets": [
                {"label": status.replace("_", " "), "data": data, "color": STATUS_COLOURS[status]}
                for status, data in per_day.items()
            ],
        },
        "failure": {
            "labels": [name for name, _ in failure],
            "data": [round((values["change_failure_rate"] or 0) * 100, 1) for _, values in failure],
        },
    }
