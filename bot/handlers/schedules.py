"""Release syncs: what each firing says, claimed once across replicas (polls: handlers/polls.py)."""

from __future__ import annotations

from datetime import timedelta

from bot import commands as c
from bot import schedule_presenters as present
from bot.assessment import Assessment, assess
from bot.domain import ON_ITS_WAY_STATES, DomainError, NotFound, in_chat
from bot.handlers.base import Context, audit_draft, handles
from bot.outbox import Outgoing
from bot.parser import id_number
from bot.ports import ReleaseQuery, find_and_more
from bot.reply import Reply, Tone
from bot.schedules import ScheduleError, Sync, fires_on, to_cron

AGENDA_DAYS = 7
AGENDA_SIZE = 25


@handles(c.AddSync)
async def add_sync(cmd: c.AddSync, ctx: Context) -> Reply:
    where = ctx.conversation
    if where is None or not in_chat(where):
        raise DomainError("a sync posts to a Slack or Teams channel: set it up there")
    try:
        cron = to_cron(cmd.schedule)
    except ScheduleError as problem:
        raise DomainError(f"{cmd.schedule!r}: {problem}") from None
    zone = cmd.timezone or ctx.policy.timezone
    fires = fires_on(cron)
    for held in await ctx.uow.syncs.active():
        if _here(held, ctx) and held.timezone == zone and _fires_on(held) == fires:
            # The same reminders twice in one channel would post each one twice.
            return Reply(
                title=f"Nothing changed: {held.label} reminds here already ({held.schedule}, "
                f"{held.timezone})"
            )
    sync = await ctx.uow.syncs.add(
        conversation=where,
        schedule=cmd.schedule,
        cron=cron,
        timezone=zone,
        created_by=ctx.actor.principal,
        created_at=ctx.now,
    )
    detail = {"sync": sync.label, "schedule": cmd.schedule, "timezone": zone, "channel": str(where)}
    await ctx.uow.audit.append(audit_draft(ctx, "sync_added", None, detail=detail))
    await ctx.uow.commit()
    return Reply(
        title=f"Release sync {sync.label}: {cmd.schedule} ({zone})",
        tone=Tone.SUCCESS,
        summary="Each reminder lists the next 7 days of releases.",
    )


@handles(c.ListSyncs, read_only=True)
async def list_syncs(cmd: c.ListSyncs, ctx: Context) -> Reply:
    syncs = [s for s in await ctx.uow.syncs.active() if _here(s, ctx)]
    return present.sync_list(syncs)


@handles(c.CancelSync)
async def cancel_sync(cmd: c.CancelSync, ctx: Context) -> Reply:
    number = id_number(cmd.sync_id, "S")
    sync = await ctx.uow.syncs.get(number) if number is not None else None
    if sync is None or sync.cancelled_at is not None:
        raise NotFound(f"there is no sync {cmd.sync_id}")
    if not _here(sync, ctx):
        # A sync belongs to its channel, as `syncs` lists it: cancelled where it is held.
        raise DomainError(f"{sync.label} reminds another channel: cancel it there")
    await ctx.uow.syncs.cancel(sync.id, at=ctx.now)
    await ctx.uow.audit.append(
        audit_draft(ctx, "sync_cancelled", None, detail={"sync": sync.label})
    )
    await ctx.uow.commit()
    return Reply(title=f"Release sync {sync.label} cancelled", tone=Tone.SUCCESS)


def _fires_on(sync: Sync) -> tuple[frozenset[int], ...] | None:
    try:
        return fires_on(sync.cron)
    except ScheduleError:  # stored before a rule it breaks: it matches nothing new
        return None


def _here(sync: Sync, ctx: Context) -> bool:
    """Whether `sync` reminds the channel the command came from (any post of it, in Teams)."""
    return ctx.conversation is not None and sync.conversation.channel == ctx.conversation.channel


@handles(c.FireSync)
async def fire_sync(cmd: c.FireSync, ctx: Context) -> Reply:
    sync = await _live_sync(ctx, cmd.sync_id)
    if not await ctx.uow.occurrences.claim(sync.key, cmd.occurrence, at=ctx.now):
        return Reply(title=f"{sync.label} at {cmd.occurrence.isoformat()} was posted already")
    upcoming, more = await _agenda(ctx)
    reply = present.agenda(sync, cmd.occurrence, upcoming, ctx.public_url, more=more)
    await ctx.uow.outbox.add(Outgoing(sync.conversation, reply), at=ctx.now)
    await ctx.uow.commit()
    return reply


@handles(c.ReportMissed)
async def report_missed(cmd: c.ReportMissed, ctx: Context) -> Reply:
    """Missed occurrences are claimed (never replayed) and reported in one message."""
    sync = await _live_sync(ctx, cmd.sync_id)
    claimed = [
        o for o in cmd.occurrences if await ctx.uow.occurrences.claim(sync.key, o, at=ctx.now)
    ]
    if not claimed:
        return Reply(title="Nothing to report")
    reply = present.missed(sync, claimed)
    await ctx.uow.outbox.add(Outgoing(sync.conversation, reply), at=ctx.now)
    await ctx.uow.commit()
    return reply


async def _live_sync(ctx: Context, sync_id: int) -> Sync:
    sync = await ctx.uow.syncs.get(sync_id)
    if sync is None or sync.cancelled_at is not None:
        raise NotFound(f"there is no sync S{sync_id}")
    return sync


async def _agenda(ctx: Context) -> tuple[list[Assessment], bool]:
    """The soonest releases of the agenda, assessed, and whether there are more."""
    query = ReleaseQuery(
        states=ON_ITS_WAY_STATES,
        scheduled_from=ctx.now,
        scheduled_until=ctx.now + timedelta(days=AGENDA_DAYS),
        include_unscheduled=False,
        limit=AGENDA_SIZE,
    )
    found, more = await find_and_more(ctx.uow.releases, query)
    return [await assess(ctx.uow, r, ctx.policy, ctx.now) for r in found], more
