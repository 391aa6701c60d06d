"""What every store offers the composition root, beyond the core's unit of work."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.outbox import Outgoing
from bot.ports import CardRef, PageRef, UnitOfWork

__all__ = ["AuditHeadMissing", "CardRef", "DeadLetter", "OutboxItem", "Outcome", "PageRef", "Store"]


class AuditHeadMissing(RuntimeError):
    """The record of the audit chain's tip is gone: the store was not migrated, or someone
    deleted it (with the newest events, say) to hide what they removed."""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A queued message, claimed by one worker for one delivery attempt."""

    id: int
    message: Outgoing
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one delivery attempt: delivered, to retry at `retry_at`, or dead."""

    item: OutboxItem
    at: datetime
    message_id: str | None = None
    retry_at: datetime | None = None
    error: str | None = None
    dead: bool = False


@dataclass(frozen=True, slots=True)
class DeadLetter:
    item: OutboxItem
    error: str
    dead_at: datetime


class Store(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work (the core's port)."""
        ...

    async def claim_delivery(self, key: str, *, at: datetime) -> bool:
        """Claim an inbound delivery (e.g. a Slack event id): True only the first time."""
        ...

    async def save_conversation_ref(self, conversation_id: str, reference: dict[str, Any]) -> None:
        """Keep (or replace) a chat platform's reference to a conversation, for proactive sends."""
        ...

    async def conversation_ref(self, conversation_id: str) -> dict[str, Any] | None: ...

    async def save_card(self, card: CardRef) -> None:
        """Remember a posted card (saving the same card twice keeps one)."""
        ...

    async def cards_of(self, release: str) -> list[CardRef]:
        """Every posted card of a release, oldest first."""
        ...

    async def show_on_page(self, page: PageRef, releases: Collection[str]) -> None:
        """Remember that `page` now offers buttons for `releases`, and for no other release."""
        ...

    def on_outbox_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` after each commit that queued outgoing messages (wakes the worker)."""
        ...

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Claim what may be sent now: per conversation only its oldest pending message, and
        only when that one is due and no other worker's lease on it still runs."""
        ...

    async def settle(self, outcomes: Sequence[Outcome]) -> None:
        """Record several delivery outcomes at once (one transaction)."""
        ...

    async def delivered(self, item: OutboxItem, *, message_id: str | None, at: datetime) -> None:
        """Mark sent; a posted card (`remember_as`) is remembered under `message_id`."""
        ...

    async def retry_later(self, item: OutboxItem, *, at: datetime, error: str) -> None: ...

    async def dead_letter(self, item: OutboxItem, *, error: str, at: datetime) -> None:
        """Give up on a message: it stays visible, and its conversation moves on."""
        ...

    async def outbox_depth(self) -> tuple[int, int]:
        """How many messages wait, and how many are dead-lettered."""
        ...

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]: ...

    async def ping(self) -> None:
        """Raise unless the store answers."""
        ...

    async def close(self) -> None: ...
