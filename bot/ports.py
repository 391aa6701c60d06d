"""What the core needs from the outside world, as protocols the adapters and store fill in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Protocol

from bot.domain import (
    AuditDraft,
    AuditEvent,
    Conversation,
    Freeze,
    Release,
    SignalValue,
    State,
)
from bot.observe_ports import (
    DeploymentRepository,
    IncidentRepository,
    MetricsReader,
    SmokeRepository,
)
from bot.outbox import Outgoing
from bot.risks import ChangeItem, Decision, Huddle, Risk, Severity
from bot.schedules import Poll, PollAnswer, Sync
from bot.signoffs import SignOff


class SyncTimes(Protocol):
    """When `sync` meets after `after` up to `until`, in UTC, soonest first.

    Cron arithmetic in a timezone is the scheduler's (adapters/scheduler.py); the core only
    asks, e.g. to show syncs on the calendar.
    """

    def __call__(self, sync: Sync, after: datetime, until: datetime) -> list[datetime]: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


@dataclass(frozen=True, slots=True)
class ReleaseQuery:
    """Which releases to list; every field narrows the result."""

    states: frozenset[State] | None = None
    train: str | None = None
    service: str | None = None
    scheduled_from: datetime | None = None
    scheduled_until: datetime | None = None
    include_unscheduled: bool = True
    limit: int = 200


async def find_and_more(
    releases: ReleaseRepository, query: ReleaseQuery
) -> tuple[Sequence[Release], bool]:
    """What `query` finds, at most its limit, and whether there are more (one row more is read
    to know): a listing cut short says so."""
    found = await releases.find(replace(query, limit=query.limit + 1))
    return found[: query.limit], len(found) > query.limit


class ReleaseRepository(Protocol):
    async def get(self, name: str, *, for_update: bool = False) -> Release | None:
        """The release; `for_update` holds writers of the same release off until commit."""
        ...

    async def add(self, release: Release) -> None:
        """Insert; raises AlreadyExists when the name is taken."""
        ...

    async def update(self, release: Release) -> None:
        """Store `release` over revision `release.revision - 1`; else ConcurrentChange."""
        ...

    async def find(self, query: ReleaseQuery) -> Sequence[Release]:
        """Matching releases, soonest first, unscheduled last."""
        ...


class SignOffRepository(Protocol):
    async def for_release(self, release: str) -> Sequence[SignOff]:
        """Every sign-off of a release, oldest first, stale ones included."""
        ...

    async def add(self, signoff: SignOff) -> None: ...

    async def mark_stale(self, release: str) -> int:
        """Mark every current sign-off of `release` stale; how many were."""
        ...


class SignalRepository(Protocol):
    async def add(self, signal: SignalValue) -> None: ...

    async def latest(self, release: str) -> Mapping[str, float]:
        """The latest value of each signal key of a release."""
        ...


class FreezeRepository(Protocol):
    async def add(
        self, *, starts_at: datetime, ends_at: datetime, reason: str | None, created_by: str
    ) -> Freeze: ...

    async def get(self, freeze_id: int) -> Freeze | None: ...

    async def remove(self, freeze_id: int) -> None: ...

    async def overlapping(self, starts_at: datetime, ends_at: datetime) -> Sequence[Freeze]:
        """Windows that share any instant with [starts_at, ends_at], soonest first."""
        ...


class RiskRepository(Protocol):
    async def add(
        self,
        *,
        release: str,
        severity: Severity,
        description: str,
        raised_by: str,
        raised_at: datetime,
    ) -> Risk: ...

    async def get(self, risk_id: int, *, for_update: bool = False) -> Risk | None: ...

    async def on_release(self, release: str) -> Sequence[Risk]:
        """The risks living on a release now, oldest first."""
        ...

    async def homeless(self) -> Sequence[Risk]:
        """Deferred risks waiting for a release of their train."""
        ...

    async def move(self, risk_id: int, release: str | None) -> None: ...

    async def take(self, risk_id: int, release: str) -> bool:
        """Move a deferred risk that still waits to `release`; False when it waits no more
        (another release took it first), in which case nothing changes."""
        ...


class DecisionRepository(Protocol):
    async def add(self, decision: Decision) -> None: ...

    async def for_risks(self, risk_ids: Sequence[int]) -> Sequence[Decision]:
        """Every decision on these risks, oldest first."""
        ...

    async def for_release(self, release: str) -> Sequence[Decision]:
        """Every decision taken while the risk lived on `release`, oldest first."""
        ...


class HuddleRepository(Protocol):
    async def add(
        self,
        *,
        release: str,
        topic: str | None,
        opened_by: str,
        opened_at: datetime,
        conversation: Conversation | None,
    ) -> Huddle: ...

    async def open_for(self, release: str) -> Huddle | None: ...

    async def all_open(self, *, limit: int) -> Sequence[Huddle]:
        """Huddles not closed yet, the most recently opened first."""
        ...

    async def get(self, huddle_id: int) -> Huddle | None: ...

    async def close(self, huddle_id: int, *, at: datetime) -> None: ...


class ChangeRepository(Protocol):
    async def add(self, item: ChangeItem) -> None: ...

    async def for_release(self, release: str) -> Sequence[ChangeItem]: ...


class SyncRepository(Protocol):
    async def add(
        self,
        *,
        conversation: Conversation,
        schedule: str,
        cron: str,
        timezone: str,
        created_by: str,
        created_at: datetime,
    ) -> Sync: ...

    async def get(self, sync_id: int) -> Sync | None: ...

    async def active(self) -> Sequence[Sync]:
        """Every sync not cancelled, oldest first."""
        ...

    async def cancel(self, sync_id: int, *, at: datetime) -> None: ...


class OccurrenceRepository(Protocol):
    async def claim(self, key: str, occurrence: datetime, *, at: datetime) -> bool:
        """True for the one caller (in any replica) that claims this occurrence first."""
        ...

    async def last(self, key: str) -> datetime | None:
        """The latest occurrence claimed under `key`."""
        ...


class PollRepository(Protocol):
    async def add(
        self,
        *,
        release: str,
        conversation: Conversation | None,
        opens_at: datetime,
        deadline: datetime,
        addressees: Sequence[str],
    ) -> Poll: ...

    async def get(self, poll_id: int) -> Poll | None: ...

    async def for_release(self, release: str) -> Sequence[Poll]: ...

    async def live(self) -> Sequence[Poll]:
        """Polls not yet escalated, oldest first."""
        ...

    async def mark(
        self,
        poll_id: int,
        *,
        posted: bool | None = None,
        escalated: bool | None = None,
        deadline: datetime | None = None,
        opens_at: datetime | None = None,
    ) -> None:
        """Set what is given; leave the rest."""
        ...

    async def answer(self, answer: PollAnswer) -> None: ...

    async def answers(self, poll_id: int) -> Sequence[PollAnswer]: ...


@dataclass(frozen=True, slots=True)
class CardRef:
    """Where a card (of a release, or a huddle) was posted, so it can be updated in place."""

    release: str
    platform: str
    conversation_id: str
    message_id: str


class PostedCards(Protocol):
    async def of(self, subject: str) -> Sequence[CardRef]:
        """Every posted card of a release or huddle, oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class PageRef:
    """A person's own page on a chat platform (Slack's App Home tab), built afresh each time.

    Kept for the pages that offer buttons for a release, so that a change to the release
    publishes them again and no stale button stays live on them (SPEC §4.2).
    """

    platform: str
    person: str  # the platform's own id of the person, e.g. a Slack user id

    @property
    def principal(self) -> str:
        return f"{self.platform}:{self.person}"


