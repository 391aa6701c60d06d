"""Events API listeners: `@releasebot …` mentions, direct messages and the App Home tab being
opened, each answered once."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.bootstrap import Components
from adapters.slack.cards import SlackCards
from adapters.slack.home import SlackHome
from adapters.slack.text import command_text
from adapters.tasks import InFlight, Listener
from bot.domain import Actor, Conversation
from bot.parser import ParseError
from bot.reply import Reply, error
from bot.service import ReleaseBot

log = logging.getLogger(__name__)


def register(
    app: AsyncApp, components: Components, cards: SlackCards, home: SlackHome, in_flight: InFlight
) -> None:
    """Mentions, direct messages, and the App Home tab."""
    app.event("app_mention")(in_flight.track(_on_mention(components, cards)))
    app.event("message")(in_flight.track(_on_message(components, cards)))
    app.event("app_home_opened")(in_flight.track(_on_home_opened(components, home)))


def _on_mention(components: Components, cards: SlackCards) -> Listener:
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if await first_delivery(components, body):
            thread = event.get("thread_ts") or event.get("ts")
            await _answer(components.bot, cards, event, client, thread_ts=thread)

    return on_mention


def _on_message(components: Components, cards: SlackCards) -> Listener:
    async def on_message(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if is_direct_message(event) and await first_delivery(components, body):
            await _answer(components.bot, cards, event, client, thread_ts=event.get("thread_ts"))

    return on_message


def _on_home_opened(components: Components, home: SlackHome) -> Listener:
    async def on_home_opened(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        # Slack sends this for the Messages tab too, which has no page of ours to publish.
        if event.get("tab") != "home" or not event.get("user"):
            return
        if await first_delivery(components, body):
            await home.publish(client, event["user"])

    return on_home_opened


def is_direct_message(event: dict[str, Any]) -> bool:
    """A person's own message in a DM with the bot: no edits, joins or other bots' posts."""
    return (
        event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
    )


async def first_delivery(components: Components, body: dict[str, Any]) -> bool:
    """Claim the event, then its message: True only for the first delivery of either.

    Slack redelivers an event (X-Slack-Retry-Num) and bolt does not de-duplicate. One message
    can also arrive as two events with different ids — `app_mention` and `message.im` when the
    bot is mentioned in its DM — so the message (channel and ts) is claimed as well.
    """
    keys = delivery_keys(body)
    now = components.clock.now()
    for key in keys:
        if not await components.store.claim_delivery(key, at=now):
            return False
    return True


def delivery_keys(body: dict[str, Any]) -> list[str]:
    """The claims that make one event, and one message, count once."""
    event = body.get("event") or {}
    keys = []
    if body.get("event_id"):
        keys.append(f"slack:event:{body['event_id']}")
    if event.get("channel") and event.get("ts"):
        keys.append(f"slack:message:{event['channel']}:{event['ts']}")
    return keys


async def _answer(
    bot: ReleaseBot,
    cards: SlackCards,
    event: dict[str, Any],
    client: AsyncWebClient,
    *,
    thread_ts: Any,
) -> None:
    user, channel = event["user"], event["channel"]
    # Events carry no name; the principal renders as a mention wherever the core shows it.
    actor = Actor(principal=f"slack:{user}", display_name=f"slack:{user}", surface="slack")
    reply = await _run(bot, command_text(event.get("text") or ""), actor, channel)
    # The answer is posted (no response_url here) and, when it is a card, remembered; the
    # updates of other cards the command changed were queued in the outbox with the change.
    try:
        await cards.post(client, channel, reply, thread_ts=None if reply.broadcast else thread_ts)
    except (SlackApiError, ClientError, TimeoutError):
        log.exception("could not answer event in %s", channel)


async def _run(bot: ReleaseBot, text: str, actor: Actor, channel: str) -> Reply:
    """Parse and run a message's command."""
    try:
        command = bot.parse(text)
    except ParseError as problem:
        return error(problem.problem, problem.usage)
    return await bot.handle(command, actor, Conversation("slack", channel))
