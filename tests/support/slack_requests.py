"""Send signed requests to the bot exactly as Slack does: real HTTP, bodies from the fixtures."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from tests.support.fake_slack import FIXTURES, Call, FakeSlack

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
STALE_SECONDS = 6 * 60  # Slack's window is 5 minutes
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
ALICE_ID, ALICE_NAME = "U04ALICE001", "alice"
CHANNEL_ID = "C04RELEASES"
BOT_MENTION = "<@U04RELBOT01>"
_event_numbers = itertools.count(1)


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of one recorded Slack payload."""
    return copy.deepcopy(json.loads((FIXTURES / name).read_text()))


def slack_env(fake: FakeSlack, **extra: str) -> dict[str, str]:
    """The environment `releasebot serve` would get for Slack, pointed at the fake Web API."""
    return {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_BASE_URL": fake.api_base_url,
        **extra,
    }


def sign(secret: str, timestamp: str, body: str) -> str:
    """Slack's signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    basestring = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    """The bot's HTTP answer; `response_key` names the response_url the payload carried."""

    status: int
    text: str
    headers: dict[str, str]
    response_key: str | None = None

    def json(self) -> Any:
        return json.loads(self.text)


class SlackSender:
    """Slack's side of the conversation, pointed at a running bot and the fake Web API."""

    def __init__(self, session: aiohttp.ClientSession, bot_url: str, secret: str, fake: FakeSlack):
        self.session = session
        self.url = f"{bot_url}/slack/events"
        self.secret = secret
        self.fake = fake

    async def slash(
        self,
        text: str,
        *,
        user: str = ALICE_ID,
        user_name: str = ALICE_NAME,
        channel: str = CHANNEL_ID,
        **signing: Any,
    ) -> Answer:
        """`/release <text>` from `user` in `channel`."""
        fields = fixture("slash_command_release.json")
        key = uuid.uuid4().hex
        fields.update(
            text=text,
            user_id=user,
            user_name=user_name,
            channel_id=channel,
            response_url=self.fake.response_url(key),
        )
        answer = await self.send(urlencode(fields), FORM, **signing)
        return Answer(answer.status, answer.text, answer.headers, key)

    async def event(self, envelope: dict[str, Any], *, retry_num: int | None = None) -> Answer:
        """An Events API envelope, as a redelivery when `retry_num` is given."""
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.send(json.dumps(envelope), JSON, extra_headers=extra)

    async def action(self, payload: dict[str, Any], **signing: Any) -> Answer:
        """An interactivity payload (a button press), with its response_url on the fake; a
        press on the App Home tab (see `home_click`) comes without one, as from Slack."""
        key = None
        if payload.get("container", {}).get("type") != "view":
            key = uuid.uuid4().hex
            payload = {**payload, "response_url": self.fake.response_url(key)}
        answer = await self.send("payload=" + quote(json.dumps(payload)), FORM, **signing)
        return Answer(answer.status, answer.text, answer.headers, key)

    async def submit(self, payload: dict[str, Any]) -> Answer:
        """A `view_submission`: Slack waits for the answer to close or keep the modal."""
        return await self.send("payload=" + quote(json.dumps(payload)), FORM)

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        forge: bool = False,
        stale: bool = False,
        signed: bool = True,
        extra_headers: dict[str, str] | None = None,
    ) -> Answer:
        """POST `body`, signed (or forged, or stale) over exactly the bytes sent; any
        `extra_headers` are sent as given, over the signing ones."""
        timestamp = str(int(time.time()) - (STALE_SECONDS if stale else 0))
        headers = {"Content-Type": content_type}
        if signed:
            secret = "not-" + self.secret if forge else self.secret
            headers["X-Slack-Request-Timestamp"] = timestamp
            headers["X-Slack-Signature"] = sign(secret, timestamp, body)
        headers.update(extra_headers or {})  # may replace what signing set
        async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
            return Answer(response.status, await response.text(), dict(response.headers))


def mention(text: str, *, user: str = ALICE_ID, channel: str = CHANNEL_ID) -> dict[str, Any]:
    """An `app_mention` envelope with a fresh event id, e.g. `mention("status x@1")`."""
    envelope = fixture("event_app_mention.json")
    number = next(_event_numbers)
    envelope["event_id"] = f"Ev0MENTION{number:04d}"
    envelope["event"].update(
        text=f"{BOT_MENTION} {text}", user=user, channel=channel, ts=f"1718040800.{number:06d}"
    )
    return envelope


def direct_message(text: str, *, user: str = ALICE_ID) -> dict[str, Any]:
    """A `message.im` envelope with a fresh event id."""
    envelope = fixture("event_message_im.json")
    number = next(_event_numbers)
    envelope["event_id"] = f"Ev0DIRECT{number:04d}"
    envelope["event"].update(text=text, user=user, ts=f"1718041000.{number:06d}")
    return envelope


