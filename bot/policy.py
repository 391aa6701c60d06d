"""Policy-as-code: change classes, sign-off roles, gates and rules, validated from plain data."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain import ChangeClass
from bot.observe_policy import ObservabilityPolicy, parse_observability
from bot.policy_data import PolicyError, mapping, reject_unknown

PRINCIPAL_KINDS = ("slack", "teams", "email", "console")
# bot.gates evaluates each of these (a test holds the two lists together).
# Hours a policy may give anything (a review window, a poll's timing): a year, and more would
# overflow the dates computed from them.
MAX_HOURS = 24 * 366
MAX_WEIGHT = 1000
MAX_COUNT = 10_000  # open blockers or criticals a gate may allow
KNOWN_GATES = frozenset(
    {"min_coverage", "min_deploy_success", "max_open_blockers", "max_open_criticals"}
)


@dataclass(frozen=True, slots=True)
class ClassPolicy:
    signoffs: tuple[str, ...] = ()
    gates: Mapping[str, float] = field(default_factory=dict)
    retro_review_hours: int | None = None
    # How much each gate counts in the readiness index; gates not named count 1.
    weights: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """Readiness polls: opened `before_hours` ahead of each release (None: only on demand),
    reminders every `remind_every_hours`, escalation `deadline_hours` before the release."""

    before_hours: float | None = None
    remind_every_hours: float = 4
    deadline_hours: float = 2


@dataclass(frozen=True, slots=True)
class Policy:
    timezone: str
    roles: Mapping[str, tuple[str, ...]]
    classes: Mapping[ChangeClass, ClassPolicy]
    forbid_self_approval: bool = True
    keep_signoffs_on_change: bool = False
    # Only the owner and the members of a release's sign-off roles may decide on its risks.
    restrict_deciders: bool = False
    # Where state changes that matter are announced, besides the release's own channel.
    announcements: str | None = None
    polls: PollPolicy = field(default_factory=lambda: PollPolicy())
    # Change correlation and post-release smoke checks (bot/observe_policy.py).
    observability: ObservabilityPolicy = field(default_factory=lambda: ObservabilityPolicy())

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def names_by_email(self) -> bool:
        """Whether any role member is an `email:` principal, which chat users must be looked
        up to match."""
        return any(m.startswith("email:") for members in self.roles.values() for m in members)

    def in_role(self, role: str, identities: Collection[str]) -> bool:
        """Whether someone known by `identities` (Actor.identities) is a member of `role`."""
        return self.member_as(role, identities) is not None

    def member_as(self, role: str, identities: Collection[str]) -> str | None:
        """The principal by which someone known by `identities` is a member of `role`."""
        return next((m for m in self.roles.get(role, ()) if m in identities), None)

    def for_class(self, change_class: ChangeClass) -> ClassPolicy:
        return self.classes[change_class]  # parse_policy sees that every class is there


def parse_policy(data: Any, *, default_timezone: str = "UTC") -> Policy:
    """Build a Policy from parsed YAML, or raise PolicyError naming the offending key."""
    if not isinstance(data, Mapping):
        raise PolicyError("policy: expected a mapping at the top level")
    known = {"timezone", "roles", "classes", "rules", "announcements", "polls", "observability"}
    reject_unknown(data, known, "policy")
    roles = _parse_roles(data.get("roles", {}))
    rules = mapping(data.get("rules", {}), "rules")
    known_rules = {"forbid_self_approval", "keep_signoffs_on_change", "restrict_deciders"}
    reject_unknown(rules, known_rules, "rules")
    return Policy(
        timezone=_parse_timezone(data.get("timezone", default_timezone)),
        roles=roles,
        classes=_parse_classes(data.get("classes", {}), roles),
        forbid_self_approval=_boolean(rules, "forbid_self_approval", True),
        keep_signoffs_on_change=_boolean(rules, "keep_signoffs_on_change", False),
        restrict_deciders=_boolean(rules, "restrict_deciders", False),
        announcements=_parse_conversation(data.get("announcements")),
        polls=_parse_polls(mapping(data.get("polls", {}), "polls")),
        observability=parse_observability(data.get("observability")),
    )


def _parse_polls(body: Mapping[str, Any]) -> PollPolicy:
    reject_unknown(body, {"before_hours", "remind_every_hours", "deadline_hours"}, "polls")
    for key, value in body.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= MAX_HOURS
        ):
            raise PolicyError(
                f"polls.{key}: expected a number of hours above 0, at most {MAX_HOURS}"
            )
    defaults = PollPolicy()
    return PollPolicy(
        before_hours=body.get("before_hours"),
        remind_every_hours=body.get("remind_every_hours", defaults.remind_every_hours),
        deadline_hours=body.get("deadline_hours", defaults.deadline_hours),
    )


def _parse_conversation(value: Any) -> str | None:
    if value is None:
        return None
    kind, colon, ident = str(value).partition(":")
    if not isinstance(value, str) or kind not in ("slack", "teams") or not colon or not ident:
        raise PolicyError(
            f"announcements: {value!r} is not a channel (slack:<channel id> or teams:<id>)"
        )
    return value


def _parse_timezone(value: Any) -> str:
    if not isinstance(value, str):
        raise PolicyError("timezone: expected an IANA name such as Europe/London")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"timezone: unknown timezone {value!r}") from None
    return value


def _parse_roles(value: Any) -> dict[str, tuple[str, ...]]:
    roles: dict[str, tuple[str, ...]] = {}
    for role, members in mapping(value, "roles").items():
        if not isinstance(members, list):
            raise PolicyError(f"roles.{role}: expected a list of principals")
        for member in members:
            _check_principal(member, f"roles.{role}")
        # An address matches whatever case the platform reports it in.
        roles[str(role)] = tuple(m.lower() if m.startswith("email:") else m for m in members)
    return roles


def _check_principal(member: Any, key: str) -> None:
    kind, _, ident = str(member).partition(":")
    if not isinstance(member, str) or kind not in PRINCIPAL_KINDS or not ident:
        raise PolicyError(
            f"{key}: {member!r} is not a principal (slack:<id>, teams:<id> or email:<address>)"
        )


def _parse_classes(value: Any, roles: Mapping[str, Any]) -> dict[ChangeClass, ClassPolicy]:
    classes: dict[ChangeClass, ClassPolicy] = {}
    for name, body in mapping(value, "classes").items():
        try:
            change_class = ChangeClass(name)
        except ValueError:
            raise PolicyError(
                f"classes.{name}: unknown change class (standard, normal or emergency)"
            ) from None
        classes[change_class] = _parse_class(mapping(body, f"classes.{name}"), name, roles)
    # A class left out would otherwise need nothing at all: a release declared in it would
    # be approved at once. So every class must be spelled out, `{}` where that is meant.
    missing = [c.value for c in ChangeClass if c not in classes]
    if missing:
        raise PolicyError(
            f"classes: {', '.join(missing)} missing (name every change class: standard, "
            "normal and emergency; `{}` for one that needs nothing)"
        )
    return classes


def _parse_class(body: Mapping[str, Any], name: str, roles: Mapping[str, Any]) -> ClassPolicy:
    key = f"classes.{name}"
    reject_unknown(body, {"signoffs", "gates", "retro_review_hours", "weights"}, key)
    signoffs = _parse_signoffs(body.get("signoffs", []), roles, key)
    gates = mapping(body.get("gates", {}), f"{key}.gates")
    for gate, threshold in gates.items():
        _check_gate(gate, threshold, f"{key}.gates.{gate}")
    hours = body.get("retro_review_hours")
    if hours is not None and (
        not isinstance(hours, int) or isinstance(hours, bool) or not 0 < hours <= MAX_HOURS
    ):
        raise PolicyError(
            f"{key}.retro_review_hours: expected a whole number of hours from 1 to {MAX_HOURS}"
        )
    if name == ChangeClass.EMERGENCY.value:
        _check_review(signoffs, hours, key)
    return ClassPolicy(
        signoffs=signoffs,
        gates={g: float(t) for g, t in gates.items()},
        retro_review_hours=hours,
        weights=_parse_weights(body.get("weights", {}), gates, key),
    )


def _parse_signoffs(value: Any, roles: Mapping[str, Any], key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise PolicyError(f"{key}.signoffs: expected a list of roles")
    for role in value:
        if not isinstance(role, str) or role not in roles:
            raise PolicyError(f"{key}.signoffs: role {role!r} is not defined under roles")
        if not roles[role]:
            raise PolicyError(f"{key}.signoffs: role {role!r} has no members to sign off")
        if value.count(role) > 1:
            raise PolicyError(f"{key}.signoffs: role {role!r} is listed twice")
    return tuple(value)


def _check_gate(gate: str, threshold: Any, key: str) -> None:
    if gate not in KNOWN_GATES:
        raise PolicyError(f"{key}: unknown gate ({', '.join(sorted(KNOWN_GATES))})")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise PolicyError(f"{key}: expected a number")
    if gate.startswith("min_") and not 0 <= threshold <= 100:  # nan fails both
        raise PolicyError(f"{key}: expected a percentage from 0 to 100")
    if gate.startswith("max_"):
        # Not float(threshold): a few hundred digits overflow it.
        whole = isinstance(threshold, int) or threshold.is_integer()
        if not whole or not 0 <= threshold <= MAX_COUNT:
            raise PolicyError(f"{key}: expected a whole number from 0 to {MAX_COUNT}")


def _check_review(signoffs: tuple[str, ...], hours: int | None, key: str) -> None:
    """An emergency change skips its sign-offs and is signed in a retrospective review: one
    without the other would be a review nobody can sign, or roles nobody can sign for."""
    if hours is not None and not signoffs:
        raise PolicyError(f"{key}.signoffs: name the roles that sign the retrospective review")
    if signoffs and hours is None:
        raise PolicyError(
            f"{key}.retro_review_hours: needed with signoffs (the window for the retrospective "
            "review they sign)"
        )


def _parse_weights(value: Any, gates: Mapping[str, Any], key: str) -> dict[str, float]:
    weights = mapping(value, f"{key}.weights")
    for gate, weight in weights.items():
        if gate not in gates:
            raise PolicyError(f"{key}.weights.{gate}: not one of this class's gates")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not 0 <= weight <= MAX_WEIGHT  # nan and infinity fail too
        ):
            raise PolicyError(f"{key}.weights.{gate}: expected a number from 0 to {MAX_WEIGHT}")
    return {gate: float(weight) for gate, weight in weights.items()}


def _boolean(body: Mapping[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise PolicyError(f"rules.{key}: expected true or false")
    return value
