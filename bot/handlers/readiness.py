"""Keeping `approved` true as time passes and the policy changes (SPEC §4.1).

Commands settle the releases they touch. Two things change readiness with nobody touching the
release: an acceptance running out (its risk is open again) and a new policy (a gate added or
dropped). The scheduler looks for such releases with `unsettled`, in read-only units of work,
and sends `SettleReadiness` for those it finds: the write lock is taken only when something
is to move.
"""

from __future__ import annotations

from datetime import datetime

from bot import commands as c
from bot.assessment import assess
from bot.domain import Release, State
from bot.handlers.base import Context, handles, settle
from bot.handlers.notify import release_changed
from bot.policy import Policy
from bot.ports import ReleaseQuery, UnitOfWork
from bot.reply import Reply

SETTLED_STATES = frozenset({State.PLANNED, State.APPROVED})
# Releases looked at in one pass. Approved ones are few (approved, not yet deploying); planned
# ones are looked at only under a new policy, once.
MOST_PER_PASS = 10_000


async def to_settle(uow: UnitOfWork, *, planned_too: bool) -> list[Release]:
    """The releases whose readiness may have changed with nobody acting: the approved ones,
    and with `planned_too` (a policy not settled yet) the planned ones."""
    states = SETTLED_STATES if planned_too else frozenset({State.APPROVED})
    return list(await uow.releases.find(ReleaseQuery(states=states, limit=MOST_PER_PASS)))


async def unsettled(uow: UnitOfWork, release: Release, policy: Policy, now: datetime) -> bool:
    """Whether `release` is approved and not ready, or planned and ready."""
    looks = await assess(uow, release, policy, now)
    return looks.ready != (release.state is State.APPROVED)


@handles(c.SettleReadiness)
async def settle_readiness(cmd: c.SettleReadiness, ctx: Context) -> Reply:
    """Move each named release its readiness now says it should be in (looked at again under
    its lock), audited, announced, with its cards and pages updated, as when a command does."""
    moved = []
    for name in cmd.releases:
        release = await ctx.uow.releases.get(name, for_update=True)
        if release is None or release.state not in SETTLED_STATES:
            continue
        assessment = await settle(ctx, release)
        if assessment.release.state is not release.state:
            await release_changed(ctx, assessment)
            moved.append(name)
    await ctx.uow.commit()
    return Reply(title=f"Readiness settled: {len(moved)} release(s) moved", notes=tuple(moved))
