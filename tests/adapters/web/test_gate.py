"""The CI gate over real HTTP: "may this release go out now, by the same rules as `deploy`?"."""

from __future__ import annotations

import aiohttp
import pytest

from bot.domain import Actor
from tests.support.rest import call, store_of
from tests.support.server import RunningBot

QA = Actor("slack:U0QA00001", "quinn", "slack")
ENG = Actor("slack:U0ENG0001", "erin", "slack")
OPS = Actor("slack:U0OPS0001", "oscar", "slack")


async def declare(bot: RunningBot, http: aiohttp.ClientSession, name: str, kind: str) -> None:
    body = {"release": name, "class": kind}
    assert (await call(http, "POST", f"{bot.url}/api/v1/releases", json=body))[0] == 201


async def chat(bot: RunningBot, *lines: str, person: Actor = OPS) -> None:
    for line in lines:
        await bot.components.bot.handle_text(line, person)


async def gate(bot: RunningBot, http: aiohttp.ClientSession, name: str) -> tuple[int, dict]:
    return await call(http, "GET", f"{bot.url}/api/v1/releases/{name}/gate")


async def test_the_ci_gate_fails_with_reasons_then_passes(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    await call(http, "POST", f"{api}/releases", json={"release": "checkout@2.4.0"})
    status, verdict = await gate(bot, http, "checkout@2.4.0")
    assert status == 409 and verdict["pass"] is False
    assert {g["gate"] for g in verdict["failing"]} == {"min_coverage"}
    assert verdict["reasons"] == [
        "gate min_coverage fails: no coverage signal yet (needs ≥ 80)",
        "sign-off missing from qa, eng",
    ]
    status, after = await call(
        http,
        "POST",
        f"{api}/releases/checkout@2.4.0/signals",
        json={"signals": {"coverage": 91.5, "open_blockers": 0}},
    )
    assert status == 200 and after["failing"] == [] and after["missing_signoffs"] == ["qa", "eng"]
    assert after["reasons"] == ["sign-off missing from qa, eng"]
    await chat(bot, "approve checkout@2.4.0", person=QA)
    await chat(bot, "approve checkout@2.4.0", person=ENG)
    status, verdict = await gate(bot, http, "checkout@2.4.0")
    assert status == 200 and verdict["pass"] is True and verdict["state"] == "approved"
    assert verdict["readiness_index"] == 100
    assert verdict["reasons"] == [] and verdict["skipped"] == []


async def test_the_ci_gate_fails_on_an_open_blocker_risk(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    await declare(bot, http, "a@1", "standard")
    assert (await gate(bot, http, "a@1"))[0] == 200
    await chat(bot, "risk a@1 high no rollback", "decide R1 blocker later", person=QA)
    status, verdict = await gate(bot, http, "a@1")
    assert status == 409 and verdict["pass"] is False
    assert [g["gate"] for g in verdict["failing"]] == ["blocker_risks"]
    assert [r.split(":")[0] for r in verdict["reasons"]] == ["gate blocker_risks fails"]


@pytest.mark.parametrize(
    ("lines", "state", "reason"),
    [
        (["cancel a@1 not needed"], "cancelled", "a@1 is cancelled"),
        (["deploy a@1", "rollback a@1 errors"], "rolled_back", "a@1 is rolled back"),
        (["deploy a@1", "deployed a@1"], "deployed", "a@1 is deployed"),
        (["deploy a@1", "deployed a@1", "verified a@1"], "verified", "a@1 is verified"),
    ],
)
async def test_a_release_past_its_deploy_or_cancelled_fails_the_gate_saying_its_state(
    bot: RunningBot, http: aiohttp.ClientSession, lines: list[str], state: str, reason: str
) -> None:
    await declare(bot, http, "a@1", "standard")  # nothing to wait for: only the state stops it
    await chat(bot, *lines)
    events = list(store_of(bot).data.audit)
    status, verdict = await gate(bot, http, "a@1")
    assert status == 409 and verdict["pass"] is False and verdict["state"] == state
    assert verdict["reasons"] == [reason] and verdict["skipped"] == []
    assert store_of(bot).data.audit == events  # asking the gate changes nothing


async def test_a_freeze_in_force_fails_the_gate_naming_the_freeze(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    await declare(bot, http, "a@1", "standard")
    await chat(bot, "freeze today 00:00 +1d peak trading")
    status, verdict = await gate(bot, http, "a@1")
    assert status == 409 and verdict["pass"] is False
    assert verdict["reasons"] == ["freeze F1 is in force (peak trading)"]
    await chat(bot, "unfreeze F1")
    assert (await gate(bot, http, "a@1"))[0] == 200


async def test_an_emergency_release_goes_out_once_a_person_deploys_it_listing_what_it_skips(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    await declare(bot, http, "hotfix@1.0.1", "emergency")
    await chat(bot, "freeze today 00:00 +1d peak trading")
    status, verdict = await gate(bot, http, "hotfix@1.0.1")
    # Not before someone runs deploy: that is what opens its retrospective review.
    assert status == 409 and verdict["state"] == "planned"
    assert verdict["reasons"] == [
        "hotfix@1.0.1 is an emergency change: it goes out once someone runs deploy, which "
        "opens its retrospective review"
    ]
    await chat(bot, "deploy hotfix@1.0.1")
    assert store_of(bot).data.releases["hotfix@1.0.1"].review_due_at is not None
    status, verdict = await gate(bot, http, "hotfix@1.0.1")
    assert status == 200 and verdict["pass"] is True and verdict["state"] == "deploying"
    assert verdict["missing_signoffs"] == ["ops"] and verdict["reasons"] == []
    assert verdict["skipped"] == [
        "sign-off missing from ops",
        "freeze F1 is in force (peak trading)",
    ]


async def test_a_deploying_release_fails_the_gate_once_something_blocks_it(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    await declare(bot, http, "a@1", "standard")
    await chat(bot, "deploy a@1")
    assert (await gate(bot, http, "a@1"))[0] == 200  # a person started it under the rules
    await chat(bot, "risk a@1 high no rollback", "decide R1 blocker found in canary")
    status, verdict = await gate(bot, http, "a@1")
    assert status == 409 and verdict["state"] == "deploying"
    assert [g["gate"] for g in verdict["failing"]] == ["blocker_risks"]
    assert verdict["reasons"] == ["gate blocker_risks fails: blocker risk R1 is open"]


async def test_change_items_reported_once_deploying_do_not_hold_the_gate_shut(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    await declare(bot, http, "a@1", "normal")
    await chat(bot, "signal a@1 coverage=90")
    await chat(bot, "approve a@1", person=QA)
    await chat(bot, "approve a@1", person=ENG)
    await chat(bot, "deploy a@1")
    changes = {"changes": [{"title": "Faster checkout", "kind": "feature"}]}
    assert (await call(http, "POST", f"{bot.url}/api/v1/releases/a@1/changes", json=changes))[
        0
    ] == 201
    # The sign-offs went stale and cannot be given again while deploying: they do not count.
    status, verdict = await gate(bot, http, "a@1")
    assert status == 200 and verdict["state"] == "deploying", verdict
