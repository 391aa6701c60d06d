"""Risks, huddles and decisions (SPEC §4.4): judgement calls made in the channel, kept for ever."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot import commands as c
from bot import presenters, risk_presenters
from bot.assessment import Assessment, assess, huddle_views
from bot.domain import (
    DEPLOYABLE_STATES,
    Conversation,
    DomainError,
    NotFound,
    Release,
    State,
    in_chat,
)
from bot.handlers.base import (
    Context,
    audit_draft,
    card,
    existing,
    finish,
    handles,
    refuse,
    settle,
)
from bot.handlers.deferral import next_release
from bot.handlers.notify import release_changed, update_cards
from bot.outbox import Outgoing
from bot.parser import ParseError, id_number, parse
from bot.reply import Reply, Tone
from bot.risks import Decision, Huddle, Outcome, Risk, RiskView, Severity
from bot.when import format_moment


@handles(c.AddRisk)
async def add_risk(cmd: c.AddRisk, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release, for_update=True)
    if release.state is State.CANCELLED:
        raise DomainError(f"{release.name} is cancelled: a risk on it would never be decided")
    severity = Severity(cmd.severity)
    for known in await ctx.uow.risks.on_release(release.name):
        if (known.severity, known.description) == (severity, cmd.description):
            # The same words again: a retried request or a second click, not a second risk.
            note = f"Risk {known.label} says that already: nothing changed"
            return await card(ctx, release, [note])
    risk = await raise_risk(ctx, release, severity, cmd.description)
    assessment = await finish_with_huddle(ctx, release)
    notes = [f"Risk {risk.label} recorded by {ctx.actor.display_name}"]
    return presenters.release_card(assessment, ctx.policy, now=ctx.now, notes=notes)


async def raise_risk(ctx: Context, release: Release, severity: Severity, what: str) -> Risk:
    """A risk on `release`, raised by the actor, with its audit event (committed later)."""
    risk = await ctx.uow.risks.add(
        release=release.name,
        severity=severity,
        description=what,
        raised_by=ctx.actor.principal,
        raised_at=ctx.now,
    )
    detail = {"risk": risk.label, "severity": severity.value, "description": what}
    await ctx.uow.audit.append(audit_draft(ctx, "risk_raised", release, detail=detail))
    return risk


@handles(c.Huddle)
async def open_huddle(cmd: c.Huddle, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release, for_update=True)
    if release.state is State.CANCELLED:
        raise DomainError(f"{release.name} is cancelled: there is nothing left to decide on it")
    huddle = await ctx.uow.huddles.open_for(release.name)
    if huddle is not None:
        return Reply(title=f"Huddle {huddle.label} on {release.name} is already open")
    # Only a chat channel can show the card for everyone; a console sees it as the answer.
    where = ctx.conversation if in_chat(ctx.conversation) else None
    huddle = await ctx.uow.huddles.add(
        release=release.name,
        topic=cmd.topic,
        opened_by=ctx.actor.principal,
        opened_at=ctx.now,
        conversation=where,
    )
    await ctx.uow.audit.append(
        audit_draft(
            ctx, "huddle_opened", release, detail={"huddle": huddle.label, "topic": cmd.topic}
        )
    )
    card = await _huddle_card(ctx, huddle)
    if where is None:  # nowhere to post it: the answer is the card itself
        await ctx.uow.commit()
        return card
    thread = Outgoing(where, card, remember_as=huddle.subject)
    await ctx.uow.outbox.add(thread, at=ctx.now)
    await ctx.uow.commit()
    # The card itself goes to the channel through the outbox; answering with it too would
    # show it twice.
    return Reply(
        title=f"Huddle {huddle.label} on {release.name} opened",
        tone=Tone.SUCCESS,
        summary="Its card is posted in this channel; discuss in its thread.",
    )


@handles(c.CloseHuddle)
async def close_huddle(cmd: c.CloseHuddle, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release, for_update=True)
    huddle = await ctx.uow.huddles.open_for(release.name)
    if huddle is None:
        raise NotFound(f"there is no open huddle on {release.name}")
    closed, risks = await _close(ctx, huddle, release)
    outcome = risk_presenters.huddle_outcome(closed, risks, _zone(ctx))
    channels = _huddle_channels(closed, release)
    for where in channels:
        await ctx.uow.outbox.add(Outgoing(where, outcome), at=ctx.now)
    await ctx.uow.commit()
    if not channels:
        return outcome
    return Reply(
        title=f"Huddle {closed.label} on {release.name} closed",
        tone=Tone.SUCCESS,
        summary="The outcome is posted in the channel.",
    )


async def close_with_release(ctx: Context, release: Release) -> None:
    """A cancelled release's open huddle closes, its decision buttons gone: there is nothing
    left to decide for it (SPEC §4.2: no stale button stays live)."""
    huddle = await ctx.uow.huddles.open_for(release.name)
    if huddle is not None:
        await _close(ctx, huddle, release, why=f"{release.name} is {release.state.label}")


async def _close(
    ctx: Context, huddle: Huddle, release: Release, *, why: str | None = None
) -> tuple[Huddle, list[RiskView]]:
    """Close the huddle (audited) and take the buttons off its card; `why` when nobody asked."""
    await ctx.uow.huddles.close(huddle.id, at=ctx.now)
    closed = replace(huddle, closed_at=ctx.now)
    detail = {"huddle": huddle.label, **({"why": why} if why else {})}
    await ctx.uow.audit.append(audit_draft(ctx, "huddle_closed", release, detail=detail))
    risks = await huddle_views(ctx.uow, release.name, ctx.now)
    card = risk_presenters.huddle_card(closed, risks, _zone(ctx))
    if why:
        card = replace(card, notes=(*card.notes, f"Closed: {why}"))
    await update_cards(ctx, closed.subject, card)
    return closed, risks


@handles(c.Decide)
async def decide(cmd: c.Decide, ctx: Context) -> Reply:
    cmd = _with_expiry(cmd, ctx)
    outcome = _outcome(cmd.outcome)
    if not cmd.rationale.strip():
        raise DomainError("a decision needs a rationale")
    _require_live_expiry(cmd, ctx)
    risk = await _risk(ctx, cmd.risk_id)
    if risk.release is None:
        raise NotFound(f"{risk.label} is deferred and waits for its next release")
    release = await existing(ctx, risk.release, for_update=True)
    if release.state is State.CANCELLED:
        raise DomainError(f"{risk.label} is on {release.name}, which is cancelled")
    if not _may_decide(ctx, release):
        return await refuse(
            ctx,
            release,
            "decide",
            f"only the owner and the sign-off roles of {release.name} decide on its risks",
        )
    decision = Decision(
        risk_id=risk.id,
        release=release.name,
        outcome=outcome,
        rationale=cmd.rationale.strip(),
        decided_by=ctx.actor.principal,
        decided_name=ctx.actor.display_name,
        decided_at=ctx.now,
        expires_at=cmd.expires_at,
    )
    if await _repeats_latest(ctx, decision):
        said = f"{decision.outcome.value}: {decision.rationale}"
        return Reply(
            title=f"Nothing changed: you already made that decision on {risk.label}", summary=said
        )
    await ctx.uow.decisions.add(decision)
    note = await _follow(ctx, risk, release, decision)
    assessment = await finish_with_huddle(ctx, release)
    said = f"{risk.label}: {decision.outcome.value} by {ctx.actor.display_name} — {note}"
    return presenters.release_card(assessment, ctx.policy, now=ctx.now, notes=[said])


async def _repeats_latest(ctx: Context, decision: Decision) -> bool:
    """Whether `decision` only says again what its decider last decided on the risk: a double
    click, or two forms opened from one button, must not log it twice (SPEC §7). Once a deferral
    has moved the risk, a second one would otherwise move it again, a release further on (the
    form names the risk, not the release it was on); to defer it on again, say why anew."""
    earlier = await ctx.uow.decisions.for_risks([decision.risk_id])
    if not earlier:
        return False
    latest = earlier[-1]
    same = (latest.outcome, latest.rationale, latest.decided_by) == (
        decision.outcome,
        decision.rationale,
        decision.decided_by,
    )
    return same and _same_expiry(latest, decision)


# How soon after a decision the same words with an expiry relative to now ("until +2h") are a
# repeat of it. Later, the same words renew the acceptance from then on.
REPEAT_WINDOW = timedelta(minutes=5)


def _same_expiry(latest: Decision, decision: Decision) -> bool:
    """The same expiry, or one as far from its decision as the latest was from it (the same
    relative `until` sent again moments later: a double click, a retried form)."""
    if latest.expires_at is None or decision.expires_at is None:
        return latest.expires_at == decision.expires_at
    elapsed = decision.decided_at - latest.decided_at
    moved = decision.expires_at - latest.expires_at
    return moved == timedelta(0) or (
        timedelta(0) <= elapsed <= REPEAT_WINDOW and abs(moved - elapsed) < timedelta(seconds=1)
    )


def _outcome(text: str) -> Outcome:
    try:
        return Outcome(text)
    except ValueError:  # a button's data is the client's to send: only the parser checked it
        choices = ", ".join(outcome.value for outcome in Outcome)
        raise DomainError(f"{text!r} is not a decision: {choices}") from None


def _with_expiry(cmd: c.Decide, ctx: Context) -> c.Decide:
    """A rationale typed in a dialog may start with `until <when>`, as the text twin does."""
    if cmd.outcome != "accept" or cmd.expires_at or not cmd.rationale.lower().startswith("until"):
        return cmd
    try:
        parsed = parse(
            f"decide {cmd.risk_id} accept {cmd.rationale}", now=ctx.now, zone=ctx.policy.zone
        )
    except ParseError as problem:
        raise DomainError(problem.problem) from None
    assert isinstance(parsed, c.Decide)
    return parsed


def _require_live_expiry(cmd: c.Decide, ctx: Context) -> None:
    """An acceptance that has expired already would reopen the risk the moment it is given."""
    if cmd.expires_at is not None and cmd.expires_at <= ctx.now:
        when = format_moment(cmd.expires_at, _zone(ctx))
        raise DomainError(f"the acceptance would have expired already: {when} is in the past")


async def _risk(ctx: Context, label: str) -> Risk:
    number = id_number(label, "R")  # a button's id skips the parser, so check it here too
    risk = await ctx.uow.risks.get(number) if number is not None else None
    if risk is None:
        raise NotFound(f"there is no risk {label}")
    return risk


async def _risk_of(ctx: Context, label: str, release: Release) -> Risk:
    """A risk of `release`: accepting another release's changes nothing in its gates."""
    risk = await _risk(ctx, label)
    if risk.release != release.name:
        where = f"a risk of {risk.release}" if risk.release else "deferred and waiting"
        raise DomainError(f"{risk.label} is {where}, not of {release.name}")
    return risk


