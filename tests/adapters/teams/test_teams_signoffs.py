"""Sign-offs from Teams over real HTTP: a click is answered in the invoke body, and every posted
copy of the release card is replaced (PUT) at the fake connector, through the outbox.

Refused clicks tell only the clicker: HTTP 200 with the current card and the refusal on top, at
most one `refused` audit event, nothing queued in the outbox and no request at all to the
connector. Nothing queued is read from the store, so "no PUT" does not depend on timing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.clock import ManualClock
from adapters.teams import cards
from bot.domain import Actor
from bot.signoffs import Verdict
from storage.base import CardRef
from storage.memory import MemoryStore
from tests.support.fake_connector import FakeConnector
from tests.support.server import RunningBot
from tests.support.teams_activities import (
    CHANNEL,
    PERSONAL,
    TeamsClient,
    activity,
    card_text,
    execute,
    mentioning_bot,
)

RELEASE = "checkout@2.4.0"
ADA = "teams:6a3a8f2c-4b1e-4c2d-9e8f-00000000a001"  # qa in the demo policy
GRACE_AAD = "0f1e2d3c-4b5a-4697-8877-665544332211"  # in no role of the demo policy
GRACE = f"teams:{GRACE_AAD}"


@dataclass(frozen=True)
class Posted:
    """A card the bot posted: its content, the id the connector gave it, where it is."""

    card: dict[str, Any]
    id: str
    conversation: dict[str, Any]


async def declare(teams: TeamsClient, *, owner: str | None = GRACE) -> Posted:
    text = f"declare {RELEASE} at 2026-12-03 14:00" + (f" owner {owner}" if owner else "")
    payload = activity(CHANNEL, teams.connector.service_url, text=mentioning_bot(text))
    reply = await teams.send(payload)
    assert reply.sent_id is not None
    return Posted(reply.cards[0], reply.sent_id, payload["conversation"])


def button(card: dict[str, Any], title: str, reason: str | None = None) -> dict[str, Any]:
    """The data a click on `title` sends; for a button with an input, with `reason` typed."""
    action = next(a for a in card.get("actions", []) if a["title"] == title)
    if action["type"] == "Action.Execute":
        return dict(action["data"])
    form = action["card"]  # Action.ShowCard: the input, then the Execute that sends it
    data = dict(form["actions"][0]["data"])
    if reason is not None:  # Teams merges what was typed into the data, under the input's id
        data[form["body"][0]["id"]] = reason
    return data


def click(teams: TeamsClient, posted: Posted, data: dict[str, Any], by: str = ADA) -> Any:
    """The invoke Teams sends when `by` clicks a button of `posted`."""
    payload = execute(teams.connector.service_url, data)
    payload["conversation"] = posted.conversation
    payload["replyToId"] = posted.id
    if by != ADA:
        aad = by.removeprefix("teams:")
        payload["from"] = {"id": f"29:{aad}", "name": "Grace Hopper", "aadObjectId": aad}
    return payload


def titles(card: dict[str, Any]) -> list[str]:
    return [action["title"] for action in card.get("actions", [])]


def put_of(posted: Posted) -> Any:
    return lambda r: r.method == "PUT" and r.activity_id == posted.id


async def test_approve_click_answers_with_the_new_card_and_puts_it_for_everyone(
    teams: TeamsClient, store: MemoryStore, connector: FakeConnector
) -> None:
    posted = await declare(teams)
    assert store.data.cards == [CardRef(RELEASE, "teams", posted.conversation["id"], posted.id)]

    card = await teams.invoke(click(teams, posted, button(posted.card, "Approve as qa")))

    assert "✓ qa: approved by Ada Lovelace" in card_text(card)
    assert titles(card) == ["Approve as eng", "Reject as eng"]  # qa is decided: no qa buttons
    put = await connector.wait_for(put_of(posted))
    assert put.path == f"/v3/conversations/{posted.conversation['id']}/activities/{posted.id}"
    assert (put.status, put.body["id"], put.body.get("replyToId")) == (200, posted.id, None)
    assert put.cards == [card]  # everyone's copy is what the clicker was shown
    [signoff] = store.data.tables.signoffs
    assert (signoff.role, signoff.principal, signoff.verdict) == ("qa", ADA, Verdict.APPROVED)
    assert [e.action for e in store.data.audit] == ["declared", "signed_off"]
    assert (store.data.audit[-1].actor, store.data.audit[-1].surface) == (ADA, "teams")
    assert len(connector.updated()) == 1 and len(connector.posted()) == 1


async def assert_told_only_the_clicker(
    teams: TeamsClient, server: RunningBot, payload: dict[str, Any], why: str, *, audited: bool
) -> dict[str, Any]:
    """Click; the clicker gets the current card with `why` on top, and nothing else happens."""
    store, connector = server.components.store.inner, teams.connector  # type: ignore[attr-defined]
    assert isinstance(store, MemoryStore)
    # A card update the connector has answered may not be recorded as delivered yet.
    await server.components.store.settled()  # type: ignore[attr-defined]
    before = (store.data.releases[RELEASE], list(store.data.tables.signoffs), len(store.data.audit))
    sent_before = len(connector.requests)

    card = await teams.invoke(payload)

    notice, *rest = card["body"]
    assert notice["type"] == "Container" and why in card_text({"body": [notice]})
    current = cards.render(await server.components.cards.current(RELEASE))
    assert (rest, card.get("actions")) == (current["body"], current.get("actions"))
    after = (store.data.releases[RELEASE], list(store.data.tables.signoffs))
    assert after == before[:2]
    new_events = store.data.audit[before[2] :]
    assert [e.action for e in new_events] == (["refused"] if audited else [])
    assert await store.outbox_depth() == (0, 0)  # nothing queued: only the clicker knows
    assert len(connector.requests) == sent_before
    return notice


async def test_the_owner_clicking_approve_is_refused(
    teams: TeamsClient, server: RunningBot, store: MemoryStore
) -> None:
    posted = await declare(teams, owner=None)  # Ada declares, so Ada owns it
    payload = click(teams, posted, button(posted.card, "Approve as qa"))

    notice = await assert_told_only_the_clicker(
        teams, server, payload, "forbids signing off your own release", audited=True
    )

    assert notice["style"] == "attention"
    assert store.data.audit[-1].detail["attempt"] == "approve"
    assert store.data.audit[-1].actor == ADA


async def test_a_non_member_clicking_approve_is_refused(
    teams: TeamsClient, server: RunningBot, store: MemoryStore
) -> None:
    posted = await declare(teams, owner=ADA)
    payload = click(teams, posted, button(posted.card, "Approve as qa"), by=GRACE)

    await assert_told_only_the_clicker(
        teams, server, payload, "You are not a member of the qa role", audited=True
    )

    assert store.data.audit[-1].actor == GRACE


async def test_a_second_identical_click_changes_nothing(
    teams: TeamsClient, server: RunningBot, connector: FakeConnector
) -> None:
    posted = await declare(teams)
    approve = click(teams, posted, button(posted.card, "Approve as qa"))
    await teams.invoke(approve)
    await connector.wait_for(put_of(posted))

    notice = await assert_told_only_the_clicker(
        teams, server, dict(approve), "Nothing changed: you already approved as qa", audited=False
    )

    assert notice["style"] == "emphasis"  # not an error: the click had already worked
    assert len(connector.updated()) == 1


TWO_ROLES = """
timezone: Europe/London
roles:
  qa: ["teams:6a3a8f2c-4b1e-4c2d-9e8f-00000000a001"]
  eng: ["teams:6a3a8f2c-4b1e-4c2d-9e8f-00000000a001", "console:eng"]
