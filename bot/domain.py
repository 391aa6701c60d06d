"""The release domain: plain data, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeGuard

SERVICE_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")


class State(StrEnum):
    PLANNED = "planned"
    APPROVED = "approved"
    DEPLOYING = "deploying"
    DEPLOYED = "deployed"
    VERIFIED = "verified"
    ROLLED_BACK = "rolled_back"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


TERMINAL_STATES = frozenset({State.VERIFIED, State.ROLLED_BACK, State.CANCELLED})
# A release still on its way out: on a sync's agenda, polled, and cancellable.
ON_ITS_WAY_STATES = frozenset({State.PLANNED, State.APPROVED, State.DEPLOYING})
CANCELLABLE_STATES = ON_ITS_WAY_STATES
RESCHEDULABLE_STATES = frozenset({State.PLANNED, State.APPROVED})
# Where sign-offs are given (and go stale); once deploying they are closed.
OPEN_FOR_SIGNOFF = frozenset({State.PLANNED, State.APPROVED})
# Where `deploy` starts from; a release in any other state is on its way out or never going.
DEPLOYABLE_STATES = frozenset({State.PLANNED, State.APPROVED})
# The platforms where people can be asked and answered (cards, polls, syncs, notices).
CHAT_PLATFORMS = frozenset({"slack", "teams"})


class ChangeClass(StrEnum):
    STANDARD = "standard"
    NORMAL = "normal"
    EMERGENCY = "emergency"


@dataclass(frozen=True, slots=True)
class ReleaseName:
    """`service@version`, the one way people name a release."""

    service: str
    version: str

    def __str__(self) -> str:
        return f"{self.service}@{self.version}"


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where a command came from and where its answers go: a channel, chat or terminal."""

    platform: str
    id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}"

    @property
    def channel(self) -> Conversation:
        """The channel itself, for a reply chain in it (Teams names a channel's reply chain by
        the channel's id and its root post's, `…;messageid=…`: its wire format, kept here because
        the core must tell channels apart, e.g. whose syncs a post may cancel); any other
        conversation is its own channel."""
        return Conversation(self.platform, self.id.split(REPLY_CHAIN_MARK, 1)[0])


REPLY_CHAIN_MARK = ";messageid="


def in_chat(conversation: Conversation | None) -> TypeGuard[Conversation]:
    """Whether messages can be posted there for people to read and answer."""
    return conversation is not None and conversation.platform in CHAT_PLATFORMS


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a principal (`slack:U…`, `teams:<aad id>`, `email:…`, `console:…`)."""

    principal: str
    display_name: str
    surface: str
    # Other principals the platform vouches are this person: their `email:<address>`, looked
    # up while the policy names anyone by email (bot/people.py).
    aliases: tuple[str, ...] = ()

    @property
    def identities(self) -> frozenset[str]:
        """Every principal this person is known by, for role membership and ownership."""
        return frozenset((self.principal, *self.aliases))


@dataclass(frozen=True, slots=True)
class Release:
    service: str
    version: str
    state: State
    change_class: ChangeClass
    owner: str
    created_at: datetime
    updated_at: datetime
    scheduled_at: datetime | None = None
    train: str | None = None
    env: str | None = None
    channel: Conversation | None = None
    revision: int = 1
    # Emergency changes skip the gates and owe a retrospective review by this time.
    review_due_at: datetime | None = None
    reviewed_by: str | None = None

    def review_overdue(self, now: datetime) -> bool:
        return (
            self.review_due_at is not None and self.reviewed_by is None and now > self.review_due_at
        )

    @property
    def name(self) -> str:
        return f"{self.service}@{self.version}"

    def changed(self, *, at: datetime, **changes: Any) -> Release:
        """A copy with `changes` applied, stamped and with its revision bumped."""
        return replace(self, updated_at=at, revision=self.revision + 1, **changes)

    def snapshot(self) -> dict[str, Any]:
        """The fields an audit event records as before/after."""
        return {
            "state": self.state.value,
            "scheduled_at": self.scheduled_at.isoformat() if self.scheduled_at else None,
            "class": self.change_class.value,
            "train": self.train,
            "env": self.env,
            "owner": self.owner,
        }


@dataclass(frozen=True, slots=True)
class AuditDraft:
    """An audit event before the store has placed it in the chain."""

    action: str
    actor: str
    surface: str
    at: datetime
    release: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    action: str
    actor: str
    surface: str
    at: datetime
    release: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class DomainError(Exception):
    """A rule said no; the message is fit to show the person who asked."""

    problem = "invalid"


class NotFound(DomainError):
    problem = "not_found"


class AlreadyExists(DomainError):
    problem = "conflict"


class ConcurrentChange(DomainError):
    """Someone else changed the record between our read and our write."""


@dataclass(frozen=True, slots=True)
class SignalValue:
    """One readiness signal (`coverage=82.5`) as it arrived; the latest per key counts."""

    release: str
    key: str
    value: float
    at: datetime
    source: str


@dataclass(frozen=True, slots=True)
class Freeze:
    """A window in which deploys are refused, except for emergency changes."""

    id: int
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    created_by: str

    @property
    def label(self) -> str:
        return f"F{self.id}"

    def covers(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at
