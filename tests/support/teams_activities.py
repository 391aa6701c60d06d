"""Teams activities built from ../shared/fixtures/teams, posted to the bot over real HTTP."""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.adaptive_cards import assert_valid_card
from tests.support.fake_connector import ADAPTIVE_CARD, FakeConnector, Recorded

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "teams"
PERSONAL = "01_personal_message.json"
CHANNEL = "02_channel_mention_message.json"
GROUP_CHAT = "03_groupchat_mention_message.json"
SUBMIT = "04_action_submit_message.json"
EXECUTE = "05_action_execute_invoke.json"
BOT_ADDED = "06_conversation_update_bot_added_to_team.json"
INSTALLED = "07_installation_update_add_personal.json"
BOT_MENTION = "<at>ReleaseBot</at>"

_ids = itertools.count(1740000100001)
_UNESCAPE = re.compile(r"\\(.)")


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of a recorded Teams payload; skips, or fails in CI, when it is missing."""
    path = FIXTURES / name
    if not path.is_file():
        reason = f"Teams fixture {path} is missing: shared/ must sit beside the repository"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    payload: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return copy.deepcopy(payload)


def activity(name: str, service_url: str, *, text: str | None = None) -> dict[str, Any]:
    """Fixture `name` addressed to `service_url`, with a fresh id and, if given, new text."""
    payload = fixture(name)
    payload["serviceUrl"] = service_url
    payload["id"] = str(next(_ids))
    if text is not None:
        payload["text"] = text
        payload.pop("attachments", None)  # the HTML copy of the old text would contradict it
    return payload


def mentioning_bot(command: str) -> str:
    """Channel or group-chat text: `@releasebot <command>`, as Teams writes it."""
    return f"{BOT_MENTION} {command}"


def execute(service_url: str, data: Any) -> dict[str, Any]:
    """An `adaptiveCard/action` invoke (Action.Execute click) carrying `data`."""
    payload = activity(EXECUTE, service_url)
    payload["value"]["action"]["data"] = data
    return payload


def pressed(card: dict[str, Any], title: str, typed: str | None = None) -> dict[str, Any]:
    """The data a click on the button `title` of `card` sends; for a button that opens an
    input first (Action.ShowCard), with `typed` in the input, as Teams merges it in."""
    action = next(a for a in card.get("actions", []) if a["title"] == title)
    if action["type"] == "Action.Execute":
        return dict(action["data"])
    form = action["card"]  # the input, then the Execute that sends it
    data = dict(form["actions"][0]["data"])
    if typed is not None:
        data[form["body"][0]["id"]] = typed
    return data


def clicked_on(
    service_url: str, conversation: dict[str, Any], message_id: str, data: Any
) -> dict[str, Any]:
    """The invoke Teams sends when Ada clicks a button of message `message_id`."""
    payload = execute(service_url, data)
    payload["conversation"] = conversation
    payload["replyToId"] = message_id
    return payload


def submit(service_url: str, value: Any) -> dict[str, Any]:
    """An Action.Submit click: a message whose `value` is the button's data."""
    payload = activity(SUBMIT, service_url)
    payload["value"] = value
    return payload


@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class TeamsClient:
    """Posts activities to the bot's /api/messages and finds what it answered."""

    session: aiohttp.ClientSession
    bot_url: str
    connector: FakeConnector

    async def post(self, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
        url = f"{self.bot_url}/api/messages"
        async with self.session.post(url, json=payload, headers=headers) as response:
            text = await response.text()
            body = json.loads(text) if text and "json" in response.content_type else text
            return Answer(response.status, body)

    async def say(self, name: str, text: str) -> Recorded:
        """Post fixture `name` with `text`; return the bot's reply at the connector."""
        payload = activity(name, self.connector.service_url, text=text)
        return await self.send(payload)

    async def send(self, payload: dict[str, Any]) -> Recorded:
        answer = await self.post(payload)
        assert answer.status in (200, 201), answer
        return await self.reply_to(payload)

    async def reply_to(self, payload: dict[str, Any]) -> Recorded:
        """The reply the bot posted to `payload`, its cards checked against the schema."""
        reply = await self.connector.wait_for(lambda r: _replies_to(r, payload))
        for card in reply.cards:
            assert_valid_card(card)
        return reply

    async def invoke(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Post an invoke; return its HTTP 200 card body, checked against the schema."""
        answer = await self.post(payload)
        assert answer.status == 200, answer
        assert answer.body["statusCode"] == 200, answer.body
        assert answer.body["type"] == ADAPTIVE_CARD, answer.body
        assert_valid_card(answer.body["value"])
        card: dict[str, Any] = answer.body["value"]
        return card


def _replies_to(request: Recorded, payload: dict[str, Any]) -> bool:
    return (
        request.method == "POST"
        and request.conversation_id == payload["conversation"]["id"]
        and request.activity_id == payload["id"]
    )


def card_text(card: dict[str, Any]) -> str:
    """Every string a person can read on `card`, one per line, markdown escapes removed."""
    texts: list[str] = []
    _collect(card.get("body", []), texts)
    return _UNESCAPE.sub(r"\1", "\n".join(texts))


def _collect(elements: list[dict[str, Any]], texts: list[str]) -> None:
    for element in elements:
        if element.get("type") == "TextBlock":
            texts.append(element["text"])
        elif element.get("type") == "RichTextBlock":
            texts.append("".join(run["text"] for run in element["inlines"]))
        elif element.get("type") == "FactSet":
            texts.extend(f"{f['title']}: {f['value']}" for f in element["facts"])
        elif element.get("type") == "Container":
            _collect(element["items"], texts)
