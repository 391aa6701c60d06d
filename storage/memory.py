"""An in-memory twin of the SQL store, for fast core tests. Same contract, no persistence."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from bot.domain import AuditEvent, Conversation
from bot.outbox import Outgoing
from storage.base import CardRef, DeadLetter, OutboxItem, Outcome, PageRef
from storage.memory_observe import (
    MemoryDeployments,
    MemoryIncidents,
    MemoryMetrics,
    MemorySmokeChecks,
)
from storage.memory_repos import (
    MemoryAudit,
    MemoryCards,
    MemoryChanges,
    MemoryDecisions,
    MemoryFreezes,
    MemoryHuddles,
    MemoryOutbox,
    MemoryPages,
    MemoryReleases,
    MemoryRisks,
    MemorySignals,
    MemorySignOffs,
)
from storage.memory_schedules import MemoryOccurrences, MemoryPolls, MemorySyncs
from storage.memory_tables import MemoryData, QueuedMessage, Tables

__all__ = ["MemoryData", "MemoryStore", "MemoryUnitOfWork"]


class MemoryUnitOfWork:
    """Serializes writers with one lock, as SQLite's single writer does."""

    def __init__(self, data: MemoryData, *, read_only: bool) -> None:
        self._data = data
        self._read_only = read_only
        self._staged_audit: list[AuditEvent] = []
        self._staged_outbox: list[tuple[Outgoing, datetime]] = []
        self._stage(data.tables.copy())

    def _stage(self, tables: Tables) -> None:
        self._staged = tables
        self.releases = MemoryReleases(tables.releases)
        self.signoffs = MemorySignOffs(tables)
        self.signals = MemorySignals(tables)
        self.freezes = MemoryFreezes(tables)
        self.risks = MemoryRisks(tables)
        self.decisions = MemoryDecisions(tables)
        self.huddles = MemoryHuddles(tables)
        self.changes = MemoryChanges(tables)
        self.syncs = MemorySyncs(tables)
        self.occurrences = MemoryOccurrences(tables)
        self.polls = MemoryPolls(tables)
        self.cards = MemoryCards(self._data.cards)
        self.pages = MemoryPages(self._data.pages)
        self.outbox = MemoryOutbox(self._staged_outbox)
        self.audit = MemoryAudit(self._data.audit, self._staged_audit)
        self.deployments = MemoryDeployments(tables)
        self.incidents = MemoryIncidents(tables)
        self.metrics = MemoryMetrics(tables)
        self.smoke = MemorySmokeChecks(tables)

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
        for message, at in self._staged_outbox:
            self._data.enqueue(message, at)
        if self._staged_outbox:
            for listener in self._data.listeners:
                listener()
        self._staged_outbox.clear()


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

    async def show_on_page(self, page: PageRef, releases: Collection[str]) -> None:
        if releases:
            self.data.pages[page] = frozenset(releases)
        else:
            self.data.pages.pop(page, None)

    def on_outbox_commit(self, listener: Callable[[], None]) -> None:
        self.data.listeners.append(listener)

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxItem]:
        heads: dict[Conversation, QueuedMessage] = {}
        for queued in self.data.outbox:
            if queued.status == "pending":
                heads.setdefault(queued.message.conversation, queued)
        claimed: list[OutboxItem] = []
        for queued in heads.values():
            free = queued.lease_until is None or queued.lease_until <= now
            if queued.next_at <= now and free and len(claimed) < limit:
                queued.lease_until = now + lease
                claimed.append(queued.item())
        return claimed

    def _queued(self, item: OutboxItem) -> QueuedMessage:
        return self.data.outbox[item.id - 1]

    async def settle(self, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.dead:
                await self.dead_letter(outcome.item, error=outcome.error or "", at=outcome.at)
            elif outcome.retry_at is not None:
                await self.retry_later(outcome.item, at=outcome.retry_at, error=outcome.error or "")
            else:
                await self.delivered(outcome.item, message_id=outcome.message_id, at=outcome.at)

    async def delivered(self, item: OutboxItem, *, message_id: str | None, at: datetime) -> None:
        queued = self._queued(item)
        queued.status, queued.done_at, queued.lease_until = "delivered", at, None
        subject = item.message.remember_as
        if subject and message_id:
            conversation = item.message.conversation
            await self.save_card(
                CardRef(subject, conversation.platform, conversation.id, message_id)
            )

    async def retry_later(self, item: OutboxItem, *, at: datetime, error: str) -> None:
        queued = self._queued(item)
        queued.attempts, queued.next_at = queued.attempts + 1, at
        queued.error, queued.lease_until = error, None

    async def dead_letter(self, item: OutboxItem, *, error: str, at: datetime) -> None:
        queued = self._queued(item)
        queued.status, queued.error, queued.done_at = "dead", error, at
        queued.attempts, queued.lease_until = queued.attempts + 1, None

    async def outbox_depth(self) -> tuple[int, int]:
        statuses = [queued.status for queued in self.data.outbox]
        return statuses.count("pending"), statuses.count("dead")

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        dead = [q for q in self.data.outbox if q.status == "dead"]
        return [DeadLetter(q.item(), q.error or "", q.done_at or q.created_at) for q in dead][
            :limit
        ]

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
