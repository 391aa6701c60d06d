"""Builders shared by the store contract tests: a release, an audit draft, a risk, quick reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain import AuditDraft, ChangeClass, Conversation, Release, State
from bot.ports import ReleaseQuery, UnitOfWork
from bot.risks import Risk, Severity
from storage.base import Store

T0 = datetime(2026, 12, 3, 14, 0, 0, 123456, tzinfo=UTC)


def release(name: str = "checkout@2.4.0", **changes: object) -> Release:
    service, version = name.split("@")
    base = Release(
        service=service,
        version=version,
        state=State.PLANNED,
        change_class=ChangeClass.NORMAL,
        owner="slack:U0OWNER01",
        created_at=T0,
        updated_at=T0,
        scheduled_at=T0 + timedelta(days=1),
        train="Internal 1",
        env="prod",
        channel=Conversation("slack", "C0RELEASE"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def draft(
    action: str = "declare", rel: str | None = "checkout@2.4.0", **changes: object
) -> AuditDraft:
    base = AuditDraft(
        action=action,
        actor="slack:U0OWNER01",
        surface="slack",
        at=T0,
        release=rel,
        after={"state": "planned"},
        detail={"note": "déjà vu", "n": 1},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def low_risk(uow: UnitOfWork, release: str) -> Risk:
    """A low risk raised on `release`."""
    return await uow.risks.add(
        release=release, severity=Severity.LOW, description="x", raised_by="slack:U1", raised_at=T0
    )


async def declare(store: Store, *items: Release) -> None:
    async with store() as uow:
        for item in items:
            await uow.releases.add(item)
            await uow.audit.append(draft(rel=item.name))
        await uow.commit()


async def read(store: Store, name: str) -> Release | None:
    async with store(read_only=True) as uow:
        return await uow.releases.get(name)


async def names(store: Store, query: ReleaseQuery) -> list[str]:
    async with store(read_only=True) as uow:
        return [r.name for r in await uow.releases.find(query)]


def is_utc(moment: datetime | None) -> bool:
    return moment is not None and moment.utcoffset() == timedelta(0)
