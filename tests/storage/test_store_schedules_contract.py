"""The contract of syncs, claimed occurrences and polls, on every store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.domain import Conversation
from bot.schedules import Answer, PollAnswer
from storage.base import Store

T0 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
CHANNEL = Conversation("slack", "C0RELEASES")


async def test_syncs_are_added_listed_and_cancelled(store: Store) -> None:
    async with store() as uow:
        first = await uow.syncs.add(
            conversation=CHANNEL,
            schedule="weekdays 09:30",
            cron="30 9 * * mon-fri",
            timezone="Europe/London",
            created_by="slack:U1",
            created_at=T0,
        )
        second = await uow.syncs.add(
            conversation=CHANNEL,
            schedule="daily 10:00",
            cron="0 10 * * *",
            timezone="UTC",
            created_by="slack:U1",
            created_at=T0,
        )
        await uow.syncs.cancel(first.id, at=T0)
        await uow.commit()
    async with store(read_only=True) as uow:
        assert await uow.syncs.active() == [second]
        cancelled = await uow.syncs.get(first.id)
        assert cancelled is not None and cancelled.cancelled_at == T0


async def test_an_occurrence_is_claimed_once_even_at_once(store: Store) -> None:
    async def claim() -> bool:
        async with store() as uow:
            won = await uow.occurrences.claim("sync:1", T0, at=T0)
            await uow.commit()
            return won

    assert sorted(await asyncio.gather(*(claim() for _ in range(8)))) == [False] * 7 + [True]
    async with store() as uow:
        assert await uow.occurrences.claim("sync:1", T0 + timedelta(days=1), at=T0)
        assert await uow.occurrences.claim("sync:2", T0, at=T0)
        await uow.commit()
    async with store(read_only=True) as uow:
        assert await uow.occurrences.last("sync:1") == T0 + timedelta(days=1)
        assert await uow.occurrences.last("sync:9") is None


async def test_polls_and_their_answers_round_trip(store: Store) -> None:
    async with store() as uow:
        poll = await uow.polls.add(
            release="a@1",
            conversation=CHANNEL,
            opens_at=T0,
            deadline=T0 + timedelta(hours=6),
            addressees=["slack:U1", "slack:U2"],
        )
        answer = PollAnswer(poll.id, "slack:U1", "ann", Answer.BLOCKED, "db migration", T0)
        await uow.polls.answer(answer)
        await uow.polls.mark(poll.id, posted=True, opens_at=T0 - timedelta(hours=1))
        await uow.commit()
    async with store(read_only=True) as uow:
        stored = await uow.polls.get(poll.id)
        assert stored is not None and stored.posted and not stored.escalated
        assert stored.opens_at == T0 - timedelta(hours=1)
        assert stored.addressees == ("slack:U1", "slack:U2")
        assert await uow.polls.answers(poll.id) == [answer]
        assert [p.id for p in await uow.polls.for_release("a@1")] == [poll.id]
    async with store() as uow:
        await uow.polls.mark(poll.id, escalated=True)
        await uow.commit()
    async with store(read_only=True) as uow:
        assert await uow.polls.live() == []
