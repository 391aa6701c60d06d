"""A person's home: releases coming up, sign-offs waiting for them, open huddles.

A read-only query for any surface with a personal page (Slack's App Home). It is built each
time the page is opened, so every list is bounded; it answers with a semantic Reply that the
surface renders like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot import presenters
from bot.assessment import Assessment, assess
from bot.domain import OPEN_FOR_SIGNOFF, Release, State
from bot.policy import Policy
from bot.ports import ReleaseQuery, UnitOfWork, find_and_more
from bot.reply import Action, Reply, Section
from bot.risks import Huddle
from bot.signoffs import AlreadyDone, Refusal, SignOff, Verdict, missing_roles, role_for
from bot.when import format_moment

UPCOMING_DAYS = 14
MAX_UPCOMING = 15
MAX_WAITING = 10
# Sign-offs are looked for on the soonest releases open for sign-off only: the page is rebuilt
# on every visit. Only those in a role of this person's cost a read each.
MAX_SCANNED = 500
# The most recently opened huddles shown.
MAX_HUDDLES = 10
UPCOMING_STATES = frozenset({State.PLANNED, State.APPROVED, State.DEPLOYING})
NOTHING_WAITING = "Nothing is waiting for your sign-off."


@dataclass(frozen=True, slots=True)
class Waiting:
    """A release `principal` could sign off right now, and the roles they could sign it as."""

    release: Release
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HomePage:
    """A person's page, and the releases whose buttons it offers (to publish it again when
    one of them changes: bot.ports.PersonalPages)."""

    reply: Reply
    offers: tuple[str, ...]


async def page_for(
    uow: UnitOfWork,
    *,
    principal: str,
    policy: Policy,
    now: datetime,
    aliases: tuple[str, ...] = (),
) -> HomePage:
    """The home page of `principal` (also known by `aliases`: Actor.aliases) at `now`."""
    upcoming, more_upcoming = await _upcoming(uow, now)
    # Only releases open for sign-off: deployed ones never late enough to be verified would
    # otherwise take the places of those waiting for this person.
    signable = await uow.releases.find(ReleaseQuery(states=OPEN_FOR_SIGNOFF, limit=MAX_SCANNED))
    waiting = await _waiting(uow, signable, frozenset((principal, *aliases)), policy)
    huddles = list(await uow.huddles.all_open(limit=MAX_HUDDLES))
    shown = [*upcoming, *(w.release for w in waiting[:MAX_WAITING])]
    assessed = {r.name: await assess(uow, r, policy, now) for r in _unique(shown)}
    reply = _page(upcoming, waiting, huddles, assessed, policy, now)
    if more_upcoming:
        more = "…and more releases in the next two weeks: `list` shows them all."
        reply = replace(reply, notes=(more, *reply.notes))
    return HomePage(reply, tuple(w.release.name for w in waiting[:MAX_WAITING]))


async def _upcoming(uow: UnitOfWork, now: datetime) -> tuple[Sequence[Release], bool]:
    """The soonest releases of the next two weeks, and whether there are more."""
    query = ReleaseQuery(
        states=UPCOMING_STATES,
        scheduled_from=now,
        scheduled_until=now + timedelta(days=UPCOMING_DAYS),
        include_unscheduled=False,
        limit=MAX_UPCOMING,
    )
    return await find_and_more(uow.releases, query)


async def _waiting(
    uow: UnitOfWork, active: Sequence[Release], person: frozenset[str], policy: Policy
) -> list[Waiting]:
    """Releases open for sign-off with a missing role the person known by the principals
    `person` (Actor.identities) may sign now, soonest first."""
    found = []
    for release in active:
        if release.state not in OPEN_FOR_SIGNOFF or not _in_a_role(release, person, policy):
            continue  # decided without a read: most releases are not this person's to sign
        signoffs = await uow.signoffs.for_release(release.name)
        roles = _signable(release, person, policy, signoffs)
        if roles:
            found.append(Waiting(release, roles))
    return found


def _in_a_role(release: Release, person: frozenset[str], policy: Policy) -> bool:
    required = policy.for_class(release.change_class).signoffs
    return any(policy.in_role(role, person) for role in required)


def _signable(
    release: Release, person: frozenset[str], policy: Policy, signoffs: Sequence[SignOff]
) -> tuple[str, ...]:
    """The missing roles the sign-off rules would let `person` approve now.

    Asking `role_for` itself, rather than restating its rules, keeps this list and what a
    click on its buttons does in step: the owner, one role per person, membership.
    """
    return tuple(
        role
        for role in missing_roles(release, policy, signoffs)
        if _may_approve(release, role, person, policy, signoffs)
    )


def _may_approve(
    release: Release,
    role: str,
    person: frozenset[str],
    policy: Policy,
    signoffs: Sequence[SignOff],
) -> bool:
    try:
        role_for(
            release=release,
            policy=policy,
            identities=person,
            asked_role=role,
            verdict=Verdict.APPROVED,
            signoffs=signoffs,
        )
    except (Refusal, AlreadyDone):
        return False
    return True


def _unique(releases: Sequence[Release]) -> list[Release]:
    return list({release.name: release for release in releases}.values())


def _page(
    upcoming: Sequence[Release],
    waiting: Sequence[Waiting],
    huddles: Sequence[Huddle],
    assessed: dict[str, Assessment],
    policy: Policy,
    now: datetime,
) -> Reply:
    # Waiting comes last so that its buttons, which a surface shows after the sections,
    # sit right under the list they act on.
    shown = waiting[:MAX_WAITING]
    notes = []
    if len(waiting) > MAX_WAITING:
        notes.append(
            f"…and {len(waiting) - MAX_WAITING} more wait for your sign-off; the soonest are shown."
        )
    return Reply(
        title="Your releases",
        summary=f"As of {format_moment(now, policy.zone)}. Open it again to refresh.",
        sections=(
            _upcoming_section(upcoming, assessed, policy),
            _huddle_section(huddles, policy),
            _waiting_section(shown, assessed, policy),
        ),
        actions=tuple(a for w in shown for a in _buttons(assessed[w.release.name], w, policy, now)),
        notes=tuple(notes),
    )


def _upcoming_section(
    upcoming: Sequence[Release], assessed: dict[str, Assessment], policy: Policy
) -> Section:
    title = f"Upcoming, next {UPCOMING_DAYS} days"
    lines = tuple(_upcoming_line(assessed[r.name], policy) for r in upcoming)
    return Section(title, lines or ("Nothing scheduled.",))


def _upcoming_line(assessment: Assessment, policy: Policy) -> str:
    line = presenters.release_line(assessment.release, policy.zone)
    line += f" · readiness {assessment.readiness.index}/100"
    if assessment.missing and assessment.release.state in OPEN_FOR_SIGNOFF:
        line += f" · sign-off missing from {', '.join(assessment.missing)}"
    return line


def _huddle_section(huddles: Sequence[Huddle], policy: Policy) -> Section:
    lines = tuple(_huddle_line(huddle, policy) for huddle in huddles)
    return Section("Open huddles", lines or ("No huddle is open.",))


def _huddle_line(huddle: Huddle, policy: Policy) -> str:
    topic = f" — {huddle.topic}" if huddle.topic else ""
    opened = format_moment(huddle.opened_at, policy.zone)
    return f"{huddle.label} on {huddle.release}{topic} · opened {opened} by {huddle.opened_by}"


def _waiting_section(
    waiting: Sequence[Waiting], assessed: dict[str, Assessment], policy: Policy
) -> Section:
    lines = tuple(_waiting_line(w, assessed[w.release.name], policy) for w in waiting)
    return Section("Waiting for your sign-off", lines or (NOTHING_WAITING,))


def _waiting_line(waiting: Waiting, assessment: Assessment, policy: Policy) -> str:
    release = waiting.release
    when = format_moment(release.scheduled_at, policy.zone)
    readiness = assessment.readiness.index
    return f"{release.name} as {' or '.join(waiting.roles)} · {when} · readiness {readiness}/100"


def _buttons(
    assessment: Assessment, waiting: Waiting, policy: Policy, now: datetime
) -> tuple[Action, ...]:
    """The release card's own Approve / Reject buttons, for this person's roles only.

    Taken from the card so a click runs exactly what the card's would; the label gains the
    release, since one page shows the buttons of several releases.
    """
    mine = replace(assessment, missing=waiting.roles)
    card = presenters.release_card(mine, policy, now=now)
    name = waiting.release.name
    return tuple(replace(action, label=f"{action.label} · {name}") for action in card.actions)
