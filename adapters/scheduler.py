"""When things happen: APScheduler's cron arithmetic decides, the core says what and claims it.

Each sync's occurrences come from its cron expression in its IANA timezone. An occurrence is
its local wall-clock time: when clocks fall back, the repeated hour yields one occurrence,
not two; when they spring forward, a time that does not exist still fires once that day, the
length of the gap later by the clock (01:30 in London fires at 02:30 BST). Every firing is
claimed in the store first, so replicas post it once; occurrences older than the grace period
were missed while nothing ran and are reported once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from adapters.tasks import finish_or_cancel
from bot import commands as c
from bot.domain import Actor
from bot.handlers import readiness
from bot.policy import Policy
from bot.ports import Clock
from bot.reply import Tone
from bot.schedules import Sync, for_the_scheduler
from bot.service import ReleaseBot
from storage.base import Store

log = logging.getLogger(__name__)

SCHEDULER = Actor("releasebot", "releasebot", "scheduler")
# How long stop() lets a job under way finish before it cancels the job.
STOP_GRACE_SECONDS = 5.0
# Releases whose readiness is looked at in one read-only unit of work between yields.
SETTLE_SLICE = 100
# Releases moved in one transaction (bot/handlers/readiness.py).
SETTLE_MOVES = 25
GRACE = timedelta(minutes=5)
MAX_OCCURRENCES = 1000  # a year of an every-8-hours sync: enough for any outage worth reporting


def occurrences(sync: Sync, after: datetime, until: datetime) -> list[datetime]:
    """The firings of `sync` after `after` up to `until`, one per local wall-clock time."""
    zone = ZoneInfo(sync.timezone)
    trigger = readable_trigger(sync, zone)
    if trigger is None:
        return []
    seen_wall = _wall(after, zone)
    found = []
    for moment in _fire_times(trigger, after, until):
        wall = _wall(moment, zone)
        if wall > seen_wall:
            found.append(moment)
            seen_wall = wall
    return found


def readable_trigger(sync: Sync, zone: ZoneInfo) -> CronTrigger | None:
    """`sync`'s trigger; None for one stored before its schedule was checked as it is now (a
    step longer than its range), which never fires and must not stop every other sync, the
    polls or the calendar."""
    try:
        return cron_trigger(sync, zone)
    except ValueError:
        if sync.id not in _UNREADABLE:  # said once, not at every tick
            _UNREADABLE.add(sync.id)
            log.warning("sync %s (%s) cannot be scheduled: it never fires", sync.label, sync.cron)
        return None


_UNREADABLE: set[int] = set()


def cron_trigger(sync: Sync, zone: ZoneInfo) -> CronTrigger:
    # Cron's weekday numbers and month steps are not APScheduler's (see for_the_scheduler).
    return CronTrigger.from_crontab(for_the_scheduler(sync.cron), timezone=zone)


def _fire_times(trigger: CronTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    # Step in UTC: arithmetic on a zone-aware time is wall-clock arithmetic, which stands still
    # inside a repeated hour. Cron times are whole minutes, so a second past is "after".
    previous, now = None, after.astimezone(UTC) + timedelta(seconds=1)
    for _ in range(MAX_OCCURRENCES):
        found = trigger.get_next_fire_time(previous, now)
        if found is None or found > until:
            return
        moment = found.astimezone(UTC)
        yield moment
        previous, now = found, moment + timedelta(seconds=1)


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None, fold=0)


class Scheduler:
    def __init__(self, bot: ReleaseBot, store: Store, clock: Clock) -> None:
        self._bot = bot
        self._store = store
        self._clock = clock
        self._apscheduler: AsyncIOScheduler | None = None
        # Jobs under way, so stop() can see them end; and whether it has been called.
        self._running: set[asyncio.Task[object]] = set()
        self._stopping = False
        # When the last tick finished, for the scheduler-lag gauge on /metrics.
        self.last_tick: datetime | None = None
        self._settled_under: Policy | None = None

    async def tick(self) -> None:
        """Post every due occurrence, report missed ones, and move the readiness polls on."""
        now = self._clock.now()
        async with self._store(read_only=True) as uow:
            syncs = list(await uow.syncs.active())
            lasts = {s.id: await uow.occurrences.last(s.key) for s in syncs}
        for sync in syncs:
            await self._fire(sync, lasts[sync.id] or sync.created_at, now)
        await self._bot.handle(c.PollTick(), SCHEDULER)
        await self._settle_readiness()
        self.last_tick = self._clock.now()

    async def _settle_readiness(self) -> None:
        """Settle releases whose readiness changed with nobody acting (bot/handlers/readiness).

        Approved ones on every tick (an acceptance may have run out); planned ones too under a
        policy not settled yet: the first after start, or one SIGHUP loaded (the holder swaps
        the object). Looked at in slices, each a read-only unit of work: SQLite reads run on the
        event loop, and thousands of planned releases at once would keep requests waiting.
        """
        policy = self._bot.policy
        planned_too = policy is not self._settled_under
        async with self._store(read_only=True) as uow:
            candidates = await readiness.to_settle(uow, planned_too=planned_too)
        names: list[str] = []
        for start in range(0, len(candidates), SETTLE_SLICE):
            async with self._store(read_only=True) as uow:
                now = self._clock.now()
                for release in candidates[start : start + SETTLE_SLICE]:
                    if await readiness.unsettled(uow, release, policy, now):
                        names.append(release.name)
            await asyncio.sleep(0)  # let requests waiting on the loop in between slices
        # A few moves per transaction: each holds the store's write lock (SQLite) and the
        # audit chain's head while it runs, and a release that fails holds back only its chunk.
        settled = True
        for start in range(0, len(names), SETTLE_MOVES):
            command = c.SettleReadiness(tuple(names[start : start + SETTLE_MOVES]))
            if (await self._bot.handle(command, SCHEDULER)).tone is Tone.ERROR:
                settled = False  # logged by the bot; the next tick looks again
            await asyncio.sleep(0)
        if settled:
            self._settled_under = policy

    async def _fire(self, sync: Sync, last: datetime, now: datetime) -> None:
        due = occurrences(sync, last, now)
        missed = tuple(moment for moment in due if now - moment > GRACE)
        if missed:
            await self._bot.handle(c.ReportMissed(sync.id, missed), SCHEDULER)
        for moment in due:
            if now - moment <= GRACE:
                await self._bot.handle(c.FireSync(sync.id, moment), SCHEDULER)

    def start(self) -> None:
        """Tick at every sync occurrence (jobs follow the stored syncs) and every minute."""
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self._safe_tick, IntervalTrigger(seconds=60), id="tick", next_run_time=datetime.now(UTC)
        )
        scheduler.add_job(
            self._follow_syncs,
            IntervalTrigger(seconds=15),
            id="follow",
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        self._apscheduler = scheduler

    async def stop(self) -> None:
        """Fire no more; return once no job is under way.

        A job under way gets STOP_GRACE_SECONDS to finish and is cancelled after that; either
        way it is over before the caller goes on to close the store.
        """
        self._stopping = True
        if self._apscheduler is not None:
            self._apscheduler.shutdown(wait=False)
        await finish_or_cancel(self._running, STOP_GRACE_SECONDS)

    @contextmanager
    def _job(self) -> Iterator[bool]:
        """Count the current task as a job under way; yields False once stop() was called."""
        task = asyncio.current_task()
        if task is None or self._stopping:
            yield False
            return
        self._running.add(task)
        try:
            yield True
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # stop() cancelled it: the job ends here, quietly (APScheduler would log a failure).
            log.info(
                "a scheduler job under way at shutdown was cancelled; the next start catches up"
            )
        finally:
            self._running.discard(task)

    async def _safe_tick(self) -> None:
        with self._job() as go:
            if not go:
                return
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler tick failed; the next one will catch up")

    async def _follow_syncs(self) -> None:
        with self._job() as go:
            if go:
                await self._follow_stored_syncs()

    async def _follow_stored_syncs(self) -> None:
        """Keep one cron job per stored sync, so a firing lands on time in every replica."""
        assert self._apscheduler is not None
        async with self._store(read_only=True) as uow:
            wanted = {f"sync:{s.id}": s for s in await uow.syncs.active()}
        for job in self._apscheduler.get_jobs():
            if job.id.startswith("sync:") and job.id not in wanted:
                job.remove()
        for job_id, sync in wanted.items():
            if self._apscheduler.get_job(job_id) is not None:
                continue
            trigger = readable_trigger(sync, ZoneInfo(sync.timezone))
            if trigger is not None:
                self._apscheduler.add_job(
                    self._safe_tick,
                    trigger,
                    id=job_id,
                    misfire_grace_time=int(GRACE.total_seconds()),
                )
