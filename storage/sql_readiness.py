"""Sign-offs, readiness signals and freeze windows over SQL, mapped by hand like the releases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from bot.domain import Freeze, SignalValue
from bot.signoffs import SignOff, Verdict
from storage.sql_runner import Runner
from storage.tables import freeze_window, readiness_signal, signoff

# The public statements are also run as plain sqlite3 by storage/sqlite_reads.py.
# Insertion order (the id) is the order the in-memory twin keeps: oldest first.
SIGNOFFS_OF = (
    select(signoff).where(signoff.c.release == bindparam("release")).order_by(signoff.c.id)
)
_INSERT_SIGNOFF = insert(signoff)
_MARK_STALE = (
    update(signoff)
    .where(signoff.c.release == bindparam("match_release"))
    .where(signoff.c.stale.is_(False))
    .values(stale=True)
)
SIGNALS_OF = (
    select(readiness_signal)
    .where(readiness_signal.c.release == bindparam("release"))
    .order_by(readiness_signal.c.at, readiness_signal.c.id)
)
_INSERT_SIGNAL = insert(readiness_signal)
_INSERT_FREEZE = insert(freeze_window).returning(freeze_window.c.id)
GET_FREEZE = select(freeze_window).where(freeze_window.c.id == bindparam("id"))
_DELETE_FREEZE = delete(freeze_window).where(freeze_window.c.id == bindparam("id"))
OVERLAPPING = (
    select(freeze_window)
    .where(freeze_window.c.starts_at <= bindparam("until", type_=freeze_window.c.starts_at.type))
    .where(freeze_window.c.ends_at > bindparam("since", type_=freeze_window.c.ends_at.type))
    .order_by(freeze_window.c.starts_at, freeze_window.c.id)
)


def to_signoff(row: Any) -> SignOff:
    return SignOff(
        release=row.release,
        role=row.role,
        principal=row.principal,
        display_name=row.display_name,
        verdict=Verdict(row.verdict),
        at=row.at,
        note=row.note,
        stale=row.stale,
    )


def signoff_values(item: SignOff) -> dict[str, Any]:
    return {
        "release": item.release,
        "role": item.role,
        "principal": item.principal,
        "display_name": item.display_name,
        "verdict": item.verdict.value,
        "at": item.at,
        "note": item.note,
        "stale": item.stale,
    }


class SqlSignOffs:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def for_release(self, release: str) -> Sequence[SignOff]:
        rows = await self._db.fetch_all(SIGNOFFS_OF, {"release": release})
        return [to_signoff(row) for row in rows]

    async def add(self, item: SignOff) -> None:
        await self._db.execute(_INSERT_SIGNOFF, signoff_values(item))

    async def mark_stale(self, release: str) -> int:
        return await self._db.execute(_MARK_STALE, {"match_release": release})


class SqlSignals:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def add(self, signal: SignalValue) -> None:
        values = {
            "release": signal.release,
            "key": signal.key,
            "value": signal.value,
            "at": signal.at,
            "source": signal.source,
        }
        await self._db.execute(_INSERT_SIGNAL, values)

    async def latest(self, release: str) -> Mapping[str, float]:
        # A release has a handful of signals; folding them here keeps "latest" exactly the
        # twin's rule (by time, then arrival) on both databases.
        return latest_values(await self._db.fetch_all(SIGNALS_OF, {"release": release}))


def latest_values(rows: Iterable[Any]) -> dict[str, float]:
    """Each key's last value, from rows in SIGNALS_OF order."""
    return {row.key: row.value for row in rows}


def to_freeze(row: Any) -> Freeze:
    return Freeze(
        id=row.id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        created_by=row.created_by,
    )


class SqlFreezes:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def add(
        self, *, starts_at: datetime, ends_at: datetime, reason: str | None, created_by: str
    ) -> Freeze:
        values = {
            "starts_at": starts_at,
            "ends_at": ends_at,
            "reason": reason,
            "created_by": created_by,
        }
        row = await self._db.fetch_one(_INSERT_FREEZE, values)
        assert row is not None  # RETURNING always answers an INSERT
        return Freeze(row.id, starts_at, ends_at, reason, created_by)

    async def get(self, freeze_id: int) -> Freeze | None:
        row = await self._db.fetch_one(GET_FREEZE, {"id": freeze_id})
        return None if row is None else to_freeze(row)

    async def remove(self, freeze_id: int) -> None:
        await self._db.execute(_DELETE_FREEZE, {"id": freeze_id})

    async def overlapping(self, starts_at: datetime, ends_at: datetime) -> Sequence[Freeze]:
        """Windows that share any instant with [starts_at, ends_at], soonest first."""
        rows = await self._db.fetch_all(OVERLAPPING, {"since": starts_at, "until": ends_at})
        return [to_freeze(row) for row in rows]
