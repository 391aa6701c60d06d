"""Presenters: domain objects in, semantic Replies out. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from bot.domain import Release, State
from bot.policy import Policy
from bot.reply import Fact, Reply, Section, Tone
from bot.usage import BY_VERB, USAGES
from bot.when import format_moment

MAX_LISTED = 40

STATE_TONES = {
    State.PLANNED: Tone.INFO,
    State.APPROVED: Tone.SUCCESS,
    State.DEPLOYING: Tone.WARNING,
    State.DEPLOYED: Tone.SUCCESS,
    State.VERIFIED: Tone.SUCCESS,
    State.ROLLED_BACK: Tone.ERROR,
    State.CANCELLED: Tone.WARNING,
}


def release_card(
    release: Release, policy: Policy, *, notes: Sequence[str] = (), broadcast: bool = False
) -> Reply:
    """The release card: the one view of a release every surface shows."""
    zone = policy.zone
    facts = [
        Fact("State", release.state.label),
        Fact("When", format_moment(release.scheduled_at, zone)),
        Fact("Class", release.change_class.value),
        Fact("Owner", release.owner),
    ]
    if release.train:
        facts.append(Fact("Train", release.train))
    if release.env:
        facts.append(Fact("Environment", release.env))
    return Reply(
        title=f"Release {release.name}",
        tone=STATE_TONES[release.state],
        facts=tuple(facts),
        sections=(_signoff_section(release, policy), _gate_section(release, policy)),
        notes=tuple(notes),
        broadcast=broadcast,
        subject=release.name,
    )


def _signoff_section(release: Release, policy: Policy) -> Section:
    roles = policy.for_class(release.change_class).signoffs
    lines = tuple(f"{role}: waiting" for role in roles) or ("none required",)
    return Section("Sign-offs", lines)


def _gate_section(release: Release, policy: Policy) -> Section:
    gates = policy.for_class(release.change_class).gates
    lines = tuple(f"{gate} {threshold:g}: no signal yet" for gate, threshold in gates.items())
    return Section("Readiness gates", lines or ("none for this class",))


def release_line(release: Release, zone: ZoneInfo) -> str:
    parts = [release.name, release.state.label, format_moment(release.scheduled_at, zone)]
    if release.train:
        parts.append(f"train {release.train}")
    return " · ".join(parts)


def release_list(title: str, releases: Sequence[Release], zone: ZoneInfo, empty: str) -> Reply:
    if not releases:
        return Reply(title=title, summary=empty)
    shown = releases[:MAX_LISTED]
    notes: tuple[str, ...] = ()
    if len(releases) > MAX_LISTED:
        notes = (f"…and {len(releases) - MAX_LISTED} more; narrow it with train or service.",)
    lines = tuple(release_line(r, zone) for r in shown)
    return Reply(title=f"{title} ({len(releases)})", sections=(Section(None, lines),), notes=notes)


def calendar(releases: Sequence[Release], zone: ZoneInfo, *, days: int) -> Reply:
    title = f"Calendar, next {days} days"
    scheduled = [r for r in releases if r.scheduled_at is not None]
    if not scheduled:
        return Reply(title=title, summary="Nothing scheduled.")
    sections = []
    for day, group in groupby(scheduled, key=lambda r: _local_day(r.scheduled_at, zone)):
        lines = tuple(
            f"{_local_time(r.scheduled_at, zone)} {r.name} ({r.state.label})" for r in group
        )
        sections.append(Section(day, lines))
    return Reply(title=title, sections=tuple(sections[:MAX_LISTED]))


def _local_day(moment: datetime | None, zone: ZoneInfo) -> str:
    assert moment is not None
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def _local_time(moment: datetime | None, zone: ZoneInfo) -> str:
    assert moment is not None
    return f"{moment.astimezone(zone):%H:%M}"


def help_all(available: frozenset[str]) -> Reply:
    ready = tuple(f"{u.line} — {u.summary}" for u in USAGES if u.verb in available)
    coming = tuple(u.verb for u in USAGES if u.verb not in available)
    notes = (f"Coming soon: {', '.join(coming)}.",) if coming else ()
    return Reply(
        title="releasebot commands",
        sections=(Section(None, ready),),
        notes=(*notes, "A release is service@version, e.g. checkout@2.4.0."),
    )


def help_one(verb: str, available: frozenset[str]) -> Reply:
    usage = BY_VERB[verb]
    notes = () if verb in available else ("This command is not available yet.",)
    return Reply(title=usage.line, summary=usage.summary, notes=notes)