def _may_decide(ctx: Context, release: Release) -> bool:
    if not ctx.policy.restrict_deciders or release.owner in ctx.actor.identities:
        return True
    roles = ctx.policy.for_class(release.change_class).signoffs
    return any(ctx.policy.in_role(role, ctx.actor.identities) for role in roles)


async def _follow(ctx: Context, risk: Risk, release: Release, decision: Decision) -> str:
    """Record the decision in the audit. A deferral moves the risk to the next release
    (deferral.next_release), whose gates then count it: that release is settled (approved no
    more) and its cards updated, with the decision."""
    detail = {
        "risk": risk.label,
        "outcome": decision.outcome.value,
        "rationale": decision.rationale,
        "expires_at": decision.expires_at.isoformat() if decision.expires_at else None,
    }
    note = decision.rationale
    if decision.outcome is Outcome.DEFER:
        target = await _next_locked(ctx, release)
        await ctx.uow.risks.move(risk.id, target.name if target else None)
        detail["moved_to"] = target.name if target else None
        note += f" (moved to {target.name})" if target else " (waits for the next release)"
        if target is not None:
            await _risks_arrived(ctx, target)
    await ctx.uow.audit.append(audit_draft(ctx, "decided", release, detail=detail))
    return note


async def pass_on_deferred_risks(ctx: Context, cancelled: Release) -> list[str]:
    """A cancelled release passes the risks deferred to it on to the next release of its train,
    or they wait for one, as deferring them again would: cancelling a release must not drop a
    risk it was only carrying. Risks raised on it stay with it."""
    risks = await ctx.uow.risks.on_release(cancelled.name)
    carried = [r for r in risks if r.origin != cancelled.name]
    if not carried:
        return []
    target = await _next_locked(ctx, cancelled)
    to = target.name if target else None
    notes = []
    for risk in carried:
        await ctx.uow.risks.move(risk.id, to)
        detail = {"risk": risk.label, "from": cancelled.name, "moved_to": to, "why": "cancelled"}
        await ctx.uow.audit.append(audit_draft(ctx, "risk_moved", cancelled, detail=detail))
        where = f"moves to {to}" if to else "waits for the next release of its train"
        notes.append(f"Deferred risk {risk.label} {where}")
    if target is not None:
        await _risks_arrived(ctx, target)
    return notes


