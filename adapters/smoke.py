"""Post-release smoke checks: find releases just marked deployed, probe them over HTTP, and
hand the results to the core (`RecordSmoke`), which keeps them and shows them on the card.

The runner follows state, not events: any deployed release of a service with checks in the
policy that has not been checked yet is due, however it became deployed (chat, button, a
pipeline's deployment event) and whichever process did it. Each release is claimed once in
the store before it is probed, so several replicas check it once. A replica that dies between
the claim and the result leaves that release unchecked; the audit trail shows no
`smoke_checked` for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import aiohttp

from bot import commands as c
from bot.domain import Actor, Release, State
from bot.observe import SmokeCheck, SmokeResult
from bot.observe_ports import SmokeProbe
from bot.ports import Clock, ReleaseQuery
from bot.service import ReleaseBot
from storage.base import Store

log = logging.getLogger(__name__)

SMOKE_ACTOR = Actor("releasebot", "smoke checks", "smoke")
POLL_SECONDS = 5.0
DEPLOYED = frozenset({State.DEPLOYED})


class HttpSmokeProbe:
    """GET the URL and compare the status; a timeout or a refused connection fails the check."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def check(self, check: SmokeCheck) -> SmokeResult:
        try:
            status = await self._status(check)
        except TimeoutError:
            return self._failed(check, f"no answer within {check.timeout_seconds:g} s")
        except aiohttp.ClientError as problem:
            return self._failed(check, f"request failed: {problem or type(problem).__name__}")
        passed = status == check.expect_status
        detail = "" if passed else f"got {status}"
        return SmokeResult(
            check.url, check.expect_status, status, passed, detail, self._clock.now()
        )

    async def _status(self, check: SmokeCheck) -> int:
        timeout = aiohttp.ClientTimeout(total=check.timeout_seconds)
        # Follow redirects unless the check is about the redirect itself.
        follow = not 300 <= check.expect_status < 400
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(check.url, allow_redirects=follow) as response,
        ):
            return response.status

    def _failed(self, check: SmokeCheck, detail: str) -> SmokeResult:
        return SmokeResult(check.url, check.expect_status, None, False, detail, self._clock.now())


class SmokeRunner:
    def __init__(self, bot: ReleaseBot, store: Store, probe: SmokeProbe, clock: Clock) -> None:
        self._bot = bot
        self._store = store
        self._probe = probe
        self._clock = clock
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Look now rather than at the next poll (a release may just have been deployed)."""
        self._wake.set()

    async def run(self) -> None:
        """Check due releases until cancelled: when kicked, and every few seconds anyway."""
        while True:
            try:
                await self.run_due()
            except Exception:
                log.exception("smoke checks failed to run; trying again shortly")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that arrives as the event is set, and the server would never stop this loop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await self._wake.wait()
            self._wake.clear()

    async def run_due(self) -> list[str]:
        """Check every release that is due; the names of those this replica checked."""
        checks = self._bot.policy.observability.smoke_checks
        if not checks:
            return []
        checked = []
        for release in await self._due(set(checks)):
            if await self._claim(release):
                await self._check(release, checks[release.service])
                checked.append(release.name)
        return checked

    async def _due(self, services: set[str]) -> list[Release]:
        query = ReleaseQuery(states=DEPLOYED, limit=1000)
        async with self._store(read_only=True) as uow:
            deployed = [r for r in await uow.releases.find(query) if r.service in services]
            return [r for r in deployed if await uow.occurrences.last(_key(r)) is None]

    async def _claim(self, release: Release) -> bool:
        async with self._store() as uow:
            # The release's creation time never changes: one claim per release, ever.
            won = await uow.occurrences.claim(
                _key(release), release.created_at, at=self._clock.now()
            )
            await uow.commit()
        return won

    async def _check(self, release: Release, checks: Sequence[SmokeCheck]) -> None:
        results = await asyncio.gather(*(self._probe.check(check) for check in checks))
        rows = tuple(
            (r.url, r.expected, r.status, r.passed, r.detail, r.checked_at.isoformat())
            for r in results
        )
        reply = await self._bot.handle(c.RecordSmoke(release.name, rows), SMOKE_ACTOR)
        log.info("smoke checks of %s: %s", release.name, reply.title)


def _key(release: Release) -> str:
    return f"smoke:{release.name}"
