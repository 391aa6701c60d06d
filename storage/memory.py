"""An in-memory twin of the SQL store, for fast core tests. Same contract, no persistence."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any

from bot.audit import GENESIS_HASH, seal
from bot.domain import (
    AlreadyExists,
    AuditDraft,
    AuditEvent,
    ConcurrentChange,
    Freeze,
    Release,
    SignalValue,
)
from bot.ports import ReleaseQuery
from bot.signoffs import SignOff
from storage.base import CardRef


@dataclass
class Tables:
    """Everything a unit of work stages and commits at once."""

    releases: dict[str, Release] = field(default_factory=dict)
    signoffs: list[SignOff] = field(default_factory=list)
    signals: list[SignalValue] = field(default_factory=list)
    freezes: dict[int, Freeze] = field(default_factory=dict)
    freeze_ids: int = 0

    def copy(self) -> Tables:
        return Tables(
            dict(self.releases),
            list(self.signoffs),
            list(self.signals),
            dict(self.freezes),
            self.freeze_ids,
        )


@dataclass
class MemoryData:
    tables: Tables = field(default_factory=Tables)
    audit: list[AuditEvent] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    deliveries: set[str] = field(default_factory=set)
    conversation_refs: dict[str, dict[str, Any]] = field(default_factory=dict)
    cards: list[CardRef] = field(default_factory=list)

    @property
    def releases(self) -> dict[str, Release]:
        return self.tables.releases


def matches(release: Release, query: ReleaseQuery) -> bool:
    """Whether `release` is in `query`'s result; the SQL store's WHERE clause says the same."""
    if query.states is not None and release.state not in query.states:
        return False
    if query.train is not None and release.train != query.train:
        return False
    if query.service is not None and release.service != query.service:
        return False
    moment = release.scheduled_at
    if moment is None:
        return query.include_unscheduled
    if query.scheduled_from is not None and moment < query.scheduled_from:
        return False
    return query.scheduled_until is None or moment <= query.scheduled_until


def schedule_order(release: Release) -> tuple[bool, datetime | None, str]:
    return (release.scheduled_at is None, release.scheduled_at, release.name)


class MemoryReleases:
    def __init__(self, staged: dict[str, Release]) -> None:
        self._staged = staged

    async def get(self, name: str, *, for_update: bool = False) -> Release | None:
        return self._staged.get(name)

    async def add(self, release: Release) -> None:
        if release.name in self._staged:
            raise AlreadyExists(f"{release.name} is already declared")
        self._staged[release.name] = release

    async def update(self, release: Release) -> None:
        current = self._staged.get(release.name)
        if current is None or current.revision != release.revision - 1:
            raise ConcurrentChange(release.name)
        self._staged[release.name] = release

    async def find(self, query: ReleaseQuery) -> Sequence[Release]:
        found = sorted((r for r in self._staged.values() if matches(r, query)), key=schedule_order)
        return found[: query.limit]


class MemorySignOffs:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def for_release(self, release: str) -> Sequence[SignOff]:
        return [s for s in self._tables.signoffs if s.release == release]

    async def add(self, signoff: SignOff) -> None:
        self._tables.signoffs.append(signoff)

    async def mark_stale(self, release: str) -> int:
        fresh = [
            i for i, s in enumerate(self._tables.signoffs) if s.release == release and not s.stale
        ]
        for index in fresh:
            self._tables.signoffs[index] = replace(self._tables.signoffs[index], stale=True)
        return len(fresh)


class MemorySignals:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, signal: SignalValue) -> None:
        self._tables.signals.append(signal)

    async def latest(self, release: str) -> Mapping[str, float]:
        ordered = sorted(
            (s for s in self._tables.signals if s.release == release), key=lambda s: s.at
        )
        return {s.key: s.value for s in ordered}


class MemoryFreezes:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(
        self, *, starts_at: datetime, ends_at: datetime, reason: str | None, created_by: str
    ) -> Freeze:
        self._tables.freeze_ids += 1
        freeze = Freeze(self._tables.freeze_ids, starts_at, ends_at, reason, created_by)
        self._tables.freezes[freeze.id] = freeze
        return freeze

    async def get(self, freeze_id: int) -> Freeze | None:
        return self._tables.freezes.get(freeze_id)

    async def remove(self, freeze_id: int) -> None:
        self._tables.freezes.pop(freeze_id, None)

    async def overlapping(self, starts_at: datetime, ends_at: datetime) -> Sequence[Freeze]:
        found = [
            f
            for f in self._tables.freezes.values()
            if f.starts_at <= ends_at and starts_at < f.ends_at
        ]
        return sorted(found, key=lambda f: (f.starts_at, f.id))


class MemoryAudit:
    def __init__(self, committed: list[AuditEvent], staged: list[AuditEvent]) -> None:
        self._committed = committed
        self._staged = staged

    async def append(self, draft: AuditDraft) -> AuditEvent:
        chain = self._committed + self._staged
        prev = chain[-1].hash if chain else GENESIS_HASH
        event = seal(draft, seq=len(chain) + 1, prev_hash=prev)
        self._staged.append(event)
        return event

    async def for_release(self, name: str) -> Sequence[AuditEvent]:
        return [e for e in self._committed + self._staged if e.release == name]

    async def all(self) -> Sequence[AuditEvent]:
        return self._committed + self._staged

    async def head(self) -> tuple[int, str]:
        chain = self._committed + self._staged
        return (chain[-1].seq, chain[-1].hash) if chain else (0, GENESIS_HASH)


class MemoryUnitOfWork:
    """Serializes writers with one lock, as SQLite's single writer does."""

    def __init__(self, data: MemoryData, *, read_only: bool) -> None:
        self._data = data
        self._read_only = read_only
        self._staged_audit: list[AuditEvent] = []
        self._stage(data.tables.copy())

    def _stage(self, tables: Tables) -> None:
        self._staged = tables
        self.releases = MemoryReleases(tables.releases)
        self.signoffs = MemorySignOffs(tables)
        self.signals = MemorySignals(tables)
        self.freezes = MemoryFreezes(tables)
        self.audit = MemoryAudit(self._data.audit, self._staged_audit)

    async def __aenter__(self) -> MemoryUnitOfWork:
        if not self._read_only:
            await self._data.lock.acquire()
            self._stage(self._data.tables.copy())  # what committed while we waited for the lock
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._read_only:
            self._data.lock.release()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._data.tables = self._staged.copy()
        self._data.audit.extend(self._staged_audit)
        self._staged_audit.clear()


class MemoryStore:
    def __init__(self) -> None:
        self.data = MemoryData()

    def __call__(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.data, read_only=read_only)

    async def claim_delivery(self, key: str, *, at: datetime) -> bool:
        """True the first time `key` is claimed, False ever after."""
        if key in self.data.deliveries:
            return False
        self.data.deliveries.add(key)
        return True

    async def save_conversation_ref(self, conversation_id: str, reference: dict[str, Any]) -> None:
        self.data.conversation_refs[conversation_id] = reference

    async def conversation_ref(self, conversation_id: str) -> dict[str, Any] | None:
        return self.data.conversation_refs.get(conversation_id)

    async def save_card(self, card: CardRef) -> None:
        if card not in self.data.cards:
            self.data.cards.append(card)

    async def cards_of(self, release: str) -> list[CardRef]:
        return [card for card in self.data.cards if card.release == release]

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
