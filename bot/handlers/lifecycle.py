"""Lifecycle transitions (SPEC §4.1): each guarded, each refusal saying exactly why."""

from __future__ import annotations

from datetime import timedelta

from bot import commands as c
from bot import presenters
from bot.assessment import assess
from bot.domain import CANCELLABLE_STATES, DEPLOYABLE_STATES, ChangeClass, Release, State
from bot.handlers.base import Context, existing, finish, handles, refuse, save
from bot.handlers.deferral import take_waiting_risks
from bot.handlers.releases import conflicts
from bot.handlers.risks import close_with_release, pass_on_deferred_risks
from bot.reply import Reply


@handles(c.Deploy)
async def deploy(cmd: c.Deploy, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release, for_update=True)
    if release.state not in DEPLOYABLE_STATES:  # said on its own: nothing else matters then
        return await refuse(ctx, release, "deploy", f"{release.name} is {release.state.label}")
    check = (await assess(ctx.uow, release, ctx.policy, ctx.now)).deploy_check()
    if check.refused:
        reason = f"{release.name} may not deploy: " + "; ".join(check.refused)
        return await refuse(ctx, release, "deploy", reason)
    if release.change_class is ChangeClass.EMERGENCY:
        return await _emergency_deploy(ctx, release, check.skipped)
    return await _move(ctx, release, State.DEPLOYING, "deploying", "Deploying")


async def _emergency_deploy(ctx: Context, release: Release, skipped: tuple[str, ...]) -> Reply:
    """Emergency changes skip the gates and owe a signed retrospective review instead."""
    hours = ctx.policy.for_class(release.change_class).retro_review_hours
    due = ctx.now + timedelta(hours=hours) if hours else None
    moved = release.changed(at=ctx.now, state=State.DEPLOYING, review_due_at=due)
    await save(ctx, "deploying", release, moved, emergency=True, skipped=list(skipped))
    notes = [f"Emergency deploy started by {ctx.actor.display_name}"]
    if skipped:
        notes.append("Skipped: " + "; ".join(skipped))
    return await _done(ctx, moved, notes)


async def _move(
    ctx: Context, release: Release, to: State, action: str, verb: str, **detail: str
) -> Reply:
    moved = release.changed(at=ctx.now, state=to)
    await save(ctx, action, release, moved, **detail)
    why = f": {detail['reason']}" if "reason" in detail else ""
    notes = [f"{verb} by {ctx.actor.display_name}{why}"]
    if to is State.CANCELLED:
        await close_with_release(ctx, moved)
        notes += await pass_on_deferred_risks(ctx, moved)
    return await _done(ctx, moved, notes)


async def _done(ctx: Context, release: Release, notes: list[str]) -> Reply:
    assessment = await finish(ctx, release)
    return presenters.release_card(assessment, ctx.policy, now=ctx.now, notes=notes)


async def _transition(
    ctx: Context, name: str, allowed: tuple[State, ...], to: State, verb: str, **detail: str
) -> Reply:
    release = await existing(ctx, name, for_update=True)
    if release.state not in allowed:
        needs = " or ".join(s.label for s in allowed)
        reason = (
            f"{release.name} is {release.state.label}; only a {needs} release can be {to.label}"
        )
        return await refuse(ctx, release, to.value, reason)
    return await _move(ctx, release, to, to.value, verb, **detail)


@handles(c.Deployed)
async def deployed(cmd: c.Deployed, ctx: Context) -> Reply:
    return await _transition(ctx, cmd.release, (State.DEPLOYING,), State.DEPLOYED, "Deployed")


@handles(c.Verified)
async def verified(cmd: c.Verified, ctx: Context) -> Reply:
    return await _transition(ctx, cmd.release, (State.DEPLOYED,), State.VERIFIED, "Verified")


@handles(c.Rollback)
async def rollback(cmd: c.Rollback, ctx: Context) -> Reply:
    allowed = (State.DEPLOYING, State.DEPLOYED)
    return await _transition(
        ctx, cmd.release, allowed, State.ROLLED_BACK, "Rolled back", reason=cmd.reason
    )


@handles(c.Cancel)
async def cancel(cmd: c.Cancel, ctx: Context) -> Reply:
    allowed = tuple(s for s in State if s in CANCELLABLE_STATES)
    return await _transition(
        ctx, cmd.release, allowed, State.CANCELLED, "Cancelled", reason=cmd.reason
    )


@handles(c.Promote)
async def promote(cmd: c.Promote, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release, for_update=True)
    if release.state in (State.CANCELLED, State.ROLLED_BACK):
        return await refuse(ctx, release, "promote", f"{release.name} is {release.state.label}")
    if release.train == cmd.train:
        return Reply(title=f"Nothing changed: {release.name} is already on train {cmd.train}")
    moved = release.changed(at=ctx.now, train=cmd.train)
    await save(ctx, "promoted", release, moved)
    notes = [f"Promoted to train {cmd.train} by {ctx.actor.display_name}"]
    notes += await conflicts(ctx, moved)  # its new train's releases close by
    if moved.state in DEPLOYABLE_STATES:
        # Joining the train, it is the release the train's waiting risks were deferred to, as a
        # release declared on it would be.
        notes += await take_waiting_risks(ctx, moved)
    return await _done(ctx, moved, notes)
