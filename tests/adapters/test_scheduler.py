"""The scheduler with time moved by hand: DST, missed occurrences, one post per occurrence."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters import scheduler as scheduler_module
from adapters.clock import ManualClock
from adapters.policy_file import PolicyHolder
from adapters.scheduler import Scheduler, occurrences
from bot.domain import Actor, Conversation, State
from bot.schedules import Sync, to_cron
from bot.service import ReleaseBot
from storage.memory import MemoryStore
from tests.support.gated_store import GatedStore

CHANNEL = Conversation("slack", "C0RELEASES")
ALICE = Actor("slack:U0ALICE01", "alice", "slack")


def sync(schedule: str, zone: str, created: datetime) -> Sync:
    return Sync(1, CHANNEL, schedule, to_cron(schedule), zone, "slack:U1", created)


@pytest.mark.parametrize("months", ["jan-dec/3", "*/3", "1-12/3", "jan/3"])
def test_months_stepped_by_name_fire_as_in_cron(months: str) -> None:
    quarterly = sync(f"0 9 1 {months} *", "UTC", datetime(2026, 12, 1, tzinfo=UTC))

    fired = occurrences(quarterly, quarterly.created_at, datetime(2027, 12, 31, tzinfo=UTC))

    assert [m.month for m in fired] == [1, 4, 7, 10]


def local(moments: list[datetime], zone: str) -> list[str]:
    return [m.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M %Z") for m in moments]


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        (
            "Europe/London",
            datetime(2027, 3, 27, tzinfo=UTC),
            ["03-27 09:30 GMT", "03-28 09:30 BST", "03-29 09:30 BST"],
        ),
        (
            "Europe/London",
            datetime(2027, 10, 30, tzinfo=UTC),
            ["10-30 09:30 BST", "10-31 09:30 GMT", "11-01 09:30 GMT"],
        ),
        (
            "America/New_York",
            datetime(2027, 3, 13, 6, tzinfo=UTC),
            ["03-13 09:30 EST", "03-14 09:30 EDT", "03-15 09:30 EDT"],
        ),
        (
            "America/New_York",
            datetime(2027, 11, 6, 6, tzinfo=UTC),
            ["11-06 09:30 EDT", "11-07 09:30 EST", "11-08 09:30 EST"],
        ),
    ],
)
def test_a_daily_sync_keeps_its_local_time_across_dst(
    zone: str, start: datetime, expected: list[str]
) -> None:
    found = occurrences(sync("daily 09:30", zone, start), start, start + timedelta(days=3))
    assert local(found, zone) == expected


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/London", datetime(2027, 10, 31, tzinfo=UTC)),
        ("America/New_York", datetime(2027, 11, 7, tzinfo=UTC)),
    ],
)
def test_the_repeated_hour_of_a_fall_back_fires_once(zone: str, day: datetime) -> None:
    start = day - timedelta(days=1)
    found = occurrences(sync("daily 01:30", zone, start), start, start + timedelta(days=3))
    assert len(found) == 3 and len({m.astimezone(ZoneInfo(zone)).date() for m in found}) == 3


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/London", datetime(2027, 3, 28, tzinfo=UTC)),
        ("America/New_York", datetime(2027, 3, 14, tzinfo=UTC)),
    ],
)
def test_a_time_skipped_by_spring_forward_still_fires_that_day(zone: str, day: datetime) -> None:
    start = day - timedelta(days=1)
    schedule = "daily 01:30" if zone == "Europe/London" else "daily 02:30"
    found = occurrences(sync(schedule, zone, start), start, start + timedelta(days=3))
    dates = [m.astimezone(ZoneInfo(zone)).date() for m in found]
    first = dates[0]
    assert dates == [first + timedelta(days=n) for n in range(3)]
    assert day.date() in dates  # the day whose 01:30/02:30 does not exist still has its sync
    (skipped,) = [m for m in found if m.astimezone(ZoneInfo(zone)).date() == day.date()]
    assert skipped.astimezone(ZoneInfo(zone)).strftime("%H:%M") == (
        "02:30" if zone == "Europe/London" else "03:30"
    )


class World:
    def __init__(self, start: datetime, policy: PolicyHolder | None = None) -> None:
        self.clock = ManualClock(start)
        self.store = MemoryStore()
        self.policy = policy or PolicyHolder(None, default_timezone="UTC")
        self.bot = ReleaseBot(unit_of_work=self.store, clock=self.clock, policy=self.policy)
        self.scheduler = Scheduler(self.bot, self.store, self.clock)

    async def run_until(self, end: datetime, step: timedelta = timedelta(minutes=5)) -> None:
        """Tick as a running replica would, moving the clock instead of sleeping."""
        while self.clock.now() < end:
            self.clock.advance(step)
            await self.scheduler.tick()

    def posted(self) -> list[str]:
        return [q.message.reply.title for q in self.store.data.outbox]


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        ("Europe/London", datetime(2027, 3, 27, 12, tzinfo=UTC)),
        ("Europe/London", datetime(2027, 10, 30, 12, tzinfo=UTC)),
        ("America/New_York", datetime(2027, 3, 13, 12, tzinfo=UTC)),
        ("America/New_York", datetime(2027, 11, 6, 12, tzinfo=UTC)),
    ],
)
async def test_reminders_are_posted_once_each_across_dst(zone: str, start: datetime) -> None:
    world = World(start)
    await world.bot.handle_text(f"sync daily 01:30 tz {zone}", ALICE, CHANNEL)
    await world.bot.handle_text(f"sync daily 09:30 tz {zone}", ALICE, CHANNEL)
    await world.run_until(start + timedelta(days=2))
    titles = [t for t in world.posted() if t.startswith("Release sync")]
    assert len(titles) == 4, titles
    assert len(set(titles)) == 4
    assert not [t for t in world.posted() if t.startswith("Missed")]


async def test_missed_occurrences_are_reported_once_after_a_restart() -> None:
    start = datetime(2026, 11, 23, 8, tzinfo=UTC)  # a Monday
    world = World(start)
    await world.bot.handle_text("sync weekdays 09:30 tz Europe/London", ALICE, CHANNEL)
    await world.run_until(start + timedelta(hours=2))
    assert [t for t in world.posted() if t.startswith("Release sync")] == [
        "Release sync — Mon 23 Nov 2026 09:30 GMT"
    ]
    world.clock.advance(timedelta(days=3))  # every replica was down
    restarted = Scheduler(world.bot, world.store, world.clock)
    await restarted.tick()
    await restarted.tick()
    missed = [t for t in world.posted() if t.startswith("Missed")]
    assert missed == ["Missed the 09:30 sync of Tue 24 Nov while offline (and 2 more)"]
    await world.run_until(world.clock.now() + timedelta(days=1))
    syncs = [t for t in world.posted() if t.startswith("Release sync")]
    assert syncs[-1] == "Release sync — Fri 27 Nov 2026 09:30 GMT" and len(syncs) == 2


async def _with_an_unreadable_sync(start: datetime) -> World:
    """S1 stored before steps longer than their range were refused; S2 a good one."""
    world = World(start)
    async with world.store() as uow:
        await uow.syncs.add(
            conversation=CHANNEL,
            schedule="0 */24 * * *",
            cron="0 */24 * * *",
            timezone="UTC",
            created_by=ALICE.principal,
            created_at=start,
        )
        await uow.commit()
    await world.bot.handle_text("sync daily 09:30 tz UTC", ALICE, CHANNEL)
    return world


async def test_a_stored_sync_the_scheduler_cannot_read_never_fires_and_stops_nothing() -> None:
    start = datetime(2026, 11, 23, 8, tzinfo=UTC)
    world = await _with_an_unreadable_sync(start)

    await world.run_until(start + timedelta(hours=2))

    assert [t for t in world.posted() if t.startswith("Release sync")] == [
        "Release sync — Mon 23 Nov 2026 09:30 UTC"
    ]


async def test_the_sync_after_an_unreadable_one_still_gets_its_own_job() -> None:
    world = await _with_an_unreadable_sync(datetime(2026, 11, 23, 8, tzinfo=UTC))
    world.scheduler.start()
    try:
        await world.scheduler._follow_stored_syncs()  # what its 15-second job runs

        jobs = {job.id for job in world.scheduler._apscheduler.get_jobs()}  # type: ignore[union-attr]
        assert {"sync:2"} <= jobs and "sync:1" not in jobs
    finally:
        await world.scheduler.stop()


async def _running_on(store: GatedStore) -> Scheduler:
    """A started scheduler whose first jobs, its tick among them, wait inside the store."""
    clock = ManualClock(datetime(2026, 11, 23, 8, tzinfo=UTC))
    bot = ReleaseBot(
        unit_of_work=store, clock=clock, policy=PolicyHolder(None, default_timezone="UTC")
    )
    scheduler = Scheduler(bot, store, clock)
    scheduler.start()
    await store.reading.wait()
    return scheduler


async def test_stop_returns_once_the_tick_under_way_has_finished() -> None:
    store = GatedStore()
    scheduler = await _running_on(store)
    store.gate.set()
    await scheduler.stop()
    assert scheduler.last_tick is not None
    assert store.cancelled == []


async def test_stop_cancels_a_tick_that_outlasts_the_grace_quietly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(scheduler_module, "STOP_GRACE_SECONDS", 0.05)
    store = GatedStore()
    scheduler = await _running_on(store)
    await scheduler.stop()  # the gate never opens
    assert store.cancelled  # the tick's read, given up at the gate
    assert scheduler.last_tick is None
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


QA = Actor("slack:U0QA00001", "quinn", "slack")
ENG = Actor("slack:U0ENG0001", "erin", "slack")


def audited(world: World, action: str) -> list[tuple[str | None, str, str]]:
    """(release, actor, why) of each audit event of `action`."""
    return [
        (e.release, e.actor, e.detail.get("why", ""))
        for e in world.store.data.audit
        if e.action == action
    ]


async def test_an_approval_that_rested_on_an_acceptance_falls_back_when_it_runs_out() -> None:
    world = World(datetime(2026, 11, 23, 8, tzinfo=UTC))
    for line, who in [
        ("declare pay@1.0 at 2026-11-27 14:00", ALICE),
        ("signal pay@1.0 coverage=90", ALICE),
        ("risk pay@1.0 critical card tokens may leak to logs", ALICE),
        ("decide R1 accept until +2h the log scrubber ships first", QA),
        ("approve pay@1.0", QA),
        ("approve pay@1.0", ENG),
    ]:
        await world.bot.handle_text(line, who, CHANNEL)
    assert world.store.data.releases["pay@1.0"].state is State.APPROVED

    await world.run_until(world.clock.now() + timedelta(hours=1))
    assert world.store.data.releases["pay@1.0"].state is State.APPROVED  # not run out yet
    await world.run_until(world.clock.now() + timedelta(hours=1, minutes=5))

    assert world.store.data.releases["pay@1.0"].state is State.PLANNED
    assert audited(world, "unapproved") == [("pay@1.0", "releasebot", "open criticals 1 > 0")]
    # Announced where its approval was.
    assert [t for t in world.posted() if t.startswith("pay@1.0")] == [
        "pay@1.0 is approved",
        "pay@1.0 is no longer approved",
    ]


POLICY = """
timezone: UTC
roles: {qa: ["slack:U0QA00001"]}
classes:
  standard: {}
  normal: {signoffs: [qa], gates: {min_coverage: MIN}}
  emergency: {}
