"""Presenters for risks, huddles, decisions and release notes."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from zoneinfo import ZoneInfo

from bot import commands
from bot.reply import Action, Fact, Reply, Section, Style, Tone, line_text
from bot.risks import ChangeItem, Decision, Huddle, Outcome, RiskStatus, RiskView
from bot.when import format_moment

OUTCOME_BUTTONS = (
    (Outcome.BLOCKER, "Blocker", Style.DANGER),
    (Outcome.ACCEPT, "Accept risk", Style.PRIMARY),
    (Outcome.DEFER, "Defer", Style.DEFAULT),
)
KIND_TITLES = {"feature": "Features", "fix": "Fixes", "chore": "Chores"}


def risk_line(view: RiskView, zone: ZoneInfo) -> str:
    risk, decision = view.risk, view.decision
    line = f"{risk.label} [{risk.severity.value}] {risk.description} — {view.status.value}"
    if decision is not None and view.status is not RiskStatus.OPEN:
        line += f" by {decision.decided_name}: {decision.rationale}"
        if decision.expires_at is not None:
            line += f" (until {format_moment(decision.expires_at, zone)})"
    if view.status is RiskStatus.DEFERRED:  # shown where it was deferred from: say where it is
        line += f" (now on {risk.release})" if risk.release else " (waits for the next release)"
    return line


def risk_section(risks: Sequence[RiskView], zone: ZoneInfo) -> Section:
    return Section("Risks", tuple(risk_line(v, zone) for v in risks) or ("none recorded",))


def huddle_card(huddle: Huddle, risks: Sequence[RiskView], zone: ZoneInfo) -> Reply:
    """The huddle card: every risk with its standing; open ones carry the decision buttons,
    and blockers those that can still settle them (accept, defer)."""
    title = f"Risk huddle {huddle.label}: {huddle.release}"
    closed = huddle.closed_at is not None
    actions: list[Action] = []
    if not closed:
        for view in risks:
            if view.status in (RiskStatus.OPEN, RiskStatus.BLOCKER):
                actions.extend(_decision_buttons(view))
    return Reply(
        title=title + (" (closed)" if closed else ""),
        tone=Tone.INFO if not closed else Tone.SUCCESS,
        summary=huddle.topic,
        sections=(risk_section(risks, zone),),
        actions=tuple(actions),
        subject=huddle.subject,
    )


def _decision_buttons(view: RiskView) -> list[Action]:
    label = view.risk.label
    return [
        Action(
            f"{label}: {text}",
            commands.dump(commands.Decide(risk_id=label, outcome=outcome.value, rationale="")),
            style,
            asks_for="rationale",
            prompt=_prompt(outcome, text, label, view.risk.description),
        )
        for outcome, text, style in OUTCOME_BUTTONS
        if not (outcome is Outcome.BLOCKER and view.status is RiskStatus.BLOCKER)
    ]


def _prompt(outcome: Outcome, text: str, label: str, description: str) -> str:
    prompt = f"Why {text.lower()} for {label} ({description[:60]})?"
    if outcome is Outcome.ACCEPT:
        prompt += " Start with `until <when>` to let the acceptance expire."
    return prompt


def huddle_outcome(huddle: Huddle, risks: Sequence[RiskView], zone: ZoneInfo) -> Reply:
    """What the huddle decided, for the channel: each risk, the decision, who and why."""
    lines = tuple(risk_line(v, zone) for v in risks) or ("no risks were discussed",)
    undecided = sum(1 for v in risks if v.status is RiskStatus.OPEN)
    notes = (f"{undecided} risk(s) still undecided.",) if undecided else ()
    return Reply(
        title=f"Huddle {huddle.label} on {huddle.release} closed",
        tone=Tone.SUCCESS,
        summary=huddle.topic,
        sections=(Section("Outcome", lines),),
        notes=notes,
    )


def decision_log(release: str, decisions: Sequence[Decision], zone: ZoneInfo) -> Reply:
    if not decisions:
        return Reply(title=f"Decisions on {release}", summary="No decisions yet.")
    lines = tuple(
        f"{format_moment(d.decided_at, zone)} R{d.risk_id} {d.outcome.value} by "
        f"{d.decided_name}: {d.rationale}"
        for d in decisions
    )
    return Reply(
        title=f"Decisions on {release} ({len(decisions)})", sections=(Section(None, lines),)
    )


def release_notes(
    release: str, items: Sequence[ChangeItem], known: Sequence[RiskView], zone: ZoneInfo
) -> Reply:
    """Change items grouped by kind, then squad; accepted risks become known issues."""
    sections = []
    ordered = sorted(items, key=lambda i: (_kind_order(i.kind), i.kind, i.squad or "", i.title))
    for (kind, squad), group in groupby(ordered, key=lambda i: (i.kind, i.squad)):
        title = KIND_TITLES.get(kind, kind.capitalize())
        title += f" · {squad}" if squad else ""
        sections.append(Section(title, tuple(_change_line(i) for i in group)))
    if known:
        sections.append(Section("Known issues", tuple(risk_line(v, zone) for v in known)))
    summary = None if items else "No change items yet."
    return Reply(
        title=f"Release notes: {release}",
        summary=summary,
        facts=(Fact("Changes", str(len(items))),),
        sections=tuple(sections),
    )


def _kind_order(kind: str) -> int:
    order = list(KIND_TITLES)
    return order.index(kind) if kind in order else len(order)


def _change_line(item: ChangeItem) -> str:
    line = item.title
    if item.author:
        line += f" ({item.author})"
    if item.link:
        line += f" {item.link}"
    return line


def notes_markdown(release: str, notes: Reply) -> str:
    """The same notes as Markdown, for the REST API."""
    out = [f"# Release notes: {release}", ""]
    if notes.summary:
        out += [notes.summary, ""]
    for section in notes.sections:
        items = [f"- {line_text(line)}" for line in section.lines]
        out += [f"## {section.title}", "", *items, ""]
    return "\n".join(out)
