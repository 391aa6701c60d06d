"""One small handler per command. Each reads and writes through the unit of work it is given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot import commands as c
from bot import presenters
from bot.domain import (
    CANCELLABLE_STATES,
    RESCHEDULABLE_STATES,
    Actor,
    AuditDraft,
    ChangeClass,
    Conversation,
    DomainError,
    Release,
    State,
)
from bot.policy import Policy
from bot.ports import ReleaseQuery, UnitOfWork
from bot.reply import Reply, Tone
from bot.when import format_moment

CONFLICT_WINDOW = timedelta(hours=2)
ACTIVE_STATES = frozenset(State) - {State.VERIFIED, State.ROLLED_BACK, State.CANCELLED}


@dataclass(frozen=True, slots=True)
class Context:
    actor: Actor
    conversation: Conversation | None
    now: datetime
    policy: Policy
    uow: UnitOfWork
    available: frozenset[str]


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


async def _existing(ctx: Context, name: str) -> Release:
    release = await ctx.uow.releases.get(name)
    if release is None:
        raise DomainError(f"there is no release {name} — declare it first")
    return release


def _audit(ctx: Context, action: str, release: Release | None, **fields: Any) -> AuditDraft:
    return AuditDraft(
        action=action,
        actor=ctx.actor.principal,
        surface=ctx.actor.surface,
        at=ctx.now,
        release=release.name if release else None,
        **fields,
    )


@handles(c.Help, read_only=True)
async def help_(cmd: c.Help, ctx: Context) -> Reply:
    if cmd.topic:
        return presenters.help_one(cmd.topic, ctx.available)
    return presenters.help_all(ctx.available)


@handles(c.Declare)
async def declare(cmd: c.Declare, ctx: Context) -> Reply:
    _require_future(cmd.scheduled_at, ctx)
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
    await ctx.uow.audit.append(_audit(ctx, "declared", release, after=release.snapshot()))
    warnings = await _conflicts(ctx, release)
    await ctx.uow.commit()
    return presenters.release_card(release, ctx.policy, notes=warnings, broadcast=True)


def _require_future(moment: datetime | None, ctx: Context) -> None:
    if moment is not None and moment <= ctx.now:
        raise DomainError(f"{format_moment(moment, ctx.policy.zone)} is in the past")


async def _conflicts(ctx: Context, release: Release) -> list[str]:
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


@handles(c.Status, read_only=True)
async def status(cmd: c.Status, ctx: Context) -> Reply:
    return presenters.release_card(await _existing(ctx, cmd.release), ctx.policy)


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
    )
    releases = await ctx.uow.releases.find(query)
    return presenters.release_list(title, releases, ctx.policy.zone, "No releases match.")


@handles(c.Calendar, read_only=True)
async def calendar(cmd: c.Calendar, ctx: Context) -> Reply:
    query = ReleaseQuery(
        states=ACTIVE_STATES,
        scheduled_from=ctx.now,
        scheduled_until=ctx.now + timedelta(days=cmd.days),
        include_unscheduled=False,
    )
    releases = await ctx.uow.releases.find(query)
    return presenters.calendar(releases, ctx.policy.zone, days=cmd.days)


@handles(c.Cancel)
async def cancel(cmd: c.Cancel, ctx: Context) -> Reply:
    release = await _existing(ctx, cmd.release)
    if release.state not in CANCELLABLE_STATES:
        raise DomainError(f"{release.name} is {release.state.label} and can no longer be cancelled")
    cancelled = release.changed(at=ctx.now, state=State.CANCELLED)
    await _save(ctx, "cancelled", release, cancelled, reason=cmd.reason)
    return _changed_card(cancelled, ctx, f"Cancelled by {ctx.actor.display_name}: {cmd.reason}")


@handles(c.Reschedule)
async def reschedule(cmd: c.Reschedule, ctx: Context) -> Reply:
    release = await _existing(ctx, cmd.release)
    if release.state not in RESCHEDULABLE_STATES:
        raise DomainError(f"{release.name} is {release.state.label} and can no longer be moved")
    _require_future(cmd.scheduled_at, ctx)
    if release.scheduled_at == cmd.scheduled_at:
        return Reply(title=f"{release.name} is already scheduled then", tone=Tone.INFO)
    moved = release.changed(at=ctx.now, scheduled_at=cmd.scheduled_at)
    await _save(ctx, "rescheduled", release, moved)
    when = format_moment(cmd.scheduled_at, ctx.policy.zone)
    return _changed_card(moved, ctx, f"Rescheduled to {when} by {ctx.actor.display_name}")


async def _save(ctx: Context, action: str, before: Release, after: Release, **detail: Any) -> None:
    await ctx.uow.releases.update(after)
    draft = _audit(ctx, action, after, before=before.snapshot(), after=after.snapshot())
    if detail:
        draft = AuditDraft(**{**_fields(draft), "detail": detail})
    await ctx.uow.audit.append(draft)
    await ctx.uow.commit()


def _fields(draft: AuditDraft) -> dict[str, Any]:
    return {name: getattr(draft, name) for name in AuditDraft.__dataclass_fields__}


def _changed_card(release: Release, ctx: Context, note: str) -> Reply:
    return presenters.release_card(release, ctx.policy, notes=(note,), broadcast=False)