classes:
  standard: {}
  normal: {signoffs: [qa, eng], gates: {}}
  emergency: {}
rules: {forbid_self_approval: true}
"""


class TestOnePersonInTwoRoles:
    @pytest.fixture
    def bot_env(self, tmp_path: Path) -> dict[str, str]:
        policy = tmp_path / "policy.yaml"
        policy.write_text(TWO_ROLES, encoding="utf-8")
        return {"TEAMS_ALLOW_UNAUTHENTICATED": "1", "RELEASEBOT_POLICY_FILE": str(policy)}

    async def test_signing_a_second_role_is_refused(
        self, teams: TeamsClient, server: RunningBot, connector: FakeConnector
    ) -> None:
        posted = await declare(teams)
        card = await teams.invoke(click(teams, posted, button(posted.card, "Approve as qa")))
        await connector.wait_for(put_of(posted))
        payload = click(teams, posted, button(card, "Approve as eng"))

        why = "You already signed as qa; one person fills one role"
        await assert_told_only_the_clicker(teams, server, payload, why, audited=True)


async def test_reject_through_the_card_input_records_the_reason_everywhere(
    teams: TeamsClient, store: MemoryStore, connector: FakeConnector
) -> None:
    posted = await declare(teams)
    data = button(posted.card, "Reject as qa", reason="  coverage is 60%, see QA-17 ")

    card = await teams.invoke(click(teams, posted, data))

    assert "✗ qa: rejected by Ada Lovelace — coverage is 60%, see QA-17" in card_text(card)
    assert "State: planned" in card_text(card)
    put = await connector.wait_for(put_of(posted))
    assert put.cards == [card]
    [signoff] = store.data.tables.signoffs
    assert (signoff.verdict, signoff.note) == (Verdict.REJECTED, "coverage is 60%, see QA-17")
    event = store.data.audit[-1]
    assert event.action == "signed_off"
    assert event.detail == {"role": "qa", "verdict": "rejected", "note": signoff.note}


@pytest.mark.parametrize("typed", ["", "   ", None])
async def test_reject_with_no_reason_is_refused_with_a_clear_message(
    teams: TeamsClient, server: RunningBot, typed: str | None
) -> None:
    posted = await declare(teams)
    payload = click(teams, posted, button(posted.card, "Reject as qa", reason=typed))

    await assert_told_only_the_clicker(
        teams, server, payload, "A reason is required to reject", audited=False
    )


async def test_a_decision_made_elsewhere_puts_the_teams_card(
    teams: TeamsClient, server: RunningBot, connector: FakeConnector
) -> None:
    posted = await declare(teams)
    console = Actor("console:eng", "Eve from eng", "console")

    reply = await server.components.bot.handle_text(f"approve {RELEASE} as eng", console)

    assert reply.subject == RELEASE  # the core queued the card's update; the outbox PUTs it
    put = await connector.wait_for(put_of(posted))
    assert "✓ eng: approved by Eve from eng" in card_text(put.cards[0])
    assert "Approve as eng" not in titles(put.cards[0])


async def test_the_text_twin_posts_a_new_card_and_puts_the_earlier_one(
    teams: TeamsClient, store: MemoryStore, connector: FakeConnector
) -> None:
    posted = await declare(teams)

    reply = await teams.say(CHANNEL, mentioning_bot(f"approve {RELEASE} as qa"))

    put = await connector.wait_for(put_of(posted))
    assert "✓ qa: approved by Ada Lovelace" in card_text(put.cards[0])
    assert reply.sent_id is not None
    assert CardRef(RELEASE, "teams", posted.conversation["id"], reply.sent_id) in store.data.cards
    assert [r.activity_id for r in connector.updated()] == [posted.id]  # the new one is current


async def test_every_posted_copy_is_put_after_a_click(
    teams: TeamsClient, store: MemoryStore, connector: FakeConnector
) -> None:
    posted = await declare(teams)
    status = await teams.say(PERSONAL, f"status {RELEASE}")  # a copy in a personal chat
    assert status.sent_id is not None and len(store.data.cards) == 2

    card = await teams.invoke(click(teams, posted, button(posted.card, "Approve as qa")))

    for copy in (posted.id, status.sent_id):
        await connector.wait_for(lambda r, copy=copy: r.method == "PUT" and r.activity_id == copy)
    updated = {(r.conversation_id, r.activity_id): r.cards for r in connector.updated()}
    assert updated == {
        (posted.conversation["id"], posted.id): [card],
        (status.conversation_id, status.sent_id): [card],
    }


async def test_a_throttled_put_waits_out_retry_after_and_the_click_is_answered_at_once(
    teams: TeamsClient,
    clock: ManualClock,
    store: MemoryStore,
    connector: FakeConnector,
    deliver: Callable[[], Awaitable[None]],
) -> None:
    posted = await declare(teams)
    connector.fail_next(1, status=429, retry_after="30", when=lambda method, _: method == "PUT")

    card = await teams.invoke(click(teams, posted, button(posted.card, "Approve as qa")))

    assert "✓ qa: approved by Ada Lovelace" in card_text(card)  # the clicker does not wait
    await deliver()
    clock.advance(timedelta(seconds=29))
    await deliver()
    assert [r.status for r in connector.updated()] == [429]  # Retry-After is not over yet
    clock.advance(timedelta(seconds=1))
    await deliver()
    assert [(r.status, r.cards) for r in connector.updated()] == [(429, [card]), (200, [card])]
    assert len(store.data.tables.signoffs) == 1
