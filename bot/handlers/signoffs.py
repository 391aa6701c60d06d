"""Sign-offs, signals and gates: the governance a release passes before it may deploy."""

from __future__ import annotations

from bot import commands as c
from bot import presenters
from bot.domain import OPEN_FOR_SIGNOFF, DomainError, Release, SignalValue, State
from bot.gates import SIGNALS, signal_problem
from bot.handlers.base import (
    Context,
    audit_draft,
    existing,
    finish,
    handles,
    refuse,
    save,
)
from bot.reply import Reply, Tone
from bot.signoffs import AlreadyDone, Refusal, SignOff, Verdict, role_for


@handles(c.Approve)
async def approve(cmd: c.Approve, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release, for_update=True)
    if release.review_due_at is not None and release.state not in OPEN_FOR_SIGNOFF:
        # Owed since the emergency deploy, whatever came after it (a rollback, a cancel).
        return await _sign_review(ctx, release)
    return await _decide(ctx, release, cmd.role, Verdict.APPROVED, cmd.note)


@handles(c.Reject)
async def reject(cmd: c.Reject, ctx: Context) -> Reply:
    if not cmd.reason.strip():
        raise DomainError("a reason is required to reject")
    release = await existing(ctx, cmd.release, for_update=True)
    return await _decide(ctx, release, cmd.role, Verdict.REJECTED, cmd.reason.strip())


async def _decide(
    ctx: Context, release: Release, role: str | None, verdict: Verdict, note: str | None
) -> Reply:
    attempt = "approve" if verdict is Verdict.APPROVED else "reject"
    if release.state not in OPEN_FOR_SIGNOFF:
        return await refuse(
            ctx, release, attempt, f"{release.name} is {release.state.label}; sign-offs are closed"
        )
    signoffs = await ctx.uow.signoffs.for_release(release.name)
    try:
        chosen = role_for(
            release=release,
            policy=ctx.policy,
            identities=ctx.actor.identities,
            asked_role=role,
            verdict=verdict,
            signoffs=signoffs,
        )
    except AlreadyDone as done:
        return Reply(title=f"Nothing changed: {done}", tone=Tone.INFO)
    except Refusal as refusal:
        return await refuse(ctx, release, attempt, str(refusal))
    await _record(ctx, release, chosen, verdict, note)
    assessment = await finish(ctx, release)
    said = f"{verdict.value.capitalize()} as {chosen} by {ctx.actor.display_name}"
    notes = [f"{said}: {note}" if note else said]
    return presenters.release_card(assessment, ctx.policy, now=ctx.now, notes=notes)


async def _record(
    ctx: Context, release: Release, role: str, verdict: Verdict, note: str | None
) -> None:
    signer = _signer(ctx, role)
    signoff = SignOff(release.name, role, signer, ctx.actor.display_name, verdict, ctx.now, note)
    await ctx.uow.signoffs.add(signoff)
    detail = {"role": role, "verdict": verdict.value, "note": note}
    await ctx.uow.audit.append(audit_draft(ctx, "signed_off", release, detail=detail))


def _signer(ctx: Context, role: str) -> str:
    """Who a sign-off is recorded as: their address when their platform told it
    (bot/people.py), else the principal their role names, so that one person is one signer
    whichever platform they click in."""
    if ctx.actor.aliases:
        return ctx.actor.aliases[0]
    return ctx.policy.member_as(role, ctx.actor.identities) or ctx.actor.principal


async def _sign_review(ctx: Context, release: Release) -> Reply:
    """After an emergency deploy, a member of the class's sign-off roles signs the review."""
    roles = ctx.policy.for_class(release.change_class).signoffs
    if release.reviewed_by:
        return Reply(title=f"Nothing changed: the review is signed by {release.reviewed_by}")
    if not any(ctx.policy.in_role(r, ctx.actor.identities) for r in roles):
        return await refuse(
            ctx,
            release,
            "review",
            f"the retrospective review is signed by {', '.join(roles) or 'a sign-off role'}",
        )
    if ctx.policy.forbid_self_approval and release.owner in ctx.actor.identities:
        return await refuse(ctx, release, "review", "you may not review your own emergency change")
    reviewed = release.changed(at=ctx.now, reviewed_by=ctx.actor.principal)
    await save(ctx, "retro_reviewed", release, reviewed)
    assessment = await finish(ctx, reviewed)
    notes = [f"Retrospective review signed by {ctx.actor.display_name}"]
    return presenters.release_card(assessment, ctx.policy, now=ctx.now, notes=notes)


@handles(c.Signal)
async def signal(cmd: c.Signal, ctx: Context) -> Reply:
    keys = [key for key, _ in cmd.values]
    if twice := next((key for key in keys if keys.count(key) > 1), None):
        raise DomainError(f"{twice} is given twice: send each signal once")
    values = {key: _number(key, raw) for key, raw in cmd.values}
    release = await existing(ctx, cmd.release, for_update=True)
    if release.state is State.CANCELLED:
        raise DomainError(f"{release.name} is cancelled: its readiness no longer matters")
    for key, value in values.items():
        await ctx.uow.signals.add(SignalValue(release.name, key, value, ctx.now, ctx.actor.surface))
    detail = {"signals": values}
    await ctx.uow.audit.append(audit_draft(ctx, "signal", release, detail=detail))
    assessment = await finish(ctx, release)
    said = ", ".join(f"{k}={v:g}" for k, v in values.items())
    notes = [f"Signals from {ctx.actor.display_name}: {said}"]
    unread = [key for key in values if key not in SIGNALS]
    if unread:  # kept (a dashboard may read it), but a typo of a gate's key would go unseen
        gates_read = ", ".join(SIGNALS)
        notes.append(f"No gate reads {', '.join(unread)} (gates read {gates_read})")
    return presenters.release_card(assessment, ctx.policy, now=ctx.now, notes=notes)


def _number(key: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise DomainError(f"{key}={raw} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise DomainError(f"{key}={raw} is not a finite number")
    problem = signal_problem(key, value, raw)
    if problem is not None:
        raise DomainError(problem)
    return value
