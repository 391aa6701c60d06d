"""Declaring, finding and moving releases."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot import commands as c
from bot import presenters
from bot.domain import (
    OPEN_FOR_SIGNOFF,
    RESCHEDULABLE_STATES,
    ChangeClass,
    DomainError,
    Release,
    State,
)
from bot.handlers.base import Context, audit_draft, card, existing, finish, handles, save, settle
from bot.handlers.deferral import take_waiting_risks, waiting_risks, waits_for
from bot.ports import ReleaseQuery, find_and_more
from bot.reply import Reply, Section, Tone
from bot.schedules import Sync
from bot.when import WhenError, format_moment, require_in_range

CONFLICT_WINDOW = timedelta(hours=2)
ACTIVE_STATES = frozenset(State) - {State.VERIFIED, State.ROLLED_BACK, State.CANCELLED}


@handles(c.Help, read_only=True)
async def help_(cmd: c.Help, ctx: Context) -> Reply:
    if cmd.topic:
        return presenters.help_one(cmd.topic, ctx.available)
    return presenters.help_all(ctx.available)


@handles(c.Declare)
async def declare(cmd: c.Declare, ctx: Context) -> Reply:
    require_future(cmd.scheduled_at, ctx)
    service, _, version = cmd.release.partition("@")
    release = Release(
        service=service,
        version=version,
        state=State.PLANNED,
        change_class=ChangeClass(cmd.change_class),
        owner=cmd.owner or ctx.actor.principal,
        created_at=ctx.now,
        updated_at=ctx.now,
        scheduled_at=cmd.scheduled_at,
        train=cmd.train,
        env=cmd.env,
        channel=ctx.conversation,
    )
    await ctx.uow.releases.add(release)
    await ctx.uow.audit.append(audit_draft(ctx, "declared", release, after=release.snapshot()))
    notes = await conflicts(ctx, release) + await freeze_warnings(ctx, release.scheduled_at)
    notes += await take_waiting_risks(ctx, release)
    assessment = await settle(ctx, release)
    await ctx.uow.commit()
    return presenters.release_card(assessment, ctx.policy, now=ctx.now, notes=notes, broadcast=True)


def require_future(moment: datetime | None, ctx: Context) -> None:
    if moment is None:
        return
    try:
        # The parser and the REST API's instants check this too; a command built some other
        # way (a form, a script) still must not reach the store out of range.
        require_in_range(moment)
    except WhenError as problem:
        raise DomainError(str(problem)) from None
    if moment <= ctx.now:
        raise DomainError(f"{format_moment(moment, ctx.policy.zone)} is in the past")


async def conflicts(ctx: Context, release: Release) -> list[str]:
    """Warn about other active releases of the same service, train or env close in time."""
    if release.scheduled_at is None:
        return []
    nearby = await ctx.uow.releases.find(
        ReleaseQuery(
            states=ACTIVE_STATES,
            scheduled_from=release.scheduled_at - CONFLICT_WINDOW,
            scheduled_until=release.scheduled_at + CONFLICT_WINDOW,
            include_unscheduled=False,
        )
    )
    return [
        f"⚠ Close to {other.name} at {format_moment(other.scheduled_at, ctx.policy.zone)}"
        for other in nearby
        if other.name != release.name and _overlaps(release, other)
    ]


def _overlaps(a: Release, b: Release) -> bool:
    same_env = a.env is not None and a.env == b.env
    same_train = a.train is not None and a.train == b.train
    return a.service == b.service or same_env or same_train


async def freeze_warnings(ctx: Context, moment: datetime | None) -> list[str]:
    if moment is None:
        return []
    freezes = await ctx.uow.freezes.overlapping(moment, moment)
    return [
        f"⚠ Inside freeze {f.label}{f' ({f.reason})' if f.reason else ''}: deploys are blocked "
        f"until {format_moment(f.ends_at, ctx.policy.zone)} except for emergency changes"
        for f in freezes
        if f.covers(moment)
    ]


@handles(c.Status, read_only=True)
async def status(cmd: c.Status, ctx: Context) -> Reply:
    return await card(ctx, await existing(ctx, cmd.release))


# The most releases `list` and `calendar` read: a listing longer than that says so.
MOST_READ = 200

LIST_SCOPES = {
    "upcoming": ("Upcoming releases", ACTIVE_STATES - {State.DEPLOYED}),
    "active": ("Active releases", ACTIVE_STATES),
    "all": ("All releases", None),
}


@handles(c.ListReleases, read_only=True)
async def list_releases(cmd: c.ListReleases, ctx: Context) -> Reply:
    title, states = LIST_SCOPES[cmd.scope]
    query = ReleaseQuery(
        states=states,
        train=cmd.train,
        service=cmd.service,
        scheduled_from=ctx.now if cmd.scope == "upcoming" else None,
        limit=MOST_READ,
    )
    found, more = await find_and_more(ctx.uow.releases, query)
    reply = presenters.release_list(
        title, found, ctx.policy.zone, "No releases match.", complete=not more
    )
    # Only those the listing's train or service would take (a risk waits for a train, or for
    # its service's next release when it had none).
    waiting = [
        (risk, source)
        for risk, source in await waiting_risks(ctx)
        if source is None
        or (cmd.train in (None, source.train) and cmd.service in (None, source.service))
    ]
    if not waiting:
        return reply
    lines = tuple(
        f"{r.label} [{r.severity.value}] {r.description} (from {r.origin}, waits for "
        f"{waits_for(source)})"
        for r, source in waiting
    )
    deferred = Section("Deferred risks waiting for a release of their train", lines)
    return replace(reply, sections=(*reply.sections, deferred))


@handles(c.Calendar, read_only=True)
async def calendar(cmd: c.Calendar, ctx: Context) -> Reply:
    until = ctx.now + timedelta(days=cmd.days)
    query = ReleaseQuery(
        states=ACTIVE_STATES,
        scheduled_from=ctx.now,
        scheduled_until=until,
        include_unscheduled=False,
        limit=MOST_READ,
    )
    found, more = await find_and_more(ctx.uow.releases, query)
    freezes = await ctx.uow.freezes.overlapping(ctx.now, until)
    meetings = await sync_meetings(ctx, until)
    reply = presenters.calendar(found, freezes, meetings, ctx.policy.zone, days=cmd.days)
    if not more:
        return reply
    last = found[-1].scheduled_at
    cut = (
        f"…releases after {format_moment(last, ctx.policy.zone)} are not shown; ask for fewer days."
    )
    return replace(reply, notes=(*reply.notes, cut))


async def sync_meetings(ctx: Context, until: datetime) -> list[tuple[datetime, Sync]]:
    """Every meeting of every active sync from now up to `until` (the calendar orders them)."""
    if ctx.sync_times is None:
        return []
    return [
        (moment, sync)
        for sync in await ctx.uow.syncs.active()
        for moment in ctx.sync_times(sync, ctx.now, until)
    ]


@handles(c.Reschedule)
async def reschedule(cmd: c.Reschedule, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release, for_update=True)
    if release.state not in RESCHEDULABLE_STATES:
        raise DomainError(f"{release.name} is {release.state.label} and can no longer be moved")
    require_future(cmd.scheduled_at, ctx)
    if release.scheduled_at == cmd.scheduled_at:
        return Reply(title=f"{release.name} is already scheduled then", tone=Tone.INFO)
    moved = release.changed(at=ctx.now, scheduled_at=cmd.scheduled_at)
    await save(ctx, "rescheduled", release, moved)
    notes = [
        f"Rescheduled to {format_moment(cmd.scheduled_at, ctx.policy.zone)} by "
        f"{ctx.actor.display_name}"
    ]
    notes += await conflicts(ctx, moved)
    notes += await stale_signoffs(ctx, moved) + await freeze_warnings(ctx, cmd.scheduled_at)
    assessment = await finish(ctx, moved)
    return presenters.release_card(assessment, ctx.policy, now=ctx.now, notes=notes)


async def stale_signoffs(ctx: Context, release: Release) -> list[str]:
    """A sign-off is for the release as it stood: a change makes the earlier ones stale."""
    if ctx.policy.keep_signoffs_on_change or release.state not in OPEN_FOR_SIGNOFF:
        return []  # once deploying, sign-offs are closed: none could be given again
    count = await ctx.uow.signoffs.mark_stale(release.name)
    if not count:
        return []
    await ctx.uow.audit.append(audit_draft(ctx, "signoffs_stale", release, detail={"count": count}))
    return [f"{count} earlier sign-off(s) are now stale and must be given again"]
