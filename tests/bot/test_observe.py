"""Deployment and incident events through the core: stored, moving releases, correlated."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.clock import ManualClock
from bot import commands as c
from bot.domain import Actor, Conversation, State
from bot.observe import Incident
from bot.policy import Policy, PolicyError, parse_policy
from bot.reply import Reply, Tone
from bot.service import ReleaseBot
from bot.text import plain_text
from storage.memory import MemoryStore
from tests.support.people import ALICE, CHANNEL, NOW

API = Actor("api:rest", "REST API", "api")
DEMO = Path(__file__).parents[2] / "adapters" / "demo_policy.yaml"
H = timedelta(hours=1)


def policy(observability: dict[str, Any] | None = None) -> Policy:
    data = yaml.safe_load(DEMO.read_text())
    if observability is not None:
        data["observability"] = observability
    return parse_policy(data)


def bot_with(store: MemoryStore, clock: ManualClock, rules: Policy) -> ReleaseBot:
    return ReleaseBot(unit_of_work=store, clock=clock, policy=lambda: rules)


async def say(bot: ReleaseBot, text: str) -> Reply:
    return await bot.handle_text(text, ALICE, CHANNEL)


def deployed(version: str, status: str = "success", *, ago: timedelta = H, **kw: Any) -> Any:
    return c.RecordDeployment(
        service=kw.pop("service", "checkout"),
        version=version,
        environment=kw.pop("environment", "prod"),
        status=status,
        started_at=NOW - ago - 5 * timedelta(minutes=1),
        finished_at=NOW - ago,
        **kw,
    )


def posted(store: MemoryStore) -> list[Any]:
    return [q.message for q in store.data.outbox]


async def test_a_reported_deployment_moves_its_release_through_the_lifecycle(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare checkout@1.2 class standard env prod")
    await say(bot, "deploy checkout@1.2")
    reply = await bot.handle(deployed("1.2", commits=()), API)
    assert reply.tone is Tone.SUCCESS and "checkout@1.2 is now deployed" in reply.notes
    assert store.data.releases["checkout@1.2"].state is State.DEPLOYED
    again = await bot.handle(deployed("1.2", "rolled_back", commits=()), API)
    assert "updated: rolled back" in again.title
    assert store.data.releases["checkout@1.2"].state is State.ROLLED_BACK
    actions = [e.action for e in store.data.audit]
    assert actions[-4:] == ["deployment_reported", "deployed", "deployment_reported", "rolled_back"]
    moved = store.data.audit[-1]
    assert moved.surface == "api" and moved.detail["source"] == "deployment"
    assert [d.status.value for d in store.data.tables.deployments.values()] == ["rolled_back"]
    assert any("was rolled back" in m.reply.title for m in posted(store))


async def test_a_deployment_the_lifecycle_does_not_allow_is_stored_but_moves_nothing(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare checkout@1.2 class standard env prod")
    reply = await bot.handle(deployed("1.2", commits=()), API)
    assert reply.tone is Tone.SUCCESS
    assert reply.notes == (
        "checkout@1.2 stays approved: only a deploying release becomes deployed",
    )
    await say(bot, "deploy checkout@1.2")
    staging = await bot.handle(deployed("1.2", environment="staging", commits=()), API)
    assert staging.notes == ("checkout@1.2 is for prod; this deployment does not move it",)
    assert store.data.releases["checkout@1.2"].state is State.DEPLOYING
    assert "refused" not in [e.action for e in store.data.audit]
    assert len(store.data.tables.deployments) == 2


async def test_lead_time_comes_from_the_release_change_items_without_commits(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare checkout@1.2 class standard")
    merged = [(NOW - 5 * H).isoformat(), (NOW - 3 * H).isoformat(), NOW.isoformat()]
    items = tuple(("fix", "fix", None, None, None, m) for m in merged)
    await bot.handle(c.AddChanges(release="checkout@1.2", items=items), API)
    await bot.handle(deployed("1.2", ago=2 * H), API)
    [stored] = store.data.tables.deployments.values()
    # The change merged after the deployment finished was not in it: 3 h + 1 h over 2.
    assert (stored.changes, stored.lead_seconds) == (2, 4 * 3600)
    assert stored.release == "checkout@1.2"


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (deployed("1.2", "done"), "status must be success, failure or rolled_back"),
        (deployed("1.2", service="Check Out"), "is not a service name"),
        (deployed("1 2"), "version must be non-empty"),
        (deployed("1.2", environment="pr od"), "is not an environment name"),
        (deployed("1.2", commits=(NOW.isoformat(),)), "is after the deployment finished"),
        (deployed("1.2", commits=("2026-11-26T08:00:00",)), "commit times need a UTC offset"),
        (
            c.RecordDeployment("a", "1", "prod", "success", NOW, NOW - H),
            "finished_at is before started_at",
        ),
        (c.RecordIncident("a", "sev 1", NOW), "is not a severity"),
        (c.RecordIncident("a", "sev1", NOW, NOW - H), "resolved_at is before opened_at"),
        (c.RecordIncident("a", "sev1", NOW, release="a-1"), "is not a release"),
    ],
)
async def test_bad_events_are_refused_and_change_nothing(
    bot: ReleaseBot, store: MemoryStore, command: c.Command, problem: str
) -> None:
    reply = await bot.handle(command, API)
    assert reply.tone is Tone.ERROR and problem.lower() in reply.title.lower()
    tables = store.data.tables
    assert not tables.deployments and not tables.incidents and not store.data.audit


async def given_checkout_deployments(bot: ReleaseBot) -> None:
    await say(bot, "declare checkout@1.0 class standard")
    await say(bot, "declare search@7 class standard")
    for version, ago, status in (
        ("1.0", 30, "success"),
        ("1.1", 5, "failure"),
        ("1.2", 2, "success"),
    ):
        await bot.handle(deployed(version, status, ago=ago * H, commits=()), API)
    await bot.handle(deployed("7", ago=H, service="search", commits=()), API)


async def test_an_incident_lists_the_service_deployments_of_the_window_in_its_channel(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await given_checkout_deployments(bot)
    before = len(store.data.outbox)
    incident = c.RecordIncident("checkout", "sev1", NOW, release="checkout@1.2", key="PD-1")
    reply = await bot.handle(incident, API)
    assert reply.title == "Incident I1 on checkout recorded (open)"
    [message] = posted(store)[before:]
    assert message.conversation == CHANNEL
    text = plain_text(message.reply)
    assert "Incident on checkout (sev1)" in text and "Attributed to: checkout@1.2" in text
    lines = message.reply.sections[0].lines
    assert message.reply.sections[0].title == "Deployments of checkout in the 24 h before"
    assert [line.split()[1] for line in lines] == ["checkout@1.2", "checkout@1.1"]
    assert "failure" in lines[1] and "5 h 00 min before" in lines[1]
    clock.advance(H)
    resolved = c.RecordIncident("checkout", "sev1", NOW, NOW + H, key="PD-1")
    assert "updated (resolved)" in (await bot.handle(resolved, API)).title
    assert len(posted(store)) == before + 1  # an update is not a new incident
    assert [e.action for e in store.data.audit][-2:] == ["incident_opened", "incident_updated"]


async def test_an_incident_is_posted_where_the_release_at_fault_is_discussed(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    elsewhere = Conversation("slack", "C0NEXTRELS")
    await say(bot, "declare checkout@1.0 class standard")
    await bot.handle(deployed("1.0", ago=2 * H, commits=()), API)
    clock.advance(timedelta(minutes=5))
    await bot.handle_text("declare checkout@2.0", ALICE, elsewhere)  # later, never deployed
    before = len(store.data.outbox)
    await bot.handle(c.RecordIncident("checkout", "sev1", clock.now()), API)  # names no release
    await bot.handle(c.RecordIncident("checkout", "sev2", clock.now(), release="checkout@2.0"), API)
    blamed = c.RecordIncident("payments", "sev3", clock.now(), release="checkout@2.0")
    # The last names a release of another service: refused, so nothing is posted for it.
    assert (await bot.handle(blamed, API)).title == "checkout@2.0 is not a release of payments"
    assert [m.conversation for m in posted(store)[before:]] == [CHANNEL, elsewhere]


async def test_an_incident_stored_blaming_another_service_can_still_be_resolved(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    # Stored before attributions were checked.
    old = Incident("payments", "sev3", NOW - H, release="checkout@2.0", key="PD-9")
    async with store() as uow:
        await uow.incidents.record(old)
        await uow.commit()

    resolved = await bot.handle(c.RecordIncident("payments", "sev3", NOW - H, NOW, key="PD-9"), API)

    assert resolved.title == "Incident I1 on payments updated (resolved)"
    [stored] = store.data.tables.incidents.values()
    assert (stored.resolved_at, stored.release) == (NOW, "checkout@2.0")


async def test_the_correlation_window_comes_from_the_policy(
    store: MemoryStore, clock: ManualClock
) -> None:
    bot = bot_with(store, clock, policy({"correlation_hours": 3}))
    await given_checkout_deployments(bot)
    before = len(store.data.outbox)
    await bot.handle(c.RecordIncident("checkout", "sev2", NOW), API)
    [message] = posted(store)[before:]
    assert message.reply.sections[0].title == "Deployments of checkout in the 3 h before"
    assert [line.split()[1] for line in message.reply.sections[0].lines] == ["checkout@1.2"]


async def test_an_incident_on_a_service_without_a_release_channel_posts_nothing(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await bot.handle_text("declare billing@1 class standard", ALICE, None)
    reply = await bot.handle(c.RecordIncident("billing", "sev3", NOW), API)
    assert reply.tone is not Tone.ERROR
    assert not store.data.outbox and len(store.data.tables.incidents) == 1


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"correlation_hours": 0}, "observability.correlation_hours: expected a positive"),
        ({"correlation_hours": "1d"}, "observability.correlation_hours"),
        ({"smoke": {}}, "observability: unknown key 'smoke'"),
        ({"smoke_checks": {"Check Out": [{"url": "http://x/"}]}}, "is not a service name"),
        ({"smoke_checks": {"checkout": []}}, "smoke_checks.checkout: expected a list"),
        ({"smoke_checks": {"checkout": [{"url": "ftp://x"}]}}, "checkout[0].url: expected"),
        (
            {"smoke_checks": {"checkout": [{"url": "http://x/", "expect_status": 99}]}},
            "checkout[0].expect_status",
        ),
        (
            {"smoke_checks": {"checkout": [{"url": "http://x/", "timeout_seconds": 0}]}},
            "checkout[0].timeout_seconds",
        ),
    ],
)
def test_an_invalid_observability_section_is_refused_by_name(
    section: dict[str, Any], problem: str
) -> None:
    with pytest.raises(PolicyError, match=None) as refused:
        policy(section)
    assert problem in str(refused.value)


def test_the_observability_section_has_defaults_and_reads_smoke_checks() -> None:
    assert policy().observability.correlation_hours == 24
    rules = policy({"smoke_checks": {"checkout": [{"url": "https://c.example/healthz"}]}})
    [check] = rules.observability.checks_for("checkout")
    assert (check.expect_status, check.timeout_seconds) == (200, 5.0)
    assert rules.observability.checks_for("search") == ()
