"""Freeze windows: deploys are refused inside one, except for emergency changes."""

from __future__ import annotations

from datetime import timedelta

from bot import commands as c
from bot import presenters
from bot.domain import DomainError, NotFound
from bot.handlers.base import Context, audit_draft, handles
from bot.parser import id_number
from bot.reply import Reply, Tone
from bot.when import format_moment

LISTED_AHEAD = timedelta(days=366)


@handles(c.Freeze)
async def freeze(cmd: c.Freeze, ctx: Context) -> Reply:
    if cmd.ends_at <= ctx.now:
        raise DomainError("that freeze window is over already")
    window = await ctx.uow.freezes.add(
        starts_at=cmd.starts_at,
        ends_at=cmd.ends_at,
        reason=cmd.reason,
        created_by=ctx.actor.principal,
    )
    after = {
        "id": window.label,
        "from": cmd.starts_at.isoformat(),
        "to": cmd.ends_at.isoformat(),
        "reason": cmd.reason,
    }
    await ctx.uow.audit.append(audit_draft(ctx, "freeze_added", None, after=after))
    await ctx.uow.commit()
    zone = ctx.policy.zone
    span = f"{format_moment(cmd.starts_at, zone)} → {format_moment(cmd.ends_at, zone)}"
    return Reply(
        title=f"Freeze {window.label} declared",
        tone=Tone.SUCCESS,
        summary=span,
        notes=(f"Reason: {cmd.reason}",) if cmd.reason else (),
    )


@handles(c.ListFreezes, read_only=True)
async def freezes(cmd: c.ListFreezes, ctx: Context) -> Reply:
    windows = await ctx.uow.freezes.overlapping(ctx.now, ctx.now + LISTED_AHEAD)
    return presenters.freeze_list(windows, ctx.policy.zone, now=ctx.now)


@handles(c.Unfreeze)
async def unfreeze(cmd: c.Unfreeze, ctx: Context) -> Reply:
    number = id_number(cmd.freeze_id, "F")
    window = await ctx.uow.freezes.get(number) if number is not None else None
    if window is None:
        raise NotFound(f"there is no freeze {cmd.freeze_id}")
    await ctx.uow.freezes.remove(window.id)
    before = {
        "id": window.label,
        "from": window.starts_at.isoformat(),
        "to": window.ends_at.isoformat(),
        "reason": window.reason,
    }
    await ctx.uow.audit.append(audit_draft(ctx, "freeze_removed", None, before=before))
    await ctx.uow.commit()
    return Reply(title=f"Freeze {window.label} removed", tone=Tone.SUCCESS)
