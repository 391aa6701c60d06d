"""The bolt listeners: `/release` here; buttons and forms in actions, events in events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.bootstrap import Components
from adapters.slack import actions, events
from adapters.slack.cards import SlackCards
from adapters.slack.home import SlackHome
from adapters.slack.outgoing import IN_CHANNEL, ack_with, respond_with
from adapters.slack.text import from_slack
from bot.domain import Actor, Conversation
from bot.parser import ParseError
from bot.reply import Reply, error
from bot.service import ReleaseBot
from storage.base import CardRef

log = logging.getLogger(__name__)

COMMAND = "/release"
# Slack gives up on an acknowledgement after 3 s; keep room for the network and bolt itself.
ACK_BUDGET_SECONDS = 2.5
DELIVERY_ERRORS = (SlackApiError, ClientError, TimeoutError)
Listener = Callable[..., Awaitable[None]]


def register(app: AsyncApp, components: Components, cards: SlackCards) -> None:
    """Attach every listener: the slash command, the buttons, mentions, direct messages and
    the App Home tab."""
    home = SlackHome(store=components.store, clock=components.clock, policy=components.policy)
    app.command(COMMAND)(_on_command(components.bot, cards))
    actions.register(app, components.bot, cards, home)
    events.register(app, components, cards, home)


def _on_command(bot: ReleaseBot, cards: SlackCards) -> Listener:
    async def on_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        actor, conversation = slash_origin(command)
        try:
            parsed = bot.parse(from_slack(command.get("text") or ""))
        except ParseError as problem:
            await ack_with(ack, respond, error(problem.problem, problem.usage))
            return
        if bot.is_read_only(parsed):
            await _answer_in_ack(bot.handle(parsed, actor, conversation), ack, respond)
            return
        await ack()
        # The core has queued, with the change, updates of every posted card it touched.
        reply = await bot.handle(parsed, actor, conversation)
        await _deliver(reply, cards, client, conversation.id, respond)

    return on_command


async def _answer_in_ack(work: Awaitable[Reply], ack: AsyncAck, respond: AsyncRespond) -> None:
    """Reads answer inside the acknowledgement, unless the store is too slow for Slack's 3 s."""
    # A timer rather than a task plus asyncio.wait: this is the hot path, and the timer costs
    # next to nothing unless it fires. When it fires it acknowledges at once (empty) and the
    # reply goes to the response_url instead; `acked` keeps the task referenced meanwhile.
    acked: list[asyncio.Task[Any]] = []
    timer = asyncio.get_running_loop().call_later(
        ACK_BUDGET_SECONDS, lambda: acked.append(asyncio.ensure_future(ack()))
    )
    try:
        reply = await work
    finally:
        timer.cancel()
    if acked:
        await respond_with(respond, reply)
    else:
        await ack_with(ack, respond, reply)


async def _deliver(
    reply: Reply, cards: SlackCards, client: AsyncWebClient, channel: str, respond: AsyncRespond
) -> CardRef | None:
    """A card for everyone goes to the channel; anything else only to the person who asked.

    Only `declare` answers with a card for everyone (`broadcast`), and the core does not queue
    that card in the outbox: it is this command's answer. So it is posted here, once, and
    remembered here (the outbox then keeps it true like any other card). Posting the answer
    straight away is also what lets a refusal such as not_in_channel fall back to the
    response_url, which the outbox, working later and elsewhere, cannot do. Everything the
    core queues (huddle and poll cards, notes, reminders, updates) is posted by the outbox
    worker, which remembers the cards among them.
    """
    if not reply.broadcast:
        await respond_with(respond, reply)
        return None
    try:
        return await cards.post(client, channel, reply)
    except DELIVERY_ERRORS as problem:
        # E.g. not_in_channel or a DM: Slack still lets the response_url show it to everyone.
        # That message has no timestamp we could learn, so it cannot be updated later.
        log.warning(
            "could not post %r to %s (%s); answering in place", reply.title, channel, problem
        )
        await respond_with(respond, reply, response_type=IN_CHANNEL)
        return None


def slash_origin(command: dict[str, Any]) -> tuple[Actor, Conversation]:
    """Who ran a slash command, and where."""
    user = command["user_id"]
    actor = Actor(
        principal=f"slack:{user}", display_name=command.get("user_name") or user, surface="slack"
    )
    return actor, Conversation("slack", command["channel_id"])
