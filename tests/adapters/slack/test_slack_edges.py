"""The pure edges: Slack text → command text, request signing, and bolt's form-body bug."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from adapters.slack.endpoint import SlackRequest
from adapters.slack.text import command_text, from_slack
from tests.support.fake_slack import FIXTURES
from tests.support.slack_requests import fixture, sign

FORM = {"content-type": ["application/x-www-form-urlencoded"]}


@pytest.mark.parametrize(
    ("slack", "command"),
    [
        ("<@U04RELBOT01> status payments-api@1", "status payments-api@1"),
        ("<@U04RELBOT01|releasebot>: help", "help"),
        ("declare a@1 owner <@U0BOB0001|bob>", "declare a@1 owner slack:U0BOB0001"),
        ("declare a@1 owner <@W0BOB0001>", "declare a@1 owner slack:W0BOB0001"),
        (
            "risk a@1 low see <https://x.example/i/1|the issue>",
            "risk a@1 low see https://x.example/i/1",
        ),
        ("risk a@1 low &lt;b&gt; &amp; c &amp;lt;", "risk a@1 low <b> & c &lt;"),
        # What Slack links by itself stays what was typed.
        (
            "declare web@1.0 owner email:<mailto:bob@example.com|bob@example.com>",
            "declare web@1.0 owner email:bob@example.com",
        ),
        ("status <http://api.example.com|api.example.com>@1.0", "status api.example.com@1.0"),
        ("risk a@1 low see <https://x.example/i/1>", "risk a@1 low see https://x.example/i/1"),
    ],
)
def test_slack_markup_becomes_command_text(slack: str, command: str) -> None:
    assert command_text(slack) == command


def test_only_a_leading_mention_is_the_address() -> None:
    assert from_slack("<@U04RELBOT01> hi") == "slack:U04RELBOT01 hi"
    assert command_text("approve a@1 <@U04RELBOT01>") == "approve a@1 slack:U04RELBOT01"


def test_signing_reproduces_slacks_documented_example() -> None:
    vector = json.loads((FIXTURES / "signature_test_vector.json").read_text())
    secret, timestamp = vector["signing_secret"], vector["x_slack_request_timestamp"]

    signature = sign(secret, timestamp, vector["raw_body"])

    assert signature == vector["x_slack_signature"]
    sdk = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=vector["raw_body"])
    assert signature == sdk


def test_a_slash_command_mentioning_payload_keeps_its_body_and_raw_bytes() -> None:
    fields = {**fixture("slash_command_release.json"), "text": "declare payload-api@1.0"}
    raw = urlencode(fields)

    request = SlackRequest(body=raw, headers=FORM)

    assert request.raw_body == raw
    assert request.body["text"] == "declare payload-api@1.0"
    assert request.context.user_id == fields["user_id"]
    assert request.context.channel_id == fields["channel_id"]
    assert request.context.response_url == fields["response_url"]
    assert request.to_copyable().body["text"] == "declare payload-api@1.0"


def test_an_interactivity_payload_is_still_read_as_one() -> None:
    payload = fixture("interactivity_block_actions_approve.json")
    raw = "payload=" + quote(json.dumps(payload))

    request = SlackRequest(body=raw, headers=FORM)

    assert request.body["type"] == "block_actions"
    assert request.context.user_id == payload["user"]["id"]