async def _risks_arrived(ctx: Context, target: Release) -> None:
    """Risks moved onto `target` count in its gates now: settle it (approved no more) and
    show them on its cards and its open huddle's."""
    await release_changed(ctx, await settle(ctx, target))
    await _huddle_changed(ctx, target.name)


async def _next_locked(ctx: Context, release: Release) -> Release | None:
    """The next release, locked before the risk moves to it, and checked again once locked: it
    may have started deploying or been cancelled meanwhile."""
    found = await next_release(ctx, release)
    if found is None:
        return None
    target = await existing(ctx, found.name, for_update=True)
    return target if target.state in DEPLOYABLE_STATES else None


async def finish_with_huddle(ctx: Context, release: Release) -> Assessment:
    """`finish`, and the open huddle's card shows the release's risks as they now stand."""
    await _huddle_changed(ctx, release.name)
    return await finish(ctx, release)


async def _huddle_changed(ctx: Context, release: str) -> None:
    huddle = await ctx.uow.huddles.open_for(release)
    if huddle is not None:
        await update_cards(ctx, huddle.subject, await _huddle_card(ctx, huddle))


async def _huddle_card(ctx: Context, huddle: Huddle) -> Reply:
    risks = await huddle_views(ctx.uow, huddle.release, ctx.now)
    return risk_presenters.huddle_card(huddle, risks, _zone(ctx))