"""


async def test_a_new_policy_moves_releases_it_makes_ready_or_unready(tmp_path: Path) -> None:
    file = tmp_path / "policy.yaml"
    file.write_text(POLICY.replace("MIN", "80"))
    world = World(datetime(2026, 11, 23, 8, tzinfo=UTC), PolicyHolder(file, default_timezone="UTC"))
    for name, coverage in [("low@1", 70), ("high@1", 85)]:
        await world.bot.handle_text(f"declare {name} at 2026-11-27 14:00", ALICE, CHANNEL)
        await world.bot.handle_text(f"signal {name} coverage={coverage}", ALICE, CHANNEL)
        await world.bot.handle_text(f"approve {name}", QA, CHANNEL)
    await world.run_until(world.clock.now() + timedelta(minutes=5))
    states = {name: r.state for name, r in world.store.data.releases.items()}
    assert states == {"low@1": State.PLANNED, "high@1": State.APPROVED}

    file.write_text(POLICY.replace("MIN", "60"))
    assert world.policy.reload()
    await world.run_until(world.clock.now() + timedelta(minutes=5))
    assert world.store.data.releases["low@1"].state is State.APPROVED
    file.write_text(POLICY.replace("MIN", "90"))
    assert world.policy.reload()
    await world.run_until(world.clock.now() + timedelta(minutes=5))

    assert {r.state for r in world.store.data.releases.values()} == {State.PLANNED}
    assert audited(world, "approved")[-1] == (
        "low@1",
        "releasebot",
        "all sign-offs in and every gate passes",
    )
    assert sorted(release for release, _, _ in audited(world, "unapproved")) == ["high@1", "low@1"]


async def test_more_releases_than_one_transaction_moves_are_all_moved(tmp_path: Path) -> None:
    file = tmp_path / "policy.yaml"
    file.write_text(POLICY.replace("MIN", "80"))
    world = World(datetime(2026, 11, 23, 8, tzinfo=UTC), PolicyHolder(file, default_timezone="UTC"))
    count = 2 * scheduler_module.SETTLE_MOVES + 3
    for n in range(count):
        await world.bot.handle_text(f"declare s{n}@1 at 2026-11-27 14:00", ALICE, CHANNEL)
        await world.bot.handle_text(f"signal s{n}@1 coverage=70", ALICE, CHANNEL)
        await world.bot.handle_text(f"approve s{n}@1", QA, CHANNEL)

    file.write_text(POLICY.replace("MIN", "60"))
    assert world.policy.reload()
    await world.scheduler.tick()

    assert {r.state for r in world.store.data.releases.values()} == {State.APPROVED}
    assert len(audited(world, "approved")) == count
