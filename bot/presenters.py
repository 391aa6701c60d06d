"""Presenters: domain objects in, semantic Replies out. No I/O."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from bot import commands
from bot.assessment import Assessment
from bot.domain import AuditEvent, Freeze, Release, State
from bot.observe_presenters import smoke_actions, smoke_section
from bot.policy import Policy
from bot.reply import Action, Fact, Line, Reply, Section, Struck, Style, Tone
from bot.risk_presenters import risk_section
from bot.schedules import Sync
from bot.signoffs import SignOff, Verdict, current_by_role
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
    assessment: Assessment,
    policy: Policy,
    *,
    now: datetime,
    notes: Sequence[str] = (),
    broadcast: bool = False,
) -> Reply:
    """The release card: the one view of a release every surface shows."""
    release = assessment.release
    return Reply(
        title=f"Release {release.name}",
        tone=STATE_TONES[release.state],
        facts=_facts(release, policy.zone, now),
        sections=(
            _signoff_section(assessment, policy),
            _gate_section(assessment),
            risk_section(assessment.risks, policy.zone),
            *_smoke_sections(assessment),
        ),
        actions=_signoff_actions(assessment, policy) + _smoke_buttons(assessment),
        notes=tuple(notes),
        broadcast=broadcast,
        subject=release.name,
    )


def _facts(release: Release, zone: ZoneInfo, now: datetime) -> tuple[Fact, ...]:
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
    if release.review_due_at is not None:
        facts.append(Fact("Retrospective review", _review_state(release, zone, now)))
    return tuple(facts)


def _review_state(release: Release, zone: ZoneInfo, now: datetime) -> str:
    if release.reviewed_by:
        return f"signed by {release.reviewed_by}"
    due = format_moment(release.review_due_at, zone)
    return f"OVERDUE since {due}" if release.review_overdue(now) else f"due by {due}"


def _smoke_sections(assessment: Assessment) -> tuple[Section, ...]:
    return (smoke_section(assessment.smoke),) if assessment.smoke else ()


def _smoke_buttons(assessment: Assessment) -> tuple[Action, ...]:
    """A deployed release that fails its checks offers the way back (and a huddle)."""
    failed = any(not result.passed for result in assessment.smoke)
    release = assessment.release
    return smoke_actions(release.name) if failed and release.state is State.DEPLOYED else ()


def _signoff_section(assessment: Assessment, policy: Policy) -> Section:
    roles = policy.for_class(assessment.release.change_class).signoffs
    current = current_by_role(assessment.signoffs)
    stale = {s.role: s for s in assessment.signoffs if s.stale}
    lines = tuple(_signoff_line(role, current.get(role), stale.get(role)) for role in roles)
    return Section("Sign-offs", lines or ("none required",))


def _signoff_line(role: str, signoff: SignOff | None, stale: SignOff | None) -> Line:
    if signoff is not None and signoff.verdict is Verdict.APPROVED:
        return f"✓ {role}: approved by {signoff.display_name}"
    if signoff is not None:
        return f"✗ {role}: rejected by {signoff.display_name} — {signoff.note or 'no reason'}"
    if stale is not None:
        verdict = "✓ approved" if stale.verdict is Verdict.APPROVED else "✗ rejected"
        return Struck(f"{role}: {verdict} by {stale.display_name}", " — stale, waiting again")
    return f"… {role}: waiting"


def _gate_section(assessment: Assessment) -> Section:
    results = assessment.readiness.results
    if not results:
        return Section("Readiness gates", ("none for this class",))
    lines = tuple(f"{'✓' if r.passed else '✗'} {r.reason}" for r in results)
    return Section(f"Readiness {assessment.readiness.index}/100", lines)


def _signoff_actions(assessment: Assessment, policy: Policy) -> tuple[Action, ...]:
    """Approve / Reject for each role still open; decided roles show no buttons."""
    release = assessment.release
    if release.state not in (State.PLANNED, State.APPROVED):
        return ()
    return tuple(
        button for role in assessment.missing for button in _role_buttons(release.name, role)
    )


@functools.lru_cache(maxsize=4096)
def _role_buttons(release: str, role: str) -> tuple[Action, Action]:
    # Cached: every status card renders these, and they depend on nothing else.
    approve = commands.Approve(release=release, role=role)
    reject = commands.Reject(release=release, role=role, reason="")
    return (
        Action(f"Approve as {role}", commands.dump(approve), Style.PRIMARY),
        Action(
            f"Reject as {role}",
            commands.dump(reject),
            Style.DANGER,
            asks_for="reason",
            prompt=f"Why do you reject {release} as {role}?",
        ),
    )


def release_line(release: Release, zone: ZoneInfo) -> str:
    parts = [release.name, release.state.label, format_moment(release.scheduled_at, zone)]
    if release.train:
        parts.append(f"train {release.train}")
    return " · ".join(parts)


def release_list(
    title: str, releases: Sequence[Release], zone: ZoneInfo, empty: str, *, complete: bool = True
) -> Reply:
    """The releases, soonest first; not `complete` when there were more than were read."""
    if not releases:
        return Reply(title=title, summary=empty)
    shown = releases[:MAX_LISTED]
    plus = "" if complete else "+"  # "200+": at least that many
    notes: tuple[str, ...] = ()
    if len(releases) > MAX_LISTED or not complete:
        more = f"{len(releases) - MAX_LISTED}{plus}"
        notes = (f"…and {more} more; narrow it with train or service.",)
    lines = tuple(release_line(r, zone) for r in shown)
    count = f"{len(releases)}{plus}"
    return Reply(title=f"{title} ({count})", sections=(Section(None, lines),), notes=notes)


def calendar(
    releases: Sequence[Release],
    freezes: Sequence[Freeze],
    meetings: Sequence[tuple[datetime, Sync]],
    zone: ZoneInfo,
    *,
    days: int,
) -> Reply:
    """Freeze windows first, then day by day the releases and sync meetings, in time order."""
    title = f"Calendar, next {days} days"
    entries = sorted(
        [(r.scheduled_at, f"{r.name} ({r.state.label})") for r in releases if r.scheduled_at]
        + [(moment, f"release sync {sync.label} ({sync.schedule})") for moment, sync in meetings],
        key=lambda entry: entry[0],
    )
    if not entries and not freezes:
        return Reply(title=title, summary="Nothing scheduled.")
    sections = []
    if freezes:
        sections.append(Section("Freeze windows", tuple(freeze_line(f, zone) for f in freezes)))
    for day, group in groupby(entries, key=lambda entry: _local_day(entry[0], zone)):
        lines = tuple(f"{_local_time(moment, zone)} {what}" for moment, what in group)
        sections.append(Section(day, lines))
    hidden = len(sections) - MAX_LISTED
    notes = (f"…and {hidden} more days not shown; ask for fewer days.",) if hidden > 0 else ()
    return Reply(title=title, sections=tuple(sections[:MAX_LISTED]), notes=notes)


def freeze_line(freeze: Freeze, zone: ZoneInfo) -> str:
    span = f"{format_moment(freeze.starts_at, zone)} → {format_moment(freeze.ends_at, zone)}"
    return f"{freeze.label} {span}" + (f" — {freeze.reason}" if freeze.reason else "")


def freeze_list(freezes: Sequence[Freeze], zone: ZoneInfo, *, now: datetime) -> Reply:
    if not freezes:
        return Reply(title="Freeze windows", summary="No freeze windows now or ahead.")
    lines = tuple(("IN FORCE " if f.covers(now) else "") + freeze_line(f, zone) for f in freezes)
    return Reply(title=f"Freeze windows ({len(freezes)})", sections=(Section(None, lines),))


def gate_report(assessment: Assessment) -> Reply:
    release, readiness = assessment.release, assessment.readiness
    verdict = "pass" if readiness.passed else "fail"
    lines = tuple(f"{'✓' if r.passed else '✗'} {r.gate}: {r.reason}" for r in readiness.results)
    notes = []
    if assessment.missing:
        notes.append(f"Sign-off missing from {', '.join(assessment.missing)}.")
    return Reply(
        title=f"Gates for {release.name}: {verdict}",
        tone=Tone.SUCCESS if readiness.passed else Tone.WARNING,
        facts=(Fact("Readiness index", f"{readiness.index}/100"),),
        sections=(Section(None, lines or ("no gates for this class",)),),
        notes=tuple(notes),
    )


def audit_trail(name: str, events: Sequence[AuditEvent], zone: ZoneInfo) -> Reply:
    lines = tuple(_audit_line(e, zone) for e in events[-MAX_LISTED:])
    notes: tuple[str, ...] = ()
    if len(events) > MAX_LISTED:
        notes = (f"Showing the latest {MAX_LISTED} of {len(events)} events.",)
    return Reply(title=f"Audit trail of {name}", sections=(Section(None, lines),), notes=notes)


def _audit_line(event: AuditEvent, zone: ZoneInfo) -> str:
    detail = ", ".join(f"{k}: {v}" for k, v in event.detail.items() if v not in (None, "", []))
    line = f"#{event.seq} {format_moment(event.at, zone)} · {event.action} · {event.actor}"
    return f"{line} ({event.surface})" + (f" — {detail}" if detail else "")


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
