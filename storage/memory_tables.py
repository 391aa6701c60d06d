"""The in-memory store's data: what one unit of work stages and commits at once."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from bot.domain import AuditEvent, Freeze, Release, SignalValue
from bot.observe import Deployment, Incident, SmokeResult
from bot.outbox import Outgoing
from bot.ports import CardRef, PageRef
from bot.risks import ChangeItem, Decision, Huddle, Risk
from bot.schedules import Poll, PollAnswer, Sync
from bot.signoffs import SignOff
from storage.base import OutboxItem


@dataclass
class QueuedMessage:
    id: int
    message: Outgoing
    created_at: datetime
    next_at: datetime
    attempts: int = 0
    status: str = "pending"
    lease_until: datetime | None = None
    error: str | None = None
    done_at: datetime | None = None

    def item(self) -> OutboxItem:
        return OutboxItem(self.id, self.message, self.attempts, self.created_at)


@dataclass
class Tables:
    """Everything a unit of work stages and commits at once."""

    releases: dict[str, Release] = field(default_factory=dict)
    signoffs: list[SignOff] = field(default_factory=list)
    signals: list[SignalValue] = field(default_factory=list)
    freezes: dict[int, Freeze] = field(default_factory=dict)
    risks: dict[int, Risk] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    huddles: dict[int, Huddle] = field(default_factory=dict)
    changes: list[ChangeItem] = field(default_factory=list)
    syncs: dict[int, Sync] = field(default_factory=dict)
    occurrences: set[tuple[str, datetime]] = field(default_factory=set)
    polls: dict[int, Poll] = field(default_factory=dict)
    poll_answers: list[PollAnswer] = field(default_factory=list)
    deployments: dict[int, Deployment] = field(default_factory=dict)
    incidents: dict[int, Incident] = field(default_factory=dict)
    # (release, run_at, result), in the order recorded.
    smoke: list[tuple[str, datetime, SmokeResult]] = field(default_factory=list)
    # Last ids handed out, per kind ("freeze", "risk", "huddle").
    ids: dict[str, int] = field(default_factory=dict)

    def copy(self) -> Tables:
        """A copy whose containers can change without touching this one."""
        return Tables(**{f.name: copy.copy(getattr(self, f.name)) for f in fields(self)})

    def next_id(self, kind: str) -> int:
        self.ids[kind] = self.ids.get(kind, 0) + 1
        return self.ids[kind]


@dataclass
class MemoryData:
    tables: Tables = field(default_factory=Tables)
    audit: list[AuditEvent] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    deliveries: set[str] = field(default_factory=set)
    conversation_refs: dict[str, dict[str, Any]] = field(default_factory=dict)
    cards: list[CardRef] = field(default_factory=list)
    pages: dict[PageRef, frozenset[str]] = field(default_factory=dict)
    outbox: list[QueuedMessage] = field(default_factory=list)
    listeners: list[Callable[[], None]] = field(default_factory=list)

    def enqueue(self, message: Outgoing, at: datetime) -> None:
        self.outbox.append(QueuedMessage(len(self.outbox) + 1, message, at, at))

    @property
    def releases(self) -> dict[str, Release]:
        return self.tables.releases
