"""The in-memory twins of the SQL repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bot.audit import GENESIS_HASH, seal
from bot.domain import (
    AlreadyExists,
    AuditDraft,
    AuditEvent,
    ConcurrentChange,
    Conversation,
    Freeze,
    Release,
    SignalValue,
)
from bot.outbox import Outgoing
from bot.ports import CardRef, PageRef, ReleaseQuery
from bot.risks import ChangeItem, Decision, Huddle, Risk, Severity
from bot.signoffs import SignOff
from storage.memory_tables import Tables


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
        freeze_id = self._tables.next_id("freeze")
        freeze = Freeze(freeze_id, starts_at, ends_at, reason, created_by)
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


class MemoryRisks:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(
        self,
        *,
        release: str,
        severity: Severity,
        description: str,
        raised_by: str,
        raised_at: datetime,
    ) -> Risk:
        risk_id = self._tables.next_id("risk")
        risk = Risk(risk_id, release, release, severity, description, raised_by, raised_at)
        self._tables.risks[risk_id] = risk
        return risk

    async def get(self, risk_id: int, *, for_update: bool = False) -> Risk | None:
        return self._tables.risks.get(risk_id)

    async def on_release(self, release: str) -> Sequence[Risk]:
        return [r for r in self._tables.risks.values() if r.release == release]

    async def homeless(self) -> Sequence[Risk]:
        return [r for r in self._tables.risks.values() if r.release is None]

    async def move(self, risk_id: int, release: str | None) -> None:
        self._tables.risks[risk_id] = replace(self._tables.risks[risk_id], release=release)

    async def take(self, risk_id: int, release: str) -> bool:
        if self._tables.risks[risk_id].release is not None:
            return False
        await self.move(risk_id, release)
        return True


class MemoryDecisions:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, decision: Decision) -> None:
        self._tables.decisions.append(decision)

    async def for_risks(self, risk_ids: Sequence[int]) -> Sequence[Decision]:
        wanted = set(risk_ids)
        return [d for d in self._tables.decisions if d.risk_id in wanted]

    async def for_release(self, release: str) -> Sequence[Decision]:
        return [d for d in self._tables.decisions if d.release == release]


class MemoryHuddles:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(
        self,
        *,
        release: str,
        topic: str | None,
        opened_by: str,
        opened_at: datetime,
        conversation: Conversation | None,
    ) -> Huddle:
        huddle_id = self._tables.next_id("huddle")
        where = (conversation.platform, conversation.id) if conversation else (None, None)
        huddle = Huddle(huddle_id, release, topic, opened_by, opened_at, *where)
        self._tables.huddles[huddle_id] = huddle
        return huddle

    async def open_for(self, release: str) -> Huddle | None:
        found = [h for h in self._tables.huddles.values() if h.release == release]
        return next((h for h in reversed(found) if h.closed_at is None), None)

    async def all_open(self, *, limit: int) -> Sequence[Huddle]:
        found = [h for h in self._tables.huddles.values() if h.closed_at is None]
        return sorted(found, key=lambda h: h.id, reverse=True)[:limit]

    async def get(self, huddle_id: int) -> Huddle | None:
        return self._tables.huddles.get(huddle_id)

    async def close(self, huddle_id: int, *, at: datetime) -> None:
        self._tables.huddles[huddle_id] = replace(self._tables.huddles[huddle_id], closed_at=at)


class MemoryChanges:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, item: ChangeItem) -> None:
        self._tables.changes.append(item)

    async def for_release(self, release: str) -> Sequence[ChangeItem]:
        return [c for c in self._tables.changes if c.release == release]


class MemoryCards:
    def __init__(self, cards: list[CardRef]) -> None:
        self._cards = cards

    async def of(self, subject: str) -> Sequence[CardRef]:
        return [card for card in self._cards if card.release == subject]


class MemoryPages:
    def __init__(self, pages: dict[PageRef, frozenset[str]]) -> None:
        self._pages = pages

    async def showing(self, release: str) -> Sequence[PageRef]:
        shown = (page for page, releases in self._pages.items() if release in releases)
        return sorted(shown, key=lambda page: (page.platform, page.person))


class MemoryOutbox:
    def __init__(self, staged: list[tuple[Outgoing, datetime]]) -> None:
        self._staged = staged

    async def add(self, message: Outgoing, *, at: datetime) -> None:
        self._staged.append((message, at))


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
