"""What every handler gets (Context), the one registry, and the steps handlers share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bot import commands as c
from bot import presenters
from bot.assessment import Assessment, assess
from bot.domain import AuditDraft, NotFound, Release, State
from bot.handlers.context import Context
from bot.handlers.notify import announce, release_changed
from bot.reply import Reply, error

C = TypeVar("C", bound=c.Command)
Handler = Callable[[Any, Context], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Registration:
    handler: Handler
    read_only: bool


HANDLERS: dict[type[c.Command], Registration] = {}


def handles(
    command_type: type[C], *, read_only: bool = False
) -> Callable[[Callable[[C, Context], Awaitable[Reply]]], Callable[[C, Context], Awaitable[Reply]]]:
    def register(
        handler: Callable[[C, Context], Awaitable[Reply]],
    ) -> Callable[[C, Context], Awaitable[Reply]]:
        HANDLERS[command_type] = Registration(handler, read_only)
        return handler

    return register


async def existing(ctx: Context, name: str, *, for_update: bool = False) -> Release:
    release = await ctx.uow.releases.get(name, for_update=for_update)
    if release is None:
        raise NotFound(f"there is no release {name} — declare it first")
    return release


def audit_draft(ctx: Context, action: str, release: Release | None, **fields: Any) -> AuditDraft:
    return AuditDraft(
        action=action,
        actor=ctx.actor.principal,
        surface=ctx.actor.surface,
        at=ctx.now,
        release=release.name if release else None,
        **fields,
    )


async def save(ctx: Context, action: str, before: Release, after: Release, **detail: Any) -> None:
    """Store the changed release with its audit event and announcement (committed later)."""
    await ctx.uow.releases.update(after)
    snapshots = {"before": before.snapshot(), "after": after.snapshot()}
    await ctx.uow.audit.append(audit_draft(ctx, action, after, detail=detail, **snapshots))
    await announce(ctx, before, after, detail.get("reason") or detail.get("why"))


async def finish(ctx: Context, release: Release) -> Assessment:
    """Settle the release, queue updates of its posted cards, and commit it all at once."""
    assessment = await settle(ctx, release)
    await release_changed(ctx, assessment)
    await ctx.uow.commit()
    return assessment


async def settle(ctx: Context, release: Release) -> Assessment:
    """Approve a ready planned release, or send an approved one back when it no longer is."""
    assessment = await assess(ctx.uow, release, ctx.policy, ctx.now)
    if release.state is State.PLANNED and assessment.ready:
        moved = release.changed(at=ctx.now, state=State.APPROVED)
        await save(ctx, "approved", release, moved, why="all sign-offs in and every gate passes")
    elif release.state is State.APPROVED and not assessment.ready:
        moved = release.changed(at=ctx.now, state=State.PLANNED)
        await save(ctx, "unapproved", release, moved, why=_not_ready(assessment))
    else:
        return assessment
    return await assess(ctx.uow, moved, ctx.policy, ctx.now)


def _not_ready(assessment: Assessment) -> str:
    reasons = [r.reason for r in assessment.readiness.failing]
    reasons.extend(assessment.signoff_shortfall())
    return "; ".join(reasons)


async def refuse(ctx: Context, release: Release, attempt: str, reason: str) -> Reply:
    """Say no, and keep the refused attempt (only that) in the audit trail."""
    detail = {"attempt": attempt, "reason": reason}
    await ctx.uow.audit.append(audit_draft(ctx, "refused", release, detail=detail))
    await ctx.uow.commit()
    return error(reason, problem="refused")


async def card(ctx: Context, release: Release, notes: Sequence[str] = ()) -> Reply:
    """The release card as it stands now inside this unit of work."""
    assessment = await assess(ctx.uow, release, ctx.policy, ctx.now)
    return presenters.release_card(assessment, ctx.policy, now=ctx.now, notes=notes)
