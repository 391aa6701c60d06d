"""What every handler gets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import Actor, Conversation
from bot.policy import Policy
from bot.ports import SyncTimes, UnitOfWork


@dataclass(frozen=True, slots=True)
class Context:
    actor: Actor
    conversation: Conversation | None
    now: datetime
    policy: Policy
    uow: UnitOfWork
    available: frozenset[str]
    # Where people open the dashboard; reminders link to it.
    public_url: str = "http://127.0.0.1:8080"
    # When syncs meet; None where nobody wired the scheduler's arithmetic in (no syncs shown).
    sync_times: SyncTimes | None = None
