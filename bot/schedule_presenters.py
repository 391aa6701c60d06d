"""Presenters for release syncs (the agenda) and readiness polls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import commands
from bot.assessment import Assessment
from bot.reply import Action, Reply, Section, Style, Tone
from bot.risks import RiskStatus
from bot.schedules import Answer, Poll, PollAnswer, Sync
from bot.when import format_moment

ANSWER_BUTTONS = (
    (Answer.READY, "Ready", Style.PRIMARY),
    (Answer.NOT_READY, "Not ready", Style.DEFAULT),
    (Answer.BLOCKED, "Blocked", Style.DANGER),
)


def agenda(
    sync: Sync,
    occurrence: datetime,
    upcoming: Sequence[Assessment],
    url: str,
    *,
    more: bool = False,
) -> Reply:
    """The release-sync reminder: what ships in the next 7 days and what still stands in the way;
    `more` when there are more than `upcoming` (the soonest)."""
    zone = ZoneInfo(sync.timezone)
    lines = tuple(_agenda_line(a, zone) for a in upcoming) or ("Nothing scheduled.",)
    notes = [f"Dashboard: {url.rstrip('/')}/"]
    if more:
        notes.insert(
            0, "…and more later in the week: `calendar 7` or the dashboard lists them all."
        )
    return Reply(
        title=f"Release sync — {format_moment(occurrence, zone)}",
        summary="Releases in the next 7 days",
        sections=(Section(None, lines),),
        notes=tuple(notes),
    )


def _agenda_line(assessment: Assessment, zone: ZoneInfo) -> str:
    release = assessment.release
    parts = [
        release.name,
        format_moment(release.scheduled_at, zone),
        f"readiness {assessment.readiness.index}/100",
    ]
    if assessment.missing:
        parts.append(f"sign-off missing: {', '.join(assessment.missing)}")
    blockers = [v.risk.label for v in assessment.risks if v.status is RiskStatus.BLOCKER]
    if blockers:
        parts.append(f"blockers: {', '.join(blockers)}")
    return " · ".join(parts)


def missed(sync: Sync, occurrences: Sequence[datetime]) -> Reply:
    zone = ZoneInfo(sync.timezone)
    first = occurrences[0].astimezone(zone)
    more = f" (and {len(occurrences) - 1} more)" if len(occurrences) > 1 else ""
    return Reply(
        title=f"Missed the {first:%H:%M} sync of {first:%a} {first.day} {first:%b} while "
        f"offline{more}",
        tone=Tone.WARNING,
        notes=(f"Sync {sync.label}: {sync.schedule} {sync.timezone}",),
    )


def sync_list(syncs: Sequence[Sync]) -> Reply:
    if not syncs:
        return Reply(title="Release syncs", summary="No syncs in this channel.")
    lines = tuple(f"{s.label} {s.schedule} ({s.timezone})" for s in syncs)
    return Reply(title=f"Release syncs ({len(syncs)})", sections=(Section(None, lines),))


def poll_card(poll: Poll, answers: dict[str, PollAnswer], zone: ZoneInfo) -> Reply:
    """One card per release; it updates in place as answers arrive."""
    lines = tuple(_answer_line(who, answers.get(who)) for who in poll.addressees)
    waiting = [who for who in poll.addressees if who not in answers]
    actions = () if poll.escalated else _answer_buttons(poll)
    return Reply(
        title=f"Readiness poll {poll.label}: {poll.release}",
        summary=f"Answer by {format_moment(poll.deadline, zone)}",
        sections=(Section("Answers", lines or ("nobody to ask",)),),
        actions=actions,
        notes=(f"Waiting for {len(waiting)} of {len(poll.addressees)}",) if waiting else (),
        subject=poll.subject,
    )


def _answer_line(who: str, answer: PollAnswer | None) -> str:
    if answer is None:
        return f"… {who}: no answer yet"
    reason = f" — {answer.reason}" if answer.reason else ""
    # By the name they answered with: a Teams principal is an opaque object id.
    name = answer.display_name or who
    return f"{'✓' if answer.answer is Answer.READY else '✗'} {name}: {answer.answer.label}{reason}"


def _answer_buttons(poll: Poll) -> tuple[Action, ...]:
    buttons = []
    for answer, label, style in ANSWER_BUTTONS:
        command = commands.dump(commands.AnswerPoll(poll.id, answer.value))
        asks = "reason" if answer is Answer.BLOCKED else None
        prompt = f"What blocks {poll.release}?" if asks else None
        buttons.append(Action(label, command, style, asks_for=asks, prompt=prompt))
    return tuple(buttons)


def poll_reminder(poll: Poll, waiting: Sequence[str], *, escalation: bool) -> Reply:
    who = ", ".join(waiting)
    if escalation:
        return Reply(
            title=f"No readiness answer for {poll.release} from {who}",
            tone=Tone.WARNING,
            notes=(f"Poll {poll.label} passed its deadline.",),
        )
    return Reply(
        title=f"Reminder: readiness poll {poll.label} for {poll.release}",
        summary=f"Still waiting for {who}",
    )
