"""Risks, huddles, decisions, notes and announcements through the bot's front door."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.clock import ManualClock
from bot import commands as c
from bot.domain import Actor, Conversation, State
from bot.outbox import Delivery
from bot.policy import parse_policy
from bot.reply import Reply, Tone
from bot.service import ReleaseBot
from bot.text import plain_text
from storage.base import CardRef
from storage.memory import MemoryStore
from tests.support.people import ALICE, CHANNEL

QA = Actor("slack:U0QA00001", "quinn", "slack")
ENG = Actor("slack:U0ENG0001", "erin", "slack")
STRANGER = Actor("slack:U0NOBODY1", "nobody", "slack")


async def say(bot: ReleaseBot, text: str, actor: Actor = ALICE) -> Reply:
    return await bot.handle_text(text, actor, CHANNEL)


def queued(store: MemoryStore) -> list[tuple[Delivery, str, str]]:
    return [
        (q.message.kind, str(q.message.conversation), q.message.reply.title)
        for q in store.data.outbox
    ]


async def green_release(bot: ReleaseBot, name: str = "checkout@2.4.0") -> None:
    await say(bot, f"declare {name} at 2026-12-03 14:00 train public")
    await say(bot, f"signal {name} coverage=90")
    await say(bot, f"approve {name}", QA)
    await say(bot, f"approve {name}", ENG)


async def test_a_blocker_fails_the_gate_and_accepting_it_passes_again(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await green_release(bot)
    assert store.data.releases["checkout@2.4.0"].state is State.APPROVED
    reply = await say(bot, "risk checkout@2.4.0 high cache may stampede on deploy")
    assert "Risk R1 recorded by alice" in reply.notes
    await say(bot, "decide R1 blocker no cache warm-up yet", QA)
    assert store.data.releases["checkout@2.4.0"].state is State.PLANNED
    refused = await say(bot, "deploy checkout@2.4.0")
    assert "open blockers 1 > 0" in refused.title
    dry = await say(bot, "gate checkout@2.4.0 if accept R1")
    assert dry.title == "If you accept R1: gates would pass"
    await say(bot, "declare pay@1.0 at 2026-12-04 10:00")
    await say(bot, "risk pay@1.0 low a risk of another release")
    elsewhere = await say(bot, "gate checkout@2.4.0 if accept R2")
    assert elsewhere.tone is Tone.ERROR
    assert elsewhere.title == "R2 is a risk of pay@1.0, not of checkout@2.4.0"
    assert store.data.releases["checkout@2.4.0"].state is State.PLANNED  # a dry run
    await say(bot, "decide R1 accept warm-up script ships in the same release", ENG)
    assert store.data.releases["checkout@2.4.0"].state is State.APPROVED
    log = await say(bot, "decisions checkout@2.4.0")
    lines = log.sections[0].lines
    assert lines[0].endswith(" R1 blocker by quinn: no cache warm-up yet")
    assert lines[1].endswith(" R1 accept by erin: warm-up script ships in the same release")


async def test_a_blocker_stops_a_deploy_even_where_the_class_names_no_gates(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare a@1 at 2026-12-03 14:00 class standard")
    assert store.data.releases["a@1"].state is State.APPROVED  # nothing required
    await say(bot, "risk a@1 high schema change is not reversible")
    await say(bot, "decide R1 blocker no rollback plan", QA)
    assert store.data.releases["a@1"].state is State.PLANNED
    card = await say(bot, "status a@1")
    assert "✗ blocker risk R1 is open" in card.sections[1].lines
    refused = await say(bot, "deploy a@1")
    assert refused.tone is Tone.ERROR and "blocker risk R1 is open" in refused.title
    assert store.data.releases["a@1"].state is State.PLANNED
    report = await say(bot, "gate a@1")
    assert report.title == "Gates for a@1: fail"
    dry = await say(bot, "gate a@1 if accept R1")
    assert dry.title == "If you accept R1: gates would pass"
    await say(bot, "decide R1 accept rollback plan written", ENG)
    assert store.data.releases["a@1"].state is State.APPROVED
    card = await say(bot, "status a@1")
    assert card.sections[1].lines == ("none for this class",)
    deployed = await say(bot, "deploy a@1")
    assert deployed.tone is not Tone.ERROR
    assert store.data.releases["a@1"].state is State.DEPLOYING


async def test_a_blocker_risk_stops_a_deploy_even_where_the_policy_allows_open_blockers(
    store: MemoryStore, clock: ManualClock
) -> None:
    allowing = {
        "classes": {"standard": {}, "normal": {"gates": {"max_open_blockers": 1}}, "emergency": {}}
    }
    policy = parse_policy({**allowing, "roles": {"qa": [QA.principal]}})
    bot = ReleaseBot(unit_of_work=store, clock=clock, policy=lambda: policy)
    await say(bot, "declare a@1 at 2026-12-03 14:00")
    await say(bot, "risk a@1 high no rollback plan")
    await say(bot, "decide R1 blocker not until we have one", QA)
    assert "✓ max_open_blockers: open blockers 1 ≤ 1" in plain_text(await say(bot, "gate a@1"))
    refused = await say(bot, "deploy a@1")  # that gate passes, yet the blocker stops the deploy
    assert refused.tone is Tone.ERROR
    assert "blocker risk R1 is open" in refused.title
    assert store.data.releases["a@1"].state is State.PLANNED


async def test_an_accepted_risk_that_expires_is_open_again(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await say(bot, "declare a@1 at 2026-12-10 10:00")
    await say(bot, "risk a@1 low flaky test")
    await say(bot, "decide R1 accept until tomorrow 12:00 known flake", QA)
    assert "accepted by quinn: known flake" in plain_text(await say(bot, "status a@1"))
    clock.advance(timedelta(days=2))
    assert "R1 [low] flaky test — open" in plain_text(await say(bot, "status a@1"))


async def test_defer_moves_the_risk_to_the_next_release_of_the_train(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare a@1 at 2026-12-03 10:00 train public")
    await say(bot, "declare a@2 at 2026-12-10 10:00 train public")
    await say(bot, "risk a@1 medium old API still used")
    reply = await say(bot, "decide R1 defer ride the next train", QA)
    assert "moved to a@2" in reply.notes[0]
    assert "R1 [medium] old API still used — open" in plain_text(await say(bot, "status a@2"))
    assert "none recorded" in plain_text(await say(bot, "status a@1"))
    await say(bot, "declare b@1 at 2026-12-03 10:00")
    await say(bot, "risk b@1 low lonely")
    await say(bot, "decide R2 defer later", QA)
    listing = await say(bot, "list")
    assert listing.sections[-1].lines == (
        "R2 [low] lonely (from b@1, waits for the next release of b)",
    )
    # A listing narrowed to a train or service shows only the risks it would take.
    assert "R2" not in plain_text(await say(bot, "list service a"))
    assert "R2" in plain_text(await say(bot, "list service b"))


async def test_a_decision_said_again_is_recorded_once_and_a_deferral_moves_the_risk_once(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    for version, day in (("1", 3), ("2", 10), ("3", 17)):
        await say(bot, f"declare a@{version} at 2026-12-{day:02d} 10:00 train public")
    await say(bot, "risk a@1 medium old API still used")
    await say(bot, "decide R1 defer ride the next train", QA)
    audited = len(store.data.audit)

    again = await say(bot, "decide R1 defer ride the next train", QA)

    assert again.title == "Nothing changed: you already made that decision on R1"
    assert again.summary == "defer: ride the next train"
    assert again.tone is not Tone.ERROR
    assert store.data.tables.risks[1].release == "a@2"  # not moved on to a@3
    assert len(store.data.tables.decisions) == 1 and len(store.data.audit) == audited
    # Another reason, or another person, is a decision of its own.
    await say(bot, "decide R1 accept the old API is gone by then", QA)
    await say(bot, "decide R1 accept the old API is gone by then", ENG)
    assert len(store.data.tables.decisions) == 3


async def test_an_acceptance_until_a_relative_time_said_again_at_once_is_recorded_once(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await say(bot, "declare a@1 at 2026-12-03 10:00")
    await say(bot, "risk a@1 high cache stampede")
    await say(bot, "decide R1 accept until +2h warm-up lands", QA)
    clock.advance(timedelta(seconds=3))  # a second click, a retried form

    again = await say(bot, "decide R1 accept until +2h warm-up lands", QA)

    assert again.title == "Nothing changed: you already made that decision on R1"
    assert len(store.data.tables.decisions) == 1
    clock.advance(timedelta(hours=1))  # the same words an hour on renew it from then
    await say(bot, "decide R1 accept until +2h warm-up lands", QA)
    assert len(store.data.tables.decisions) == 2


async def test_a_deferred_risk_shows_on_the_open_huddle_card_of_the_release_it_moves_to(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare a@1 at 2026-12-03 10:00 train public")
    await say(bot, "declare a@2 at 2026-12-10 10:00 train public")
    await say(bot, "huddle a@2 what rides along?")
    await store.save_card(CardRef("huddle:1", "slack", "C0RELEASES", "2.2"))
    await say(bot, "risk a@1 medium old API still used")

    await say(bot, "decide R1 defer ride the next train", QA)

    (update,) = [
        q.message for q in store.data.outbox if q.message.target == "2.2"
    ]  # the huddle card of a@2, replaced in place
    assert update.kind is Delivery.UPDATE
    assert "R1 [medium] old API still used — open" in plain_text(update.reply)
    assert [a.label for a in update.reply.actions] == [
        "R1: Blocker",
        "R1: Accept risk",
        "R1: Defer",
    ]


async def test_a_release_promoted_onto_the_train_takes_the_risks_waiting_for_it(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare d@2 at 2026-12-03 10:00 train t1")
    await say(bot, "risk d@2 critical payments may double-charge")
    await say(bot, "decide R1 defer not in this one", QA)
    await say(bot, "declare d@3 at 2026-12-10 10:00 train canary")

    card = await say(bot, "promote d@3 t1")

    assert "Deferred risk R1 from d@2 moves to this release" in card.notes
    assert "R1 [critical] payments may double-charge — open" in plain_text(card)
    assert store.data.tables.risks[1].release == "d@3"
    assert "risk_moved" in [e.action for e in store.data.audit]


async def test_a_release_promoted_away_does_not_take_back_its_own_deferred_risk(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare d@2 at 2026-12-03 10:00 train t1")
    await say(bot, "risk d@2 critical payments may double-charge")
    await say(bot, "decide R1 defer not in this one", QA)

    card = await say(bot, "promote d@2 t2")

    assert not any("Deferred risk" in note for note in card.notes)
    assert store.data.tables.risks[1].release is None  # still waiting for t1's next release


async def test_a_risk_deferred_with_no_next_release_goes_to_the_next_one_declared(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare d@2 at 2026-12-03 10:00 train t1")
    await say(bot, "risk d@2 critical payments may double-charge")
    deferred = await say(bot, "decide R1 defer not in this one", QA)
    assert deferred.notes[0].endswith("(waits for the next release)")
    await say(bot, "declare other@1 at 2026-12-05 10:00 train t2")  # another train
    await say(bot, "declare d@2.1 at 2026-12-06 10:00")  # same service, but on no train
    assert "R1 [critical]" in plain_text(await say(bot, "list"))  # still waiting
    card = await say(bot, "declare d@3 at 2026-12-10 10:00 train t1")
    assert "Deferred risk R1 from d@2 moves to this release" in card.notes
    assert "R1 [critical] payments may double-charge — open" in plain_text(card)
    assert "✗ open criticals 1 > 0" in plain_text(card)  # open again: the gates count it
    [moved] = [e for e in store.data.audit if e.action == "risk_moved"]
    assert (moved.release, moved.detail) == (
        "d@3",
        {"risk": "R1", "from": "d@2", "moved_to": "d@3"},
    )
    assert "Deferred risks" not in plain_text(await say(bot, "list"))
    accepted = await say(bot, "decide R1 accept refunds are idempotent now", QA)
    assert accepted.tone is not Tone.ERROR


async def test_a_cancelled_release_passes_the_risks_deferred_to_it_on(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare c@1.0 at 2026-12-03 14:00 train public")
    await say(bot, "declare c@1.1 at 2026-12-10 14:00 train public")
    await say(bot, "risk c@1.0 critical double charge on retry")
    await say(bot, "decide R1 defer fix next train", QA)
    await say(bot, "risk c@1.1 low its own typo")

    cancelled = await say(bot, "cancel c@1.1 superseded")

    # Its own risk stays with it; the one it carried waits for the next release of the train.
    assert "Deferred risk R1 waits for the next release of its train" in cancelled.notes
    waiting = "R1 [critical] double charge on retry (from c@1.0, waits for train public)"
    assert waiting in plain_text(await say(bot, "list"))
    assert "R1" not in plain_text(await say(bot, "list train internal"))
    card = await say(bot, "declare c@1.2 at 2026-12-17 14:00 train public")
    assert "R1 [critical] double charge on retry — open" in plain_text(card)
    assert "R2" not in plain_text(card)
    refused = await say(bot, "decide R2 accept whatever", QA)
    assert refused.title == "R2 is on c@1.1, which is cancelled"


async def test_a_risk_carried_by_a_cancelled_release_moves_to_the_next_one_at_once(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    for version, day in (("1.0", 3), ("1.1", 10), ("1.2", 17)):
        await say(bot, f"declare c@{version} at 2026-12-{day:02d} 14:00 train public")
    await say(bot, "risk c@1.0 critical cache stampede")
    await say(bot, "decide R1 defer next train", QA)
    for line, who in (
        ("signal c@1.2 coverage=90", ALICE),
        ("approve c@1.2", QA),
        ("approve c@1.2", ENG),
    ):
        await say(bot, line, who)
    assert store.data.releases["c@1.2"].state is State.APPROVED
    await store.save_card(CardRef("c@1.2", "slack", "C0RELEASES", "1.2"))

    cancelled = await say(bot, "cancel c@1.1 superseded")

    assert "Deferred risk R1 moves to c@1.2" in cancelled.notes
    # c@1.2's gates now count it: approved no more, and its posted card says so.
    assert store.data.releases["c@1.2"].state is State.PLANNED
    [update] = [q.message for q in store.data.outbox if q.message.target == "1.2"]
    assert "R1 [critical] cache stampede — open" in plain_text(update.reply)
    assert "R1 [critical] cache stampede — open" in plain_text(await say(bot, "status c@1.2"))
    moved = [e.detail for e in store.data.audit if e.action == "risk_moved"]
    assert moved[-1] == {"risk": "R1", "from": "c@1.1", "moved_to": "c@1.2", "why": "cancelled"}


async def test_without_a_train_a_risk_defers_to_the_next_release_of_its_service(
    bot: ReleaseBot,
) -> None:
    await say(bot, "declare b@1 at 2026-12-03 10:00")
    await say(bot, "risk b@1 low lonely")
    await say(bot, "decide R1 defer later", QA)
    await say(bot, "declare b@2 at 2026-12-05 10:00 train public")  # rides a train: not b's line
    await say(bot, "declare c@1 at 2026-12-05 10:00")  # another service
    card = await say(bot, "declare b@3 at 2026-12-10 10:00")
    assert "Deferred risk R1 from b@1 moves to this release" in card.notes
    await say(bot, "declare b@4 at 2026-12-17 10:00")
    again = await say(bot, "decide R1 defer still later", QA)
    assert again.notes[0].endswith("(moved to b@4)")


async def test_defer_reaches_a_next_release_that_has_no_date_yet(
    bot: ReleaseBot, clock: ManualClock
) -> None:
    await say(bot, "declare a@1 at 2026-12-03 10:00 train public")
    clock.advance(timedelta(minutes=1))
    await say(bot, "declare a@2 train public")
    await say(bot, "risk a@1 medium old API still used")
    reply = await say(bot, "decide R1 defer ride the next train", QA)
    assert reply.notes[0].endswith("(moved to a@2)")
    assert "R1 [medium] old API still used — open" in plain_text(await say(bot, "status a@2"))


async def test_a_release_a_risk_is_deferred_to_is_approved_no_more_and_its_card_says_so(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare a@1 at 2026-12-03 10:00 train public")
    await green_release(bot, "a@2")  # the next release of the train, approved
    await say(bot, "approve a@2", ENG)
    assert store.data.releases["a@2"].state is State.APPROVED
    await store.save_card(CardRef("a@2", "teams", "19:c@thread.v2", "act-2"))
    await say(bot, "risk a@1 critical double charge")
    await say(bot, "decide R1 defer not in this one", QA)
    assert store.data.releases["a@2"].state is State.PLANNED  # its open criticals gate fails
    [update] = [q.message for q in store.data.outbox if q.message.target == "act-2"]
    assert "✗ open criticals 1 > 0" in plain_text(update.reply)
    assert "R1 [critical] double charge — open" in plain_text(update.reply)


async def test_releases_leaving_together_are_not_each_others_next(bot: ReleaseBot) -> None:
    await say(bot, "declare checkout@2 at 2026-12-03 10:00 train public")
    await say(bot, "declare payments@3 at 2026-12-03 10:00 train public")
    await say(bot, "risk checkout@2 high one")
    await say(bot, "risk payments@3 high two")
    first = await say(bot, "decide R1 defer later", QA)
    second = await say(bot, "decide R2 defer later", QA)
    # Neither leaves after the other: no swapping risks between them.
    assert first.notes[0].endswith("(waits for the next release)")
    assert second.notes[0].endswith("(waits for the next release)")


async def test_an_older_release_left_without_a_date_is_no_next_release(
    bot: ReleaseBot, clock: ManualClock
) -> None:
    await say(bot, "declare a@0.9-rc train public")  # declared first, never scheduled
    clock.advance(timedelta(days=1))
    await say(bot, "declare a@1 at 2026-12-03 10:00 train public")
    await say(bot, "risk a@1 high boom")
    reply = await say(bot, "decide R1 defer later", QA)
    assert reply.notes[0].endswith("(waits for the next release)")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("decide R1 accept", "needs a rationale"),
        ("decide R9 accept fine", "There is no risk R9"),
        ("decide R99999999999999999999 accept x", "R99999999999999999999 is not a risk id I know"),
        (
            "decide R1 accept until 2020-01-01 10:00 fine",
            "The acceptance would have expired already: Wed 1 Jan 2020 10:00 GMT is in the past",
        ),
        ("decide R1 accept until today 12:00 for now", "would have expired already"),
    ],
)
async def test_bad_decisions_change_nothing(
    bot: ReleaseBot, store: MemoryStore, text: str, problem: str
) -> None:
    await say(bot, "declare a@1")
    await say(bot, "risk a@1 low x")
    before = (list(store.data.audit), list(store.data.tables.decisions))
    reply = await say(bot, text, QA)
    assert reply.tone is Tone.ERROR and problem in reply.title
    assert (store.data.audit, store.data.tables.decisions) == before
    button = await bot.handle(c.Decide("R1", "accept", "  "), QA, CHANNEL)
    assert "needs a rationale" in button.title


async def test_deciders_can_be_restricted_by_the_policy(
    store: MemoryStore, clock: ManualClock
) -> None:
    policy = parse_policy(
        {
            "roles": {"qa": ["slack:U0QA00001"]},
            "classes": {"standard": {}, "normal": {"signoffs": ["qa"]}, "emergency": {}},
            "rules": {"restrict_deciders": True},
        }
    )
    bot = ReleaseBot(unit_of_work=store, clock=clock, policy=lambda: policy)
    await say(bot, "declare a@1")
    await say(bot, "risk a@1 low x")
    refused = await say(bot, "decide R1 accept fine", STRANGER)
    assert refused.tone is Tone.ERROR and "Only the owner and the sign-off roles" in refused.title
    assert not store.data.tables.decisions and store.data.audit[-1].action == "refused"
    assert (await say(bot, "decide R1 accept fine", QA)).tone is not Tone.ERROR


async def test_a_risk_the_huddle_deferred_stays_on_its_card_and_in_its_outcome(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare a@1 at 2026-12-03 10:00 train public")
    await say(bot, "declare a@2 at 2026-12-10 10:00 train public")
    await say(bot, "risk a@1 high cache stampede")
    await say(bot, "risk a@1 low typo in banner")
    await say(bot, "huddle a@1 go/no-go")
    await store.save_card(CardRef("huddle:1", "slack", "C0RELEASES", "111.222"))

    await say(bot, "decide R1 defer not this train", QA)

    deferred = "R1 [high] cache stampede — deferred by quinn: not this train (now on a@2)"
    update = store.data.outbox[-1].message
    assert update.target == "111.222" and deferred in plain_text(update.reply)
    assert [a.label for a in update.reply.actions][:1] == ["R2: Blocker"]  # none for R1
    await say(bot, "decide R2 accept cosmetic", QA)
    await say(bot, "huddle close a@1")
    outcome = store.data.outbox[-1].message.reply
    assert deferred in plain_text(outcome)
    assert "R2 [low] typo in banner — accepted by quinn: cosmetic" in plain_text(outcome)


async def test_a_huddle_posts_its_card_updates_it_and_closes_with_the_outcome(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare a@1 at 2026-12-03 10:00")
    await say(bot, "risk a@1 high cache stampede")
    await say(bot, "risk a@1 low typo in banner")
    opened = await say(bot, "huddle a@1 blocker or not?")
    assert opened.title == "Huddle H1 on a@1 opened"
    card = store.data.outbox[-1].message.reply
    assert card.subject == "huddle:1"
    assert [a.label for a in card.actions] == [
        "R1: Blocker",
        "R1: Accept risk",
        "R1: Defer",
        "R2: Blocker",
        "R2: Accept risk",
        "R2: Defer",
    ]
    assert queued(store)[-1] == (Delivery.POST, "slack:C0RELEASES", "Risk huddle H1: a@1")
    assert store.data.outbox[-1].message.remember_as == "huddle:1"
    await store.save_card(CardRef("huddle:1", "slack", "C0RELEASES", "111.222"))
    clicked = c.load(card.actions[0].command)
    assert isinstance(clicked, c.Decide)
    await bot.handle(c.Decide(clicked.risk_id, clicked.outcome, "no warm-up"), QA, CHANNEL)
    update = store.data.outbox[-1].message
    assert (update.kind, update.target) == (Delivery.UPDATE, "111.222")
    assert [a.label for a in update.reply.actions] == [
        "R1: Accept risk",  # a blocker may still be accepted or deferred
        "R1: Defer",
        "R2: Blocker",
        "R2: Accept risk",
        "R2: Defer",
    ]
    closed = await say(bot, "huddle close a@1")
    assert closed.title == "Huddle H1 on a@1 closed"
    outcome = store.data.outbox[-1].message.reply
    assert "R1 [high] cache stampede — blocker by quinn: no warm-up" in plain_text(outcome)
    assert queued(store)[-1] == (Delivery.POST, "slack:C0RELEASES", "Huddle H1 on a@1 closed")


async def test_notes_group_by_kind_and_squad_with_known_issues(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare a@1")
    items = (
        ("Pay by link", "feature", "payments", "https://x/1", "ana", None),
        ("Fix rounding", "fix", "payments", None, None, "2026-11-20T10:00:00+00:00"),
        ("Dark mode", "feature", "web", None, None, None),
    )
    added = await bot.handle(c.AddChanges("a@1", items), ALICE, CHANNEL)
    assert added.title == "3 change item(s) added to a@1"
    await say(bot, "risk a@1 low slow first load")
    await say(bot, "decide R1 accept acceptable for a week", QA)
    notes = await say(bot, "notes a@1")
    assert [s.title for s in notes.sections] == [
        "Features · payments",
        "Features · web",
        "Fixes · payments",
        "Known issues",
    ]
    assert notes.sections[0].lines == ("Pay by link (ana) https://x/1",)
    published = await say(bot, "notes a@1 publish")
    assert published.title == "Release notes of a@1 published"
    assert queued(store)[-1] == (Delivery.POST, "slack:C0RELEASES", "Release notes: a@1")


async def test_state_changes_that_matter_are_announced(
    store: MemoryStore, clock: ManualClock
) -> None:
    policy = parse_policy(
        {
            "classes": {"standard": {}, "normal": {}, "emergency": {}},
            "announcements": "teams:19:news@thread.v2",
        }
    )
    bot = ReleaseBot(unit_of_work=store, clock=clock, policy=lambda: policy)
    await say(bot, "declare a@1 class standard")
    await say(bot, "deploy a@1")
    await say(bot, "rollback a@1 errors spiking")
    titles = [(where, title) for _, where, title in queued(store)]
    assert titles == [
        ("slack:C0RELEASES", "a@1 is approved"),
        ("teams:19:news@thread.v2", "a@1 is approved"),
        ("slack:C0RELEASES", "a@1 is deploying"),
        ("teams:19:news@thread.v2", "a@1 is deploying"),
        ("slack:C0RELEASES", "a@1 was rolled back"),
        ("teams:19:news@thread.v2", "a@1 was rolled back"),
    ]
    assert store.data.outbox[-1].message.reply.summary == "errors spiking"


async def test_posted_release_cards_are_updated_through_the_outbox(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare a@1 at 2026-12-03 10:00")
    await store.save_card(CardRef("a@1", "teams", "19:c@thread.v2", "act-1"))
    await say(bot, "approve a@1", QA)
    update = store.data.outbox[-1].message
    assert (update.kind, str(update.conversation), update.target) == (
        Delivery.UPDATE,
        "teams:19:c@thread.v2",
        "act-1",
    )
    assert "✓ qa: approved by quinn" in plain_text(update.reply)
    assert Conversation("teams", "19:c@thread.v2") == update.conversation


async def test_an_acceptance_from_a_dialog_may_carry_its_expiry(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await say(bot, "declare a@1 at 2026-12-10 10:00")
    await say(bot, "risk a@1 low flaky test")
    await bot.handle(c.Decide("R1", "accept", "until tomorrow 12:00 known flake"), QA, CHANNEL)
    [decision] = store.data.tables.decisions
    assert decision.rationale == "known flake" and decision.expires_at is not None
    clock.advance(timedelta(days=2))
    assert "R1 [low] flaky test — open" in plain_text(await say(bot, "status a@1"))
    bad = await bot.handle(c.Decide("R1", "accept", "until someday fine"), QA, CHANNEL)
    assert bad.tone is Tone.ERROR and "not a time I can read" in bad.title
