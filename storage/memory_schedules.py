"""The in-memory twins of the sync, occurrence and poll repositories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.domain import Conversation
from bot.schedules import Poll, PollAnswer, Sync
from storage.memory_tables import Tables


class MemorySyncs:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(
        self,
        *,
        conversation: Conversation,
        schedule: str,
        cron: str,
        timezone: str,
        created_by: str,
        created_at: datetime,
    ) -> Sync:
        sync_id = self._tables.next_id("sync")
        sync = Sync(sync_id, conversation, schedule, cron, timezone, created_by, created_at)
        self._tables.syncs[sync_id] = sync
        return sync

    async def get(self, sync_id: int) -> Sync | None:
        return self._tables.syncs.get(sync_id)

    async def active(self) -> Sequence[Sync]:
        return [s for s in self._tables.syncs.values() if s.cancelled_at is None]

    async def cancel(self, sync_id: int, *, at: datetime) -> None:
        self._tables.syncs[sync_id] = replace(self._tables.syncs[sync_id], cancelled_at=at)


class MemoryOccurrences:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def claim(self, key: str, occurrence: datetime, *, at: datetime) -> bool:
        if (key, occurrence) in self._tables.occurrences:
            return False
        self._tables.occurrences.add((key, occurrence))
        return True

    async def last(self, key: str) -> datetime | None:
        return max((o for k, o in self._tables.occurrences if k == key), default=None)


class MemoryPolls:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(
        self,
        *,
        release: str,
        conversation: Conversation | None,
        opens_at: datetime,
        deadline: datetime,
        addressees: Sequence[str],
    ) -> Poll:
        poll_id = self._tables.next_id("poll")
        poll = Poll(poll_id, release, conversation, opens_at, deadline, tuple(addressees))
        self._tables.polls[poll_id] = poll
        return poll

    async def get(self, poll_id: int) -> Poll | None:
        return self._tables.polls.get(poll_id)

    async def for_release(self, release: str) -> Sequence[Poll]:
        return [p for p in self._tables.polls.values() if p.release == release]

    async def live(self) -> Sequence[Poll]:
        return [p for p in self._tables.polls.values() if not p.escalated]

    async def mark(
        self,
        poll_id: int,
        *,
        posted: bool | None = None,
        escalated: bool | None = None,
        deadline: datetime | None = None,
        opens_at: datetime | None = None,
    ) -> None:
        poll = self._tables.polls[poll_id]
        self._tables.polls[poll_id] = replace(
            poll,
            posted=poll.posted if posted is None else posted,
            escalated=poll.escalated if escalated is None else escalated,
            deadline=poll.deadline if deadline is None else deadline,
            opens_at=poll.opens_at if opens_at is None else opens_at,
        )

    async def answer(self, answer: PollAnswer) -> None:
        self._tables.poll_answers.append(answer)

    async def answers(self, poll_id: int) -> Sequence[PollAnswer]:
        return [a for a in self._tables.poll_answers if a.poll_id == poll_id]
