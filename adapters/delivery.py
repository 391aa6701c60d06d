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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.outbox import Outgoing
from bot.ports import Clock
from storage.base import OutboxItem, Store

log = logging.getLogger(__name__)


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
        """Deliver everything due now, one message per conversation at a time; how many tried."""
        tried = 0
        while batch := await self._claim():
            await asyncio.gather(*(self._deliver(item) for item in batch))
            tried += len(batch)
        return tried

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

    async def _claim(self) -> list[OutboxItem]:
        now = self._clock.now()
        return await self._store.claim_due(now, limit=self._policy.batch, lease=self._policy.lease)

    async def _deliver(self, item: OutboxItem) -> None:
        sender = self._senders.get(item.message.conversation.platform)
        async with self._slots:
            try:
                if sender is None:
                    raise Undeliverable(f"no sender for {item.message.conversation.platform}")
                message_id = await sender.send(item.message)
            except Undeliverable as refusal:
                await self._give_up(item, str(refusal))
            except RetryLater as busy:
                await self._retry(item, str(busy), busy.after)
            except Exception as problem:  # timeouts, connection errors: transient until proven
                await self._retry(item, f"{type(problem).__name__}: {problem}", None)
            else:
                await self._store.delivered(item, message_id=message_id, at=self._clock.now())

    async def _retry(self, item: OutboxItem, reason: str, after: float | None) -> None:
        # Being told to wait (Retry-After) is not failing: only the message's age limits that.
        failing = after is None and item.attempts + 1 >= self._policy.max_attempts
        if failing or self._clock.now() - item.created_at > self._policy.expiry:
            await self._give_up(item, f"gave up after {item.attempts + 1} attempts: {reason}")
            return
        delay = after if after is not None else self._backoff(item.attempts)
        log.info("outbox message %s: %s; retrying in %.1f s", item.id, reason, delay)
        at = self._clock.now() + timedelta(seconds=delay)
        await self._store.retry_later(item, at=at, error=reason)

    def _backoff(self, attempts: int) -> float:
        """Exponential, capped, with full jitter so replicas do not retry in step."""
        ceiling = min(self._policy.max_backoff, self._policy.base_backoff * 2**attempts)
        return ceiling * (0.5 + self._jitter() / 2)

    async def _give_up(self, item: OutboxItem, reason: str) -> None:
        log.error("outbox message %s dead-lettered: %s", item.id, reason)
        await self._store.dead_letter(item, error=reason, at=self._clock.now())
