"""The audit chain: each event's hash covers its content and the hash before it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import AuditDraft, AuditEvent

GENESIS_HASH = "0" * 64


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _timestamp(at: datetime) -> str:
    # Microseconds are dropped: not every store keeps them, and the hash must survive a round trip.
    return at.replace(microsecond=0).isoformat()


def event_hash(*, seq: int, prev_hash: str, draft: AuditDraft | AuditEvent) -> str:
    """The SHA-256 of one event's content chained to the hash of the event before it."""
    body = {
        "seq": seq,
        "prev": prev_hash,
        "action": draft.action,
        "actor": draft.actor,
        "surface": draft.surface,
        "at": _timestamp(draft.at),
        "release": draft.release,
        "before": draft.before,
        "after": draft.after,
        "detail": draft.detail,
    }
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def seal(draft: AuditDraft, *, seq: int, prev_hash: str) -> AuditEvent:
    """Place a draft in the chain after `prev_hash`."""
    return AuditEvent(
        seq=seq,
        action=draft.action,
        actor=draft.actor,
        surface=draft.surface,
        at=draft.at.replace(microsecond=0),
        release=draft.release,
        before=draft.before,
        after=draft.after,
        detail=draft.detail,
        prev_hash=prev_hash,
        hash=event_hash(seq=seq, prev_hash=prev_hash, draft=draft),
    )


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    problem: str


def verify_chain(
    events: Iterable[AuditEvent], head: tuple[int, str] | None = None
) -> ChainBreak | None:
    """The first event that does not follow from the one before it, or None when all do.

    `head` is the store's own record of the last event; without it, deleting the newest events
    would leave a shorter chain that still verifies.
    """
    expected_prev, expected_seq = GENESIS_HASH, 1
    for event in events:
        if event.seq != expected_seq:
            missing = f"event {expected_seq} is missing (next is {event.seq})"
            return ChainBreak(expected_seq, missing)
        if event.prev_hash != expected_prev:
            return ChainBreak(event.seq, "does not link to the event before it")
        if event_hash(seq=event.seq, prev_hash=event.prev_hash, draft=event) != event.hash:
            return ChainBreak(event.seq, "content does not match its hash")
        expected_prev, expected_seq = event.hash, event.seq + 1
    if head is not None and head != (expected_seq - 1, expected_prev):
        return ChainBreak(
            expected_seq,
            f"the chain ends at event {expected_seq - 1}, but the last recorded event is {head[0]}",
        )
    return None
