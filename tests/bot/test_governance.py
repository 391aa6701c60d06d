"""Sign-offs, signals, gates, lifecycle and freezes, through the bot's front door."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.clock import ManualClock
from bot import gates
from bot.domain import Actor, State
from bot.home import HomePage, page_for
from bot.policy import KNOWN_GATES, Policy, parse_policy
from bot.reply import Reply, Struck, Tone
from bot.service import ReleaseBot
from bot.text import plain_text
from bot.usage import BY_VERB
from storage.memory import MemoryStore, MemoryUnitOfWork
from tests.support.people import ALICE, CHANNEL

QA = Actor("slack:U0QA00001", "quinn", "slack")
QA_TOO = Actor("console:qa", "quentin", "console")
ENG = Actor("slack:U0ENG0001", "erin", "slack")
OPS = Actor("slack:U0OPS0001", "otto", "slack")
STRANGER = Actor("slack:U0NOBODY1", "nobody", "slack")


async def say(bot: ReleaseBot, text: str, actor: Actor = ALICE) -> Reply:
    return await bot.handle_text(text, actor, CHANNEL)


async def ready_release(bot: ReleaseBot, name: str = "checkout@2.4.0") -> None:
    await say(bot, f"declare {name} at 2026-12-03 14:00")
    await say(bot, f"signal {name} coverage=85 open_blockers=0 open_criticals=0")


def actions(store: MemoryStore) -> list[str]:
    return [e.action for e in store.data.audit]


async def test_release_is_approved_by_itself_once_signed_off_and_green(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await ready_release(bot)
    first = await say(bot, "approve checkout@2.4.0", QA)
    assert "Approved as qa by quinn" in first.notes
    assert [a.label for a in first.actions] == ["Approve as eng", "Reject as eng"]
    assert store.data.releases["checkout@2.4.0"].state is State.PLANNED
    second = await say(bot, "approve checkout@2.4.0 as eng ship it", ENG)
    assert store.data.releases["checkout@2.4.0"].state is State.APPROVED
    assert second.actions == () and "State: approved" in plain_text(second)
    assert actions(store)[-3:] == ["signed_off", "signed_off", "approved"]


async def test_refusals_change_nothing_but_record_the_attempt(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await ready_release(bot)
    cases = [
        ("approve checkout@2.4.0", ALICE, "forbids signing off your own release"),
        ("approve checkout@2.4.0", STRANGER, "not in any role"),
        ("approve checkout@2.4.0 as eng", QA, "not a member of the eng role"),
        ("approve checkout@2.4.0 as ops", OPS, "The ops role does not sign normal releases"),
    ]
    for text, actor, reason in cases:
        reply = await say(bot, text, actor)
        assert reply.tone is Tone.ERROR and reason in reply.title, reply.title
    assert not store.data.tables.signoffs
    assert actions(store)[-4:] == ["refused"] * 4


async def test_one_person_fills_one_role_and_a_second_click_changes_nothing(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    bot.policy.roles["eng"] += ("slack:U0QA00001",)  # type: ignore[operator]
    await ready_release(bot)
    await say(bot, "approve checkout@2.4.0 as qa", QA)
    again = await say(bot, "approve checkout@2.4.0 as qa", QA)
    assert again.tone is Tone.INFO and "Nothing changed" in again.title
    other = await say(bot, "approve checkout@2.4.0 as eng", QA)
    assert other.tone is Tone.ERROR and "already signed as qa" in other.title
    taken = await say(bot, "approve checkout@2.4.0 as qa", QA_TOO)
    assert taken.tone is Tone.ERROR and "already signed off by quinn" in taken.title
    assert len(store.data.tables.signoffs) == 1


async def test_a_rejection_sends_an_approved_release_back_and_says_who_and_why(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await ready_release(bot)
    await say(bot, "approve checkout@2.4.0", QA)
    await say(bot, "approve checkout@2.4.0", ENG)
    reply = await say(bot, "reject checkout@2.4.0 flaky payment tests", QA)
    assert store.data.releases["checkout@2.4.0"].state is State.PLANNED
    assert "Rejected as qa by quinn: flaky payment tests" in reply.notes
    assert "✗ qa: rejected by quinn — flaky payment tests" in plain_text(reply)
    assert actions(store)[-2:] == ["signed_off", "unapproved"]
    [unapproved] = [e for e in store.data.audit if e.action == "unapproved"]
    assert unapproved.detail["why"] == "qa rejected by quinn: flaky payment tests"
    refused = await say(bot, "deploy checkout@2.4.0")
    assert refused.title.endswith("qa rejected by quinn: flaky payment tests")
    assert "missing" not in refused.title


async def test_a_failing_signal_sends_an_approved_release_back(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await ready_release(bot)
    await say(bot, "approve checkout@2.4.0", QA)
    await say(bot, "approve checkout@2.4.0", ENG)
    reply = await say(bot, "signal checkout@2.4.0 coverage=76")
    assert store.data.releases["checkout@2.4.0"].state is State.PLANNED
    assert "✗ coverage 76 < 80" in plain_text(reply)
    gate = await say(bot, "gate checkout@2.4.0")
    assert gate.title == "Gates for checkout@2.4.0: fail"
    assert gate.facts[0].value == "67/100"


async def test_signals_must_be_numbers(bot: ReleaseBot, store: MemoryStore) -> None:
    await ready_release(bot)
    before = list(store.data.audit)
    reply = await say(bot, "signal checkout@2.4.0 coverage=high")
    assert reply.tone is Tone.ERROR and "coverage=high is not a number" in reply.title
    assert store.data.audit == before


@pytest.mark.parametrize(
    ("bad", "problem", "good"),
    [
        # A negative count would cancel out the open critical risk.
        (
            "coverage=90 open_criticals=-1",
            "open_criticals must be a whole number ≥ 0, not -1",
            "open_criticals=0",
        ),
        (
            "open_blockers=0.9",
            "open_blockers must be a whole number ≥ 0, not 0.9",
            "open_blockers=1.0",
        ),
        ("coverage=500", "Coverage must be a percentage from 0 to 100, not 500", "coverage=100"),
        ("coverage=-5", "Coverage must be a percentage from 0 to 100, not -5", "coverage=0"),
        (
            "deploy_success=100.5",
            "deploy_success must be a percentage from 0 to 100, not 100.5",
            "deploy_success=99.5 flaky_tests=-2",  # no gate reads flaky_tests: kept as sent
        ),
    ],
)
async def test_a_signal_outside_its_range_is_refused_and_changes_nothing(
    bot: ReleaseBot, store: MemoryStore, bad: str, problem: str, good: str
) -> None:
    await say(bot, "declare e@1 at 2026-12-03 14:00")
    await say(bot, "risk e@1 critical payments may double-charge")
    before = (list(store.data.audit), list(store.data.tables.signals))
    reply = await say(bot, f"signal e@1 {bad}")
    assert (reply.tone, reply.title, reply.usage) == (Tone.ERROR, problem, BY_VERB["signal"].line)
    assert (store.data.audit, store.data.tables.signals) == before
    assert "✗ open criticals 1 > 0" in plain_text(await say(bot, "status e@1"))
    assert (await say(bot, f"signal e@1 {good}")).tone is not Tone.ERROR  # the edge is fine


@pytest.mark.parametrize(
    ("first", "line", "problem"),
    [
        (
            None,
            "signal e@1 coverage=95 coverage=50",
            "Coverage is given twice: send each signal once",
        ),
        (
            "cancel e@1 scrapped",
            "signal e@1 coverage=95",
            "e@1 is cancelled: its readiness no longer matters",
        ),
        (
            "cancel e@1 scrapped",
            "risk e@1 high zombie",
            "e@1 is cancelled: a risk on it would never be decided",
        ),
    ],
    ids=["key-twice", "signal-on-cancelled", "risk-on-cancelled"],
)
async def test_signals_and_risks_that_would_be_lost_are_refused(
    bot: ReleaseBot, store: MemoryStore, first: str | None, line: str, problem: str
) -> None:
    await say(bot, "declare e@1 at 2026-12-03 14:00")
    if first:
        await say(bot, first)
    before = (
        list(store.data.audit),
        list(store.data.tables.signals),
        dict(store.data.tables.risks),
    )

    reply = await say(bot, line)

    assert (reply.tone, reply.title) == (Tone.ERROR, problem)
    after = (list(store.data.audit), list(store.data.tables.signals), dict(store.data.tables.risks))
    assert after == before


async def test_a_signal_no_gate_reads_is_kept_and_said_so(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare e@1 at 2026-12-03 14:00")

    reply = await say(bot, "signal e@1 covrage=90 coverage=85")

    assert reply.notes[-1] == (
        "No gate reads covrage (gates read coverage, deploy_success, open_blockers, open_criticals)"
    )
    assert {s.key for s in store.data.tables.signals} == {"covrage", "coverage"}


async def test_the_same_risk_raised_again_is_the_same_risk(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare e@1 at 2026-12-03 14:00")
    await say(bot, "risk e@1 high cache stampede")

    again = await say(bot, "risk e@1 high cache stampede", QA)

    assert "Risk R1 says that already: nothing changed" in again.notes
    assert len(store.data.tables.risks) == 1 and actions(store).count("risk_raised") == 1
    assert "R2" in plain_text(await say(bot, "risk e@1 low cache stampede"))  # not the same risk


async def test_rescheduling_makes_earlier_signoffs_stale(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await ready_release(bot)
    await say(bot, "approve checkout@2.4.0", QA)
    await say(bot, "approve checkout@2.4.0", ENG)
    reply = await say(bot, "reschedule checkout@2.4.0 2026-12-04 14:00")
    assert store.data.releases["checkout@2.4.0"].state is State.PLANNED
    signoffs = reply.sections[0].lines
    assert Struck("qa: ✓ approved by quinn", " — stale, waiting again") in signoffs
    assert "qa: ✓ approved by quinn — stale, waiting again" in plain_text(reply)
    assert "signoffs_stale" in actions(store)


async def test_deploy_is_refused_with_every_reason_then_allowed_when_ready(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-12-03 14:00")
    await say(bot, "signal checkout@2.4.0 coverage=70")
    refused = await say(bot, "deploy checkout@2.4.0")
    assert refused.tone is Tone.ERROR
    assert "gate min_coverage fails: coverage 70 < 80" in refused.title
    assert "sign-off missing from qa, eng" in refused.title
    await say(bot, "signal checkout@2.4.0 coverage=90")
    await say(bot, "approve checkout@2.4.0", QA)
    await say(bot, "approve checkout@2.4.0", ENG)
    assert "Deploying by alice" in (await say(bot, "deploy checkout@2.4.0")).notes
    await say(bot, "deployed checkout@2.4.0")
    await say(bot, "verified checkout@2.4.0")
    assert store.data.releases["checkout@2.4.0"].state is State.VERIFIED


async def test_deploy_inside_a_freeze_is_refused_except_for_emergencies(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await ready_release(bot)
    await say(bot, "approve checkout@2.4.0", QA)
    await say(bot, "approve checkout@2.4.0", ENG)
    frozen = await say(bot, "freeze today 11:00 tomorrow 18:00 black friday")
    assert frozen.title == "Freeze F1 declared"
    refused = await say(bot, "deploy checkout@2.4.0")
    assert "freeze F1 is in force (black friday)" in refused.title
    warned = await say(bot, "declare hotfix@1 at today 15:00 class emergency")
    assert any("Inside freeze F1" in note for note in warned.notes)
    emergency = await say(bot, "deploy hotfix@1")
    assert store.data.releases["hotfix@1"].state is State.DEPLOYING
    assert "Emergency deploy started by alice" in emergency.notes
    await say(bot, "unfreeze F1")
    await say(bot, "deploy checkout@2.4.0")
    assert store.data.releases["checkout@2.4.0"].state is State.DEPLOYING


async def test_an_emergency_change_owes_a_review_that_shows_when_overdue(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await say(bot, "declare hotfix@1 class emergency")
    await say(bot, "deploy hotfix@1")
    clock.advance(timedelta(hours=49))
    assert "Retrospective review: OVERDUE since" in plain_text(await say(bot, "status hotfix@1"))
    refused = await say(bot, "approve hotfix@1", QA)
    assert refused.tone is Tone.ERROR
    signed = await say(bot, "approve hotfix@1", OPS)
    assert "Retrospective review: signed by slack:U0OPS0001" in plain_text(signed)


@pytest.mark.parametrize("after", ["rollback hotfix@1 made it worse", "cancel hotfix@1 not needed"])
async def test_the_review_an_emergency_owes_can_be_signed_after_a_rollback_or_cancel(
    bot: ReleaseBot, after: str
) -> None:
    await say(bot, "declare hotfix@1 class emergency")
    await say(bot, "deploy hotfix@1")
    await say(bot, after)

    signed = await say(bot, "approve hotfix@1", OPS)

    assert "Retrospective review: signed by slack:U0OPS0001" in plain_text(signed)


async def test_lifecycle_refusals_say_exactly_why(bot: ReleaseBot) -> None:
    await say(bot, "declare a@1 at 2026-12-03 14:00")
    reply = await say(bot, "deployed a@1")
    assert reply.title == "a@1 is planned; only a deploying release can be deployed"
    rollback = await say(bot, "rollback a@1 broken")
    assert (
        rollback.title == "a@1 is planned; only a deploying or deployed release can be rolled back"
    )


async def test_audit_lists_the_trail_of_a_release(bot: ReleaseBot) -> None:
    await ready_release(bot)
    await say(bot, "approve checkout@2.4.0", QA)
    trail = plain_text(await say(bot, "audit checkout@2.4.0"))
    assert "declared · slack:U0ALICE01 (slack)" in trail
    assert "signed_off · slack:U0QA00001 (slack) — role: qa, verdict: approved" in trail


async def test_concurrent_clicks_record_each_signoff_once(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await ready_release(bot)
    clicks = [say(bot, "approve checkout@2.4.0", QA) for _ in range(10)]
    clicks += [say(bot, "approve checkout@2.4.0", ENG) for _ in range(10)]
    await asyncio.gather(*clicks)
    assert sorted(s.role for s in store.data.tables.signoffs) == ["eng", "qa"]
    assert actions(store).count("signed_off") == 2
    assert store.data.releases["checkout@2.4.0"].state is State.APPROVED


async def test_smoke_results_stay_on_the_release_card(bot: ReleaseBot, store: MemoryStore) -> None:
    from bot import commands as c

    await say(bot, "declare hotfix@1 class emergency")
    await say(bot, "deploy hotfix@1")
    await say(bot, "deployed hotfix@1")
    failing = (("https://x/health", 200, 503, False, "", "2026-11-26T12:00:00+00:00"),)
    await bot.handle(c.RecordSmoke("hotfix@1", failing), ALICE)
    card = await say(bot, "status hotfix@1")
    assert "✗ https://x/health: HTTP 503 (expected 200)" in plain_text(card)
    assert [a.label for a in card.actions] == ["Roll back", "Open huddle"]
    await say(bot, "rollback hotfix@1 health check failing")
    after = await say(bot, "status hotfix@1")
    assert "Smoke checks 0/1 passed" in plain_text(after) and after.actions == ()


async def test_freezes_lists_the_windows_and_marks_the_one_in_force(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "freeze today 11:00 tomorrow 18:00 black friday")
    await say(bot, "freeze 2026-12-24 00:00 2026-12-27 00:00 holidays")
    lines = (await say(bot, "freezes")).sections[0].lines
    assert lines[0].startswith("IN FORCE F1 ") and lines[0].endswith("— black friday")
    assert lines[1].startswith("F2 ") and lines[1].endswith("— holidays")
    calendar = plain_text(await say(bot, "calendar 30"))
    assert "Freeze windows:" in calendar and "holidays" in calendar


async def test_a_freeze_that_is_already_over_is_refused(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    reply = await say(bot, "freeze 2026-11-20 09:00 2026-11-21 18:00 too late")
    assert reply.tone is Tone.ERROR and reply.title == "That freeze window is over already"
    assert (await say(bot, "freezes")).summary == "No freeze windows now or ahead."


async def test_a_deploy_success_gate_reads_the_deploy_success_signal(
    store: MemoryStore, clock: ManualClock
) -> None:
    gated = {"gates": {"min_deploy_success": 95}}
    policy = parse_policy({"classes": {"standard": {}, "normal": gated, "emergency": {}}})
    bot = ReleaseBot(unit_of_work=store, clock=clock, policy=lambda: policy)
    await say(bot, "declare a@1 at 2026-12-03 14:00")
    refused = await say(bot, "deploy a@1")
    assert "no deploy_success signal yet (needs ≥ 95)" in refused.title
    await say(bot, "signal a@1 deploy_success=90")
    assert "deploy_success 90 < 95" in (await say(bot, "deploy a@1")).title
    assert store.data.releases["a@1"].state is State.PLANNED
    await say(bot, "signal a@1 deploy_success=100")
    assert store.data.releases["a@1"].state is State.APPROVED  # its one gate passes
    await say(bot, "deploy a@1")
    assert store.data.releases["a@1"].state is State.DEPLOYING


def test_the_policy_knows_exactly_the_gates_there_are() -> None:
    assert frozenset(gates.GATES) == KNOWN_GATES


async def test_an_owner_named_by_email_may_not_sign_off_their_release_from_chat(
    store: MemoryStore, clock: ManualClock
) -> None:
    policy = parse_policy(
        {
            "roles": {"qa": ["email:ana@example.com", QA.principal], "eng": [ENG.principal]},
            "classes": {"standard": {}, "normal": {"signoffs": ["qa", "eng"]}, "emergency": {}},
        }
    )
    bot = ReleaseBot(unit_of_work=store, clock=clock, policy=lambda: policy)
    emails = {"slack:U0ANA0001": "Ana@Example.com"}
    asked: list[str] = []

    async def email_of(principal: str) -> str | None:
        asked.append(principal)
        return emails.get(principal)

    bot.people.register("slack", email_of)
    ana = Actor("slack:U0ANA0001", "ana", "slack")
    await say(bot, "declare a@1 at 2026-12-03 14:00 owner email:ana@example.com")

    refused = await say(bot, "approve a@1", ana)
    signed = await say(bot, "approve a@1", QA)

    assert refused.title == "You own a@1, and the policy forbids signing off your own release"
    assert signed.tone is not Tone.ERROR
    assert asked == ["slack:U0ANA0001", "slack:U0QA00001"]  # only for commands that ask who


def with_emails(bot: ReleaseBot, emails: dict[str, str]) -> ReleaseBot:
    """`bot`, its Slack and Teams users' addresses told as their platforms would."""

    async def email_of(principal: str) -> str | None:
        return emails.get(principal)

    bot.people.register("slack", email_of)
    bot.people.register("teams", email_of)
    return bot


