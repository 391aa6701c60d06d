"""Change items and the release notes built from them."""

from __future__ import annotations

from datetime import datetime

from bot import commands as c
from bot import risk_presenters
from bot.assessment import risk_views
from bot.domain import DomainError, in_chat
from bot.handlers.base import Context, audit_draft, existing, finish, handles
from bot.handlers.releases import stale_signoffs
from bot.outbox import Outgoing
from bot.reply import Fact, Reply, Tone
from bot.risks import ChangeItem, RiskStatus

MAX_ITEMS_PER_CALL = 1000


# How many of the change items sent were new: the REST API answers with it.
ADDED_FACT = "Added"


@handles(c.AddChanges)
async def add_changes(cmd: c.AddChanges, ctx: Context) -> Reply:
    if not cmd.items or len(cmd.items) > MAX_ITEMS_PER_CALL:
        raise DomainError(f"send between 1 and {MAX_ITEMS_PER_CALL} change items")
    release = await existing(ctx, cmd.release, for_update=True)
    known = set(await ctx.uow.changes.for_release(release.name))
    listed = dict.fromkeys(_change_item(release.name, row) for row in cmd.items)
    new = [item for item in listed if item not in known]
    if not new:  # all listed already: a retried request, which must not list them twice
        return Reply(
            title=f"Nothing changed: {release.name} lists these change items already",
            facts=(Fact(ADDED_FACT, "0"),),
        )
    for item in new:
        await ctx.uow.changes.add(item)
    detail = {"count": len(new)}
    await ctx.uow.audit.append(audit_draft(ctx, "changes_added", release, detail=detail))
    notes = await stale_signoffs(ctx, release)
    await finish(ctx, release)
    return Reply(
        title=f"{len(new)} change item(s) added to {release.name}",
        tone=Tone.SUCCESS,
        facts=(Fact(ADDED_FACT, str(len(new))),),
        notes=tuple(notes),
        subject=None,
    )


def _change_item(release: str, row: c.ChangeRow) -> ChangeItem:
    title, kind, squad, link, author, merged = row
    merged_at = datetime.fromisoformat(merged) if merged else None
    return ChangeItem(release, title, kind, squad, link, author, merged_at)


@handles(c.Notes)
async def notes(cmd: c.Notes, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release)
    reply = await release_notes(ctx, release.name)
    if not cmd.publish:
        return reply
    where = next((c for c in (release.channel, ctx.conversation) if in_chat(c)), None)
    if where is None:
        # A console is nowhere to publish to: the notes would wait for a sender for ever.
        raise DomainError(
            f"{release.name} has no Slack or Teams channel to publish to: publish from one"
        )
    await ctx.uow.outbox.add(Outgoing(where, reply), at=ctx.now)
    await ctx.uow.audit.append(
        audit_draft(ctx, "notes_published", release, detail={"channel": str(where)})
    )
    await ctx.uow.commit()
    return Reply(title=f"Release notes of {release.name} published", tone=Tone.SUCCESS)


async def release_notes(ctx: Context, release: str) -> Reply:
    items = await ctx.uow.changes.for_release(release)
    risks = await risk_views(ctx.uow, release, ctx.now)
    known = [v for v in risks if v.status is RiskStatus.ACCEPTED]
    return risk_presenters.release_notes(release, items, known, ctx.policy.zone)
