from __future__ import annotations

import pytest

from adapters.clock import ManualClock
from adapters.policy_file import PolicyHolder
from adapters.scheduler import occurrences
from bot.service import ReleaseBot
from storage.memory import MemoryStore
from tests.support.people import NOW


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def bot(store: MemoryStore, clock: ManualClock) -> ReleaseBot:
    return ReleaseBot(
        unit_of_work=store,
        clock=clock,
        policy=PolicyHolder(None, default_timezone="Europe/London"),
        sync_times=occurrences,
    )
