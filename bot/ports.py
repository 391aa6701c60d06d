"""What the core needs from the outside world, as protocols the adapters and store fill in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from bot.domain import AuditDraft, AuditEvent, Freeze, Release, SignalValue, State
from bot.signoffs import SignOff


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
    audit: AuditLog

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
