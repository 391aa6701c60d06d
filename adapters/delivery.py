"""The outbox worker: delivers queued messages through each platform's sender.

Nothing is lost: a message stays queued until a sender confirms it, across restarts.
Nothing happens twice: each message is leased to one worker (in any replica) at a time, and
each conversation sends its messages one after another, in order. A message that keeps
failing is dead-lettered — kept, visible in `releasebot outbox` and /metrics — never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.outbox import Outgoing
from bot.ports import Clock
from storage.base import OutboxItem, Outcome, Store

log = logging.getLogger(__name__)

MIN_DELAY = 1.0


class RetryLater(Exception):
    """The platform asked us to come back (429, 5xx, timeout); `after` is its Retry-After."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class Undeliverable(Exception):
    """The platform refused for good (no such channel, bad request): retrying cannot help."""


class Sender(Protocol):
    async def send(self, message: Outgoing) -> str | None:
        """Deliver one message; return the platform's id of a posted message, if any."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    concurrency: int = 20
    batch: int = 200
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 8
    expiry: timedelta = timedelta(hours=24)
    base_backoff: float = 1.0
    max_backoff: float = 300.0
    idle_poll: float = 1.0


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        policy: DeliveryPolicy = DeliveryPolicy(),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._jitter = jitter
        self._senders: dict[str, Sender] = {}
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(policy.concurrency)
        store.on_outbox_commit(self.wake)

    def register(self, platform: str, sender: Sender) -> None:
        self._senders[platform] = sender

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Deliver everything due now, one message per conversation at a time; how many tried.

        Claiming goes on while sends are in flight (a conversation whose message is out is
        leased, so it is never claimed twice), and outcomes are written as they come, many
        per transaction: the slots stay busy instead of waiting for a round to end.
        """
        outcomes: asyncio.Queue[Outcome | None] = asyncio.Queue()
        recorder = asyncio.create_task(self._record(outcomes))
        in_flight: set[asyncio.Task[None]] = set()
        tried = 0
        try:
            while True:
                if len(in_flight) <= self._policy.batch // 2:
                    batch = await self._claim(self._policy.batch - len(in_flight))
                    in_flight |= {asyncio.create_task(self._deliver(i, outcomes)) for i in batch}
                    tried += len(batch)
                if not in_flight:
                    return tried
                _, in_flight = await asyncio.wait(in_flight, return_when=FIRST_COMPLETED)
        finally:
            await asyncio.gather(*in_flight, return_exceptions=True)
            outcomes.put_nowait(None)
            await recorder

    async def _record(self, outcomes: asyncio.Queue[Outcome | None]) -> None:
        """Write outcomes as they come, all that have piled up in one transaction."""
        while True:
            chunk = [await outcomes.get()]
            while not outcomes.empty():
                chunk.append(outcomes.get_nowait())
            done = [outcome for outcome in chunk if outcome is not None]
            if done:
                await self._store.settle(done)
            if None in chunk:
                return

    async def run(self) -> None:
        """Deliver until cancelled; wake on new messages, and poll for other replicas' ones."""
        while True:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox delivery round failed; trying again")
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # races its timeout, and shutdown would then wait for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._policy.idle_poll):
                    await self._wake.wait()

    async def _claim(self, limit: int) -> list[OutboxItem]:
        now = self._clock.now()
        return await self._store.claim_due(now, limit=limit, lease=self._policy.lease)

    async def _deliver(self, item: OutboxItem, outcomes: asyncio.Queue[Outcome | None]) -> None:
        async with self._slots:
            outcomes.put_nowait(await self._attempt(item))

    async def _attempt(self, item: OutboxItem) -> Outcome:
        sender = self._senders.get(item.message.conversation.platform)
        try:
            if sender is None:
                raise Undeliverable(f"no sender for {item.message.conversation.platform}")
            message_id = await sender.send(item.message)
        except Undeliverable as refusal:
            return self._give_up(item, str(refusal))
        except RetryLater as busy:
            return self._retry(item, str(busy), busy.after)
        except Exception as problem:  # timeouts, connection errors: transient until proven
            return self._retry(item, f"{type(problem).__name__}: {problem}", None)
        return Outcome(item, self._clock.now(), message_id=message_id)

    def _retry(self, item: OutboxItem, reason: str, after: float | None) -> Outcome:
        # Being told to wait (Retry-After) is not failing: only the message's age limits that.
        failing = after is None and item.attempts + 1 >= self._policy.max_attempts
        if failing or self._clock.now() - item.created_at > self._policy.expiry:
            return self._give_up(item, f"gave up after {item.attempts + 1} attempts: {reason}")
        # At least a second: "retry now" would spin this round on one message.
        delay = max(MIN_DELAY, after if after is not None else self._backoff(item.attempts))
        log.info("outbox message %s: %s; retrying in %.1f s", item.id, reason, delay)
        now = self._clock.now()
        return Outcome(item, now, retry_at=now + timedelta(seconds=delay), error=reason)

    def _backoff(self, attempts: int) -> float:
        """Exponential, capped, with full jitter so replicas do not retry in step."""
        ceiling = min(self._policy.max_backoff, self._policy.base_backoff * 2**attempts)
        return ceiling * (0.5 + self._jitter() / 2)

    def _give_up(self, item: OutboxItem, reason: str) -> Outcome:
        log.error("outbox message %s dead-lettered: %s", item.id, reason)
        return Outcome(item, self._clock.now(), error=reason, dead=True)