def home_opened(user: str, *, tab: str = "home") -> dict[str, Any]:
    """An `app_home_opened` envelope for `user` opening the tab `tab`, with a fresh event id."""
    envelope = fixture("event_app_home_opened.json")
    number = next(_event_numbers)
    envelope["event_id"] = f"Ev0HOME{number:04d}"
    envelope["event"].update(user=user, tab=tab, event_ts=f"1718040900.{number:06d}")
    return envelope


def home_click(view: dict[str, Any], label: str, *, user: str, name: str) -> dict[str, Any]:
    """The `block_actions` payload Slack sends when `user` presses the button labelled `label`
    on their App Home tab showing `view` (as the bot published it): the container is the view,
    and there is no channel, message or response_url."""
    block, button = _button_labelled(view["blocks"], label)
    payload = fixture("interactivity_block_actions_approve.json")
    for key in ("channel", "message", "response_url"):
        del payload[key]
    payload["user"].update(id=user, name=name, username=name)
    shown = fixture("event_app_home_opened.json")["event"]["view"]
    shown.update(blocks=view["blocks"])
    payload["view"] = shown
    payload["container"] = {"type": "view", "view_id": shown["id"]}
    payload["trigger_id"] = f"{next(_event_numbers)}.4812345678901.{uuid.uuid4().hex}"
    action = {key: button[key] for key in ("action_id", "text", "value", "type")}
    action.update(block_id=block.get("block_id", ""), action_ts=f"{time.time():.6f}")
    payload["actions"] = [action]
    return payload


def button_press(value: str, *, user: str = "U04BOB00002", name: str = "bob") -> dict[str, Any]:
    """A `block_actions` payload for one releasebot button carrying `value`."""
    payload = fixture("interactivity_block_actions_approve.json")
    payload["user"].update(id=user, name=name, username=name)
    payload["actions"][0].update(action_id="rb:0", value=value)
    return payload


def click(
    message: Call | dict[str, Any],
    label: str,
    *,
    user: str,
    name: str,
    ts: str | None = None,
    channel: str = CHANNEL_ID,
    ephemeral: bool = False,
) -> dict[str, Any]:
    """The `block_actions` payload Slack sends when `user` presses the button labelled `label`
    on `message`: a posted message as the fake recorded it (a Call: its ts is the one the fake
    answered) or the body of any message the bot sent (then give `ts`)."""
    if isinstance(message, Call):
        ts, channel, message = message.answer["ts"], message.body["channel"], message.body
    blocks = message["blocks"]
    block, button = _button_labelled(blocks, label)
    payload = fixture("interactivity_block_actions_approve.json")
    payload["user"].update(id=user, name=name, username=name)
    payload["container"].update(message_ts=ts, channel_id=channel, is_ephemeral=ephemeral)
    payload["channel"] = {"id": channel, "name": "releases"}
    payload["message"].update(ts=ts, text=message["text"], blocks=blocks)
    payload["trigger_id"] = f"{next(_event_numbers)}.4812345678901.{uuid.uuid4().hex}"
    action = {key: button[key] for key in ("action_id", "text", "value", "type")}
    action.update(block_id=block.get("block_id", ""), action_ts=f"{time.time():.6f}")
    payload["actions"] = [action]
    return payload


def _button_labelled(blocks: list[dict[str, Any]], label: str) -> tuple[dict, dict]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["text"]["text"] == label:
                return block, element
    shown = [e["text"]["text"] for b in blocks for e in b.get("elements", []) if "value" in e]
    raise AssertionError(f"no button {label!r}; the message has {shown}")


def button_labels(message: dict[str, Any]) -> list[str]:
    """The labels of every button in a message Slack was sent."""
    return [
        element["text"]["text"]
        for block in message.get("blocks", [])
        for element in block.get("elements", [])
        if element.get("type") == "button"
    ]


def view_submission(
    opened: dict[str, Any], answer: str | None, *, user: str, name: str
) -> dict[str, Any]:
    """The `view_submission` payload for the modal the bot opened (`opened` is the `view` it
    sent to views.open), with `answer` typed into its one text input (None: left empty)."""
    (block,) = [b for b in opened["blocks"] if b["type"] == "input"]
    payload = fixture("interactivity_view_submission_release.json")
    payload["user"].update(id=user, name=name, username=name)
    payload["trigger_id"] = f"{next(_event_numbers)}.4812345678901.{uuid.uuid4().hex}"
    view = payload["view"]
    for key in ("callback_id", "private_metadata", "title", "submit", "close", "blocks"):
        view[key] = copy.deepcopy(opened[key])
    element = block["element"]
    typed = {"type": element["type"], "value": answer}
    view["state"] = {"values": {block["block_id"]: {element["action_id"]: typed}}}
    return payload
