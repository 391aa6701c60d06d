"""Events API listeners: `@releasebot …` mentions and direct messages, each answered once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.bootstrap import Components
from adapters.slack.outgoing import post
from adapters.slack.text import command_text
from bot.domain import Actor, Conversation

log = logging.getLogger(__name__)

Listener = Callable[..., Awaitable[None]]


def register(app: AsyncApp, components: Components) -> None:
    """Mentions, direct messages, and an acknowledgement for the App Home (built later)."""
    app.event("app_mention")(_on_mention(components))
    app.event("message")(_on_message(components))
    # Subscribed in the manifest; acknowledging stops Slack retrying it until the tab exists.
    app.event("app_home_opened")(_ignore)


def _on_mention(components: Components) -> Listener:
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if await first_delivery(components, body):
            thread = event.get("thread_ts") or event.get("ts")
            await _answer(components, event, client, thread_ts=thread)

    return on_mention


def _on_message(components: Components) -> Listener:
    async def on_message(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if is_direct_message(event) and await first_delivery(components, body):
            await _answer(components, event, client, thread_ts=event.get("thread_ts"))

    return on_message


async def _ignore() -> None:
    return None


def is_direct_message(event: dict[str, Any]) -> bool:
    """A person's own message in a DM with the bot: no edits, joins or other bots' posts."""
    return (
        event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
    )


async def first_delivery(components: Components, body: dict[str, Any]) -> bool:
    """Claim the event; Slack redelivers (X-Slack-Retry-Num) and bolt does not de-duplicate."""
    event_id = body.get("event_id")
    if not event_id:
        return True
    key = f"slack:event:{event_id}"
    return await components.store.claim_delivery(key, at=components.clock.now())


async def _answer(
    components: Components, event: dict[str, Any], client: AsyncWebClient, *, thread_ts: Any
) -> None:
    user, channel = event["user"], event["channel"]
    # Events carry no name; the principal renders as a mention wherever the core shows it.
    actor = Actor(principal=f"slack:{user}", display_name=f"slack:{user}", surface="slack")
    conversation = Conversation("slack", channel)
    reply = await components.bot.handle_text(
        command_text(event.get("text") or ""), actor, conversation
    )
    try:
        await post(client, channel, reply, thread_ts=None if reply.broadcast else thread_ts)
    except (SlackApiError, ClientError, TimeoutError):
        log.exception("could not answer event in %s", channel)