async def test_one_person_named_by_email_fills_one_role_from_either_platform(
    store: MemoryStore, clock: ManualClock
) -> None:
    policy = parse_policy(
        {
            "roles": {"qa": ["email:alice@example.com"], "eng": ["email:alice@example.com"]},
            "classes": {"standard": {}, "normal": {"signoffs": ["qa", "eng"]}, "emergency": {}},
        }
    )
    bot = with_emails(
        ReleaseBot(unit_of_work=store, clock=clock, policy=lambda: policy),
        {"slack:U0ALICE02": "alice@example.com", "teams:aad-alice": "Alice@Example.com"},
    )
    await say(bot, "declare a@1 at 2026-12-03 14:00")

    alice_on_teams = Actor("teams:aad-alice", "Alice", "teams")
    await say(bot, "approve a@1", Actor("slack:U0ALICE02", "alice", "slack"))
    again = await say(bot, "approve a@1", alice_on_teams)
    as_eng = await say(bot, "approve a@1 as eng", alice_on_teams)

    assert again.title == "Nothing changed: you already approved as qa"
    assert as_eng.title == "You already signed as qa; one person fills one role"
    assert [(s.role, s.principal) for s in store.data.tables.signoffs] == [
        ("qa", "email:alice@example.com")
    ]


async def test_an_owner_named_by_email_in_any_case_is_recognised_under_a_chat_id_policy(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    # The demo policy names everyone by chat id; only the owner is named by address.
    async def email_of(principal: str) -> str | None:
        return "quinn@example.com" if principal == QA.principal else None

    bot.people.register("slack", email_of)
    await say(bot, "declare a@1 at 2026-12-03 14:00 owner email:Quinn@Example.com")

    refused = await say(bot, "approve a@1", QA)

    assert refused.title == "You own a@1, and the policy forbids signing off your own release"


MIXED = {
    "roles": {"qa": ["slack:U0ALICE02"], "eng": ["email:alice@example.com", ENG.principal]},
    "classes": {"standard": {}, "normal": {"signoffs": ["qa", "eng"]}, "emergency": {}},
}


async def test_one_person_in_two_roles_by_id_and_by_address_fills_one(
    store: MemoryStore, clock: ManualClock
) -> None:
    policy = parse_policy(MIXED)
    bot = with_emails(
        ReleaseBot(unit_of_work=store, clock=clock, policy=lambda: policy),
        {"slack:U0ALICE02": "alice@example.com", "teams:aad-alice": "alice@example.com"},
    )
    await say(bot, "declare a@1 at 2026-12-03 14:00")
    await say(bot, "approve a@1 as qa", Actor("slack:U0ALICE02", "alice", "slack"))

    as_eng = await say(bot, "approve a@1 as eng", Actor("teams:aad-alice", "Alice", "teams"))
    page = await page_for_slack_user(store, policy, clock, bot, "slack:U0ALICE02")

    assert as_eng.title == "You already signed as qa; one person fills one role"
    assert page.offers == ()  # her page offers nothing the click would refuse


async def page_for_slack_user(
    store: MemoryStore, policy: Policy, clock: ManualClock, bot: ReleaseBot, principal: str
) -> HomePage:
    async with store(read_only=True) as uow:
        return await page_for(
            uow,
            principal=principal,
            policy=policy,
            now=clock.now(),
            aliases=bot.people.remembered(principal),
        )


async def test_an_owner_named_by_email_decides_where_only_owners_and_roles_may(
    store: MemoryStore, clock: ManualClock
) -> None:
    async def email_of(principal: str) -> str | None:
        return "olly@example.com" if principal == "slack:U0OLLY001" else None

    # Role members by chat id only: the owner alone is named by address.
    policy_without_email = parse_policy(
        {**MIXED, "roles": {"qa": ["slack:U0QA00001"], "eng": [ENG.principal]}}
    )
    bot = ReleaseBot(
        unit_of_work=store,
        clock=clock,
        policy=lambda: replace(policy_without_email, restrict_deciders=True),
    )
    bot.people.register("slack", email_of)
    await say(bot, "declare a@1 at 2026-12-03 14:00 owner email:Olly@Example.com")
    await say(bot, "risk a@1 high cache stampede")

    decided = await say(
        bot, "decide R1 accept warm-up lands first", Actor("slack:U0OLLY001", "olly", "slack")
    )

    assert decided.tone is not Tone.ERROR, decided.title


class StoreDownForReads(MemoryStore):
    def __call__(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        if read_only:
            raise ConnectionRefusedError("the database is not answering")
        return super().__call__(read_only=read_only)


async def test_a_store_down_while_looking_for_the_owner_is_answered_not_raised(
    clock: ManualClock,
) -> None:
    # Role members by chat id: whether the owner is named by address takes a read.
    chat_ids = parse_policy({**MIXED, "roles": {"qa": [QA.principal], "eng": [ENG.principal]}})
    bot = ReleaseBot(unit_of_work=StoreDownForReads(), clock=clock, policy=lambda: chat_ids)

    reply = await say(bot, "approve a@1", QA)

    assert (reply.tone, reply.problem) == (Tone.ERROR, "internal")
