"""What every store offers the composition root, beyond the core's unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class CardRef:
    """Where a release card was posted, so it can be updated in place after every decision."""

    release: str
    platform: str
    conversation_id: str
    message_id: str


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

    async def ping(self) -> None:
        """Raise unless the store answers."""
        ...

    async def close(self) -> None: ...
