"""The hot reads of a read-only unit of work on SQLite, in plain SQL on the snapshot connection.

Each repository here is its SQL twin with the reads that serve every status card (and a few
other simple reads) re-done as `PlainQuery`s; whatever it does not override (finding releases,
decisions on risks, any write, any repository not listed) still goes through SQLAlchemy, on the
same connection and so in the same snapshot. Rows are mapped to domain objects by the same
functions the SQLAlchemy path uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from bot.domain import AuditEvent, Freeze, Release
from bot.risks import Risk
from bot.signoffs import SignOff
from storage.sql_readiness import (
    GET_FREEZE,
    OVERLAPPING,
    SIGNALS_OF,
    SIGNOFFS_OF,
    SqlFreezes,
    SqlSignals,
    SqlSignOffs,
    latest_values,
    to_freeze,
    to_signoff,
)
from storage.sql_repos import (
    ALL_EVENTS,
    EVENTS_FOR,
    GET_RELEASE,
    READ_HEAD,
    SqlAudit,
    SqlReleases,
    head_of,
    to_event,
    to_release,
)
from storage.sql_risks import RISKS_ON, SqlRisks, to_risk
from storage.sqlite_plain import plain
from storage.sqlite_snapshot import SnapshotRunner

_GET_RELEASE = plain(GET_RELEASE)
_SIGNOFFS_OF = plain(SIGNOFFS_OF)
_SIGNALS_OF = plain(SIGNALS_OF)
_GET_FREEZE = plain(GET_FREEZE)
_OVERLAPPING = plain(OVERLAPPING)
_READ_HEAD = plain(READ_HEAD)
_ALL_EVENTS = plain(ALL_EVENTS)
_EVENTS_FOR = plain(EVENTS_FOR)
_RISKS_ON = plain(RISKS_ON)


# The repositories a read-only unit of work on the snapshot uses instead of its SQL twins
# (storage.sql builds each on first use, as it does the others).
PLAIN_REPOSITORIES: dict[str, Callable[[SnapshotRunner, bool], object]] = {
    "releases": lambda db, _: PlainReleases(db),
    "signoffs": lambda db, _: PlainSignOffs(db),
    "signals": lambda db, _: PlainSignals(db),
    "freezes": lambda db, _: PlainFreezes(db),
    "risks": lambda db, _: PlainRisks(db),
    "audit": lambda db, _: PlainAudit(db),
}


class PlainReleases(SqlReleases):
    def __init__(self, db: SnapshotRunner) -> None:
        super().__init__(db, read_only=True)
        self._snapshot = db

    async def get(self, name: str, *, for_update: bool = False) -> Release | None:
        # A read-only transaction takes no lock: it has nothing to protect.
        row = self._snapshot.one(_GET_RELEASE, {"name": name})
        return None if row is None else to_release(row)


class PlainSignOffs(SqlSignOffs):
    def __init__(self, db: SnapshotRunner) -> None:
        super().__init__(db)
        self._snapshot = db

    async def for_release(self, release: str) -> Sequence[SignOff]:
        return [to_signoff(row) for row in self._snapshot.all(_SIGNOFFS_OF, {"release": release})]


class PlainSignals(SqlSignals):
    def __init__(self, db: SnapshotRunner) -> None:
        super().__init__(db)
        self._snapshot = db

    async def latest(self, release: str) -> Mapping[str, float]:
        return latest_values(self._snapshot.all(_SIGNALS_OF, {"release": release}))


class PlainFreezes(SqlFreezes):
    def __init__(self, db: SnapshotRunner) -> None:
        super().__init__(db)
        self._snapshot = db

    async def get(self, freeze_id: int) -> Freeze | None:
        row = self._snapshot.one(_GET_FREEZE, {"id": freeze_id})
        return None if row is None else to_freeze(row)

    async def overlapping(self, starts_at: datetime, ends_at: datetime) -> Sequence[Freeze]:
        rows = self._snapshot.all(_OVERLAPPING, {"since": starts_at, "until": ends_at})
        return [to_freeze(row) for row in rows]


class PlainRisks(SqlRisks):
    def __init__(self, db: SnapshotRunner) -> None:
        super().__init__(db)
        self._snapshot = db

    async def on_release(self, release: str) -> Sequence[Risk]:
        return [to_risk(row) for row in self._snapshot.all(_RISKS_ON, {"release": release})]


class PlainAudit(SqlAudit):
    def __init__(self, db: SnapshotRunner) -> None:
        super().__init__(db)
        self._snapshot = db

    async def for_release(self, name: str) -> Sequence[AuditEvent]:
        return [to_event(row) for row in self._snapshot.all(_EVENTS_FOR, {"release": name})]

    async def all(self) -> Sequence[AuditEvent]:
        return [to_event(row) for row in self._snapshot.all(_ALL_EVENTS)]

    async def head(self) -> tuple[int, str]:
        return head_of(self._snapshot.one(_READ_HEAD))
