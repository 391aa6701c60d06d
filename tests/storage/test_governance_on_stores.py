"""Governance against every store: concurrent sign-offs, and tampering caught by audit verify."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta

import asyncpg
import pytest

from adapters.clock import ManualClock
from bot import commands as c
from bot.audit import verify_chain
from bot.domain import Actor, State
from bot.observe import DeployStatus
from bot.observe_presenters import REPORT_FACT
from bot.policy import Policy, parse_policy
from bot.reply import Fact, Tone
from bot.service import ReleaseBot
from storage.base import Store
from tests.storage.conftest import Backend
from tests.support.people import ALICE, CHANNEL, NOW
from tests.support.postgres import asyncpg_dsn

ROLES = [f"role{n:02d}" for n in range(20)]


def twenty_role_policy() -> Policy:
    return parse_policy(
        {
            "timezone": "UTC",
            "roles": {role: [f"slack:U{role.upper()}"] for role in ROLES},
            "classes": {
                "standard": {},
                "normal": {"signoffs": ROLES, "gates": {}},
                "emergency": {},
            },
        }
    )


def member(role: str) -> Actor:
    return Actor(f"slack:U{role.upper()}", role, "slack")


async def audit_actions(store: Store) -> list[str]:
    async with store(read_only=True) as uow:
        return [event.action for event in await uow.audit.all()]


async def test_twenty_roles_approving_at_once_are_all_recorded(store: Store) -> None:
    policy = twenty_role_policy()
    bot = ReleaseBot(unit_of_work=store, clock=ManualClock(NOW), policy=lambda: policy)
    await bot.handle_text("declare checkout@2.4.0", ALICE, CHANNEL)
    await asyncio.gather(*(bot.handle_text("approve checkout@2.4.0", member(r)) for r in ROLES))
    async with store(read_only=True) as uow:
        signoffs = await uow.signoffs.for_release("checkout@2.4.0")
        release = await uow.releases.get("checkout@2.4.0")
        assert verify_chain(await uow.audit.all(), await uow.audit.head()) is None
    assert sorted(s.role for s in signoffs) == ROLES
    assert release is not None and release.state is State.APPROVED
    actions = await audit_actions(store)
    assert actions.count("signed_off") == 20 and actions.count("approved") == 1


async def test_one_member_clicking_ten_times_at_once_signs_once(store: Store) -> None:
    policy = twenty_role_policy()
    bot = ReleaseBot(unit_of_work=store, clock=ManualClock(NOW), policy=lambda: policy)
    await bot.handle_text("declare checkout@2.4.0", ALICE, CHANNEL)
    clicks = [bot.handle_text("approve checkout@2.4.0", member("role07")) for _ in range(10)]
    await asyncio.gather(*clicks)
    async with store(read_only=True) as uow:
        signoffs = await uow.signoffs.for_release("checkout@2.4.0")
    assert [(s.role, s.principal) for s in signoffs] == [("role07", "slack:UROLE07")]
    assert (await audit_actions(store)).count("signed_off") == 1


API = Actor("api:rest", "REST API", "api")


def reported(status: str) -> c.RecordDeployment:
    return c.RecordDeployment(
        "checkout", "2.4.0", "prod", status, NOW - timedelta(hours=2), NOW - timedelta(hours=1)
    )


async def test_identical_reports_at_once_are_stored_and_audited_once(store: Store) -> None:
    bot = ReleaseBot(unit_of_work=store, clock=ManualClock(NOW), policy=twenty_role_policy)
    incident = c.RecordIncident("checkout", "sev1", NOW - timedelta(hours=1), key="PD-1")

    deployed = await asyncio.gather(*(bot.handle(reported("success"), API) for _ in range(6)))
    opened = await asyncio.gather(*(bot.handle(incident, API) for _ in range(6)))

    assert all(r.tone is not Tone.ERROR for r in [*deployed, *opened])
    new = [r for r in [*deployed, *opened] if Fact(REPORT_FACT, "new") in r.facts]
    assert len(new) == 2  # one deployment, one incident
    actions = await audit_actions(store)
    assert actions.count("deployment_reported") == 1
    assert (actions.count("incident_opened"), actions.count("incident_updated")) == (1, 0)


async def test_a_late_success_racing_the_rollback_never_undoes_it(store: Store) -> None:
    bot = ReleaseBot(unit_of_work=store, clock=ManualClock(NOW), policy=twenty_role_policy)
    await bot.handle(reported("success"), API)

    await asyncio.gather(
        *(bot.handle(reported(status), API) for status in ["success", "rolled_back"] * 3)
    )

    async with store(read_only=True) as uow:
        [deployment] = await uow.deployments.of_release("checkout", "2.4.0")
    assert deployment.status is DeployStatus.ROLLED_BACK


TAMPERING = {
    "edit": ["UPDATE audit_event SET actor = 'slack:UMALLORY' WHERE seq = 2"],
    "delete": ["DELETE FROM audit_event WHERE seq = 2"],
    "delete the newest": ["DELETE FROM audit_event WHERE seq = 4"],
    "swap": [
        "UPDATE audit_event SET seq = -1 WHERE seq = 2",
        "UPDATE audit_event SET seq = 2 WHERE seq = 3",
        "UPDATE audit_event SET seq = 3 WHERE seq = -1",
    ],
    # The newest event and the record of the chain's tip, deleted together.
    "delete the newest and the head": [
        "DELETE FROM audit_event WHERE seq = 4",
        "DELETE FROM audit_head",
    ],
}
BROKEN_SAYS = {
    "edit": "BROKEN at event 2",
    "delete": "BROKEN at event 2",
    "delete the newest": "BROKEN at event 4",
    "swap": "BROKEN at event 2",
    "delete the newest and the head": "BROKEN: the record of its last event is gone (3 left)",
}


def verify(url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELEASEBOT_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def tamper(backend: Backend, statements: list[str]) -> None:
    assert backend.url is not None
    if backend.name == "sqlite":
        with sqlite3.connect(backend.url.split("///", 1)[1]) as conn:
            for sql in statements:
                conn.execute(sql)
        return
    conn = await asyncpg.connect(asyncpg_dsn(backend.url))
    try:
        async with conn.transaction():
            for sql in statements:
                await conn.execute(sql)
    finally:
        await conn.close()


@pytest.mark.parametrize("how", list(TAMPERING))
async def test_audit_verify_catches_tampering(store: Store, backend: Backend, how: str) -> None:
    if backend.url is None:
        pytest.skip("tampering needs a database to tamper with")
    bot = ReleaseBot(
        unit_of_work=store, clock=ManualClock(NOW), policy=lambda: twenty_role_policy()
    )
    for text in ("declare a@1", "declare b@1", "cancel a@1 superseded", "cancel b@1 not needed"):
        await bot.handle_text(text, ALICE, CHANNEL)
    await store.close()
    intact = await asyncio.to_thread(verify, backend.url)
    assert intact.returncode == 0 and "intact: 4 events" in intact.stdout
    await tamper(backend, TAMPERING[how])
    broken = await asyncio.to_thread(verify, backend.url)
    assert broken.returncode == 1
    assert BROKEN_SAYS[how] in broken.stdout
