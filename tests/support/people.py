"""People and places the tests talk about."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain import Actor, Conversation

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
ALICE = Actor("slack:U0ALICE01", "alice", "slack")
CHANNEL = Conversation("slack", "C0RELEASES")
