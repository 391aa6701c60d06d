"""Sign-offs: who may sign which role of which release, and what counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain import Release
from bot.policy import Policy


class Verdict(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class SignOff:
    """One decision by one person for one role; later ones for the same role supersede it."""

    release: str
    role: str
    principal: str
    display_name: str
    verdict: Verdict
    at: datetime
    note: str | None = None
    stale: bool = False


class Refusal(Exception):
    """A sign-off the rules do not allow; the message says why, to the person who tried."""


class AlreadyDone(Exception):
    """The same person already gave this very decision: a repeat click changes nothing."""


def current_by_role(signoffs: Iterable[SignOff]) -> dict[str, SignOff]:
    """The decision in force for each role: the latest one that is not stale."""
    current: dict[str, SignOff] = {}
    for signoff in sorted(signoffs, key=lambda s: s.at):
        if not signoff.stale:
            current[signoff.role] = signoff
    return current


def missing_roles(release: Release, policy: Policy, signoffs: Iterable[SignOff]) -> list[str]:
    current = current_by_role(signoffs)
    return [
        role
        for role in policy.for_class(release.change_class).signoffs
        if role not in current or current[role].verdict is not Verdict.APPROVED
    ]


def shortfall(missing: Sequence[str], signoffs: Iterable[SignOff]) -> list[str]:
    """Why the `missing` roles hold a release back, in words: who rejected and why, for a role
    whose decision in force is a rejection (SPEC §4.2), else that its sign-off is missing."""
    current = current_by_role(signoffs)
    rejected = {
        r: current[r] for r in missing if r in current and current[r].verdict is Verdict.REJECTED
    }
    reasons = [
        f"{s.role} rejected by {s.display_name}" + (f": {s.note}" if s.note else "")
        for s in rejected.values()
    ]
    absent = [r for r in missing if r not in rejected]
    if absent:
        reasons.append(f"sign-off missing from {', '.join(absent)}")
    return reasons


def role_for(
    *,
    release: Release,
    policy: Policy,
    identities: frozenset[str],
    asked_role: str | None,
    verdict: Verdict,
    signoffs: Sequence[SignOff],
) -> str:
    """The role someone known by `identities` (Actor.identities) signs for, or Refusal /
    AlreadyDone saying why not."""
    required = policy.for_class(release.change_class).signoffs
    if not required:
        raise Refusal(f"{release.change_class.value} releases need no sign-off")
    if policy.forbid_self_approval and release.owner in identities:
        raise Refusal(
            f"you own {release.name}, and the policy forbids signing off your own release"
        )
    current = current_by_role(signoffs)
    # A sign-off is recorded under the person's address when known, else the principal the
    # role names (handlers.signoffs._signer): signed from one platform, it is this person's
    # from the other too.
    held = [r for r, s in current.items() if s.principal in identities and r != asked_role]
    role = asked_role or _own_role(required, policy, identities, current, held)
    _check_membership(role, required, policy, identities, release)
    _check_one_role_each(role, held, verdict, current, identities)
    return role


def _own_role(
    required: Sequence[str],
    policy: Policy,
    identities: frozenset[str],
    current: dict[str, SignOff],
    held: list[str],
) -> str:
    mine = [r for r in required if policy.in_role(r, identities)]
    if not mine:
        raise Refusal(f"you are not in any role that signs this release ({', '.join(required)})")
    if held:
        return held[0]
    open_roles = [r for r in mine if r not in current or current[r].verdict is not Verdict.APPROVED]
    return (open_roles or mine)[0]


def _check_membership(
    role: str, required: Sequence[str], policy: Policy, identities: frozenset[str], release: Release
) -> None:
    if role not in required:
        raise Refusal(
            f"the {role} role does not sign {release.change_class.value} releases (they need "
            f"{', '.join(required)})"
        )
    if not policy.in_role(role, identities):
        raise Refusal(f"you are not a member of the {role} role")


def _check_one_role_each(
    role: str,
    held: list[str],
    verdict: Verdict,
    current: dict[str, SignOff],
    identities: frozenset[str],
) -> None:
    other_roles = [r for r in held if r != role]
    if other_roles:
        raise Refusal(f"you already signed as {other_roles[0]}; one person fills one role")
    mine = current.get(role)
    if mine is None:
        return
    if mine.principal in identities and mine.verdict is verdict:
        raise AlreadyDone(f"you already {verdict.value} as {role}")
    if (
        mine.principal not in identities
        and mine.verdict is Verdict.APPROVED
        and verdict is Verdict.APPROVED
    ):
        raise Refusal(f"{role} is already signed off by {mine.display_name}")
