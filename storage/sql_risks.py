"""Risks, decisions, huddles and change items over SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from bot.domain import Conversation
from bot.risks import ChangeItem, Decision, Huddle, Outcome, Risk, Severity
from storage.sql_runner import Runner
from storage.tables import change_item, decision, huddle, risk

_INSERT_RISK = insert(risk).returning(risk.c.id)
_GET_RISK = select(risk).where(risk.c.id == bindparam("id"))
_LOCK_RISK = _GET_RISK.with_for_update()
# Also run as plain sqlite3 by storage/sqlite_reads.py: every status card reads it.
RISKS_ON = select(risk).where(risk.c.release == bindparam("release")).order_by(risk.c.id)
_HOMELESS = select(risk).where(risk.c.release.is_(None)).order_by(risk.c.id)
_MOVE_RISK = update(risk).where(risk.c.id == bindparam("match_id"))
# Conditional, so of two releases declared at once only one takes a waiting risk: on PostgreSQL
# the second UPDATE waits for the first's row lock, then finds the release set and matches none.
_TAKE_RISK = _MOVE_RISK.where(risk.c.release.is_(None))
_INSERT_DECISION = insert(decision)
_DECISIONS_FOR_RISKS = (
    select(decision)
    .where(decision.c.risk_id.in_(bindparam("ids", expanding=True)))
    .order_by(decision.c.id)
)
_DECISIONS_ON = (
    select(decision).where(decision.c.release == bindparam("release")).order_by(decision.c.id)
)
_INSERT_HUDDLE = insert(huddle).returning(huddle.c.id)
_GET_HUDDLE = select(huddle).where(huddle.c.id == bindparam("id"))
_OPEN_HUDDLE = (
    select(huddle)
    .where(huddle.c.release == bindparam("release"), huddle.c.closed_at.is_(None))
    .order_by(huddle.c.id.desc())
    .limit(1)
)
_ALL_OPEN_HUDDLES = (
    select(huddle)
    .where(huddle.c.closed_at.is_(None))
    .order_by(huddle.c.id.desc())
    .limit(bindparam("limit"))
)
_CLOSE_HUDDLE = update(huddle).where(huddle.c.id == bindparam("match_id"))
_INSERT_CHANGE = insert(change_item)
_CHANGES_OF = (
    select(change_item)
    .where(change_item.c.release == bindparam("release"))
    .order_by(change_item.c.id)
)


def to_risk(row: Any) -> Risk:
    return Risk(
        row.id,
        row.release,
        row.origin,
        Severity(row.severity),
        row.description,
        row.raised_by,
        row.raised_at,
    )


def to_decision(row: Any) -> Decision:
    return Decision(
        row.risk_id,
        row.release,
        Outcome(row.outcome),
        row.rationale,
        row.decided_by,
        row.decided_name,
        row.decided_at,
        row.expires_at,
    )


def to_huddle(row: Any) -> Huddle:
    return Huddle(
        row.id,
        row.release,
        row.topic,
        row.opened_by,
        row.opened_at,
        row.conversation_platform,
        row.conversation_id,
        row.closed_at,
    )


def to_change(row: Any) -> ChangeItem:
    return ChangeItem(
        row.release, row.title, row.kind, row.squad, row.link, row.author, row.merged_at
    )


class SqlRisks:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def add(
        self,
        *,
        release: str,
        severity: Severity,
        description: str,
        raised_by: str,
        raised_at: datetime,
    ) -> Risk:
        values = {
            "release": release,
            "origin": release,
            "severity": severity.value,
            "description": description,
            "raised_by": raised_by,
            "raised_at": raised_at,
        }
        row = await self._db.fetch_one(_INSERT_RISK, values)
        assert row is not None  # RETURNING always answers an INSERT
        return Risk(row.id, release, release, severity, description, raised_by, raised_at)

    async def get(self, risk_id: int, *, for_update: bool = False) -> Risk | None:
        stmt = _LOCK_RISK if for_update and self._db.dialect == "postgresql" else _GET_RISK
        row = await self._db.fetch_one(stmt, {"id": risk_id})
        return None if row is None else to_risk(row)

    async def on_release(self, release: str) -> Sequence[Risk]:
        return [to_risk(r) for r in await self._db.fetch_all(RISKS_ON, {"release": release})]

    async def homeless(self) -> Sequence[Risk]:
        return [to_risk(r) for r in await self._db.fetch_all(_HOMELESS)]

    async def move(self, risk_id: int, release: str | None) -> None:
        await self._db.execute(_MOVE_RISK.values(release=release), {"match_id": risk_id})

    async def take(self, risk_id: int, release: str) -> bool:
        taken = await self._db.execute(_TAKE_RISK.values(release=release), {"match_id": risk_id})
        return taken == 1


class SqlDecisions:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def add(self, item: Decision) -> None:
        values = {
            "risk_id": item.risk_id,
            "release": item.release,
            "outcome": item.outcome.value,
            "rationale": item.rationale,
            "decided_by": item.decided_by,
            "decided_name": item.decided_name,
            "decided_at": item.decided_at,
            "expires_at": item.expires_at,
        }
        await self._db.execute(_INSERT_DECISION, values)

    async def for_risks(self, risk_ids: Sequence[int]) -> Sequence[Decision]:
        if not risk_ids:
            return []
        rows = await self._db.fetch_all(_DECISIONS_FOR_RISKS, {"ids": list(risk_ids)})
        return [to_decision(r) for r in rows]

    async def for_release(self, release: str) -> Sequence[Decision]:
        rows = await self._db.fetch_all(_DECISIONS_ON, {"release": release})
        return [to_decision(r) for r in rows]


class SqlHuddles:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def add(
        self,
        *,
        release: str,
        topic: str | None,
        opened_by: str,
        opened_at: datetime,
        conversation: Conversation | None,
    ) -> Huddle:
        where = (conversation.platform, conversation.id) if conversation else (None, None)
        values = {
            "release": release,
            "topic": topic,
            "opened_by": opened_by,
            "opened_at": opened_at,
            "conversation_platform": where[0],
            "conversation_id": where[1],
        }
        row = await self._db.fetch_one(_INSERT_HUDDLE, values)
        assert row is not None
        return Huddle(row.id, release, topic, opened_by, opened_at, *where)

    async def open_for(self, release: str) -> Huddle | None:
        row = await self._db.fetch_one(_OPEN_HUDDLE, {"release": release})
        return None if row is None else to_huddle(row)

    async def all_open(self, *, limit: int) -> Sequence[Huddle]:
        rows = await self._db.fetch_all(_ALL_OPEN_HUDDLES, {"limit": limit})
        return [to_huddle(row) for row in rows]

    async def get(self, huddle_id: int) -> Huddle | None:
        row = await self._db.fetch_one(_GET_HUDDLE, {"id": huddle_id})
        return None if row is None else to_huddle(row)

    async def close(self, huddle_id: int, *, at: datetime) -> None:
        await self._db.execute(_CLOSE_HUDDLE.values(closed_at=at), {"match_id": huddle_id})


class SqlChanges:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def add(self, item: ChangeItem) -> None:
        values = {
            "release": item.release,
            "title": item.title,
            "kind": item.kind,
            "squad": item.squad,
            "link": item.link,
            "author": item.author,
            "merged_at": item.merged_at,
        }
        await self._db.execute(_INSERT_CHANGE, values)

    async def for_release(self, release: str) -> Sequence[ChangeItem]:
        rows = await self._db.fetch_all(_CHANGES_OF, {"release": release})
        return [to_change(r) for r in rows]