def _huddle_channels(huddle: Huddle, release: Release) -> list[Conversation]:
    if huddle.conversation_platform and huddle.conversation_id:
        opened_in = Conversation(huddle.conversation_platform, huddle.conversation_id)
        if in_chat(opened_in):  # opened in a console before such huddles were kept apart
            return [opened_in]
    return [release.channel] if in_chat(release.channel) else []


def _zone(ctx: Context) -> ZoneInfo:
    return ctx.policy.zone


@handles(c.Decisions, read_only=True)
async def decisions(cmd: c.Decisions, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release)
    log = await ctx.uow.decisions.for_release(release.name)
    return risk_presenters.decision_log(release.name, log, ctx.policy.zone)


@handles(c.Gate, read_only=True)
async def gate(cmd: c.Gate, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release)
    accepting = [(await _risk_of(ctx, label, release)).id for label in cmd.accept_risks]
    assessment = await assess(ctx.uow, release, ctx.policy, ctx.now, accepting=accepting)
    reply = presenters.gate_report(assessment)
    if not accepting:
        return reply
    verdict = "would pass" if assessment.readiness.passed else "would still fail"
    title = f"If you accept {', '.join(cmd.accept_risks)}: gates {verdict}"
    return replace(reply, title=title, tone=Tone.INFO)
