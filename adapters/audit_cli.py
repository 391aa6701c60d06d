"""`releasebot audit verify|export` and `releasebot outbox`: the store, outside the chat."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from adapters.settings import Settings
from adapters.web import serialize
from bot.audit import verify_chain
from storage.base import AuditHeadMissing, Store


async def verify(settings: Settings, out: TextIO = sys.stdout) -> int:
    """Exit status 0 when the chain is whole, 1 naming the first broken event otherwise."""
    store = await _open(settings)
    try:
        async with store(read_only=True) as uow:
            events = await uow.audit.all()
            head = await uow.audit.head()
    except AuditHeadMissing:
        # Deleting the newest events and the head with them leaves a chain that checks out.
        out.write(
            f"audit trail BROKEN: the record of its last event is gone ({len(events)} left)\n"
        )
        return 1
    finally:
        await store.close()
    broken = verify_chain(events, head)
    if broken is None:
        out.write(f"audit trail intact: {len(events)} events\n")
        return 0
    out.write(f"audit trail BROKEN at event {broken.seq}: {broken.problem}\n")
    return 1


async def export(
    settings: Settings, *, fmt: str, release: str | None, out: TextIO = sys.stdout
) -> int:
    store = await _open(settings)
    try:
        async with store(read_only=True) as uow:
            events = await (uow.audit.for_release(release) if release else uow.audit.all())
    finally:
        await store.close()
    if fmt == "csv":
        out.write(serialize.audit_csv(events))
    else:
        json.dump([serialize.audit_event(e) for e in events], out, indent=2, ensure_ascii=False)
        out.write("\n")
    return 0


async def show_outbox(settings: Settings, out: TextIO = sys.stdout) -> int:
    """What waits to be delivered and what was given up on (exit status 1 when any was)."""
    store = await _open(settings)
    try:
        pending, dead = await store.outbox_depth()
        letters = await store.dead_letters()
    finally:
        await store.close()
    out.write(f"outbox: {pending} waiting, {dead} dead-lettered\n")
    for letter in letters:
        message = letter.item.message
        out.write(
            f"  #{letter.item.id} {message.conversation} {message.kind.value} "
            f"{message.reply.title!r}: {letter.error}\n"
        )
    return 1 if dead else 0


async def _open(settings: Settings) -> Store:
    from storage.sql import open_store

    return await open_store(settings.database_url)
