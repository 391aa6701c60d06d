"""The core's repositories over SQL: Core statements in, domain dataclasses out, mapped by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from bot.audit import seal
from bot.domain import (
    AlreadyExists,
    AuditDraft,
    AuditEvent,
    ChangeClass,
    ConcurrentChange,
    Conversation,
    Release,
    State,
)
from bot.ports import ReleaseQuery
from storage.base import AuditHeadMissing
from storage.sql_runner import Runner
from storage.tables import audit_event, audit_head, release

# Built once: the hot lookup skips statement construction on every call. The public ones are
# also run as plain sqlite3 by storage/sqlite_reads.py.
GET_RELEASE = select(release).where(release.c.name == bindparam("name"))
_LOCK_RELEASE = GET_RELEASE.with_for_update()
_INSERT_RELEASE = insert(release)
_UPDATE_RELEASE = (
    update(release)
    .where(release.c.name == bindparam("match_name"))
    .where(release.c.revision == bindparam("match_revision"))
)
_HEAD = audit_head.c
READ_HEAD = select(_HEAD.seq, _HEAD.hash).where(_HEAD.id == 1)
_LOCK_HEAD = READ_HEAD.with_for_update()
_MOVE_HEAD = update(audit_head).where(audit_head.c.id == 1)
_INSERT_EVENT = insert(audit_event)
ALL_EVENTS = select(audit_event).order_by(audit_event.c.seq)
EVENTS_FOR = ALL_EVENTS.where(audit_event.c.release == bindparam("release"))


def release_values(item: Release) -> dict[str, Any]:
    """The `release` row for a domain release (without the surrogate id)."""
    channel = item.channel
    return {
        "name": item.name,
        "service": item.service,
        "version": item.version,
        "state": item.state.value,
        "change_class": item.change_class.value,
        "owner": item.owner,
        "scheduled_at": item.scheduled_at,
        "train": item.train,
        "env": item.env,
        "channel_platform": channel.platform if channel else None,
        "channel_id": channel.id if channel else None,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "revision": item.revision,
        "review_due_at": item.review_due_at,
        "reviewed_by": item.reviewed_by,
    }


def to_release(row: Any) -> Release:
    channel = None
    if row.channel_platform is not None:
        channel = Conversation(platform=row.channel_platform, id=row.channel_id)
    return Release(
        service=row.service,
        version=row.version,
        state=State(row.state),
        change_class=ChangeClass(row.change_class),
        owner=row.owner,
        created_at=row.created_at,
        updated_at=row.updated_at,
        scheduled_at=row.scheduled_at,
        train=row.train,
        env=row.env,
        channel=channel,
        revision=row.revision,
        review_due_at=row.review_due_at,
        reviewed_by=row.reviewed_by,
    )


def _schedule_filter(query: ReleaseQuery) -> ColumnElement[bool]:
    """The WHERE clause of storage.memory.matches for the schedule fields."""
    moment = release.c.scheduled_at
    window: list[ColumnElement[bool]] = [moment.is_not(None)]
    if query.scheduled_from is not None:
        window.append(moment >= query.scheduled_from)
    if query.scheduled_until is not None:
        window.append(moment <= query.scheduled_until)
    if not query.include_unscheduled:
        return and_(*window)
    if len(window) == 1:
        return true()
    return or_(moment.is_(None), and_(*window))


def find_statement(query: ReleaseQuery, *, dialect: str) -> Select[Any]:
    """Releases matching `query`, in storage.memory.schedule_order, at most `query.limit`."""
    stmt = select(release).where(_schedule_filter(query))
    if query.states is not None:
        stmt = stmt.where(release.c.state.in_(sorted(s.value for s in query.states)))
    if query.train is not None:
        stmt = stmt.where(release.c.train == query.train)
    if query.service is not None:
        stmt = stmt.where(release.c.service == query.service)
    # Ties break by name in code-point order, as Python sorts; PostgreSQL needs the C collation.
    name = release.c.name.collate("C") if dialect == "postgresql" else release.c.name
    return stmt.order_by(release.c.scheduled_at.asc().nulls_last(), name).limit(query.limit)


class SqlReleases:
    def __init__(self, db: Runner, *, read_only: bool = False) -> None:
        self._db = db
        self._read_only = read_only

    async def get(self, name: str, *, for_update: bool = False) -> Release | None:
        # FOR UPDATE makes a second writer of this release wait for our commit (PostgreSQL; on
        # SQLite the writer already holds the database lock). A read-only transaction may not
        # lock, and has nothing to protect.
        stmt = _LOCK_RELEASE if for_update and not self._read_only else GET_RELEASE
        row = await self._db.fetch_one(stmt, {"name": name})
        return None if row is None else to_release(row)

    async def add(self, item: Release) -> None:
        try:
            # A savepoint: on PostgreSQL a failed INSERT would otherwise spoil the whole
            # transaction, and the caller may still want to write (e.g. audit the refusal).
            async with self._db.savepoint():
                await self._db.execute(_INSERT_RELEASE, release_values(item))
        except IntegrityError as error:
            if await self._db.fetch_one(GET_RELEASE, {"name": item.name}) is None:
                raise
            raise AlreadyExists(f"{item.name} is already declared") from error

    async def update(self, item: Release) -> None:
        params = release_values(item) | {
            "match_name": item.name,
            "match_revision": item.revision - 1,
        }
        if await self._db.execute(_UPDATE_RELEASE, params) == 0:
            raise ConcurrentChange(item.name)

    async def find(self, query: ReleaseQuery) -> Sequence[Release]:
        rows = await self._db.fetch_all(find_statement(query, dialect=self._db.dialect))
        return [to_release(row) for row in rows]


def to_event(row: Any) -> AuditEvent:
    return AuditEvent(
        seq=row.seq,
        action=row.action,
        actor=row.actor,
        surface=row.surface,
        at=row.at,
        release=row.release,
        before=row.before,
        after=row.after,
        detail=row.detail,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def event_values(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "action": event.action,
        "actor": event.actor,
        "surface": event.surface,
        "at": event.at,
        "release": event.release,
        "before": event.before,
        "after": event.after,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _in_utc(draft: AuditDraft) -> AuditDraft:
    """The draft stamped in UTC: the store returns UTC, and a re-read event must still verify."""
    if draft.at.tzinfo is None:
        raise ValueError(f"audit time {draft.at.isoformat()} is naive: the store takes aware UTC")
    return replace(draft, at=draft.at.astimezone(UTC))


class SqlAudit:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def append(self, draft: AuditDraft) -> AuditEvent:
        # Locking the head row serializes appends on PostgreSQL (SQLite's BEGIN IMMEDIATE
        # already has); the lock is held until this transaction ends, so the chain has no gaps.
        seq, prev_hash = await self._head(_LOCK_HEAD)
        event = seal(_in_utc(draft), seq=seq + 1, prev_hash=prev_hash)
        await self._db.execute(_INSERT_EVENT, event_values(event))
        await self._db.execute(_MOVE_HEAD, {"seq": event.seq, "hash": event.hash})
        return event

    async def for_release(self, name: str) -> Sequence[AuditEvent]:
        rows = await self._db.fetch_all(EVENTS_FOR, {"release": name})
        return [to_event(row) for row in rows]

    async def all(self) -> Sequence[AuditEvent]:
        return [to_event(row) for row in await self._db.fetch_all(ALL_EVENTS)]

    async def head(self) -> tuple[int, str]:
        """The chain's tip as recorded apart from the events, so deleting the last one shows."""
        return await self._head(READ_HEAD)

    async def _head(self, stmt: Select[Any]) -> tuple[int, str]:
        return head_of(await self._db.fetch_one(stmt))


def head_of(row: Any) -> tuple[int, str]:
    """The chain's tip from its `audit_head` row, which the first migration puts in place."""
    if row is None:
        raise AuditHeadMissing("audit_head has no row: the chain's tip is not recorded")
    return row.seq, row.hash
