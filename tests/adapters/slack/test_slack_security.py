"""Only Slack gets in: forged or stale requests are refused before anything happens."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import FORM, JSON, SlackSender, fixture

if TYPE_CHECKING:
    from .conftest import Snapshot


@pytest.mark.parametrize(
    "signing",
    [{"forge": True}, {"stale": True}, {"signed": False}],
    ids=["forged-signature", "stale-timestamp", "unsigned"],
)
async def test_a_request_not_signed_by_slack_now_is_refused_and_changes_nothing(
    slack: SlackSender, fake: FakeSlack, snapshot: Snapshot, signing: dict[str, bool]
) -> None:
    before = snapshot()

    answer = await slack.slash("declare evil@6.6.6", **signing)

    assert answer.status == 401
    # A signed read that follows it is answered, and finds nothing.
    status = (await slack.slash("status evil@6.6.6")).json()
    assert "There is no release evil@6.6.6" in status["blocks"][0]["text"]["text"]
    assert snapshot() == before
    assert fake.api_calls("chat.postMessage") == []
    assert fake.responses() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": "abc"},
        {"X-Slack-Request-Timestamp": "1.5"},
        {"X-Slack-Request-Timestamp": "²"},
        {"X-Slack-Signature": "v0=ÿ"},
        {"X-Slack-Request-Timestamp": "9" * 5000},
    ],
    ids=[
        "word-timestamp",
        "fraction-timestamp",
        "superscript-timestamp",
        "non-ascii-signature",
        "five-thousand-digit-timestamp",
    ],
)
async def test_malformed_signature_headers_are_refused_like_a_forgery(
    slack: SlackSender, snapshot: Snapshot, headers: dict[str, str]
) -> None:
    before = snapshot()
    forged = await slack.send("command=%2Frelease&text=declare+evil%406.6.6", FORM, forge=True)

    answer = await slack.send(
        "command=%2Frelease&text=declare+evil%406.6.6", FORM, extra_headers=headers
    )

    assert forged.status == 401
    assert (answer.status, answer.text) == (forged.status, forged.text)
    assert snapshot() == before


async def test_url_verification_echoes_the_challenge(slack: SlackSender) -> None:
    challenge = fixture("event_url_verification.json")

    answer = await slack.send(json.dumps(challenge), JSON)

    assert answer.status == 200
    assert answer.json() == {"challenge": challenge["challenge"]}


async def test_url_verification_is_signed_too(slack: SlackSender) -> None:
    body = '{"type": "url_verification", "challenge": "x"}'

    assert (await slack.send(body, JSON, forge=True)).status == 401


async def test_ssl_check_is_answered_even_unsigned(slack: SlackSender) -> None:
    answer = await slack.send(
        urlencode(fixture("slash_command_ssl_check.json")), FORM, signed=False
    )

    assert (answer.status, answer.text) == (200, "")


async def test_a_body_that_is_not_json_is_refused_plainly(
    slack: SlackSender, snapshot: Snapshot
) -> None:
    before = snapshot()

    answer = await slack.send('{"type": "event_callback", ', JSON, signed=False)

    assert answer.status == 400
    assert snapshot() == before
