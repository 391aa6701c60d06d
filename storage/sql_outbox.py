"""The outbox, posted cards and personal pages over SQL: queued in a unit of work, claimed by
workers."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update

from bot.domain import Conversation
from bot.outbox import Delivery, Outgoing, reply_from_dict, reply_to_dict
from bot.ports import CardRef, PageRef
from storage.base import DeadLetter, OutboxItem, Outcome
from storage.sql_runner import Runner, insert_for
from storage.tables import UTCDateTime, outbox, personal_page, posted_card

_O = outbox.c
# Typed, so SQLite compares stored UTC text with UTC text (not with an offset-suffixed string).
_NOW = bindparam("now", type_=UTCDateTime())
_INSERT = insert(outbox)
_CARDS_OF = (
    select(posted_card.c.platform, posted_card.c.conversation_id, posted_card.c.message_id)
    .where(posted_card.c.release == bindparam("subject"))
    .order_by(posted_card.c.posted_at, posted_card.c.message_id)
)
_PAGES_SHOWING = (
    select(personal_page.c.platform, personal_page.c.person)
    .where(personal_page.c.release == bindparam("release"))
    .order_by(personal_page.c.platform, personal_page.c.person)
)
_OFFERED_ON = (
    select(personal_page.c.release)
    .where(personal_page.c.platform == bindparam("platform"))
    .where(personal_page.c.person == bindparam("person"))
)
_FORGET_PAGE = (
    delete(personal_page)
    .where(personal_page.c.platform == bindparam("platform"))
    .where(personal_page.c.person == bindparam("person"))
)
_HEADS = (
    select(func.min(_O.id).label("id"))
    .where(_O.status == "pending")
    .group_by(_O.conversation_platform, _O.conversation_id)
    .subquery()
)
_DUE = (
    select(outbox)
    .join(_HEADS, _O.id == _HEADS.c.id)
    .where(_O.next_at <= _NOW)
    .where(or_(_O.lease_until.is_(None), _O.lease_until <= _NOW))
    .order_by(_O.id)
    .limit(bindparam("limit"))
)
# PostgreSQL: workers in other replicas skip the heads one of them is leasing right now,
# instead of all reading the same few and all but one coming back empty-handed.
_DUE_SKIPPING_LOCKED = _DUE.with_for_update(skip_locked=True, of=outbox)
_LEASE = (
    update(outbox)
    .where(_O.id == bindparam("match_id"))
    .where(_O.status == "pending")
    .where(or_(_O.lease_until.is_(None), _O.lease_until <= _NOW))
)
_SET = update(outbox).where(_O.id == bindparam("match_id"))
_COUNTS = (
    select(_O.status, func.count().label("n"))
    .where(_O.status.in_(("pending", "dead")))
    .group_by(_O.status)
)
_DEAD = select(outbox).where(_O.status == "dead").order_by(_O.id).limit(bindparam("limit"))


def payload(message: Outgoing) -> dict[str, Any]:
    return {
        "reply": reply_to_dict(message.reply),
        "kind": message.kind.value,
        "target": message.target,
        "remember_as": message.remember_as,
        "thread": message.thread,
    }


def to_item(row: Any) -> OutboxItem:
    data = row.payload
    message = Outgoing(
        conversation=Conversation(row.conversation_platform, row.conversation_id),
        reply=reply_from_dict(data["reply"]),
        kind=Delivery(data["kind"]),
        target=data["target"],
        remember_as=data["remember_as"],
        thread=data["thread"],
    )
    return OutboxItem(row.id, message, row.attempts, row.created_at)


class SqlOutbox:
    def __init__(self, db: Runner) -> None:
        self._db = db
        self.queued = 0

    async def add(self, message: Outgoing, *, at: datetime) -> None:
        where = message.conversation
        values = {
            "conversation_platform": where.platform,
            "conversation_id": where.id,
            "payload": payload(message),
            "status": "pending",
            "attempts": 0,
            "created_at": at,
            "next_at": at,
        }
        await self._db.execute(_INSERT, values)
        self.queued += 1


class SqlCards:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def of(self, subject: str) -> Sequence[CardRef]:
        rows = await self._db.fetch_all(_CARDS_OF, {"subject": subject})
        return [CardRef(subject, r.platform, r.conversation_id, r.message_id) for r in rows]


class SqlPages:
    def __init__(self, db: Runner) -> None:
        self._db = db

    async def showing(self, release: str) -> Sequence[PageRef]:
        rows = await self._db.fetch_all(_PAGES_SHOWING, {"release": release})
        return [PageRef(r.platform, r.person) for r in rows]


async def offered_on(db: Runner, page: PageRef) -> set[str]:
    """The releases `page` is remembered to offer buttons for."""
    rows = await db.fetch_all(_OFFERED_ON, {"platform": page.platform, "person": page.person})
    return {r.release for r in rows}


async def show_on_page(db: Runner, page: PageRef, releases: Collection[str]) -> None:
    """Replace what `page` is remembered to offer buttons for by `releases`."""
    person = {"platform": page.platform, "person": page.person}
    await db.execute(_FORGET_PAGE, person)
    for name in sorted(set(releases)):
        # Two publishes of one page at once (the tab opened as the outbox refreshes it) would
        # otherwise collide on PostgreSQL: both then record the same offers.
        shown = insert_for(db.dialect)(personal_page).values(**person, release=name)
        await db.execute(shown.on_conflict_do_nothing())


async def claim_due(db: Runner, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxItem]:
    """Lease each conversation's due head; a lost race (another worker) just skips it."""
    due = _DUE_SKIPPING_LOCKED if db.dialect == "postgresql" else _DUE
    rows = await db.fetch_all(due, {"now": now, "limit": limit})
    claimed = []
    for row in rows:
        leased = await db.execute(
            _LEASE.values(lease_until=now + lease), {"match_id": row.id, "now": now}
        )
        if leased == 1:
            claimed.append(to_item(row))
    return claimed


async def mark(db: Runner, item: OutboxItem, **values: Any) -> None:
    await db.execute(_SET.values(**values), {"match_id": item.id})


async def record(db: Runner, outcome: Outcome) -> None:
    """Write one delivery outcome onto its outbox row."""
    item, attempts = outcome.item, outcome.item.attempts + 1
    if outcome.dead:
        await mark(
            db,
            item,
            status="dead",
            attempts=attempts,
            error=outcome.error,
            done_at=outcome.at,
            lease_until=None,
        )
    elif outcome.retry_at is not None:
        await mark(
            db,
            item,
            attempts=attempts,
            next_at=outcome.retry_at,
            error=outcome.error,
            lease_until=None,
        )
    else:
        await mark(
            db,
            item,
            status="delivered",
            done_at=outcome.at,
            lease_until=None,
            message_id=outcome.message_id,
        )


async def depth(db: Runner) -> tuple[int, int]:
    counts: dict[str, int] = {row.status: row.n for row in await db.fetch_all(_COUNTS)}
    return counts.get("pending", 0), counts.get("dead", 0)


async def dead_letters(db: Runner, limit: int) -> list[DeadLetter]:
    rows = await db.fetch_all(_DEAD, {"limit": limit})
    return [DeadLetter(to_item(r), r.error or "", r.done_at or r.created_at) for r in rows]