class PersonalPages(Protocol):
    async def showing(self, release: str) -> Sequence[PageRef]:
        """The pages whose last published version offers buttons for `release`."""
        ...


class OutboxRepository(Protocol):
    async def add(self, message: Outgoing, *, at: datetime) -> None:
        """Queue a message, due from `at`; it is delivered only if this unit of work commits."""
        ...


class AuditLog(Protocol):
    async def append(self, draft: AuditDraft) -> AuditEvent: ...

    async def for_release(self, name: str) -> Sequence[AuditEvent]: ...

    async def all(self) -> Sequence[AuditEvent]: ...

    async def head(self) -> tuple[int, str]:
        """The sequence number and hash of the last event: (0, GENESIS_HASH) when empty."""
        ...


class UnitOfWork(Protocol):
    """One transaction: everything done through it is committed together or not at all."""

    releases: ReleaseRepository
    signoffs: SignOffRepository
    signals: SignalRepository
    freezes: FreezeRepository
    risks: RiskRepository
    decisions: DecisionRepository
    huddles: HuddleRepository
    changes: ChangeRepository
    syncs: SyncRepository
    occurrences: OccurrenceRepository
    polls: PollRepository
    cards: PostedCards
    pages: PersonalPages
    outbox: OutboxRepository
    audit: AuditLog
    deployments: DeploymentRepository
    incidents: IncidentRepository
    metrics: MetricsReader
    smoke: SmokeRepository

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work; read-only ones may take a faster path and refuse to commit."""
        ...
