"""Syncs, claimed occurrences and readiness polls over SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain import Conversation
from bot.schedules import Answer, Poll, PollAnswer, Sync
from storage.sql_runner import Runner
from storage.tables import UTCDateTime, occurrence, poll, poll_answer, sync

_INSERT_SYNC = insert(sync).returning(sync.c.id)
_GET_SYNC = select(sync).where(sync.c.id == bindparam("id"))
_ACTIVE_SYNCS = select(sync).where(sync.c.cancelled_at.is_(None)).order_by(sync.c.id)
_SET_SYNC = update(sync).where(sync.c.id == bindparam("match_id"))
_LAST = select(func.max(occurrence.c.occurrence).label("last")).where(
    occurrence.c.key == bindparam("key")
)
_INSERT_POLL = insert(poll).returning(poll.c.id)
_GET_POLL = select(poll).where(poll.c.id == bindparam("id"))
_POLLS_OF = select(poll).where(poll.c.release == bindparam("release")).order_by(poll.c.id)
_LIVE_POLLS = select(poll).where(poll.c.escalated.is_(False)).order_by(poll.c.id)
_SET_POLL = update(poll).where(poll.c.id == bindparam("match_id"))
_INSERT_ANSWER = insert(poll_answer)
_ANSWERS = (
    select(poll_answer)
    .where(poll_answer.c.poll_id == bindparam("poll_id"))
    .order_by(poll_answer.c.id)
)


def to_sync(row: Any) -> Sync:
    return Sync(
        row.id,
        Conversation(row.conversation_platform, row.conversation_id),
        row.schedule,
        row.cron,
        row.timezone,
        row.created_by,
        row.created_at,
        row.cancelled_at,
    )


def to_poll(row: Any) -> Poll:
    where = None
    if row.conversation_platform is not None:
        where = Conversation(row.conversation_platform, row.conversation_id)
    return Poll(
        row.id,
        row.release,
        where,
        row.opens_at,
        row.deadline,
        tuple(row.addressees),
        bool(row.posted),
        bool(row.escalated),
    )


class SqlSyncs:
    def __init__(self, db: Runner) -> None:
        self._db = db

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
        values = {
            "conversation_platform": conversation.platform,
            "conversation_id": conversation.id,
            "schedule": schedule,
            "cron": cron,
            "timezone": timezone,
            "created_by": created_by,
            "created_at": created_at,
        }
        row = await self._db.fetch_one(_INSERT_SYNC, values)
        assert row is not None  # RETURNING always answers an INSERT
        return Sync(row.id, conversation, schedule, cron, timezone, created_by, created_at)

    async def get(self, sync_id: int) -> Sync | None:
        row = await self._db.fetch_one(_GET_SYNC, {"id": sync_id})
        return None if row is None else to_sync(row)

    async def active(self) -> Sequence[Sync]:
        return [to_sync(row) for row in await self._db.fetch_all(_ACTIVE_SYNCS)]

    async def cancel(self, sync_id: int, *, at: datetime) -> None:
        await self._db.execute(_SET_SYNC.values(cancelled_at=at), {"match_id": sync_id})


class SqlOccurrences:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def claim(self, key: str, occurrence_at: datetime, *, at: datetime) -> bool:
        dialect = postgresql if self._db.dialect == "postgresql" else sqlite
        stmt = dialect.insert(occurrence).values(key=key, occurrence=occurrence_at, claimed_at=at)
        return await self._db.execute(stmt.on_conflict_do_nothing()) == 1

    async def last(self, key: str) -> datetime | None:
        row = await self._db.fetch_one(_LAST, {"key": key})
        if row is None or row.last is None:
            return None
        # MAX() loses the column's type on SQLite; read it back as the column would.
        value = row.last
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]


class SqlPolls:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def add(
        self,
        *,
        release: str,
        conversation: Conversation | None,
        opens_at: datetime,
        deadline: datetime,
        addressees: Sequence[str],
    ) -> Poll:
        where = (conversation.platform, conversation.id) if conversation else (None, None)
        values = {
            "release": release,
            "conversation_platform": where[0],
            "conversation_id": where[1],
            "opens_at": opens_at,
            "deadline": deadline,
            "addressees": list(addressees),
            "posted": False,
            "escalated": False,
        }
        row = await self._db.fetch_one(_INSERT_POLL, values)
        assert row is not None
        return Poll(row.id, release, conversation, opens_at, deadline, tuple(addressees))

    async def get(self, poll_id: int) -> Poll | None:
        row = await self._db.fetch_one(_GET_POLL, {"id": poll_id})
        return None if row is None else to_poll(row)

    async def for_release(self, release: str) -> Sequence[Poll]:
        return [to_poll(r) for r in await self._db.fetch_all(_POLLS_OF, {"release": release})]

    async def live(self) -> Sequence[Poll]:
        return [to_poll(r) for r in await self._db.fetch_all(_LIVE_POLLS)]

    async def mark(
        self,
        poll_id: int,
        *,
        posted: bool | None = None,
        escalated: bool | None = None,
        deadline: datetime | None = None,
        opens_at: datetime | None = None,
    ) -> None:
        given = (
            ("posted", posted),
            ("escalated", escalated),
            ("deadline", deadline),
            ("opens_at", opens_at),
        )
        values = {k: v for k, v in given if v is not None}
        if values:
            await self._db.execute(_SET_POLL.values(**values), {"match_id": poll_id})

    async def answer(self, answer: PollAnswer) -> None:
        values = {
            "poll_id": answer.poll_id,
            "principal": answer.principal,
            "display_name": answer.display_name,
            "answer": answer.answer.value,
            "reason": answer.reason,
            "at": answer.at,
        }
        await self._db.execute(_INSERT_ANSWER, values)

    async def answers(self, poll_id: int) -> Sequence[PollAnswer]:
        rows = await self._db.fetch_all(_ANSWERS, {"poll_id": poll_id})
        return [
            PollAnswer(r.poll_id, r.principal, r.display_name, Answer(r.answer), r.reason, r.at)
            for r in rows
        ]
