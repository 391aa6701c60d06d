"""Where a deferred risk goes: the next release of its train (SPEC §4.4).

A risk deferred when its train has no next release waits, release-less, and the next release
declared on that train takes it, so deferring never drops a risk from the gates for good.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain import DEPLOYABLE_STATES, Release
from bot.handlers.base import Context, audit_draft
from bot.ports import ReleaseQuery
from bot.risks import Outcome, Risk


async def next_release(ctx: Context, release: Release) -> Release | None:
    """The next release of the same train (see `same_train`), or None.

    The soonest one that comes after this one (`comes_after`): a deferred risk finds a release
    only here or when one is declared (`take_waiting_risks`), so passing over a release
    declared without a date would strand the risk.
    """
    query = ReleaseQuery(
        train=release.train,
        service=release.service if release.train is None else None,
        # Not one on its way out already, or never going: it could not take the risk along.
        states=DEPLOYABLE_STATES,
        scheduled_from=release.scheduled_at,
    )
    later = [
        r
        for r in await ctx.uow.releases.find(query)
        if same_train(release, r) and comes_after(r, release)
    ]
    return later[0] if later else None


def comes_after(later: Release, earlier: Release) -> bool:
    """Strictly after, so that of two releases only one is the other's next: by date where both
    have one, else by declaration (an older release left without a date is no "next" one)."""
    if later.scheduled_at is not None and earlier.scheduled_at is not None:
        return later.scheduled_at > earlier.scheduled_at
    return later.created_at > earlier.created_at


def same_train(a: Release, b: Release) -> bool:
    """Whether two releases ride one train, which is where a deferred risk goes next.

    Releases that name a train ride it. A release that names none rides its service's own line:
    the next release of the same service that names no train either — so deferring on it still
    means "the next one", not "nowhere".
    """
    if a.train is not None or b.train is not None:
        return a.train == b.train
    return a.service == b.service


async def take_waiting_risks(ctx: Context, release: Release) -> list[str]:
    """A release just declared (or promoted) takes every deferred risk waiting for a release of
    its train.

    Those risks were deferred when their train had no release after theirs, so the next one
    declared is their next release, whatever its date. Each arrives open (its decisions were
    about the release it left), so the gates of the new release count it.
    """
    waiting = await ctx.uow.risks.homeless()
    sources = await _deferred_from(ctx, waiting)
    notes = []
    for risk in waiting:
        source = sources.get(risk.id)
        # Its own deferred risk does not come back to a release promoted to another train.
        if source is None or source.name == release.name or not same_train(source, release):
            continue
        if not await ctx.uow.risks.take(risk.id, release.name):
            continue  # another release declared meanwhile took it
        detail = {"risk": risk.label, "from": source.name, "moved_to": release.name}
        await ctx.uow.audit.append(audit_draft(ctx, "risk_moved", release, detail=detail))
        notes.append(f"Deferred risk {risk.label} from {source.name} moves to this release")
    return notes


async def waiting_risks(ctx: Context) -> list[tuple[Risk, Release | None]]:
    """Deferred risks waiting for a release, each with the release it was last deferred from
    (whose train it waits for), when that is still stored."""
    waiting = await ctx.uow.risks.homeless()
    sources = await _deferred_from(ctx, waiting)
    return [(risk, sources.get(risk.id)) for risk in waiting]


def waits_for(source: Release | None) -> str:
    """What a waiting risk waits for, in words."""
    if source is None:
        return "the next release"
    if source.train is not None:
        return f"train {source.train}"
    return f"the next release of {source.service}"


async def _deferred_from(ctx: Context, risks: Sequence[Risk]) -> dict[int, Release]:
    """The release each risk was last deferred from, which says which train it waits for."""
    if not risks:
        return {}
    decisions = await ctx.uow.decisions.for_risks([r.id for r in risks])
    # Oldest first, so the latest deferral wins; the origin stands in should none be found.
    names = {r.id: r.origin for r in risks}
    names.update(
        {d.risk_id: d.release for d in decisions if d.outcome is Outcome.DEFER and d.release}
    )
    # Several risks often left one release: read each release once.
    releases = {name: await ctx.uow.releases.get(name) for name in set(names.values())}
    return {risk_id: r for risk_id, name in names.items() if (r := releases[name]) is not None}
