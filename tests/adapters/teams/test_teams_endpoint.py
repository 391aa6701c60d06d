"""/api/messages itself: who gets in, what a body that is no activity gets, and what a failing
connector does to the person who asked."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from adapters.clock import ManualClock
from storage.memory import MemoryStore
from tests.support.fake_connector import FakeConnector
from tests.support.server import RunningBot, running_bot
from tests.support.teams_activities import (
    CHANNEL,
    EXECUTE,
    INSTALLED,
    PERSONAL,
    TeamsClient,
    activity,
    card_text,
    mentioning_bot,
)

APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
CREDENTIALS = {"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": "x"}


def unsigned_jwt(claims: dict[str, object]) -> str:
    """A well-formed token no one signed: checking it needs no key download."""

    def part(data: dict[str, object]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT', 'kid': 'k1'})}.{part(claims)}.c2ln"


@pytest.fixture
async def guarded(
    tmp_path: Path,
    clock: ManualClock,
    store: MemoryStore,
    session: aiohttp.ClientSession,
    connector: FakeConnector,
) -> AsyncIterator[TeamsClient]:
    """The bot with Teams credentials set: inbound tokens are checked."""
    async with running_bot(CREDENTIALS, cwd=tmp_path, clock=clock, store=store) as running:
        yield TeamsClient(session=session, bot_url=running.url, connector=connector)


FORGED = [
    pytest.param(None, id="no-authorization"),
    pytest.param("Bearer", id="bearer-without-token"),
    pytest.param("Basic dXNlcjpwYXNz", id="basic"),
    pytest.param("Bearer not-a-jwt", id="malformed-token"),
    pytest.param("Bearer " + unsigned_jwt({"aud": APP_ID}), id="token-without-issuer"),
    pytest.param(
        "Bearer " + unsigned_jwt({"iss": "https://evil.example", "aud": APP_ID}),
        id="foreign-issuer",
    ),
]


@pytest.mark.parametrize("authorization", FORGED)
@pytest.mark.parametrize("fixture_name", [PERSONAL, CHANNEL, INSTALLED, EXECUTE])
async def test_with_credentials_an_activity_without_a_valid_token_is_refused_401(
    guarded: TeamsClient,
    store: MemoryStore,
    authorization: str | None,
    fixture_name: str,
) -> None:
    payload = activity(fixture_name, guarded.connector.service_url)
    if fixture_name == CHANNEL:
        payload["text"] = mentioning_bot("declare checkout@2.4.0")
    headers = {"Authorization": authorization} if authorization else None

    answer = await guarded.post(payload, headers=headers)

    assert answer.status == 401
    assert store.data.releases == {} and store.data.audit == []
    assert store.data.conversation_refs == {}
    assert guarded.connector.requests == []


async def test_unauthenticated_mode_is_logged_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"TEAMS_ALLOW_UNAUTHENTICATED": "1"}
    with caplog.at_level(logging.WARNING, logger="adapters.teams.endpoint"):
        async with running_bot(env, cwd=tmp_path, store=MemoryStore()):
            pass

    warnings = [r for r in caplog.records if r.name == "adapters.teams.endpoint"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert "WITHOUT authentication" in warnings[0].getMessage()


async def test_with_credentials_nothing_is_said_about_unauthenticated_mode(
    guarded: TeamsClient, caplog: pytest.LogCaptureFixture
) -> None:
    started = caplog.get_records("setup")  # the bot was started by the `guarded` fixture

    assert any(r.name == "adapters.http" for r in started)  # the capture did see the start-up
    assert not any("WITHOUT authentication" in r.getMessage() for r in started)


NOT_AN_ACTIVITY = [
    pytest.param("text/plain", "help", 415, id="not-json"),
    pytest.param("application/json", "{not json", 400, id="broken-json"),
    pytest.param("application/json", "[1, 2]", 400, id="json-array"),
    pytest.param("application/json", '{"text": "help"}', 400, id="no-type"),
    pytest.param("application/json", '{"type": "message", "from": "me"}', 400, id="bad-field"),
]


@pytest.mark.parametrize(("content_type", "body", "status"), NOT_AN_ACTIVITY)
async def test_a_body_that_is_no_activity_gets_a_4xx_not_a_500(
    teams: TeamsClient, store: MemoryStore, content_type: str, body: str, status: int
) -> None:
    url = f"{teams.bot_url}/api/messages"
    headers = {"Content-Type": content_type}

    async with teams.session.post(url, data=body, headers=headers) as response:
        assert response.status == status
    assert store.data.conversation_refs == {}
    assert teams.connector.requests == []


@pytest.mark.parametrize("fault", [429, 500])
async def test_when_the_answer_is_refused_the_outbox_delivers_it_later(
    teams: TeamsClient, server: RunningBot, clock: ManualClock, fault: int
) -> None:
    teams.connector.fail_next(1, status=fault, retry_after="3")
    payload = activity(PERSONAL, teams.connector.service_url, text="help")

    answer = await teams.post(payload)

    assert answer.status == 201  # not a 500, and no "sorry": the answer is only late
    [refused] = teams.connector.posted()
    assert refused.status == fault and refused.activity_id == payload["id"]
    clock.advance(timedelta(seconds=3))  # past the Retry-After, and past the 500's back-off
    await server.components.delivery.run_once()
    late = await teams.connector.wait_for(lambda r: r.method == "POST" and r.status == 201)
    assert late.path == f"/v3/conversations/{payload['conversation']['id']}/activities"
    assert late.cards == refused.cards  # the same help card, as a new message
    assert len(teams.connector.posted()) == 2


async def test_a_failure_on_our_side_gets_a_short_answer_not_silence(
    teams: TeamsClient, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("the store is down")

    monkeypatch.setattr(store, "save_conversation_ref", broken)
    payload = activity(PERSONAL, teams.connector.service_url, text="help")

    answer = await teams.post(payload)
    card = await teams.invoke(activity(EXECUTE, teams.connector.service_url))

    assert answer.status == 201
    [sorry] = teams.connector.posted()
    assert sorry.activity_id == payload["id"]
    assert sorry.body["text"].startswith("Sorry, something went wrong")
    assert "Sorry, something went wrong" in card_text(card)


async def test_the_fake_connector_throttles_with_retry_after(teams: TeamsClient) -> None:
    teams.connector.fail_next(1, status=429, retry_after="7")
    url = f"{teams.connector.url}/v3/conversations/a%3A1/activities"

    async with teams.session.post(url, json={"type": "message"}) as throttled:
        assert (throttled.status, throttled.headers["Retry-After"]) == (429, "7")
    async with teams.session.post(url, json={"type": "message"}) as accepted:
        assert accepted.status == 201 and "id" in await accepted.json()
    assert [r.conversation_id for r in teams.connector.requests] == ["a:1", "a:1"]


async def test_error_cards_name_the_problem(teams: TeamsClient) -> None:
    reply = await teams.say(PERSONAL, "status")

    assert "The release is missing" in card_text(reply.cards[0])
    assert "Usage: status <service@version>" in card_text(reply.cards[0])
