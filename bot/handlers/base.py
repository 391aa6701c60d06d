"""What every handler gets (Context) and the one registry from command type to handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from bot import commands as c
from bot.domain import Actor, AuditDraft, Conversation, DomainError, Release
from bot.policy import Policy
from bot.ports import UnitOfWork
from bot.reply import Reply


@dataclass(frozen=True, slots=True)
class Context:
    actor: Actor
    conversation: Conversation | None
    now: datetime
    policy: Policy
    uow: UnitOfWork
    available: frozenset[str]


C = TypeVar("C", bound=c.Command)
Handler = Callable[[Any, Context], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Registration:
    handler: Handler
    read_only: bool


HANDLERS: dict[type[c.Command], Registration] = {}


def handles(
    command_type: type[C], *, read_only: bool = False
) -> Callable[[Callable[[C, Context], Awaitable[Reply]]], Callable[[C, Context], Awaitable[Reply]]]:
    def register(
        handler: Callable[[C, Context], Awaitable[Reply]],
    ) -> Callable[[C, Context], Awaitable[Reply]]:
        HANDLERS[command_type] = Registration(handler, read_only)
        return handler

    return register


async def existing(ctx: Context, name: str) -> Release:
    release = await ctx.uow.releases.get(name)
    if release is None:
        raise DomainError(f"there is no release {name} — declare it first")
    return release


def audit_draft(ctx: Context, action: str, release: Release | None, **fields: Any) -> AuditDraft:
    return AuditDraft(
        action=action,
        actor=ctx.actor.principal,
        surface=ctx.actor.surface,
        at=ctx.now,
        release=release.name if release else None,
        **fields,
    )
