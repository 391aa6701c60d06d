"""`audit <rel>`: the audit trail of one release, as people read it."""

from __future__ import annotations

from bot import commands as c
from bot import presenters
from bot.handlers.base import Context, existing, handles
from bot.reply import Reply


@handles(c.Audit, read_only=True)
async def audit(cmd: c.Audit, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release)
    events = await ctx.uow.audit.for_release(release.name)
    return presenters.audit_trail(release.name, events, ctx.policy.zone)
