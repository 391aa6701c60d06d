"""What the core needs from the outside world, as protocols the adapters and store fill in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from bot.domain import AuditDraft, AuditEvent, Release, State


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
    async def get(self, name: str) -> Release | None: ...

    async def add(self, release: Release) -> None:
        """Insert; raises AlreadyExists when the name is taken."""
        ...

    async def update(self, release: Release) -> None:
        """Store `release` over revision `release.revision - 1`; else ConcurrentChange."""
        ...

    async def find(self, query: ReleaseQuery) -> Sequence[Release]:
        """Matching releases, soonest first, unscheduled last."""
        ...


class AuditLog(Protocol):
    async def append(self, draft: AuditDraft) -> AuditEvent: ...

    async def for_release(self, name: str) -> Sequence[AuditEvent]: ...

    async def all(self) -> Sequence[AuditEvent]: ...


class UnitOfWork(Protocol):
    """One transaction: everything done through it is committed together or not at all."""

    releases: ReleaseRepository
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
