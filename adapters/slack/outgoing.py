"""Sending a rendered reply: in the acknowledgement, to a response_url, or as channel messages."""

from __future__ import annotations

from typing import Any

import orjson
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import SlackMessage, render
from bot.reply import Reply

EPHEMERAL = "ephemeral"
IN_CHANNEL = "in_channel"


def acknowledgement(reply: Reply) -> tuple[BoltResponse, list[SlackMessage]]:
    """The acknowledgement showing `reply` to the asker alone, and the pages that must follow
    it at the response_url (Slack's 50-block limit).

    The body is what `ack(text=…, blocks=…, response_type="ephemeral")` writes, built here so a
    middleware can answer with it, and encoded by orjson: a card's JSON is the largest
    single cost of the acknowledgement, and orjson writes it ≈ 7× faster than the json module.
    """
    first, *rest = render(reply)
    body: dict[str, Any] = {"text": first.text, "response_type": EPHEMERAL}
    if first.blocks:
        body["blocks"] = first.blocks
    return BoltResponse(status=200, body=orjson.dumps(body).decode()), rest


async def respond_with(
    respond: AsyncRespond,
    reply: Reply,
    *,
    response_type: str = EPHEMERAL,
    replace_original: bool = False,
) -> None:
    """Answer at the payload's response_url: as new messages, or over the message clicked."""
    await respond_all(respond, render(reply), response_type, replace_original)


async def post_ephemeral(client: AsyncWebClient, channel: str, user: str, reply: Reply) -> None:
    """Show the reply to `user` alone in `channel` (where there is no response_url to use)."""
    for message in render(reply):
        await client.chat_postEphemeral(
            channel=channel, user=user, text=message.text, blocks=message.blocks
        )


async def post(
    client: AsyncWebClient, channel: str, reply: Reply, *, thread_ts: str | None = None
) -> list[str]:
    """Post the reply as new messages in `channel`; the timestamps let a card be updated later."""
    stamps = []
    for message in render(reply):
        answer = await client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread_ts
        )
        stamps.append(str(answer.get("ts", "")))
    return stamps


async def respond_all(
    respond: AsyncRespond,
    messages: list[SlackMessage],
    response_type: str,
    replace_original: bool = False,
) -> None:
    for number, message in enumerate(messages):
        await respond(
            text=message.text,
            blocks=message.blocks,
            response_type=response_type,
            # Only the first page can take the clicked message's place; the rest follow it.
            replace_original=replace_original and number == 0,
        )
